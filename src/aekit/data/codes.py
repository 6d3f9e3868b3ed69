"""Codes given to ``decode``, checked at the door: an array is taken in order, a table (a
DataFrame, or a CSV/Parquet file read by ``load_data``) by its column names z0, z1, ..."""

from __future__ import annotations

import sys

import numpy as np

from ..errors import DataError
from .columns import code_positions
from .dataset import Dataset
from .tables import frame_dataset


def checked_codes(z, code_size: int) -> np.ndarray:
    """``z`` as (n, code_size) finite float32 codes; one code (code_size,) becomes one row.

    Raises:
        DataError: a table without the columns z0 to z{code_size - 1}, another shape, a
            non-numeric dtype, no rows, or a value that is NaN, Inf or beyond float32.
    """
    pandas = sys.modules.get("pandas")  # a DataFrame implies pandas is already imported
    if pandas is not None and isinstance(z, pandas.DataFrame):
        z = frame_dataset(z, "DataFrame of codes")
    if isinstance(z, Dataset):
        names = z.feature_names
        codes = z.x if names is None else z.x[:, code_positions(names, code_size, z.name)]
    else:
        codes = np.asarray(z)
    if codes.ndim == 1 and codes.shape[0] == code_size:
        codes = codes[None]
    if codes.ndim != 2 or codes.shape[1] != code_size:
        raise DataError(f"codes must have shape (n, {code_size}), got {codes.shape}")
    if not np.issubdtype(codes.dtype, np.number) or np.issubdtype(codes.dtype, np.complexfloating):
        raise DataError(f"codes must be numeric, got dtype {codes.dtype}")
    if len(codes) == 0:
        raise DataError("no codes to decode: the array has 0 rows")
    with np.errstate(over="ignore"):
        codes = codes.astype(np.float32)
    if not np.isfinite(codes).all():
        raise DataError("codes contain NaN or Inf values, or values beyond float32's range")
    return codes
