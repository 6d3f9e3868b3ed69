"""Likelihood figures of a VAE on held-out data: the ELBO and the importance-weighted bound.

Both work on the torch network (``models.VAENet``) and data already in its scaled space, in nats
per sample. The ELBO is E_q[log p(x|z)] - KL(q(z|x) || p(z)) with the KL in closed form and one
draw of z per sample. The IWAE bound (Burda et al. 2016, "Importance Weighted Autoencoders")
log (1/K) sum_k p(x, z_k) / q(z_k|x), z_k ~ q(z|x), is a lower bound on log p(x) that rises to it
as K grows; its negative is the usual "test NLL" of VAE papers. It is computed in chunks of
samples and of K with a running logsumexp, so memory stays bounded whatever K.

``vae_scores`` reports both for ``aekit.evaluate``. A Gaussian or Laplace decoder is a density
of the scaled values, which depends on the scaling; the figures are moved to the data's own
units by adding the scaler's log-Jacobian (the scaler is affine, so it is one constant per
sample), so they do not change when the same model is trained on data in other units.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch.distributions import Normal

# exp(logvar) of float32 overflows past ~88; clamping keeps a bad step finite, and no useful
# posterior has a standard deviation outside [e^-15, e^10].
LOGVAR_RANGE = (-30.0, 20.0)


def reparameterise(mean: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """A draw of N(mean, exp(logvar)) from standard-normal ``eps`` (broadcast against mean)."""
    return mean + posterior_std(logvar) * eps


def posterior_std(logvar: torch.Tensor) -> torch.Tensor:
    """The standard deviation exp(logvar / 2) of q(z|x), from its (clamped) log-variance."""
    return torch.exp(0.5 * logvar)


def kl_to_standard_normal(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(logvar)) || N(0, I)) in nats per sample, (B,), from (B, k) each."""
    return 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)


# Most decoder outputs (rows x draws x values) held at once: 2**22 floats = 16 MiB.
MAX_DECODED_VALUES = 2**22
# Defaults of ``aekit.evaluate``: the IWAE bound on a seeded random subset of the test samples.
# Measured on the conv VAE on Fashion-MNIST (trained 60 s; benchmarks/vae_likelihood.py
# --conv-evaluate): a decode of one image costs 0.45 ms of CPU on one thread, about 0.23 ms on
# 2 cores (the 229 s for 1000 images x K = 1000), so 1000 images x K = 100 take about
# 23 s there, and the rest of evaluate (encoding the 54,000 training images, PCA, the probe,
# the ELBO of all 10,000 test images) about 40 s. Across those 1000 images the standard error
# was 2.3 nats, while K = 1000 instead of 100 raised the bound by 1.1 +- 0.4 nats (30 images).
# Pass more of both (iw_images=None: all) for a paper-grade figure.
DEFAULT_IW_SAMPLES = 100
DEFAULT_IW_IMAGES = 1000

# called with (samples done, samples in all) after each chunk
ProgressCallback = Callable[[int, int], None]


@torch.no_grad()
def elbo(net, x: torch.Tensor, *, seed: int = 0) -> torch.Tensor:
    """ELBO (n,) in nats of each sample of x (n, *input_shape), one draw of z each."""
    generator = torch.Generator().manual_seed(seed)
    net.eval()
    out = []
    for chunk in _row_chunks(net, x, draws=1):
        mean, logvar = net.posterior(chunk)
        eps = torch.randn(mean.shape, generator=generator).to(mean.device)
        recon = net.reconstruction_nll(net.decode_raw(reparameterise(mean, logvar, eps)), chunk)
        out.append(-(recon + kl_to_standard_normal(mean, logvar)).cpu())
    return torch.cat(out)


@torch.no_grad()
def iwae_log_likelihood(
    net,
    x: torch.Tensor,
    *,
    samples: int = 1000,
    seed: int = 0,
    progress: ProgressCallback | None = None,
) -> torch.Tensor:
    """Importance-weighted estimate (n,) of log p(x) in nats, with ``samples`` draws each."""
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    generator = torch.Generator().manual_seed(seed)
    net.eval()
    d = x[0].numel()
    draws = max(1, min(samples, MAX_DECODED_VALUES // d))
    prior = Normal(0.0, 1.0)
    out, done = [], 0
    if progress is not None:
        progress(0, len(x))
    for chunk in _row_chunks(net, x, draws=draws):
        mean, logvar = net.posterior(chunk)  # (B, k)
        posterior = Normal(mean, posterior_std(logvar))
        total = torch.full((len(chunk),), -math.inf, device=mean.device)
        for start in range(0, samples, draws):
            k = min(draws, samples - start)
            eps = torch.randn((k, *mean.shape), generator=generator).to(mean.device)  # (k, B, z)
            z = reparameterise(mean, logvar, eps)
            raw = net.decode_raw(z.flatten(0, 1))  # (k * B, *input_shape)
            target = chunk.expand(k, *chunk.shape).flatten(0, 1)
            log_px_z = -net.reconstruction_nll(raw, target).view(k, len(chunk))
            log_pz = prior.log_prob(z).sum(dim=-1)
            log_qz = posterior.log_prob(z).sum(dim=-1)
            log_w = log_px_z + log_pz - log_qz  # (k, B)
            total = torch.logaddexp(total, torch.logsumexp(log_w, dim=0))
        out.append((total - math.log(samples)).cpu())
        done += len(chunk)
        if progress is not None:
            progress(done, len(x))
    return torch.cat(out)


def _row_chunks(net, x: torch.Tensor, *, draws: int):
    """Chunks of x on the network's device small enough for ``draws`` decodes each."""
    device = next(net.parameters()).device
    rows = max(1, MAX_DECODED_VALUES // (draws * x[0].numel()))
    for begin in range(0, len(x), rows):
        yield x[begin : begin + rows].to(device)


def vae_scores(
    net,
    x: torch.Tensor,
    *,
    iw_samples: int = DEFAULT_IW_SAMPLES,
    iw_images: int | None = DEFAULT_IW_IMAGES,
    seed: int = 0,
    log_det_scale: float = 0.0,
    progress: ProgressCallback | None = None,
) -> tuple[dict[str, float], list[str]]:
    """ELBO and the IWAE test NLL with its standard error, for every decoder with a density.

    x: (n, *input_shape) in the network's scaled space. log_det_scale: sum over one sample's
    values of log(scaler spread), the log-Jacobian of the data -> scaled map with its sign
    flipped: -log p(x) in the data's units is the scaled space's plus this. ``iw_images``
    test samples (a seeded random subset; None: all; 0: none, the ELBO only) get
    ``iw_samples`` importance draws each.
    Returns ``{"elbo", "iwae_nll", "iwae_nll_se"}`` in nats per sample (means over samples; the
    standard error is across samples) and lines saying what was computed, where, or why not.
    """
    loss = net.config.loss
    continuous = loss != "bce"
    shift = log_det_scale if continuous else 0.0  # a Bernoulli is a probability: no Jacobian
    scores = {"elbo": float(elbo(net, x, seed=seed).double().mean()) - shift}
    notes = [f"elbo: evidence lower bound in nats per sample (mean over {len(x)}), one draw each"]
    if not continuous and (x.min() < 0 or x.max() > 1):
        notes.append("no iwae_nll: the scaled test data leave [0, 1], where Bernoulli has no mass")
        return scores, notes
    if iw_images == 0:
        notes.append(
            "no iwae_nll: not computed here (iw_images=0); aekit.evaluate computes it by default "
            "(CLI: aekit evaluate RUN)"
        )
        return scores, notes
    subset = _subset(len(x), iw_images, seed)
    log_px = iwae_log_likelihood(
        net, x[subset], samples=iw_samples, seed=seed, progress=progress
    ).double()
    scores["iwae_nll"] = float(-log_px.mean()) + shift
    scores["iwae_nll_se"] = (
        float(log_px.std() / math.sqrt(len(log_px))) if len(log_px) > 1 else math.nan
    )
    which = "all" if len(subset) == len(x) else f"a seeded random {len(subset)} of {len(x)}"
    notes.append(
        f"iwae_nll: importance-weighted test NLL in nats per sample, K={iw_samples}, on {which} "
        "test samples; iwae_nll_se: its standard error across them "
        "(more: iw_samples / iw_images, CLI --iw-samples / --iw-images)"
    )
    notes.append(_units_note(loss, net.config.decoder_scale, shift))
    if not continuous and not bool(((x == 0) | (x == 1)).all()):
        notes.append("the test data are not binary: Bernoulli NLLs of grey values are not NLLs")
    return scores, notes


def _subset(n: int, size: int | None, seed: int) -> np.ndarray:
    """Sorted indices of a seeded random ``size`` of n rows (all of them when size is None)."""
    if size is None or size >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def _units_note(loss: str, decoder_scale: str, shift: float) -> str:
    if loss == "bce":
        return "elbo, iwae_nll: Bernoulli probabilities of the scaled values (no unit to convert)"
    density = {"mse": "Gaussian", "mae": "Laplace"}[loss]
    scale = "learned" if decoder_scale == "learned" else "fixed at 1 (an older run)"
    return (
        f"elbo, iwae_nll: {density} decoder, scale {scale}; densities in the data's own units: "
        f"the scaling's log-Jacobian ({shift:+.2f} nats per sample) is added to the figures of "
        "the scaled space the model sees"
    )
