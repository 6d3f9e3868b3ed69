"""The trained autoencoder users hold: arrays in, arrays out, in the data's own units.

It is the one class users hold: its methods are each short, and their reference reads best in
one place. The run files, the family's behaviour and the checks of what it is given live in
``aekit.runs``, ``aekit.models``, ``aekit.data`` and ``inputs``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .._version import __version__
from ..data import Columns, load_data
from ..data.codes import checked_codes
from ..data.scaling import Scaler
from ..data.streaming import streams
from ..errors import ConfigError, DataError, ModelFileError, warn
from ..models import MODELS, BackboneConfig
from ..models.options import family_options_dict, saved_config
from ..models.priors import CodeDensity
from ..options.declaring import spec_of
from ..options.train_config import TrainConfig, shared_fields
from ..runs.data_info import DataInfo
from ..runs.files import CONFIG_FILE, WEIGHTS_FILE
from ..runs.folder import read_code_density, read_run, write_run
from ..runs.saving import writer_lock
from ..runs.schema import check_config, saved_options
from ..runs.weights_check import check_weights
from .inputs import check_count, check_steps, shape_mismatch
from .onnx_export import export_onnx
from .streamed import INFERENCE_BATCH, streamed_outputs

# What is built (saved as config.json's "model_options") and how it is trained ("train")
_MODEL_OPTIONS = tuple(f.name for f in shared_fields() if spec_of(f).group == "model")
_TRAINING_OPTIONS = tuple(f.name for f in shared_fields() if spec_of(f).group == "training")


class Autoencoder:
    """A trained autoencoder with its scaler: ``encode``, ``decode``, ``reconstruct``, ``save``.

    Made by ``aekit.train`` or ``aekit.load``. Inputs may be anything ``load_data`` reads:
    NumPy arrays, pandas DataFrames, paths, ``aekit.data.Dataset`` (tables are matched by name
    to the training columns, see ``load_input``); outputs are NumPy arrays. Inference runs in
    eval mode, so it is deterministic.
    """

    def __init__(
        self,
        net: torch.nn.Module,
        scaler: Scaler,
        *,
        data_info: DataInfo,
        train_config: TrainConfig,
        history: list[dict] | None = None,
        result: dict | None = None,
        code_density: CodeDensity | None = None,
    ):
        self.net = net.eval()
        # plain autoencoders: a density fitted on the training codes, to sample new codes from
        self._code_density = code_density
        self._density_to_fit: np.ndarray | None = None
        self.scaler = scaler
        self.data_info = data_info
        self.train_config = train_config
        self.history = history or []
        self.result = result or {}

    @property
    def code_density(self) -> CodeDensity | None:
        """The density sampled codes come from (a plain autoencoder's), fitted on first use."""
        if self._density_to_fit is not None:
            codes = self._density_to_fit
            self._code_density = self.net.fit_prior(codes, self.train_config)
            self._density_to_fit = None
        return self._code_density

    @code_density.setter
    def code_density(self, density: CodeDensity | None) -> None:
        self._code_density, self._density_to_fit = density, None

    def fit_code_density_on_use(self, codes: np.ndarray) -> None:
        """Fit the density sampled codes come from (``Family.fit_prior``) on the training
        ``codes`` when it is first needed (sampling, saving).

        The Gaussian mixture's fit is a tenth of a short training call, and most calls never
        sample; the fit is seeded, so fitting later gives the same density.
        """
        self._code_density, self._density_to_fit = None, codes

    @property
    def code_size(self) -> int:
        return self.net.config.code_size

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """Shape of one sample as the model takes it: (d,) or (C, H, W)."""
        return tuple(self.net.config.input_shape)

    @property
    def output_shape(self) -> tuple[int, ...]:
        """Shape of one sample as the training data had it, e.g. (28, 28) for (n, 28, 28) arrays."""
        return tuple(self.data_info.output_shape or self.sample_shape)

    @property
    def _grey_shape(self) -> tuple[int, ...] | None:
        """(H, W) for a grey image model: how one image without its channel axis looks."""
        shape = self.sample_shape
        return shape[1:] if len(shape) == 3 and shape[0] == 1 else None

    @property
    def net_config(self) -> BackboneConfig:
        return self.net.config

    # -- the mirror pair -------------------------------------------------------------------
    def encode(self, x, *, sample: bool = False, seed=None) -> np.ndarray:
        """x: (n, *sample_shape) data -> (n, code_size) float32 codes.

        A VAE gives its posterior means; with ``sample=True`` a draw from each posterior
        (``seed``, an int or a NumPy Generator, makes it reproducible; a family with a
        deterministic encoder has none). A .npy, CSV or Parquet file larger than
        ``data.streaming.STREAM_ABOVE_BYTES`` is read a block of rows at a time.
        """
        if streams(x, "auto"):
            path = Path(x).expanduser()
            return np.concatenate(
                list(streamed_outputs(self, "encode", path, sample=sample, seed=seed))
            )
        scaled = self._scaled_tensor(x)
        if not sample:
            return self._batched(self.net.encode, scaled).reshape(len(scaled), -1)
        shape = (len(scaled), self.code_size)
        eps = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
        return self._batched(self.net.encode_sample, scaled, torch.from_numpy(eps))

    def decode(self, z) -> np.ndarray:
        """z: (n, code_size) codes -> (n, *output_shape) data in original units.

        An array of codes is taken in order; a table (a DataFrame, or a Dataset read from a
        CSV/Parquet file) is matched by name to the columns z0, z1, ... that ``encode`` writes.
        """
        codes = checked_codes(z, self.code_size)
        out = self._batched(self.net.decode, torch.from_numpy(codes))
        return self.unscale(out.reshape(len(codes), -1)).reshape(len(codes), *self.output_shape)

    # -- generation ------------------------------------------------------------------------
    @property
    def model_type(self) -> str:
        """The family's name in ``models.MODELS``: "ae" or "vae"."""
        return self.net.family_name

    def require_vector_codes(self, what: str) -> None:
        """ConfigError where this model's codes are not flat vectors, which ``what`` needs."""
        if not self.net.vector_codes:
            raise ConfigError(
                f"{what} needs codes that are flat vectors of numbers; this "
                f"{self.net.display_name}'s codes are {self.net.code_description}"
            )

    @property
    def can_sample(self) -> bool:
        """Whether ``sample`` has codes to draw: a prior, or a density fitted on training codes."""
        return self.net.code_prior() is not None or self.code_density is not None

    def sample(self, n: int, seed: int | None = None) -> np.ndarray:
        """n new samples (n, *output_shape) in the data's units.

        Decodes draws from the family's prior (a VAE's N(0, I)) or, for a family without one (a
        plain autoencoder), from the Gaussian mixture fitted on its training codes. The same
        ``seed`` gives the same samples.
        """
        check_count(n)
        prior = self.net.code_prior() or self.code_density
        if prior is None:
            raise ConfigError(
                "this model has no code density to sample from (it was trained in memory without "
                "one, or saved without code_density.json); retrain it with aekit.train"
            )
        return self.decode(prior.sample(n, seed).astype(np.float32))

    def interpolate(self, x_a, x_b, steps: int = 10) -> np.ndarray:
        """(steps, *output_shape): decodes of points from x_a's code to x_b's, endpoints included.

        The family picks the path: spherical for a VAE (its prior's mass lies near a shell; see
        ``aekit.models.interpolation``), straight for a plain autoencoder.
        """
        check_steps(steps)
        codes = self.encode(np.concatenate([self.as_samples(x_a), self.as_samples(x_b)]))
        if len(codes) != 2:
            raise DataError(f"interpolate needs one sample at each end, got {len(codes)} in all")
        return self.decode(self.net.interpolation_path(codes[0], codes[1], steps))

    def reconstruct(self, x) -> np.ndarray:
        """decode(encode(x)) in original units; shaped like ``x`` when ``x`` is an array."""
        scaled = self._scaled_tensor(x)
        out = self.unscale(self._batched(self.net, scaled).reshape(len(scaled), -1))
        if isinstance(x, np.ndarray) and x.size == out.size:
            return out.reshape(x.shape)
        return out.reshape(len(out), *self.output_shape)

    def anomaly_scores(self, x) -> np.ndarray:
        """(n,) float64: each sample's mean squared reconstruction error in the scaled space the
        network sees (so every column weighs alike, whatever its units); higher = more unusual.
        """
        scaled = self._scaled_tensor(x)
        return _squared_errors(scaled, self._batched(self.net, scaled))

    def codes_and_anomaly_scores(self, x) -> tuple[np.ndarray, np.ndarray]:
        """(``encode(x)``, ``anomaly_scores(x)``) from one pass through the encoder: what the
        code-distance scores need (``aekit.evaluation.outlier_scores``)."""
        scaled = self._scaled_tensor(x)
        codes = self._batched(self.net.encode, scaled).reshape(len(scaled), -1)
        # the network's forward is decode(encode(x)): the same numbers, decoded from the codes
        rebuilt = self._batched(self.net.decode, torch.from_numpy(codes))
        return codes, _squared_errors(scaled, rebuilt)

    def denoise(self, x) -> np.ndarray:
        """Clean estimate of noisy data ``x``, in original units; shaped like ``x``.

        The same computation as ``reconstruct``, named for the job: a model trained with
        ``noise=`` learned to map corrupted inputs to clean ones. A model trained without it
        warns (an AekitWarning) and reconstructs all the same.
        """
        if not self.train_config.noise:
            warn(
                "this model was trained without noise (noise=, --noise), so it was not taught "
                "to remove any: denoise only gives its reconstruction of the input; train with "
                "noise= (e.g. 'gaussian:0.3') for a denoising autoencoder"
            )
        return self.reconstruct(x)

    def export_onnx(self, path: str | Path, *, part: str = "both") -> Path:
        """Write the model as ONNX, scaling folded in (``onnx_export``); needs aekit[onnx]."""
        return export_onnx(self, path, part=part)

    # -- scaling, for evaluation against baselines in the same space ------------------------
    def scale(self, x) -> np.ndarray:
        """x: data -> (n, d) float32 in the space the network sees."""
        samples = self.as_samples(x)
        with np.errstate(over="ignore", invalid="ignore"):
            scaled = self.scaler.transform(samples.reshape(len(samples), -1))
        if not np.isfinite(scaled).all():
            raise DataError(
                "the data holds values so far outside the training range that scaling them "
                f"overflows float32 (largest magnitude {np.abs(samples).max():.3g})"
            )
        return scaled

    def unscale(self, flat: np.ndarray) -> np.ndarray:
        """(n, d) scaled -> (n, *sample_shape) original units."""
        return self.scaler.inverse_transform(flat).reshape(len(flat), *self.sample_shape)

    def as_samples(self, x) -> np.ndarray:
        """Validate and convert input to (n, *sample_shape) float32; DataError if it cannot fit.

        Tables are matched to the training columns by name (``load_input``). Samples must have
        the training layout, ``sample_shape`` or, for grey images, (H, W): nothing is
        reshaped, as a reshape of data laid out otherwise would give wrong results silently.
        """
        if isinstance(x, np.ndarray) and x.shape in (self.sample_shape, self._grey_shape):
            x = x[None]  # one sample without the batch axis
        data = self.load_input(x)
        samples = data.x
        if samples.shape[1:] != self.sample_shape:
            raise DataError(shape_mismatch(data, self.sample_shape, self._grey_shape))
        return samples

    def load_input(self, source, *, label: str | None = None, default_split: str = "train"):
        """``source`` as a Dataset this model can take: any ``load_data`` source.

        Tables (CSV, Parquet, DataFrame, a Dataset with feature names) are matched to the
        training columns by name, compared as strings; the run's label column is set aside
        when present. Missing or extra columns are a DataError naming them. ``label`` names
        another label column, as in ``load_data``.
        """
        return load_data(source, label=label, default_split=default_split, columns=self.columns)

    @property
    def columns(self) -> Columns | None:
        """The training table's columns, or None when the model was trained on arrays/images."""
        names = self.data_info.feature_names
        return Columns(list(names), self.data_info.label) if names else None

    # -- saving ----------------------------------------------------------------------------
    def config_dict(self) -> dict:
        options = self.train_config.to_dict()
        return {
            "aekit_version": __version__,
            "model_type": self.model_type,
            # the family's own options as given, then its net as built
            "family_options": family_options_dict(self.train_config),
            "net": self.net.config.to_dict(),
            "scaler": self.scaler.to_dict(),
            "data": self.data_info.to_dict(),
            # the options as given (None: picked from the data, as "net" records)
            "model_options": {name: options[name] for name in _MODEL_OPTIONS},
            "train": {name: options[name] for name in _TRAINING_OPTIONS},
            "result": self.result,
        }

    def save(self, folder: str | Path) -> Path:
        """Write config.json, model.safetensors, metrics.jsonl, (a plain autoencoder)
        code_density.json and manifest.json into ``folder``.

        They replace the run files an earlier run left there all together (its checkpoint,
        plots and code density are removed: they would describe another model, and
        ``--resume`` would continue that run), holding the folder's lock. Files aekit does not
        write are left alone.
        """
        with writer_lock(folder):
            return self._save(folder)

    def _save(self, folder: str | Path, checkpoint: Path | None = None) -> Path:
        """``save``, for a caller holding the folder's lock; ``checkpoint``: the one training
        wrote, saved with the run (``aekit.train`` keeps it, so the run can be resumed for more
        epochs or time)."""
        density = self.code_density
        return write_run(
            folder,
            self.config_dict(),
            self.net.state_dict(),
            self.history,
            code_density=density.to_dict() if density is not None else None,
            checkpoint=checkpoint,
        )

    @classmethod
    def load(cls, folder: str | Path) -> Autoencoder:
        """Rebuild a saved model; never executes code from the folder.

        Every problem with the folder's files is a ModelFileError naming the file and the field
        or tensor: the config is checked whole (``run_schema.check_config``) and the weights are
        compared with the network it describes before any real network is built.
        """
        config, weights, history = read_run(folder)
        config_path = Path(folder) / CONFIG_FILE
        check_config(config, config_path)
        model_cls = MODELS[config["model_type"]]
        net_config = model_cls.config_class.from_dict(config["net"])
        try:
            # on the meta device, sizes from an untrusted file cost no memory
            with torch.device("meta"):
                expected = model_cls(net_config).state_dict()
        except (RuntimeError, ValueError, TypeError, OverflowError) as exc:
            raise ModelFileError(f"{config_path}: net cannot be built: {exc}") from None
        check_weights(expected, weights, Path(folder) / WEIGHTS_FILE)
        net = model_cls(net_config)
        net.load_state_dict(weights, strict=True)
        return cls(
            net,
            Scaler.from_dict(config["scaler"]),
            data_info=DataInfo.from_dict(config["data"]),
            train_config=saved_config(saved_options(config)),
            history=history,
            result=config["result"],
            code_density=read_code_density(folder, net_config.code_size),
        )

    # -- internals -------------------------------------------------------------------------
    def _scaled_tensor(self, x) -> torch.Tensor:
        scaled = self.scale(x).reshape(-1, *self.sample_shape)
        return torch.from_numpy(np.ascontiguousarray(scaled))

    @torch.no_grad()
    def _batched(self, fn, x: torch.Tensor, *more: torch.Tensor) -> np.ndarray:
        """fn over batches of x (and of each tensor in ``more``, row for row) on the device."""
        device = next(self.net.parameters()).device
        self.net.eval()
        out = torch.cat(
            [
                fn(*(t[i : i + INFERENCE_BATCH].to(device) for t in (x, *more))).cpu()
                for i in range(0, len(x), INFERENCE_BATCH)
            ]
        ).numpy()
        bad = ~np.isfinite(out.reshape(len(out), -1)).all(axis=1)
        if bad.any():
            # finite inputs, but so far outside the training range that the network overflows
            raise DataError(
                f"the model's output overflows for {bad.sum()} sample(s) (first: row "
                f"{np.flatnonzero(bad)[0]}): their values lie far outside the training data's range"
            )
        return out


def _squared_errors(scaled: torch.Tensor, rebuilt: np.ndarray) -> np.ndarray:
    """(n,) float64: each sample's mean squared error between ``scaled`` and ``rebuilt``."""
    flat = scaled.reshape(len(scaled), -1).numpy().astype(np.float64)
    return np.mean((flat - rebuilt.reshape(len(flat), -1)) ** 2, axis=1)
