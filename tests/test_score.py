"""Anomaly scores from the command line: a score per row, the threshold and a 0/1 flag."""

import numpy as np
import pandas as pd
import pytest

import aekit
from aekit.cli.commands import main


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """300 rows near a 2-D plane in 8 dimensions, then 10 rows far off it."""
    rng = np.random.default_rng(0)
    plane = rng.normal(size=(300, 2)) @ rng.normal(size=(2, 8))
    normal = plane + 0.05 * rng.normal(size=plane.shape)
    outliers = 3.0 * rng.normal(size=(10, 8))
    x = np.concatenate([normal, outliers]).astype(np.float32)
    folder = tmp_path_factory.mktemp("score")
    normal = normal.astype(np.float32)
    aekit.train(normal, code_size=2, epochs=30, out=folder / "run", progress=False)
    np.save(folder / "x.npy", x)
    return folder, x


def test_score_flags_the_planted_outliers(planted):
    folder, x = planted
    out = folder / "scores.csv"
    assert main(["score", str(folder / "run"), str(folder / "x.npy"), "-o", str(out),
                 "--contamination", "0.03", "--quiet"]) == 0  # fmt: skip
    table = pd.read_csv(out)
    assert list(table.columns) == ["score", "outlier", "threshold"] and len(table) == len(x)
    model = aekit.load(folder / "run")
    np.testing.assert_allclose(table["score"], model.anomaly_scores(x), rtol=1e-6)
    threshold = table["threshold"].iloc[0]
    assert threshold == pytest.approx(np.quantile(table["score"], 0.97))
    assert (table["outlier"] == (table["score"] > threshold)).all()
    # the 10 planted rows are the 10 highest scores, and all of them are flagged
    assert set(np.argsort(-table["score"].to_numpy())[:10]) == set(range(300, 310))
    assert table["outlier"].iloc[300:].all() and table["outlier"].sum() == 10


def test_score_refuses_bad_options_before_writing(planted, capsys):
    folder, _ = planted
    out = folder / "bad.csv"
    args = ["score", str(folder / "run"), str(folder / "x.npy"), "-o"]
    assert main([*args, str(out), "--contamination", "1.5"]) == 2
    assert "--contamination must be in (0, 1)" in capsys.readouterr().err
    assert main([*args, str(folder / "scores.txt")]) == 2
    assert "use a .csv or .parquet file" in capsys.readouterr().err
    assert not out.exists() and not (folder / "scores.txt").exists()


def test_score_by_both_takes_the_term_that_stands_out_more(planted, capsys):
    folder, x = planted
    args = ["score", str(folder / "run"), str(folder / "x.npy"), "--anomaly-score", "both"]
    out = folder / "both.csv"
    # the run was trained on an in-memory array: its training codes need the data passed in
    assert main([*args, "-o", str(out), "--quiet"]) == 2
    error = capsys.readouterr().err
    assert "code distances of --anomaly-score both" in error and "--train-data" in error
    assert not out.exists()
    np.save(folder / "normal.npy", x[:300])
    given = ["--train-data", str(folder / "normal.npy"), "--contamination", "0.03"]
    assert main([*args, "-o", str(out), *given, "--quiet"]) == 0
    scores = pd.read_csv(out)["score"].to_numpy()
    model = aekit.load(folder / "run")
    codes, train_codes = model.encode(x), model.encode(x[:300])
    nearest = np.sort(np.linalg.norm(codes[:, None] - train_codes[None], axis=2), axis=1)
    distance = nearest[:, 1:21].mean(axis=1)  # the 2nd to 21st nearest training codes
    errors = model.anomaly_scores(x)

    def standing(terms, training):  # log, less the training rows' median, over their MAD
        logs, reference = np.log(terms), np.log(training)
        median = np.median(reference)
        return (logs - median) / np.median(np.abs(reference - median))

    most = np.maximum(standing(errors, errors[:300]), standing(distance, distance[:300]))
    median = np.median(np.log(errors[:300]))
    spread = np.median(np.abs(np.log(errors[:300]) - median))
    expected = np.exp(median + spread * most)  # in the reconstruction error's units
    np.testing.assert_allclose(scores, expected, rtol=1e-4)
    assert (scores >= errors * (1 - 1e-6)).all()
    assert set(np.argsort(-scores)[:10]) == set(range(300, 310))  # the planted rows on top


def test_train_data_without_a_score_that_uses_it_is_an_error(planted, capsys):
    folder, _ = planted
    out = folder / "unused.csv"
    args = ["score", str(folder / "run"), str(folder / "x.npy"), "-o", str(out)]
    assert main([*args, "--train-data", str(folder / "x.npy")]) == 2
    assert "the reconstruction error does not use it" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(
    "options",
    [dict(), dict(model="vae"), dict(backbone="conv"), dict(model="vae", backbone="conv")],
    ids=["ae", "vae", "conv-ae", "conv-vae"],
)
def test_codes_and_scores_from_one_encoding_are_those_of_two(options, small_images):
    """The code-distance scores take the codes and the errors from one pass through the
    encoder: the same numbers as encode and anomaly_scores apart."""
    data = small_images if options.get("backbone") == "conv" else small_images.reshape(96, -1)
    model = aekit.train(data, code_size=3, epochs=2, progress=False, **options)
    codes, scores = model.codes_and_anomaly_scores(data)
    np.testing.assert_array_equal(codes, model.encode(data))
    np.testing.assert_array_equal(scores, model.anomaly_scores(data))


def test_the_label_of_the_scored_file_is_not_asked_of_the_training_file(planted, capsys):
    """``--label is_out`` sets a column of DATA aside; the training codes of ``both`` come from
    the run's own file, which has no such column."""
    folder, x = planted
    columns = [f"f{i}" for i in range(8)]
    pd.DataFrame(x[:300], columns=columns).to_csv(folder / "normal.csv", index=False)
    run = folder / "file-run"
    main(["train", str(folder / "normal.csv"), "--out", str(run), "--code", "2", "--epochs", "3",
          "--quiet"])  # fmt: skip
    labelled = pd.DataFrame(x, columns=columns)
    labelled["is_out"] = np.r_[np.zeros(300, int), np.ones(10, int)]
    labelled.to_csv(folder / "labelled.csv", index=False)

    def scores(data, *label) -> np.ndarray:
        out = folder / "scores.csv"
        options = ["--anomaly-score", "both", "-o", str(out), "--quiet"]
        assert main(["score", str(run), str(data), *label, *options]) == 0
        return pd.read_csv(out)["score"].to_numpy()

    with_label = scores(folder / "labelled.csv", "--label", "is_out")
    np.testing.assert_array_equal(with_label[:300], scores(folder / "normal.csv"))
