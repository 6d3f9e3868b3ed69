"""Mixed precision: bf16 autocast for the training step where the hardware runs it natively.

Weights, gradients and optimiser state stay float32; only the forward pass's matrix products
and convolutions run in bfloat16 (``torch.autocast``), which halves their memory traffic and,
on CPUs with AVX512-BF16 or AMX and on GPUs since Ampere, runs them on bf16 units.
"""

from __future__ import annotations

import contextlib

import torch

from ..errors import ConfigError


def native_bf16(device: torch.device) -> bool:
    """True where bf16 matrix products run on native units: AVX512-BF16/AMX CPUs, Ampere+ GPUs."""
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()


def resolve_precision(name: str, device: torch.device, backbone: str) -> str:
    """The precision a run trains in: "fp32" or "bf16".

    "auto" is bf16 for the conv backbone where the hardware runs bf16 natively (measured: see
    benchmarks/precision.py) and fp32 otherwise: an MLP's small matrix products gain less, and a
    linear path that starts at PCA's solution must not lose to PCA by bf16's rounding.
    "bf16" without native support is an error rather than a silent slowdown (emulated bf16 is
    slower than fp32).
    """
    if name == "auto":
        return "bf16" if backbone == "conv" and native_bf16(device) else "fp32"
    if name == "bf16" and not native_bf16(device):
        raise ConfigError(
            f"precision bf16 was asked for, but this {device.type} has no native bf16 support "
            "(AVX512-BF16/AMX, or a GPU since Ampere); use precision='fp32' or 'auto'"
        )
    return name


def autocast(precision: str, device: torch.device):
    """The context the training step's forward pass runs in."""
    if precision != "bf16":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)
