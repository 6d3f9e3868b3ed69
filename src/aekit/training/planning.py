"""What to build for a dataset: scaling, backbone, layer sizes, output range and defaults.

Everything ``aekit.train`` decides that the user left open is decided here, from the options
and the training data, so the choices can be read (and changed) in one place.
"""

from __future__ import annotations

import dataclasses
import math

from ..data import Dataset
from ..data.scaling import ValueRange
from ..errors import ConfigError, DataError
from ..models import BackboneConfig
from ..models.options import family_of
from ..options.defaults import (
    BACKBONE_ACTIVATIONS,
    BACKBONE_DEFAULTS,
    CONV_PRESET_CHANNELS,
    DEFAULT_EPOCHS,
    MAX_DEFAULT_EPOCHS,
    MIN_DEFAULT_STEPS,
    MIN_SMALL_DATA_BATCH,
    SCHEDULE_DEFAULTS,
    TIME_LIMITED_CONV,
    default_code_size,
)
from ..options.train_config import TrainConfig
from .compiling import resolve_compile
from .precision import resolve_precision
from .steps import resolve_device


def with_loss(settings: TrainConfig, values: ValueRange) -> TrainConfig:
    """Fill loss left unset with the family's default for the training data (``default_loss``:
    "mse", or a VAE's Bernoulli decoder "bce" on data in [0, 1])."""
    if settings.loss is not None:
        return settings
    family = family_of(settings)
    loss = family.default_loss(in_unit_interval=values.in_unit_interval, scale=settings.scale)
    return dataclasses.replace(settings, loss=loss)


def choose_scale(settings: TrainConfig, data: Dataset, values: ValueRange) -> str:
    low, high = values.low, values.high
    in_unit = values.in_unit_interval
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


def scale_per_feature(data: Dataset, one_unit: bool) -> bool:
    """Scale each column apart (mixed units), or all values together (images, and tables of one
    unit: all values in [0, 1] or all whole numbers in [0, 255], see ``scaling.one_unit``;
    ``one_unit`` says whether the training data reads as one).

    Per-column statistics of pixels blow up near-constant pixels (a border pixel that is 0 in
    all but a few training images has a tiny std, and held-out values land hundreds of stds
    away). ``evaluate`` reads the same choice from the scaler: errors in the data's own units
    when scaled together, in standardised units when scaled per column.
    """
    return not data.is_image and not one_unit


def net_config_for(
    settings: TrainConfig, data: Dataset, scale: str, values: ValueRange
) -> BackboneConfig:
    """The backbone for ``data`` (a Dataset or a streamed file: its name and sample shape) whose
    training values span ``values``, scaled by ``scale``."""
    width = math.prod(data.sample_shape)
    backbone = settings.backbone
    if backbone == "auto":
        backbone = "conv" if data.is_image and min(data.sample_shape[1:]) >= 16 else "mlp"
    if backbone == "conv" and not data.is_image:
        raise ConfigError(
            f"the conv model needs images, (n, H, W) or (n, C, H, W); {data.name} holds vectors "
            f"of shape {data.sample_shape}; use backbone='mlp'"
        )
    if backbone == "conv" and settings.dropout > 0:
        raise ConfigError(
            f"dropout={settings.dropout:g} is not used by the conv backbone (chosen for "
            f"{data.name}'s images of shape {data.sample_shape}): only MLP layers have dropout; "
            "leave dropout out, or use backbone='mlp'"
        )
    if backbone == "conv" and settings.hidden is not None and not settings.hidden:
        raise ConfigError("the conv model needs at least one stage: hidden=[channels, ...]")
    code_size = settings.code_size or default_code_size(width)
    if settings.hidden is not None:
        hidden = list(settings.hidden)
    elif backbone == "conv":
        hidden = list(CONV_PRESET_CHANNELS)
    elif width > 256:
        hidden = [512, 128]
    else:
        hidden = [max(2 * code_size, min(128, 2 * width))]
    unit_output = scale == "minmax" or (scale == "none" and values.in_unit_interval)
    output = _output_kind(settings, unit_output)
    return BackboneConfig(
        input_shape=tuple(data.sample_shape),
        code_size=code_size,
        backbone=backbone,
        hidden=hidden,
        activation=settings.activation or BACKBONE_ACTIVATIONS[backbone],
        dropout=settings.dropout,
        norm=settings.norm or ("batch" if backbone == "conv" else "none"),
        loss=settings.loss,
        output=output,
        decoder_head="shuffle" if backbone == "conv" else None,
    )


def with_defaults(settings: TrainConfig, backbone: str, n_train: int) -> TrainConfig:
    """Fill batch_size, lr, schedule, warmup, epochs, precision and compile left open: per
    backbone, time limit, data size, hardware."""
    defaults = dict(BACKBONE_DEFAULTS[backbone], **SCHEDULE_DEFAULTS)
    if backbone == "conv" and settings.time_limit is not None:
        defaults.update(TIME_LIMITED_CONV)
    unset = {k: v for k, v in defaults.items() if getattr(settings, k) is None}
    if backbone == "mlp" and "batch_size" in unset:
        unset["batch_size"] = small_data_batch_size(n_train, unset["batch_size"])
    device = resolve_device(settings.device)
    unset["precision"] = resolve_precision(settings.precision, device, backbone)
    unset["compile"] = resolve_compile(settings.compile, device)
    settings = dataclasses.replace(settings, **unset)
    if settings.epochs is None:
        steps_per_epoch = math.ceil(n_train / min(settings.batch_size, n_train))
        epochs = max(DEFAULT_EPOCHS, math.ceil(MIN_DEFAULT_STEPS / steps_per_epoch))
        settings = dataclasses.replace(settings, epochs=min(epochs, MAX_DEFAULT_EPOCHS))
    return settings


def small_data_batch_size(n_train: int, default: int) -> int:
    return int(min(default, max(MIN_SMALL_DATA_BATCH, n_train // 10)))


def check_trainable(settings: TrainConfig, net_config: BackboneConfig, train_part: Dataset) -> None:
    """Refuse, before any training, what would only fail (or mean nothing) at its end."""
    if len(train_part) < 2:
        # scaling statistics, batch norm and the code density need more than one sample
        raise DataError(
            f"{train_part.name}: {len(train_part)} training sample; an autoencoder needs at "
            "least 2 training samples (more in practice)"
        )
    if net_config.norm == "batch" and settings.batch_size < 2:
        raise ConfigError(
            f"batch_size={settings.batch_size} with batch norm (norm='batch'"
            f"{', the conv default' if net_config.backbone == 'conv' else ''}): batch norm "
            "needs at least 2 samples per batch; use a larger batch_size or norm='layer'/'none'"
        )


def _output_kind(settings: TrainConfig, unit_output: bool) -> str:
    if settings.loss == "bce":
        return "sigmoid"  # the loss is on logits
    if not unit_output:
        return "identity"
    return "clamp" if settings.activation == "none" else "sigmoid"
