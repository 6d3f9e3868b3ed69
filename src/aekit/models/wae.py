"""The Wasserstein autoencoder, WAE-MMD (Tolstikhin, Bousquet, Gelly, Schoelkopf, "Wasserstein
Auto-Encoders", ICLR 2018).

A deterministic encoder, as the plain autoencoder's; the loss is the reconstruction cost plus
``mmd_weight`` times the maximum mean discrepancy between the batch's codes and as many draws of
the prior N(0, I). Matching the codes' distribution as a whole, not each code's posterior as a
VAE does, lets codes of different inputs stay apart, and new samples are decoded draws of the
prior. As in the paper, the cost is the squared error summed over a sample's values (per-value
mean times their count: a weight that does not depend on the data's width), and the kernel is
the inverse multiquadratic k(x, y) = C / (C + |x - y|^2), summed over the paper's scales of
C = 2 k s^2 (k the code size, s^2 = 1 the prior's variance); the MMD is the unbiased estimate.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import torch

from ..nn.losses import reconstruction_loss
from ..options.declaring import option
from ..options.saved_values import option_value, saved
from ..options.train_config import TrainConfig
from .family import BackboneConfig, Family
from .interpolation import spherical_path
from .priors import CodeMixtureOptions, StandardNormal

# The paper's multiples of the base scale C = 2 k s^2, summed: one scale misses discrepancies
# at other distances
KERNEL_SCALES = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


@dataclass
class WAEOptions(CodeMixtureOptions):
    """The WAE's own option: how much the codes' distribution is pulled to the prior (and the
    code mixture's, inherited)."""

    mmd_weight: float = option(
        10.0,
        kind="number",
        low=0.0,
        low_open=True,
        group="model",
        metavar="LAMBDA",
        help="weight of the MMD between the codes and the prior N(0, I) (the paper's lambda)",
    )


_OPTIONS = {f.name: f for f in fields(WAEOptions)}


@dataclass
class WAEConfig(BackboneConfig):
    """The backbone plus the weight of the MMD term."""

    mmd_weight: float = saved(option_value(_OPTIONS["mmd_weight"], required=True), default=10.0)


class WAENet(Family):
    """encode: (B, *input_shape) -> (B, code_size); decode as the autoencoder; codes are
    pulled to the prior N(0, I), which new samples are drawn from."""

    family_name = "wae"
    display_name = "Wasserstein autoencoder (WAE-MMD)"
    options_class = WAEOptions
    config_class = WAEConfig

    @classmethod
    def config_for(cls, backbone: BackboneConfig, config: TrainConfig) -> WAEConfig:
        shared = BackboneConfig.shared_fields(backbone)
        return WAEConfig(**shared, mmd_weight=config.family_options.mmd_weight)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def code_prior(self) -> StandardNormal:
        return StandardNormal(self.config.code_size)

    def prior_description(self) -> str:
        return "the prior N(0, I)"

    def interpolation_path(self, z_a: np.ndarray, z_b: np.ndarray, steps: int) -> np.ndarray:
        """Along the great circle, as the prior's mass lies near a shell."""
        return spherical_path(z_a, z_b, steps)

    def loss(
        self, x: torch.Tensor, target: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, dict]:
        """Mean over the batch of the summed reconstruction cost, plus the weighted MMD."""
        target = x if target is None else target
        z = self.encode(x)
        raw = self.loss_input(self.decode_raw(z))
        per_value = reconstruction_loss(self.config.loss, raw, target, per_sample=False)
        cost = per_value * target[0].numel()  # summed over a sample's values
        mmd = mmd_to_standard_normal(z)
        loss = cost + self.config.mmd_weight * mmd
        return loss, {"reconstruction": cost.detach(), "mmd": mmd.detach()}


def mmd_to_standard_normal(z: torch.Tensor) -> torch.Tensor:
    """The unbiased MMD^2 estimate between codes z (B, k) and B draws of N(0, I), with the
    inverse multiquadratic kernel at ``KERNEL_SCALES``; 0 for fewer than 2 codes."""
    n, k = z.shape
    if n < 2:
        return z.sum() * 0.0
    prior = torch.randn_like(z)
    base = 2.0 * k  # 2 k s^2 with the prior's variance s^2 = 1
    off_diagonal = 1.0 - torch.eye(n, device=z.device, dtype=z.dtype)
    total = z.new_zeros(())
    for scale in KERNEL_SCALES:
        c = base * scale
        within_codes = _imq(z, z, c) * off_diagonal
        within_prior = _imq(prior, prior, c) * off_diagonal
        between = _imq(z, prior, c)
        total = total + (within_codes.sum() + within_prior.sum()) / (n * (n - 1))
        total = total - 2.0 * between.mean()
    return total


def _imq(a: torch.Tensor, b: torch.Tensor, c: float) -> torch.Tensor:
    """The kernel C / (C + |a_i - b_j|^2) of every pair, (n, m)."""
    # squared distances from the norms (cdist's gradient is unstable at distance 0)
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return c / (c + squared.clamp_min(0.0))
