"""Writing what ``aekit generate`` and ``aekit interpolate`` make: a PNG grid for an image
model, else a .npy, .csv or .parquet file."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..data import save_array
from ..errors import DataError
from ..reports.drawing import save_image_grid


def save_generated(
    path: str | os.PathLike,
    images: np.ndarray,
    *,
    sample_shape: tuple[int, ...],
    low,
    high,
    column_names: list[str] | None = None,
) -> None:
    """Write generated data: a PNG grid for image models, else .npy/.csv/.parquet.

    images: (n, *output_shape) in the data's units; ``low``/``high`` the training data's range,
    mapped to black and white in a PNG; ``column_names`` a table model's training features,
    the columns of a table written (else x0, x1, ...).
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        save_array(path, images, column_prefix="x", column_names=column_names)
        return
    if len(sample_shape) != 3 or sample_shape[0] not in (1, 3):
        raise DataError(
            f"cannot write {path}: PNG needs an image model, but this model's samples have "
            f"shape {sample_shape}; write .npy, .csv or .parquet instead"
        )
    shown = np.clip((images - low) / max(high - low, 1e-12), 0, 1)
    shown = shown.reshape(len(shown), *sample_shape)
    columns = min(len(shown), 10)
    rows = [shown[i : i + columns] for i in range(0, len(shown), columns)]
    save_image_grid(path, rows, max_columns=columns)
