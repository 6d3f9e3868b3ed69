"""Reconstruction losses and likelihoods: the one definition of each.

A loss is the mean over a sample's values, so the training loss and the reported metrics are in
the same per-value units whatever the input size. BCE is computed from logits (log-sum-exp form
inside torch), which stays finite where sigmoid-then-log would overflow.

A likelihood (``reconstruction_log_likelihood``, the VAE's decoder) is the log-density of each
sample in nats, summed over its values, with its constants: the density each loss belongs to.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.distributions import Bernoulli, Distribution, Laplace, Normal

LOSSES = ("mse", "bce", "mae")

# raw is logits for "bce", and the reconstruction itself for "mse" and "mae"
_ELEMENTWISE = {
    "mse": F.mse_loss,
    "bce": F.binary_cross_entropy_with_logits,
    "mae": F.l1_loss,
}


def reconstruction_loss(
    name: str, raw: torch.Tensor, target: torch.Tensor, *, per_sample: bool = True
) -> torch.Tensor:
    """Loss of the decoder's raw output against ``target``, both (B, ...).

    per_sample: (B,), each sample's mean over its values; otherwise the batch mean (), which is
    the mean of those (every sample has as many values) computed in one op: the training step's
    hot path.
    """
    if name not in _ELEMENTWISE:
        raise ValueError(f"unknown loss {name!r}")
    if not per_sample:
        return _ELEMENTWISE[name](raw, target)
    return _ELEMENTWISE[name](raw, target, reduction="none").flatten(1).mean(dim=1)


def decoder_distribution(
    name: str, raw: torch.Tensor, log_scale: torch.Tensor | None = None
) -> Distribution:
    """The density behind loss ``name``, per value: "bce" Bernoulli(logits=raw); "mse" Gaussian,
    "mae" Laplace, each with mean ``raw`` and scale exp(log_scale) (sigma, b; () or broadcast)."""
    # validate_args=False: grey values in [0, 1] are scored by the Bernoulli formula, and the
    # checks would cost a pass over every decoded batch
    if name == "bce":
        return Bernoulli(logits=raw, validate_args=False)
    scale = log_scale.exp().expand_as(raw)
    if name == "mse":
        return Normal(raw, scale, validate_args=False)
    if name == "mae":
        return Laplace(raw, scale, validate_args=False)
    raise ValueError(f"unknown loss {name!r}")


def reconstruction_log_likelihood(
    name: str, raw: torch.Tensor, target: torch.Tensor, log_scale: torch.Tensor | None = None
) -> torch.Tensor:
    """log p(target | raw) in nats per sample, (B,), summed over the values of (B, ...) each."""
    return decoder_distribution(name, raw, log_scale).log_prob(target).flatten(1).sum(dim=1)
