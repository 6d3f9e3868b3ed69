"""A file too large to hold, read from start to end in blocks of rows, each checked as a whole
file would be: .npy by row ranges, Parquet by row groups (in record batches), CSV by chunks of
rows (pandas' ``chunksize``). Messages name rows as the whole file numbers them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from .columns import Columns
from .dataset import as_samples
from .npy_files import NpyRows
from .readers import reject_label
from .table_files import table_frames, table_names
from .tables import frame_arrays, no_rows_message, warn_of_saved_index

STREAMABLE_SUFFIXES = (".npy", ".csv", ".parquet", ".pq")


@dataclass(frozen=True)
class Chunk:
    """Rows ``first_row`` to ``first_row + len(x)`` of a file: x (m, d) or (m, C, H, W) float32,
    finite; for a table, y: the label column's values or None, and names: the feature columns."""

    first_row: int
    x: np.ndarray
    y: np.ndarray | None = None
    names: list[str] | None = None


def is_streamable(path: Path) -> bool:
    return path.suffix.lower() in STREAMABLE_SUFFIXES


def feature_width(path: Path, label: str | None, columns: Columns | None) -> int:
    """Values per sample of a streamable file, read from its header or schema alone."""
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return int(np.prod(NpyRows.open(path).shape[1:], dtype=np.int64))
    if columns is not None:
        return len(columns.features)
    names = table_names(path)
    return len(names) - (label is not None and str(label) in map(str, names))


def read_chunks(
    path: Path, *, rows: int, label: str | None = None, columns: Columns | None = None
) -> Iterator[Chunk]:
    """The file's rows in order, ``rows`` at a time (the last chunk may hold fewer), each chunk
    checked like a whole file; ``label`` and ``columns`` as for ``load_data``."""
    if path.suffix.lower() == ".npy":
        reject_label(label, f"{path}, an .npy file")
        yield from _npy_chunks(NpyRows.open(path), rows)
    else:
        yield from _table_chunks(path, rows, label, columns)


def _npy_chunks(file: NpyRows, rows: int) -> Iterator[Chunk]:
    if len(file) == 0:
        as_samples(file.read(0, 0), str(file.path))  # the message an empty file gets in memory
    for start in range(0, len(file), rows):
        stop = min(start + rows, len(file))
        name = _chunk_name(file.path, start, stop)
        yield Chunk(start, as_samples(file.read(start, stop), name, first_row=start))


def _table_chunks(
    path: Path, rows: int, label: str | None, columns: Columns | None
) -> Iterator[Chunk]:
    import pandas as pd  # here: array-only use does not pay for pandas

    start = 0
    for frame in table_frames(path, rows):
        if frame.empty:
            continue
        frame.index = pd.RangeIndex(start, start + len(frame))  # rows as the file numbers them
        name = _chunk_name(path, start, start + len(frame))
        x, y, names = frame_arrays(frame, str(path), label, columns)
        if start == 0 and columns is None:  # once for the file, as when it is read whole
            warn_of_saved_index(names, str(path))
        yield Chunk(start, as_samples(x, name, names, first_row=start), y, names)
        start += len(frame)
    if start == 0:
        raise DataError(no_rows_message(str(path)))


def _chunk_name(path: Path, start: int, stop: int) -> str:
    return f"{path} (rows {start} to {stop - 1})"
