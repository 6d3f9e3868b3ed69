"""The Python entry points: ``train``, ``load``, ``evaluate``. The CLI calls exactly these.

``train`` is a pipeline of small steps, top to bottom: what it trains on comes from
``aekit.training.request``, the run folder's files are written and read by ``aekit.runs``,
the loop is ``aekit.training.loop.fit``.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import torch

from .data import Dataset
from .data.scaling import Scaler, ValueRange
from .data.splitting import split_validation
from .evaluation import Comparison
from .evaluation.model_evaluation import evaluate_model
from .models import BackboneConfig
from .models.options import all_options, family_of
from .models.priors import MAX_FIT_CODES
from .nn.noise import Corruption
from .options.train_config import TrainConfig
from .reports.run_report import finish_run, write_report
from .runs.data_info import DataInfo, recorded_source
from .runs.folder import (
    CHECKPOINT_FILE,
    check_out_folder,
    check_same_data,
    forget_checkpoint,
    has_checkpoint,
    holds_finished_run,
    holds_model_of,
    write_metrics,
)
from .trained.autoencoder import Autoencoder
from .training.distributed import Ranks, join, reports_lost_processes
from .training.loop import TrainResult, finished_reason, fit, resolve_device
from .training.parts import MemoryPart, StreamedPart, scaled_tensor
from .training.planning import (
    check_trainable,
    choose_scale,
    net_config_for,
    scale_per_feature,
    with_defaults,
    with_loss,
)
from .training.progress import Progress
from .training.request import TrainRequest, load_and_split, resolve_request, validation_kind

__all__ = ["evaluate", "load", "report", "split_validation", "train"]


@reports_lost_processes
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

    Started by torchrun, or called on every process of a torch.distributed process group,
    the processes train one model together (``aekit.training.distributed``); process 0 writes
    ``out``, and every process returns the model.

    Parameters
    ----------
    data : str, path, numpy.ndarray or pandas.DataFrame
        A file (.npy, .npz, .csv, .parquet, IDX, a folder of images), a built-in name
        ("digits", "fashion-mnist"), an array ``(n, d)``, ``(n, H, W)`` or ``(n, C, H, W)``,
        or a DataFrame. May be left out with ``resume=True`` for a run trained on a file.
    label : str, optional
        A column (or .npz key) set aside as labels, never fed to the model.
    val_data : optional
        Validation data, any source ``data`` may be; otherwise ``val_fraction`` is held out.
    config : str or path, optional
        A TOML file of options (and ``label``); keyword ``options`` override it.
    out : str or path, optional
        The run folder to write: config, weights, metrics, checkpoint and report.
    overwrite, resume : bool
        Replace a run already in ``out``; or continue it from its latest checkpoint, with the
        options and data it was started with (options given here override those that may).
    progress : bool
        Show the epochs as they train (the CLI turns it on).
    **options
        Training options by name (``code_size=16``, ``model="vae"``, ...; see the option
        reference); an unknown name or a bad value is a ``ConfigError``.

    Returns
    -------
    Autoencoder
        The weights of the best validation epoch (without validation data, of the last).
    """
    request = resolve_request(data, label, val_data, config, out, resume, options)
    if request.checkpoint is not None and holds_finished_run(
        Path(out), request.checkpoint, finished_reason(request.checkpoint, request.settings)
    ):
        return load(out)
    ranks = join(resolve_device(request.settings.device))
    if request.checkpoint is not None:
        ranks.check_resumable(request.checkpoint.meta["run"].get("world_size", 1), out)
    with load_and_split(request) as (dataset, train_part, val_part):
        in_memory = train_part.data.x if isinstance(train_part, MemoryPart) else None
        ranks.check_same_data(dataset.name, in_memory, val_part.x if val_part else None)
        if out is not None and not resume:
            check_out_folder(Path(out), overwrite)
        return _train_on(request, dataset, train_part, val_part, out, progress, ranks)


def _train_on(request, dataset, train_part, val_part, out, progress: bool, ranks) -> Autoencoder:
    """``train``'s steps once the data is read: ``train_part`` is a ``training_data`` part
    (in memory or streamed), ``dataset`` what it was taken from, ``val_part`` a Dataset."""
    values = train_part.values
    settings = with_loss(request.settings, values)
    scaler = _fit_scaler(settings, dataset, train_part, values)
    ranks.broadcast_arrays(scaler.offset, scaler.spread)  # the same bits on every machine
    settings, net_config, net = _build_net(settings, dataset, scaler, values, train_part, ranks)
    shape, seed = net_config.input_shape, settings.seed
    train_x = train_part.network_input(scaler, shape, seed)
    val_x = scaled_tensor(val_part, scaler, shape) if val_part is not None else None
    # the family's start on the training rows (a plain MLP autoencoder's: PCA)
    net.prepare(partial(train_part.pca_input, train_x, scaler, shape, seed))
    reporter = Progress() if progress and ranks.is_lead else None
    if reporter:
        _report_start(reporter, dataset, net_config, train_part, val_part, ranks)
    data_info = _describe_data(request, dataset, train_part, val_part, values)
    result = _train_net(
        net, train_x, val_x, settings, net_config, data_info, out, request, reporter, ranks
    )
    del train_x  # the scaled training rows (or a streamed file's chunks): the report needs room
    # a denoising run's validation loss is of corrupted inputs: the start is judged on it
    net.settle(val_x if not settings.noise else None, result)
    # process 0's model is the run's (what it saves); the others take it, bit for bit
    ranks.broadcast(net.state_dict().values())
    model = _make_model(net, scaler, data_info, settings, result, train_part, ranks)
    if out is not None and ranks.is_lead:
        model._save(out, keep={CHECKPOINT_FILE})  # the report's files are written again below
        if settings.report:
            if isinstance(train_part, StreamedPart):  # never read whole: its samples stand in
                finish_run(
                    out,
                    train_part.baseline_rows(seed),
                    val_part,
                    progress=reporter,
                    reload_data=False,
                )
            else:
                finish_run(out, train_part.data, val_part, progress=reporter)
    ranks.barrier()  # the run folder is complete when any process returns
    return model


def is_finished(
    out: str | Path, data=None, *, label: str | None = None, val_data=None, **options
) -> bool:
    """True when ``out`` holds a run whose training is over under ``options`` and whose model
    is saved: ``train(data, out=out, resume=True, **options)`` would only load it. Says
    nothing (the sweep skips such runs with a line of its own)."""
    if not has_checkpoint(out):
        return False
    request = resolve_request(data, label, val_data, None, out, True, options)
    checkpoint = request.checkpoint
    finished = finished_reason(checkpoint, request.settings) is not None
    return finished and holds_model_of(Path(out), checkpoint)


def _fit_scaler(settings: TrainConfig, dataset, train_part, values: ValueRange) -> Scaler:
    return train_part.fit_scaler(
        choose_scale(settings, dataset, values),
        per_feature=scale_per_feature(dataset, train_part.one_unit()),
        names=dataset.feature_names,
    )


def _build_net(
    settings: TrainConfig,
    dataset,
    scaler: Scaler,
    values: ValueRange,
    train_part,
    ranks: Ranks,
) -> tuple[TrainConfig, BackboneConfig, torch.nn.Module]:
    """(settings with the defaults that depend on the net, the backbone's config, the net)."""
    net_config = net_config_for(settings, dataset, scaler.kind, values)
    given_batch = settings.batch_size is not None
    settings = with_defaults(settings, net_config.backbone, len(train_part))
    settings = ranks.batch_size_for(settings, given=given_batch)
    check_trainable(settings, net_config, train_part)
    family = family_of(settings)
    torch.manual_seed(settings.seed)
    net = family(family.config_for(net_config, settings))
    return settings, net.config, net


def _report_start(reporter: Progress, dataset, net_config, train_part, val_part, ranks) -> None:
    where = f"{len(train_part)} training and {len(val_part) if val_part else 0} validation samples"
    streamed = ", read from disk in chunks" if isinstance(train_part, StreamedPart) else ""
    processes = f" on {ranks.size} processes" if ranks.size > 1 else ""
    reporter.message(
        f"training a {net_config.backbone} autoencoder (code size {net_config.code_size}) "
        f"on {dataset.name}{processes}: {where} of shape {tuple(dataset.sample_shape)}{streamed}"
    )


def _describe_data(
    request: TrainRequest,
    dataset: Dataset,
    train_part,
    val_part: Dataset | None,
    values: ValueRange,
) -> DataInfo:
    data, val_data, label = request.data, request.val_data, request.label
    return DataInfo(
        name=dataset.name,
        source=recorded_source(data),
        val_source=recorded_source(val_data),
        label=str(label) if label is not None else None,
        feature_names=dataset.feature_names,
        validation=validation_kind(val_data, val_part),
        sample_shape=list(dataset.sample_shape),
        output_shape=list(np.shape(data)[1:]) if isinstance(data, np.ndarray) else None,
        n_train=len(train_part),
        n_val=len(val_part) if val_part is not None else 0,
        data_min=values.low,
        data_max=values.high,
    )


def _train_net(
    net, train_x, val_x, settings, net_config, data_info: DataInfo, out, request, reporter, ranks
) -> TrainResult:
    """The loop (``training.fit``), checkpointing into ``out`` and resuming the request's
    checkpoint, after checking it was made on the same data."""
    checkpoint = request.checkpoint
    if checkpoint is not None:
        check_same_data(checkpoint.meta["run"]["data"], data_info.to_dict(), out)
    elif out is not None and ranks.is_lead:
        forget_checkpoint(out)
    # every option by name, the family's too: what a resumed run is started again with
    run = {"train": all_options(settings), "data": data_info.to_dict(), "world_size": ranks.size}
    return fit(
        net,
        train_x,
        val_x,
        settings,
        progress=reporter,
        on_epoch=(
            (lambda history: write_metrics(out, history))
            if out is not None and ranks.is_lead
            else None
        ),
        checkpoint_dir=out,
        resume=checkpoint,
        corrupt=(
            Corruption(settings.noise, bounded=net_config.bounded_output)
            if settings.noise
            else None
        ),
        checkpoint_meta={"run": run},
        ranks=ranks,
    )


def _make_model(net, scaler, data_info, settings, result, train_part, ranks) -> Autoencoder:
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
            "lr_drops": sum(1 for row in result.history if row.get("lr_drop")),
            "world_size": ranks.size,  # how many processes trained it
        },
    )
    if net.vector_codes:
        # the sampler "mixture" draws codes from a density fitted on at most MAX_FIT_CODES
        # training codes: encode only those samples
        rows = np.random.default_rng(settings.seed).permutation(len(train_part))[:MAX_FIT_CODES]
        model.fit_code_density_on_use(model.encode(train_part.rows(np.sort(rows))))
    return model


def load(folder: str | Path) -> Autoencoder:
    """Load the model of a saved run folder (``config.json`` and ``model.safetensors``).

    Nothing in the folder is executed; a damaged or mismatched file is a ``ModelFileError``
    naming it. The same as ``Autoencoder.load``.
    """
    return Autoencoder.load(folder)


def evaluate(
    model: Autoencoder,
    test_data=None,
    *,
    train_data=None,
    label: str | None = None,
    outlier_label: str | None = None,
    noise: str | list[str] | None = None,
    sample_quality: bool = True,
    sampler: str | None = None,
    progress: bool = False,
    **family_options,
) -> Comparison:
    """Compare ``model`` with PCA at the same code size on held-out ``test_data``.

    PCA is fitted on the model's training data with ``code_size`` components (min(n, d) if
    fewer); both are scored in the same units: the data's own for images and one-unit tables,
    standardised for tables of mixed units (``Comparison.space`` and a note say which).

    Parameters
    ----------
    model : Autoencoder
        The trained model.
    test_data, train_data : optional
        Any source ``aekit.train`` takes. Test: a built-in's test split, or the part a file
        run held out; train (PCA, the probe): reloaded from where the model was trained.
    label : str, optional
        The data's label column, if not the run's: a logistic regression on the codes scores both.
    outlier_label : str, optional
        A column (or .npz key) marking anomalies with 1 and normal rows with 0, in
        ``test_data`` only: adds the AUROC and average precision of aekit's scores, PCA's
        reconstruction error and IsolationForest's (``Comparison.detection``).
    noise : str or list of str, optional
        Corruption specs as in training (``"gaussian:0.3"``): adds the PSNR of the model's
        output on seeded corrupted test inputs beside PCA's projection of them.
    sample_quality, sampler : bool, str or None
        A model that can sample: its samples' (``Autoencoder.sample``) Frechet distance,
        precision and recall against the test data, beside a PCA generator's and the floor
        (``evaluation.sample_quality``).
    progress : bool
        Show a live count of long figures on a terminal.
    **family_options
        The family's evaluation options (a VAE's ``iw_samples``, ``iw_images``).

    Returns
    -------
    Comparison
        Every figure of aekit and PCA: ``to_table()`` for print, ``to_dict()`` for JSON.
    """
    reporter = Progress() if progress else None
    figures = dict(label=label, outlier_label=outlier_label, noise=noise, sampler=sampler)
    return evaluate_model(
        model,
        test_data,
        train_data=train_data,
        progress=reporter.count if reporter else None,
        family_options=family_options,
        sample_quality=sample_quality,
        **figures,
    )


def report(
    run: str | Path, output: str | Path | None = None, data=None, *, progress: bool = False
) -> Path:
    """Write the HTML report of a run folder and return its path.

    One self-contained page of the run's options, data, loss curves, evaluation against PCA
    and pictures (``aekit.reports``), drawn from the folder's files only.

    Parameters
    ----------
    run : str or path
        The run folder.
    output : str or path, optional
        The page to write; default: the run's ``report.html`` (the one training writes).
    data : optional
        What the pictures and the evaluation use; default: the run's own held-out data and
        the evaluation stored in its ``evaluation.json``.
    progress : bool
        Count the pictures on a terminal.

    Returns
    -------
    pathlib.Path
        The page written.
    """
    return write_report(run, output, data, progress=Progress() if progress else None)
