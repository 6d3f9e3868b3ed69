"""Tests for aekit.plots: valid PNGs, written atomically, for grey and RGB images and histories."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image
from png_checks import grid_tiles, read_rgb, tile_pixels

from aekit.errors import AekitError, DataError
from aekit.plots import (
    save_error_curves,
    save_image_grid,
    save_loss_curve,
    save_reconstruction_grid,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TITLE_MARGIN = 130  # pixels left of the tiles where row titles go (1.3 inches at 100 dpi)
TRAIN_BLUE, VAL_ORANGE = (31, 119, 180), (255, 127, 14)  # matplotlib's first two line colours


def _check_png(path: Path) -> tuple[int, int]:
    """Assert ``path`` is a PNG Pillow can read and nothing else is left in its folder."""
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(path) as image:
        image.load()
        assert image.format == "PNG"
        size = image.size
    assert [p.name for p in path.parent.iterdir()] == [path.name], "temporary files left behind"
    return size


def _pixels_near(path: Path, colour: tuple[int, int, int]) -> int:
    return int((np.abs(read_rgb(path).astype(int) - colour).max(axis=2) <= 8).sum())


def test_grey_reconstruction_grid_shows_the_images(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    originals = rng.uniform(0.05, 0.9, (12, 1, 28, 28))  # no white: tiles stand out
    reconstructions = originals[::-1] * 0.5
    path = tmp_path / "recon.png"
    save_reconstruction_grid(path, originals, reconstructions, n=6)
    width, height = _check_png(path)
    assert 300 <= width <= 2000 and 100 <= height <= 1000
    tiles = grid_tiles(path, left=TITLE_MARGIN)
    assert [len(row) for row in tiles] == [6, 6]  # the first 6, originals above reconstructions
    for shown, row in zip((originals, reconstructions), tiles, strict=True):
        for image, box in zip(shown, row, strict=False):
            grey = tile_pixels(path, box, 28, 28)
            np.testing.assert_allclose(grey[..., 0], image[0], atol=0.02)
            assert np.array_equal(grey[..., 0], grey[..., 2])


def test_rgb_grid_with_titles_and_out_of_range_values(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rows = [rng.normal(size=(3, 3, 16, 16)), rng.random((5, 3, 16, 16)), rng.random((4, 3, 16, 16))]
    rows[1] = rows[1] * 0.8 + 0.1  # no white pixels in this row, so its tiles can be found
    path = tmp_path / "grid.png"
    save_image_grid(path, rows, row_titles=["noisy", "denoised", "clean"], max_columns=4)
    width, height = _check_png(path)
    assert width >= 100 and height >= 100
    tiles = grid_tiles(path, left=TITLE_MARGIN)
    assert len(tiles) == 3 and len(tiles[1]) == 4  # 5 images, at most 4 columns
    for image, box in zip(rows[1], tiles[1], strict=False):
        np.testing.assert_allclose(
            tile_pixels(path, box, 16, 16), image.transpose(1, 2, 0), atol=0.02
        )


def test_grid_rejects_bad_channels(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="C = 1"):
        save_image_grid(tmp_path / "bad.png", [np.zeros((2, 4, 8, 8))])
    assert list(tmp_path.iterdir()) == []


def test_loss_curve_with_and_without_validation(tmp_path: Path) -> None:
    history = [
        {"epoch": e, "train_loss": 1.0 / e, "val_loss": 1.2 / e + 0.01 * e} for e in range(1, 9)
    ]
    path = tmp_path / "loss.png"
    save_loss_curve(path, history)
    width, height = _check_png(path)
    assert width >= 300 and height >= 200
    assert read_rgb(path).std() > 10  # not blank
    assert _pixels_near(path, TRAIN_BLUE) > 50 and _pixels_near(path, VAL_ORANGE) > 50

    # Negative losses (e.g. a Gaussian log-likelihood) cannot go on a log axis.
    train_only = [{"epoch": e, "train_loss": 1.0 - e} for e in range(1, 4)]
    other = tmp_path / "train_only" / "loss.png"
    save_loss_curve(other, train_only)
    _check_png(other)
    assert _pixels_near(other, TRAIN_BLUE) > 50 and _pixels_near(other, VAL_ORANGE) == 0


def test_loss_curve_rejects_empty_history(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="empty"):
        save_loss_curve(tmp_path / "loss.png", [])


def test_error_curves_draw_each_line_and_the_dashed_baseline(tmp_path: Path) -> None:
    sizes = [2, 4, 8, 16]
    path = tmp_path / "sweep.png"
    save_error_curves(
        path,
        [
            ("aekit loss=mse", sizes, [0.05, 0.03, 0.02, 0.01]),
            ("aekit loss=bce", sizes[:2], [0.06, 0.04]),
        ],
        baseline=("PCA", sizes, [0.08, 0.06, 0.04, 0.03]),
    )
    _check_png(path)
    assert _pixels_near(path, TRAIN_BLUE) > 50 and _pixels_near(path, VAL_ORANGE) > 50
    one_size = tmp_path / "one" / "sweep.png"
    save_error_curves(one_size, [("aekit", [32], [0.01])], baseline=("PCA", [32], [0.02]))
    assert _pixels_near(one_size, TRAIN_BLUE) > 20  # a single point is still drawn
    with pytest.raises(DataError, match="curve 'aekit' has 2 code sizes and 1 errors"):
        save_error_curves(tmp_path / "bad.png", [("aekit", [2, 4], [0.1])])
    with pytest.raises(DataError, match="no curves"):
        save_error_curves(tmp_path / "bad.png", [])


def test_failing_write_leaves_existing_file_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "loss.png"
    path.write_bytes(b"previous plot")

    def broken_savefig(self: Figure, fname: Path, **kwargs: object) -> None:
        Path(fname).write_bytes(PNG_SIGNATURE + b"half a picture")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Figure, "savefig", broken_savefig)
    with pytest.raises(AekitError, match="No space left"):
        save_loss_curve(path, [{"epoch": 1, "train_loss": 0.5}])
    assert path.read_bytes() == b"previous plot"
    assert [p.name for p in tmp_path.iterdir()] == ["loss.png"]
