"""Data larger than memory: a file read in chunks trains and encodes as the same file in memory
does, in a seeded order that resumes exactly, with bad rows named before training.

The chunk sizes are shrunk (``small_chunks``) so that files of a few hundred rows span many."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import aekit
import aekit.data.loading
import aekit.data.shuffled_chunks as shuffled
import aekit.data.streaming as streaming
import aekit.trained.batches
import aekit.trained.streamed
import aekit.training.trainer
from aekit.cli.commands import main
from aekit.data import load_data
from aekit.data.chunks import read_chunks
from aekit.data.npy_files import NpyRows, NpyWriter
from aekit.data.scaling import Scaler
from aekit.data.shuffled_chunks import StreamedRows, epoch_order
from aekit.data.splitting import split_validation
from aekit.data.statistics import RunningStatistics
from aekit.data.streaming import StreamedFile, streams
from aekit.errors import ConfigError, DataError
from aekit.runs.folder import EVALUATION_FILE, REPORT_FILE, read_checkpoint

COLUMNS = list("abcdef")
TRAIN = dict(code_size=2, epochs=2, batch_size=32, seed=3)


@pytest.fixture
def small_chunks(monkeypatch):
    """Reads of 40 rows of 6 values, chunks of 25 rows shuffled 3 at a time, inference batches
    of 64 rows."""
    monkeypatch.setattr(streaming, "READ_BYTES", 4 * 6 * 40)
    monkeypatch.setattr(shuffled, "CHUNK_BYTES", 4 * 6 * 25)
    monkeypatch.setattr(shuffled, "SHUFFLE_CHUNKS", 3)
    monkeypatch.setattr(aekit.trained.batches, "INFERENCE_BATCH", 64)
    monkeypatch.setattr(aekit.trained.streamed, "INFERENCE_BATCH", 64)


def mixed_table(n: int = 300) -> pd.DataFrame:
    """Six correlated columns in mixed units (standardised per column, PCA start) and a label."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3)) @ rng.normal(size=(3, 6)) * [1, 10, 100, 1, 5, 50] + 7
    frame = pd.DataFrame(x.astype(np.float32), columns=COLUMNS)
    frame.insert(2, "kind", rng.integers(0, 3, size=n))
    return frame


def write(frame: pd.DataFrame, path) -> None:
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif path.suffix == ".parquet":
        frame.to_parquet(path, row_group_size=70)  # row groups unlike the chunks
    else:
        np.save(path, frame[COLUMNS].to_numpy(np.float32))  # column by column, as pandas holds it


def grey_images(n: int = 300) -> np.ndarray:
    """(n, 8, 8) in [0, 1]: scaled together, min-max, no PCA start."""
    rng = np.random.default_rng(1)
    return rng.uniform(size=(n, 8, 8)).astype(np.float32) * np.linspace(0, 1, 8)


# --- reading and writing .npy by rows -----------------------------------------------------------


def test_npy_rows_read_what_numpy_reads(tmp_path):
    x = np.arange(7 * 3 * 2, dtype=">f8").reshape(7, 3, 2)  # big-endian float64 images
    np.save(tmp_path / "x.npy", x)
    rows = NpyRows.open(tmp_path / "x.npy")
    assert len(rows) == 7 and rows.row_bytes == 48
    np.testing.assert_array_equal(rows.read(2, 5), x[2:5])
    np.testing.assert_array_equal(rows.take(np.array([0, 1, 4, 6])), x[[0, 1, 4, 6]])

    np.save(tmp_path / "f.npy", np.asfortranarray(x))  # column by column
    rows = NpyRows.open(tmp_path / "f.npy")
    assert rows.fortran
    np.testing.assert_array_equal(rows.read(2, 5), x[2:5])
    np.testing.assert_array_equal(rows.take(np.array([0, 1, 4, 6])), x[[0, 1, 4, 6]])
    cut = tmp_path / "cut.npy"
    cut.write_bytes((tmp_path / "x.npy").read_bytes()[:-8])
    with pytest.raises(DataError, match=r"cut\.npy.*promises 7 rows"):
        NpyRows.open(cut)


def test_npy_writer_grows_a_file_numpy_loads(tmp_path):
    blocks = [np.full((n, 2, 3), n, dtype=np.float32) for n in (4, 1, 0, 5)]
    with open(tmp_path / "w.npy", "wb") as handle:
        writer = NpyWriter(handle, (2, 3), np.float32)
        for block in blocks:
            writer.write(block)
        writer.finish()
    np.testing.assert_array_equal(np.load(tmp_path / "w.npy"), np.concatenate(blocks))


# --- the pass: statistics, checks, validation rows ---------------------------------------------


@pytest.mark.parametrize("per_feature", [True, False])
@pytest.mark.parametrize("kind", ["standard", "minmax", "none"])
def test_statistics_in_chunks_scale_as_the_whole_array(kind, per_feature):
    x = mixed_table(1000)[COLUMNS].to_numpy(np.float32)
    statistics = RunningStatistics.empty(6)
    for start, stop in [(0, 1), (1, 333), (333, 334), (334, 1000)]:
        statistics.add(x[start:stop])
    streamed = Scaler.from_statistics(statistics, kind, per_feature=per_feature)
    whole = Scaler.fit(x, kind, per_feature=per_feature)
    np.testing.assert_allclose(streamed.offset, whole.offset, rtol=1e-6)
    np.testing.assert_allclose(streamed.spread, whole.spread, rtol=1e-6)
    assert not statistics.whole_numbers
    assert RunningStatistics.of(np.round(x)).whole_numbers


def test_float32_overflow_is_named_from_statistics_too():
    x = np.array([[1.0, -3e38], [2.0, 3e38]], dtype=np.float32)
    with pytest.raises(DataError, match="column 'b' spans"):
        Scaler.from_statistics(
            RunningStatistics.of(x), "minmax", per_feature=True, names=["a", "b"]
        )


@pytest.mark.parametrize("suffix", [".npy", ".csv", ".parquet"])
def test_streamed_file_holds_out_the_rows_memory_holds_out(tmp_path, small_chunks, suffix):
    path = tmp_path / f"t{suffix}"
    write(mixed_table(), path)
    label = None if suffix == ".npy" else "kind"
    file = StreamedFile.open(path, label=label, val_fraction=0.1, seed=5, workdir=tmp_path)
    _, validation = split_validation(load_data(path, label=label), 0.1, 5)
    np.testing.assert_array_equal(file.validation().x, validation.x)
    assert len(file) == 270 and file.validation().feature_names == validation.feature_names
    if label is None:
        assert file.validation().y is None and validation.y is None
    else:  # the labels are kept, for the probe on the codes
        np.testing.assert_array_equal(file.validation().y, validation.y)
        training, _ = split_validation(load_data(path, label=label), 0.1, 5)
        np.testing.assert_array_equal(file.training_labels(np.arange(len(file))), training.y)


def test_validation_rows_are_capped(tmp_path, monkeypatch):
    np.save(tmp_path / "t.npy", mixed_table()[COLUMNS].to_numpy(np.float32))
    monkeypatch.setattr(streaming, "MAX_VALIDATION_BYTES", 4 * 6 * 12)  # 12 rows
    file = StreamedFile.open(
        tmp_path / "t.npy", label=None, val_fraction=0.1, seed=5, workdir=tmp_path
    )
    assert len(file.held_out) == 12 and len(file) == 288


@pytest.mark.parametrize(
    "bad, message",
    [
        ("nan", r"rows 200 to 239\).*1 NaN value\(s\), first at \(row 211, column 'd'\)"),
        (
            "oops",
            r"non-numeric column\(s\) 'd' \(\w+\), first non-number in row 211 of 'd': 'oops'",
        ),
    ],
)
def test_a_bad_value_deep_in_a_streamed_csv_is_named_before_training(
    tmp_path, small_chunks, monkeypatch, bad, message
):
    frame = mixed_table().astype({"d": object})
    frame.loc[211, "d"] = bad
    write(frame, tmp_path / "t.csv")

    def no_training(*args, **kwargs):
        raise AssertionError("training started before the data was checked")

    monkeypatch.setattr(aekit.api, "fit", no_training)
    with pytest.raises(DataError, match=message):
        aekit.train(tmp_path / "t.csv", label="kind", stream="on", **TRAIN)


def test_when_to_stream(tmp_path, monkeypatch):
    np.save(tmp_path / "t.npy", np.ones((4, 2), dtype=np.float32))
    np.savez(tmp_path / "t.npz", x=np.ones((4, 2)))
    assert not streams(tmp_path / "t.npy", "auto")  # small: read whole
    assert streams(tmp_path / "t.npy", "on") and not streams(tmp_path / "t.npy", "off")
    monkeypatch.setattr(streaming, "STREAM_ABOVE_BYTES", 100)
    assert streams(str(tmp_path / "t.npy"), "auto")
    assert not streams(np.ones((4, 2)), "auto") and not streams(tmp_path / "t.npz", "auto")
    for source in (np.ones((4, 2)), tmp_path / "t.npz", "digits"):
        with pytest.raises(ConfigError, match="stream='on' reads a .npy, .csv or .parquet file"):
            streams(source, "on")


# --- training ------------------------------------------------------------------------------------


def test_the_order_is_seeded_and_reads_chunks_a_few_at_a_time(monkeypatch):
    monkeypatch.setattr(shuffled, "SHUFFLE_CHUNKS", 3)
    train_starts = np.array([0, 10, 20, 25, 35, 50, 60, 70])  # 7 chunks of training rows
    order = epoch_order(train_starts, seed=1, epoch=2).numpy()
    assert np.array_equal(np.sort(order), np.arange(70))
    assert np.array_equal(order, epoch_order(train_starts, seed=1, epoch=2).numpy())
    assert not np.array_equal(order, epoch_order(train_starts, seed=2, epoch=2).numpy())
    assert not np.array_equal(order, epoch_order(train_starts, seed=1, epoch=3).numpy())
    # at most 3 chunks are in use at any time: begun and not yet finished
    chunk_of = np.searchsorted(train_starts, order, side="right") - 1
    left = dict(enumerate(np.diff(train_starts)))
    in_use, most = set(), 0
    for chunk in chunk_of:
        in_use.add(chunk)
        most = max(most, len(in_use))
        left[chunk] -= 1
        if left[chunk] == 0:
            in_use.remove(chunk)
    assert most == 3


@pytest.mark.parametrize("suffix", [".npy", ".csv", ".parquet", "images"])
def test_streamed_training_gives_the_codes_memory_gives_in_the_same_order(
    tmp_path, small_chunks, monkeypatch, suffix
):
    """Read in chunks or whole, the same file trains to the same model when the in-memory loop
    is given the streamed order: the same scaling, PCA start, validation, batches and codes."""
    if suffix == "images":
        path, label, x = tmp_path / "images.npy", None, grey_images()
        np.save(path, x)
    else:
        path, label = tmp_path / f"t{suffix}", (None if suffix == ".npy" else "kind")
        write(mixed_table(), path)
        x = mixed_table()[COLUMNS]
    orders = {}
    streamed_order = StreamedRows.epoch_order

    def recorded(rows, epoch):
        orders[epoch] = streamed_order(rows, epoch)
        return orders[epoch]

    monkeypatch.setattr(StreamedRows, "epoch_order", recorded)
    streamed = aekit.train(path, label=label, stream="on", **TRAIN)
    monkeypatch.setattr(aekit.training.trainer.Trainer, "epoch_order", lambda trainer, e: orders[e])
    memory = aekit.train(path, label=label, stream="off", **TRAIN)
    assert sorted(orders) == [1, 2]
    assert streamed.data_info == memory.data_info
    assert streamed.result == {
        **memory.result,
        "best_val_loss": pytest.approx(memory.result["best_val_loss"]),
    }
    np.testing.assert_allclose(streamed.scaler.offset, memory.scaler.offset, rtol=1e-6)
    np.testing.assert_allclose(streamed.scaler.spread, memory.scaler.spread, rtol=1e-6)
    np.testing.assert_allclose(streamed.encode(x), memory.encode(x), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(streamed.sample(5, seed=0), memory.sample(5, seed=0), atol=1e-3)


def test_streamed_training_is_seeded(tmp_path, small_chunks):
    write(mixed_table(), tmp_path / "t.npy")
    x = mixed_table()[COLUMNS].to_numpy(np.float32)
    options = dict(TRAIN, epochs=1, stream="on", val_fraction=0.0)  # no PCA start to fall back on
    first, again = (aekit.train(tmp_path / "t.npy", **options) for _ in range(2))
    other = aekit.train(tmp_path / "t.npy", **{**options, "seed": 4})
    assert np.array_equal(first.encode(x), again.encode(x))
    assert not np.allclose(first.encode(x), other.encode(x), atol=1e-3)


def test_streamed_training_validates_on_data_given_apart(tmp_path, small_chunks):
    write(mixed_table(), tmp_path / "t.csv")
    write(mixed_table(40)[["kind", *COLUMNS[::-1]]], tmp_path / "v.csv")  # matched by name
    model = aekit.train(
        tmp_path / "t.csv", val_data=tmp_path / "v.csv", label="kind", stream="on", **TRAIN
    )
    info = model.data_info
    assert (info.n_train, info.n_val, info.validation) == (300, 40, "given")


def test_a_streamed_run_and_its_report_never_read_the_file_whole(
    tmp_path, small_chunks, monkeypatch
):
    write(mixed_table(), tmp_path / "t.csv")

    def whole(path, *args, **kwargs):
        raise AssertionError(f"{path} was read whole")

    monkeypatch.setattr(aekit.data.loading, "read_path", whole)
    aekit.train(tmp_path / "t.csv", label="kind", stream="on", out=tmp_path / "run", **TRAIN)
    evaluation = json.loads((tmp_path / "run" / EVALUATION_FILE).read_text())
    # against PCA fitted on the PCA start's sample (here all 270 training rows), on the 30
    # validation rows
    assert (evaluation["n_train"], evaluation["n_test"]) == (270, 30)
    assert (tmp_path / "run" / REPORT_FILE).exists()
    # the label column is kept apart: the codes are probed as in memory
    assert {"aekit", "pca"} <= set(evaluation["rows"])
    assert all("probe_accuracy" in evaluation["rows"][name] for name in ("aekit", "pca"))


def test_a_streamed_run_that_is_pca_ties_pca_in_its_report(tmp_path, small_chunks):
    # nothing to learn: the model keeps its PCA start, fitted on the PCA start's sample of
    # training rows, the rows the report fits PCA's baseline on; the validation rows are held out
    rng = np.random.default_rng(0)
    noise = pd.DataFrame(rng.normal(size=(300, 6)) * [1, 10, 100, 1, 5, 50], columns=COLUMNS)
    write(noise.astype(np.float32), tmp_path / "t.csv")
    model = aekit.train(tmp_path / "t.csv", stream="on", out=tmp_path / "run", **TRAIN)
    assert model.result["best_epoch"] == 0
    rows = json.loads((tmp_path / "run" / EVALUATION_FILE).read_text())["rows"]
    assert rows["aekit"]["mse"] == pytest.approx(rows["pca"]["mse"], rel=1e-5)


class Killed(BaseException):
    """Stands in for a kill -9 right after a checkpoint was written."""


def test_a_streamed_run_killed_mid_epoch_resumes_bit_identical(tmp_path, small_chunks, monkeypatch):
    write(mixed_table(), tmp_path / "t.csv")
    options = dict(TRAIN, epochs=3, stream="on", checkpoint_every=4, label="kind", report=False)
    aekit.train(tmp_path / "t.csv", out=tmp_path / "whole", **options)

    real_write = aekit.training.trainer.write_checkpoint
    written = []

    def write_then_die(folder, checkpoint):
        real_write(folder, checkpoint)
        written.append(checkpoint.meta["loop"]["position"])
        if len(written) == 4:  # steps 4, 8, end of epoch 1 (9 steps), 12: mid epoch 2
            raise Killed

    monkeypatch.setattr(aekit.training.trainer, "write_checkpoint", write_then_die)
    with pytest.raises(Killed):
        aekit.train(tmp_path / "t.csv", out=tmp_path / "run", **options)
    monkeypatch.setattr(aekit.training.trainer, "write_checkpoint", real_write)
    loop = read_checkpoint(tmp_path / "run").meta["loop"]
    assert loop["epoch"] == 2 and loop["position"] > 0

    aekit.train(out=tmp_path / "run", resume=True)
    whole, resumed = (tmp_path / name / "model.safetensors" for name in ("whole", "run"))
    assert resumed.read_bytes() == whole.read_bytes()


# --- encoding -------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".npy", ".csv", ".parquet"])
@pytest.mark.parametrize("method", ["encode", "reconstruct"])
def test_streamed_transform_writes_what_memory_writes(tmp_path, small_chunks, suffix, method):
    table = mixed_table()
    model = aekit.train(table, label="kind", code_size=2, epochs=1, batch_size=64)
    model.save(tmp_path / "run")
    data = tmp_path / f"data{suffix}"
    # another column order: matched by name to the run's, in chunks as in memory
    write(table[["kind", *COLUMNS[::-1]]] if suffix != ".npy" else table, data)
    outputs = {}
    for stream in ("on", "off"):
        out = tmp_path / f"{stream}.npy"
        assert (
            main(
                [
                    method,
                    str(tmp_path / "run"),
                    str(data),
                    "-o",
                    str(out),
                    "--stream",
                    stream,
                    "--quiet",
                ]
            )
            == 0
        )
        outputs[stream] = np.load(out)
    assert outputs["on"].shape[0] == 300
    assert np.array_equal(outputs["on"], outputs["off"])


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_streamed_reconstructions_carry_the_training_column_names(tmp_path, small_chunks, suffix):
    table = mixed_table()
    aekit.train(table, label="kind", code_size=2, epochs=1, batch_size=64).save(tmp_path / "run")
    write(table[["kind", *COLUMNS[::-1]]], tmp_path / "data.csv")
    written = {}
    for stream in ("on", "off"):
        out = tmp_path / f"{stream}{suffix}"
        command = ["reconstruct", str(tmp_path / "run"), str(tmp_path / "data.csv"), "-o", str(out)]
        assert main([*command, "--stream", stream, "--quiet"]) == 0
        written[stream] = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert list(written["on"].columns) == COLUMNS  # the training order, not the file's
    pd.testing.assert_frame_equal(written["on"], written["off"])


@pytest.mark.parametrize("suffix", [".npy", ".csv", ".parquet"])
def test_streamed_scores_are_the_scores_of_the_file_read_whole(
    tmp_path, small_chunks, suffix, monkeypatch
):
    table = mixed_table()
    model = aekit.train(table, label="kind", code_size=2, epochs=1, batch_size=64)
    model.save(tmp_path / "run")
    data = tmp_path / f"data{suffix}"
    write(table[["kind", *COLUMNS[::-1]]] if suffix != ".npy" else table, data)
    real_read = aekit.data.loading.read_path

    def never_whole(path, *args, **kwargs):
        raise AssertionError(f"{path} was read whole")

    scores = {}
    for stream, read in (("on", never_whole), ("off", real_read)):
        monkeypatch.setattr(aekit.data.loading, "read_path", read)
        out = tmp_path / f"{stream}.csv"
        command = ["score", str(tmp_path / "run"), str(data), "-o", str(out), "--quiet"]
        assert main([*command, "--stream", stream]) == 0
        scores[stream] = pd.read_csv(out)
    assert len(scores["on"]) == 300
    pd.testing.assert_frame_equal(scores["on"], scores["off"])


def test_streamed_scores_refuse_the_code_distances(tmp_path, small_chunks, capsys):
    model = aekit.train(mixed_table(), label="kind", code_size=2, epochs=1, batch_size=64)
    model.save(tmp_path / "run")
    write(mixed_table(), tmp_path / "data.csv")
    out = tmp_path / "scores.csv"
    command = ["score", str(tmp_path / "run"), str(tmp_path / "data.csv"), "-o", str(out)]
    assert main([*command, "--stream", "on", "--anomaly-score", "both"]) != 0
    assert "--anomaly-score both needs the code of every training row" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_streamed_tables_are_written_as_memory_writes_them(tmp_path, small_chunks, suffix):
    model = aekit.train(grey_images(), code_size=3, epochs=1)
    model.save(tmp_path / "run")
    np.save(tmp_path / "x.npy", grey_images())
    for stream in ("on", "off"):
        out = tmp_path / f"{stream}{suffix}"
        main(
            [
                "encode",
                str(tmp_path / "run"),
                str(tmp_path / "x.npy"),
                "-o",
                str(out),
                "--stream",
                stream,
            ]
        )
    if suffix == ".csv":
        assert (tmp_path / "on.csv").read_bytes() == (tmp_path / "off.csv").read_bytes()
    else:
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "on.parquet"), pd.read_parquet(tmp_path / "off.parquet")
        )


def test_python_encode_streams_a_large_file_with_the_same_draws(
    tmp_path, small_chunks, monkeypatch
):
    x = grey_images()
    vae = aekit.train(x, model="vae", code_size=2, epochs=1)
    np.save(tmp_path / "x.npy", x)
    monkeypatch.setattr(streaming, "STREAM_ABOVE_BYTES", 100)
    read = []

    def counted(*args, **kwargs):
        read.append(args)
        return read_chunks(*args, **kwargs)

    monkeypatch.setattr(aekit.trained.streamed, "read_chunks", counted)
    streamed = vae.encode(tmp_path / "x.npy", sample=True, seed=7)
    assert read, "the file was not streamed"
    assert np.array_equal(streamed, vae.encode(x, sample=True, seed=7))


def test_a_failed_streamed_transform_leaves_no_file(tmp_path, small_chunks, capsys):
    table = mixed_table()
    aekit.train(table, label="kind", code_size=2, epochs=1, out=tmp_path / "run")
    table.loc[250, "e"] = np.inf  # after the first blocks are written
    write(table, tmp_path / "bad.csv")
    out = tmp_path / "codes.csv"
    out.write_text("an earlier file\n")
    assert (
        main(
            [
                "encode",
                str(tmp_path / "run"),
                str(tmp_path / "bad.csv"),
                "-o",
                str(out),
                "--stream",
                "on",
            ]
        )
        == 2
    )
    assert "(row 250, column 'e')" in capsys.readouterr().err
    assert out.read_text() == "an earlier file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "codes.csv", "run"]
    write(table.drop(columns="e"), tmp_path / "narrow.csv")
    assert (
        main(
            [
                "encode",
                str(tmp_path / "run"),
                str(tmp_path / "narrow.csv"),
                "-o",
                str(out),
                "--stream",
                "on",
            ]
        )
        == 2
    )
    assert "missing training column(s) 'e'" in capsys.readouterr().err
