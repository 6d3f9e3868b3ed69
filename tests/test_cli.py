"""The aekit command end to end: train, encode, decode, reconstruct, evaluate, errors."""

import json

import numpy as np
import pandas as pd
import pytest

import aekit
from aekit.cli.commands import build_parser, main
from aekit.models import option_fields
from aekit.options.declaring import flag_of


@pytest.fixture
def table(tmp_path, low_rank):
    path = tmp_path / "table.csv"
    frame = pd.DataFrame(low_rank, columns=[f"f{i}" for i in range(8)])
    frame.insert(3, "kind", np.where(low_rank[:, 0] > np.median(low_rank[:, 0]), "a", "b"))
    frame.to_csv(path, index=False)
    return path


def _train(tmp_path, data, *extra):
    run = tmp_path / "run"
    code = main(["train", str(data), "--out", str(run), "--epochs", "3", "--quiet", *extra])
    assert code == 0
    return run


def test_train_then_use_a_csv_with_labels(tmp_path, table, capsys):
    run = _train(tmp_path, table, "--label", "kind", "--code", "2", "--hidden", "16,8")
    out = capsys.readouterr().out
    assert f"run saved to {run}" in out
    config = json.loads((run / "config.json").read_text())
    assert config["net"]["hidden"] == [16, 8] and config["net"]["code_size"] == 2
    assert config["data"]["label"] == "kind" and "kind" not in config["data"]["feature_names"]
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 3
    assert (run / "loss.png").stat().st_size > 0

    codes = tmp_path / "codes.csv"
    assert main(["encode", str(run), str(table), "--label", "kind", "-o", str(codes)]) == 0
    frame = pd.read_csv(codes)
    assert frame.shape == (200, 2) and list(frame.columns) == ["z0", "z1"]

    decoded = tmp_path / "decoded.npy"
    assert main(["decode", str(run), str(codes), "-o", str(decoded)]) == 0
    assert np.load(decoded).shape == (200, 8)

    recon = tmp_path / "recon.parquet"
    assert main(["reconstruct", str(run), str(table), "--label", "kind", "-o", str(recon)]) == 0
    assert pd.read_parquet(recon).shape == (200, 8)

    capsys.readouterr()
    assert main(["evaluate", str(run), str(table), "--label", "kind", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    # the plain autoencoder samples (its code mixture): sample quality beside the floor
    assert set(report["rows"]) == {"aekit", "pca", "real"}
    assert "probe_accuracy" in report["rows"]["pca"] and "sample_fd" in report["rows"]["aekit"]
    args = ["evaluate", str(run), str(table), "--label", "kind", "--json", "--no-sample-quality"]
    assert main(args) == 0
    assert set(json.loads(capsys.readouterr().out)["rows"]) == {"aekit", "pca"}
    assert main(["evaluate", str(run), str(table), "--label", "kind"]) == 0
    table_text = capsys.readouterr().out
    assert "mse" in table_text and "PCA" in table_text


def test_images_get_the_conv_model_and_plots(tmp_path, small_images, capsys):
    data = tmp_path / "images.npy"
    np.save(data, np.repeat(small_images, 2, axis=0).reshape(-1, 12, 12))
    small = np.pad(small_images, ((0, 0), (2, 2), (2, 2)))  # 16x16: auto picks conv
    np.save(data, small)
    run = _train(tmp_path, data, "--code", "4", "--hidden", "4,8")
    config = json.loads((run / "config.json").read_text())
    assert config["net"]["backbone"] == "conv" and config["net"]["input_shape"] == [1, 16, 16]
    assert (run / "reconstructions.png").stat().st_size > 0


def test_config_file_and_flags(tmp_path, table):
    config = tmp_path / "ae.toml"
    config.write_text('code_size = 3\nhidden = [10]\nloss = "mae"\n')
    run = _train(tmp_path, table, "--label", "kind", "--config", str(config), "--loss", "mse")
    saved = json.loads((run / "config.json").read_text())
    assert saved["net"]["code_size"] == 3 and saved["net"]["hidden"] == [10]
    assert saved["net"]["loss"] == "mse"  # the flag wins over the file


def test_validation_data_need_not_have_the_label_column(tmp_path, table, capsys):
    """Validation takes no labels: --val-data without the --label column trains, and the run
    is evaluated on it afterwards; a validation file that has the column gets it set aside."""
    frame = pd.read_csv(table)[::-1]  # other rows first: matched by name, not position
    for name, val in (("unlabelled", frame.drop(columns="kind")), ("labelled", frame)):
        val.to_csv(tmp_path / f"{name}.csv", index=False)
        run = _train(
            tmp_path / name, table, "--label", "kind", "--val-data", str(tmp_path / f"{name}.csv")
        )
        capsys.readouterr()
        assert main(["evaluate", str(run), "--json"]) == 0
        evaluation = json.loads(capsys.readouterr().out)
        assert evaluation["n_test"] == 200
        assert ("probe_accuracy" in evaluation["rows"]["aekit"]) == (name == "labelled")


def test_table_outputs_carry_the_training_column_names(tmp_path, table, low_rank):
    """A table model's reconstructions, decodes and samples are headed by its training columns
    in training order, whatever the input's order; a model of unnamed columns writes x0, x1."""
    run = _train(tmp_path, table, "--label", "kind", "--code", "2")
    features = [f"f{i}" for i in range(8)]
    shuffled = tmp_path / "shuffled.csv"
    pd.read_csv(table)[features[::-1]].to_csv(shuffled, index=False)

    def written(command, *options) -> pd.DataFrame:
        out = tmp_path / f"{command}.csv"
        assert main([command, str(run), *map(str, options), "-o", str(out)]) == 0
        return pd.read_csv(out)

    for command in ("reconstruct", "denoise"):
        rebuilt = written(command, shuffled, "--quiet")
        assert list(rebuilt.columns) == features
        expected = aekit.load(run).reconstruct(pd.read_csv(table))
        np.testing.assert_allclose(rebuilt.to_numpy(), expected, rtol=1e-5)
    codes = written("encode", shuffled, "--quiet")
    assert list(codes.columns) == ["z0", "z1"]
    assert list(written("decode", tmp_path / "encode.csv").columns) == features
    assert list(written("generate", "-n", 3).columns) == features
    assert list(written("interpolate", table, "--from", 0, "--to", 1).columns) == features
    np.save(tmp_path / "rows.npy", low_rank)
    run = _train(tmp_path / "array", tmp_path / "rows.npy", "--code", "2")
    assert list(written("reconstruct", tmp_path / "rows.npy", "--quiet").columns) == [
        f"x{i}" for i in range(8)
    ]


def test_decode_matches_code_columns_by_name(tmp_path, table, capsys):
    """Codes written by encode as z0, z1 decode to the same data in any column order; a table
    of other columns is an error naming them; an .npy array of codes is taken in order."""
    run = _train(tmp_path, table, "--label", "kind", "--code", "2")
    model = aekit.load(run)
    codes = model.encode(pd.read_csv(table))
    frame = pd.DataFrame(codes, columns=["z0", "z1"])[["z1", "z0"]]  # reordered
    frame.to_parquet(tmp_path / "codes.parquet")
    np.save(tmp_path / "codes.npy", codes)
    for given in ("codes.parquet", "codes.npy"):
        assert main(["decode", str(run), str(tmp_path / given), "-o", str(tmp_path / "x.npy")]) == 0
        np.testing.assert_array_equal(np.load(tmp_path / "x.npy"), model.decode(codes))
    np.testing.assert_array_equal(model.decode(frame), model.decode(codes))  # in Python too
    frame.rename(columns={"z1": "q"}).to_csv(tmp_path / "other.csv", index=False)
    capsys.readouterr()
    assert (
        main(["decode", str(run), str(tmp_path / "other.csv"), "-o", str(tmp_path / "y.npy")]) == 2
    )
    error = capsys.readouterr().err
    assert "other.csv: missing code column(s) 'z1'; extra column(s) 'q'" in error
    assert not (tmp_path / "y.npy").exists()


def test_help_names_every_option():
    train_parser = build_parser()._subparsers._group_actions[0].choices["train"]
    dests = {
        flag: action.dest for action in train_parser._actions for flag in action.option_strings
    }
    train_help = train_parser.format_help()
    for option in option_fields():
        assert dests[flag_of(option)] == option.name
        assert flag_of(option) in train_help


def test_datasets_lists_builtins(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "digits" in out and "fashion-mnist" in out


@pytest.mark.parametrize(
    "argv,message",
    [
        (["train", "no/such/file.csv"], "no/such/file.csv"),
        (["train", "{table}"], "kind"),  # a text column without --label
        (["train", "{table}", "--label", "nope"], "nope"),
        (["train", "{table}", "--label", "kind", "--loss", "bce", "--scale", "standard"], "minmax"),
        (["encode", "{tmp}/missing-run", "{table}", "-o", "{tmp}/x.npy"], "missing-run"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, table, capsys, argv, message):
    argv = [a.format(table=table, tmp=tmp_path) for a in argv]
    assert main([*argv, "--quiet"] if argv[0] == "train" else argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("aekit: error: ") and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "x.npy").exists()


def test_width_mismatch_on_encode(tmp_path, table, capsys):
    run = _train(tmp_path, table, "--label", "kind")
    other = tmp_path / "other.npy"
    np.save(other, np.zeros((4, 5), np.float32))
    assert main(["encode", str(run), str(other), "-o", str(tmp_path / "codes.npy")]) == 2
    assert "shape (5,)" in capsys.readouterr().err
    assert not (tmp_path / "codes.npy").exists()


def test_demo_shows_training_progress_unless_quiet(tmp_path, monkeypatch, capsys):
    # the library's train() is quiet by default; the command line, demo included, turns it on
    import aekit.cli.commands as cli

    seen = []
    monkeypatch.setattr(cli, "train", lambda *args, **options: seen.append(options))
    stored = {"dataset": "digits:test", "n_train": 9, "n_test": 3, "code_size": 2, "rows": {}}
    monkeypatch.setattr(cli, "read_evaluation", lambda out: stored)
    assert main(["demo", "--out", str(tmp_path / "demo"), "--time-limit", "1"]) == 0
    assert main(["demo", "--out", str(tmp_path / "demo"), "--time-limit", "1", "--quiet"]) == 0
    assert [options["progress"] for options in seen] == [True, False]
    # the evaluation training stored is printed, not computed a second time
    assert "dataset: digits:test" in capsys.readouterr().out


def test_the_summary_says_how_often_the_learning_rate_dropped(tmp_path, capsys):
    data = tmp_path / "small.npy"
    np.save(data, np.random.default_rng(1).normal(size=(96, 8)).astype(np.float32))
    options = ["--code", "2", "--hidden", "16", "--lr", "0.03", "--schedule", "constant"]
    run = tmp_path / "run"
    assert main(["train", str(data), "--out", str(run), *options, "--patience", "2"]) == 0
    assert "(stopped: early stopping, after 2 learning-rate drops)" in capsys.readouterr().out
    config = json.loads((run / "config.json").read_text())
    assert config["result"]["lr_drops"] == 2


def test_table_warnings_and_errors_are_one_line_each(tmp_path, low_rank, capsys):
    frame = pd.DataFrame(low_rank[:40].astype(np.float64), columns=[f"f{i}" for i in range(8)])
    indexed = tmp_path / "indexed.csv"
    frame.to_csv(indexed)  # the index saved as a first column, "Unnamed: 0"
    _train(tmp_path, indexed, "--no-report")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"aekit: warning: {indexed}: the first column")
    frame.iloc[5, 2] = 1e300
    frame.to_csv(tmp_path / "huge.csv", index=False)
    assert main(["train", str(tmp_path / "huge.csv"), "--quiet"]) == 2
    lines = capsys.readouterr().err.splitlines()  # no numpy or pandas warning on the way
    assert len(lines) == 1 and "beyond float32's range" in lines[0], lines


@pytest.mark.parametrize("option", ["early_stopping", "report"])
def test_switches_are_spelled_alike_in_train_and_sweep(option, capsys):
    parser = build_parser()
    flag = "--" + option.replace("_", "-")
    no_flag = "--no-" + flag.removeprefix("--")
    train = {
        (flag,): True,
        (flag, "on"): True,
        (flag, "off"): False,
        (no_flag,): False,
    }
    for words, value in train.items():
        assert getattr(parser.parse_args(["train", "digits", *words]), option) is value, words
        swept = getattr(parser.parse_args(["sweep", "digits", *words]), option)
        assert swept == ["on" if value else "off"], words
    assert getattr(parser.parse_args(["sweep", "digits", flag, "on,off"]), option) == ["on,off"]
    with pytest.raises(SystemExit):  # train takes one value
        parser.parse_args(["train", "digits", flag, "on,off"])
    assert "expected on or off" in capsys.readouterr().err
