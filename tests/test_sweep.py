"""aekit.sweep and aekit sweep: a run folder per setting, each beside PCA, resumable."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from png_checks import read_rgb

import aekit
import aekit.api
import aekit.sweeps.driver
from aekit.cli.commands import main
from aekit.errors import ConfigError
from aekit.sweeps.driver import default_folder


def _mtimes(folder):
    return {p.parent.name: p.stat().st_mtime_ns for p in folder.glob("*/model.safetensors")}


def test_python_sweep_compares_each_run_with_pca(tmp_path, capfd):
    out = tmp_path / "sweep"
    frame = aekit.sweep("digits", out=out, code_size=[2, 4], epochs=2, hidden=[32])
    assert capfd.readouterr() == ("", "")  # nothing printed unless asked
    assert list(frame["code_size"]) == [2, 4]
    assert list(frame["run"]) == [str(out / "code=2"), str(out / "code=4")]
    assert frame["epochs"].tolist() == [2, 2]
    for row in frame.to_dict("records"):
        model = aekit.load(row["run"])
        test = aekit.evaluate(model)  # digits: its test split, PCA on the run's training part
        assert row["test_mse"] == test.rows["aekit"]["mse"]
        assert row["pca_test_mse"] == test.rows["pca"]["mse"]
        assert row["test_ratio"] == test.rows["aekit"]["mse"] / test.rows["pca"]["mse"]
        assert row["pca_probe_accuracy"] == test.rows["pca"]["probe_accuracy"]
        assert row["best_val_loss"] == model.result["best_val_loss"]
        assert row["val_mse"] > 0 and row["pca_val_mse"] > 0
    # PCA-4 reconstructs better than PCA-2
    assert frame["pca_test_mse"][1] < frame["pca_test_mse"][0]
    assert frame["best"].tolist() == (frame["val_mse"] == frame["val_mse"].min()).tolist()

    table = pd.read_csv(out / "sweep.csv")
    assert table["test_mse"].tolist() == frame["test_mse"].tolist()
    assert read_rgb(out / "sweep.png").shape[0] > 100
    page = (out / "sweep.html").read_text()
    assert f'data-value="{float(frame["test_mse"][0])!r}"' in page and "digits:test" in page
    assert json.loads((out / "sweep.json").read_text())["grid"]["fixed"] == {
        "epochs": 2,
        "hidden": [32],
    }


def test_an_interrupted_sweep_goes_on_where_it_stopped(tmp_path, low_rank, monkeypatch, capfd):
    out = tmp_path / "sweep"
    options = dict(code_size=[1, 2, 3], epochs=3, hidden=[16])
    write_metrics = aekit.api.write_metrics

    def killed_in_second_epoch_of_code_2(folder, history):
        write_metrics(folder, history)
        if folder.name == "code=2" and len(history) == 2:
            raise KeyboardInterrupt  # after the first epoch's checkpoint

    monkeypatch.setattr(aekit.api, "write_metrics", killed_in_second_epoch_of_code_2)
    with pytest.raises(KeyboardInterrupt):
        aekit.sweep(low_rank, out=out, **options)
    monkeypatch.undo()
    assert pd.read_csv(out / "sweep.csv")["code_size"].tolist() == [1]  # the table so far
    assert (out / "code=2" / "checkpoint.safetensors").exists()
    first = _mtimes(out)

    frame = aekit.sweep(low_rank, out=out, progress=True, **options)
    lines = capfd.readouterr().err.splitlines()
    assert _mtimes(out)["code=1"] == first["code=1"]  # finished: not trained again
    assert [line.split("  ")[1].split(",")[0] for line in lines[-3:]] == [
        "done before",
        "resumed",
        "trained",
    ]
    line = r"\[2/3\] code=2  resumed, 3 epochs  val MSE \S+ \(PCA \S+\)  \S+ s"
    assert re.fullmatch(line, lines[-2])
    assert frame["epochs"].tolist() == [3, 3, 3]
    # the resumed run ends where an uninterrupted one does
    whole = aekit.train(low_rank, code_size=2, epochs=3, hidden=[16])
    resumed = aekit.load(out / "code=2")
    assert np.array_equal(resumed.encode(low_rank), whole.encode(low_rank))
    # no test data: validation columns only, said on the page
    assert "test_mse" not in frame and "no test data" in (out / "sweep.html").read_text()


def test_a_sweep_folder_holds_one_sweep(tmp_path, low_rank):
    out = tmp_path / "sweep"
    aekit.sweep(low_rank, out=out, code_size=[1, 2], epochs=1)
    with pytest.raises(ConfigError, match=r"holds a sweep of an array of shape \(200, 8\)"):
        aekit.sweep(low_rank + 1, out=out, code_size=[1, 2], epochs=1)
    with pytest.raises(ConfigError, match="runs share no fixed option; these would share lr=0.01"):
        aekit.sweep(low_rank, out=out, code_size=[1, 2], epochs=1, lr=0.01)
    before = _mtimes(out)
    # more values of a swept option only add runs
    frame = aekit.sweep(low_rank, out=out, code_size=[1, 2, 3], epochs=1)
    assert frame["code_size"].tolist() == [1, 2, 3]
    assert {k: v for k, v in _mtimes(out).items() if k in before} == before
    # more epochs: the runs go on training
    frame = aekit.sweep(low_rank, out=out, code_size=[1, 2, 3], epochs=2)
    assert frame["epochs"].tolist() == [2, 2, 2]

    frame = aekit.sweep(low_rank + 1, out=out, code_size=[1], epochs=1, overwrite=True)
    assert sorted(_mtimes(out)) == ["run"]  # nothing swept: one run, named "run"
    assert frame["run"].tolist() == [str(out / "run")]
    assert not (out / "code=2" / "config.json").exists()  # the other sweep's runs are gone


def test_cli_sweeps_list_options_with_one_code_size(tmp_path, capsys):
    out = tmp_path / "sweep"
    args = ["sweep", "digits", "--out", str(out), "--code", "2", "--hidden", "16", "32,16"]
    assert main([*args, "--epochs", "1", "--quiet"]) == 0
    printed = capsys.readouterr()
    assert printed.err == "" and f"wrote {out}/sweep.csv" in printed.out
    table = pd.read_csv(out / "sweep.csv", dtype={"hidden": str})
    assert table["hidden"].tolist() == ["16", "32,16"]
    assert table["code_size"].tolist() == [2, 2]
    config = json.loads((out / "hidden=32-16" / "config.json").read_text())
    assert config["net"]["hidden"] == [32, 16] and config["net"]["code_size"] == 2
    assert read_rgb(out / "sweep.png").shape[1] > 100  # a figure for one code size too
    assert "hidden (swept)" in (out / "sweep.html").read_text()


def test_an_interrupted_cli_sweep_says_to_run_it_again(tmp_path, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(aekit.sweeps.driver, "train", interrupted)
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", "digits", "--code", "2,4", "--epochs", "1", "--quiet"]) == 130
    error = capsys.readouterr().err
    assert "run the same aekit sweep command again to finish the sweep" in error
    # the default folder is named after the data, so the same command finds it again
    assert (tmp_path / "sweeps" / "digits" / "sweep.json").exists()
    assert default_folder("data/table.csv") == Path("sweeps/table")


def test_cli_sweep_reads_a_config_file_and_flags_override_it(tmp_path, capsys):
    config = tmp_path / "sweep.toml"
    # one file for train and sweep: [train] fixes what both use, [sweep] holds the grid
    config.write_text("[train]\nepochs = 1\nhidden = [16]\n\n[sweep]\ncode_size = [2, 3]\n")
    out = tmp_path / "sweep"
    args = ["sweep", "digits", "--out", str(out), "--config", str(config), "--quiet"]
    assert main([*args, "--hidden", "8"]) == 0
    table = pd.read_csv(out / "sweep.csv")
    assert table["code_size"].tolist() == [2, 3]
    config_of_run = json.loads((out / "code=3" / "config.json").read_text())
    assert config_of_run["net"]["hidden"] == [8]  # the flag won over the file's [16]
    assert config_of_run["train"]["epochs"] == 1
    # aekit train reads the same file and leaves the sweep's table alone
    run = aekit.train("digits", config=config, code_size=2, out=tmp_path / "run")
    assert run.train_config.hidden == [16] and run.train_config.epochs == 1


@pytest.mark.parametrize(
    "text, message",
    [
        ("code_size = [2, 0]\n", r"sweep\.toml: .*code_size"),
        ("coed_size = [2, 4]\n", r"sweep\.toml: unknown option 'coed_size'; did you mean"),
        ("sweep = 3\n", r"sweep\.toml: \[sweep\] must be a table"),
        ("code_size = [2\n", r"cannot read config file .*sweep\.toml"),
    ],
)
def test_a_bad_sweep_config_file_is_a_clear_error_before_any_run(tmp_path, text, message):
    config = tmp_path / "sweep.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=message):
        aekit.sweep("digits", out=tmp_path / "sweep", config=config, epochs=1)
    assert not (tmp_path / "sweep").exists()


def test_a_sweep_with_validation_data_trains_on_all_rows_and_scores_on_it(tmp_path, low_rank):
    train_rows, val_rows = low_rank[:150], low_rank[150:]
    out = tmp_path / "sweep"
    frame = aekit.sweep(train_rows, out=out, val_data=val_rows, code_size=[2, 3], epochs=2)
    for _, row in frame.iterrows():
        model = aekit.load(row["run"])
        assert model.data_info["n_train"] == 150 and model.data_info["validation"] == "given"
        expected = aekit.evaluate(model, val_rows, train_data=train_rows).rows["aekit"]["mse"]
        assert row["val_mse"] == pytest.approx(expected, rel=1e-6)
    assert json.loads((out / "sweep.json").read_text())["validation"]["array"] == [50, 8]
    # the same call finds its runs finished; other validation data is another sweep
    assert aekit.sweep(train_rows, out=out, val_data=val_rows, code_size=[2, 3], epochs=2).equals(
        frame
    )
    with pytest.raises(ConfigError, match=r"validated on an array of shape \(50, 8\).*not on an"):
        aekit.sweep(train_rows, out=out, val_data=val_rows[:40], code_size=[2, 3], epochs=2)


def test_runs_that_are_pca_tie_pca_in_a_sweep_with_validation_data(tmp_path):
    # nothing to learn: every run keeps its PCA start, fitted on the rows it trained on and
    # never on the validation rows it is scored on, so each ties PCA fitted on the same rows
    rng = np.random.default_rng(0)
    rows = (rng.normal(size=(200, 8)) * [1, 10, 100, 1, 1, 5, 2, 3]).astype(np.float32)
    frame = aekit.sweep(
        rows[:150], out=tmp_path / "s", val_data=rows[150:], test_data=rows[150:],
        hidden=[[8], [16]], code_size=2, epochs=2,
    )  # fmt: skip
    assert frame["best_epoch"].tolist() == [0, 0]
    assert frame["val_ratio"].tolist() == pytest.approx([1.0, 1.0], rel=1e-5)
    assert frame["test_ratio"].tolist() == pytest.approx([1.0, 1.0], rel=1e-5)


def test_cli_sweep_takes_validation_data(tmp_path, low_rank, capsys):
    np.save(tmp_path / "train.npy", low_rank[:150])
    np.save(tmp_path / "val.npy", low_rank[150:])
    out = tmp_path / "sweep"
    args = ["sweep", str(tmp_path / "train.npy"), "--val-data", str(tmp_path / "val.npy")]
    assert main([*args, "--out", str(out), "--code", "2", "--epochs", "1", "--quiet"]) == 0
    run = pd.read_csv(out / "sweep.csv")["run"].iloc[0]
    config = json.loads((Path(run) / "config.json").read_text())
    assert config["data"]["val_source"] == str(tmp_path / "val.npy")
    assert config["data"]["n_train"] == 150


def test_val_fraction_beside_val_data_is_an_error_before_training(tmp_path, low_rank):
    # the given data is the validation data: a fraction to hold out would be ignored
    with pytest.raises(ConfigError, match="val_fraction=0.3 holds out part of the data"):
        aekit.train(low_rank[:150], val_data=low_rank[150:], val_fraction=0.3, epochs=1)
    with pytest.raises(ConfigError, match="give one of the two"):
        aekit.sweep(low_rank[:150], out=tmp_path / "s", val_data=low_rank[150:],
                    val_fraction=[0.2, 0.3], code_size=2, epochs=1)  # fmt: skip
    assert not (tmp_path / "s").exists()


def test_test_data_need_not_have_the_label_column(tmp_path):
    """Labels feed the probe where the test table has them; they are never asked of it."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(60, 4)), columns=list("abcd"))
    frame["kind"] = rng.integers(0, 2, size=60)
    frame.to_csv(tmp_path / "train.csv", index=False)
    frame.drop(columns="kind")[:20].to_csv(tmp_path / "test.csv", index=False)
    frame[:20].to_csv(tmp_path / "labelled.csv", index=False)
    options = dict(label="kind", code_size=2, epochs=1, hidden=[4])
    unlabelled = aekit.sweep(
        tmp_path / "train.csv", out=tmp_path / "s1", test_data=tmp_path / "test.csv", **options
    )
    assert unlabelled["test_mse"].notna().all() and "probe_accuracy" not in unlabelled
    labelled = aekit.sweep(
        tmp_path / "train.csv", out=tmp_path / "s2", test_data=tmp_path / "labelled.csv", **options
    )
    assert labelled["probe_accuracy"].notna().all()
