"""IDX files, the format of MNIST and Fashion-MNIST, parsed with NumPy alone.

Layout: two zero bytes, a dtype code, the number of dimensions, then each dimension as a
big-endian uint32, then the values, big-endian, in C order. Files may be gzip-compressed.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from ..errors import DataError
from .dataset import Dataset

# IDX dtype code -> big-endian NumPy dtype.
_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_IDX_ENDINGS = ("-ubyte", ".idx")


def is_idx_path(path: Path) -> bool:
    """True for ``*-ubyte`` (incl. ``*.idx3-ubyte``) and ``*.idx``, with or without ``.gz``."""
    name = path.name.lower().removesuffix(".gz")
    return name.endswith(_IDX_ENDINGS)


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (plain or ``.gz``) into an array in native byte order.

    Returns:
        array with the file's dimensions, e.g. (n, 28, 28) uint8 images or (n,) uint8 labels.

    Raises:
        DataError: the file cannot be read, is not IDX, or is truncated.
    """
    try:
        raw = path.read_bytes()
        if path.name.lower().endswith(".gz"):
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"cannot read IDX file {path}: {exc}") from exc

    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES or raw[3] == 0:
        raise DataError(
            f"{path} is not an IDX file (bad magic bytes {raw[:4].hex() or 'none'}); "
            "expected 00 00, a dtype code (08, 09, 0b, 0c, 0d or 0e) and the number of dimensions"
        )
    dtype, ndim = _DTYPES[raw[2]], raw[3]
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise DataError(f"IDX file {path} is truncated: its header ends early; download it again")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = header_size + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        problem = "truncated" if len(raw) < expected else "longer than its header says"
        raise DataError(
            f"IDX file {path} is {problem}: {len(raw)} bytes for shape {shape}, "
            f"expected {expected}; download it again"
        )
    values = np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape)
    return values.astype(dtype.newbyteorder("="), copy=False)


def idx_dataset(path: Path) -> Dataset:
    """Load an IDX file as a Dataset; uint8 images are scaled to [0, 1].

    For an images file (name containing ``images``), a sibling labels file (``images`` ->
    ``labels``, ``idx3`` -> ``idx1``, with or without ``.gz``) is loaded as ``y`` if present.
    """
    x = read_idx(path)
    if x.dtype == np.uint8 and x.ndim >= 3:
        x = idx_pixels(x)
    labels_path = sibling_labels_path(path)
    y = None
    if labels_path is not None:
        y = read_idx(labels_path)
        if len(y) != len(x):
            raise DataError(
                f"{path} has {len(x)} images but its labels file {labels_path} has {len(y)} "
                "labels; they must come from the same set"
            )
    return Dataset(x=x, y=y, name=str(path))


def idx_pixels(images: np.ndarray) -> np.ndarray:
    """(n, H, W) uint8 pixels -> (n, 1, H, W) float32 in [0, 1]."""
    x = np.divide(images, np.float32(255), dtype=np.float32)  # one pass, one allocation
    return x.reshape(len(x), 1, *x.shape[1:]) if x.ndim == 3 else x


def sibling_labels_path(path: Path) -> Path | None:
    """The labels file that goes with an IDX images file, or None if there is none."""
    if "images" not in path.name:
        return None
    base = path.name.replace("images", "labels").replace("idx3", "idx1")
    plain = base.removesuffix(".gz")
    for name in (base, plain, plain + ".gz"):
        candidate = path.with_name(name)
        if candidate.is_file():
            return candidate
    return None
