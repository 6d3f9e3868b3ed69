"""Writing arrays (codes, reconstructions) to .npy, .csv or .parquet, atomically."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from ..atomic_files import atomic_path
from ..errors import DataError
from .npy_files import NpyWriter

SAVE_SUFFIXES = (".npy", ".csv", ".parquet")


def save_array(
    path: str | os.PathLike,
    array: np.ndarray,
    *,
    column_prefix: str = "z",
    column_names: Sequence[str] | None = None,
) -> None:
    """Write ``array`` to ``path``; the format follows the suffix.

    ``.npy`` keeps the array's shape. ``.csv`` and ``.parquet`` write a table with one row per
    sample and columns ``column_names``, or where None ``{column_prefix}0, {column_prefix}1,
    ...``; arrays with more than two dimensions are flattened per row, (n, C, H, W) ->
    (n, C*H*W), and 1-D arrays become one column. The file appears only once completely written.

    Args:
        path: destination ending in .npy, .csv or .parquet (case-insensitive).
        array: (n, ...) numeric array.
        column_prefix: prefix of the table column names.
        column_names: the table's column names, one per value of a (flattened) row: a table
            model's training features, so that its outputs read as its inputs did.

    Raises:
        DataError: unknown suffix (checked before anything is written), non-numeric array, or
            ``column_names`` of another length than a row.
    """
    path = Path(path)
    suffix = _checked_suffix(path)
    array = np.asarray(array)
    if array.ndim == 0:
        if suffix != ".npy":
            raise DataError(f"cannot save a single number as a table to {path}; use .npy")
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            # A file handle, because np.save appends ".npy" to a path that lacks it.
            np.save(handle, array, allow_pickle=False)
        return
    write_blocks(path, [array], column_prefix=column_prefix, column_names=column_names)


def write_blocks(
    path: str | os.PathLike,
    blocks: Iterable[np.ndarray],
    *,
    column_prefix: str = "z",
    column_names: Sequence[str] | None = None,
) -> None:
    """Write the rows of ``blocks`` (each (m, ...), all alike but for m) to ``path`` as they
    come, as ``save_array`` writes one array (its columns named alike): an .npy file grows row
    by row, a CSV by chunks, a Parquet file by row groups. The suffix is checked before the
    first block is asked for; the file appears only once every block is written, and an error
    (in a block or in writing) leaves no file behind, nor an earlier one changed."""
    path = Path(path)
    suffix = _checked_suffix(path)
    with atomic_path(path) as tmp:
        if suffix == ".npy":
            writer = _NpyBlocks(tmp)
        else:
            writer = _TableBlocks(tmp, suffix, column_prefix, column_names, path)
        try:
            for block in blocks:
                block = np.asarray(block)
                if block.dtype.kind not in "biuf":
                    raise DataError(
                        f"cannot save an array of dtype {block.dtype} to {path}; "
                        "convert it to numbers first, e.g. array.astype(np.float32)"
                    )
                writer.write(block)
        finally:
            writer.close()


def _checked_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SAVE_SUFFIXES:
        raise DataError(
            f"cannot save to {path}: unknown format {suffix or '(no suffix)'!r}; "
            f"supported: {', '.join(SAVE_SUFFIXES)}"
        )
    return suffix


class _NpyBlocks:
    """Blocks appended to an .npy file (``NpyWriter``), of the first block's dtype."""

    def __init__(self, tmp: Path):
        self.handle = open(tmp, "wb")  # closed by close()
        self.writer: NpyWriter | None = None

    def write(self, block: np.ndarray) -> None:
        if self.writer is None:
            self.writer = NpyWriter(self.handle, block.shape[1:], block.dtype)
        self.writer.write(block)

    def close(self) -> None:
        try:
            if self.writer is not None:
                self.writer.finish()
        finally:
            self.handle.close()


class _TableBlocks:
    """Blocks appended to a CSV file (header first) or a Parquet file (a row group each), one
    row per sample, columns ``column_names`` or ``{column_prefix}0, {column_prefix}1, ...``."""

    def __init__(
        self,
        tmp: Path,
        suffix: str,
        column_prefix: str,
        column_names: Sequence[str] | None,
        path: Path,
    ):
        self.tmp, self.csv, self.path = tmp, suffix == ".csv", path
        self.column_prefix, self.column_names = column_prefix, column_names
        self.handle = self.parquet = None

    def write(self, block: np.ndarray) -> None:
        import pandas as pd  # imported here so .npy output does not pay for pandas

        rows = block.reshape(len(block), -1)  # (n, d): one row per sample
        frame = pd.DataFrame(rows, columns=self._columns(rows.shape[1]))
        if self.csv:
            first = self.handle is None
            if first:
                self.handle = open(self.tmp, "w", newline="")  # closed by close()
            frame.to_csv(self.handle, header=first, index=False)
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self.parquet is None:
            self.parquet = pq.ParquetWriter(self.tmp, table.schema)
        self.parquet.write_table(table)

    def _columns(self, width: int) -> list[str]:
        if self.column_names is None:
            return [f"{self.column_prefix}{i}" for i in range(width)]
        if len(self.column_names) != width:
            raise DataError(
                f"cannot write {self.path}: {len(self.column_names)} column names for rows of "
                f"{width} values"
            )
        return list(self.column_names)

    def close(self) -> None:
        for resource in (self.handle, self.parquet):
            if resource is not None:
                resource.close()
