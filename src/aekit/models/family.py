"""What every autoencoder family is: the contract the loop, the API, the CLI and saved runs use.

A family (``AutoencoderNet``, ``VAENet``, ...) is one file in this folder holding its config
dataclass and a subclass of ``Family``, and one line in the registry (``models.MODELS``). The
code outside ``models/`` calls only the methods below, so it never asks which family it holds.
``Family`` builds the backbone every family shares (an MLP or conv encoder/decoder pair) and
gives the defaults of a deterministic autoencoder, which a family overrides where it differs.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError
from ..nn import ConvDecoder, ConvEncoder, mlp
from .interpolation import linear_path


@dataclass
class BackboneConfig:
    """The fields every family's config holds: the backbone and the reconstruction's density."""

    input_shape: tuple[int, ...]  # one sample: (d,) or (C, H, W)
    code_size: int
    backbone: str  # "mlp" or "conv"
    hidden: list[int] = field(default_factory=list)  # MLP layer sizes, or conv channels per stage
    activation: str = "relu"
    dropout: float = 0.0
    norm: str = "none"
    loss: str = "mse"
    # Range of reconstructions in the scaled space: "sigmoid" keeps them in [0, 1] where the
    # scaled training data lives there (minmax scaling, or BCE); "clamp" does the same for a
    # linear autoencoder without making its decoder nonlinear (training sees the raw output);
    # "identity" leaves them free.
    output: str = "identity"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["input_shape"] = list(self.input_shape)
        return d

    @classmethod
    def from_dict(cls, d: dict):
        return cls(**{**d, "input_shape": tuple(d["input_shape"])})


class Family(nn.Module):
    """encode: (B, *input_shape) -> (B, code_size); decode: (B, code_size) -> (B, *input_shape).

    A family sets ``family_name`` (its key in ``models.MODELS`` and config.json's
    "model_type"), ``config_class`` and ``config_for``, and defines ``encode`` and ``loss``;
    the rest has a default here.
    """

    family_name: ClassVar[str]
    config_class: ClassVar[type[BackboneConfig]]  # what config.json's "net" section is read into
    # The encoder's last layer has CODE_OUTPUTS * code_size outputs: a family whose encoder
    # gives more than the code (a VAE's mean and log-variance) sets 2.
    CODE_OUTPUTS: ClassVar[int] = 1
    # Whether its config may ask for the linear path started at PCA (the plain autoencoder's,
    # see building.py and AutoencoderNet.init_linear_path)
    takes_linear_path: ClassVar[bool] = False
    # Options (config.py) this family would accept and ignore, and why: errors when given
    ignored_options: ClassVar[dict[str, str]] = {}
    # True once the untrained network is a baseline's solution; the loop then counts it as
    # epoch 0's candidate (see AutoencoderNet.init_linear_path)
    starts_at_baseline = False

    def __init__(self, config: BackboneConfig):
        super().__init__()
        self.config = config
        shape = tuple(config.input_shape)
        encoder_width = self.CODE_OUTPUTS * config.code_size
        if config.backbone == "conv":
            kwargs = dict(activation=config.activation, norm=config.norm)
            self.encoder = ConvEncoder(shape, config.hidden, encoder_width, **kwargs)
            self.decoder = ConvDecoder(shape, config.hidden, config.code_size, **kwargs)
        else:
            sizes = [math.prod(shape), *config.hidden, config.code_size]
            kwargs = dict(activation=config.activation, dropout=config.dropout, norm=config.norm)
            encoder_sizes = [*sizes[:-1], encoder_width]
            self.encoder = nn.Sequential(nn.Flatten(), mlp(encoder_sizes, **kwargs))
            self.decoder = nn.Sequential(mlp(sizes[::-1], **kwargs), nn.Unflatten(1, shape))

    @classmethod
    def config_for(cls, net_config, settings) -> BackboneConfig:
        """This family's config from the plain autoencoder's ``net_config`` (what
        ``building.net_config_for`` makes of the data) and the training ``settings``."""
        raise NotImplementedError

    @classmethod
    def default_loss(cls, *, in_unit_interval: bool, scale: str | None) -> str:
        """The loss (and so the decoder's density) when the user sets none: squared error.
        in_unit_interval: the training data lie in [0, 1]; scale: the scaling option."""
        return "mse"

    # -- codes -----------------------------------------------------------------------------
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Deterministic codes (B, code_size): what inference uses."""
        raise NotImplementedError

    def encode_sample(self, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """A draw (B, code_size) of each sample's code, from standard-normal ``eps`` (B, k)."""
        raise ConfigError(
            "encode(sample=True) needs a VAE (model='vae'); this model's encoder is deterministic"
        )

    def code_prior(self):
        """The family's own prior over codes, with ``sample(n, seed) -> (n, k)``; None (the
        default): the family has none, and codes are drawn from a Gaussian mixture fitted on
        its training codes (``aekit.models.code_density``)."""
        return None

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
    def evaluation_scores(self, x: torch.Tensor, **options) -> tuple[dict[str, float], list[str]]:
        """Figures ``aekit.evaluate`` adds for this family on test data x in the scaled space
        (a VAE: its likelihood bounds), with notes saying what they are; none by default.
        options: iw_samples, iw_images, seed, log_det_scale, progress."""
        return {}, []
