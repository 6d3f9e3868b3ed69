"""The training part as ``aekit.train`` uses it: held in memory (``MemoryPart``, a Dataset) or
streamed from a file too large to hold (``StreamedPart``, see ``aekit.data.streaming``).

Both answer the same questions: the value range, whether the data reads as one unit, the
scaler, the network's input (a tensor, or rows read as the loop goes), the rows the PCA start
is fitted on, a few rows by index (the code density), and the rows the run's report fits PCA's
baseline on. All of them are training rows: the validation rows are never fitted on. Streamed,
the PCA start is fitted on a seeded sample of at most ``PCA_SAMPLE_BYTES`` of training rows (all
of them when they fit), and the report's PCA baseline on the same sample.
"""

from __future__ import annotations

import numpy as np
import torch

from ..data import Dataset
from ..data.scaling import Scaler, ValueRange, one_unit, reads_as_one_unit
from ..data.shuffled_chunks import StreamedRows
from ..data.streaming import StreamedFile

# The training rows the PCA start of a streamed file is fitted on (as float32 samples): 5,350
# rows of 784 values, 200,000 of 20. The fit works on float64 copies of them (about six times
# this at its peak), and needs only the top principal directions.
PCA_SAMPLE_BYTES = 16 << 20


def scaled_tensor(data: Dataset, scaler: Scaler, input_shape: tuple[int, ...]) -> torch.Tensor:
    """(n, *input_shape) float32, scaled."""
    return _scaled(data.x, scaler, input_shape)


def _scaled(x: np.ndarray, scaler: Scaler, input_shape: tuple[int, ...]) -> torch.Tensor:
    scaled = scaler.transform(x.reshape(len(x), -1))
    return torch.from_numpy(np.ascontiguousarray(scaled.reshape(len(x), *input_shape)))


class MemoryPart:
    """Training rows held in memory."""

    def __init__(self, data: Dataset):
        self.data = data
        self.flat = data.x.reshape(len(data), -1)  # (n, d) in the data's units
        self.values = ValueRange.of(self.flat)

    @property
    def name(self) -> str:
        return self.data.name

    def __len__(self) -> int:
        return len(self.data)

    def one_unit(self) -> bool:
        return one_unit(self.flat, self.values)

    def fit_scaler(self, kind: str, *, per_feature: bool, names: list[str] | None) -> Scaler:
        return Scaler.fit(self.flat, kind, per_feature=per_feature, names=names)

    def network_input(self, scaler: Scaler, input_shape, seed: int) -> torch.Tensor:
        return scaled_tensor(self.data, scaler, input_shape)

    def pca_input(self, train_x: torch.Tensor, scaler: Scaler, input_shape, seed: int):
        return train_x  # every training row

    def rows(self, index: np.ndarray) -> np.ndarray:
        """The samples at ``index`` (sorted): (k, *sample_shape)."""
        return self.data.x[index]

    def baseline_rows(self, seed: int) -> Dataset:
        """The training rows the run's report fits PCA's baseline on: all of them."""
        return self.data


class StreamedPart:
    """Training rows of a file, read a block at a time."""

    def __init__(self, file: StreamedFile):
        self.file = file
        statistics = file.statistics
        self.values = ValueRange(float(statistics.low.min()), float(statistics.high.max()))

    @property
    def name(self) -> str:
        return self.file.name

    def __len__(self) -> int:
        return len(self.file)

    def one_unit(self) -> bool:
        return reads_as_one_unit(self.values, lambda: self.file.statistics.whole_numbers)

    def fit_scaler(self, kind: str, *, per_feature: bool, names: list[str] | None) -> Scaler:
        statistics = self.file.statistics
        return Scaler.from_statistics(statistics, kind, per_feature=per_feature, names=names)

    def network_input(self, scaler: Scaler, input_shape, seed: int) -> StreamedRows:
        return StreamedRows(self.file, scaler.transform, input_shape, seed)

    def pca_input(self, train_x, scaler: Scaler, input_shape, seed: int) -> torch.Tensor:
        return _scaled(self.rows(self._pca_rows(seed)), scaler, input_shape)

    def rows(self, index: np.ndarray) -> np.ndarray:
        return self.file.training_rows(index)

    def baseline_rows(self, seed: int) -> Dataset:
        """The training rows the run's report fits PCA's baseline on: the PCA start's sample."""
        rows = self._pca_rows(seed)
        return Dataset(
            x=self.rows(rows),
            y=self.file.training_labels(rows),
            name=f"{self.name} ({len(rows)} of its training rows, a seeded sample)",
            feature_names=self.file.feature_names,
        )

    def _pca_rows(self, seed: int) -> np.ndarray:
        """The training rows the PCA start is fitted on: all, or a seeded sample."""
        n = len(self.file)
        most = max(2, PCA_SAMPLE_BYTES // (4 * int(np.prod(self.file.sample_shape))))
        if n <= most:
            return np.arange(n)
        return np.sort(np.random.default_rng(seed).choice(n, most, replace=False))
