"""Reading a file or folder into a Dataset, chosen by its suffix.

One reader per format; every failure of the underlying library (a corrupt file, a pickle
where numbers were expected) is turned into a DataError that names the file.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from ..errors import DataError
from .columns import Columns
from .dataset import Dataset
from .idx import idx_dataset, is_idx_path
from .images import image_folder_dataset
from .npy_files import object_array_message, read_npy_header
from .table_files import read_table
from .tables import frame_dataset

SUPPORTED_FORMATS = (
    ".npy, .npz, .csv, .parquet/.pq, IDX (*-ubyte, *.idx, optionally .gz) "
    "or a folder of PNG/JPEG images"
)
# Keys searched, in order, for the samples and the labels of an .npz file.
_NPZ_DATA_KEYS = ("x", "X", "data")
_NPZ_LABEL_KEYS = ("y", "labels", "label")


def read_path(path: Path, label: str | None = None, columns: Columns | None = None) -> Dataset:
    """Read an existing file or folder.

    Args:
        path: a .npy, .npz, .csv, .parquet/.pq or IDX file, or a folder of images.
        label: the label column (CSV, Parquet) or key (npz); None for the default.
        columns: a trained model's columns, to match a table's by name (``load_data``).

    Raises:
        DataError: unknown suffix, unreadable file, ``label`` given for a format without
            columns, or data that fails the Dataset checks.
    """
    suffix = path.suffix.lower()
    if path.is_dir():
        reject_label(label, f"{path}, a folder of images")
        return image_folder_dataset(path)
    if suffix == ".npy":
        reject_label(label, f"{path}, an .npy file")
        return Dataset(x=_read_npy(path), y=None, name=str(path))
    if suffix == ".npz":
        return _read_npz(path, label)
    if suffix in (".csv", ".parquet", ".pq"):
        return _read_table(path, label, columns)
    if is_idx_path(path):
        reject_label(label, f"{path}, an IDX file")
        return idx_dataset(path)
    raise DataError(
        f"cannot read {path}: unknown format {suffix or '(no suffix)'!r}; "
        f"supported: {SUPPORTED_FORMATS}"
    )


def reject_label(label: str | None, what: str) -> None:
    """Reject ``label=`` for sources without named columns or keys; ``what`` names the source."""
    if label is not None:
        raise DataError(
            f"label={label!r} given for {what}; label only applies to CSV, Parquet, DataFrame "
            "and .npz sources (IDX labels come from the sibling labels file, image-folder "
            "labels from subfolder names)"
        )


def _read_npy(path: Path) -> np.ndarray:
    """np.load without unpickling; object arrays get a clear message instead of a pickle error."""
    read_npy_header(path)
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc


def _read_npz(path: Path, label: str | None) -> Dataset:
    """Samples under x/X/data (else the first array), labels under y/labels/label or ``label``."""
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"cannot read {path}: not a valid .npz file ({exc})") from exc
    if isinstance(archive, np.ndarray):  # an .npy file saved under an .npz name
        reject_label(label, f"{path}, a single array")
        return Dataset(x=archive, y=None, name=str(path))

    with archive:
        keys = list(archive.files)
        if label is not None and label not in keys:
            raise DataError(f"{path}: no array {label!r} to use as labels; its arrays are {keys}")
        label_key = label or next((k for k in _NPZ_LABEL_KEYS if k in keys), None)
        data_key = next((k for k in _NPZ_DATA_KEYS if k in keys), None)
        data_key = data_key or next((k for k in keys if k != label_key), None)
        if data_key is None:
            raise DataError(f"{path} holds no data array (arrays: {keys}); save one as x=...")
        x = _npz_array(archive, data_key, path)
        y = None if label_key is None else _npz_array(archive, label_key, path)
    return Dataset(x=x, y=y, name=str(path))


def _npz_array(archive: np.lib.npyio.NpzFile, key: str, path: Path) -> np.ndarray:
    """One array of an open .npz, with pickle and corruption errors named."""
    try:
        return archive[key]
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise DataError(object_array_message(path, "object", key)) from exc
        raise DataError(f"cannot read array {key!r} of {path}: {exc}") from exc
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"cannot read array {key!r} of {path}: {exc}") from exc


def _read_table(path: Path, label: str | None, columns: Columns | None) -> Dataset:
    """CSV (with a header row) or Parquet, through pandas (``table_files``)."""
    return frame_dataset(read_table(path), str(path), label, columns)
