"""Tests for aekit.plots: valid PNGs, written atomically, for grey and RGB images and histories."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from aekit.errors import AekitError, DataError
from aekit.plots import save_image_grid, save_loss_curve, save_reconstruction_grid

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _check_png(path: Path) -> tuple[int, int]:
    """Assert ``path`` is a PNG Pillow can read and nothing else is left in its folder."""
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(path) as image:
        image.load()
        assert image.format == "PNG"
        size = image.size
    assert [p.name for p in path.parent.iterdir()] == [path.name], "temporary files left behind"
    return size


def test_grey_reconstruction_grid(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    originals = rng.random((12, 1, 28, 28))
    path = tmp_path / "recon.png"
    save_reconstruction_grid(path, originals, originals * 0.9, n=6)
    width, height = _check_png(path)
    assert 300 <= width <= 2000 and 100 <= height <= 1000
    assert width > height  # 6 columns, 2 rows


def test_rgb_grid_with_titles_and_out_of_range_values(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rows = [rng.normal(size=(3, 3, 16, 16)), rng.random((5, 3, 16, 16)), rng.random((4, 3, 16, 16))]
    path = tmp_path / "grid.png"
    save_image_grid(path, rows, row_titles=["noisy", "denoised", "clean"], max_columns=4)
    width, height = _check_png(path)
    assert width >= 100 and height >= 100


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

    # Negative losses (e.g. a Gaussian log-likelihood) cannot go on a log axis.
    train_only = [{"epoch": e, "train_loss": 1.0 - e} for e in range(1, 4)]
    other = tmp_path / "train_only" / "loss.png"
    save_loss_curve(other, train_only)
    _check_png(other)


def test_loss_curve_rejects_empty_history(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="empty"):
        save_loss_curve(tmp_path / "loss.png", [])


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
