"""``load_data``: the one entry point that turns any supported source into a Dataset."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..errors import DataError
from .builtin import BUILTIN_NAMES, load_builtin, split_builtin_name
from .columns import Columns
from .dataset import Dataset
from .readers import SUPPORTED_FORMATS, read_path, reject_label
from .tables import frame_dataset


def load_data(
    source: object,
    *,
    label: str | None = None,
    split: str | None = None,
    default_split: str = "train",
    columns: Columns | None = None,
) -> Dataset:
    """Load samples (and labels, where the source has them) from any supported source.

    Parameters
    ----------
    source : str, path, numpy.ndarray, pandas.DataFrame or Dataset
        A Dataset (returned as is); a NumPy array of shape ``(n, d)``, ``(n, H, W)`` or
        ``(n, C, H, W)``; a pandas DataFrame; a path to a .npy, .npz, .csv, .parquet/.pq or
        IDX file or to a folder of PNG/JPEG images; or a built-in name with an optional
        split, e.g. ``"digits"``, ``"fashion-mnist:test"``.
    label : str, optional
        The label column of a CSV/Parquet file or DataFrame, or the label key of an .npz
        file; it is removed from the features and becomes ``y``.
    split : str, optional
        The built-in split to load when ``source`` has no ``:split`` suffix.
    default_split : str
        The built-in split used when neither a suffix nor ``split`` is given. Both are
        ignored for sources that are not built-ins.
    columns : Columns, optional
        A trained model's table columns: tables (CSV, Parquet, DataFrame, or a Dataset with
        feature names) are matched to them by name, with the model's label column set aside;
        sources without column names are taken in order.

    Returns
    -------
    Dataset
        ``x`` float32 ``(n, d)`` or ``(n, C, H, W)`` (pixels from images in [0, 1]), ``y``
        the labels or None, ``name``, and a table's ``feature_names``.

    Raises
    ------
    DataError
        For every problem with the source, naming the file, column or value.
    """
    if isinstance(source, Dataset):
        reject_label(label, "a Dataset")
        return columns.select(source) if columns is not None else source
    if isinstance(source, (str, os.PathLike)):
        return _load_named(source, label, split, default_split, columns)
    pandas = sys.modules.get("pandas")  # a DataFrame implies pandas is already imported
    if pandas is not None and isinstance(source, pandas.DataFrame):
        return frame_dataset(source, "DataFrame", label, columns)
    if hasattr(source, "__array__") or isinstance(source, (list, tuple)):
        reject_label(label, "an array")
        return Dataset(x=source, y=None, name="array")
    raise DataError(
        f"cannot load data from an object of type {type(source).__name__}; pass a NumPy array, "
        f"a pandas DataFrame, a path ({SUPPORTED_FORMATS}) "
        f"or a built-in name ({', '.join(BUILTIN_NAMES)})"
    )


def _load_named(
    source: str | os.PathLike,
    label: str | None,
    split: str | None,
    default_split: str,
    columns: Columns | None,
) -> Dataset:
    """A path if it exists, else a built-in name, else a 'does not exist' error."""
    path = Path(source).expanduser()
    if path.exists():
        return read_path(path, label, columns)
    builtin = split_builtin_name(os.fspath(source)) if isinstance(source, str) else None
    if builtin is None:
        raise DataError(
            f"file {os.fspath(source)!r} does not exist, and it is not a built-in dataset "
            f"(built-ins: {', '.join(BUILTIN_NAMES)}); check the path"
        )
    reject_label(label, "a built-in dataset")
    name, suffix_split = builtin
    return load_builtin(name, suffix_split or split or default_split)
