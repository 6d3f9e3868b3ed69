"""Likelihood figures of a VAE on held-out data: the ELBO and the importance-weighted bound.

Both work on the torch network (``models.VAENet``) and data already in its scaled space, in nats
per sample. The ELBO is E_q[log p(x|z)] - KL(q(z|x) || p(z)) with the KL in closed form and one
draw of z per sample. The IWAE bound (Burda et al. 2016, "Importance Weighted Autoencoders")
log (1/K) sum_k p(x, z_k) / q(z_k|x), z_k ~ q(z|x), is a lower bound on log p(x) that rises to it
as K grows; its negative is the usual "test NLL" of VAE papers. It is computed in chunks of
samples and of K with a running logsumexp, so memory stays bounded whatever K.
"""

from __future__ import annotations

import math

import torch

from .models.vae import VAENet, kl_to_standard_normal

# Most decoder outputs (rows x draws x values) held at once: 2**22 floats = 16 MiB.
MAX_DECODED_VALUES = 2**22


@torch.no_grad()
def elbo(net: VAENet, x: torch.Tensor, *, seed: int = 0) -> torch.Tensor:
    """ELBO (n,) in nats of each sample of x (n, *input_shape), one draw of z each."""
    generator = torch.Generator().manual_seed(seed)
    net.eval()
    out = []
    for chunk in _row_chunks(net, x, draws=1):
        mean, logvar = net.posterior(chunk)
        eps = torch.randn(mean.shape, generator=generator).to(mean.device)
        z = mean + torch.exp(0.5 * logvar) * eps
        recon = net.reconstruction_nll(net.decode_raw(z), chunk)
        out.append(-(recon + kl_to_standard_normal(mean, logvar)).cpu())
    return torch.cat(out)


@torch.no_grad()
def iwae_log_likelihood(
    net: VAENet, x: torch.Tensor, *, samples: int = 1000, seed: int = 0
) -> torch.Tensor:
    """Importance-weighted estimate (n,) of log p(x) in nats, with ``samples`` draws each."""
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    generator = torch.Generator().manual_seed(seed)
    net.eval()
    d = x[0].numel()
    draws = max(1, min(samples, MAX_DECODED_VALUES // d))
    out = []
    for chunk in _row_chunks(net, x, draws=draws):
        mean, logvar = net.posterior(chunk)  # (B, k)
        std = torch.exp(0.5 * logvar)
        total = torch.full((len(chunk),), -math.inf, device=mean.device)
        for start in range(0, samples, draws):
            k = min(draws, samples - start)
            eps = torch.randn((k, *mean.shape), generator=generator).to(mean.device)  # (k, B, z)
            z = mean + std * eps
            raw = net.decode_raw(z.flatten(0, 1))  # (k * B, *input_shape)
            target = chunk.expand(k, *chunk.shape).flatten(0, 1)
            log_px_z = -net.reconstruction_nll(raw, target).view(k, len(chunk))
            log_pz = _standard_normal_log_density(z)
            log_qz = _standard_normal_log_density(eps) - logvar.sum(dim=1) / 2
            log_w = log_px_z + log_pz - log_qz  # (k, B)
            total = torch.logaddexp(total, torch.logsumexp(log_w, dim=0))
        out.append((total - math.log(samples)).cpu())
    return torch.cat(out)


def _standard_normal_log_density(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I) summed over the last axis."""
    return -0.5 * (z.pow(2).sum(dim=-1) + z.shape[-1] * math.log(2 * math.pi))


def _row_chunks(net: VAENet, x: torch.Tensor, *, draws: int):
    """Chunks of x on the network's device small enough for ``draws`` decodes each."""
    device = next(net.parameters()).device
    rows = max(1, MAX_DECODED_VALUES // (draws * x[0].numel()))
    for begin in range(0, len(x), rows):
        yield x[begin : begin + rows].to(device)


def vae_scores(
    net: VAENet, x: torch.Tensor, *, iw_samples: int = 1000, seed: int = 0
) -> tuple[dict[str, float], list[str]]:
    """ELBO and, for Bernoulli decoders on [0, 1] data, the IWAE test NLL; with notes.

    x: (n, *input_shape) in the network's scaled space. Returns ``{"elbo": nats per sample,
    "iwae_nll": nats per sample}`` (means over x) and lines saying what was computed or why not.
    """
    scores = {"elbo": float(elbo(net, x, seed=seed).mean())}
    notes = [f"elbo: evidence lower bound in nats per sample (mean over {len(x)}), one draw each"]
    if net.config.loss != "bce":
        notes.append(
            f"no iwae_nll: the decoder is not Bernoulli (loss {net.config.loss!r}), so its "
            "likelihood is a density of scaled values, not comparable with published NLLs"
        )
    elif x.min() < 0 or x.max() > 1:
        notes.append("no iwae_nll: the scaled test data leave [0, 1], where Bernoulli has no mass")
    else:
        nll = -iwae_log_likelihood(net, x, samples=iw_samples, seed=seed).mean()
        scores["iwae_nll"] = float(nll)
        notes.append(f"iwae_nll: importance-weighted test NLL in nats per sample, K={iw_samples}")
        if not bool(((x == 0) | (x == 1)).all()):
            notes.append("the test data are not binary: Bernoulli NLLs of grey values are not NLLs")
    return scores, notes
