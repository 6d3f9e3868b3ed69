"""Denoising with a trained model: corrupting arrays, the PSNR comparison, the triptych PNG.

Training itself only needs ``make_corruption`` (the loop corrupts each batch on the fly);
the rest serves ``aekit.evaluate(..., noise=...)`` and the run folder's ``denoising.png``.
Corruption always happens in the model's scaled space (see ``aekit.noise``), and results are
reported in the data's own units.
"""

from __future__ import annotations

import os

import numpy as np

from .evaluation import (
    Comparison,
    PCABaseline,
    baseline_size,
    denoising_rows,
    near_zero_fraction,
)
from .model import Autoencoder
from .models import NetConfig
from .noise import Corruption, corrupt_array, normalise_noise
from .plots import save_image_grid

# Evaluation corrupts the test set with this seed offset from the model's training seed, so
# the noise differs from the (fixed) validation corruption the model was selected on.
EVAL_SEED_OFFSET = 1


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


def add_denoising_rows(
    comparison: Comparison,
    model: Autoencoder,
    x_train: np.ndarray,
    x_test: np.ndarray,
    noise,
    *,
    data_range: float,
    seed: int,
) -> None:
    """Add PSNRs of the noisy test input, the model's output and PCA's projection of the noisy
    input to ``comparison`` (in place).

    x_train: (n, *sample_shape) clean training data, to fit PCA with the model's code size in
    its scaled space (a linear denoiser: projecting onto the top components drops the noise
    off them). x_test: (m, *sample_shape) clean test data, corrupted here with ``seed``.
    """
    specs = normalise_noise(noise)
    target = x_test.reshape(len(x_test), -1)
    noisy = corrupt_samples(model, x_test, specs, seed)
    denoised = model.denoise(noisy)
    train_scaled = model.scale(x_train)
    pca_size = baseline_size(model.code_size, train_scaled)
    pca = PCABaseline.fit(train_scaled, pca_size, seed=seed)
    noisy_scaled = model.scale(noisy)
    pca_denoised = model.scaler.inverse_transform(pca.decode(pca.encode(noisy_scaled)))
    rows = denoising_rows(
        target,
        noisy.reshape(len(noisy), -1),
        denoised.reshape(len(denoised), -1),
        pca_denoised,
        data_range=data_range,
    )
    for name, metrics in rows.items():
        comparison.rows.setdefault(name, {}).update(metrics)
    comparison.notes.append(
        f"denoise_psnr: test inputs corrupted with {' + '.join(specs)} (seed {seed}); the noisy "
        f"input itself has PSNR {rows['noisy']['psnr']:.2f} dB; PCA projects the noisy input"
    )


def add_code_sparsity(comparison: Comparison, model: Autoencoder, codes_test: np.ndarray) -> None:
    """Add the fraction of near-zero code values of the test codes (see ``near_zero_fraction``)."""
    sigmoid_code = getattr(model.net_config, "sparsity", "none") == "kl"
    comparison.rows.setdefault("aekit", {})["near_zero_codes"] = near_zero_fraction(
        codes_test, sigmoid_code=sigmoid_code
    )


def save_denoising_grid(
    path: str | os.PathLike, model: Autoencoder, x, noise, *, seed: int, columns: int = 10
) -> None:
    """PNG of noisy / denoised / clean images for the first ``columns`` samples of ``x``."""
    clean = model.as_samples(x)[:columns]
    noisy = corrupt_samples(model, clean, noise, seed)
    denoised = model.denoise(noisy).reshape(noisy.shape)
    low, high = model.data_info["data_min"], model.data_info["data_max"]

    def shown(images: np.ndarray) -> np.ndarray:
        return np.clip((images - low) / max(high - low, 1e-12), 0, 1)

    save_image_grid(
        path,
        [shown(noisy), shown(denoised), shown(clean)],
        row_titles=["noisy", "denoised", "clean"],
        max_columns=columns,
    )
