"""Writing arrays (codes, reconstructions) to .npy, .csv or .parquet, atomically."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from aekit.errors import DataError
from aekit.files import atomic_path

SAVE_SUFFIXES = (".npy", ".csv", ".parquet")


def save_array(path: str | os.PathLike, array: np.ndarray, *, column_prefix: str = "z") -> None:
    """Write ``array`` to ``path``; the format follows the suffix.

    ``.npy`` keeps the array's shape. ``.csv`` and ``.parquet`` write a table with one row per
    sample and columns ``{column_prefix}0, {column_prefix}1, ...``; arrays with more than two
    dimensions are flattened per row, (n, C, H, W) -> (n, C*H*W), and 1-D arrays become one
    column. The file appears only once completely written.

    Args:
        path: destination ending in .npy, .csv or .parquet (case-insensitive).
        array: (n, ...) numeric array.
        column_prefix: prefix of the table column names.

    Raises:
        DataError: unknown suffix (checked before anything is written) or non-numeric array.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SAVE_SUFFIXES:
        raise DataError(
            f"cannot save to {path}: unknown format {suffix or '(no suffix)'!r}; "
            f"supported: {', '.join(SAVE_SUFFIXES)}"
        )
    array = np.asarray(array)
    if array.dtype.kind not in "biuf":
        raise DataError(
            f"cannot save an array of dtype {array.dtype} to {path}; "
            "convert it to numbers first, e.g. array.astype(np.float32)"
        )
    if suffix == ".npy":
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            # A file handle, because np.save appends ".npy" to a path that lacks it.
            np.save(handle, array, allow_pickle=False)
        return
    if array.ndim == 0:
        raise DataError(f"cannot save a single number as a table to {path}; use .npy")

    import pandas as pd  # imported here so .npy output does not pay for pandas

    rows = array.reshape(len(array), -1)  # (n, d): one row per sample
    columns = [f"{column_prefix}{i}" for i in range(rows.shape[1])]
    frame = pd.DataFrame(rows, columns=columns)
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            frame.to_csv(tmp, index=False)
        else:
            frame.to_parquet(tmp, index=False)
