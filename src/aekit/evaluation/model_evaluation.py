"""``aekit.evaluate``: a trained model beside PCA on held-out data.

Loads the test data and the model's training data (for PCA), picks the units the metrics are in
(``evaluation_space``), compares (``compare_with_pca``) and adds the rows that need the model:
its family's own figures (a VAE's likelihood bounds), code sparsity, denoising, detection.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from ..errors import ConfigError
from ..models.options import evaluation_options
from ..trained.autoencoder import Autoencoder
from .comparison import Comparison
from .denoising import EVAL_SEED_OFFSET, add_denoising_rows
from .detection import add_detection_rows, outlier_flags
from .pca_baseline import STANDARDISED_UNITS, compare_with_pca, evaluation_space, near_zero_fraction
from .run_data import HeldOut, held_out_part, label_for, training_part
from .sample_quality import add_sample_quality_rows


def evaluate_model(
    model: Autoencoder,
    test_data,
    *,
    train_data,
    label: str | None,
    outlier_label: str | None,
    noise: str | list[str] | None,
    progress: Callable[[str, int, int], None] | None,
    family_options: dict,
    sample_quality: bool = False,
    sampler: str | None = None,
) -> Comparison:
    """``aekit.evaluate`` (see there); ``progress`` is called with (what, done, total) while a
    long figure is computed, ``family_options`` are the family's evaluation options;
    ``sample_quality``: add the sample-quality rows of a model that can sample, drawn with
    ``sampler`` (``sample_quality.add_sample_quality_rows``)."""
    options = evaluation_options(type(model.net), family_options)
    _check_labels(label, outlier_label)
    # the flags are set aside like a label column, in the test data only: labelled outliers
    # are rarely in the training data, which is read with the run's own label
    test_label = outlier_label if outlier_label is not None else label
    held_out = _default_test_data(model, test_label) if test_data is None else None
    if held_out is not None:
        test = held_out.data
    else:
        test = model.load_input(
            test_data, label=label_for(model, test_data, test_label), default_split="test"
        )
    train_part = training_part(model, train_data, label)
    flags = outlier_flags(test.y, test.name) if outlier_label is not None else None
    x_test, x_train = model.as_samples(test), model.as_samples(train_part)
    codes_test = model.encode(x_test)
    # outlier flags are not classes; only the probe on the classes needs training codes,
    # which must be vectors (a family's codebook indices are not features)
    y_train, y_test = (train_part.y, test.y) if flags is None else (None, None)
    if not model.net.vector_codes:
        y_train, y_test = None, None
    comparison = _compared(model, x_train, x_test, codes_test, y_train, y_test, test.name)
    if held_out is not None:
        comparison.notes.append(f"held-out data: {held_out.description}")
    _add_family_scores(comparison, model, x_test, options, progress)
    _add_code_sparsity(comparison, model, codes_test)
    if flags is not None:
        add_detection_rows(comparison, model, x_train, x_test, codes_test, flags, outlier_label)
    if sample_quality and model.can_sample:
        classes = test.y if flags is None else None  # outlier flags are not the run's classes
        train, held_out_samples = (x_train, train_part.y), (x_test, classes)
        add_sample_quality_rows(comparison, model, train, held_out_samples, sampler=sampler)
    if noise:
        seed = model.train_config.seed + EVAL_SEED_OFFSET
        data_range = model.data_info.value_range
        add_denoising_rows(
            comparison, model, x_train, x_test, noise, data_range=data_range, seed=seed
        )
    return comparison


def _check_labels(label: str | None, outlier_label: str | None) -> None:
    if label is not None and outlier_label is not None:
        raise ConfigError(
            "give label (classes, for the probe on the codes) or outlier_label (1 = anomaly, "
            "0 = normal), not both"
        )


def _compared(model, x_train, x_test, codes_test, y_train, y_test, name: str) -> Comparison:
    """The model beside PCA (``compare_with_pca``) in the units ``_in_space`` picks."""
    space, spaces = _in_space(model, x_train, x_test)
    probed = y_train is not None and y_test is not None
    comparison = compare_with_pca(
        **spaces,
        codes_train=model.encode(x_train) if probed else None,
        codes_test=codes_test,
        y_train=y_train,
        y_test=y_test,
        code_size=model.code_size,
        dataset=name,
        seed=model.train_config.seed,
    )
    comparison.space = space
    comparison.notes.append(_space_note(space))
    if not model.net.vector_codes:
        comparison.notes.append(
            f"PCA-{model.code_size}: as many components as the {model.net.display_name}'s code "
            f"has positions, though its codes are {model.net.code_description}, not numbers; "
            "the probe and the code sparsity need vector codes and are left out"
        )
    return comparison


def _in_space(model: Autoencoder, x_train: np.ndarray, x_test: np.ndarray) -> tuple[str, dict]:
    """The units the metrics are in, and ``compare_with_pca``'s arrays in them."""
    info = model.data_info
    recon_test = model.reconstruct(x_test).reshape(len(x_test), -1)
    space, to_space = evaluation_space(
        model.scaler.per_feature, x_train.reshape(len(x_train), -1).astype(np.float32)
    )
    if to_space is None:  # the data's own units; PCA in the model's (globally) scaled space
        return space, dict(
            x_train=model.scale(x_train),
            x_test=model.scale(x_test),
            recon_test=recon_test,
            data_range=info.value_range,
            with_bce=info.data_min >= 0.0 and info.data_max <= 1.0,
            to_original=lambda flat: model.scaler.inverse_transform(flat),
            x_test_original=x_test.reshape(len(x_test), -1),
        )
    # standardised units, PCA fitted in them
    train_std = to_space(x_train.reshape(len(x_train), -1).astype(np.float32))
    return space, dict(
        x_train=train_std,
        x_test=to_space(x_test.reshape(len(x_test), -1).astype(np.float32)),
        recon_test=to_space(recon_test.astype(np.float32)),
        data_range=float(train_std.max() - train_std.min()) or 1.0,
        with_bce=False,
    )


def _add_family_scores(
    comparison: Comparison, model: Autoencoder, x_test: np.ndarray, options, progress
) -> None:
    """The figures the model's family adds (``Family.evaluation_scores``: a VAE's likelihood
    bounds), with its evaluation ``options``."""
    scaled = torch.from_numpy(model.scale(x_test).reshape(len(x_test), *model.sample_shape))
    scores, notes = model.net.evaluation_scores(
        scaled,
        options,
        seed=model.train_config.seed,
        log_det_scale=_log_det_scale(model),
        progress=progress,
    )
    comparison.rows["aekit"].update(scores)
    comparison.notes.extend(notes)


def _add_code_sparsity(comparison: Comparison, model: Autoencoder, codes: np.ndarray) -> None:
    """The fraction of near-zero values of the test codes (see ``near_zero_fraction``)."""
    if not model.net.vector_codes:
        return
    comparison.rows.setdefault("aekit", {})["near_zero_codes"] = near_zero_fraction(
        codes, sigmoid_code=model.net.sigmoid_codes
    )


def _log_det_scale(model: Autoencoder) -> float:
    """Sum over one sample's values of log(spread) of the (affine) scaler: what a density of the
    scaled values loses to the data's units, -log p(x) = -log p(scaled x) + this."""
    spread = np.asarray(model.scaler.spread, dtype=np.float64)
    width = math.prod(model.sample_shape)
    per_value = np.broadcast_to(np.log(spread), (width,)) if len(spread) == 1 else np.log(spread)
    return float(per_value.sum())


def _space_note(space: str) -> str:
    if space == STANDARDISED_UNITS:
        return (
            "MSE, MAE and PSNR in standardised units (each column minus its training mean, "
            "divided by its training std, at least 1/20 of its range): the model scaled each "
            "column apart (a table of mixed units); PCA fitted in the same units"
        )
    return (
        "MSE, MAE and PSNR in the data's own units: the model scaled all values together "
        "(images, or a table of one unit: all values in [0, 1] or whole numbers in [0, 255])"
    )


def _default_test_data(model: Autoencoder, label: str | None) -> HeldOut:
    """The run's own held-out data (``run_data.held_out_part``); ConfigError where it has none."""
    held_out = held_out_part(model, label)
    if held_out is None or not held_out.held_out:
        why = "was trained on in-memory data" if held_out is None else "held no data out"
        raise ConfigError(
            f"this run {why}: name the held-out data to evaluate on (a file, or a built-in "
            "such as digits:test)"
        )
    return held_out
