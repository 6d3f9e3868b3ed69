"""The plain autoencoder of the seed article: encoder -> code -> decoder (MLP or conv)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from ..losses import reconstruction_loss
from ..nn import ConvDecoder, ConvEncoder, mlp
from ..penalties import (
    closed_form_layers,
    estimated_jacobian_sq_norm,
    exact_jacobian_sq_norm,
    sparsity_penalty,
)


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
    # Penalties on the code (see aekit.penalties): sparsity "none", "l1" or "kl" with its weight
    # LAMBDA and, for kl, target activation RHO; contractive: weight of ||d code / d x||_F^2.
    # A kl-sparse code is sigmoid(encoder output), so these are part of the model, not training.
    sparsity: str = "none"
    sparsity_weight: float = 0.0
    sparsity_target: float = 0.0
    contractive: float = 0.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["input_shape"] = list(self.input_shape)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> NetConfig:
        return cls(**{**d, "input_shape": tuple(d["input_shape"])})


class AutoencoderNet(nn.Module):
    """encode: (B, *input_shape) -> (B, code_size); decode: (B, code_size) -> (B, *input_shape)."""

    config_class = NetConfig  # what ``config.json``'s "net" section is read into
    # The encoder's last layer has CODE_OUTPUTS * code_size outputs: a family whose encoder
    # gives more than the code (a VAE's mean and log-variance) sets 2.
    CODE_OUTPUTS = 1

    def __init__(self, config: NetConfig):
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

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        z = self.encoder(x)
        return torch.sigmoid(z) if self.config.sparsity == "kl" else z

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
        config = self.config
        if config.contractive > 0:
            z, jacobian_sq = self.code_and_jacobian_sq_norm(x)
        else:
            z = self.encode(x)
        raw = self.decode_raw(z)
        if config.loss != "bce" and config.output == "sigmoid":
            raw = torch.sigmoid(raw)
        loss = reconstruction_loss(config.loss, raw, target, per_sample=False)
        logs = {"reconstruction": loss.detach()}
        if config.sparsity != "none":
            penalty = sparsity_penalty(z, config.sparsity, config.sparsity_target)
            loss = loss + config.sparsity_weight * penalty
            logs["sparsity"] = penalty.detach()
        if config.contractive > 0:
            penalty = jacobian_sq.mean()
            loss = loss + config.contractive * penalty
            logs["contractive"] = penalty.detach()
        return loss, logs

    def code_and_jacobian_sq_norm(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Codes (B, k) and ||d code / d x||_F^2 per sample (B,): exact for MLP encoders of
        Linear layers and elementwise activations, else an unbiased one-draw estimate."""
        layers = closed_form_layers(self.encoder)
        if layers is not None:
            final = torch.sigmoid if self.config.sparsity == "kl" else None
            return exact_jacobian_sq_norm(layers, x, final)
        return estimated_jacobian_sq_norm(self.encode, x, create_graph=torch.is_grad_enabled())
