"""Anomaly-detection figures for labelled outliers: AUROC and average precision.

``aekit evaluate RUN DATA --labels COLUMN`` scores every test row four ways, each fitted on
the model's training data and each higher = more anomalous: the model's reconstruction error
(``Autoencoder.anomaly_scores``, in its scaled space), that error joined with the row's code
distance to the nearest training codes ("aekit_both": the default score of
``aekit.sklearn.AutoencoderAnomalyDetector``, ``outlier_scores``; on images with the local
error, ``detector_terms``), PCA's reconstruction error with as many components as the
code, in the same space, and scikit-learn's IsolationForest on the rows as given (its
random splits do not depend on a column's units). AUROC is the chance that a random
anomaly scores above a random normal row (0.5: no better than chance); average precision
summarises the precision-recall curve, and its chance level is the fraction of anomalies.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from ..options.defaults import DETECTOR_NEIGHBOURS
from .detector_terms import NEIGHBOURHOOD, codes_and_errors, fitted_reference, uses_local_errors
from .pca_baseline import PCABaseline, baseline_size


def outlier_flags(labels: np.ndarray | None, name: str) -> np.ndarray:
    """(n,) int 0/1 from a labels column that marks anomalies with 1 and normal rows with 0."""
    if labels is None:
        raise DataError(f"{name}: no outlier labels were read; name their column with --labels")
    values = np.unique(labels)
    if not np.isin(values, [0, 1]).all():
        shown = ", ".join(str(v) for v in values[:6])
        raise DataError(
            f"{name}: outlier labels must be 1 (anomaly) or 0 (normal), found the values "
            f"{shown}{', ...' if len(values) > 6 else ''}"
        )
    flags = np.asarray(labels).astype(int)
    if flags.min() == flags.max():
        kind = "anomalies" if flags[0] == 1 else "normal rows"
        raise DataError(
            f"{name}: every row is labelled as one kind ({kind}); AUROC needs both 0 and 1"
        )
    return flags


def pca_scores(train_scaled: np.ndarray, test_scaled: np.ndarray, n_components: int, seed: int):
    """(n,) PCA's mean squared reconstruction error per test row, PCA fitted on the training
    rows; both (n, d) in the model's scaled space."""
    pca = PCABaseline.fit(train_scaled, baseline_size(n_components, train_scaled), seed=seed)
    rebuilt = pca.decode(pca.encode(test_scaled))
    return np.mean((test_scaled.astype(np.float64) - rebuilt) ** 2, axis=1)


def isolation_forest_scores(train: np.ndarray, test: np.ndarray, seed: int) -> np.ndarray:
    """(n,) IsolationForest's anomaly score per test row (scikit-learn's, negated: higher = more
    anomalous), fitted on the training rows with its defaults."""
    from sklearn.ensemble import IsolationForest

    return -IsolationForest(random_state=seed).fit(train).score_samples(test)


def detection_rows(flags: np.ndarray, scores: dict[str, np.ndarray]) -> dict[str, dict]:
    """``{detector: {"auroc": ..., "average_precision": ...}}`` for scores (n,) against flags."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    return {
        name: {
            "auroc": float(roc_auc_score(flags, values)),
            "average_precision": float(average_precision_score(flags, values)),
        }
        for name, values in scores.items()
    }


def add_detection_rows(
    comparison, model, x_train, x_test, codes_test, flags: np.ndarray, column: str
) -> None:
    """Score ``x_test`` with aekit, PCA and IsolationForest fitted on ``x_train`` (both as the
    model takes them; ``codes_test``: the model's codes of ``x_test``), and put each one's
    AUROC and average precision on ``comparison``."""
    seed = model.train_config.seed
    train_flat, test_flat = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
    errors = model.anomaly_scores(x_test)
    scores = {"aekit": errors}
    if model.net.vector_codes:  # code distances need codes that are points in a space
        reference, _ = fitted_reference(model, x_train, DETECTOR_NEIGHBOURS)
        if uses_local_errors(model.sample_shape):  # the detector's own error term on images
            _, both_errors = codes_and_errors(model, x_test)
        else:
            both_errors = errors
        distances = reference.distances(codes_test)
        scores["aekit_both"] = reference.scores("both", both_errors, distances)
    pca = pca_scores(model.scale(x_train), model.scale(x_test), model.code_size, seed)
    scores.update(pca=pca, isolation_forest=isolation_forest_scores(train_flat, test_flat, seed))
    comparison.detection = detection_rows(flags, scores)
    comparison.notes.append(
        f"anomaly detection: column {column!r} marks {int(flags.sum())} of {len(flags)} test "
        "rows as anomalies (chance: AUROC 0.5, average precision "
        f"{flags.mean():.3f}); aekit's and PCA's reconstruction errors in the model's scaled "
        "space; aekit's error and its code's distance to the nearest training codes, each "
        "against the training rows' (the larger on tables, their sum on images with the error "
        f"averaged over {NEIGHBOURHOOD}x{NEIGHBOURHOOD} pixel squares: the default "
        "score of aekit.sklearn.AutoencoderAnomalyDetector); IsolationForest on the "
        "rows as given; all fitted on the training data"
    )
