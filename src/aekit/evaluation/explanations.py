"""Why a sample scored as it did: each feature's part in its reconstruction error.

A sample's reconstruction error (``Autoencoder.anomaly_scores``) is the mean over its d values
of the squared residual in the scaled space the network sees, ``error = sum_j r_j**2 / d``.
``explain_samples`` splits it exactly: feature j contributes ``r_j**2 / d`` (the contributions
of a row sum to its error), and its share is ``r_j**2 / sum_k r_k**2`` (the shares of a row sum
to 1). The residual is also given in the data's own units (value minus reconstruction), so a
flagged row reads "column 'income' is 40,000 above what the model rebuilt".

On images, the scores that measure against training codes (a ``reference``) take the local
error instead (``detector_terms``): the residual averaged over each pixel's neighbourhood,
squared, over d. Its contributions sum to it the same way, and laid out as the image they are
a heat map of the regions the model could not rebuild, not of single pixels.

The detector's code-distance term (``outlier_scores``) belongs to no single feature: it is
reported beside the reconstruction error, and the score follows from the two terms by
``outlier_scores.ScoreReference.scores`` (for "both", the larger of the two terms' standings
against the training rows' on a table, their sum on images; for "reconstruction", the error).
For images, the contributions shaped as the image are an error heat map.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..trained.autoencoder import Autoencoder
from ..trained.batches import BatchOutputs
from .detector_terms import local_contributions, uses_local_errors
from .outlier_scores import ScoreReference

TOP_COLUMNS = ["row", "rank", "feature", "share", "value", "reconstruction", "residual"]


@dataclass(frozen=True)
class AnomalyExplanation:
    """Each sample's score, its two terms, and each feature's part in the reconstruction term.

    Arrays are float64 with one row per sample, in the order given; d is the number of values
    per sample (a table's columns, an image's pixels).

    - ``scores`` (n,): the anomaly score, higher = more anomalous (``pyod_scores``);
    - ``reconstruction_error`` (n,): the mean squared residual in the scaled space (on images
      scored against training codes, the local error: ``detector_terms``), equal to
      ``contributions.sum(axis=1)``;
    - ``code_distance`` (n,) or None: the mean distance from the sample's code to its nearest
      training codes, for scores that use it;
    - ``contributions`` (n, d): each feature's squared scaled residual (locally averaged
      where the error is local) divided by d;
    - ``values``, ``reconstructions`` (n, d): the sample and its reconstruction, in the data's
      units;
    - ``feature_names`` (d,): the training table's column names (``x0``, ``x1``, ... without);
    - ``sample_shape``: one sample's shape as trained on (``(d,)``, or an image's ``(H, W)`` or
      ``(C, H, W)``), which ``heatmaps`` takes;
    - ``index``: the row labels of a DataFrame that was explained (``to_frame`` keeps them);
    - ``error_standing``, ``distance_standing`` (n,) or None: how far each term stands out
      against the training rows' (``outlier_scores.TrainingScale``: median absolute
      deviations of its log above their median), for scores that use the code distance; "both"
      is the larger of the two on a table and their sum on images; ``leading_term`` names
      the one that stands out more.
    """

    scores: np.ndarray
    reconstruction_error: np.ndarray
    code_distance: np.ndarray | None
    contributions: np.ndarray
    values: np.ndarray
    reconstructions: np.ndarray
    feature_names: list[str]
    sample_shape: tuple[int, ...]
    index: pd.Index | None = None
    error_standing: np.ndarray | None = None
    distance_standing: np.ndarray | None = None

    @property
    def leading_term(self) -> np.ndarray | None:
        """(n,) strings: "reconstruction" where a sample's reconstruction error stands out more
        than its code distance, else "code distance" (None without the two standings)."""
        if self.error_standing is None or self.distance_standing is None:
            return None
        ahead = self.error_standing >= self.distance_standing
        return np.where(ahead, "reconstruction", "code distance")

    @property
    def shares(self) -> np.ndarray:
        """(n, d): each feature's share of its row's reconstruction error; a row sums to 1 (a
        row rebuilt exactly, with no error to share, is all zeros)."""
        total = self.reconstruction_error[:, None]
        return np.divide(
            self.contributions, total, out=np.zeros_like(self.contributions), where=total > 0
        )

    @property
    def residuals(self) -> np.ndarray:
        """(n, d): value minus reconstruction, in the data's units (positive: the value is
        above what the model rebuilt)."""
        return self.values - self.reconstructions

    @property
    def heatmaps(self) -> np.ndarray:
        """(n, *sample_shape): the contributions laid out as the samples, e.g. (n, 28, 28) for
        grey images: where in each image the model could not rebuild it."""
        return self.contributions.reshape(len(self.contributions), *self.sample_shape)

    def to_frame(self, values: str = "share") -> pd.DataFrame:
        """A DataFrame with a row per sample (the explained DataFrame's index, if any) and a
        column per feature, holding ``values``: "share", "contribution" or "residual"."""
        arrays = {
            "share": self.shares,
            "contribution": self.contributions,
            "residual": self.residuals,
        }
        if values not in arrays:
            raise ValueError(f"values must be one of {', '.join(arrays)}; got {values!r}")
        return pd.DataFrame(arrays[values], index=self.index, columns=self.feature_names)

    def top_features(self, k: int = 3) -> pd.DataFrame:
        """The k features with the largest share of each row's reconstruction error, one line
        each (``TOP_COLUMNS``): the row (the index label, or its position), the rank (1 = the
        largest share), the feature, its share, value, reconstruction and residual."""
        if not isinstance(k, int | np.integer) or isinstance(k, bool) or k < 1:
            raise ValueError(f"k must be a whole number >= 1, got {k!r}")
        k = min(int(k), self.contributions.shape[1])
        order = np.argsort(-self.contributions, axis=1, kind="stable")[:, :k]
        rows = np.repeat(np.arange(len(order)), k)
        columns = order.reshape(-1)
        labels = np.asarray(self.index)[rows] if self.index is not None else rows
        return pd.DataFrame(
            {
                "row": labels,
                "rank": np.tile(np.arange(1, k + 1), len(order)),
                "feature": np.asarray(self.feature_names, dtype=object)[columns],
                "share": self.shares[rows, columns],
                "value": self.values[rows, columns],
                "reconstruction": self.reconstructions[rows, columns],
                "residual": self.residuals[rows, columns],
            },
            columns=TOP_COLUMNS,
        )


def explain_samples(
    model: Autoencoder,
    x,
    *,
    kind: str = "reconstruction",
    reference: ScoreReference | None = None,
    feature_names: list[str] | None = None,
    index: pd.Index | None = None,
) -> AnomalyExplanation:
    """The explanation of the ``kind`` score (``outlier_scores.SCORES``) of ``x`` (anything
    the model takes: ``Autoencoder.as_samples``), from one pass through the model.
    ``reference``: the training rows' codes and terms, for the scores that use the code
    distance (None for "reconstruction");
    ``feature_names``: d names (default: the model's training columns, else ``x0``, ...)."""
    samples = model.as_samples(x)
    codes, scaled, rebuilt = scaled_reconstruction(model, samples)
    width = scaled.shape[1]
    residual = scaled.astype(np.float64) - rebuilt
    if reference is not None and uses_local_errors(model.sample_shape):
        contributions = local_contributions(residual, model.sample_shape)
    else:
        contributions = residual**2 / width
    error = contributions.sum(axis=1)
    distance = reference.distances(codes) if reference is not None else None
    names = feature_names or model.data_info.feature_names or [f"x{i}" for i in range(width)]
    flat = samples.reshape(len(samples), -1).astype(np.float64)
    return AnomalyExplanation(
        scores=error if reference is None else reference.scores(kind, error, distance),
        reconstruction_error=error,
        code_distance=distance,
        contributions=contributions,
        values=flat,
        reconstructions=model.unscale(rebuilt).reshape(len(flat), -1).astype(np.float64),
        feature_names=[str(name) for name in names],
        sample_shape=tuple(model.output_shape),
        index=index,
        error_standing=None if reference is None else reference.error_scale.standing(error),
        distance_standing=None
        if reference is None
        else reference.distance_scale.standing(distance),
    )


@torch.inference_mode()
def scaled_reconstruction(model: Autoencoder, samples: np.ndarray):
    """(codes (n, code), samples scaled (n, d), their reconstruction (n, d) in the scaled
    space), float32, from one pass through the encoder, a batch at a time."""
    codes, flat, rebuilt = (BatchOutputs(len(samples)) for _ in range(3))
    for rows, scaled in model.scaled_batches(samples):
        encoded = model.net.encode(scaled).reshape(len(scaled), -1)
        codes.put(rows, codes.checked(rows, encoded))
        flat.put(rows, scaled.cpu().reshape(len(scaled), -1))  # copied: the buffer is reused
        # the network's forward is decode(encode(x)): the same numbers, decoded from the codes
        out = rebuilt.checked(rows, model.net.decode(encoded))
        rebuilt.put(rows, out.reshape(len(out), -1))
    return codes.result(), flat.result(), rebuilt.result()
