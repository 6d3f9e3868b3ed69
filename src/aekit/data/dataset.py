"""The ``Dataset`` every reader returns, and the checks that make its ``x`` safe to train on.

All validation of samples happens here, once, at the door: whatever the source (a file, an array,
a DataFrame, a built-in), ``x`` ends up float32, C-contiguous, finite, non-empty and either
(n, d) vectors or (n, C, H, W) images, and ``y`` is ``None`` or one label per sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import DataError

# How many bad (row, column) positions a NaN/Inf message lists before "...".
_MAX_POSITIONS = 5


@dataclass
class Dataset:
    """Samples, optional labels, and where they came from.

    Constructing one validates and converts its arrays (see ``as_samples``), so a ``Dataset``
    always holds clean data.

    Attributes
    ----------
    x : numpy.ndarray
        ``(n, d)`` vectors or ``(n, C, H, W)`` images, float32, C-contiguous, finite.
        ``(n, H, W)`` input is taken as grey images and becomes ``(n, 1, H, W)``;
        channels-last ``(n, H, W, C)`` images are refused (see ``_looks_channels_last``).
    y : numpy.ndarray or None
        ``(n,)`` labels (ints or strings), or None.
    name : str
        Where the data came from: a path string or e.g. ``"fashion-mnist:train"``.
    feature_names : list of str or None
        The d column names of tabular data, else None.
    """

    x: np.ndarray
    y: np.ndarray | None
    name: str
    feature_names: list[str] | None = None

    def __post_init__(self) -> None:
        if self.feature_names is not None:
            self.feature_names = [str(column) for column in self.feature_names]
            shape = np.shape(self.x)
            if len(shape) != 2 or len(self.feature_names) != shape[1]:
                raise DataError(
                    f"{self.name}: {len(self.feature_names)} feature names given for samples of "
                    f"shape {shape[1:]}; give one name per column of (n, d) data, or None"
                )
        self.x = as_samples(self.x, self.name, self.feature_names)
        if self.y is not None:
            self.y = as_labels(self.y, len(self.x), self.name)

    @property
    def is_image(self) -> bool:
        """True for (n, C, H, W) images, False for (n, d) vectors."""
        return self.x.ndim == 4

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """The shape of one sample: (d,) or (C, H, W)."""
        return tuple(self.x.shape[1:])

    def __len__(self) -> int:
        return len(self.x)

    def take(self, index: np.ndarray, name: str) -> Dataset:
        """The rows at ``index``, named ``name``; not checked again (these rows were)."""
        # torch's row gather runs on every core (NumPy's fancy indexing on one): 54,000 images
        # took 0.3 s, a tenth of a short training run; skipping the second finite check saves
        # another pass over the data
        rows = torch.from_numpy(self.x).index_select(0, torch.from_numpy(index)).numpy()
        part = object.__new__(Dataset)
        part.x, part.name, part.feature_names = rows, name, self.feature_names
        part.y = self.y[index] if self.y is not None else None
        return part


def as_samples(
    x: object, name: str, feature_names: list[str] | None = None, first_row: int = 0
) -> np.ndarray:
    """Check and convert samples to float32, C-contiguous (n, d) or (n, C, H, W).

    Args:
        x: array-like of shape (n, d), (n, H, W) (grey images) or (n, C, H, W), numeric.
        name: where it came from, for error messages.
        feature_names: column names, used to point at NaN/Inf positions in tables.
        first_row: the row number of ``x[0]`` in messages (a block of a larger file).

    Returns:
        float32 array of shape (n, d) or (n, C, H, W); (n, H, W) becomes (n, 1, H, W).

    Raises:
        DataError: wrong number of dimensions, channels-last images, non-numeric dtype,
            empty, NaN or Inf, or a value beyond float32's range (named apart from Inf).
    """
    x = _as_array(x, name, "samples")
    _check_numeric_dtype(x.dtype, name)
    if x.ndim == 3:
        x = x[:, None, :, :]
    elif x.ndim not in (2, 4):
        raise DataError(_bad_ndim_message(x.shape, name))
    elif x.ndim == 4 and _looks_channels_last(x.shape):
        raise DataError(
            f"{name}: samples have shape {x.shape}, which looks like channels-last images "
            f"(n, H, W, C) with C = {x.shape[3]}; aekit takes channels first, (n, C, H, W): "
            "pass x.transpose(0, 3, 1, 2)"
        )
    if x.size == 0:
        raise DataError(
            f"{name}: the data is empty (shape {x.shape}); "
            "it needs at least one sample and one feature"
        )
    # float32 overflows to inf above ~3.4e38; the check below reports that, so numpy need not.
    with np.errstate(over="ignore"):
        given, x = x, np.ascontiguousarray(x, dtype=np.float32)
    # a NaN or Inf anywhere makes the sum non-finite: one pass without a mask array; only a
    # non-finite sum (a bad value, or finite values that overflow it) needs the exact check
    with np.errstate(over="ignore", invalid="ignore"):
        total = x.sum()
    if not np.isfinite(total) and not np.isfinite(x).all():
        _check_fits_float32(given, x, name, feature_names, first_row)
        raise DataError(_non_finite_message(x, name, feature_names, first_row))
    return x


def out_of_float32_message(name: str, count: int, value, where: str) -> str:
    """What a value too large for float32 is told: apart from a NaN or an infinity."""
    largest = float(np.finfo(np.float32).max)
    return (
        f"{name}: {count} value(s) beyond float32's range (magnitude above {largest:.3g}), "
        f"first {value!r} {where}; aekit computes in float32, where such a value overflows to "
        "infinity: rescale the data (e.g. divide the column by a power of ten) or drop it"
    )


def _check_fits_float32(
    given: np.ndarray, x: np.ndarray, name: str, feature_names: list[str] | None, first_row: int
) -> None:
    """DataError naming the first finite value of ``given`` that its float32 copy ``x`` made
    infinite."""
    if given.dtype.kind != "f" or given.dtype.itemsize <= 4:
        return  # float32 and smaller, and integers (int64 stays below 1e19), always fit
    overflowed = np.isinf(x) & np.isfinite(given)
    if overflowed.any():
        position = np.argwhere(overflowed)[0]
        value = given[tuple(position)].item()
        position[0] += first_row
        where = f"at {_position_text(position, feature_names)}"
        raise DataError(out_of_float32_message(name, int(overflowed.sum()), value, where))


def _looks_channels_last(shape: tuple[int, ...]) -> bool:
    """(n, H, W, C): the last axis holds 1, 3 or 4 values (grey, RGB, RGBA) and axis 1 more
    than 4, which no grey, RGB or RGBA image has as its channel count. When both axes are
    small, e.g. (n, 3, 32, 3), the shape is taken as channels first, as documented."""
    return shape[3] in (1, 3, 4) and shape[1] > 4


def as_labels(y: object, n: int, name: str) -> np.ndarray:
    """Check and convert labels to a (n,) array of ints, floats or strings.

    Whole-number floats (what pandas makes of an int column with a gap) become int64;
    Python objects become strings.

    Raises:
        DataError: not 1-D, wrong length, missing values, or an unusable dtype.
    """
    y = _as_array(y, name, "labels")
    if y.ndim != 1 or len(y) != n:
        raise DataError(
            f"{name}: labels have shape {y.shape} but there are {n} samples; "
            f"give one label per sample, shape ({n},)"
        )
    kind = y.dtype.kind
    if kind == "b":
        return y.astype(np.int64)
    if kind in "iu":
        return y.astype(np.int64, copy=False)
    if kind == "f":
        missing = int(np.isnan(y).sum())
        if missing:
            raise DataError(f"{name}: {missing} label(s) are NaN; drop those samples first")
        if np.all(y == np.round(y)):
            return y.astype(np.int64)
        return y
    if kind in "US":
        return y.astype(str)
    if kind == "O":
        missing = sum(1 for value in y if value is None or _is_nan(value))
        if missing:
            raise DataError(f"{name}: {missing} label(s) are missing; drop those samples first")
        return y.astype(str)
    raise DataError(f"{name}: labels have dtype {y.dtype}; give integers or strings")


def _as_array(values: object, name: str, what: str) -> np.ndarray:
    """np.asarray, with ragged lists and GPU tensors reported as a DataError."""
    try:
        return np.asarray(values)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise DataError(
            f"{name}: cannot turn the {what} into a NumPy array ({exc}); pass a rectangular "
            "array on the CPU, e.g. tensor.cpu().numpy()"
        ) from exc


def _is_nan(value: object) -> bool:
    """True for float NaN (what pandas puts in a gap), False for anything else."""
    return isinstance(value, float) and math.isnan(value)


def _check_numeric_dtype(dtype: np.dtype, name: str) -> None:
    """Raise a DataError, with what to do, unless ``dtype`` is integer or real float."""
    kind = dtype.kind
    if kind in "iuf":
        return
    if kind == "b":
        advice = "convert it with .astype(float) if True/False really are feature values"
    elif kind == "c":
        advice = "split it into real features, e.g. np.concatenate([x.real, x.imag], axis=1)"
    elif kind in "USO":
        advice = (
            "convert the values to numbers first (e.g. pd.get_dummies or a category encoding), "
            "and pass labels separately"
        )
    else:
        advice = "convert it to a plain float or integer array"
    raise DataError(f"{name}: samples have dtype {dtype}, which is not numeric; {advice}")


def _bad_ndim_message(shape: tuple[int, ...], name: str) -> str:
    """Explain which shapes are accepted, with a reshape hint for the common 1-D mistake."""
    accepted = "(n, d) vectors, (n, H, W) grey images or (n, C, H, W) images"
    if len(shape) == 1:
        return (
            f"{name}: samples have shape {shape}, which is 1-D; aekit needs {accepted}. "
            "Use x.reshape(-1, 1) for n samples of one feature, "
            "or x.reshape(1, -1) for a single sample"
        )
    return f"{name}: samples have shape {shape} ({len(shape)}-D); aekit needs {accepted}"


def _non_finite_message(
    x: np.ndarray, name: str, feature_names: list[str] | None, first_row: int
) -> str:
    """Count NaN and Inf values in ``x`` and name the first few positions."""
    n_nan = int(np.isnan(x).sum())
    n_inf = int(np.isinf(x).sum())
    counts = " and ".join(
        text for count, text in ((n_nan, f"{n_nan} NaN"), (n_inf, f"{n_inf} infinite")) if count
    )
    positions = np.argwhere(~np.isfinite(x))
    positions[:, 0] += first_row
    shown = [_position_text(pos, feature_names) for pos in positions[:_MAX_POSITIONS]]
    more = ", ..." if len(positions) > _MAX_POSITIONS else ""
    return (
        f"{name}: the data contains {counts} value(s), first at {', '.join(shown)}{more}; "
        "drop or fill them (e.g. df.dropna() or np.nan_to_num) before using aekit"
    )


def _position_text(position: np.ndarray, feature_names: list[str] | None) -> str:
    """(row 3, column 'age') for tables, (row 3, column 7) for vectors, (3, 0, 5, 1) for images."""
    index = tuple(int(i) for i in position)
    if len(index) == 2:
        column = repr(feature_names[index[1]]) if feature_names else index[1]
        return f"(row {index[0]}, column {column})"
    return str(index)
