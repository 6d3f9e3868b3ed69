"""Training options: one dataclass filled alike from Python keywords, CLI flags and TOML files."""

from __future__ import annotations

import difflib
import math
import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from .errors import ConfigError
from .losses import LOSSES
from .nn import ACTIVATIONS, NORMS
from .noise import normalise_noise
from .penalties import parse_sparsity
from .precision import PRECISIONS
from .scaling import SCALES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

BACKBONES = ("auto", "mlp", "conv")
# model: "mlp"/"conv"/"auto" are the plain autoencoder with that backbone (the CLI of old);
# a family name ("vae") takes its backbone from the separate ``backbone`` option.
FAMILY_MODELS = ("vae",)
MODEL_CHOICES = (*BACKBONES, *FAMILY_MODELS)
OPTIMIZERS = ("adam", "adamw")
SCHEDULES = ("cosine", "constant")
DEVICES = ("auto", "cpu", "cuda")

# The conv preset: three stride-2 stages take 28x28 to 4x4. Measured on Fashion-MNIST, code 32,
# 5 minutes on 2 CPU cores (benchmarks/quality.py --hidden/--lr/--batch-size), test MSE against
# PCA-32's: 32-64-128 ran too few epochs; 16-32-64 reached 0.414x, 16-48-96 0.400x and 16-64-128
# 0.396x: capacity at low resolution is cheap, at full resolution it is what costs time.
# Batches of 64 at lr 3e-3 beat 256 at 1e-3 (0.414x against 0.485x for 16-32-64).
CONV_PRESET_CHANNELS = [16, 64, 128]
# SiLU over ReLU in the conv preset: in the epochs the 2-core CPU reaches in 5 minutes (9, bf16),
# validation MSE 0.407x PCA-32 against 0.424x (two seeds each 0.407); GELU 0.415x (8 epochs),
# no batch norm 0.423x, a fourth stage 0.505x, an extra decoder block per stage 0.433x. Searched
# on a GPU, each config trained for the epochs it reaches on the 2-core CPU, chosen on the
# validation part (the test figures moved the same way).
BACKBONE_ACTIVATIONS = {"mlp": "relu", "conv": "silu"}
# Without an explicit epochs, training runs at least 50 epochs and at least this many optimiser
# steps: 50 epochs of a 1,300-sample set at batch 256 are only 300 steps, which leaves the model
# far worse than PCA; early stopping ends the run once validation stops improving.
DEFAULT_EPOCHS = 50
MIN_DEFAULT_STEPS = 5000
MAX_DEFAULT_EPOCHS = 2000
# Defaults of batch_size and lr per backbone, used where the user sets none.
BACKBONE_DEFAULTS = {
    "mlp": {"batch_size": 256, "lr": 1e-3},
    "conv": {"batch_size": 64, "lr": 3e-3},
}


@dataclass
class TrainConfig:
    """Every option of ``aekit.train`` / ``aekit train``. ``None`` means "pick from the data"."""

    model: str = "auto"  # "mlp", "conv", "auto" (plain autoencoder), or a family: "vae"
    backbone: str = "auto"  # for families: "mlp", "conv", or "auto" (conv for images >= 16x16)
    beta: float = 1.0  # VAE: weight of the KL term (beta-VAE); 1 is the true ELBO
    kl_warmup: int = 0  # VAE: optimiser steps over which the KL weight rises from 0 to beta
    gmm_components: int = 10  # plain AE: Gaussian mixture fitted on training codes, to sample
    code_size: int | None = None  # default: min(32, max(2, d // 4))
    hidden: list[int] | None = None  # MLP layer sizes (encoder side) or conv channels per stage
    activation: str | None = None  # default: silu for conv, relu for MLP
    dropout: float = 0.0
    norm: str | None = None  # "none", "batch" or "layer"; default: batch for conv, none for MLP
    loss: str | None = None  # default: bce for a VAE on [0, 1] data, else mse (see with_loss)
    scale: str | None = None  # default: minmax for BCE and images, standard for vectors
    epochs: int | None = None  # default: 50, or more on small data (see MIN_DEFAULT_STEPS)
    batch_size: int | None = None  # default: 256 for mlp, 64 for conv
    lr: float | None = None  # default: 1e-3 for mlp, 3e-3 for conv
    optimizer: str = "adamw"
    weight_decay: float = 0.0
    schedule: str = "cosine"  # learning rate decays to 0 over the epochs (or the time limit)
    val_fraction: float = 0.1
    early_stopping: bool = True
    patience: int = 10  # epochs without a better validation loss before stopping
    time_limit: float | None = None  # seconds; training ends cleanly and keeps the best model
    seed: int = 0
    device: str = "auto"
    # "auto": bf16 autocast for conv nets on CPUs/GPUs with native bf16, else fp32 (precision.py)
    precision: str = "auto"
    checkpoint_every: int | None = None  # also checkpoint every N optimiser steps
    clip_grad: float | None = None  # clip the gradient's global norm to this
    skip_nonfinite: int = 0  # batches with a NaN/Inf loss or gradient to skip before stopping
    # denoising: corrupt each training batch, learn the clean one (aekit.noise), e.g.
    # ["gaussian:0.3", "mask:0.25"]; one string is taken as a list of one
    noise: list[str] | None = None
    sparsity: str | None = None  # "l1:LAMBDA" or "kl:RHO:LAMBDA" (aekit.penalties)
    contractive: float = 0.0  # weight of the encoder's squared Jacobian norm (aekit.penalties)

    def validate(self) -> TrainConfig:
        """Check every value once, at the door; raise ConfigError naming the bad one."""
        _choice("model", self.model, MODEL_CHOICES)
        _choice("backbone", self.backbone, BACKBONES)
        if self.model in ("mlp", "conv") and self.backbone not in ("auto", self.model):
            raise ConfigError(
                f"model={self.model!r} is the plain autoencoder with the {self.model} backbone, "
                f"but backbone={self.backbone!r}; use model='auto' with backbone="
                f"{self.backbone!r}, or leave backbone out"
            )
        _number("beta", self.beta, low=0.0, low_open=True)
        if isinstance(self.kl_warmup, bool) or not isinstance(self.kl_warmup, int):
            raise ConfigError(f"kl_warmup must be an integer, got {self.kl_warmup!r}")
        if self.kl_warmup < 0:
            raise ConfigError(f"kl_warmup must be >= 0 steps, got {self.kl_warmup}")
        _positive_int("gmm_components", self.gmm_components)
        if self.activation is not None:
            _choice("activation", self.activation, tuple(ACTIVATIONS))
        if self.loss is not None:
            _choice("loss", self.loss, LOSSES)
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _choice("schedule", self.schedule, SCHEDULES)
        _choice("device", self.device, DEVICES)
        _choice("precision", self.precision, PRECISIONS)
        if self.norm is not None:
            _choice("norm", self.norm, NORMS)
        if self.scale is not None:
            _choice("scale", self.scale, SCALES)
        if self.code_size is not None:
            _positive_int("code_size", self.code_size)
        if self.hidden is not None:
            if not isinstance(self.hidden, list | tuple):
                raise ConfigError(f"hidden must be a list of layer sizes, got {self.hidden!r}")
            for size in self.hidden:
                _positive_int("hidden layer size", size)
            self.hidden = [int(h) for h in self.hidden]
        if self.epochs is not None:
            _positive_int("epochs", self.epochs)
        if self.batch_size is not None:
            _positive_int("batch_size", self.batch_size)
        _positive_int("patience", self.patience)
        if self.lr is not None:
            _number("lr", self.lr, low=0.0, low_open=True)
        _number("weight_decay", self.weight_decay, low=0.0)
        _number("dropout", self.dropout, low=0.0, high=1.0, high_open=True)
        _number("val_fraction", self.val_fraction, low=0.0, high=1.0, high_open=True)
        if self.time_limit is not None:
            _number("time_limit", self.time_limit, low=0.0, low_open=True)
        if self.checkpoint_every is not None:
            _positive_int("checkpoint_every", self.checkpoint_every)
        if self.clip_grad is not None:
            _number("clip_grad", self.clip_grad, low=0.0, low_open=True)
        if isinstance(self.skip_nonfinite, bool) or not isinstance(self.skip_nonfinite, int):
            raise ConfigError(f"skip_nonfinite must be an integer, got {self.skip_nonfinite!r}")
        if self.skip_nonfinite < 0:
            raise ConfigError(f"skip_nonfinite must be >= 0, got {self.skip_nonfinite}")
        self.noise = normalise_noise(self.noise)
        parse_sparsity(self.sparsity)
        _number("contractive", self.contractive, low=0.0)
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ConfigError(f"seed must be a non-negative integer, got {self.seed!r}")
        if not isinstance(self.early_stopping, bool):
            raise ConfigError(f"early_stopping must be true or false, got {self.early_stopping!r}")
        return self

    def to_dict(self) -> dict:
        return asdict(self)


OPTION_NAMES = tuple(f.name for f in fields(TrainConfig))


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


def read_config_file(path: str | Path) -> dict:
    """Options from a TOML file: keys are the option names (``code_size = 32``).

    Options may sit at the top level or under a ``[train]`` table.
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    options = dict(data.pop("train", {}))
    options.update(data)
    normalised = {key.replace("-", "_"): value for key, value in options.items()}
    try:
        make_config(**normalised)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return normalised


def _choice(name: str, value, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


MAX_SIZE = 2**24  # no layer, code or batch is larger; bigger numbers are typos


def _positive_int(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SIZE:
        raise ConfigError(f"{name} must be an integer from 1 to {MAX_SIZE}, got {value!r}")


def _number(name, value, *, low=None, high=None, low_open=False, high_open=False) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    try:
        finite = math.isfinite(float(value))
    except OverflowError:  # an int too large for a float
        finite = False
    if not finite:
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        low_text = "-inf" if low is None else low
        high_text = "inf" if high is None else high
        span = f"{left}{low_text}, {high_text}{right}"
        raise ConfigError(f"{name} must be in {span}, got {value!r}")
