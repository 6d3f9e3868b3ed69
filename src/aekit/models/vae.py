"""The variational autoencoder (Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014).

The encoder (MLP or conv backbone, as the plain autoencoder) outputs the mean and log-variance
of a diagonal Gaussian q(z|x); a code is drawn with the reparameterisation trick
z = mean + exp(logvar / 2) * eps, so gradients flow through the draw. The loss is the negative
ELBO per sample, averaged over the batch: -log p(x|z) + w * KL(q(z|x) || N(0, I)), with the KL in
closed form and w = beta (beta-VAE, Higgins et al. 2017), or rising linearly from 0 to beta over
``kl_warmup`` optimiser steps (Bowman et al. 2016; Sonderby et al. 2016).

-log p(x|z) is a proper per-sample log-likelihood in nats, summed over the sample's values
(``losses.reconstruction_log_likelihood``): "bce": Bernoulli with probabilities sigmoid(logits);
"mse": Gaussian, "mae": Laplace, each with a learned scale (``decoder_scale``), constants
included, so the ELBO and the importance-weighted bound are real log-densities.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..nn.losses import reconstruction_log_likelihood
from .family import BackboneConfig, Family
from .interpolation import spherical_path

# exp(logvar) of float32 overflows past ~88; clamping keeps a bad step finite, and no useful
# posterior has a standard deviation outside [e^-15, e^10].
LOGVAR_RANGE = (-30.0, 20.0)
# Lowest log of the decoder's learned scale (sigma of the Gaussian, b of the Laplace), as in
# Rybkin et al. 2021 ("Simple and Effective VAE Training with Calibrated Decoders"): a scale
# going to 0 on data reconstructed (near) exactly would send the density to infinity. A soft
# floor, not a clamp, so the gradient never vanishes and the scale can always rise again.
_LOG_SCALE_FLOOR = -6.0
DECODER_SCALES = ("learned", "unit")


@dataclass
class VAEConfig(BackboneConfig):
    """The backbone plus the weight of the KL term, its warm-up, and the decoder's scale."""

    beta: float = 1.0
    kl_warmup: int = 0  # optimiser steps over which the KL weight rises linearly from 0 to beta
    # Scale of the Gaussian ("mse") or Laplace ("mae") decoder: "learned", or "unit" (fixed at
    # 1: runs saved before it was learned). Bernoulli ("bce") has none.
    decoder_scale: str = "learned"

    @classmethod
    def from_dict(cls, d: dict) -> VAEConfig:
        # Runs saved before this config held only the VAE's fields also carry the plain
        # autoencoder's penalty and linear-path fields, at their defaults (options.py rejects
        # them for a VAE, run_schema rejects a VAE's linear path): nothing to keep.
        own = {name: value for name, value in d.items() if name not in _AUTOENCODER_ONLY}
        # a run saved before the field existed had a unit-variance / unit-scale decoder
        return super().from_dict({"decoder_scale": "unit", **own})


_AUTOENCODER_ONLY = ("sparsity", "sparsity_weight", "sparsity_target", "contractive", "linear_path")


class VAENet(Family):
    """encode: (B, *input_shape) -> (B, code_size) posterior means; decode as the autoencoder.

    Its code prior is N(0, I); ``encode_sample`` draws from q(z|x); interpolation follows the
    great circle (``generation.spherical_path``); ``evaluation_scores`` are the ELBO and the
    importance-weighted NLL (``aekit.models.vae_likelihood``).
    """

    family_name = "vae"
    config_class = VAEConfig
    CODE_OUTPUTS = 2  # mean and log-variance
    ignored_options = {
        "sparsity": "its KL term already shapes the code",
        "contractive": "its KL term already shapes the code",
        "linear_path": "it never has one: PCA's start is a plain autoencoder's",
    }

    def __init__(self, config: VAEConfig):
        super().__init__(config)
        # Training losses computed so far; a buffer, so it is saved in checkpoints and a
        # resumed run continues the warm-up exactly where it stopped.
        self.register_buffer("kl_step", torch.zeros((), dtype=torch.int64))
        if config.loss != "bce" and config.decoder_scale == "learned":
            # One scale shared by all values, not one per value: a per-value scale shrinks to
            # its floor on values that are (almost) always the same, such as an image's border
            # pixels or a near-constant column, and the likelihood then measures the floor, not
            # the model. The scaled space already puts all values on a comparable scale.
            self.decoder_log_scale = nn.Parameter(torch.zeros(()))

    @classmethod
    def config_for(cls, net_config: BackboneConfig, settings) -> VAEConfig:
        shared = {f.name: getattr(net_config, f.name) for f in fields(BackboneConfig)}
        return VAEConfig(**shared, beta=settings.beta, kl_warmup=settings.kl_warmup)

    @classmethod
    def default_loss(cls, *, in_unit_interval: bool, scale: str | None) -> str:
        """A Bernoulli decoder ("bce") on training data in [0, 1], unless standard scaling moves
        them out of it; else "mse". A Gaussian decoder on pixels models them as continuous
        values, which blurs the samples; the plain autoencoder's squared error has no such
        cost and stays its default."""
        return "bce" if in_unit_interval and scale != "standard" else "mse"

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, *input_shape) -> mean, logvar: (B, code_size) each, of q(z|x)."""
        mean, logvar = self.encoder(x).chunk(2, dim=1)
        return mean, logvar.clamp(*LOGVAR_RANGE)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The posterior mean: deterministic codes for inference."""
        return self.posterior(x)[0]

    def encode_sample(self, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """A draw of q(z|x) (B, code_size) from standard-normal ``eps`` (B, code_size)."""
        return reparameterise(*self.posterior(x), eps)

    def code_prior(self) -> StandardNormal:
        return StandardNormal(self.config.code_size)

    def interpolation_path(self, z_a: np.ndarray, z_b: np.ndarray, steps: int) -> np.ndarray:
        """Along the great circle: the prior's mass lies near a shell (``aekit.models.interpolation``)."""
        return spherical_path(z_a, z_b, steps)

    def evaluation_scores(self, x: torch.Tensor, **options) -> tuple[dict[str, float], list[str]]:
        """ELBO and the IWAE test NLL with its standard error (``likelihood.vae_scores``)."""
        from .vae_likelihood import vae_scores

        return vae_scores(self, x, **options)

    def log_scale(self) -> torch.Tensor | None:
        """log of the decoder's scale, (), floored; None for Bernoulli, 0 for a unit scale."""
        if self.config.loss == "bce":
            return None
        if self.config.decoder_scale == "unit":
            return torch.zeros((), device=self.kl_step.device)
        raw = self.decoder_log_scale
        return _LOG_SCALE_FLOOR + F.softplus(raw - _LOG_SCALE_FLOOR)

    def reconstruction_nll(self, raw: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """-log p(target | z) in nats, (B,), from the decoder's raw output (B, *input_shape)."""
        mean = self.loss_input(raw)  # the Gaussian's or Laplace's mean lies in [0, 1] (sigmoid)
        return -reconstruction_log_likelihood(self.config.loss, mean, target, self.log_scale())

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
        z = reparameterise(mean, logvar, torch.randn_like(mean))
        recon = self.reconstruction_nll(self.decode_raw(z), target)  # (B,)
        kl = kl_to_standard_normal(mean, logvar)  # (B,)
        weight = self.kl_weight()
        if self.training and torch.is_grad_enabled():
            self.kl_step += 1
        loss = (recon + weight * kl).mean()
        return loss, {"reconstruction": recon.mean().detach(), "kl": kl.mean().detach()}


def reparameterise(mean: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """A draw of N(mean, exp(logvar)) from standard-normal ``eps`` (broadcast against mean)."""
    return mean + posterior_std(logvar) * eps


def posterior_std(logvar: torch.Tensor) -> torch.Tensor:
    """The standard deviation exp(logvar / 2) of q(z|x), from its (clamped) log-variance."""
    return torch.exp(0.5 * logvar)


def kl_to_standard_normal(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(logvar)) || N(0, I)) in nats per sample, (B,), from (B, k) each."""
    return 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)


class StandardNormal:
    """N(0, I) over codes of ``code_size``: the VAE's prior, to sample new codes from."""

    def __init__(self, code_size: int):
        self.code_size = code_size

    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """n codes (n, code_size) float64, the same for the same seed."""
        return np.random.default_rng(seed).standard_normal((n, self.code_size))
