"""What one pass over a file's rows learns for scaling, a block of rows at a time.

``RunningStatistics`` adds blocks of rows and keeps, per column, the count, the min, the max,
the mean and the sum of squared deviations from it (merged block by block as Chan, Golub and
LeVeque 1979 do, in float64), and whether every value is a whole number. That is all
``Scaler.from_statistics`` needs for every scaling ``Scaler.fit`` does on an array in memory,
per column or over all values at once: the statistics of all values follow from the columns'
(the law of total variance), and agree with ``Scaler.fit``'s to float64 rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class RunningStatistics:
    """Per-column statistics of the rows added so far (``add``), all float64 (d,)."""

    count: int
    low: np.ndarray
    high: np.ndarray
    mean: np.ndarray
    squares: np.ndarray  # sum of squared deviations from the mean
    whole_numbers: bool  # every value so far is a whole number

    @classmethod
    def empty(cls, width: int) -> RunningStatistics:
        return cls(
            count=0,
            low=np.full(width, np.inf),
            high=np.full(width, -np.inf),
            mean=np.zeros(width),
            squares=np.zeros(width),
            whole_numbers=True,
        )

    @classmethod
    def of(cls, rows: np.ndarray) -> RunningStatistics:
        """The statistics of ``rows``: (m, d), finite."""
        statistics = cls.empty(rows.shape[1])
        statistics.add(rows)
        return statistics

    def add(self, rows: np.ndarray) -> None:
        """Take in ``rows`` (m, d), finite values."""
        if len(rows) == 0:
            return
        mean = rows.mean(axis=0, dtype=np.float64)
        centred = rows - mean  # float64
        squares = np.einsum("ij,ij->j", centred, centred)
        self.merge(
            RunningStatistics(
                count=len(rows),
                low=rows.min(axis=0).astype(np.float64),
                high=rows.max(axis=0).astype(np.float64),
                mean=mean,
                squares=squares,
                # only tables in [0, 255] can read as one unit for being whole numbers
                whole_numbers=self.whole_numbers and bool(np.all(rows == np.round(rows))),
            )
        )

    def merge(self, other: RunningStatistics) -> None:
        """Take in the statistics of other rows with the same columns."""
        if other.count == 0:
            return
        total = self.count + other.count
        delta = other.mean - self.mean
        self.mean = self.mean + delta * (other.count / total)
        self.squares = self.squares + other.squares + delta**2 * (self.count * other.count / total)
        self.low = np.minimum(self.low, other.low)
        self.high = np.maximum(self.high, other.high)
        self.whole_numbers = self.whole_numbers and other.whole_numbers
        self.count = total

    @property
    def std(self) -> np.ndarray:
        """Per-column standard deviation (ddof 0, as NumPy's default)."""
        return np.sqrt(self.squares / max(self.count, 1))

    @property
    def overall_mean(self) -> float:
        """Mean of all values: every column has ``count`` of them."""
        return float(self.mean.mean())

    @property
    def overall_std(self) -> float:
        """Standard deviation of all values: the spread within columns plus that between their
        means (the law of total variance)."""
        between = ((self.mean - self.overall_mean) ** 2).sum() * self.count
        return float(np.sqrt((self.squares.sum() + between) / max(self.count * len(self.mean), 1)))
