"""Training data too large to hold: when a file is streamed, and the pass that comes first.

``streams`` decides (the ``stream`` option). ``StreamedFile.open`` then prepares a file for
training without ever holding it whole:

1. its rows on disk, as an .npy file: an .npy file is read where it is; a CSV or Parquet file
   (or an .npy file stored column by column) is converted once, a chunk at a time, into a
   float32 .npy in a temporary folder, checked as it goes (columns, labels, numbers, NaN). A
   CSV cannot reach its k-th chunk without parsing all before it, and every epoch visits the
   chunks in a new order, so it is parsed only once;
2. the validation rows: those ``split_validation`` holds out of the same file in memory (the
   same seeded order), at most ``MAX_VALIDATION_BYTES`` of them, the rest trained on;
3. one pass over every row: the NaN and Inf check, and the training rows' scaling statistics
   (``RunningStatistics``);
4. the validation rows, read into memory.

Training then reads blocks of rows in a seeded order (``aekit.data.shuffled_chunks``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from .chunks import feature_width, is_streamable, read_chunks
from .dataset import Dataset, as_samples
from .npy_files import NpyRows, NpyWriter
from .readers import reject_label
from .splitting import split_order, validation_size
from .statistics import RunningStatistics

# stream="auto" streams .npy, CSV and Parquet files larger than this on disk; smaller ones are
# read whole, the exact in-memory path.
STREAM_ABOVE_BYTES = 1 << 30
# Rows read at once in a pass over a file (the checks, statistics, conversion, encoding); the
# statistics work on a float64 copy, so a read costs about four times this at its peak.
READ_BYTES = 16 << 20
# The validation rows held in memory (as float32 samples, and again scaled): 2,675 rows of 784
# values, enough to compare epochs and the PCA start; a larger share of a file is trained on.
# The run's report evaluates on them with float64 copies of several times their size.
MAX_VALIDATION_BYTES = 8 << 20


def streams(source: object, stream: str) -> bool:
    """Whether training data or data to encode is read in chunks: never for arrays, DataFrames
    and built-ins, always for an .npy, CSV or Parquet file with ``stream="on"``, and with
    ``"auto"`` for such a file larger than ``STREAM_ABOVE_BYTES``."""
    if stream == "off":
        return False
    path = Path(source).expanduser() if isinstance(source, str | os.PathLike) else None
    streamable = path is not None and path.is_file() and is_streamable(path)
    if stream == "on" and not streamable:
        what = str(source) if path is not None else f"an object of type {type(source).__name__}"
        raise ConfigError(
            f"stream='on' reads a .npy, .csv or .parquet file in chunks, but {what} is not "
            "one; leave stream at 'auto' to read it whole"
        )
    return streamable and (stream == "on" or path.stat().st_size > STREAM_ABOVE_BYTES)


def rows_per_read(values_per_row: int) -> int:
    """Rows in a block of about ``READ_BYTES`` of float32 values."""
    return max(1, READ_BYTES // (4 * max(values_per_row, 1)))


@dataclass
class StreamedFile:
    """A training file on disk, after its pass.

    Attributes:
        name: the file, as messages and the run's record name it.
        rows: its rows as an .npy file (the file itself, or its float32 copy).
        sample_shape: (d,) or (C, H, W), as a Dataset of the file would have it.
        feature_names: a table's columns (its label column set aside), else None.
        labels: a table's label column, one value per row of the file (kept in memory: a
            value a row, for the probe on the codes), else None.
        held_out: the sorted row numbers held out for validation (int64).
        statistics: the training rows' scaling statistics, over their flat values.
    """

    name: str
    rows: NpyRows
    sample_shape: tuple[int, ...]
    feature_names: list[str] | None
    labels: np.ndarray | None
    held_out: np.ndarray
    statistics: RunningStatistics

    @classmethod
    def open(
        cls, path: Path, *, label: str | None, val_fraction: float, seed: int, workdir: Path
    ) -> StreamedFile:
        """Steps 1 to 3 of the module's docstring; DataError naming the file, the row and the
        column of the first problem, before anything is trained."""
        name = str(path)
        rows = NpyRows.open(path) if path.suffix.lower() == ".npy" else None
        if rows is not None and not rows.fortran:  # read where it is
            reject_label(label, f"{path}, an .npy file")
            feature_names = labels = None
        else:
            rows, feature_names, labels = _converted(path, label, workdir / "rows.npy")
        # the checks a whole file gets: shape, dtype, emptiness
        sample_shape = as_samples(rows.read(0, min(1, len(rows))), name).shape[1:]
        width = int(np.prod(sample_shape))
        most = max(1, MAX_VALIDATION_BYTES // (4 * width))
        n_val = min(validation_size(len(rows), val_fraction), most)
        held_out = np.sort(split_order(len(rows), seed)[:n_val]) if n_val else _NO_ROWS
        statistics = RunningStatistics.empty(width)
        # every chunk is checked (an .npy file's NaN named by row here, a table's converting it)
        for chunk in read_chunks(rows.path, rows=rows_per_read(width)):
            stop = chunk.first_row + len(chunk.x)
            kept = np.delete(chunk.x, _within(held_out, chunk.first_row, stop), axis=0)
            statistics.add(kept.reshape(len(kept), -1))
        return cls(name, rows, tuple(sample_shape), feature_names, labels, held_out, statistics)

    @property
    def is_image(self) -> bool:
        return len(self.sample_shape) == 3

    def __len__(self) -> int:
        """The training rows."""
        return len(self.rows) - len(self.held_out)

    def validation(self) -> Dataset | None:
        """The held-out rows (step 4), or None when none are."""
        if len(self.held_out) == 0:
            return None
        return Dataset(
            x=self.rows.take(self.held_out),
            y=None if self.labels is None else self.labels[self.held_out],
            name=f"{self.name} (validation part)",
            feature_names=self.feature_names,
        )

    def training_rows(self, index: np.ndarray) -> np.ndarray:
        """The training rows at ``index`` (numbered 0 to len(self) - 1 without the held-out
        rows; sorted, no repeats): (k, *sample_shape) float32."""
        return self._samples(self.rows.take(self._file_rows(index)))

    def training_labels(self, index: np.ndarray) -> np.ndarray | None:
        """The labels of the training rows at ``index`` (as ``training_rows``), or None."""
        return None if self.labels is None else self.labels[self._file_rows(index)]

    def _file_rows(self, index: np.ndarray) -> np.ndarray:
        """Training rows ``index`` (sorted) -> their rows in the file."""
        before = self.held_out - np.arange(len(self.held_out))  # training rows before each
        return index + np.searchsorted(before, index, side="right")

    def training_block(self, start: int, stop: int) -> np.ndarray:
        """The training rows among file rows ``start`` to ``stop``: (k, *sample_shape)."""
        block = self.rows.read(start, stop)
        return self._samples(np.delete(block, _within(self.held_out, start, stop), axis=0))

    def training_starts(self, file_rows: np.ndarray) -> np.ndarray:
        """How many training rows lie before each of the sorted ``file_rows``."""
        return file_rows - np.searchsorted(self.held_out, file_rows)

    def _samples(self, raw: np.ndarray) -> np.ndarray:
        """Rows as read from the file -> float32 samples (grey images get their channel)."""
        return np.ascontiguousarray(raw, dtype=np.float32).reshape(len(raw), *self.sample_shape)


_NO_ROWS = np.empty(0, dtype=np.int64)


def _within(sorted_rows: np.ndarray, start: int, stop: int) -> np.ndarray:
    """The rows of ``sorted_rows`` in [start, stop), relative to ``start``."""
    first, last = np.searchsorted(sorted_rows, [start, stop])
    return sorted_rows[first:last] - start


def _converted(path: Path, label: str | None, target: Path):
    """(a table's feature columns, or an .npy file stored column by column, as float32 rows in
    the .npy file ``target`` (step 1); a table's column names; its labels or None); every chunk
    is checked on the way."""
    rows = rows_per_read(feature_width(path, label, None))
    names = None
    labels = []
    with open(target, "wb") as handle:
        writer = None
        for chunk in read_chunks(path, rows=rows, label=label):
            if writer is None:
                writer, names = NpyWriter(handle, chunk.x.shape[1:], np.float32), chunk.names
            writer.write(chunk.x)
            if chunk.y is not None:
                labels.append(chunk.y)
        writer.finish()  # read_chunks raised for a table without rows
    return NpyRows.open(target), names, np.concatenate(labels) if labels else None
