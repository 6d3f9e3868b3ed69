"""What every autoencoder family is: the contract the loop, the API, the CLI and saved runs use.

A family (``AutoencoderNet``, ``VAENet``, ...) is one file in this folder holding its options
dataclass (declared with ``aekit.options.declaring.option``), its config dataclass (what is
built, saved as config.json's "net" section, each field with what it may be saved as) and a
subclass of ``Family``; and one line in the registry (``models.registry``). The code outside
``models/`` calls only what ``Family`` defines, so it never asks which family it holds.
``Family`` builds the backbone every family shares (an MLP or conv encoder/decoder pair) and
gives the defaults of a deterministic autoencoder, which a family overrides where it differs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError
from ..nn import ACTIVATIONS, DECODER_HEADS, NORMS, ConvDecoder, ConvEncoder, mlp
from ..nn.losses import LOSSES
from ..options.saved_values import (
    SHAPE,
    SIZE,
    SIZES,
    not_required,
    one_of,
    option_value,
    optional,
    saved,
)
from ..options.train_config import TrainConfig
from .interpolation import linear_path
from .priors import CodeDensity

# A saved net never has the backbone option's "auto", which train() resolves before building.
NET_BACKBONES = ("mlp", "conv")
NET_OUTPUTS = ("identity", "sigmoid", "clamp")
_DROPOUT = TrainConfig.__dataclass_fields__["dropout"]


@dataclass
class BackboneConfig:
    """The fields every family's config holds: the backbone and the reconstruction's density."""

    input_shape: tuple[int, ...] = saved(SHAPE)  # one sample: (d,) or (C, H, W)
    code_size: int = saved(SIZE)
    backbone: str = saved(one_of(NET_BACKBONES))
    # MLP layer sizes, or conv channels per stage
    hidden: list[int] = saved(SIZES, default_factory=list)
    activation: str = saved(one_of(tuple(ACTIVATIONS)), default="relu")
    dropout: float = saved(option_value(_DROPOUT, required=True), default=0.0)
    norm: str = saved(one_of(NORMS), default="none")
    loss: str = saved(one_of(LOSSES), default="mse")
    # Range of reconstructions in the scaled space: "sigmoid" keeps them in [0, 1] where the
    # scaled training data lives there (minmax scaling, or BCE); "clamp" does the same for a
    # linear autoencoder without making its decoder nonlinear (training sees the raw output);
    # "identity" leaves them free.
    output: str = saved(one_of(NET_OUTPUTS), default="identity")
    # The conv decoder's full-resolution stage (nn/conv.py's DECODER_HEADS); None for an MLP.
    # Runs saved before format 5 lack it (from_dict fills it in).
    decoder_head: str | None = saved(
        not_required(optional(one_of(DECODER_HEADS))), default="transposed"
    )

    @property
    def bounded_output(self) -> bool:
        """True when the scaled data and the reconstructions live in [0, 1]."""
        return self.output in ("sigmoid", "clamp")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["input_shape"] = list(self.input_shape)
        return d

    @classmethod
    def from_dict(cls, d: dict):
        # a run saved before format 5 has no decoder_head: its conv decoder was the transposed
        # one, and an MLP has none
        head = d.get("decoder_head", "transposed" if d["backbone"] == "conv" else None)
        return cls(**{**d, "input_shape": tuple(d["input_shape"]), "decoder_head": head})

    @classmethod
    def saved_problem(cls, net: dict) -> tuple[str, str] | None:
        """(field, what it must be) where a saved "net" section's fields, each sound alone,
        do not fit together; None where they do."""
        if net["backbone"] == "conv" and len(net["input_shape"]) != 3:
            return "input_shape", "3 integers (C, H, W), as net.backbone is 'conv'"
        if net["backbone"] == "conv" and not net["hidden"]:
            return "hidden", "at least one channel count, as net.backbone is 'conv'"
        # missing: a run saved before format 5, built with the transposed head
        head = net.get("decoder_head", "transposed")
        if net["backbone"] == "conv" and head is None:
            heads = ", ".join(map(repr, DECODER_HEADS))
            return "decoder_head", f"one of {heads}, as net.backbone is 'conv'"
        if net["backbone"] == "mlp" and "decoder_head" in net and head is not None:
            return "decoder_head", "null, as net.backbone is 'mlp'"
        return None

    @classmethod
    def shared_fields(cls, config: BackboneConfig) -> dict:
        """The backbone's fields of ``config``, to build another family's config from."""
        return {f.name: getattr(config, f.name) for f in fields(BackboneConfig)}


@dataclass
class NoOptions:
    """A family without options of its own."""


@dataclass
class NoEvaluationOptions:
    """A family whose evaluation takes no options."""


class Family(nn.Module):
    """encode: (B, *input_shape) -> (B, code_size); decode: (B, code_size) -> (B, *input_shape).

    A family sets ``family_name`` (its key in ``models.MODELS`` and config.json's
    "model_type"), ``display_name``, ``config_class`` and ``config_for``, and defines
    ``encode`` and ``loss``; the rest has a default here.
    """

    family_name: ClassVar[str]
    display_name: ClassVar[str]  # what reports call it: "variational autoencoder"
    # its own options (aekit.options.declaring.option fields) and its evaluation's
    options_class: ClassVar[type] = NoOptions
    evaluation_options_class: ClassVar[type] = NoEvaluationOptions
    # the evaluation options the run's report uses (quick figures; aekit.evaluate's are fuller)
    report_evaluation_options: ClassVar[dict] = {}
    config_class: ClassVar[type[BackboneConfig]]  # what config.json's "net" section is read into
    # Whether codes are flat vectors of numbers (k,); a family whose codes are something else
    # (a grid of codebook indices) says so, and what needs vectors (the probe, the code map,
    # ONNX export, code distances) refuses or skips with a reason (``code_description``)
    vector_codes: ClassVar[bool] = True
    code_description: ClassVar[str] = "flat vectors of numbers"
    # The encoder's last layer has CODE_OUTPUTS * code_size outputs: a family whose encoder
    # gives more than the code (a VAE's mean and log-variance) sets 2.
    CODE_OUTPUTS: ClassVar[int] = 1
    # True once the untrained network is a baseline's solution; the loop then counts it as
    # epoch 0's candidate (see ``prepare``)
    starts_at_baseline = False

    def __init__(self, config: BackboneConfig):
        super().__init__()
        self.config = config
        self.encoder, self.decoder = self.build_backbone(config)

    def build_backbone(self, config: BackboneConfig) -> tuple[nn.Module, nn.Module]:
        """(encoder, decoder): the MLP or conv pair to and from a flat code; a family whose
        codes are something else builds its own."""
        shape = tuple(config.input_shape)
        encoder_width = self.CODE_OUTPUTS * config.code_size
        if config.backbone == "conv":
            kwargs = dict(activation=config.activation, norm=config.norm)
            encoder = ConvEncoder(shape, config.hidden, encoder_width, **kwargs)
            decoder = ConvDecoder(
                shape, config.hidden, config.code_size, head=config.decoder_head, **kwargs
            )
            return encoder, decoder
        sizes = [math.prod(shape), *config.hidden, config.code_size]
        kwargs = dict(activation=config.activation, dropout=config.dropout, norm=config.norm)
        encoder_sizes = [*sizes[:-1], encoder_width]
        encoder = nn.Sequential(nn.Flatten(), mlp(encoder_sizes, **kwargs))
        return encoder, nn.Sequential(mlp(sizes[::-1], **kwargs), nn.Unflatten(1, shape))

    # -- options and config ----------------------------------------------------------------
    @classmethod
    def check_options(cls, config: TrainConfig) -> None:
        """ConfigError where the family's own options (``config.family_options``) and the
        shared ones do not go together; nothing by default."""

    @classmethod
    def config_for(cls, backbone: BackboneConfig, config: TrainConfig) -> BackboneConfig:
        """This family's config from the backbone the data calls for (what
        ``training.planning.net_config_for`` makes of it) and the options."""
        return cls.config_class(**BackboneConfig.shared_fields(backbone))

    @classmethod
    def default_loss(cls, *, in_unit_interval: bool, scale: str | None) -> str:
        """The loss (and so the decoder's density) when the user sets none: squared error.
        in_unit_interval: the training data lie in [0, 1]; scale: the scaling option."""
        return "mse"

    # -- before and after training ---------------------------------------------------------
    def prepare(self, training_rows: Callable[[], torch.Tensor]) -> None:
        """Start from the training data before the loop runs (``training_rows()``: the scaled
        training rows, or a sample of a streamed file's); nothing by default."""

    def settle(self, val_x: torch.Tensor | None, result) -> None:
        """After the loop, with the scaled validation data and the ``TrainResult``: the last
        word on the weights (a start that training did not clearly beat is kept); nothing by
        default."""

    # -- codes -----------------------------------------------------------------------------
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Deterministic codes (B, code_size): what inference uses."""
        raise NotImplementedError

    def encode_sample(self, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """A draw (B, code_size) of each sample's code, from standard-normal ``eps`` (B, k)."""
        raise ConfigError(
            f"encode(sample=True) needs a family whose encoder draws codes; this "
            f"{self.display_name}'s encoder is deterministic"
        )

    @property
    def sigmoid_codes(self) -> bool:
        """True where codes are activations in (0, 1) (a KL-sparse code), not free values."""
        return False

    @property
    def code_shape(self) -> tuple[int, ...]:
        """The shape of one code: (code_size,) for flat vectors; a family whose codes are grids
        says its grid (a VQ-VAE's (h, w) of codebook indices). ``encode`` gives codes flattened,
        (B, prod(code_shape)), and ``decode`` takes them so."""
        return (self.config.code_size,)

    def code_prior(self):
        """The family's own prior over codes, with ``sample(n, seed) -> (n, prod(code_shape))``
        (the sampler "prior"); None (the default): the family has none."""
        return None

    @classmethod
    def fit_prior(cls, codes: np.ndarray, config: TrainConfig) -> CodeDensity | None:
        """The Gaussian mixture to sample codes from (the sampler "mixture"), fitted on training
        ``codes`` (n, k) with the family's ``gmm_components`` (``priors.CodeMixtureOptions``,
        which a family with vector codes inherits); None for codes that are not vectors."""
        if not cls.vector_codes:
            return None
        return CodeDensity.fit(codes, config.family_options.gmm_components, seed=config.seed)

    def prior_description(self) -> str:
        """Where the family's own prior's codes come from, in words, for reports."""
        return "its prior"

    def interpolation_path(self, z_a: np.ndarray, z_b: np.ndarray, steps: int) -> np.ndarray:
        """(steps, k) codes from z_a to z_b (k,), endpoints included: a straight line."""
        return linear_path(z_a, z_b, steps)

    # -- reconstructions -------------------------------------------------------------------
    def decode_raw(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder output before the output activation (logits for BCE)."""
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Reconstruction in the scaled data space."""
        raw = self.decode_raw(z)
        if self.config.output == "sigmoid":
            return torch.sigmoid(raw)
        if self.config.output == "clamp" and not self.training:
            return raw.clamp(0.0, 1.0)
        return raw

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def loss_input(self, raw: torch.Tensor) -> torch.Tensor:
        """What the reconstruction loss or likelihood scores, from the decoder's raw output:
        BCE takes the logits; the others the reconstruction, in [0, 1] under a sigmoid output
        (training sees a "clamp" output unclamped)."""
        if self.config.loss != "bce" and self.config.output == "sigmoid":
            return torch.sigmoid(raw)
        return raw

    def loss(
        self, x: torch.Tensor, target: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, dict]:
        """(mean loss of the batch x against target (default x), {name: detached term})."""
        raise NotImplementedError

    # -- evaluation ------------------------------------------------------------------------
    def evaluation_scores(
        self, x: torch.Tensor, options, *, seed: int, log_det_scale: float, progress=None
    ) -> tuple[dict[str, float], list[str]]:
        """Figures ``aekit.evaluate`` adds for this family on test data x in the scaled space
        (a VAE: its likelihood bounds), with notes saying what they are; none by default.

        options: an ``evaluation_options_class`` instance; log_det_scale: what a density of
        the scaled values loses to the data's units; progress: called with (label, done,
        total) while a long figure is computed."""
        return {}, []

    def report_notes(self, rows: dict, folder) -> list[str]:
        """Notes the run's report of ``folder`` adds under the evaluation (``rows``: aekit's
        figures)."""
        return []
