"""The baselines the benchmarks compare aekit with compute what their pages say they compute.

benchmarks/denoising.py's linear denoiser is the reduced-rank regression from noisy to clean
images; benchmarks/anomaly.py's scikit-learn detectors (the --no-pyod path) score a far-off row
highest and the KNN is PyOD's rule (the distance to the 5th nearest training row).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import anomaly  # noqa: E402
import denoising  # noqa: E402


def gaussian_noise(model, x, noise, seed):
    """Stands in for aekit's corruption: the fit only needs seeded noisy copies of x."""
    return x + np.random.default_rng(seed).normal(0.0, 0.3, x.shape)


def test_the_linear_denoiser_is_the_reduced_rank_regression(monkeypatch):
    monkeypatch.setattr(denoising, "corrupt_samples", gaussian_noise)
    clean = np.random.default_rng(0).random((400, 10))
    denoise = denoising.fit_linear_denoiser(None, clean, [], rank=3, draws=2)
    noisy = np.concatenate([gaussian_noise(None, clean, [], 100 + draw) for draw in range(2)])
    targets = np.tile(clean, (2, 1))
    inputs = noisy - noisy.mean(0)
    full = np.linalg.lstsq(inputs, targets - targets.mean(0), rcond=None)[0]
    top = np.linalg.svd(inputs @ full, full_matrices=False)[2][:3].T  # fitted values' top 3
    expected = inputs @ full @ top @ top.T + targets.mean(0)
    assert np.abs(denoise(noisy) - expected).max() < 1e-5
    assert np.linalg.matrix_rank(denoise(noisy) - targets.mean(0)) == 3


def test_the_scikit_learn_detectors_score_a_far_row_highest():
    rows = np.random.default_rng(0).normal(size=(200, 4))
    score = np.vstack([rows[:20], [[8.0, 8.0, 8.0, 8.0]]])
    found = anomaly.detectors(
        with_pyod=False, only={"knn", "knn_aekit_rule", "lof", "isolation_forest"}
    )
    assert set(found) == {"knn", "knn_aekit_rule", "lof", "isolation_forest"}
    for name, fit_and_score in found.items():
        scores = fit_and_score(rows, score, 0)
        if isinstance(scores, tuple):  # a detector with its own threshold flags rows too
            scores, flags = scores
            assert flags.shape == (21,) and flags[20], name
        assert scores.shape == (21,) and np.argmax(scores) == 20, name
    fit, scored = anomaly.standardised(rows, score)
    distances = np.sort(np.linalg.norm(scored[:, None] - fit[None], axis=2), axis=1)
    assert np.allclose(found["knn"](rows, score, 0), distances[:, 4])  # the 5th nearest
