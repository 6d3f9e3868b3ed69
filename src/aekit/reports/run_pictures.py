"""A run's pictures, drawn from its folder's files only: the model (config.json,
model.safetensors, code_density.json), the history (metrics.jsonl) and the data the run recorded
(``evaluation.run_data``), never from a training call's objects, so any run can be drawn, runs
saved before these pictures existed included.

>>> pictures = RunPictures("runs/digits")       # shown on the run's held-out data
>>> pictures.code_map().savefig("codes.png")    # each method returns a matplotlib Figure

Which pictures a run gets (``available``): every run its loss curves and, given data to show,
its code map; image runs originals over reconstructions, samples from the prior or the code
density, interpolation strips and (trained with noise) the denoising triptych; tables the
reconstruction error of each feature.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from sklearn.decomposition import PCA

from ..errors import ConfigError
from ..evaluation.denoising import corrupt_samples
from ..evaluation.run_data import HeldOut, held_out_part, label_for, unfound_data
from ..trained.autoencoder import Autoencoder
from . import drawing as plots

MAX_MAPPED_CODES = 2000  # points on the code map: enough to show its clusters, quick to encode
SHOWN_IMAGES = 10  # originals, reconstructions and the denoising triptych: one row each
SAMPLE_ROWS = 2  # rows of SHOWN_IMAGES samples
INTERPOLATION_STEPS = 10
INTERPOLATION_STRIPS = 3


class RunPictures:
    """The pictures of the run in ``run`` (a folder), each as a ``matplotlib.figure.Figure``.

    ``data``: what the pictures that need data show: None for the run's own held-out data (a
    built-in's test split, or the validation part a file run held out; see
    ``evaluation.run_data``), or any source the model takes (a file, a built-in such as
    ``"digits:test"``, an array, a DataFrame). A run trained on in-memory data records no source:
    without ``data`` it draws only what needs none (loss curves, samples); so does a run whose
    recorded data file is not found from here (``unfound``, see ``run_data.unfound_data``).
    """

    def __init__(self, run: str | Path, data=None):
        self.folder = Path(run)
        self.model = Autoencoder.load(self.folder)
        self.unfound = unfound_data(self.model) if data is None else None
        self.shown = _shown_data(self.model, data) if self.unfound is None else None

    @property
    def is_image(self) -> bool:
        """True for a model of grey or RGB images, which get image pictures."""
        shape = self.model.sample_shape
        return len(shape) == 3 and shape[0] in (1, 3)

    def available(self) -> dict[str, Callable[[], Figure]]:
        """The pictures this run can draw, by name (the run folder's file names, ``runs``)."""
        model, shown = self.model, self.shown
        drawers = {"loss": self.loss_curves} if model.history else {}
        if shown is not None and model.net.vector_codes:
            drawers["codes"] = self.code_map
        if self.is_image:
            if shown is not None:
                drawers["reconstructions"] = self.reconstructions
                if len(shown.data) >= 2 and model.net.vector_codes:  # a path between codes
                    drawers["interpolation"] = self.interpolation
            if model.can_sample:
                drawers["samples"] = self.samples
            if shown is not None and model.train_config.noise:
                drawers["denoising"] = self.denoising
        elif shown is not None:
            drawers["feature_errors"] = self.feature_errors
        return drawers

    def loss_curves(self) -> Figure:
        """Training and validation loss per epoch, beside every logged loss term."""
        return plots.loss_curves(self.model.history)

    def code_map(self) -> Figure:
        """The codes of (up to 2000 of) the data shown, coloured by label where there are
        labels: the codes themselves when they have two numbers (or one), else their first
        two principal components."""
        data = self._data()
        rows = _some_rows(len(data.x), MAX_MAPPED_CODES, self.model.train_config.seed)
        codes = self.model.encode(data.x[rows])
        labels = data.y[rows] if data.y is not None else None
        title = f"codes of {len(rows)} samples of {data.name}"
        if codes.shape[1] <= 2:
            return plots.code_map(codes, labels, title=title)
        pca = PCA(n_components=2, random_state=0).fit(codes)
        names = [
            f"PC {i + 1} of the codes ({share:.0%} of their variance)"
            for i, share in enumerate(pca.explained_variance_ratio_)
        ]
        return plots.code_map(pca.transform(codes), labels, axis_names=names, title=title)

    def reconstructions(self) -> Figure:
        """The first 10 images shown above their reconstructions."""
        originals = self._images()[:SHOWN_IMAGES]
        rebuilt = self.model.reconstruct(originals).reshape(originals.shape)
        return plots.reconstruction_grid(self._display(originals), self._display(rebuilt))

    def samples(self) -> Figure:
        """New images: decoded draws from the family's prior or the training codes' density."""
        self._need_images("samples")
        model = self.model
        drawn = model.sample(SHOWN_IMAGES * SAMPLE_ROWS, seed=model.train_config.seed)
        drawn = self._display(drawn.reshape(len(drawn), *model.sample_shape))
        rows = [drawn[i : i + SHOWN_IMAGES] for i in range(0, len(drawn), SHOWN_IMAGES)]
        return plots.image_grid(rows, max_columns=SHOWN_IMAGES)

    def interpolation(self) -> Figure:
        """Decodes along the path between the codes of pairs of images (of different labels
        where there are labels), one strip per pair, endpoints included."""
        images, labels = self._images(), self._data().y
        strips, titles = [], []
        for a, b in _pairs(len(images), labels):
            path = self.model.interpolate(images[a], images[b], steps=INTERPOLATION_STEPS)
            strips.append(self._display(path.reshape(len(path), *self.model.sample_shape)))
            titles.append(f"#{a} to #{b}")
        return plots.image_grid(strips, row_titles=titles, max_columns=INTERPOLATION_STEPS)

    def denoising(self) -> Figure:
        """The first 10 images corrupted as in training (seeded), the model's denoised output,
        and the clean images."""
        noise = self.model.train_config.noise
        if not noise:
            raise ConfigError(f"{self.folder} was trained without noise: it has no denoising")
        clean = self._images()[:SHOWN_IMAGES]
        noisy = corrupt_samples(self.model, clean, noise, self.model.train_config.seed)
        denoised = self.model.denoise(noisy).reshape(noisy.shape)
        return plots.denoising_grid(*(self._display(x) for x in (noisy, denoised, clean)))

    def feature_errors(self) -> Figure:
        """A table's mean squared reconstruction error of each feature, in the scaled space the
        model sees (so features in different units compare)."""
        model = self.model
        if len(model.sample_shape) != 1:
            raise ConfigError(
                f"{self.folder} is an image model: per-feature errors are drawn for tables "
                "(see reconstructions)"
            )
        x = self._data().x
        scaled = model.scale(x)
        errors = np.mean((model.scale(model.reconstruct(x)) - scaled) ** 2, axis=0)
        names = model.data_info.feature_names or [f"x{i}" for i in range(len(errors))]
        if model.scaler.per_feature:
            unit = "mean squared error per feature (standardised units, as the model sees them)"
        else:
            unit = "mean squared error per feature (all values scaled together, as the model sees)"
        return plots.feature_errors(names, errors, unit=unit)

    def _data(self):
        if self.shown is None:
            why = (
                f"its data file {self.unfound} is not found from here"
                if self.unfound is not None
                else "it was trained on in-memory data"
            )
            raise ConfigError(
                f"{self.folder} has no data of its own to show ({why}): pass data= (CLI: --data)"
            )
        return self.shown.data

    def _images(self) -> np.ndarray:
        self._need_images("image pictures")
        return self._data().x

    def _need_images(self, what: str) -> None:
        if not self.is_image:
            raise ConfigError(
                f"{self.folder} is a model of samples of shape {self.model.sample_shape}: "
                f"{what} are drawn for grey or RGB images (see feature_errors for tables)"
            )

    def _display(self, x: np.ndarray) -> np.ndarray:
        """Images mapped to [0, 1] by the training data's range, for plotting."""
        info = self.model.data_info
        low, high = info.data_min, info.data_max
        return np.clip((x - low) / max(high - low, 1e-12), 0, 1)


def _shown_data(model: Autoencoder, data) -> HeldOut | None:
    """``data`` as the data shown: the run's held-out data when None."""
    if data is None:
        return held_out_part(model)
    if isinstance(data, HeldOut):
        return data
    loaded = model.load_input(data, label=label_for(model, data, None), default_split="test")
    return HeldOut(loaded, f"{loaded.name}, as given")


def _some_rows(n: int, most: int, seed: int) -> np.ndarray:
    """All of range(n), or a seeded random ``most`` of them, in order."""
    if n <= most:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=most, replace=False))


def _pairs(n: int, labels: np.ndarray | None) -> list[tuple[int, int]]:
    """Up to three pairs of distinct rows to interpolate between: the first rows of different
    labels where there are at least two labels, else rows 0 and 1, 2 and 3, ..."""
    if labels is not None:
        _, firsts = np.unique(labels, return_index=True)
        firsts = sorted(int(i) for i in firsts)
        if len(firsts) >= 2:
            count = min(INTERPOLATION_STRIPS, len(firsts) // 2)
            return [(firsts[2 * i], firsts[2 * i + 1]) for i in range(count)]
    return [(i, i + 1) for i in range(0, min(n - 1, 2 * INTERPOLATION_STRIPS), 2)]
