"""Tests for aekit.reports.drawing: valid PNGs, written atomically, for grey and RGB images,
histories, code maps and per-feature errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image
from png_checks import grid_tiles, read_rgb, tile_pixels

from aekit.errors import AekitError, DataError
from aekit.reports.drawing import (
    code_map,
    error_curves,
    feature_errors,
    image_grid,
    loss_curves,
    png_bytes,
    reconstruction_grid,
    save_figure,
    save_image_grid,
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
    save_figure(reconstruction_grid(originals, reconstructions, n=6), path)
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


def test_long_row_titles_fit_inside_the_picture() -> None:
    """A title of many characters widens the margin instead of running off the left edge
    (generation.py's "pythae WAE_MMD" lost its first letter)."""
    rows = [np.zeros((2, 1, 8, 8)), np.ones((2, 1, 8, 8))]
    titles = ["pythae WAE_MMD\nGaussian mixture", "a much longer row title than any other"]
    figure = image_grid(rows, row_titles=titles)
    renderer = figure.canvas.get_renderer()
    texts = figure.axes[0].texts
    assert [text.get_text() for text in texts] == titles
    for text in texts:
        box = text.get_window_extent(renderer)
        assert box.x0 >= 0, f"{text.get_text()!r} starts {-box.x0:.0f} px left of the picture"


def test_grid_rejects_bad_channels(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="C = 1"):
        save_image_grid(tmp_path / "bad.png", [np.zeros((2, 4, 8, 8))])
    assert list(tmp_path.iterdir()) == []


def test_loss_curve_with_and_without_validation(tmp_path: Path) -> None:
    history = [
        {"epoch": e, "train_loss": 1.0 / e, "val_loss": 1.2 / e + 0.01 * e} for e in range(1, 9)
    ]
    path = tmp_path / "loss.png"
    save_figure(loss_curves(history), path)
    width, height = _check_png(path)
    assert width >= 300 and height >= 200
    assert read_rgb(path).std() > 10  # not blank
    assert _pixels_near(path, TRAIN_BLUE) > 50 and _pixels_near(path, VAL_ORANGE) > 50

    # Negative losses (e.g. a Gaussian log-likelihood) cannot go on a log axis.
    train_only = [{"epoch": e, "train_loss": 1.0 - e} for e in range(1, 4)]
    other = tmp_path / "train_only" / "loss.png"
    save_figure(loss_curves(train_only), other)
    _check_png(other)
    assert _pixels_near(other, TRAIN_BLUE) > 50 and _pixels_near(other, VAL_ORANGE) == 0


def test_loss_curve_rejects_empty_history(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="empty"):
        loss_curves([])


def test_error_curves_draw_each_line_and_the_dashed_baseline(tmp_path: Path) -> None:
    sizes = [2, 4, 8, 16]
    path = tmp_path / "sweep.png"
    figure = error_curves(
        [
            ("aekit loss=mse", sizes, [0.05, 0.03, 0.02, 0.01]),
            ("aekit loss=bce", sizes[:2], [0.06, 0.04]),
        ],
        baseline=("PCA", sizes, [0.08, 0.06, 0.04, 0.03]),
    )
    save_figure(figure, path)
    _check_png(path)
    assert _pixels_near(path, TRAIN_BLUE) > 50 and _pixels_near(path, VAL_ORANGE) > 50
    one_size = tmp_path / "one" / "sweep.png"
    save_figure(error_curves([("aekit", [32], [0.01])], baseline=("PCA", [32], [0.02])), one_size)
    assert _pixels_near(one_size, TRAIN_BLUE) > 20  # a single point is still drawn
    with pytest.raises(DataError, match="curve 'aekit' has 2 code sizes and 1 errors"):
        error_curves([("aekit", [2, 4], [0.1])])
    with pytest.raises(DataError, match="no curves"):
        error_curves([])


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
        save_figure(loss_curves([{"epoch": 1, "train_loss": 0.5}]), path)
    assert path.read_bytes() == b"previous plot"
    assert [p.name for p in tmp_path.iterdir()] == ["loss.png"]


def test_loss_curves_show_every_logged_term_beside_the_loss() -> None:
    history = [
        {
            "epoch": e,
            "train_loss": 10.0 / e,
            "val_loss": 11.0 / e,
            "train_reconstruction": 9.0 / e,
            "train_kl": 1.0,
        }
        for e in range(1, 6)
    ]
    figure = loss_curves(history)
    loss_axes, term_axes = figure.axes
    assert [line.get_label() for line in loss_axes.get_lines()] == ["train loss", "validation loss"]
    assert [line.get_label() for line in term_axes.get_lines()] == ["kl", "reconstruction"]
    np.testing.assert_allclose(term_axes.get_lines()[0].get_ydata(), 1.0)
    # no terms, or one (the loss itself): one panel
    assert len(loss_curves([{"epoch": 1, "train_loss": 1.0}]).axes) == 1
    assert (
        len(loss_curves([{"epoch": 1, "train_loss": 1.0, "train_reconstruction": 1.0}]).axes) == 1
    )


def test_loss_curves_mark_each_learning_rate_drop() -> None:
    history = [{"epoch": e, "train_loss": 1.0 / e, "val_loss": 1.0} for e in range(1, 9)]
    history[2]["lr_drop"], history[5]["lr_drop"] = 1, 2
    lines = loss_curves(history).axes[0].get_lines()
    marks = [line for line in lines if line.get_linestyle() == "--"]
    assert [list(line.get_xdata()) for line in marks] == [[3, 3], [6, 6]]
    assert [line.get_label() for line in marks][0] == "stalled: learning rate x0.1"
    # the marks span the axes, not the data: the losses, all positive, keep their log axis
    assert loss_curves(history).axes[0].get_yscale() == "log"


def test_code_map_colours_each_label() -> None:
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(0, 0.3, (50, 2)), rng.normal(3, 0.3, (50, 2))])
    labels = np.repeat(["shoe", "shirt"], 50)
    figure = code_map(points, labels, axis_names=("PC 1", "PC 2"))
    ax = figure.axes[0]
    drawn = {c.get_label(): c for c in ax.collections}
    np.testing.assert_allclose(drawn["shoe"].get_offsets(), points[:50])
    np.testing.assert_allclose(drawn["shirt"].get_offsets(), points[50:])
    colours = {name: tuple(c.get_facecolor()[0][:3]) for name, c in drawn.items()}
    assert colours["shoe"] != colours["shirt"]
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["shirt", "shoe"]
    assert ax.get_xlabel() == "PC 1" and png_bytes(figure)[:8] == PNG_SIGNATURE
    # one number per code: spread vertically; many numeric labels: a colour scale
    one = code_map(points[:, :1], rng.normal(size=100))
    assert len(one.axes) == 2 and one.axes[0].get_yticks().size == 0  # the plot and a colour bar
    with pytest.raises(DataError, match=r"\(n, 1\) or \(n, 2\)"):
        code_map(np.zeros((5, 3)))


def test_feature_errors_show_the_largest_first() -> None:
    errors = np.array([0.1, 3.0, 0.5])
    ax = feature_errors(["a", "b", "c"], errors, unit="MSE").axes[0]
    labels = [tick.get_text() for tick in ax.get_yticklabels()]
    widths = {bar.get_y(): bar.get_width() for bar in ax.patches}
    assert labels == ["b", "c", "a"]  # ticks bottom to top: the largest error at the top
    assert [widths[y] for y in sorted(widths)] == [0.1, 0.5, 3.0]
    many = feature_errors([f"f{i}" for i in range(100)], np.arange(100.0), unit="MSE").axes[0]
    assert len(many.patches) == 40 and "40 features" in many.get_title()
    with pytest.raises(DataError, match="2 feature names"):
        feature_errors(["a", "b"], errors, unit="MSE")
