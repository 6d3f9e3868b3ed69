"""Input scaling, fitted on training data and saved with the model.

The network sees scaled data; ``decode`` and ``reconstruct`` undo the scaling, so users get
results in their own units. Images are scaled globally (one min/max or mean/std for all pixels)
because per-pixel statistics blow up near-constant border pixels. Tables whose columns share one
unit (``one_unit``: pixels written as a table) are scaled globally for the same reason; other
tables are scaled per feature, with each column's spread floored (see ``SPREAD_FLOOR``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ConfigError

SCALES = ("none", "minmax", "standard")
# A column's spread (std or max - min) is at least this fraction of its training range when
# scaled per feature: a rare value (a column that is 0 in all but a few rows) has a std far
# below its range, and dividing by that std would make each of its held-out values weigh
# hundreds of times more than a typical one. 1/20 touches only columns whose range spans more
# than 20 standard deviations (a binary column with under ~0.25% ones; heavy tails).
SPREAD_FLOOR = 1 / 20
# Tables whose values all lie in [0, 1], or are all whole numbers in [0, 255], are read as one
# unit (pixels, scores on one scale, min-max-normalised tables): see ``one_unit``.
BYTE_MAX = 255


def one_unit(x: np.ndarray) -> bool:
    """True when the table (n, d) reads as one unit for all its columns: every value in [0, 1],
    or every value a whole number in [0, 255] (pixels, counts, scores on one scale).

    Such tables are scaled globally and evaluated in their own units; the others (mixed units)
    per column and in standardised units.
    """
    low, high = float(x.min()), float(x.max())
    if low >= 0.0 and high <= 1.0:
        return True
    return low >= 0.0 and high <= BYTE_MAX and bool(np.all(x == np.round(x)))


@dataclass
class Scaler:
    """An affine map ``scaled = (x - offset) / spread``, fitted once.

    ``offset`` and ``spread`` are (d,) per feature, or (1,) when ``per_feature`` is False.
    """

    kind: str
    per_feature: bool
    offset: np.ndarray
    spread: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray, kind: str, *, per_feature: bool) -> Scaler:
        """Fit on ``x``: (n, d) float32."""
        if kind not in SCALES:
            raise ConfigError(f"scale must be one of {', '.join(SCALES)}, got {kind!r}")
        axis = 0 if per_feature else None
        width = x.shape[1] if per_feature else 1
        if kind == "none":
            offset, spread = np.zeros(width), np.ones(width)
        elif kind == "minmax":
            low, high = x.min(axis=axis), x.max(axis=axis)
            offset, spread = low, high - low
        else:
            offset, spread = x.mean(axis=axis, dtype=np.float64), x.std(axis=axis, dtype=np.float64)
        if per_feature and kind != "none":
            spread = np.maximum(spread, SPREAD_FLOOR * (x.max(axis=0) - x.min(axis=0)))
        # A constant feature would divide by zero; leave its spread at 1 so it maps to 0.
        spread = np.where(np.asarray(spread) > 1e-12, spread, 1.0)
        return cls(
            kind=kind,
            per_feature=per_feature,
            offset=np.asarray(offset, dtype=np.float32).reshape(width),
            spread=np.asarray(spread, dtype=np.float32).reshape(width),
        )

    def transform(self, x: np.ndarray) -> np.ndarray:
        """(n, d) original units -> (n, d) scaled."""
        if self.kind == "none":
            return x
        return ((x - self.offset) / self.spread).astype(np.float32, copy=False)

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        """(n, d) scaled -> (n, d) original units."""
        if self.kind == "none":
            return x
        return (x * self.spread + self.offset).astype(np.float32, copy=False)

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "per_feature": self.per_feature,
            "offset": self.offset.tolist(),
            "spread": self.spread.tolist(),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Scaler:
        return cls(
            kind=d["kind"],
            per_feature=bool(d["per_feature"]),
            offset=np.asarray(d["offset"], dtype=np.float32),
            spread=np.asarray(d["spread"], dtype=np.float32),
        )
