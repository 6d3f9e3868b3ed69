"""Evaluation: how good a trained autoencoder is, beside PCA.

``pca_baseline`` scores arrays (metrics, the PCA baseline, the probe, the comparison table) and
knows nothing about models; ``model_rows`` adds the denoising and code-sparsity rows to a
``Comparison``; ``model_evaluation`` runs ``aekit.evaluate``'s steps.
"""

from .comparison import Comparison
from .model_rows import EVAL_SEED_OFFSET, add_code_sparsity, add_denoising_rows, denoising_rows
from .pca_baseline import (
    DATA_UNITS,
    NEAR_ZERO_RELATIVE,
    NEAR_ZERO_SIGMOID,
    STANDARDISED_UNITS,
    PCABaseline,
    baseline_size,
    compare_with_pca,
    evaluation_space,
    near_zero_fraction,
    probe_accuracy,
    reconstruction_metrics,
)

__all__ = [
    "DATA_UNITS",
    "EVAL_SEED_OFFSET",
    "NEAR_ZERO_RELATIVE",
    "NEAR_ZERO_SIGMOID",
    "STANDARDISED_UNITS",
    "Comparison",
    "PCABaseline",
    "add_code_sparsity",
    "add_denoising_rows",
    "baseline_size",
    "compare_with_pca",
    "denoising_rows",
    "evaluation_space",
    "near_zero_fraction",
    "probe_accuracy",
    "reconstruction_metrics",
]
