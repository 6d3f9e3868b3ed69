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
from ..options.declaring import MAX_SIZE, option
from ..options.saved_values import Field, one_of, option_value, saved
from ..options.train_config import TrainConfig
from .family import BackboneConfig, Family
from .interpolation import spherical_path
from .priors import CodeMixtureOptions, StandardNormal
from .vae_likelihood import (
    DEFAULT_IW_IMAGES,
    DEFAULT_IW_SAMPLES,
    LOGVAR_RANGE,
    kl_to_standard_normal,
    reparameterise,
    vae_scores,
)

# Lowest log of the decoder's learned scale (sigma of the Gaussian, b of the Laplace), as in
# Rybkin et al. 2021 ("Simple and Effective VAE Training with Calibrated Decoders"): a scale
# going to 0 on data reconstructed (near) exactly would send the density to infinity. A soft
# floor, not a clamp, so the gradient never vanishes and the scale can always rise again.
_LOG_SCALE_FLOOR = -6.0
DECODER_SCALES = ("learned", "unit")


@dataclass
class VAEOptions(CodeMixtureOptions):
    """The VAE's own options: how its KL term is weighted (and the code mixture's, inherited)."""

    beta: float = option(
        1.0,
        kind="number",
        low=0.0,
        low_open=True,
        group="model",
        metavar="B",
        help="weight of the KL term (1 is the true ELBO)",
    )
    kl_warmup: int = option(
        0,
        kind="int",
        low=0,
        group="model",
        metavar="STEPS",
        help="raise the KL weight from 0 to beta over STEPS optimiser steps",
    )


@dataclass
class VAEEvaluationOptions:
    """What ``aekit.evaluate`` computes of a VAE's likelihood (``vae_likelihood.vae_scores``)."""

    iw_samples: int = option(
        DEFAULT_IW_SAMPLES,
        kind="int",
        low=1,
        high=MAX_SIZE,
        group="evaluation",
        metavar="K",
        help="importance draws per sample for the IWAE test NLL",
    )
    iw_images: int | None = option(
        DEFAULT_IW_IMAGES,
        kind="int",
        low=0,
        high=MAX_SIZE,
        group="evaluation",
        metavar="N",
        nullable=True,
        auto="all",
        help="test samples (a seeded random subset) the IWAE NLL is computed on; 0: none",
    )


_OPTIONS = {f.name: f for f in fields(VAEOptions)}
# A VAE's config saved before it held only its own fields also carries the plain autoencoder's
# penalty and linear-path fields, at values that mean "none"; they are read and dropped.
_LEGACY_FIELDS = {
    "sparsity": Field("'none'", lambda value: value == "none", required=False),
    "sparsity_weight": Field("0", lambda value: value == 0, required=False),
    "sparsity_target": Field("0", lambda value: value == 0, required=False),
    "contractive": Field("0", lambda value: value == 0, required=False),
    "linear_path": Field("false", lambda value: value is False, required=False),
}


@dataclass
class VAEConfig(BackboneConfig):
    """The backbone plus the weight of the KL term, its warm-up, and the decoder's scale."""

    beta: float = saved(option_value(_OPTIONS["beta"], required=True), default=1.0)
    # optimiser steps over which the KL weight rises linearly from 0 to beta
    kl_warmup: int = saved(option_value(_OPTIONS["kl_warmup"], required=True), default=0)
    # Scale of the Gaussian ("mse") or Laplace ("mae") decoder: "learned", or "unit" (fixed at
    # 1: runs saved before it was learned, which lack the field). Bernoulli ("bce") has none.
    decoder_scale: str = saved(
        Field(one_of(DECODER_SCALES).expected, one_of(DECODER_SCALES).ok, required=False),
        default="learned",
    )
    legacy_fields = _LEGACY_FIELDS

    @classmethod
    def from_dict(cls, d: dict) -> VAEConfig:
        # Runs saved before this config held only the VAE's fields also carry the plain
        # autoencoder's penalty and linear-path fields, at their defaults (options.py rejects
        # them for a VAE, run_schema rejects a VAE's linear path): nothing to keep.
        own = {name: value for name, value in d.items() if name not in _LEGACY_FIELDS}
        # a run saved before the field existed had a unit-variance / unit-scale decoder
        return super().from_dict({"decoder_scale": "unit", **own})


class VAENet(Family):
    """encode: (B, *input_shape) -> (B, code_size) posterior means; decode as the autoencoder.

    Its code prior is N(0, I); ``encode_sample`` draws from q(z|x); interpolation follows the
    great circle (``interpolation.spherical_path``); ``evaluation_scores`` are the ELBO and the
    importance-weighted NLL (``aekit.models.vae_likelihood``).
    """

    family_name = "vae"
    display_name = "variational autoencoder"
    options_class = VAEOptions
    evaluation_options_class = VAEEvaluationOptions
    # the run's report shows the ELBO only: the IWAE bound takes about a minute on
    # Fashion-MNIST, and `aekit evaluate RUN` adds it
    report_evaluation_options = {"iw_images": 0}
    config_class = VAEConfig
    CODE_OUTPUTS = 2  # mean and log-variance

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
    def config_for(cls, backbone: BackboneConfig, config: TrainConfig) -> VAEConfig:
        own = config.family_options
        shared = BackboneConfig.shared_fields(backbone)
        return VAEConfig(**shared, beta=own.beta, kl_warmup=own.kl_warmup)

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
        """Along the great circle: the prior's mass lies near a shell."""
        return spherical_path(z_a, z_b, steps)

    def evaluation_scores(
        self, x: torch.Tensor, options, *, seed: int, log_det_scale: float, progress=None
    ) -> tuple[dict[str, float], list[str]]:
        """ELBO and the IWAE test NLL with its standard error (``vae_likelihood.vae_scores``)."""
        counter = (lambda done, total: progress("IWAE NLL", done, total)) if progress else None
        return vae_scores(
            self,
            x,
            iw_samples=options.iw_samples,
            iw_images=options.iw_images,
            seed=seed,
            log_det_scale=log_det_scale,
            progress=counter,
        )

    def report_notes(self, rows: dict, folder) -> list[str]:
        if "iwae_nll" in rows:
            return []
        return [
            "The importance-weighted NLL is not computed at the end of training (about a minute "
            f"on Fashion-MNIST): `aekit evaluate {folder}` computes it and stores it in "
            "evaluation.json, and `aekit report` then shows it."
        ]

    def prior_description(self) -> str:
        return "the prior N(0, I)"

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
