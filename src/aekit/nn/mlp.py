"""Fully connected blocks: the seed article's encoder and decoder, with settable depth."""

from __future__ import annotations

from torch import nn

ACTIVATIONS = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "none": nn.Identity,
}
NORMS = ("none", "batch", "layer")


def make_activation(name: str) -> nn.Module:
    return ACTIVATIONS[name]()


def mlp(
    sizes: list[int], *, activation: str, dropout: float = 0.0, norm: str = "none"
) -> nn.Sequential:
    """Linear layers through ``sizes`` (input first, output last).

    Hidden layers get norm -> activation -> dropout; the last layer is left linear, because it
    is either the code (kept unconstrained) or the decoder's raw output (the loss decides its
    activation).
    """
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(n_in, n_out))
        if i == len(sizes) - 2:
            break
        if norm == "batch":
            layers.append(nn.BatchNorm1d(n_out))
        elif norm == "layer":
            layers.append(nn.LayerNorm(n_out))
        layers.append(make_activation(activation))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)
