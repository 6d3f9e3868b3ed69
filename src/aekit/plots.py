"""Pictures of results: image grids and loss curves, written as PNG files.

Arrays and histories in, PNG out; nothing here knows about models. Figures are drawn on
``matplotlib.figure.Figure`` with an Agg canvas rather than through pyplot, so the global
backend and pyplot's figure registry are never touched (safe in notebooks and threads), and
every file is written through ``atomic_path`` so an interrupted save leaves no half PNG.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .errors import ConfigError, DataError
from .files import atomic_path

_DPI = 100
_CELL_INCHES = 1.1  # per image in a grid: 110 px, enough to see a 28x28 digit clearly
_TITLE_INCHES = 1.3  # left margin for row titles


def save_image_grid(
    path: str | os.PathLike,
    rows: Sequence[np.ndarray],
    *,
    row_titles: Sequence[str] | None = None,
    max_columns: int = 10,
) -> None:
    """Draw rows of images, one strip per array, and save the grid as a PNG.

    Used for originals above reconstructions, noisy / denoised / clean triptychs and samples.

    Args:
        path: where to write the PNG.
        rows: arrays of shape (n, C, H, W) with C = 1 (drawn grey) or C = 3 (RGB), values in
            [0, 1] (clipped). Each row shows its first ``max_columns`` images.
        row_titles: one label per row, drawn at its left.
        max_columns: most images per row.
    """
    if max_columns < 1:
        raise ConfigError(f"max_columns must be >= 1, got {max_columns}")
    if len(rows) == 0:
        raise DataError("no rows of images to draw")
    if row_titles is not None and len(row_titles) != len(rows):
        raise ConfigError(f"{len(row_titles)} row titles for {len(rows)} rows of images")
    images = [_as_images(row, index) for index, row in enumerate(rows)]
    n_columns = min(max_columns, max(len(row) for row in images))
    if n_columns == 0:
        raise DataError("every row of images is empty")

    left = _TITLE_INCHES if row_titles is not None else 0.1
    width = left + _CELL_INCHES * n_columns
    height = _CELL_INCHES * len(images)
    figure = Figure(figsize=(width, height), dpi=_DPI)
    axes = figure.subplots(len(images), n_columns, squeeze=False)
    figure.subplots_adjust(
        left=left / width, right=1 - 0.05 / width, bottom=0.02, top=0.98, wspace=0.05, hspace=0.08
    )
    for r, row in enumerate(images):
        for c in range(n_columns):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if c < len(row):
                image = row[c]
                if image.shape[0] == 1:
                    ax.imshow(image[0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
                else:
                    ax.imshow(image.transpose(1, 2, 0), interpolation="nearest")
        if row_titles is not None:
            axes[r, 0].set_ylabel(
                row_titles[r], rotation=0, ha="right", va="center", fontsize=10, labelpad=8
            )
    _save(figure, path)


def save_reconstruction_grid(
    path: str | os.PathLike, originals: np.ndarray, reconstructions: np.ndarray, *, n: int = 10
) -> None:
    """Save the first ``n`` originals above their reconstructions, both (N, C, H, W) in [0, 1]."""
    originals, reconstructions = np.asarray(originals), np.asarray(reconstructions)
    if originals.shape != reconstructions.shape:
        raise DataError(
            f"originals {originals.shape} and reconstructions {reconstructions.shape} "
            "differ in shape"
        )
    if n < 1:
        raise ConfigError(f"n must be >= 1, got {n}")
    save_image_grid(
        path,
        [originals[:n], reconstructions[:n]],
        row_titles=["original", "reconstruction"],
        max_columns=n,
    )


def save_denoising_grid(
    path: str | os.PathLike, noisy: np.ndarray, denoised: np.ndarray, clean: np.ndarray
) -> None:
    """Save noisy inputs above the model's denoised outputs above the clean images, each
    (N, C, H, W) in [0, 1]."""
    save_image_grid(
        path,
        [noisy, denoised, clean],
        row_titles=["noisy", "denoised", "clean"],
        max_columns=len(clean),
    )


def save_loss_curve(path: str | os.PathLike, history: Sequence[dict]) -> None:
    """Plot training (and validation) loss against epoch and save it as a PNG.

    Args:
        path: where to write the PNG.
        history: one dict per epoch with ``"epoch"``, ``"train_loss"`` and optionally
            ``"val_loss"`` (missing or None in some epochs is fine). The y axis is
            logarithmic when every finite loss is positive; the epoch with the lowest
            validation loss is marked.
    """
    if len(history) == 0:
        raise DataError("the training history is empty: nothing to plot")
    for record in history:
        if "epoch" not in record or "train_loss" not in record:
            raise DataError(
                f"each history entry needs 'epoch' and 'train_loss', got keys {sorted(record)}"
            )
    epochs = np.array([float(record["epoch"]) for record in history])
    train = np.array([float(record["train_loss"]) for record in history])
    val_pairs = [
        (float(record["epoch"]), float(record["val_loss"]))
        for record in history
        if record.get("val_loss") is not None
    ]

    figure = Figure(figsize=(6.4, 4.2), dpi=_DPI)
    ax = figure.subplots()
    ax.plot(epochs, train, marker="o", markersize=3, label="train loss")
    finite = list(train[np.isfinite(train)])
    if val_pairs:
        val_epochs = np.array([epoch for epoch, _ in val_pairs])
        val = np.array([loss for _, loss in val_pairs])
        ax.plot(val_epochs, val, marker="o", markersize=3, label="validation loss")
        finite += list(val[np.isfinite(val)])
        if np.isfinite(val).any():
            best = int(np.nanargmin(np.where(np.isfinite(val), val, np.nan)))
            ax.scatter(
                [val_epochs[best]],
                [val[best]],
                s=80,
                facecolors="none",
                edgecolors="black",
                zorder=3,
                label=f"best validation: {val[best]:.4g} at epoch {val_epochs[best]:g}",
            )
    # Losses often fall by orders of magnitude; a log axis shows the later epochs too, but
    # only works when there is nothing <= 0 to draw.
    if finite and min(finite) > 0:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.grid(True, alpha=0.3)
    ax.legend()
    figure.tight_layout()
    _save(figure, path)


def save_error_curves(
    path: str | os.PathLike,
    curves: Sequence[tuple[str, Sequence[float], Sequence[float]]],
    *,
    baseline: tuple[str, Sequence[float], Sequence[float]] | None = None,
    x_label: str = "code size",
    y_label: str = "MSE",
) -> None:
    """Plot errors against code size, one line per curve, and save the PNG (a sweep's figure).

    Args:
        path: where to write the PNG.
        curves: ``(label, code sizes, errors)`` each; a single point is drawn as a marker.
        baseline: the same for the reference (PCA), drawn dashed in black.
        x_label, y_label: the axes' names. The x axis is log2 with the code sizes as ticks; the
            y axis is logarithmic when every error is positive.
    """
    if not curves:
        raise DataError("no curves to plot")
    figure = Figure(figsize=(7.2, 4.6), dpi=_DPI)
    ax = figure.subplots()
    lines = [*curves, *([baseline] if baseline is not None else [])]
    for index, (label, sizes, errors) in enumerate(lines):
        if len(sizes) != len(errors) or len(sizes) == 0:
            raise DataError(f"curve {label!r} has {len(sizes)} code sizes and {len(errors)} errors")
        dashed = baseline is not None and index == len(lines) - 1
        style = dict(color="black", linestyle="--", marker="s") if dashed else dict(marker="o")
        ax.plot(np.asarray(sizes, float), np.asarray(errors, float), label=label, **style)
    sizes = sorted({float(size) for _, xs, _ in lines for size in xs})
    ax.set_xscale("log", base=2)
    ax.set_xticks(sizes, [f"{size:g}" for size in sizes])
    ax.minorticks_off()
    if len(sizes) == 1:  # one code size: a visible span around it rather than a singular axis
        ax.set_xlim(sizes[0] / 2, sizes[0] * 2)
    errors = np.concatenate([np.asarray(ys, float) for _, _, ys in lines])
    if np.isfinite(errors).any() and errors[np.isfinite(errors)].min() > 0:
        ax.set_yscale("log")
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    figure.tight_layout()
    _save(figure, path)


def _as_images(row: np.ndarray, index: int) -> np.ndarray:
    """Check one row of the grid and return it as float in [0, 1], shape (n, C, H, W)."""
    row = np.asarray(row)
    if row.ndim != 4 or row.shape[1] not in (1, 3):
        raise DataError(
            f"row {index} of the image grid has shape {row.shape}; expected (n, C, H, W) "
            f"with C = 1 (grey) or 3 (RGB)"
        )
    return np.clip(row.astype(np.float32), 0.0, 1.0)


def _save(figure: Figure, path: str | os.PathLike) -> None:
    """Render ``figure`` with Agg and write it to ``path`` as a PNG, atomically."""
    FigureCanvasAgg(figure)
    with atomic_path(path) as tmp:
        # The temporary name ends in .tmp, so the format cannot be guessed from it.
        figure.savefig(tmp, format="png", dpi=_DPI)
