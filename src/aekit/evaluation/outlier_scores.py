"""How ``AutoencoderAnomalyDetector`` scores a sample: higher = more anomalous.

- "reconstruction": the mean squared reconstruction error in the model's scaled space. It
  misses the anomalies a network learned to rebuild as well as the normal rows.
- "neighbours": the mean distance from the sample's code to its k nearest training codes. An
  anomaly the network rebuilds well still tends to land where few training rows do.
- "both": the product of the RMS residual and the neighbour distance. On a log scale it is
  the sum of the two, so neither's units matter for the ranking, and a sample ranks high when
  it is unusual on both counts or very unusual on one. On the ADBench tables it ranked
  anomalies better than either alone, and better than summing the two scores' ranks (see
  ``defaults.DETECTOR_TABLE``).

Each score is a sample's own: it does not depend on the other samples scored with it.

The contamination threshold is set from the training rows' own scores.
"""

from __future__ import annotations

import numpy as np

SCORES = ("both", "reconstruction", "neighbours")


class CodeNeighbours:
    """The training rows' codes, and each code's mean distance to its nearest ones.

    The distance skips the nearest training code and averages the next k. A training row's
    nearest is itself; skipping the nearest for every sample puts training rows and new ones
    on one scale, and a sample's score is the same whether it is scored at fit or later (so a
    contamination of 10% flags 10% of the training rows, as scikit-learn's checks expect).
    """

    def __init__(self, codes: np.ndarray, k: int):
        from sklearn.neighbors import NearestNeighbors  # scikit-learn loads when a detector fits

        self.k = max(1, min(k, len(codes) - 1))
        self.index = NearestNeighbors(n_neighbors=self.k + 1).fit(codes)

    def distances(self, codes: np.ndarray) -> np.ndarray:
        """(n,) float64: for each of codes (n, code), the mean distance to the 2nd to
        (k+1)th nearest training codes."""
        found, _ = self.index.kneighbors(codes)
        return found[:, 1:].mean(axis=1).astype(np.float64)


def combine(kind: str, errors: np.ndarray, distances: np.ndarray | None) -> np.ndarray:
    """(n,) float64 anomaly scores of one ``kind`` (``SCORES``) from the reconstruction errors
    (n,) and the neighbour distances (n,) (None for "reconstruction")."""
    if kind == "reconstruction":
        return errors
    if kind == "neighbours":
        return distances
    return np.sqrt(errors) * distances  # RMS residual x distance: the units of neither matter


def outlier_threshold(training: np.ndarray, contamination: float | str, robust_z: float) -> float:
    """The anomaly score above which a sample is an outlier, from the training samples' scores
    (n,): their (1 - ``contamination``) quantile, or for "auto" the median plus ``robust_z``
    robust standard deviations (1.4826 times the median absolute deviation)."""
    if contamination == "auto":
        median = np.median(training)
        spread = 1.4826 * np.median(np.abs(training - median))
        return float(median + robust_z * spread)
    return float(-np.percentile(-training, 100.0 * contamination))
