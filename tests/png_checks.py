"""Reading image grids back from PNG files, to check what they show, not only that they exist."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

WHITE = 255


def read_rgb(path: Path) -> np.ndarray:
    """(height, width, 3) uint8 pixels of a PNG."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True in a 1-d mask."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def grid_tiles(path: Path, left: int = 0) -> list[list[tuple[int, int, int, int]]]:
    """Boxes (top, bottom, left, right) of the image tiles of a grid PNG, row by row.

    Tiles are found as the non-white rectangles right of ``left`` pixels (row titles live left
    of that), so the images drawn must have no white pixels of their own.
    """
    pixels = read_rgb(path)[:, left:]
    inked = (pixels != WHITE).any(axis=2)
    rows = [r for r in _runs(inked.any(axis=1)) if r[1] - r[0] > 8]
    columns = [c for c in _runs(inked.any(axis=0)) if c[1] - c[0] > 8]
    return [
        [
            (top, bottom, start + left, end + left)
            for start, end in columns
            if inked[top:bottom, start:end].mean() > 0.9
        ]
        for top, bottom in rows
    ]


def tile_pixels(path: Path, box: tuple[int, int, int, int], height: int, width: int) -> np.ndarray:
    """(height, width, 3) values in [0, 1] read at the centre of each image pixel of a tile."""
    top, bottom, left, right = box
    ys = (top + (np.arange(height) + 0.5) * (bottom - top) / height).astype(int)
    xs = (left + (np.arange(width) + 0.5) * (right - left) / width).astype(int)
    return read_rgb(path)[np.ix_(ys, xs)] / 255.0
