"""What to build for a dataset: scaling, backbone, layer sizes, output range and defaults.

Everything ``aekit.train`` decides that the user left open is decided here, from the options
and the training data, so the choices can be read (and changed) in one place.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .config import (
    BACKBONE_DEFAULTS,
    CONV_PRESET_CHANNELS,
    DEFAULT_EPOCHS,
    MAX_DEFAULT_EPOCHS,
    MIN_DEFAULT_STEPS,
    TrainConfig,
)
from .data import Dataset
from .errors import ConfigError
from .models import NetConfig
from .penalties import parse_sparsity
from .precision import resolve_precision
from .training import resolve_device


def with_loss(settings: TrainConfig, flat: np.ndarray) -> TrainConfig:
    """Fill loss left unset: a VAE on training data in [0, 1] gets a Bernoulli decoder ("bce"),
    unless standard scaling moves the data out of [0, 1]; everything else gets "mse". A VAE's
    Gaussian decoder on pixels models them as continuous values, which blurs its samples; the
    plain autoencoder's squared error has no such cost and stays its default."""
    if settings.loss is not None:
        return settings
    in_unit = float(flat.min()) >= 0.0 and float(flat.max()) <= 1.0
    bernoulli = settings.model == "vae" and in_unit and settings.scale != "standard"
    return dataclasses.replace(settings, loss="bce" if bernoulli else "mse")


def choose_scale(settings: TrainConfig, data: Dataset, flat: np.ndarray) -> str:
    low, high = float(flat.min()), float(flat.max())
    in_unit = low >= 0.0 and high <= 1.0
    if settings.loss == "bce":
        scale = settings.scale or "minmax"
        if scale == "standard" or (scale == "none" and not in_unit):
            raise ConfigError(
                f"the bce loss needs data in [0, 1], but {data.name} spans [{low:g}, {high:g}]"
                f"{' after standard scaling' if scale == 'standard' else ''}; use scale='minmax' "
                "(CLI: --scale minmax) or another loss"
            )
        return scale
    if settings.scale is not None:
        return settings.scale
    return "minmax" if data.is_image else "standard"


def net_config_for(settings: TrainConfig, data: Dataset, scale: str, flat: np.ndarray) -> NetConfig:
    width = flat.shape[1]
    # model "mlp"/"conv" name the plain autoencoder's backbone; "auto" and families use backbone
    backbone = settings.model if settings.model in ("mlp", "conv") else settings.backbone
    if backbone == "auto":
        backbone = "conv" if data.is_image and min(data.sample_shape[1:]) >= 16 else "mlp"
    if backbone == "conv" and not data.is_image:
        raise ConfigError(
            f"the conv model needs images, (n, H, W) or (n, C, H, W); {data.name} holds vectors "
            f"of shape {data.sample_shape}; use model='mlp'"
        )
    if backbone == "conv" and settings.hidden is not None and not settings.hidden:
        raise ConfigError("the conv model needs at least one stage: hidden=[channels, ...]")
    code_size = settings.code_size or min(32, max(2, width // 4))
    if settings.hidden is not None:
        hidden = list(settings.hidden)
    elif backbone == "conv":
        hidden = list(CONV_PRESET_CHANNELS)
    elif width > 256:
        hidden = [512, 128]
    else:
        hidden = [max(2 * code_size, min(128, 2 * width))]
    unit_output = scale == "minmax" or (scale == "none" and flat.min() >= 0 and flat.max() <= 1)
    return NetConfig(
        input_shape=tuple(data.sample_shape),
        code_size=code_size,
        backbone=backbone,
        hidden=hidden,
        activation=settings.activation,
        dropout=settings.dropout,
        norm=settings.norm or ("batch" if backbone == "conv" else "none"),
        loss=settings.loss,
        output=_output_kind(settings, unit_output),
        **parse_sparsity(settings.sparsity),
        contractive=settings.contractive,
    )


def with_defaults(settings: TrainConfig, backbone: str, n_train: int) -> TrainConfig:
    """Fill batch_size, lr, epochs and precision left open: per backbone, data size, hardware."""
    unset = {k: v for k, v in BACKBONE_DEFAULTS[backbone].items() if getattr(settings, k) is None}
    device = resolve_device(settings.device)
    unset["precision"] = resolve_precision(settings.precision, device, backbone)
    settings = dataclasses.replace(settings, **unset)
    if settings.epochs is None:
        steps_per_epoch = math.ceil(n_train / min(settings.batch_size, n_train))
        epochs = max(DEFAULT_EPOCHS, math.ceil(MIN_DEFAULT_STEPS / steps_per_epoch))
        settings = dataclasses.replace(settings, epochs=min(epochs, MAX_DEFAULT_EPOCHS))
    return settings


def _output_kind(settings: TrainConfig, unit_output: bool) -> str:
    if settings.loss == "bce":
        return "sigmoid"  # the loss is on logits
    if not unit_output:
        return "identity"
    return "clamp" if settings.activation == "none" else "sigmoid"
