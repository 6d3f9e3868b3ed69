"""The variational autoencoder (Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014).

The encoder (MLP or conv backbone, as the plain autoencoder) outputs the mean and log-variance
of a diagonal Gaussian q(z|x); a code is drawn with the reparameterisation trick
z = mean + exp(logvar / 2) * eps, so gradients flow through the draw. The loss is the negative
ELBO per sample, averaged over the batch: -log p(x|z) + w * KL(q(z|x) || N(0, I)), with the KL in
closed form and w = beta (beta-VAE, Higgins et al. 2017), or rising linearly from 0 to beta over
``kl_warmup`` optimiser steps (Bowman et al. 2016; Sonderby et al. 2016).

-log p(x|z) is a proper per-sample log-likelihood in nats, summed over the sample's values:
"bce": Bernoulli with probabilities sigmoid(logits); "mse": Gaussian with unit variance,
0.5 * sum (x - x_hat)^2 + d/2 log(2 pi); "mae": Laplace with unit scale, sum |x - x_hat| + d log 2.
The constants do not change the gradients, but they make the reported numbers log-densities.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .autoencoder import AutoencoderNet, NetConfig

# exp(logvar) of float32 overflows past ~88; clamping keeps a bad step finite, and no useful
# posterior has a standard deviation outside [e^-15, e^10].
_LOGVAR_RANGE = (-30.0, 20.0)


@dataclass
class VAEConfig(NetConfig):
    """NetConfig plus the weight of the KL term and its warm-up."""

    beta: float = 1.0
    kl_warmup: int = 0  # optimiser steps over which the KL weight rises linearly from 0 to beta


class VAENet(AutoencoderNet):
    """encode: (B, *input_shape) -> (B, code_size) posterior means; decode as the autoencoder."""

    config_class = VAEConfig
    CODE_OUTPUTS = 2  # mean and log-variance

    def __init__(self, config: VAEConfig):
        super().__init__(config)
        # Training losses computed so far; a buffer, so it is saved in checkpoints and a
        # resumed run continues the warm-up exactly where it stopped.
        self.register_buffer("kl_step", torch.zeros((), dtype=torch.int64))

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, *input_shape) -> mean, logvar: (B, code_size) each, of q(z|x)."""
        mean, logvar = self.encoder(x).chunk(2, dim=1)
        return mean, logvar.clamp(*_LOGVAR_RANGE)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The posterior mean: deterministic codes for inference."""
        return self.posterior(x)[0]

    def reconstruction_nll(self, raw: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """-log p(target | z) in nats, (B,), from the decoder's raw output (B, *input_shape)."""
        name = self.config.loss
        d = target[0].numel()
        if name == "bce":
            per_value = F.binary_cross_entropy_with_logits(raw, target, reduction="none")
            return per_value.flatten(1).sum(dim=1)
        if self.config.output == "sigmoid":
            raw = torch.sigmoid(raw)
        if name == "mse":
            squared = (raw - target).pow(2).flatten(1).sum(dim=1)
            return 0.5 * squared + 0.5 * d * math.log(2 * math.pi)
        if name == "mae":
            return (raw - target).abs().flatten(1).sum(dim=1) + d * math.log(2.0)
        raise ValueError(f"unknown loss {name!r}")

    def kl_weight(self) -> float:
        """beta, or beta times the warm-up fraction while training is in its warm-up."""
        warmup = self.config.kl_warmup
        if not self.training or warmup == 0:
            return self.config.beta
        return self.config.beta * min(1.0, int(self.kl_step) / warmup)

    def loss(
        self, x: torch.Tensor, target: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, dict]:
        """Mean over the batch of -log p(target|z) + w * KL, z drawn from q(z|x).

        In eval mode (validation) w is beta, so model selection compares the same objective
        whatever the warm-up has reached.
        """
        target = x if target is None else target
        mean, logvar = self.posterior(x)
        z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)
        recon = self.reconstruction_nll(self.decode_raw(z), target)  # (B,)
        kl = kl_to_standard_normal(mean, logvar)  # (B,)
        weight = self.kl_weight()
        if self.training and torch.is_grad_enabled():
            self.kl_step += 1
        loss = (recon + weight * kl).mean()
        return loss, {"reconstruction": recon.mean().detach(), "kl": kl.mean().detach()}


def kl_to_standard_normal(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(logvar)) || N(0, I)) in nats per sample, (B,), from (B, k) each."""
    return 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)
