"""Convolutional encoder/decoder for images: (B, C, H, W) <-> (B, code_size), or, for codes
that are grids (a VQ-VAE's), (B, C, H, W) <-> (B, D, h, w).

Each stage halves the spatial size with a stride-2 convolution and refines with a residual 3x3
convolution; the decoder mirrors the encoder stage by stage, with transposed convolutions whose
output padding is computed from the encoder's sizes so any H, W round-trips (odd sizes too).
Both work in channels-last memory layout, which oneDNN runs about 20% faster on CPUs.

The decoder's last stage, the one at full resolution, comes in two kinds (``DECODER_HEADS``):
"transposed" mirrors the encoder there too (a transposed convolution to full size, then a 3x3
convolution to the image's channels), "shuffle" predicts the full-size image's channels from the
half-size grid with one 3x3 convolution to 4x the channels and a pixel shuffle (Shi et al.
2016), cropped to the image's size. The full-resolution layers are the costliest per channel,
and the shuffle head has none: epochs about 20% faster for the same loss per epoch.
"""

from __future__ import annotations

import torch
from torch import nn

from .mlp import make_activation


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)
    return nn.Identity()


class _Refine(nn.Module):
    """x + act(norm(conv3x3(x))): extra depth at the same resolution, cheap to optimise."""

    def __init__(self, channels: int, activation: str, norm: str):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1),
            _norm(norm, channels),
            make_activation(activation),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def stage_sizes(size: tuple[int, int], n_stages: int) -> list[tuple[int, int]]:
    """Spatial sizes after 0..n_stages stride-2 stages (ceil halving)."""
    sizes = [size]
    for _ in range(n_stages):
        h, w = sizes[-1]
        sizes.append(((h + 1) // 2, (w + 1) // 2))
    return sizes


def encoder_stages(
    in_channels: int, channels: list[int], activation: str, norm: str
) -> nn.Sequential:
    """(B, in_channels, H, W) -> (B, channels[-1], h, w): one stride-2 stage per entry."""
    layers: list[nn.Module] = []
    for out_ch in channels:
        layers += [
            nn.Conv2d(in_channels, out_ch, 3, stride=2, padding=1),
            _norm(norm, out_ch),
            make_activation(activation),
            _Refine(out_ch, activation, norm),
        ]
        in_channels = out_ch
    return nn.Sequential(*layers)


DECODER_HEADS = ("transposed", "shuffle")


class _Crop(nn.Module):
    """(B, C, H', W') -> (B, C, H, W), H <= H', W <= W': the top-left part."""

    def __init__(self, size: tuple[int, int]):
        super().__init__()
        self.size = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, : self.size[0], : self.size[1]]


def decoder_stages(
    input_shape: tuple[int, int, int],
    channels: list[int],
    activation: str,
    norm: str,
    head: str = "transposed",
) -> nn.Sequential:
    """(B, channels[-1], h, w) -> (B, C, H, W) raw output: ``encoder_stages`` mirrored, the
    last stage as ``head`` (one of ``DECODER_HEADS``) says."""
    if head not in DECODER_HEADS:
        raise ValueError(f"head must be one of {DECODER_HEADS}, got {head!r}")
    out_ch, h, w = input_shape
    sizes = stage_sizes((h, w), len(channels))
    layers: list[nn.Module] = [make_activation(activation)]
    reversed_channels = list(reversed(channels))
    targets = list(reversed(sizes[:-1]))
    for i, (ch, target) in enumerate(zip(reversed_channels, targets, strict=True)):
        source = sizes[len(channels) - i]
        layers.append(_Refine(ch, activation, norm))
        if i + 1 == len(channels) and head == "shuffle":
            layers += [
                nn.Conv2d(ch, out_ch * 4, 3, padding=1),
                nn.PixelShuffle(2),  # (4C, h, w) -> (C, 2h, 2w)
                _Crop(target),  # 2h is H + 1 where H is odd
            ]
            return nn.Sequential(*layers)
        next_ch = reversed_channels[i + 1] if i + 1 < len(channels) else channels[0]
        padding = (target[0] - (2 * source[0] - 1), target[1] - (2 * source[1] - 1))
        layers += [
            nn.ConvTranspose2d(ch, next_ch, 3, stride=2, padding=1, output_padding=padding),
            _norm(norm, next_ch),
            make_activation(activation),
        ]
    layers.append(nn.Conv2d(channels[0], out_ch, 3, padding=1))
    return nn.Sequential(*layers)


class ConvEncoder(nn.Module):
    def __init__(
        self,
        input_shape: tuple[int, int, int],
        channels: list[int],
        code_size: int,
        *,
        activation: str,
        norm: str,
    ):
        super().__init__()
        in_ch, h, w = input_shape
        self.features = encoder_stages(in_ch, channels, activation, norm)
        last_h, last_w = stage_sizes((h, w), len(channels))[-1]
        self.to_code = nn.Linear(channels[-1] * last_h * last_w, code_size)
        self.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous(memory_format=torch.channels_last)
        return self.to_code(self.features(x).flatten(1))  # (B, C, H, W) -> (B, code_size)


class ConvDecoder(nn.Module):
    def __init__(
        self,
        input_shape: tuple[int, int, int],
        channels: list[int],
        code_size: int,
        *,
        activation: str,
        norm: str,
        head: str = "transposed",
    ):
        super().__init__()
        sizes = stage_sizes(tuple(input_shape[1:]), len(channels))
        self.start_shape = (channels[-1], *sizes[-1])
        self.from_code = nn.Linear(code_size, channels[-1] * sizes[-1][0] * sizes[-1][1])
        self.features = decoder_stages(input_shape, channels, activation, norm, head)
        self.to(memory_format=torch.channels_last)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.from_code(z).view(z.shape[0], *self.start_shape)
        x = x.contiguous(memory_format=torch.channels_last)
        return self.features(x)  # (B, code_size) -> (B, C, H, W) raw output


class ConvGridEncoder(nn.Module):
    """(B, C, H, W) -> (B, D, h, w): the encoder's stages, then a 1x1 convolution to ``depth``
    channels at every position of the last stage's grid, instead of one flat code."""

    def __init__(
        self,
        input_shape: tuple[int, int, int],
        channels: list[int],
        depth: int,
        *,
        activation: str,
        norm: str,
    ):
        super().__init__()
        self.features = encoder_stages(input_shape[0], channels, activation, norm)
        self.to_grid = nn.Conv2d(channels[-1], depth, 1)
        self.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous(memory_format=torch.channels_last)
        return self.to_grid(self.features(x))


class ConvGridDecoder(nn.Module):
    """(B, D, h, w) -> (B, C, H, W) raw output: ``ConvGridEncoder`` mirrored."""

    def __init__(
        self,
        input_shape: tuple[int, int, int],
        channels: list[int],
        depth: int,
        *,
        activation: str,
        norm: str,
        head: str = "transposed",
    ):
        super().__init__()
        self.from_grid = nn.Conv2d(depth, channels[-1], 1)
        self.features = decoder_stages(input_shape, channels, activation, norm, head)
        self.to(memory_format=torch.channels_last)

    def forward(self, grid: torch.Tensor) -> torch.Tensor:
        grid = grid.contiguous(memory_format=torch.channels_last)
        return self.features(self.from_grid(grid))
