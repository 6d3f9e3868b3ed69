"""Checks that a weights file fits the network its config.json describes: names, shapes, dtypes,
finite values. Read before any weight is loaded, so a foreign or damaged file is a clear error."""

from __future__ import annotations

from pathlib import Path

import torch

from ..errors import ModelFileError


def check_weights(
    expected: dict[str, torch.Tensor], weights: dict[str, torch.Tensor], path: str | Path
) -> None:
    """Raise ModelFileError naming ``path`` and the tensor unless ``weights`` fit the network.

    expected: the network's state dict (a network on the meta device is enough: only names,
    shapes and dtypes are compared). weights: the tensors read from ``path``.
    """
    for name, want in expected.items():
        if name not in weights:
            raise ModelFileError(
                f"{path}: tensor {name!r} must be present with shape {tuple(want.shape)} for the "
                "network in config.json, got no such tensor"
            )
        got = weights[name]
        if got.shape != want.shape:
            raise ModelFileError(
                f"{path}: tensor {name!r} must have shape {tuple(want.shape)} for the network in "
                f"config.json, got shape {tuple(got.shape)}"
            )
        if got.dtype != want.dtype:
            raise ModelFileError(
                f"{path}: tensor {name!r} must have dtype {_dtype(want)}, got {_dtype(got)}"
            )
        if got.is_floating_point() and not torch.isfinite(got).all():
            raise ModelFileError(f"{path}: tensor {name!r} must be finite, got NaN or Inf values")
    extra = [name for name in weights if name not in expected]
    if extra:
        raise ModelFileError(
            f"{path}: tensor {extra[0]!r} (shape {tuple(weights[extra[0]].shape)}) is not part "
            "of the network in config.json; the weights are for a different network"
        )


def _dtype(tensor: torch.Tensor) -> str:
    return str(tensor.dtype).removeprefix("torch.")
