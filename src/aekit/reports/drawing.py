"""Pictures of results: image grids, loss curves, code maps and per-feature errors.

Arrays and histories in, ``matplotlib.figure.Figure`` out (``save_figure`` and ``png_bytes``
turn one into a PNG); nothing here knows about models (``aekit.reports.run_pictures`` draws a run's
pictures with these). Figures are made with an Agg canvas rather than through pyplot, so the
global backend and pyplot's figure registry are never touched (safe in notebooks and threads),
and files are written through ``atomic_path`` so an interrupted save leaves no half PNG.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..atomic_files import atomic_path
from ..errors import ConfigError, DataError
from ..options.defaults import LR_DROP_FACTOR

_DPI = 100
_CELL_INCHES = 1.1  # per image in a grid: 110 px, enough to see a 28x28 digit clearly
_TITLE_INCHES = 1.3  # left margin for row titles
_TILE_GAP = 0.05  # white space between tiles, in tile sizes
_MAX_LEGEND_CLASSES = 20  # more label values than this are coloured without a legend
_MAX_BARS = 40  # per-feature errors: the largest ones, so every bar stays readable
# no "Software" text chunk: the same picture gives the same bytes whatever matplotlib wrote it
_PNG_METADATA = {"Software": None}


def image_grid(
    rows: Sequence[np.ndarray],
    *,
    row_titles: Sequence[str] | None = None,
    max_columns: int = 10,
) -> Figure:
    """Rows of images, one strip per array.

    Used for originals above reconstructions, noisy / denoised / clean triptychs, samples and
    interpolation strips.

    Args:
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

    # One axes holding every tile (an imshow each): axes per tile cost a second of drawing for
    # an interpolation grid of 30 images
    tile_width = images[0].shape[3] / images[0].shape[2]  # in tile heights
    left = _title_margin(row_titles) if row_titles is not None else 0.1
    width = left + _CELL_INCHES * tile_width * n_columns
    height = _CELL_INCHES * len(images)
    figure = _figure(width, height)
    ax = figure.add_axes(
        (left / width, 0.02 / height, 1 - (left + 0.05) / width, 1 - 0.04 / height)
    )
    step_x, step_y = tile_width * (1 + _TILE_GAP), 1 + _TILE_GAP
    for r, row in enumerate(images):
        for c, image in enumerate(row[:n_columns]):
            extent = (c * step_x, c * step_x + tile_width, r * step_y + 1, r * step_y)
            if image.shape[0] == 1:
                ax.imshow(
                    image[0],
                    cmap="gray",
                    vmin=0.0,
                    vmax=1.0,
                    interpolation="nearest",
                    extent=extent,
                )
            else:
                ax.imshow(image.transpose(1, 2, 0), interpolation="nearest", extent=extent)
        if row_titles is not None:
            ax.text(-0.1, r * step_y + 0.5, row_titles[r], ha="right", va="center", fontsize=10)
    ax.set_xlim(0, n_columns * step_x - tile_width * _TILE_GAP)
    ax.set_ylim(len(images) * step_y - _TILE_GAP, 0)
    ax.set_aspect("equal")
    ax.axis("off")
    return figure


def _title_margin(titles: Sequence[str]) -> float:
    """Inches left of the tiles for ``titles`` (drawn at fontsize 10): at least
    ``_TITLE_INCHES``, more where a line is longer, so no title runs off the picture."""
    figure = _figure(1.0, 1.0)
    texts = [figure.text(0, 0, title, fontsize=10) for title in titles]
    renderer = figure.canvas.get_renderer()
    widest = max((text.get_window_extent(renderer).width for text in texts), default=0.0)
    return max(_TITLE_INCHES, widest / _DPI + 0.2)


def reconstruction_grid(
    originals: np.ndarray, reconstructions: np.ndarray, *, n: int = 10
) -> Figure:
    """The first ``n`` originals above their reconstructions, both (N, C, H, W) in [0, 1]."""
    originals, reconstructions = np.asarray(originals), np.asarray(reconstructions)
    if originals.shape != reconstructions.shape:
        raise DataError(
            f"originals {originals.shape} and reconstructions {reconstructions.shape} "
            "differ in shape"
        )
    if n < 1:
        raise ConfigError(f"n must be >= 1, got {n}")
    return image_grid(
        [originals[:n], reconstructions[:n]],
        row_titles=["original", "reconstruction"],
        max_columns=n,
    )


def denoising_grid(noisy: np.ndarray, denoised: np.ndarray, clean: np.ndarray) -> Figure:
    """Noisy inputs above the model's denoised outputs above the clean images, each
    (N, C, H, W) in [0, 1]."""
    return image_grid(
        [noisy, denoised, clean],
        row_titles=["noisy", "denoised", "clean"],
        max_columns=len(clean),
    )


def loss_curves(history: Sequence[dict]) -> Figure:
    """Training and validation loss against epoch and, beside them, every logged loss term.

    Args:
        history: one dict per epoch (metrics.jsonl's rows) with ``"epoch"``, ``"train_loss"``
            and optionally ``"val_loss"`` (missing or None in some epochs is fine) and
            ``"train_<term>"`` for each term of the loss (reconstruction, KL, penalties), drawn
            in a second panel where there are two or more. A panel's y axis is logarithmic
            when every finite value in it is positive; the epoch with the lowest validation
            loss is marked, and so is each epoch after which the learning rate dropped
            (``"lr_drop"``).
    """
    if len(history) == 0:
        raise DataError("the training history is empty: nothing to plot")
    for record in history:
        if "epoch" not in record or "train_loss" not in record:
            raise DataError(
                f"each history entry needs 'epoch' and 'train_loss', got keys {sorted(record)}"
            )
    terms = sorted(
        {key for record in history for key in record if key.startswith("train_")} - {"train_loss"}
    )
    if len(terms) == 1:
        terms = []  # a loss of one term is that term: its panel would repeat the loss
    figure = _figure(6.4 * (2 if terms else 1), 4.2)
    axes = figure.subplots(1, 2 if terms else 1, squeeze=False)[0]
    loss_axes = axes[0]
    _plot_series(loss_axes, history, "train_loss", "train loss")
    val = _plot_series(loss_axes, history, "val_loss", "validation loss")
    if val is not None and np.isfinite(val[1]).any():
        epochs, values = val
        best = int(np.nanargmin(np.where(np.isfinite(values), values, np.nan)))
        loss_axes.scatter(
            [epochs[best]],
            [values[best]],
            s=80,
            facecolors="none",
            edgecolors="black",
            zorder=3,
            label=f"best validation: {values[best]:.4g} at epoch {epochs[best]:g}",
        )
    drops = [record["epoch"] for record in history if record.get("lr_drop")]
    for number, epoch in enumerate(drops):
        # validation stalled after this epoch: the next ones go on from the best weights
        loss_axes.axvline(
            epoch,
            color="grey",
            linestyle="--",
            linewidth=1,
            label=f"stalled: learning rate x{LR_DROP_FACTOR:g}" if number == 0 else None,
            gid=_MARKER,
        )
    _finish_axes(loss_axes, "loss")
    if terms:
        for key in terms:
            _plot_series(axes[1], history, key, key.removeprefix("train_"))
        _finish_axes(axes[1], "loss terms (training, mean per epoch)")
    figure.tight_layout()
    return figure


def code_map(
    points: np.ndarray,
    labels: np.ndarray | None = None,
    *,
    axis_names: Sequence[str] = ("code 0", "code 1"),
    title: str = "",
) -> Figure:
    """A scatter of codes in the plane, coloured by label.

    Args:
        points: (n, 2) positions, or (n, 1) for a one-number code (spread out vertically at
            random, seeded, so its density shows).
        labels: (n,) labels; up to 20 distinct values get a colour each and a legend, more
            numeric values a colour scale, more text values colours without a legend.
        axis_names: the x and y axis titles (the y title is ignored for (n, 1) points).
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] not in (1, 2) or len(points) == 0:
        raise DataError(f"a code map needs (n, 1) or (n, 2) points, n >= 1, got {points.shape}")
    if labels is not None and len(labels) != len(points):
        raise DataError(f"{len(labels)} labels for {len(points)} points")
    one_number = points.shape[1] == 1
    if one_number:
        jitter = np.random.default_rng(0).uniform(-1, 1, len(points))
        points = np.column_stack([points[:, 0], jitter])
        axis_names = (axis_names[0], "(spread at random to show density)")
    figure = _figure(6.4, 5.2)
    ax = figure.subplots()
    size = 12 if len(points) <= 1000 else 6
    if labels is None:
        ax.scatter(points[:, 0], points[:, 1], s=size, alpha=0.7, linewidths=0)
    else:
        _scatter_by_label(figure, ax, points, np.asarray(labels), size)
    ax.set_xlabel(axis_names[0])
    ax.set_ylabel(axis_names[1])
    if one_number:
        ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    figure.tight_layout()
    return figure


def feature_errors(names: Sequence[str], errors: np.ndarray, *, unit: str) -> Figure:
    """Horizontal bars of each feature's reconstruction error, largest first (the 40 largest
    where there are more); ``unit`` names what the errors measure, for the axis title."""
    errors = np.asarray(errors, dtype=np.float64)
    if errors.ndim != 1 or len(errors) == 0 or len(names) != len(errors):
        raise DataError(f"{len(names)} feature names for errors of shape {errors.shape}")
    order = np.argsort(-errors, kind="stable")[:_MAX_BARS]
    shown = len(order)
    figure = _figure(6.4, 1.2 + 0.22 * shown)
    ax = figure.subplots()
    positions = np.arange(shown)[::-1]  # the largest at the top
    ax.barh(positions, errors[order], color="#1f77b4")
    ax.set_yticks(positions, [str(names[i]) for i in order], fontsize=8)
    ax.set_xlabel(unit)
    if shown < len(errors):
        ax.set_title(f"the {shown} features with the largest error, of {len(errors)}", fontsize=10)
    ax.grid(True, axis="x", alpha=0.3)
    figure.tight_layout()
    return figure


def png_bytes(figure: Figure) -> bytes:
    """``figure`` rendered as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI, metadata=_PNG_METADATA)
    return buffer.getvalue()


def save_figure(figure: Figure, path: str | os.PathLike) -> None:
    """Write ``figure`` to ``path`` as a PNG, atomically."""
    with atomic_path(path) as tmp:
        # The temporary name ends in .tmp, so the format cannot be guessed from it.
        figure.savefig(tmp, format="png", dpi=_DPI, metadata=_PNG_METADATA)


def save_image_grid(path: str | os.PathLike, rows: Sequence[np.ndarray], **options) -> None:
    """``image_grid(rows, **options)`` written to ``path`` as a PNG."""
    save_figure(image_grid(rows, **options), path)


# a vertical line marking an epoch: its y values span the axes (0 to 1), not the data
_MARKER = "epoch-marker"


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), dpi=_DPI)
    FigureCanvasAgg(figure)
    return figure


def _plot_series(ax, history: Sequence[dict], key: str, label: str):
    """Plot ``key`` against epoch where it is logged; (epochs, values) or None if never."""
    pairs = [
        (float(record["epoch"]), float(record[key]))
        for record in history
        if record.get(key) is not None
    ]
    if not pairs:
        return None
    epochs, values = (np.array(column) for column in zip(*pairs, strict=True))
    ax.plot(epochs, values, marker="o", markersize=3, label=label)
    return epochs, values


def _finish_axes(ax, title: str) -> None:
    # Losses often fall by orders of magnitude; a log axis shows the later epochs too, but
    # only works when there is nothing <= 0 to draw.
    series = [line.get_ydata() for line in ax.get_lines() if line.get_gid() != _MARKER]
    values = np.concatenate(series)
    finite = values[np.isfinite(values)]
    if len(finite) and finite.min() > 0:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)


def _scatter_by_label(figure: Figure, ax, points: np.ndarray, labels: np.ndarray, size) -> None:
    values = np.unique(labels)
    numeric = np.issubdtype(labels.dtype, np.number)
    if len(values) > _MAX_LEGEND_CLASSES and numeric:
        drawn = ax.scatter(
            points[:, 0], points[:, 1], c=labels, s=size, alpha=0.7, linewidths=0, cmap="viridis"
        )
        figure.colorbar(drawn, ax=ax, label="label")
        return
    palette = matplotlib.colormaps["tab10" if len(values) <= 10 else "tab20"]
    for index, value in enumerate(values):
        chosen = labels == value
        ax.scatter(
            points[chosen, 0],
            points[chosen, 1],
            s=size,
            alpha=0.7,
            linewidths=0,
            color=palette(index % palette.N),
            label=str(value),
        )
    if len(values) <= _MAX_LEGEND_CLASSES:
        ax.legend(title="label", fontsize=8, markerscale=2, loc="best")


def error_curves(
    curves: Sequence[tuple[str, Sequence[float], Sequence[float]]],
    *,
    baseline: tuple[str, Sequence[float], Sequence[float]] | None = None,
    x_label: str = "code size",
    y_label: str = "MSE",
) -> Figure:
    """Errors against code size, one line per curve (a sweep's figure).

    Args:
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
    return figure


def _as_images(row: np.ndarray, index: int) -> np.ndarray:
    """Check one row of the grid and return it as float in [0, 1], shape (n, C, H, W)."""
    row = np.asarray(row)
    if row.ndim != 4 or row.shape[1] not in (1, 3):
        raise DataError(
            f"row {index} of the image grid has shape {row.shape}; expected (n, C, H, W) "
            f"with C = 1 (grey) or 3 (RGB)"
        )
    return np.clip(row.astype(np.float32), 0.0, 1.0)
