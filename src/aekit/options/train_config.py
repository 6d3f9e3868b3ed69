"""Training options: one dataclass filled alike from Python keywords, CLI flags and TOML files."""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, fields

from ..data.scaling import SCALES
from ..errors import AekitDeprecationWarning, ConfigError, warn
from ..models.penalties import parse_sparsity
from ..nn import ACTIVATIONS, NORMS
from ..nn.losses import LOSSES
from ..nn.noise import normalise_noise
from ..training.precision import PRECISIONS
from .declaring import MAX_SIZE, check_value, option, share_option, spec_of
from .defaults import (
    BACKBONE_ACTIVATIONS,
    BACKBONE_DEFAULTS,
    CODE_SIZE_RULE,
    DEFAULT_EPOCHS,
    DEFAULT_LR_DROPS,
    LR_DROP_FACTOR,
    MIN_DEFAULT_STEPS,
    MIN_SMALL_DATA_BATCH,
)

BACKBONES = ("auto", "mlp", "conv")
# model names the family (models.MODELS); every family takes its backbone from ``backbone``.
MODEL_CHOICES = ("ae", "vae")
# Before model named the family, "mlp", "conv" and "auto" meant the plain autoencoder with that
# backbone. They are still read, and rewritten (``new_model_spelling``): saved runs silently,
# what a user writes with a DeprecationWarning.
OLD_MODELS = BACKBONES
OPTIMIZERS = ("adam", "adamw")
SCHEDULES = ("linear", "cosine", "constant")
DEVICES = ("auto", "cpu", "cuda")
STREAM_CHOICES = ("auto", "on", "off")
LINEAR_PATH_CHOICES = ("auto", "off")


def _sparsity_spec(spec):
    parse_sparsity(spec)  # raises ConfigError naming a bad spec
    return spec


# Each option is declared here once (aekit.options.declaring): the CLI flags, TOML checks, validate(),
# the saved-run schema, the scikit-learn parameters and the README table are derived from it.
@dataclass
class TrainConfig:
    """Every option of ``aekit.train`` / ``aekit train``. ``None`` means "pick from the data"."""

    model: str = option(
        "ae",
        choices=MODEL_CHOICES,
        old_choices=OLD_MODELS,
        group="model",
        help="ae: plain autoencoder; vae: variational autoencoder",
    )
    backbone: str = option(
        "auto",
        choices=BACKBONES,
        group="model",
        help="network of every model (auto: conv for images >= 16x16, else mlp)",
    )
    beta: float = option(
        1.0,
        kind="number",
        low=0.0,
        low_open=True,
        group="model",
        metavar="B",
        help="VAE: weight of the KL term (1 is the true ELBO)",
    )
    kl_warmup: int = option(
        0,
        kind="int",
        low=0,
        group="model",
        metavar="STEPS",
        help="VAE: raise the KL weight from 0 to beta over STEPS optimiser steps",
    )
    gmm_components: int = option(
        10,
        kind="int",
        low=1,
        high=MAX_SIZE,
        group="model",
        metavar="N",
        help="plain AE: mixture components of the code density (to sample)",
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
    linear_path: str = option(
        "auto",
        choices=LINEAR_PATH_CHOICES,
        group="model",
        help="plain MLP autoencoder: a linear path beside the network, started at PCA, so "
        "training starts from PCA's solution (auto: where the loss and output allow it; off: "
        "the network alone)",
    )
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
        f"{BACKBONE_DEFAULTS['conv']['lr']:g} for conv",
        help="learning rate",
    )
    optimizer: str = option("adamw", choices=OPTIMIZERS, group="training", help="optimiser")
    weight_decay: float = option(
        0.0, kind="number", low=0.0, group="training", metavar="X", help="weight decay"
    )
    schedule: str = option(
        "cosine",
        choices=SCHEDULES,
        group="training",
        help="learning-rate schedule after the warm-up: linear or cosine decay to 0 over the "
        "epochs or the time limit, or constant",
    )
    warmup: float = share_option(
        0.0,
        group="training",
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
    sparsity: str | None = option(
        None,
        kind="text",
        parse=_sparsity_spec,
        group="model",
        metavar="SPEC",
        auto="none",
        help="sparse code: l1:LAMBDA or kl:RHO:LAMBDA",
    )
    contractive: float = option(
        0.0,
        kind="number",
        low=0.0,
        group="model",
        metavar="LAMBDA",
        help="weight of the encoder's squared Jacobian norm",
    )

    def validate(self) -> TrainConfig:
        """Check every value once, at the door; raise ConfigError naming the bad one."""
        for config_field in fields(self):
            value = getattr(self, config_field.name)
            setattr(self, config_field.name, check_value(config_field, value))
        spelled = new_model_spelling({"model": self.model, "backbone": self.backbone})
        self.model, self.backbone = spelled["model"], spelled["backbone"]
        return self

    def to_dict(self) -> dict:
        return asdict(self)


OPTION_NAMES = tuple(f.name for f in fields(TrainConfig))
# What is built (saved as config.json's "model_options") and how it is trained ("train")
MODEL_OPTIONS = tuple(f.name for f in fields(TrainConfig) if spec_of(f).group == "model")
TRAINING_OPTIONS = tuple(f.name for f in fields(TrainConfig) if spec_of(f).group == "training")
# What a resumed run keeps: what it built, how its data was split (seed, val_fraction) and what
# its validation loss measures (noise), so its weights fit and its epochs compare; the other
# training options (epochs, time_limit, lr_drops, batch_size, ...) may change
KEPT_ON_RESUME = (*MODEL_OPTIONS, "seed", "val_fraction", "noise")


def new_model_spelling(options: dict) -> dict:
    """``options`` with an old model spelling ("mlp", "conv", "auto") rewritten as
    model="ae" and its backbone; ConfigError when ``backbone`` names another one."""
    model = options.get("model")
    if not isinstance(model, str) or model not in OLD_MODELS:
        return options
    backbone = options.get("backbone") or "auto"
    if model != "auto" and backbone not in ("auto", model):
        raise ConfigError(
            f"model={model!r} is the plain autoencoder with the {model} backbone, but "
            f"backbone={backbone!r}; use model='ae', backbone={backbone!r}"
        )
    return {**options, "model": "ae", "backbone": backbone if model == "auto" else model}


def warn_old_model_spelling(options: dict) -> None:
    """A DeprecationWarning naming the new spelling where ``options`` use an old one."""
    model = options.get("model")
    if not isinstance(model, str) or model not in OLD_MODELS:
        return
    new = new_model_spelling(options)
    warn(
        f"model={model!r} is deprecated: use model='ae', backbone={new['backbone']!r}",
        AekitDeprecationWarning,
    )


def make_config(base: TrainConfig | None = None, **options) -> TrainConfig:
    """A validated TrainConfig: ``base`` (or the defaults) overridden by ``options``; an old
    model spelling among ``options`` warns."""
    check_option_names(options)
    warn_old_model_spelling(options)
    values = (base or TrainConfig()).to_dict()
    values.update(options)
    return _reject_unused_options(TrainConfig(**values).validate())


def check_option_names(names) -> None:
    """ConfigError naming the first of ``names`` that is no option, with the closest one."""
    unknown = [name for name in names if name not in OPTION_NAMES]
    if unknown:
        name = unknown[0]
        close = difflib.get_close_matches(name, OPTION_NAMES, n=1)
        hint = (
            f"; did you mean {close[0]!r}?"
            if close
            else f"; valid options: {', '.join(OPTION_NAMES)}"
        )
        raise ConfigError(f"unknown option {name!r}{hint}")


def _reject_unused_options(config: TrainConfig) -> TrainConfig:
    """Options the chosen model would accept and then ignore are errors, before data is read.

    The family names the options it ignores (``Family.ignored_options``). Dropout with a
    backbone left to ``auto`` is checked once the data picks it (``building.net_config_for``).
    Saved runs are not checked here, so old ones still load.
    """
    from ..models import MODELS

    defaults = TrainConfig()
    for name, why in MODELS[config.model].ignored_options.items():
        value = getattr(config, name)
        if value != getattr(defaults, name):
            raise ConfigError(
                f"{name}={value!r} is not used by model={config.model!r} ({why}); leave it "
                "out, or use model='ae'"
            )
    if not config.early_stopping:
        unused = {
            "patience": config.patience != defaults.patience,
            # no drops agrees with no early stopping (a sweep may pair lr_drops=0 with it)
            "lr_drops": config.lr_drops not in (0, defaults.lr_drops),
        }
        for name in (name for name, given in unused.items() if given):
            raise ConfigError(
                f"{name}={getattr(config, name)!r} is not used with early_stopping=False "
                "(it counts epochs without a better validation loss to stop or drop the "
                "learning rate); leave it out, or turn early stopping on"
            )
    if config.dropout > 0 and config.backbone == "conv":
        raise ConfigError(
            f"dropout={config.dropout:g} is not used by the conv backbone (only MLP layers have "
            "dropout); leave it out, or use the mlp backbone"
        )
    return config
