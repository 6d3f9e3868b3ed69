"""What a trained model is given, checked at the door: samples of its training layout, counts of
samples and steps (codes: ``aekit.data.codes``); every problem a clear error naming it."""

from __future__ import annotations

import math

import numpy as np

from ..data import Dataset
from ..errors import ConfigError


def shape_mismatch(data: Dataset, want: tuple[int, ...], grey: tuple[int, ...] | None) -> str:
    """Why samples of ``data`` do not fit a model of sample shape ``want`` (``grey``: its
    (H, W) for grey images, or None), and what to give it instead."""
    got = data.sample_shape
    accepted = f"(n, {_shape_text(want)})"
    if grey is not None:
        accepted += f" or (n, {_shape_text(grey)})"
    message = (
        f"data from {data.name} has samples of shape {got}, but this model was trained on "
        f"samples of shape {want}: give it {accepted}"
    )
    if len(want) == 3 and len(got) == 1 and got[0] == math.prod(want):
        return message + f"; for flat images use x.reshape(-1, {_shape_text(want)})"
    if math.prod(got) == math.prod(want):
        return message + (
            "; aekit does not reshape data laid out differently from the training data, "
            "as that would give wrong results"
        )
    return message + f" ({math.prod(want)} values each)"


def check_steps(steps: int) -> None:
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 2:
        raise ConfigError(f"steps must be an integer >= 2 (both endpoints), got {steps!r}")


def check_count(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 1 <= n <= 2**20:
        raise ConfigError(f"the number of samples must be an integer from 1 to 2**20, got {n!r}")


def _shape_text(shape: tuple[int, ...]) -> str:
    return ", ".join(map(str, shape))
