"""How ``AutoencoderAnomalyDetector`` scores a sample: higher = more anomalous.

- "reconstruction": the mean squared reconstruction error in the model's scaled space. It
  misses the anomalies a network learned to rebuild as well as the normal rows.
- "neighbours": the mean distance from the sample's code to its k nearest training codes. An
  anomaly the network rebuilds well still tends to land where few training rows do.
- "both": how far the sample stands out on either count. Each term is put on the training
  rows' scale (its log, less the training rows' median, over their median absolute
  deviation: its "standing"), and the larger of the two standings ranks the samples: a sample
  ranks high when it is unusual on one count, whatever the other says, and neither term's
  units matter. The score gives that standing in the reconstruction error's units: a sample's
  own error where the error stands out more, else the error that would stand out as much as
  its code distance does. So the score is never below the sample's error, and a float32
  rounding of either term moves it by a like relative amount (a standing itself, a difference
  of logs over a spread, would magnify it).

  Chosen on the 21 ADBench tables' splits of seeds 0-2 (``benchmarks/anomaly.py``'s
  protocol, the table detector's defaults, one training per split, mean AUROC): the larger of
  the two standardised terms 0.756; their sum 0.750; the product of the RMS error and the
  distance (aekit's score before) 0.746; the sum of the two terms' ranks 0.743; the distance
  alone 0.737; the error alone 0.724. The product let one table's dense cluster of anomalies
  (32_shuttle: 0.78, against 0.94 for the error alone) pull the score down, as the code
  distance misses anomalies that have many neighbours of their own kind.

For images the two standings are added instead ("sum", ``joining_for``): an image of another
kind is usually both rebuilt worse and coded farther from the training images, and adding the
two counts both pieces of evidence. Chosen on one-class Fashion-MNIST with selection data only
(the conv detector fitted on 5,000 training images of one class, 1,000 held-out training
images of that class against 1,000 training images of each other class; test images never
looked at; mean AUROC over the ten classes, ``benchmarks/anomaly_score_images.py``): the sum
0.932, the larger 0.920 (the sum ahead on eight classes, level on one, 0.001 behind on one),
the distance alone 0.915, the error alone 0.903. The tables' choice is unchanged. The error
term of images has since become the local error (``detector_terms``: the residual averaged
over each pixel's neighbourhood before it is squared), chosen on the same selection data.

Each score is a sample's own: it does not depend on the other samples scored with it.

The contamination threshold is set from the training rows' own scores.
"""

from __future__ import annotations

import numpy as np

SCORES = ("both", "reconstruction", "neighbours")
# How "both" joins the two standings: "larger" (tables) or "sum" (images); see the top
JOININGS = ("larger", "sum")

# A zero error or distance (a row rebuilt exactly, a code on top of its neighbours) has no log;
# it is scored as this, far below any real term
SMALLEST_TERM = 1e-30


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


class TrainingScale:
    """Where one score term lies on the training rows: the median and the median absolute
    deviation of its log. ``standing(values)`` is how many such deviations above the training
    rows' median each value lies, which puts terms of any units on one scale."""

    def __init__(self, training: np.ndarray):
        logs = np.log(np.maximum(training, SMALLEST_TERM))
        self.median = float(np.median(logs))
        spread = float(np.median(np.abs(logs - self.median)))
        self.spread = spread if spread > 0 else 1.0  # a term alike on every row: its log as is

    def standing(self, values: np.ndarray) -> np.ndarray:
        """(n,) float64: the values' logs, less the training median, over its spread."""
        return (np.log(np.maximum(values, SMALLEST_TERM)) - self.median) / self.spread

    def value_at(self, standing: np.ndarray) -> np.ndarray:
        """(n,) float64: the values that have these standings (``standing``'s inverse)."""
        return np.exp(self.median + self.spread * standing)


def joining_for(sample_shape: tuple[int, ...]) -> str:
    """How "both" joins the two standings for samples of this shape: "sum" for images
    (C, H, W), "larger" for rows of a table (see the top of this module)."""
    return "sum" if len(sample_shape) == 3 else "larger"


class ScoreReference:
    """What a sample's score is measured against: the training rows' codes (``neighbours``)
    and where their reconstruction errors and code distances lie (``TrainingScale``), from
    the training rows' codes (n, code) and errors (n,). ``training_distances`` (n,): the
    training rows' own code distances, kept so their scores need no second neighbour search.
    ``joining``: how "both" joins the two standings (``JOININGS``); required, so no caller
    scores images by the tables' rule by leaving it out: ``joining_for(model.sample_shape)``."""

    def __init__(self, codes: np.ndarray, errors: np.ndarray, k: int, *, joining: str):
        if joining not in JOININGS:
            raise ValueError(f"joining must be one of {', '.join(JOININGS)}; got {joining!r}")
        self.joining = joining
        self.neighbours = CodeNeighbours(codes, k)
        self.training_distances = self.neighbours.distances(codes)
        self.error_scale = TrainingScale(errors)
        self.distance_scale = TrainingScale(self.training_distances)

    def distances(self, codes: np.ndarray) -> np.ndarray:
        """(n,) float64: ``CodeNeighbours.distances`` of codes (n, code)."""
        return self.neighbours.distances(codes)

    def scores(self, kind: str, errors: np.ndarray, distances: np.ndarray) -> np.ndarray:
        """(n,) float64 anomaly scores of one ``kind`` (``SCORES``) from the reconstruction
        errors (n,) and the code distances (n,)."""
        if kind == "reconstruction":
            return np.asarray(errors, dtype=np.float64)
        if kind == "neighbours":
            return np.asarray(distances, dtype=np.float64)
        errors = np.asarray(errors, dtype=np.float64)
        distance_standing = self.distance_scale.standing(distances)
        if self.joining == "sum":  # the error that stands out as much as both together
            return self.error_scale.value_at(self.error_scale.standing(errors) + distance_standing)
        as_distance = self.error_scale.value_at(distance_standing)
        return np.maximum(errors, as_distance)  # the error standing out as much as the distance


def outlier_threshold(training: np.ndarray, contamination: float | str, robust_z: float) -> float:
    """The anomaly score above which a sample is an outlier, from the training samples' scores
    (n,): their (1 - ``contamination``) quantile, or for "auto" the median plus ``robust_z``
    robust standard deviations (1.4826 times the median absolute deviation)."""
    if contamination == "auto":
        median = np.median(training)
        spread = 1.4826 * np.median(np.abs(training - median))
        return float(median + robust_z * spread)
    return float(-np.percentile(-training, 100.0 * contamination))
