"""Corruptions for denoising autoencoders: ``gaussian:0.3``, ``saltpepper:0.1``, ``mask:0.25``.

A spec is ``KIND:AMOUNT``; several specs are applied one after another, in the order given.
Everything happens in the model's scaled space (what the network sees), on a torch tensor,
with random numbers drawn only from the ``torch.Generator`` passed in, so a seeded run draws
the same corruptions every time and a resumed run continues the same stream.

- ``gaussian:SIGMA`` adds N(0, SIGMA^2) to every value. When the model's output is bounded to
  [0, 1] (minmax-scaled data, BCE), the result is clipped to [0, 1], so noisy inputs stay in
  the range the data lives in.
- ``saltpepper:P`` sets a fraction P of the values (each independently) to the data's minimum
  or maximum, half each on average. Bounded data: 0 and 1. Unbounded data (e.g. standard
  scaling) has no fixed range, so the batch's own minimum and maximum stand in.
- ``mask:P`` sets a fraction P of the values (each independently) to 0. For bounded data that
  is black; for standard-scaled data 0 is the feature's training mean, so masking replaces a
  value with "no information" rather than with an extreme.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..errors import ConfigError

NOISE_KINDS = {
    "gaussian": "gaussian:SIGMA, SIGMA > 0 (adds N(0, SIGMA^2))",
    "saltpepper": "saltpepper:P, 0 < P <= 1 (sets a fraction P to the min or max)",
    "mask": "mask:P, 0 < P < 1 (sets a fraction P to 0)",
}


@dataclass(frozen=True)
class NoiseSpec:
    """One parsed corruption: its kind and its amount (sigma or fraction)."""

    kind: str
    amount: float

    def __str__(self) -> str:
        return f"{self.kind}:{self.amount:g}"


def parse_noise(spec: str) -> NoiseSpec:
    """``"gaussian:0.3"`` -> NoiseSpec("gaussian", 0.3); ConfigError naming a bad spec."""
    valid = "; ".join(NOISE_KINDS.values())
    if not isinstance(spec, str):
        raise ConfigError(f"noise must be a spec like 'gaussian:0.3', got {spec!r}; valid: {valid}")
    kind, _, amount_text = spec.strip().partition(":")
    kind = kind.strip().lower()
    if kind not in NOISE_KINDS:
        raise ConfigError(f"unknown noise {spec!r}: valid kinds are {valid}")
    try:
        amount = float(amount_text)
    except ValueError:
        raise ConfigError(
            f"noise {spec!r} needs a number after the colon: {NOISE_KINDS[kind]}"
        ) from None
    in_range = {
        "gaussian": 0 < amount < float("inf"),
        "saltpepper": 0 < amount <= 1,
        "mask": 0 < amount < 1,
    }[kind]
    if not in_range:
        raise ConfigError(f"noise {spec!r} is out of range: {NOISE_KINDS[kind]}")
    return NoiseSpec(kind, amount)


def normalise_noise(noise) -> list[str] | None:
    """A spec, a list of specs or None -> a list of canonical specs (or None); validates each."""
    if noise is None:
        return None
    specs = [noise] if isinstance(noise, str) else noise
    if not isinstance(specs, list | tuple) or not specs:
        raise ConfigError(
            f"noise must be a spec like 'gaussian:0.3' or a list of them, got {noise!r}"
        )
    return [str(parse_noise(spec)) for spec in specs]


class Corruption:
    """Corrupts a batch (B, ...) in the scaled space: ``corrupt(x, generator) -> noisy x``.

    bounded: True when the scaled data lives in [0, 1] (the model's output is sigmoid or clamp),
    which sets the clipping of gaussian noise and the values of salt and pepper (see the module
    docstring). The input is never modified in place.
    """

    def __init__(self, specs: list[str], *, bounded: bool):
        self.specs = [parse_noise(spec) for spec in specs]
        self.bounded = bounded

    def __repr__(self) -> str:
        return f"Corruption({[str(s) for s in self.specs]}, bounded={self.bounded})"

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        for spec in self.specs:
            x = getattr(self, f"_{spec.kind}")(x, spec.amount, generator)
        return x

    def _gaussian(self, x: torch.Tensor, sigma: float, generator: torch.Generator) -> torch.Tensor:
        noisy = x + sigma * torch.randn(x.shape, generator=generator, device=x.device)
        return noisy.clamp(0.0, 1.0) if self.bounded else noisy

    def _saltpepper(self, x: torch.Tensor, p: float, generator: torch.Generator) -> torch.Tensor:
        u = torch.rand(x.shape, generator=generator, device=x.device)
        low, high = (0.0, 1.0) if self.bounded else (x.min(), x.max())
        # u < p/2: pepper (min); p/2 <= u < p: salt (max); else untouched
        salted = torch.where(u < p, torch.as_tensor(high, dtype=x.dtype, device=x.device), x)
        return torch.where(u < p / 2, torch.as_tensor(low, dtype=x.dtype, device=x.device), salted)

    def _mask(self, x: torch.Tensor, p: float, generator: torch.Generator) -> torch.Tensor:
        keep = torch.rand(x.shape, generator=generator, device=x.device) >= p
        return x * keep


def corrupt_array(x: np.ndarray, specs: list[str], *, bounded: bool, seed: int) -> np.ndarray:
    """Seeded corruption of a whole array (n, ...) of scaled data, for evaluation and plots.

    The same ``seed`` gives the same corruption. Salt and pepper on unbounded data take the
    whole array's min and max (one "batch").
    """
    generator = torch.Generator().manual_seed(seed)
    tensor = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    return Corruption(specs, bounded=bounded)(tensor, generator).numpy()
