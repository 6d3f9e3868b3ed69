"""Labelled outliers: AUROC and average precision of aekit, PCA and IsolationForest."""

import numpy as np
import pytest

from aekit.detection import (
    detection_rows,
    isolation_forest_scores,
    outlier_flags,
    pca_scores,
)
from aekit.errors import DataError


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
