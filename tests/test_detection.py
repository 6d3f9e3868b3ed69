"""Labelled outliers: AUROC and average precision of aekit, PCA and IsolationForest."""

import re

import numpy as np
import pytest

from aekit.errors import DataError
from aekit.evaluation.detection import (
    detection_rows,
    isolation_forest_scores,
    outlier_flags,
    pca_scores,
)


def test_outlier_flags_accept_zero_one_and_name_bad_values():
    np.testing.assert_array_equal(outlier_flags(np.array([0.0, 1.0, 0.0]), "t.csv"), [0, 1, 0])
    with pytest.raises(
        DataError, match=r"t.csv: outlier labels must be 1 .* found the values 0, 2"
    ):
        outlier_flags(np.array([0, 2, 0]), "t.csv")
    with pytest.raises(DataError, match="every row is labelled as one kind"):
        outlier_flags(np.array([1, 1]), "t.csv")
    with pytest.raises(DataError, match="--labels"):
        outlier_flags(None, "t.csv")


def test_rows_rank_scores_against_flags():
    flags = np.array([0, 0, 0, 1, 1])
    rows = detection_rows(flags, {"perfect": np.arange(5.0), "reversed": -np.arange(5.0)})
    assert rows["perfect"] == {"auroc": 1.0, "average_precision": 1.0}
    assert rows["reversed"]["auroc"] == 0.0
    assert rows["reversed"]["average_precision"] < 0.5


def test_pca_and_isolation_forest_find_rows_off_the_training_plane():
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(2, 6))
    train = rng.normal(size=(300, 2)) @ basis + 0.01 * rng.normal(size=(300, 6))
    normal = rng.normal(size=(50, 2)) @ basis
    anomalies = 4.0 * rng.normal(size=(10, 6))  # far off the plane the data lies on
    test = np.concatenate([normal, anomalies])
    flags = np.r_[np.zeros(50, int), np.ones(10, int)]
    rows = detection_rows(
        flags,
        {
            "pca": pca_scores(train, test, 2, seed=0),
            "isolation_forest": isolation_forest_scores(train, test, seed=0),
        },
    )
    assert rows["pca"]["auroc"] == 1.0  # the plane is exactly PCA's
    assert rows["isolation_forest"]["auroc"] > 0.9


def _table(path, n_normal: int, n_anomalies: int, seed: int):
    import pandas as pd

    rng = np.random.default_rng(seed)
    basis = np.random.default_rng(0).normal(size=(2, 6))  # the same plane in every file
    normal = rng.normal(size=(n_normal, 2)) @ basis + 0.05 * rng.normal(size=(n_normal, 6))
    anomalies = 3.0 * rng.normal(size=(n_anomalies, 6))
    frame = pd.DataFrame(np.concatenate([normal, anomalies]), columns=[f"f{i}" for i in range(6)])
    frame["is_anomaly"] = [0] * n_normal + [1] * n_anomalies
    frame.to_csv(path, index=False)
    return path


def test_cli_evaluate_with_outlier_labels_scores_four_detectors(tmp_path, capsys):
    import json

    from aekit.cli.commands import main

    train = _table(tmp_path / "train.csv", 300, 6, seed=1)
    test = _table(tmp_path / "test.csv", 100, 10, seed=2)
    run = tmp_path / "run"
    options = ["--label", "is_anomaly", "--code", "2", "--epochs", "20", "--quiet"]
    assert main(["train", str(train), "--out", str(run), *options]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(run), str(test), "--labels", "is_anomaly", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["detection"]) == {"aekit", "aekit_both", "pca", "isolation_forest"}
    # anomalies far off the plane of the normal rows: every detector finds them
    assert report["detection"]["aekit"]["auroc"] > 0.95
    assert report["detection"]["aekit_both"]["auroc"] > 0.95
    assert report["detection"]["pca"]["auroc"] > 0.95
    assert "probe_accuracy" not in report["rows"]["aekit"]  # the flags are not classes
    assert main(["evaluate", str(run), str(test), "--labels", "is_anomaly"]) == 0
    table = capsys.readouterr().out
    auroc = report["detection"]["isolation_forest"]["auroc"]
    assert re.search(rf"\nIsolationForest +{auroc:6.3f} ", table)
    both = report["detection"]["aekit_both"]["auroc"]
    assert re.search(rf"\naekit residual x code distance +{both:6.3f} ", table)


def test_outlier_labels_other_than_zero_one_are_a_clear_error(tmp_path, capsys):
    import pandas as pd

    from aekit.cli.commands import main

    train = _table(tmp_path / "train.csv", 200, 4, seed=1)
    test = pd.read_csv(train)
    test["is_anomaly"] = test["is_anomaly"] * 2  # 0 and 2
    test.to_csv(tmp_path / "bad.csv", index=False)
    run = tmp_path / "run"
    main(["train", str(train), "--out", str(run), "--label", "is_anomaly", "--epochs", "2",
          "--quiet"])  # fmt: skip
    capsys.readouterr()
    assert main(["evaluate", str(run), str(tmp_path / "bad.csv"), "--labels", "is_anomaly"]) != 0
    assert "outlier labels must be 1 (anomaly) or 0 (normal), found the values 0, 2" in (
        capsys.readouterr().err
    )


def test_outlier_labels_in_the_test_file_only(tmp_path, capsys):
    """Labelled outliers usually exist only in the test file: the training data is reloaded
    with the run's own label column set aside, never read for the test's outlier column."""
    import json

    import pandas as pd

    import aekit
    from aekit.cli.commands import main

    train = pd.read_csv(_table(tmp_path / "train.csv", 300, 0, seed=1))
    train["kind"] = (train["f0"] > 0).astype(int)  # the run's own label, not in the test file
    train.drop(columns="is_anomaly").to_csv(tmp_path / "train.csv", index=False)
    test = _table(tmp_path / "test.csv", 100, 10, seed=2)
    run = tmp_path / "run"
    main(["train", str(tmp_path / "train.csv"), "--out", str(run), "--label", "kind",
          "--code", "2", "--epochs", "20", "--quiet"])  # fmt: skip
    capsys.readouterr()
    assert main(["evaluate", str(run), str(test), "--labels", "is_anomaly", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n_train"] == 270  # the training part, the validation rows split off again
    assert report["detection"]["aekit"]["auroc"] > 0.95
    given = aekit.evaluate(
        aekit.load(run), test, train_data=tmp_path / "train.csv", outlier_label="is_anomaly"
    )
    assert given.n_train == 300 and given.detection["pca"]["auroc"] > 0.95
