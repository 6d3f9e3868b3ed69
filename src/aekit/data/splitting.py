"""Holding out validation data: a seeded random split, the same for the same seed."""

from __future__ import annotations

import logging

import numpy as np

from .dataset import Dataset

log = logging.getLogger(__name__)

MIN_SAMPLES_FOR_VALIDATION = 10


def split_validation(data: Dataset, fraction: float, seed: int) -> tuple[Dataset, Dataset | None]:
    """Hold out a seeded random ``fraction`` of ``data``; the same seed gives the same split."""
    n_val = validation_size(len(data), fraction)
    if n_val == 0:
        return data, None
    order = split_order(len(data), seed)
    return _subset(data, order[n_val:], "train"), _subset(data, order[:n_val], "validation")


def validation_size(n: int, fraction: float) -> int:
    """How many of ``n`` samples to hold out: 0 (with a warning) when too few to split."""
    n_val = int(round(n * fraction))
    if fraction == 0 or n_val < 1 or n < MIN_SAMPLES_FOR_VALIDATION:
        if fraction > 0:
            log.warning("only %d samples: training without a validation split", n)
        return 0
    return n_val


def split_order(n: int, seed: int) -> np.ndarray:
    """The seeded order whose first samples are held out (a file streamed in chunks holds out
    the same rows, ``aekit.data.streaming``)."""
    return np.random.default_rng(seed).permutation(n)


def _subset(data: Dataset, index: np.ndarray, part: str) -> Dataset:
    return data.take(np.sort(index), f"{data.name} ({part} part)")
