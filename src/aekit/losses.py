"""Reconstruction losses: the one definition of each, per sample.

Every loss returns one value per sample, the mean over that sample's values, so the training
loss and the reported metrics are in the same per-value units whatever the input size.
BCE is computed from logits (log-sum-exp form inside torch), which stays finite where
sigmoid-then-log would overflow.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

LOSSES = ("mse", "bce", "mae")


def reconstruction_loss(name: str, raw: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample loss (B,) of the decoder's raw output against ``target`` (B, ...).

    ``raw`` is logits for "bce", and the reconstruction itself for "mse" and "mae".
    """
    if name == "mse":
        per_value = F.mse_loss(raw, target, reduction="none")
    elif name == "bce":
        per_value = F.binary_cross_entropy_with_logits(raw, target, reduction="none")
    elif name == "mae":
        per_value = F.l1_loss(raw, target, reduction="none")
    else:
        raise ValueError(f"unknown loss {name!r}")
    return per_value.flatten(1).mean(dim=1)
