"""The trained autoencoder users hold: arrays in, arrays out, in the data's own units.

One class, its methods each short, so its reference reads in one place; the run files, the
family's behaviour and the input checks live in ``aekit.runs``, ``models``, ``data``, ``inputs``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
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
from .batches import BatchOutputs, row_batches, scaled_batches, squared_errors
from .inputs import check_count, check_steps, shape_mismatch
from .onnx_export import export_onnx
from .sampling import chosen_sampler
from .streamed import streamed_outputs

# What is built (saved as config.json's "model_options") and how it is trained ("train")
_MODEL_OPTIONS = tuple(f.name for f in shared_fields() if spec_of(f).group == "model")
_TRAINING_OPTIONS = tuple(f.name for f in shared_fields() if spec_of(f).group == "training")


class Autoencoder:
    """A trained autoencoder with its scaler: ``encode``, ``decode``, ``reconstruct``, ``save``.

    Made by ``aekit.train`` or ``aekit.load``. Inputs may be anything ``load_data`` reads:
    NumPy arrays, pandas DataFrames, paths, ``aekit.data.Dataset`` (tables are matched by name
    to the training columns, see ``load_input``); outputs are NumPy arrays in the data's own
    units. Inference runs in eval mode, so it is deterministic.

    Attributes
    ----------
    net : Family
        The network (``aekit.models``); ``net.config`` is what was built.
    train_config : TrainConfig
        The options it was trained with; ``history``: one dict per epoch; ``result``: the
        best epoch, why training stopped and the number of processes.
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

        The Gaussian mixture's fit takes seconds (30 components on 8,192 codes of 32: 1.9 s,
        after a 3-epoch MLP training call of 6.9 s on 20,000 Fashion-MNIST rows), and most
        calls never sample; the fit is seeded, so fitting later gives the same density.
        """
        self._code_density, self._density_to_fit = None, codes

    @property
    def code_size(self) -> int:
        """How many numbers one code holds: the code size of vector codes, the positions of a
        grid of codebook indices (``Family.code_shape``)."""
        return math.prod(self.net.code_shape)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """Shape of one sample as the model takes it: (d,) or (C, H, W)."""
        return tuple(self.net.config.input_shape)

    @property
    def output_shape(self) -> tuple[int, ...]:
        """Shape of one sample as the training data had it, e.g. (28, 28) for (n, 28, 28) arrays."""
        return tuple(self.data_info.output_shape or self.sample_shape)

    @property
    def net_config(self) -> BackboneConfig:
        return self.net.config

    # -- the mirror pair -------------------------------------------------------------------
    @torch.inference_mode()
    def encode(self, x, *, sample: bool = False, seed=None) -> np.ndarray:
        """The codes of ``x``: ``(n, *sample_shape)`` data -> ``(n, code_size)`` float32.

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
        samples = self.as_samples(x)
        eps = None
        if sample:
            shape = (len(samples), self.code_size)
            eps = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
        codes = BatchOutputs(len(samples))
        for rows, scaled in self.scaled_batches(samples):
            if eps is None:
                out = self.net.encode(scaled)
            else:
                out = self.net.encode_sample(scaled, torch.from_numpy(eps[rows]).to(scaled.device))
            codes.put(rows, codes.checked(rows, out).reshape(len(out), -1))
        return codes.result()

    @torch.inference_mode()
    def decode(self, z) -> np.ndarray:
        """Samples from codes: ``(n, code_size)`` -> ``(n, *output_shape)``, in original units.

        An array of codes is taken in order; a table (a DataFrame, or a Dataset read from a
        CSV/Parquet file) is matched by name to the columns z0, z1, ... that ``encode`` writes."""
        codes = checked_codes(z, self.code_size)
        device = self._inference_device()
        out = BatchOutputs(len(codes))
        for rows in row_batches(len(codes)):
            rebuilt = out.checked(rows, self.net.decode(torch.from_numpy(codes[rows]).to(device)))
            out.put_unscaled(rows, rebuilt, self.scaler)
        return out.result().reshape(len(codes), *self.output_shape)

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

    def samplers(self) -> tuple[str, ...]:
        """The samplers ``sample`` has, its default first (``sampling``): "mixture" where the run
        has a density fitted on its training codes, "prior" where the family has a prior."""
        names = ("mixture",) if self.code_density is not None else ()
        return names + (("prior",) if self.net.code_prior() is not None else ())

    @property
    def can_sample(self) -> bool:
        """Whether ``sample`` has codes to draw: a prior, or a density fitted on training codes."""
        return bool(self.samplers())

    def sample(self, n: int, seed: int | None = None, *, sampler: str | None = None) -> np.ndarray:
        """``n`` new samples ``(n, *output_shape)`` in the data's units: codes drawn by
        ``sampler``, "mixture" (the Gaussian mixture fitted on the training codes) or "prior"
        (the family's own: N(0, I), a VQ-VAE's autoregressive prior); None: the first of
        ``samplers()``. The same ``seed`` gives the same samples."""
        check_count(n)
        if chosen_sampler(sampler, self.samplers(), self.net) == "prior":
            codes = self.net.code_prior().sample(n, seed)
        else:
            codes = self.code_density.sample(n, seed)
        return self.decode(np.asarray(codes, dtype=np.float32))

    def interpolate(self, x_a, x_b, steps: int = 10) -> np.ndarray:
        """``(steps, *output_shape)``: decodes of points from x_a's code to x_b's, ends included,
        on the family's path (``models.interpolation``: spherical where a prior's mass lies near
        a shell, a VAE's or a WAE's; straight for a plain autoencoder)."""
        check_steps(steps)
        codes = self.encode(np.concatenate([self.as_samples(x_a), self.as_samples(x_b)]))
        if len(codes) != 2:
            raise DataError(f"interpolate needs one sample at each end, got {len(codes)} in all")
        return self.decode(self.net.interpolation_path(codes[0], codes[1], steps))

    @torch.inference_mode()
    def reconstruct(self, x) -> np.ndarray:
        """decode(encode(x)) in original units; shaped like ``x`` when ``x`` is an array."""
        samples = self.as_samples(x)
        out = BatchOutputs(len(samples))
        for rows, scaled in self.scaled_batches(samples):
            out.put_unscaled(rows, out.checked(rows, self.net(scaled)), self.scaler)
        out = out.result()
        same_shape = isinstance(x, np.ndarray) and x.size == out.size
        return out.reshape(x.shape if same_shape else (len(out), *self.output_shape))

    @torch.inference_mode()
    def anomaly_scores(self, x) -> np.ndarray:
        """(n,) float64: each sample's mean squared reconstruction error in the scaled space the
        network sees (every column weighs alike, whatever its units); higher = more unusual."""
        samples = self.as_samples(x)
        scores = BatchOutputs(len(samples))
        for rows, scaled in self.scaled_batches(samples):
            rebuilt = scores.checked(rows, self.net(scaled))
            scores.put(rows, squared_errors(scaled.cpu(), rebuilt))
        return scores.result()

    @torch.inference_mode()
    def codes_and_anomaly_scores(
        self, x, row_errors=squared_errors
    ) -> tuple[np.ndarray, np.ndarray]:
        """(``encode(x)``, ``anomaly_scores(x)``) from one pass through the encoder: what the
        code-distance scores need (``aekit.evaluation.outlier_scores``). ``row_errors(scaled,
        rebuilt)``, (b,) float64 of a batch on the CPU, replaces the mean squared error (the
        image detector's local error: ``aekit.evaluation.detector_terms``)."""
        samples = self.as_samples(x)
        codes, errors = BatchOutputs(len(samples)), BatchOutputs(len(samples))
        for rows, scaled in self.scaled_batches(samples):
            encoded = self.net.encode(scaled).reshape(len(scaled), -1)
            codes.put(rows, codes.checked(rows, encoded))
            # the network's forward is decode(encode(x)): the same numbers, decoded from the codes
            rebuilt = errors.checked(rows, self.net.decode(encoded))
            errors.put(rows, row_errors(scaled.cpu(), rebuilt))
        return codes.result(), errors.result()  # an overflowing code is named first

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
        shape = self.sample_shape
        grey = shape[1:] if len(shape) == 3 and shape[0] == 1 else None  # (H, W) of a grey image
        if isinstance(x, np.ndarray) and x.shape in (shape, grey):
            x = x[None]  # one sample without the batch axis
        data = self.load_input(x)
        if data.x.shape[1:] != shape:
            raise DataError(shape_mismatch(data, shape, grey))
        return data.x

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
        """Write config.json, model.safetensors, metrics.jsonl, code_density.json (a family
        with vector codes) and manifest.json into ``folder``, holding its lock. They replace
        the run files an earlier run left there all together (its checkpoint, plots and code
        density would describe another model); files aekit does not write are left alone."""
        with writer_lock(folder):
            return self._save(folder)

    def _save(self, folder: str | Path, checkpoint: Path | None = None) -> Path:
        """``save``, for a caller holding the folder's lock; ``checkpoint``: the one training
        wrote, saved with the run (``aekit.train`` keeps it, so the run can be resumed for more
        epochs or time)."""
        density = self.code_density.to_dict() if self.code_density is not None else None
        state = self.net.state_dict()
        run = (folder, self.config_dict(), state, self.history)
        return write_run(*run, code_density=density, checkpoint=checkpoint)

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
    def _inference_device(self) -> torch.device:
        """The network's device, with the network in eval mode (a caller may have trained it)."""
        self.net.eval()
        return next(self.net.parameters()).device

    def scaled_batches(self, samples: np.ndarray) -> Iterator[tuple[slice, torch.Tensor]]:
        """Each inference batch of ``samples`` (rows, tensor), scaled, on the network's device
        with the network in eval mode; valid until the next (``batches.scaled_batches``)."""
        return scaled_batches(self.scaler, samples, self._inference_device())
