"""Built-in datasets: scikit-learn's digits, and MNIST / Fashion-MNIST from local IDX files.

Nothing is ever downloaded. MNIST-style datasets are looked for, in order, in
``$AEKIT_DATA/<name>/``, the user cache (``$XDG_CACHE_HOME/aekit/<name>`` or
``~/.cache/aekit/<name>``) and ``/usr/share/datasets/<name>/`` (where Debian's
``dataset-fashion-mnist`` package puts Fashion-MNIST).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError
from .dataset import Dataset
from .idx import idx_pixels, read_idx

SPLITS = ("train", "test")
# Where system packages install datasets; a module attribute so tests can point it elsewhere.
SYSTEM_DATA_DIR = Path("/usr/share/datasets")

# IDX file names of each split of an MNIST-style dataset, as (images, labels).
_IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@dataclass(frozen=True)
class _Builtin:
    """What builtin_datasets() reports about one built-in dataset."""

    name: str
    n_train: int
    n_test: int
    sample_shape: tuple[int, ...]
    how_to_get: str


_BUILTINS = {
    "digits": _Builtin("digits", 1437, 360, (1, 8, 8), "bundled with scikit-learn; nothing to do"),
    "fashion-mnist": _Builtin(
        "fashion-mnist",
        60000,
        10000,
        (1, 28, 28),
        "on Debian/Ubuntu: apt-get install dataset-fashion-mnist; or put the four IDX files "
        "(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
        "t10k-labels-idx1-ubyte, optionally .gz) into $AEKIT_DATA/fashion-mnist/",
    ),
    "mnist": _Builtin(
        "mnist",
        60000,
        10000,
        (1, 28, 28),
        "put the four IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, "
        "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, optionally .gz) into $AEKIT_DATA/mnist/",
    ),
}
BUILTIN_NAMES = tuple(_BUILTINS)


def builtin_datasets() -> list[dict]:
    """Describe every built-in dataset and whether it can be loaded here.

    Returns:
        one dict per dataset with keys ``name``, ``available`` (bool), ``location`` (str or
        None), ``how_to_get`` (str), ``n_train``, ``n_test`` and ``sample_shape`` (C, H, W).
    """
    rows = []
    for spec in _BUILTINS.values():
        if spec.name == "digits":
            location = "scikit-learn"
        else:
            folder = _find_idx_folder(spec.name)
            location = None if folder is None else str(folder)
        rows.append(
            {
                "name": spec.name,
                "available": location is not None,
                "location": location,
                "how_to_get": spec.how_to_get,
                "n_train": spec.n_train,
                "n_test": spec.n_test,
                "sample_shape": spec.sample_shape,
            }
        )
    return rows


def split_builtin_name(text: str) -> tuple[str, str | None] | None:
    """``"mnist:test"`` -> ``("mnist", "test")``, ``"digits"`` -> ``("digits", None)``.

    Returns None when the part before ``:`` is not a built-in name.
    """
    name, _, split = text.partition(":")
    name = name.strip().lower()
    if name not in _BUILTINS:
        return None
    return name, (split.strip().lower() or None)


def load_builtin(name: str, split: str) -> Dataset:
    """Load one split of a built-in dataset as (n, 1, H, W) float32 in [0, 1] with int labels.

    Raises:
        DataError: unknown name or split, or (MNIST-style) files not found.
    """
    if name not in _BUILTINS:
        raise DataError(f"unknown built-in dataset {name!r}; the built-ins are {BUILTIN_NAMES}")
    if split not in SPLITS:
        raise DataError(f"{name} has no split {split!r}; the splits are {', '.join(SPLITS)}")
    # Fresh arrays each time, so a caller editing them in place cannot alter the cache.
    if name == "digits":
        x, y = _digits(split)
        x, y = x.copy(), y.copy()
    else:
        folder = _find_idx_folder(name)
        if folder is None:
            raise DataError(_not_found_message(name))
        images, labels = _idx_split(str(folder), split)
        x, y = idx_pixels(images), labels.copy()
    return Dataset(x=x, y=y, name=f"{name}:{split}")


def _search_folders(name: str) -> list[Path]:
    """The folders searched for an MNIST-style dataset, in order."""
    folders = []
    if os.environ.get("AEKIT_DATA"):
        folders.append(Path(os.environ["AEKIT_DATA"]).expanduser() / name)
    cache_root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    folders.append(Path(cache_root).expanduser() / "aekit" / name)
    folders.append(SYSTEM_DATA_DIR / name)
    return folders


def _find_idx_folder(name: str) -> Path | None:
    """The first search folder that holds all four IDX files (plain or .gz), or None."""
    for folder in _search_folders(name):
        files = [f for pair in _IDX_FILES.values() for f in pair]
        if all(_idx_file(folder, f) is not None for f in files):
            return folder
    return None


def _idx_file(folder: Path, stem: str) -> Path | None:
    """``folder/stem`` or ``folder/stem.gz``, whichever exists."""
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _not_found_message(name: str) -> str:
    """Where we looked for ``name`` and how to get it."""
    looked = ", ".join(str(folder) for folder in _search_folders(name))
    return (
        f"built-in dataset {name!r} not found; looked in {looked}. "
        f"To get it: {_BUILTINS[name].how_to_get} (aekit never downloads data)"
    )


@functools.lru_cache(maxsize=8)
def _idx_split(folder: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Parse one split of an MNIST-style folder: (n, H, W) uint8 images and (n,) int64 labels.

    Cached because the CLI may load the same split twice (train, then evaluate); the pixels
    are cached as uint8, a quarter of the float32 size, and scaled on each load.
    """
    images_name, labels_name = _IDX_FILES[split]
    images_path = _idx_file(Path(folder), images_name)
    labels_path = _idx_file(Path(folder), labels_name)
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8 or labels.ndim != 1:
        raise DataError(
            f"{images_path} holds {images.dtype} of shape {images.shape} and {labels_path} "
            f"{labels.dtype} of shape {labels.shape}; expected (n, H, W) uint8 images and "
            "(n,) labels"
        )
    if len(images) != len(labels):
        raise DataError(
            f"{images_path} has {len(images)} images but {labels_path} has {len(labels)} labels"
        )
    return images, labels.astype(np.int64)


@functools.lru_cache(maxsize=2)
def _digits(split: str) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits, scaled from 0..16 to [0, 1], with a fixed stratified split."""
    from sklearn.datasets import load_digits  # imported here: sklearn is slow to import
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None, :, :]  # (1797, 1, 8, 8)
    y = digits.target.astype(np.int64)
    train, test = train_test_split(np.arange(len(y)), test_size=0.2, random_state=0, stratify=y)
    index = train if split == "train" else test
    return x[index], y[index]
