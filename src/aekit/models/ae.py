"""The plain autoencoder of the seed article: encoder -> code -> decoder (MLP or conv)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..nn.losses import reconstruction_loss
from .family import BackboneConfig, Family
from .penalties import (
    closed_form_layers,
    estimated_jacobian_sq_norm,
    exact_jacobian_sq_norm,
    sparsity_penalty,
)


@dataclass
class NetConfig(BackboneConfig):
    """The plain autoencoder's config: the backbone, its code penalties and the linear path;
    saved as JSON beside the weights."""

    # Penalties on the code (see aekit.models.penalties): sparsity "none", "l1" or "kl" with its weight
    # LAMBDA and, for kl, target activation RHO; contractive: weight of ||d code / d x||_F^2.
    # A kl-sparse code is sigmoid(encoder output), so these are part of the model, not training.
    sparsity: str = "none"
    sparsity_weight: float = 0.0
    sparsity_target: float = 0.0
    contractive: float = 0.0
    # A linear path beside the MLP (see AutoencoderNet.init_linear_path): code = linear map of x
    # + MLP encoder(x), reconstruction = linear map of the code + MLP decoder(code). Started at
    # PCA's solution with the MLPs' last layers at zero, the untrained network is PCA. Absent in
    # runs saved before it existed: no linear path.
    linear_path: bool = False


# Scaled data standardised or min-max scaled lies within a few hundred of its mean; past this,
# float32 cannot carry PCA's start (see ``init_linear_path``).
MAX_CENTRED_FOR_PCA_START = 1e6


class AutoencoderNet(Family):
    """encode: (B, *input_shape) -> (B, code_size); decode: (B, code_size) -> (B, *input_shape).

    Its code prior is the Gaussian mixture fitted on its training codes (``Family`` defaults).
    """

    family_name = "ae"
    config_class = NetConfig
    takes_linear_path = True

    def __init__(self, config: NetConfig):
        super().__init__(config)
        if config.linear_path:
            if config.backbone != "mlp":
                raise ValueError("the linear path is built for the plain MLP autoencoder only")
            shape = tuple(config.input_shape)
            width = math.prod(shape)
            self.linear_encoder = nn.Linear(width, config.code_size)
            self.linear_decoder = nn.Linear(config.code_size, width)
            self.flat_shape = shape

    @classmethod
    def config_for(cls, net_config: NetConfig, settings) -> NetConfig:
        return net_config

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        z = self.encoder(x)
        if self.config.linear_path:
            z = z + self.linear_encoder(x.flatten(1))
        return torch.sigmoid(z) if self.config.sparsity == "kl" else z

    def decode_raw(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder output before the output activation (logits for BCE)."""
        if self.config.linear_path:
            return self.decoder(z) + self.linear_decoder(z).unflatten(1, self.flat_shape)
        return super().decode_raw(z)

    @torch.no_grad()
    def init_linear_path(self, x: torch.Tensor) -> bool:
        """Start the network at PCA's solution on ``x`` (n, *input_shape), the scaled training
        data: the linear path encodes with the top principal directions and decodes with their
        transpose plus the mean, and the MLPs' last layers start at zero, so the untrained
        network reconstructs exactly as PCA with code_size components does. Each code is a
        principal component divided by its standard deviation (unit variance), a scale that
        suits the decoder MLP it feeds; that changes PCA's codes, not its reconstructions.

        Returns False, leaving the network as built, where scaled values lie more than
        MAX_CENTRED_FOR_PCA_START from their mean (only with scale="none" on extreme data): in
        float32 the start's decoder would cancel such magnitudes to noise and its gradients
        overflow, so it could not train.
        """
        flat = x.flatten(1).double()
        mean = flat.mean(0)
        centred = flat - mean
        if float(centred.abs().max()) > MAX_CENTRED_FOR_PCA_START:
            return False
        covariance = centred.T @ centred / max(len(flat) - 1, 1)
        variances, directions = torch.linalg.eigh(covariance)  # ascending
        # a code wider than the data: all d components, and the extra code units start at 0
        k = min(self.config.code_size, flat.shape[1])
        top = directions[:, -k:].flip(1).T  # (k, d), largest variance first
        std = variances[-k:].flip(0).clamp_min(1e-12 * max(float(variances[-1]), 1e-30)).sqrt()
        # built beside ``x`` (on the CPU after training on a GPU); copy_ moves them to the weights
        encoder_weight = flat.new_zeros(self.linear_encoder.weight.shape)
        decoder_weight = flat.new_zeros(self.linear_decoder.weight.shape)
        encoder_weight[:k] = top / std[:, None]
        decoder_weight[:, :k] = (top * std[:, None]).T
        self.linear_encoder.weight.copy_(encoder_weight)
        self.linear_encoder.bias.copy_(-encoder_weight @ mean)
        self.linear_decoder.weight.copy_(decoder_weight)
        self.linear_decoder.bias.copy_(mean)
        for part in (self.encoder, self.decoder):
            last = [m for m in part.modules() if isinstance(m, nn.Linear)][-1]
            last.weight.zero_()
            last.bias.zero_()
        # the training loop counts this untrained network as epoch 0's candidate
        self.starts_at_baseline = True
        return True

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
        raw = self.loss_input(self.decode_raw(z))
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
