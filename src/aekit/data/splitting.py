"""Holding out validation data: a seeded random split, the same for the same seed."""

from __future__ import annotations

import logging

import numpy as np

from .dataset import Dataset

log = logging.getLogger(__name__)

MIN_SAMPLES_FOR_VALIDATION = 10


def split_validation(data: Dataset, fraction: float, seed: int) -> tuple[Dataset, Dataset | None]:
    """Hold out a seeded random ``fraction`` of ``data``; the same seed gives the same split."""
    n_val = int(round(len(data) * fraction))
    if fraction == 0 or n_val < 1 or len(data) < MIN_SAMPLES_FOR_VALIDATION:
        if fraction > 0:
            log.warning("only %d samples: training without a validation split", len(data))
        return data, None
    order = np.random.default_rng(seed).permutation(len(data))
    return _subset(data, order[n_val:], "train"), _subset(data, order[:n_val], "validation")


def _subset(data: Dataset, index: np.ndarray, part: str) -> Dataset:
    return data.take(np.sort(index), f"{data.name} ({part} part)")
