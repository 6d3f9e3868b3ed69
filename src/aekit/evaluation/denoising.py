"""Corruption for a denoising autoencoder, in the model's scaled space (see ``aekit.nn.noise``).

Training only needs ``make_corruption`` (the loop corrupts each batch on the fly);
``corrupt_samples`` serves ``aekit.evaluate(..., noise=...)`` (``evaluation.model_rows``) and
the run folder's ``denoising.png`` (``runs``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..models import NetConfig
from ..nn.noise import Corruption, corrupt_array, normalise_noise

if TYPE_CHECKING:  # model.py saves runs, and runs.py draws denoising.png with this module
    from ..trained.autoencoder import Autoencoder


def is_bounded(net_config: NetConfig) -> bool:
    """True when the model's scaled data and outputs live in [0, 1]."""
    return net_config.output in ("sigmoid", "clamp")


def make_corruption(noise: list[str] | None, net_config: NetConfig) -> Corruption | None:
    """The training corruption for ``TrainConfig.noise``, or None without noise."""
    if not noise:
        return None
    return Corruption(noise, bounded=is_bounded(net_config))


def corrupt_samples(model: Autoencoder, x, noise, seed: int) -> np.ndarray:
    """Seeded corruption of data ``x`` in the model's scaled space: (n, *sample_shape), in
    original units."""
    specs = normalise_noise(noise)
    scaled = model.scale(x)  # (n, d)
    noisy = corrupt_array(
        scaled.reshape(len(scaled), *model.sample_shape),
        specs,
        bounded=is_bounded(model.net_config),
        seed=seed,
    )
    return model.unscale(noisy.reshape(len(noisy), -1))
