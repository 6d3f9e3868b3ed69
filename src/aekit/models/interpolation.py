"""Making new data with a trained model: codes from a prior or a density, paths between codes.

A VAE samples codes from its prior N(0, I); a plain autoencoder from the Gaussian mixture fitted
on its training codes (``code_density``). Interpolation decodes points on the line between two
codes; for a VAE the line is a great circle (spherical interpolation, Shoemake 1985; White 2016,
"Sampling Generative Networks"): in k dimensions a N(0, I) draw lies near the shell of radius
sqrt(k), and the straight line between two such codes dips through the low-norm middle, where
the prior (and so the decoder's training) has almost no codes.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..data import save_array
from ..errors import ConfigError, DataError
from ..report.drawing import save_image_grid


def linear_path(z_a: np.ndarray, z_b: np.ndarray, steps: int) -> np.ndarray:
    """(steps, k) points from z_a to z_b (k,) on a straight line, endpoints included."""
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return ((1 - t) * z_a + t * z_b).astype(np.float32)


def spherical_path(z_a: np.ndarray, z_b: np.ndarray, steps: int) -> np.ndarray:
    """(steps, k) points from z_a to z_b on the great circle, norms interpolated linearly."""
    norm_a, norm_b = np.linalg.norm(z_a), np.linalg.norm(z_b)
    if min(norm_a, norm_b) < 1e-12:
        return linear_path(z_a, z_b, steps)  # no direction to rotate from
    cos = np.clip(np.dot(z_a / norm_a, z_b / norm_b), -1.0, 1.0)
    omega = np.arccos(cos)
    if np.sin(omega) < 1e-6:
        return linear_path(z_a, z_b, steps)  # (anti)parallel: the great circle is not unique
    t = np.linspace(0.0, 1.0, steps)[:, None]
    # slerp of the unit directions (equal angles per step), scaled by the linearly
    # interpolated norm: slerp of the codes themselves bends the norm when the two differ
    unit_a, unit_b = z_a / norm_a, z_b / norm_b
    direction = (np.sin((1 - t) * omega) * unit_a + np.sin(t * omega) * unit_b) / np.sin(omega)
    path = ((1 - t) * norm_a + t * norm_b) * direction
    path[0], path[-1] = z_a, z_b  # exact endpoints, free of rounding
    return path.astype(np.float32)


def check_steps(steps: int) -> None:
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 2:
        raise ConfigError(f"steps must be an integer >= 2 (both endpoints), got {steps!r}")


def check_count(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 1 <= n <= 2**20:
        raise ConfigError(f"the number of samples must be an integer from 1 to 2**20, got {n!r}")


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
