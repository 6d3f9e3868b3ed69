"""Evaluation: how good a trained autoencoder is, beside PCA.

``pca_baseline`` scores arrays (metrics, the PCA baseline, the probe) and knows nothing about
models; ``comparison`` is the table it fills; ``model_evaluation`` runs ``aekit.evaluate``'s
steps on a trained model and its run's data (``run_data``), with the denoising and detection
figures of ``denoising`` and ``detection`` and the outlier scores of ``outlier_scores``.

May import: ``aekit.trained``, ``aekit.runs``, ``aekit.models``, ``aekit.options``,
``aekit.nn``, ``aekit.data``, ``aekit.errors``.
"""

from .comparison import Comparison
from .denoising import EVAL_SEED_OFFSET, add_denoising_rows, denoising_rows
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
    "add_denoising_rows",
    "baseline_size",
    "compare_with_pca",
    "denoising_rows",
    "evaluation_space",
    "near_zero_fraction",
    "probe_accuracy",
    "reconstruction_metrics",
]
