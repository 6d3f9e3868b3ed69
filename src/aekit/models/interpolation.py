"""Paths between two codes, for interpolation: a straight line, or a great circle.

A family picks its path (``Family.interpolation_path``). Under a N(0, I) prior the line is a
great circle (spherical interpolation, Shoemake 1985; White 2016, "Sampling Generative
Networks"): in k dimensions a N(0, I) draw lies near the shell of radius sqrt(k), and the
straight line between two such codes dips through the low-norm middle, where the prior (and so
the decoder's training) has almost no codes.
"""

from __future__ import annotations

import numpy as np


def linear_path(z_a: np.ndarray, z_b: np.ndarray, steps: int) -> np.ndarray:
    """(steps, k) points from z_a to z_b (k,) on a straight line, endpoints included."""
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return ((1 - t) * z_a + t * z_b).astype(np.float32)


def spherical_path(z_a: np.ndarray, z_b: np.ndarray, steps: int) -> np.ndarray:
    """(steps, k) points from z_a to z_b on the great circle, norms interpolated linearly."""
    norm_a, norm_b = np.linalg.norm(z_a), np.linalg.norm(z_b)
    if min(norm_a, norm_b) < 1e-12:
        return linear_path(z_a, z_b, steps)  # no direction to rotate from
    cos = np.clip(np.dot(z_a / norm_a, z_b / norm_b), -1.0, 1.0)
    omega = np.arccos(cos)
    if np.sin(omega) < 1e-6:
        return linear_path(z_a, z_b, steps)  # (anti)parallel: the great circle is not unique
    t = np.linspace(0.0, 1.0, steps)[:, None]
    # slerp of the unit directions (equal angles per step), scaled by the linearly
    # interpolated norm: slerp of the codes themselves bends the norm when the two differ
    unit_a, unit_b = z_a / norm_a, z_b / norm_b
    direction = (np.sin((1 - t) * omega) * unit_a + np.sin(t * omega) * unit_b) / np.sin(omega)
    path = ((1 - t) * norm_a + t * norm_b) * direction
    path[0], path[-1] = z_a, z_b  # exact endpoints, free of rounding
    return path.astype(np.float32)
