"""Input scaling, fitted on training data and saved with the model.

The network sees scaled data; ``decode`` and ``reconstruct`` undo the scaling, so users get
results in their own units. Images are scaled globally (one min/max or mean/std for all pixels)
because per-pixel statistics blow up near-constant border pixels. Tables whose columns share one
unit (``one_unit``: pixels written as a table) are scaled globally for the same reason; other
tables are scaled per feature, with each column's spread floored (see ``SPREAD_FLOOR``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import ConfigError, DataError
from .statistics import RunningStatistics

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


def tensor_view(array: np.ndarray) -> torch.Tensor:
    """``array`` as a tensor sharing its memory, to be read only: a read-only array (a
    memory-mapped .npy file) too, without torch's warning that writing to it is undefined."""
    if array.flags.writeable:
        return torch.from_numpy(array)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The given NumPy array is not writable")
        return torch.from_numpy(array)


@dataclass(frozen=True)
class ValueRange:
    """The smallest and largest value of the training data: read once (each pass over a large
    array costs as much as a few training steps), used by every choice that depends on it."""

    low: float
    high: float

    @classmethod
    def of(cls, x: np.ndarray) -> ValueRange:
        # torch's aminmax: one pass, on every core (NumPy's min and max: two, on one)
        low, high = tensor_view(np.ascontiguousarray(x)).aminmax()
        return cls(float(low), float(high))

    @property
    def in_unit_interval(self) -> bool:
        return self.low >= 0.0 and self.high <= 1.0


def one_unit(x: np.ndarray, values: ValueRange | None = None) -> bool:
    """True when the table (n, d) reads as one unit for all its columns: every value in [0, 1],
    or every value a whole number in [0, 255] (pixels, counts, scores on one scale).

    Such tables are scaled globally and evaluated in their own units; the others (mixed units)
    per column and in standardised units. ``values``: ``x``'s range, when already known.
    """
    values = values or ValueRange.of(x)
    return reads_as_one_unit(values, lambda: bool(np.all(x == np.round(x))))


def reads_as_one_unit(values: ValueRange, whole_numbers: Callable[[], bool]) -> bool:
    """``one_unit`` from the data's range and whether all its values are whole numbers (asked
    only when the range leaves it open): for data read in a pass (``RunningStatistics``)."""
    if values.in_unit_interval:
        return True
    return values.low >= 0.0 and values.high <= BYTE_MAX and whole_numbers()


_FLOAT32_MAX = float(np.finfo(np.float32).max)


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
    def fit(
        cls, x: np.ndarray, kind: str, *, per_feature: bool, names: list[str] | None = None
    ) -> Scaler:
        """Fit on ``x``: (n, d) float32. ``names``: column names, for error messages."""
        _check_kind(kind)
        axis = 0 if per_feature else None
        width = x.shape[1] if per_feature else 1
        if kind == "none":
            offset, spread = np.zeros(width), np.ones(width)
        elif kind == "minmax":
            # float64: the spread of float32 data can exceed float32's range
            low = np.asarray(x.min(axis=axis), dtype=np.float64)
            offset, spread = low, np.asarray(x.max(axis=axis), dtype=np.float64) - low
        else:
            offset, spread = x.mean(axis=axis, dtype=np.float64), x.std(axis=axis, dtype=np.float64)
        if per_feature and kind != "none":
            value_range = x.max(axis=0).astype(np.float64) - x.min(axis=0)  # float64: no overflow
            spread = np.maximum(spread, SPREAD_FLOOR * value_range)

        def bounds() -> tuple[np.ndarray, np.ndarray]:
            low = np.asarray(x.min(axis=axis), dtype=np.float64).reshape(-1)
            return low, np.asarray(x.max(axis=axis), dtype=np.float64).reshape(-1)

        count = len(x) if per_feature else x.size
        return cls._finished(kind, per_feature, offset, spread, bounds, count, names)

    @classmethod
    def from_statistics(
        cls,
        statistics: RunningStatistics,
        kind: str,
        *,
        per_feature: bool,
        names: list[str] | None = None,
    ) -> Scaler:
        """What ``fit`` gives on the rows ``statistics`` were gathered from (``aekit.data.
        statistics``: a pass over a file too large to hold), to float64 rounding."""
        _check_kind(kind)
        width = len(statistics.mean) if per_feature else 1
        low, high = statistics.low, statistics.high
        if not per_feature:
            low, high = np.array([low.min()]), np.array([high.max()])
        if kind == "none":
            offset, spread = np.zeros(width), np.ones(width)
        elif kind == "minmax":
            offset, spread = low, high - low
        elif per_feature:
            offset, spread = statistics.mean, statistics.std
        else:
            offset, spread = np.array([statistics.overall_mean]), np.array([statistics.overall_std])
        if per_feature and kind != "none":
            spread = np.maximum(spread, SPREAD_FLOOR * (high - low))
        count = statistics.count * (1 if per_feature else len(statistics.mean))
        return cls._finished(kind, per_feature, offset, spread, lambda: (low, high), count, names)

    @classmethod
    def _finished(cls, kind, per_feature: bool, offset, spread, bounds, count: int, names):
        """The scaler, with a constant feature's spread left at 1 (it maps to 0) and the
        float32 range checked; ``bounds()`` gives the data's (low, high) per offset."""
        width = len(np.atleast_1d(offset))
        spread = np.where(np.asarray(spread) > 1e-12, spread, 1.0)
        if kind != "none":
            _check_float32_range(bounds, np.asarray(offset), spread, count, per_feature, names)
        return cls(
            kind=kind,
            per_feature=per_feature,
            offset=np.asarray(offset, dtype=np.float32).reshape(width),
            spread=np.asarray(spread, dtype=np.float32).reshape(width),
        )

    @property
    def is_identity(self) -> bool:
        """True when scaling changes nothing: kind "none", or min-max of data spanning [0, 1]
        exactly (most images), where skipping the arithmetic saves a pass over the data."""
        return self.kind == "none" or bool(np.all(self.offset == 0) and np.all(self.spread == 1))

    def transform(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """(n, d) original units -> (n, d) scaled; written into ``out`` (n, d) float32 where
        given (a buffer used batch after batch: a fresh one is a fresh page fault per page)."""
        if self.is_identity:
            return np.asarray(x, dtype=np.float32)
        # in torch: the same float32 arithmetic as NumPy's, on every core (NumPy's elementwise
        # ops use one): scaling 60,000 images took 0.37 s, a tenth of a short training run
        values = tensor_view(np.asarray(x, dtype=np.float32))
        target = None if out is None else torch.from_numpy(out)
        scaled = torch.sub(values, torch.from_numpy(self.offset), out=target)
        return scaled.div_(torch.from_numpy(self.spread)).numpy()

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        """(n, d) scaled -> (n, d) original units, float32 (``unscaled``)."""
        values = np.asarray(x, dtype=np.float32)
        return values if self.is_identity else self.unscaled(tensor_view(values)).numpy()

    def unscaled(self, values: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        """(n, d) scaled float32 tensor on the CPU -> (n, d) original units, written into
        ``out`` (n, d) float32 where given (the outputs' own array: no batch-sized temporary).

        ``values * spread + offset`` in one fused pass (``addcmul``; its rounding may differ from
        a multiply then an add in the last bit). ``reconstruct`` ran at 0.55x a bare forward
        (benchmarks/inference.py) while it multiplied into fresh memory, added, then copied
        into its outputs: three passes over each batch, one of them NumPy's on one core.
        """
        if self.is_identity:
            return values if out is None else out.copy_(values)
        offset, spread = torch.from_numpy(self.offset), torch.from_numpy(self.spread)
        return torch.addcmul(offset, values, spread, out=out)

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


def _check_kind(kind: str) -> None:
    if kind not in SCALES:
        raise ConfigError(f"scale must be one of {', '.join(SCALES)}, got {kind!r}")


def _check_float32_range(bounds, offset, spread, count: int, per_feature: bool, names) -> None:
    """DataError naming the first column whose spread, or whose distance of a training value
    from the offset (``transform`` subtracts in float32), is beyond float32's range: such a
    model would save infinities and never load. ``bounds()``: the training data's (low, high)
    per offset; ``count``: the values each offset was fitted on."""
    # No value lies more than sqrt(count) standard deviations (or one min-max spread) from the
    # offset, so only columns whose bound is beyond float32 need the exact pass over the data.
    if not (spread.reshape(-1) * max(1.0, np.sqrt(count)) > _FLOAT32_MAX).any():
        return
    low, high = bounds()
    offset = offset.reshape(-1)
    reach = np.maximum(np.abs(high - offset), np.abs(low - offset))
    bad = np.flatnonzero((spread.reshape(-1) > _FLOAT32_MAX) | (reach > _FLOAT32_MAX))
    if len(bad):
        i = int(bad[0])
        what = (
            "the data" if not per_feature else (f"column {names[i]!r}" if names else f"column {i}")
        )
        raise DataError(
            f"{what} spans [{low[i]:.3g}, {high[i]:.3g}]: its scaling statistics overflow "
            f"float32 (largest {_FLOAT32_MAX:.3g}); rescale it first, e.g. divide it by 1e30"
        )
