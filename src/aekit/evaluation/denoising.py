"""Denoising figures of ``aekit.evaluate(..., noise=...)``: the PSNR of the model's output, of
PCA's projection of the noisy input and of the noisy input itself.

Corruption happens in the model's scaled space (``aekit.nn.noise``), as in training, and
results are reported in the data's own units. ``corrupt_samples`` also draws the run folder's
denoising picture (``aekit.reports``).
"""

from __future__ import annotations

import numpy as np

from ..nn.noise import corrupt_array, normalise_noise
from ..trained.autoencoder import Autoencoder
from .comparison import Comparison
from .pca_baseline import PCABaseline, baseline_size, reconstruction_metrics

# Evaluation corrupts the test set with this seed offset from the model's training seed, so
# the noise differs from the (fixed) validation corruption the model was selected on.
EVAL_SEED_OFFSET = 1


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
    # what denoise computes; without its warning, as a model trained without noise is compared
    # here on purpose
    denoised = model.reconstruct(noisy)
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


def denoising_rows(
    target: np.ndarray,
    noisy: np.ndarray,
    denoised: np.ndarray,
    pca_denoised: np.ndarray,
    *,
    data_range: float,
) -> dict[str, dict[str, float]]:
    """PSNR of a denoiser's output, of PCA's projection of the noisy input, and of the noisy
    input itself, all against the clean ``target``; arrays (m, d) in original units.

    Returns ``{"aekit": {"denoise_psnr"}, "pca": {"denoise_psnr"}, "noisy": {"psnr"}}``, rows
    to merge into ``Comparison.rows``.
    """

    def psnr(x: np.ndarray) -> float:
        return reconstruction_metrics(target, x, data_range=data_range, with_bce=False)["psnr"]

    return {
        "aekit": {"denoise_psnr": psnr(denoised)},
        "pca": {"denoise_psnr": psnr(pca_denoised)},
        "noisy": {"psnr": psnr(noisy)},
    }


def corrupt_samples(model: Autoencoder, x, noise, seed: int) -> np.ndarray:
    """Seeded corruption of data ``x`` in the model's scaled space: (n, *sample_shape), in
    original units."""
    specs = normalise_noise(noise)
    scaled = model.scale(x)  # (n, d)
    noisy = corrupt_array(
        scaled.reshape(len(scaled), *model.sample_shape),
        specs,
        bounded=model.net_config.bounded_output,
        seed=seed,
    )
    return model.unscale(noisy.reshape(len(noisy), -1))
