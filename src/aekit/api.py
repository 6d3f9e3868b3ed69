"""The Python entry points: ``train``, ``load``, ``evaluate``. The CLI calls exactly these.

``train`` is a pipeline of small steps, top to bottom; the run folder's files are written and
read by ``aekit.runs``, the loop is ``aekit.training.fit``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .building import (
    check_trainable,
    choose_scale,
    net_config_for,
    scale_per_feature,
    with_defaults,
    with_loss,
)
from .checkpoints import Checkpoint, check_run_meta
from .code_density import MAX_FIT_CODES
from .config import TrainConfig, make_config, new_model_spelling
from .config_file import read_config_file
from .data import Columns, Dataset, load_data
from .data.splitting import split_validation
from .data_info import DataInfo
from .denoising import make_corruption
from .errors import ConfigError, DataError
from .evaluation import Comparison
from .evaluation.model_evaluation import evaluate_model
from .likelihood import DEFAULT_IW_IMAGES, DEFAULT_IW_SAMPLES
from .model import Autoencoder
from .models import MODELS, NetConfig
from .pca_start import settle_pca_start
from .progress import Progress
from .run_report import finish_run, write_report
from .runs import (
    CHECKPOINT_FILE,
    check_out_folder,
    check_same_data,
    forget_checkpoint,
    holds_finished_run,
    read_checkpoint,
    write_metrics,
)
from .scaling import Scaler, ValueRange
from .training import TrainResult, finished_reason, fit

__all__ = ["evaluate", "load", "report", "split_validation", "train"]


def train(
    data=None,
    *,
    label: str | None = None,
    val_data=None,
    config: str | Path | None = None,
    out: str | Path | None = None,
    overwrite: bool = False,
    resume: bool = False,
    progress: bool = False,
    **options,
) -> Autoencoder:
    """Train an autoencoder on ``data`` and return it.

    data: a path, a built-in name ("digits", "fashion-mnist"), an array (n, d) / (n, H, W) /
    (n, C, H, W), or a DataFrame. ``label`` names a column to set aside (never fed to the model).
    ``val_data`` gives an explicit validation set; otherwise ``val_fraction`` of ``data`` is held
    out. ``config`` is a TOML file of options; keyword ``options`` (see ``TrainConfig``)
    override it.
    With ``out``, the run folder (config, weights, metrics, plots, checkpoint) is written there.
    ``resume=True`` continues the run in ``out`` from its latest checkpoint, with the options
    and data it was started with (options given here override them; ``data`` may be omitted
    when the run was trained on a file or a built-in).
    ``progress=True`` shows the epochs as they train (off by default; the CLI turns it on).
    """
    request = _resolve_request(data, label, val_data, config, out, resume, options)
    if request.checkpoint is not None and holds_finished_run(
        Path(out), request.checkpoint, finished_reason(request.checkpoint, request.settings)
    ):
        return load(out)
    dataset, train_part, val_part = _load_and_split(request)
    if out is not None and not resume:
        check_out_folder(Path(out), overwrite)
    flat = train_part.x.reshape(len(train_part), -1)  # (n, d) in the data's units
    values = ValueRange.of(flat)
    settings = with_loss(request.settings, values)
    scaler = _fit_scaler(settings, dataset, flat, values)
    settings, net_config, net = _build_net(settings, dataset, scaler, flat, train_part)
    train_x = _as_tensor(train_part, scaler, net_config)
    val_x = _as_tensor(val_part, scaler, net_config) if val_part is not None else None
    start_state = None
    # the untrained network is PCA (see building.py, pca_start.py) where PCA's start can train
    if net_config.linear_path and net.init_linear_path(train_x):
        start_state = {k: v.clone() for k, v in net.state_dict().items()}
    reporter = Progress() if progress else None
    if reporter:
        _report_start(reporter, dataset, net_config, train_part, val_part)
    data_info = _describe_data(request, dataset, train_part, val_part, values)
    result = _train_net(
        net, train_x, val_x, settings, net_config, data_info, out, request, reporter
    )
    if start_state is not None and val_part is not None and not settings.noise:
        val_flat = val_part.x.reshape(len(val_part), -1)
        names = dataset.feature_names
        scaler = settle_pca_start(net, start_state, result, scaler, flat, val_flat, val_x, names)
    model = _make_model(net, scaler, data_info, settings, result, train_part)
    if out is not None:
        model._save(out, keep={CHECKPOINT_FILE})  # the report's files are written again below
        if settings.report:
            finish_run(out, train_part, val_part, progress=reporter)
    return model


@dataclass
class _Request:
    """What to train on and with which options, from the call or the run being resumed."""

    data: object
    label: str | None
    val_data: object
    settings: TrainConfig
    checkpoint: Checkpoint | None  # the run's latest, when resuming


def _resolve_request(data, label, val_data, config, out, resume: bool, options) -> _Request:
    """Options from the TOML file, overridden by keywords; resuming, the saved run's options
    and data fill in what the call leaves out."""
    file_options = read_config_file(config) if config is not None else {}
    checkpoint = None
    if resume:
        if out is None:
            raise ConfigError("resume=True needs out=, the run folder to continue (CLI: --resume)")
        checkpoint = read_checkpoint(out)
        saved = check_run_meta(checkpoint)
        # a run saved before model named the family: its old spelling is no user's to warn of
        file_options = {**new_model_spelling(saved["train"]), **file_options}
        data = data if data is not None else saved["data"]["source"]
        label = label if label is not None else saved["data"]["label"]
        val_data = val_data if val_data is not None else saved["data"]["val_source"]
        if data is None:
            raise ConfigError(f"{out} was trained on in-memory data: pass the same data to resume")
    elif data is None:
        raise ConfigError("name the data to train on")
    settings = make_config(**{**file_options, **options})
    return _Request(data, label, val_data, settings, checkpoint)


def _load_and_split(request: _Request) -> tuple[Dataset, Dataset, Dataset | None]:
    """(all the data, its training part, its validation part or None)."""
    data, label, val_data = request.data, request.label, request.val_data
    dataset = load_data(data, label=label, default_split="train")
    if val_data is None:
        settings = request.settings
        return dataset, *split_validation(dataset, settings.val_fraction, settings.seed)
    # the label column applies to a validation file of the same kind, not to an array
    val_label = label if isinstance(val_data, str | Path) else None
    val_part = load_data(
        val_data, label=val_label, default_split="test", columns=_table_columns(dataset, label)
    )
    if val_part.sample_shape != dataset.sample_shape:
        raise DataError(
            f"validation data {val_part.name} has samples of shape {val_part.sample_shape}, "
            f"training data {dataset.name} has {dataset.sample_shape}"
        )
    return dataset, dataset, val_part


def _fit_scaler(
    settings: TrainConfig, dataset: Dataset, flat: np.ndarray, values: ValueRange
) -> Scaler:
    return Scaler.fit(
        flat,
        choose_scale(settings, dataset, values),
        per_feature=scale_per_feature(dataset, flat, values),
        names=dataset.feature_names,
    )


def _build_net(
    settings: TrainConfig, dataset: Dataset, scaler: Scaler, flat: np.ndarray, train_part: Dataset
) -> tuple[TrainConfig, NetConfig, torch.nn.Module]:
    """(settings with the defaults that depend on the net, the backbone's config, the net)."""
    net_config = net_config_for(settings, dataset, scaler.kind, flat)
    settings = with_defaults(settings, net_config.backbone, len(train_part))
    check_trainable(settings, net_config, train_part)
    family = MODELS[settings.model]
    torch.manual_seed(settings.seed)
    net = family(family.config_for(net_config, settings))
    return settings, net_config, net


def _as_tensor(part: Dataset, scaler: Scaler, net_config: NetConfig) -> torch.Tensor:
    """(n, *input_shape) float32, scaled."""
    scaled = scaler.transform(part.x.reshape(len(part), -1))
    return torch.from_numpy(
        np.ascontiguousarray(scaled.reshape(len(part), *net_config.input_shape))
    )


def _report_start(reporter: Progress, dataset, net_config, train_part, val_part) -> None:
    where = f"{len(train_part)} training and {len(val_part) if val_part else 0} validation samples"
    reporter.message(
        f"training a {net_config.backbone} autoencoder (code size {net_config.code_size}) "
        f"on {dataset.name}: {where} of shape {dataset.sample_shape}"
    )


def _describe_data(
    request: _Request,
    dataset: Dataset,
    train_part: Dataset,
    val_part: Dataset | None,
    values: ValueRange,
) -> DataInfo:
    data, val_data, label = request.data, request.val_data, request.label
    return DataInfo(
        name=dataset.name,
        source=str(data) if isinstance(data, str | Path) else None,
        val_source=str(val_data) if isinstance(val_data, str | Path) else None,
        label=str(label) if label is not None else None,
        feature_names=dataset.feature_names,
        validation=_validation_kind(val_data, val_part),
        sample_shape=list(dataset.sample_shape),
        output_shape=list(np.shape(data)[1:]) if isinstance(data, np.ndarray) else None,
        n_train=len(train_part),
        n_val=len(val_part) if val_part is not None else 0,
        data_min=values.low,
        data_max=values.high,
    )


def _train_net(
    net, train_x, val_x, settings, net_config, data_info: DataInfo, out, request, reporter
) -> TrainResult:
    """The loop (``training.fit``), checkpointing into ``out`` and resuming the request's
    checkpoint, after checking it was made on the same data."""
    checkpoint = request.checkpoint
    if checkpoint is not None:
        check_same_data(checkpoint.meta["run"]["data"], data_info.to_dict(), out)
    elif out is not None:
        forget_checkpoint(out)
    return fit(
        net,
        train_x,
        val_x,
        settings,
        progress=reporter,
        on_epoch=(lambda history: write_metrics(out, history)) if out is not None else None,
        checkpoint_dir=out,
        resume=checkpoint,
        corrupt=make_corruption(settings.noise, net_config),
        checkpoint_meta={"run": {"train": settings.to_dict(), "data": data_info.to_dict()}},
    )


def _make_model(net, scaler, data_info, settings, result, train_part) -> Autoencoder:
    model = Autoencoder(
        net.cpu(),
        scaler,
        data_info=data_info,
        train_config=settings,
        history=result.history,
        result={
            "best_epoch": result.best_epoch,
            "best_val_loss": result.best_val_loss,
            "stop_reason": result.stop_reason,
            "epochs_run": len(result.history),
        },
    )
    if net.code_prior() is None:
        # a family without a prior of its own (a deterministic autoencoder): sampling draws
        # codes from this density
        # the density is fitted on at most MAX_FIT_CODES codes: encode only those samples
        rows = np.random.default_rng(settings.seed).permutation(len(train_part))[:MAX_FIT_CODES]
        model.fit_code_density_on_use(
            model.encode(train_part.x[np.sort(rows)]), settings.gmm_components, settings.seed
        )
    return model


def _validation_kind(val_data, val_part: Dataset | None) -> str:
    """How validation data was made: "given" (val_data), "split" (held out) or "none"."""
    if val_data is not None:
        return "given"
    return "split" if val_part is not None else "none"


def _table_columns(data: Dataset, label) -> Columns | None:
    """The training table's columns, to match a validation table's by name."""
    if data.feature_names is None:
        return None
    return Columns(data.feature_names, str(label) if label is not None else None)


def load(folder: str | Path) -> Autoencoder:
    """Load a saved run folder (``config.json`` + ``model.safetensors``)."""
    return Autoencoder.load(folder)


def evaluate(
    model: Autoencoder,
    test_data=None,
    *,
    train_data=None,
    label: str | None = None,
    outlier_label: str | None = None,
    iw_samples: int = DEFAULT_IW_SAMPLES,
    iw_images: int | None = DEFAULT_IW_IMAGES,
    noise: str | list[str] | None = None,
    progress: bool = False,
) -> Comparison:
    """Compare ``model`` with PCA at the same code size on held-out ``test_data``.

    A VAE also gets its test ELBO and importance-weighted test NLL (Bernoulli decoders on
    [0, 1] data, Gaussian and Laplace ones in the data's units) with its standard error, from
    ``iw_samples`` draws on each of ``iw_images`` test samples (a seeded random subset; None:
    all; 0: none, the ELBO only), see ``aekit.likelihood``. ``progress=True`` shows a live
    count on a terminal.

    PCA is fitted on the model's training data (reloaded from where it was trained, with the
    validation part split off again only where training split it off, as
    ``data_info["validation"]`` records; else ``train_data`` as given), with ``code_size``
    components or min(n, d) if fewer (``baseline_size``). Reconstruction metrics are in the
    data's own units for models that scaled all values together (images, one-unit tables), in
    standardised units for models that scaled each column (mixed tables), with PCA fitted in
    the same space; ``Comparison.space`` and a note say which (``evaluation.evaluation_space``).
    Where labels exist, a logistic regression is trained on
    the training codes of each and scored on the test codes. Every model also gets the fraction
    of near-zero code values (``near_zero_codes``, see ``evaluation.near_zero_fraction``).

    With ``noise`` (specs as in training, e.g. ``["gaussian:0.3"]``), the test inputs are also
    corrupted (seeded) and the PSNR of the model's output, of PCA's projection of the noisy
    input and of the noisy input itself are added (``aekit.denoising.add_denoising_rows``).

    With ``outlier_label``, a column (or .npz key) marking anomalies with 1 and normal rows
    with 0, ``Comparison.detection`` holds the AUROC and average precision of aekit's
    reconstruction error beside PCA's and IsolationForest's, all fitted on the training data
    (``aekit.detection``); the column is set aside like ``label``.
    """
    return evaluate_model(
        model,
        test_data,
        train_data=train_data,
        label=label,
        outlier_label=outlier_label,
        iw_samples=iw_samples,
        iw_images=iw_images,
        noise=noise,
        progress=progress,
    )


def report(
    run: str | Path, output: str | Path | None = None, data=None, *, progress: bool = False
) -> Path:
    """Write the HTML report of the run folder ``run`` (default: its report.html, the one
    training writes at its end) and return the path; see README "The run report".

    One self-contained page of the run's options, data, loss curves, evaluation against PCA and
    pictures (``aekit.pictures``), from the folder's files only. ``data``: what the pictures and
    the evaluation use; None: the run's own held-out data and the evaluation stored in its
    evaluation.json. ``progress=True`` counts the pictures on a terminal.
    """
    return write_report(run, output, data, progress=Progress() if progress else None)
