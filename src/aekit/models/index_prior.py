"""A VQ-VAE's prior over its codes: p(i_1, ..., i_P) = prod_t p(i_t | i_1, ..., i_(t-1)), the
codebook indices of an (h, w) grid in raster order, modelled by a small PixelCNN (van den Oord
et al. 2016), as the VQ-VAE paper does: masked convolutions, so each position sees only the
positions before it (a first 3x3 convolution that hides the centre, then residual 3x3 ones
that may see it).

It is fitted after the autoencoder's training (``fit``), on the training data's index grids
with the codebook fixed: a few thousand small steps, seconds to a minute on CPU for
Fashion-MNIST's 7x7 grids. ``IndexSampler`` draws grids one position at a time.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

SAMPLE_BATCH = 1000  # grids drawn at once
# The fit: FIT_EPOCHS passes over the training grids, at least MIN_STEPS and at most MAX_STEPS
# optimiser steps (Fashion-MNIST's 60,000 grids: MAX_STEPS)
FIT_BATCH, FIT_EPOCHS, MIN_STEPS, MAX_STEPS = 64, 2, 100, 1500
FIT_LR = 3e-3


class MaskedConv2d(nn.Conv2d):
    """A convolution that sees only the rows above and, in its own row, the positions to the
    left (and the centre where ``see_centre``)."""

    def __init__(self, channels_in: int, channels_out: int, size: int, *, see_centre: bool):
        super().__init__(channels_in, channels_out, size, padding=size // 2)
        mask = torch.ones(size, size)
        centre = size // 2
        mask[centre, centre + int(see_centre) :] = 0.0
        mask[centre + 1 :] = 0.0
        self.register_buffer("mask", mask[None, None], persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


class _ResidualBlock(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.conv = MaskedConv2d(width, width, 3, see_centre=True)
        self.mix = nn.Conv2d(width, width, 1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.mix(F.relu(self.conv(F.relu(h))))


class IndexPrior(nn.Module):
    """Logits (B, K, h, w) of each position's index given the ones before it in raster order."""

    def __init__(self, grid: tuple[int, int], codebook_size: int, *, width: int, layers: int):
        super().__init__()
        self.grid, self.codebook_size = tuple(grid), codebook_size
        self.tokens = nn.Embedding(codebook_size, width)
        self.first = MaskedConv2d(width, width, 3, see_centre=False)
        self.blocks = nn.Sequential(*(_ResidualBlock(width) for _ in range(layers)))
        self.out = nn.Sequential(nn.ReLU(), nn.Conv2d(width, codebook_size, 1))
        # fitted after the autoencoder's training, not by its optimiser (``fit``)
        self.requires_grad_(False)

    @property
    def positions(self) -> int:
        return math.prod(self.grid)

    def logits(self, codes: torch.Tensor) -> torch.Tensor:
        """codes (B, P) long, P = h * w in raster order -> logits (B, K, h, w)."""
        grid = codes.reshape(len(codes), *self.grid)
        h = self.tokens(grid).permute(0, 3, 1, 2)
        return self.out(self.blocks(self.first(h)))

    def nll(self, codes: torch.Tensor) -> torch.Tensor:
        """-log p(codes) in nats, (B,), of codes (B, P) long."""
        target = codes.reshape(len(codes), *self.grid)
        return F.cross_entropy(self.logits(codes).float(), target, reduction="none").sum((1, 2))

    def fit(self, codes: torch.Tensor, *, seed: int) -> float:
        """Fit on training grids ``codes`` (n, P) long (on this module's device), Adam with a
        learning rate falling linearly to 0; the mean nll per grid of the last 50 steps."""
        n = len(codes)
        batch = min(FIT_BATCH, n)
        steps = min(MAX_STEPS, max(MIN_STEPS, FIT_EPOCHS * math.ceil(n / batch)))
        self.requires_grad_(True)
        optimiser = torch.optim.Adam(self.parameters(), lr=FIT_LR)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: 1.0 - step / steps)
        generator = torch.Generator().manual_seed(seed)
        order, position, recent = torch.randperm(n, generator=generator), 0, []
        self.train()
        for _ in range(steps):
            if position + batch > n:
                order, position = torch.randperm(n, generator=generator), 0
            rows = order[position : position + batch].to(codes.device)
            position += batch
            loss = self.nll(codes[rows]).mean()
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            recent = [*recent[-49:], loss.item()]
        self.eval().requires_grad_(False)
        return float(np.mean(recent))


class IndexSampler:
    """The sampler "prior" of a VQ-VAE: ``sample(n, seed)`` -> (n, P) codes (indices, float32)."""

    def __init__(self, prior: IndexPrior):
        self.prior = prior

    @torch.no_grad()
    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        generator = torch.Generator()
        if seed is None:
            generator.seed()
        else:
            generator.manual_seed(seed)
        was_training = self.prior.training
        self.prior.eval()
        parts = [self._draw(min(SAMPLE_BATCH, n - i), generator) for i in range(0, n, SAMPLE_BATCH)]
        self.prior.train(was_training)
        return torch.cat(parts).float().numpy() if parts else np.zeros((0, self.prior.positions))

    def _draw(self, n: int, generator: torch.Generator) -> torch.Tensor:
        device = self.prior.out[1].weight.device
        codes = torch.zeros(n, self.prior.positions, dtype=torch.long, device=device)
        width = self.prior.grid[1]
        for t in range(self.prior.positions):
            logits = self.prior.logits(codes)[:, :, t // width, t % width].float().cpu()
            draws = torch.multinomial(logits.softmax(1), 1, generator=generator)
            codes[:, t] = draws[:, 0].to(device)
        return codes.cpu()
