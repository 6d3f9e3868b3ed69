"""A pandas DataFrame as a Dataset: numeric columns become ``x``, an optional label column ``y``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from aekit.errors import DataError

from .dataset import Dataset


def frame_dataset(frame: pd.DataFrame, name: str, label: str | None = None) -> Dataset:
    """Split ``frame`` into (n, d) float32 features and optional (n,) labels.

    Args:
        frame: one row per sample; every column except ``label`` must be numeric.
        name: where the table came from, for error messages.
        label: the column holding labels, removed from the features; None for no labels.

    Raises:
        DataError: ``label`` is not a column, or another column is not numeric.
    """
    y = None
    if label is not None:
        if label not in frame.columns:
            raise DataError(
                f"{name}: no column {label!r} to use as label; "
                f"the columns are {_column_list(frame.columns)}"
            )
        missing = frame.index[frame[label].isna()]
        if len(missing):
            raise DataError(
                f"{name}: label column {label!r} has {len(missing)} missing value(s), first in "
                f"row(s) {', '.join(str(row) for row in missing[:5])}; drop those rows first"
            )
        y = frame[label].to_numpy()
        frame = frame.drop(columns=[label])

    bad = [
        (column, dtype)
        for column, dtype in frame.dtypes.items()
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
    ]
    if bad:
        described = ", ".join(f"{column!r} ({dtype})" for column, dtype in bad)
        raise DataError(
            f"{name}: non-numeric column(s) {described}; aekit needs numbers in every feature "
            "column. Drop or encode them (e.g. pd.get_dummies, or .astype(float) for True/False)"
            + ("" if label else ", or pass label=<column> if one holds the labels")
        )
    # Nullable pandas columns (Int64, Float64) hold pd.NA; make those NaN so the check names them.
    x = frame.to_numpy(dtype=np.float32, na_value=np.nan)
    return Dataset(x=x, y=y, name=name, feature_names=[str(c) for c in frame.columns])


def _column_list(columns: pd.Index) -> str:
    """Column names as a short, readable list."""
    names = [repr(str(column)) for column in columns]
    if len(names) > 20:
        names = names[:20] + [f"... ({len(columns)} in all)"]
    return ", ".join(names) or "(none)"
