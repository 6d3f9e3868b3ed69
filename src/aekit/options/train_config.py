"""The options every family shares: one dataclass filled alike from Python keywords, CLI flags
and TOML files.

A family's own options (a VAE's ``beta``, a plain autoencoder's ``sparsity``) are declared in its
file under ``aekit.models``; ``aekit.models.options`` puts both together, and ``make_config``
there is what checks a call's options. Each option is declared once, with ``option``
(``aekit.options.declaring``): the CLI flags, TOML checks, the saved-run schema, the
scikit-learn parameters and the docs' option reference are derived from the declarations.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from ..data.scaling import SCALES
from ..nn import ACTIVATIONS, NORMS
from ..nn.losses import LOSSES
from ..nn.noise import normalise_noise
from .declaring import MAX_SIZE, check_value, option, share_option
from .defaults import (
    BACKBONE_ACTIVATIONS,
    BACKBONE_DEFAULTS,
    CODE_SIZE_RULE,
    DEFAULT_EPOCHS,
    DEFAULT_LR_DROPS,
    LR_DROP_FACTOR,
    MIN_DEFAULT_STEPS,
    MIN_SMALL_DATA_BATCH,
    SCHEDULE_DEFAULTS,
    TIME_LIMITED_CONV,
)

BACKBONES = ("auto", "mlp", "conv")
OPTIMIZERS = ("adam", "adamw")
SCHEDULES = ("linear", "cosine", "constant")
DEVICES = ("auto", "cpu", "cuda")
STREAM_CHOICES = ("auto", "on", "off")
# bf16 autocast of the training step (aekit.training.precision)
PRECISIONS = ("auto", "fp32", "bf16")
# torch.compile of the training step (aekit.training.compiling)
COMPILE_CHOICES = ("auto", "on", "off")


@dataclass
class TrainConfig:
    """The shared options of ``aekit.train`` / ``aekit train``; ``None`` means "pick from the
    data". ``family_options`` holds the chosen family's own options (its options dataclass),
    set by ``aekit.models.options.make_config``."""

    model: str = option(
        "ae",
        kind="text",
        parse=str,
        group="model",
        metavar="FAMILY",
        help="the autoencoder family (aekit.models)",
    )
    backbone: str = option(
        "auto",
        choices=BACKBONES,
        group="model",
        help="network of every model (auto: conv for images >= 16x16, else mlp)",
    )
    code_size: int | None = option(
        None,
        kind="int",
        low=1,
        high=MAX_SIZE,
        group="model",
        flag="--code",
        metavar="N",
        auto=CODE_SIZE_RULE,
        help="code (bottleneck) size",
    )
    hidden: list[int] | None = option(
        None,
        kind="sizes",
        group="model",
        metavar="SIZES",
        auto="by data size",
        help="MLP layer sizes, e.g. 512,128 (or conv channels per stage)",
    )
    activation: str | None = option(
        None,
        choices=tuple(ACTIVATIONS),
        group="model",
        auto=f"{BACKBONE_ACTIVATIONS['conv']} for conv, {BACKBONE_ACTIVATIONS['mlp']} for mlp",
        help="none: a linear autoencoder",
    )
    dropout: float = share_option(0.0, group="model", metavar="P", help="dropout of the MLP layers")
    norm: str | None = option(
        None,
        choices=NORMS,
        group="model",
        auto="batch for conv, none for mlp",
        help="normalisation layers",
    )
    loss: str | None = option(
        None,
        choices=LOSSES,
        group="model",
        auto="bce for a VAE on data in [0, 1] (unless scale is standard), else mse",
        help="reconstruction loss",
    )
    scale: str | None = option(
        None,
        choices=SCALES,
        group="model",
        auto="minmax for bce and images, else standard",
        help="input scaling, fitted on the training data",
    )
    epochs: int | None = option(
        None,
        kind="int",
        low=1,
        high=MAX_SIZE,
        group="training",
        metavar="N",
        auto=f"{DEFAULT_EPOCHS}, more on small data (at least {MIN_DEFAULT_STEPS} steps)",
        help="passes over the training data",
    )
    batch_size: int | None = option(
        None,
        kind="int",
        low=1,
        high=MAX_SIZE,
        group="training",
        metavar="N",
        auto=f"{BACKBONE_DEFAULTS['mlp']['batch_size']} for mlp (on small data a tenth of the "
        f"training rows, at least {MIN_SMALL_DATA_BATCH}), "
        f"{BACKBONE_DEFAULTS['conv']['batch_size']} for conv",
        help="samples per optimiser step",
    )
    lr: float | None = option(
        None,
        kind="number",
        low=0.0,
        low_open=True,
        group="training",
        metavar="X",
        auto=f"{BACKBONE_DEFAULTS['mlp']['lr']:g} for mlp, "
        f"{BACKBONE_DEFAULTS['conv']['lr']:g} for conv "
        f"({TIME_LIMITED_CONV['lr']:g} under a time limit)",
        help="learning rate",
    )
    optimizer: str = option("adamw", choices=OPTIMIZERS, group="training", help="optimiser")
    weight_decay: float = option(
        0.0, kind="number", low=0.0, group="training", metavar="X", help="weight decay"
    )
    schedule: str | None = option(
        None,
        choices=SCHEDULES,
        group="training",
        auto=f"{TIME_LIMITED_CONV['schedule']} for conv under a time limit, "
        f"{SCHEDULE_DEFAULTS['schedule']} otherwise",
        help="learning-rate schedule after the warm-up: linear or cosine decay to 0 over the "
        "epochs or the time limit, or constant",
    )
    warmup: float | None = option(
        None,
        kind="number",
        low=0.0,
        high=1.0,
        high_open=True,
        group="training",
        metavar="F",
        auto=f"{TIME_LIMITED_CONV['warmup']:g} for conv under a time limit, "
        f"{SCHEDULE_DEFAULTS['warmup']:g} otherwise",
        help="share of the run over which the learning rate rises linearly from 0 to lr",
    )
    val_fraction: float = share_option(
        0.1, group="training", help="share of the data held out for validation"
    )
    early_stopping: bool = option(
        True, group="training", help="stop once validation stops improving"
    )
    patience: int = option(
        10,
        kind="int",
        low=1,
        high=MAX_SIZE,
        group="training",
        metavar="N",
        help="epochs without a better validation loss before the learning rate drops (see "
        "lr_drops) or, once it has dropped lr_drops times, training stops",
    )
    lr_drops: int = option(
        DEFAULT_LR_DROPS,
        kind="int",
        low=0,
        high=MAX_SIZE,
        group="training",
        metavar="N",
        help=f"with early stopping, times the learning rate drops to {LR_DROP_FACTOR:g}x when "
        "validation has stalled for patience epochs, training going on from the best weights, "
        "before the next stall ends the run; 0: the first stall ends it",
    )
    time_limit: float | None = option(
        None,
        kind="number",
        low=0.0,
        low_open=True,
        group="training",
        metavar="SECONDS",
        auto="none",
        help="stop cleanly after this long, keeping the best model",
    )
    stream: str = option(
        "auto",
        choices=STREAM_CHOICES,
        group="training",
        help="read a .npy/.csv/.parquet file in chunks instead of whole (auto: files over "
        "1 GiB; on: always; off: never)",
    )
    seed: int = option(0, kind="int", low=0, group="training", metavar="N", help="random seed")
    device: str = option("auto", choices=DEVICES, group="training", help="where to train")
    precision: str = option(
        "auto",
        choices=PRECISIONS,
        group="training",
        help="bf16 autocast for the forward pass (weights stay fp32); auto: bf16 for conv "
        "nets where the CPU/GPU has native bf16",
    )
    compile: str = option(
        "auto",
        choices=COMPILE_CHOICES,
        group="training",
        help="torch.compile the training step (auto: on for cuda, off on the CPU, where it "
        "does not pay)",
    )
    checkpoint_every: int | None = option(
        None,
        kind="int",
        low=1,
        high=MAX_SIZE,
        group="training",
        metavar="N",
        auto="none",
        help="also write a checkpoint every N optimiser steps (always: every epoch)",
    )
    clip_grad: float | None = option(
        None,
        kind="number",
        low=0.0,
        low_open=True,
        group="training",
        metavar="NORM",
        auto="none",
        help="clip the gradient's global norm to this",
    )
    skip_nonfinite: int = option(
        0,
        kind="int",
        low=0,
        group="training",
        metavar="N",
        help="skip up to N batches with a NaN/Inf loss or gradient instead of stopping",
    )
    report: bool = option(
        True,
        group="training",
        help="with a run folder: at the end, evaluate against PCA on held-out data and write "
        "evaluation.json, the pictures and report.html into it",
    )
    # denoising: corrupt each training batch, learn the clean one (aekit.nn.noise), e.g.
    # ["gaussian:0.3", "mask:0.25"]; one string is taken as a list of one
    noise: list[str] | None = option(
        None,
        kind="texts",
        parse=normalise_noise,
        group="training",
        metavar="SPEC",
        auto="none",
        help="denoising: corrupt training inputs with gaussian:SIGMA, saltpepper:P or "
        "mask:P (repeat to combine)",
    )

    # not an option: the chosen family's own options, an instance of its options dataclass
    family_options: object = field(default=None, compare=True, repr=True)

    def validate(self) -> TrainConfig:
        """Check every shared value once, at the door; raise ConfigError naming the bad one.
        ``model`` is checked against the registered families by ``aekit.models.options``."""
        for config_field in shared_fields():
            value = getattr(self, config_field.name)
            setattr(self, config_field.name, check_value(config_field, value))
        return self

    def to_dict(self) -> dict:
        """The shared options by name (the family's are in ``family_options``)."""
        return {f.name: _copied(getattr(self, f.name)) for f in shared_fields()}


def shared_fields() -> tuple:
    """The declared option fields of TrainConfig, in their order."""
    return tuple(f for f in fields(TrainConfig) if "option" in f.metadata)


def _copied(value):
    return list(value) if isinstance(value, list) else value


SHARED_NAMES = tuple(f.name for f in shared_fields())
