"""A pandas DataFrame as a Dataset: numeric columns become ``x``, an optional label column ``y``."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from ..errors import DataError, warn
from .columns import Columns
from .dataset import Dataset, out_of_float32_message

# pandas' name for an unnamed first column: the index ``DataFrame.to_csv`` writes by default
SAVED_INDEX = "Unnamed: 0"


def frame_dataset(
    frame: pd.DataFrame, name: str, label: str | None = None, columns: Columns | None = None
) -> Dataset:
    """Split ``frame`` into (n, d) float32 features and optional (n,) labels (``frame_arrays``),
    checked as every Dataset is. Without ``columns`` to match (the data to train on), a first
    column that looks like a saved index warns (``warn_of_saved_index``)."""
    x, y, feature_names = frame_arrays(frame, name, label, columns)
    if columns is None:
        warn_of_saved_index(feature_names, name)
    return Dataset(x=x, y=y, name=name, feature_names=feature_names)


def warn_of_saved_index(feature_names: list[str], name: str) -> None:
    """An AekitWarning when the first feature is pandas' "Unnamed: 0": a row number saved by
    ``to_csv`` is kept as a feature, as asked, but it is rarely meant as one."""
    if feature_names and feature_names[0] == SAVED_INDEX:
        warn(
            f"{name}: the first column, {SAVED_INDEX!r}, looks like a pandas index saved with "
            "the table (to_csv without index=False); it is used as a feature. Save the table "
            "with index=False, or drop the column (pd.read_csv(path, index_col=0) reads it as "
            "the index)"
        )


def no_rows_message(name: str) -> str:
    """What a table without rows is told, whole or in chunks."""
    return f"{name}: the table has no rows, only column names; it needs at least one sample"


def frame_arrays(
    frame: pd.DataFrame, name: str, label: str | None = None, columns: Columns | None = None
) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """(features (n, d) float32, labels (n,) or None, feature names) of ``frame``, the features
    not yet checked for NaN (``dataset.as_samples`` does that). Messages name rows by the
    frame's index, so a chunk of a larger table names them as the table numbers them.

    Column names are compared as strings, so ``label="3"`` finds an integer column 3.

    Args:
        frame: one row per sample; every column except ``label`` must be numeric.
        name: where the table came from, for error messages.
        label: the column holding labels, removed from the features; None for no labels.
        columns: a trained model's columns: the features are taken by name in its order
            (``Columns.positions``), and its label column, if present, is set aside.

    Raises:
        DataError: the table has no rows, ``label`` is not a column, two columns share a
            name, columns do not match ``columns``, a feature column is not numeric, or a
            value lies beyond float32's range.
    """
    check_unique_names(frame.columns, name)
    if len(frame) == 0:  # before the dtypes: pandas types a column without values as text
        raise DataError(no_rows_message(name))
    if label is None and columns is not None and columns.label in map(str, frame.columns):
        label = columns.label
    y = None
    if label is not None:
        frame, y = _set_label_aside(frame, label, name)
    if columns is not None:
        frame = frame.iloc[:, columns.positions([str(c) for c in frame.columns], name)]

    bad = [
        (column, dtype)
        for column, dtype in frame.dtypes.items()
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
    ]
    if bad:
        described = ", ".join(f"{column!r} ({dtype})" for column, dtype in bad)
        raise DataError(
            f"{name}: non-numeric column(s) {described}{_first_text(frame[bad[0][0]])}; aekit "
            "needs numbers in every feature column. Drop or encode them (e.g. pd.get_dummies, "
            "or .astype(float) for True/False)"
            + ("" if label else ", or pass label=<column> if one holds the labels")
        )
    # Nullable pandas columns (Int64, Float64) hold pd.NA; make those NaN so the check names them.
    with np.errstate(over="ignore"):  # a value beyond float32 is named below, not warned of
        x = frame.to_numpy(dtype=np.float32, na_value=np.nan)
    _check_frame_fits_float32(frame, x, name)
    return x, y, [str(c) for c in frame.columns]


def _set_label_aside(frame: pd.DataFrame, label, name: str) -> tuple[pd.DataFrame, np.ndarray]:
    """(the frame without its ``label`` column, that column's values); DataError where the
    column is missing or has missing values."""
    if str(label) not in map(str, frame.columns):
        raise DataError(
            f"{name}: no column {label!r} to use as label; "
            f"the columns are {_column_list(frame.columns)}"
        )
    label = next(column for column in frame.columns if str(column) == str(label))
    missing = frame.index[frame[label].isna()]
    if len(missing):
        raise DataError(
            f"{name}: label column {label!r} has {len(missing)} missing value(s), first in "
            f"row(s) {', '.join(str(row) for row in missing[:5])}; drop those rows first"
        )
    return frame.drop(columns=[label]), frame[label].to_numpy()


def _check_frame_fits_float32(frame: pd.DataFrame, x: np.ndarray, name: str) -> None:
    """DataError naming the first finite value of ``frame`` that became infinite in its
    float32 copy ``x``: a real infinity is left to the NaN and Inf check."""
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(x.sum()):  # one pass; only a non-finite sum needs the exact look
            return
    overflowed = np.isinf(x) & np.isfinite(frame.to_numpy(dtype=np.float64, na_value=np.nan))
    if overflowed.any():
        row, column = np.argwhere(overflowed)[0]
        raise DataError(
            out_of_float32_message(
                name,
                int(overflowed.sum()),
                float(frame.iat[row, column]),
                f"in row {frame.index[row]} of column {str(frame.columns[column])!r}",
            )
        )


def _first_text(column: pd.Series) -> str:
    """Where the first value that is not a number sits in ``column``, as a message says it."""
    numbers = pd.to_numeric(column, errors="coerce")
    strays = column[numbers.isna() & column.notna()]
    if strays.empty:
        return ""
    return (
        f", first non-number in row {strays.index[0]} of {str(column.name)!r}: {strays.iloc[0]!r}"
    )


def check_unique_names(columns, name: str) -> None:
    """Columns are matched by name (as strings), so two columns may not share one."""
    counts = Counter(str(column) for column in columns)
    repeated = sorted(text for text, count in counts.items() if count > 1)
    if repeated:
        raise DataError(
            f"{name}: more than one column is named {', '.join(map(repr, repeated[:5]))}; "
            "give every column its own name"
        )


def _column_list(columns: pd.Index) -> str:
    """Column names as a short, readable list."""
    names = [repr(str(column)) for column in columns]
    if len(names) > 20:
        names = names[:20] + [f"... ({len(columns)} in all)"]
    return ", ".join(names) or "(none)"
