"""The plain autoencoder of the seed article: encoder -> code -> decoder (MLP or conv)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from ..losses import reconstruction_loss
from ..nn import ConvDecoder, ConvEncoder, mlp


@dataclass
class NetConfig:
    """Everything needed to rebuild the network; saved as JSON beside the weights."""

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
    def from_dict(cls, d: dict) -> NetConfig:
        return cls(**{**d, "input_shape": tuple(d["input_shape"])})


class AutoencoderNet(nn.Module):
    """encode: (B, *input_shape) -> (B, code_size); decode: (B, code_size) -> (B, *input_shape)."""

    def __init__(self, config: NetConfig):
        super().__init__()
        self.config = config
        shape = tuple(config.input_shape)
        if config.backbone == "conv":
            kwargs = dict(activation=config.activation, norm=config.norm)
            self.encoder = ConvEncoder(shape, config.hidden, config.code_size, **kwargs)
            self.decoder = ConvDecoder(shape, config.hidden, config.code_size, **kwargs)
        else:
            sizes = [math.prod(shape), *config.hidden, config.code_size]
            kwargs = dict(activation=config.activation, dropout=config.dropout, norm=config.norm)
            self.encoder = nn.Sequential(nn.Flatten(), mlp(sizes, **kwargs))
            self.decoder = nn.Sequential(mlp(sizes[::-1], **kwargs), nn.Unflatten(1, shape))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

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

    def loss(
        self, x: torch.Tensor, target: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, dict]:
        """Mean reconstruction loss of the batch ``x`` against ``target`` (default: ``x``)."""
        target = x if target is None else target
        raw = self.decode_raw(self.encode(x))
        if self.config.loss != "bce" and self.config.output == "sigmoid":
            raw = torch.sigmoid(raw)
        loss = reconstruction_loss(self.config.loss, raw, target).mean()
        return loss, {"reconstruction": loss.detach()}
