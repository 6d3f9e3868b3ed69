"""Reconstruction losses: the one definition of each.

A loss is the mean over a sample's values, so the training loss and the reported metrics are in
the same per-value units whatever the input size. BCE is computed from logits (log-sum-exp form
inside torch), which stays finite where sigmoid-then-log would overflow.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

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
