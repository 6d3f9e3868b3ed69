"""Training options: one dataclass filled alike from Python keywords, CLI flags and TOML files."""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, fields

from .defaults import (
    BACKBONE_ACTIVATIONS,
    BACKBONE_DEFAULTS,
    CODE_SIZE_RULE,
    DEFAULT_EPOCHS,
    MIN_DEFAULT_STEPS,
    MIN_SMALL_DATA_BATCH,
)
from .errors import ConfigError
from .losses import LOSSES
from .nn import ACTIVATIONS, NORMS
from .noise import normalise_noise
from .options import MAX_SIZE, check_value, option, spec_of
from .penalties import parse_sparsity
from .precision import PRECISIONS
from .scaling import SCALES

BACKBONES = ("auto", "mlp", "conv")
# model: "mlp"/"conv"/"auto" are the plain autoencoder with that backbone (the CLI of old);
# a family name ("vae") takes its backbone from the separate ``backbone`` option.
FAMILY_MODELS = ("vae",)
MODEL_CHOICES = (*BACKBONES, *FAMILY_MODELS)
OPTIMIZERS = ("adam", "adamw")
SCHEDULES = ("cosine", "constant")
DEVICES = ("auto", "cpu", "cuda")


def _sparsity_spec(spec):
    parse_sparsity(spec)  # raises ConfigError naming a bad spec
    return spec


# Each option is declared here once (aekit.options): the CLI flags, TOML checks, validate(),
# the saved-run schema, the scikit-learn parameters and the README table are derived from it.
@dataclass
class TrainConfig:
    """Every option of ``aekit.train`` / ``aekit train``. ``None`` means "pick from the data"."""

    model: str = option(
        "auto",
        choices=MODEL_CHOICES,
        group="model",
        help="mlp, conv, auto: plain autoencoder with that backbone (auto: conv for images "
        ">= 16x16); vae: variational autoencoder (backbone from --backbone)",
    )
    backbone: str = option("auto", choices=BACKBONES, group="model", help="backbone of --model vae")
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
    dropout: float = option(
        0.0,
        kind="number",
        low=0.0,
        high=1.0,
        high_open=True,
        group="model",
        metavar="P",
        help="dropout of the MLP layers",
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
        help="learning-rate schedule (cosine: decays to 0 over the epochs or the time limit)",
    )
    val_fraction: float = option(
        0.1,
        kind="number",
        low=0.0,
        high=1.0,
        high_open=True,
        group="training",
        metavar="F",
        help="share of the data held out for validation",
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
        help="epochs without a better validation loss before stopping",
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
    # denoising: corrupt each training batch, learn the clean one (aekit.noise), e.g.
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
        if self.model in ("mlp", "conv") and self.backbone not in ("auto", self.model):
            raise ConfigError(
                f"model={self.model!r} is the plain autoencoder with the {self.model} backbone, "
                f"but backbone={self.backbone!r}; use model='auto' with backbone="
                f"{self.backbone!r}, or leave backbone out"
            )
        return self

    def to_dict(self) -> dict:
        return asdict(self)


OPTION_NAMES = tuple(f.name for f in fields(TrainConfig))
# What is built (saved as config.json's "model_options") and how it is trained ("train")
MODEL_OPTIONS = tuple(f.name for f in fields(TrainConfig) if spec_of(f).group == "model")
TRAINING_OPTIONS = tuple(f.name for f in fields(TrainConfig) if spec_of(f).group == "training")


def make_config(base: TrainConfig | None = None, **options) -> TrainConfig:
    """A validated TrainConfig: ``base`` (or the defaults) overridden by ``options``."""
    unknown = [name for name in options if name not in OPTION_NAMES]
    if unknown:
        name = unknown[0]
        close = difflib.get_close_matches(name, OPTION_NAMES, n=1)
        hint = (
            f"; did you mean {close[0]!r}?"
            if close
            else f"; valid options: {', '.join(OPTION_NAMES)}"
        )
        raise ConfigError(f"unknown option {name!r}{hint}")
    values = (base or TrainConfig()).to_dict()
    values.update(options)
    return _reject_unused_options(TrainConfig(**values).validate())


def _reject_unused_options(config: TrainConfig) -> TrainConfig:
    """Options the chosen model would accept and then ignore are errors, before data is read.

    Dropout with a backbone left to ``auto`` is checked once the data picks it
    (``building.net_config_for``). Saved runs are not checked here, so old ones still load.
    """
    if config.model == "vae":
        if config.sparsity is not None:
            raise ConfigError(
                f"sparsity={config.sparsity!r} is not used by model='vae' (its KL term already "
                "shapes the code); leave it out, or use model='auto' for a sparse autoencoder"
            )
        if config.contractive > 0:
            raise ConfigError(
                f"contractive={config.contractive:g} is not used by model='vae'; leave it out, "
                "or use model='auto' for a contractive autoencoder"
            )
    if config.dropout > 0 and "conv" in (config.model, config.backbone):
        raise ConfigError(
            f"dropout={config.dropout:g} is not used by the conv backbone (only MLP layers have "
            "dropout); leave it out, or use the mlp backbone"
        )
    return config
