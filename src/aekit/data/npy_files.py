""".npy files read and written a block of rows at a time, for data larger than memory.

Rows are read with plain reads into a buffer the size of the block, never through a memory
map: the pages of a mapped file count towards the process's resident memory once touched (a
300 MB file read through ``np.load(mmap_mode="r")`` raised the peak resident size by 300 MB),
and a plain read leaves them to the operating system's file cache.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..errors import DataError


def read_npy_header(path: Path) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """(shape, fortran_order, dtype, where the data begins) of an .npy file; DataError naming
    the file if it is not one, or holds Python objects (which only unpickling could read)."""
    try:
        with open(path, "rb") as handle:
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
            offset = handle.tell()
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"cannot read {path}: not a valid .npy file ({exc})") from exc
    if dtype.hasobject:
        raise DataError(object_array_message(path, dtype))
    return shape, fortran, dtype, offset


def object_array_message(path: Path, dtype: object, key: str | None = None) -> str:
    """Why an object array is refused, and how to re-save it."""
    where = f"array {key!r} of {path}" if key else str(path)
    return (
        f"{where} holds Python objects (dtype {dtype}), which only unpickling could read; "
        "aekit never unpickles files. Re-save it as numbers, e.g. "
        "np.save(path, x.astype(np.float32))"
    )


@dataclass(frozen=True)
class NpyRows:
    """The rows of an .npy file on disk: ``shape[0]`` rows of ``shape[1:]`` values each.

    ``fortran``: the file is stored column by column (``np.save`` of a DataFrame's
    ``to_numpy()`` is): a block of rows is then one read per value of a row, fine for reading
    the file in order, slow for scattered rows.
    """

    path: Path
    shape: tuple[int, ...]
    dtype: np.dtype
    offset: int  # where the data begins
    fortran: bool = False

    @classmethod
    def open(cls, path: Path) -> NpyRows:
        """The file's layout from its header; DataError for a file that does not hold rows, or
        that is shorter than its header says."""
        shape, fortran, dtype, offset = read_npy_header(path)
        if len(shape) == 0:
            raise DataError(f"{path} holds a single number, not rows of samples")
        rows = cls(Path(path), tuple(shape), dtype, offset, fortran and len(shape) > 1)
        size = path.stat().st_size
        if size < offset + len(rows) * rows.row_bytes:
            raise DataError(
                f"cannot read {path}: the file holds {size} bytes, but its header promises "
                f"{len(rows)} rows of {rows.row_bytes} bytes after {offset} bytes of header"
            )
        return rows

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def row_bytes(self) -> int:
        return int(np.prod(self.shape[1:], dtype=np.int64)) * self.dtype.itemsize

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start`` to ``stop`` (excluded): (stop - start, *shape[1:]) of the file's dtype."""
        with open(self.path, "rb") as handle:
            return self._read(handle, start, stop)

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The rows at ``rows`` (sorted, no repeats), read as runs of consecutive rows."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return np.empty((0, *self.shape[1:]), dtype=self.dtype)
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        starts = np.concatenate([[0], breaks])
        stops = np.concatenate([breaks, [len(rows)]])
        with open(self.path, "rb") as handle:
            parts = [
                self._read(handle, int(rows[a]), int(rows[b - 1]) + 1)
                for a, b in zip(starts, stops, strict=True)
            ]
        return np.concatenate(parts)

    def _read(self, handle: BinaryIO, start: int, stop: int) -> np.ndarray:
        if self.fortran:
            return self._read_columns(handle, start, stop)
        out = np.empty((stop - start, *self.shape[1:]), dtype=self.dtype)
        self._read_into(handle, out, self.offset + start * self.row_bytes)
        return out

    def _read_columns(self, handle: BinaryIO, start: int, stop: int) -> np.ndarray:
        """Rows of a file stored column by column: the first axis varies fastest, then the
        second, ..., so each value of a row (in that order) is a run of ``len(self)`` values."""
        n, trailing, size = len(self), self.shape[1:], self.dtype.itemsize
        columns = np.empty((int(np.prod(trailing)), stop - start), dtype=self.dtype)
        for k, column in enumerate(columns):
            self._read_into(handle, column, self.offset + (k * n + start) * size)
        # column k is the value at the trailing index whose first axis varies fastest
        return columns.reshape(*trailing[::-1], stop - start).transpose()

    def _read_into(self, handle: BinaryIO, out: np.ndarray, offset: int) -> None:
        handle.seek(offset)
        if handle.readinto(out.reshape(-1).view(np.uint8)) != out.nbytes:
            raise DataError(f"cannot read {self.path}: the file ends before its last row")


class NpyWriter:
    """Rows appended to a new .npy file whose row count is known only at the end.

    The header is written first for 0 rows and rewritten in place by ``finish``: NumPy pads
    every header so that its first axis can grow to 21 digits without changing its length.
    """

    def __init__(self, handle: BinaryIO, row_shape: tuple[int, ...], dtype: np.dtype):
        self.handle, self.row_shape, self.dtype = handle, tuple(row_shape), np.dtype(dtype)
        self.rows = 0
        self.header_bytes = len(self._header())
        handle.write(self._header())

    def write(self, rows: np.ndarray) -> None:
        """Append ``rows`` (m, *row_shape), converted to the file's dtype."""
        rows = np.ascontiguousarray(rows, dtype=self.dtype)
        if rows.shape[1:] != self.row_shape:
            raise ValueError(f"rows of shape {rows.shape[1:]} for a file of {self.row_shape}")
        self.handle.write(rows.reshape(-1).view(np.uint8))
        self.rows += len(rows)

    def finish(self) -> None:
        """Write the header with the final row count."""
        header = self._header()
        if len(header) != self.header_bytes:  # NumPy's padding makes this impossible
            raise ValueError("the .npy header changed its length")
        self.handle.seek(0)
        self.handle.write(header)
        self.handle.seek(0, io.SEEK_END)

    def _header(self) -> bytes:
        buffer = io.BytesIO()
        header = {
            "descr": np.lib.format.dtype_to_descr(self.dtype),
            "fortran_order": False,
            "shape": (self.rows, *self.row_shape),
        }
        np.lib.format.write_array_header_1_0(buffer, header)
        return buffer.getvalue()
