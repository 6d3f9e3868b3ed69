"""A VQ-VAE's codebook, learned by exponential moving averages (van den Oord et al. 2017,
appendix A.1), with dead codes restarted.

Each encoder output vector (D numbers) is replaced by its nearest of K codebook vectors. The
codebook is no parameter: after every training batch each vector moves to the moving average of
the encoder outputs assigned to it (decay ``DECAY``; the counts Laplace-smoothed, as in Sonnet's
implementation, so an unused vector never divides by zero). A vector that almost nothing is
assigned to any more (a moving count below ``DEAD_SHARE`` of the average) never learns again
by itself; it restarts at a random encoder output of the batch (Dhariwal et al. 2020, "Jukebox"),
so the whole codebook stays in use. Before the first batch the codebook starts at encoder outputs
of that batch picked by k-means++ seeding (Arthur and Vassilvitskii 2007): spread over where the
data lie, so no two vectors start in one cluster and leave another to share one vector.

Everything runs in float32 with autocast off: distances in bfloat16 would mis-assign vectors.
"""

from __future__ import annotations

import torch
from torch import nn

DECAY = 0.99
SMOOTHING = 1e-5
# A codebook vector whose moving count of assigned outputs falls below this share of the
# average count (outputs per batch / K) is restarted
DEAD_SHARE = 0.03
# A vector starts (and restarts) with a moving count of this many times the dead line: one that
# nothing is assigned to falls below the line after log(1/1.5)/log(DECAY), about 40 batches
START_COUNT = 1.5 * DEAD_SHARE


class EMACodebook(nn.Module):
    """K vectors of D numbers (buffers, saved with the weights); ``forward`` assigns and, in
    training with gradients on, updates."""

    def __init__(self, size: int, depth: int):
        super().__init__()
        self.register_buffer("vectors", torch.zeros(size, depth))
        self.register_buffer("counts", torch.ones(size))  # moving count of assigned outputs
        self.register_buffer("sums", torch.zeros(size, depth))  # moving sum of them
        self.register_buffer("started", torch.zeros((), dtype=torch.bool))

    def nearest(self, z: torch.Tensor) -> torch.Tensor:
        """(N,) long: the index of the codebook vector nearest each row of z (N, D)."""
        with torch.autocast(z.device.type, enabled=False):
            z = z.float()
            squared = (
                (z * z).sum(1, keepdim=True)
                - 2.0 * z @ self.vectors.T
                + (self.vectors * self.vectors).sum(1)[None, :]
            )
            return squared.argmin(1)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(indices (N,), their vectors (N, D) float32) for encoder outputs z (N, D); in training
        (with gradients on, not in validation), the codebook then moves toward its outputs."""
        if self.training and torch.is_grad_enabled():
            with torch.no_grad():
                self._update(z.detach().float())
        indices = self.nearest(z)
        return indices, self.vectors[indices]

    def _update(self, z: torch.Tensor) -> None:
        size = len(self.vectors)
        if not bool(self.started):
            self.vectors.copy_(spread_seeds(z, size))
            # a little above the dead line: no vector looks dead before it has had the batches
            # to earn outputs, and an unused one is restarted soon
            self.counts.fill_(START_COUNT * len(z) / size)
            self.sums.copy_(self.vectors * self.counts[:, None])
            self.started.fill_(True)
        indices = self.nearest(z)
        counts = torch.bincount(indices, minlength=size).float()
        sums = torch.zeros_like(self.sums).index_add_(0, indices, z)
        self.counts.mul_(DECAY).add_(counts, alpha=1.0 - DECAY)
        self.sums.mul_(DECAY).add_(sums, alpha=1.0 - DECAY)
        total = self.counts.sum()
        smoothed = (self.counts + SMOOTHING) / (total + size * SMOOTHING) * total
        self.vectors.copy_(self.sums / smoothed[:, None])
        dead = self.counts < DEAD_SHARE * len(z) / size
        if bool(dead.any()):
            restarts = z[torch.randint(len(z), (int(dead.sum()),), device=z.device)]
            share = START_COUNT * len(z) / size  # as at the start: time to earn its outputs
            self.vectors[dead] = restarts
            self.sums[dead] = restarts * share
            self.counts[dead] = share


def spread_seeds(z: torch.Tensor, size: int) -> torch.Tensor:
    """``size`` rows of z (N, D) by k-means++ seeding: each next row drawn with probability
    proportional to its squared distance to the nearest row already picked."""
    picked = [z[torch.randint(len(z), (1,), device=z.device)][0]]
    nearest = ((z - picked[0]) ** 2).sum(1)
    for _ in range(size - 1):
        # every row equally likely where all are picked already (fewer distinct rows than size)
        weights = nearest + 1e-12 if float(nearest.sum()) > 0 else torch.ones_like(nearest)
        row = z[torch.multinomial(weights, 1)[0]]
        picked.append(row)
        nearest = torch.minimum(nearest, ((z - row) ** 2).sum(1))
    return torch.stack(picked)
