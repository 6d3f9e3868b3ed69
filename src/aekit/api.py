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
from .errors import AekitError
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
    check_out_folder,
    check_same_data,
    check_writable,
    has_checkpoint,
    holds_finished_run,
    holds_model_of,
    write_metrics,
)
from .runs.saving import writer_lock
from .runs.training_place import (
    TrainingPlace,
    note_failure,
    prepare,
    resume_folder,
    training_place,
)
from .trained.autoencoder import Autoencoder
from .training.distributed import Ranks, is_lead_process, join, reports_lost_processes
from .training.failures import TrainingInterrupted
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

    data: a path, a built-in name ("digits", "fashion-mnist"), an array (n, d) / (n, H, W) /
    (n, C, H, W), or a DataFrame. ``label`` names a column to set aside (never fed to the model).
    ``val_data`` gives an explicit validation set; otherwise ``val_fraction`` of ``data`` is held
    out. ``config`` is a TOML file of options; keyword ``options`` (see ``TrainConfig``)
    override it.
    With ``out``, the run folder (config, weights, metrics, plots, checkpoint) is written there:
    locked while the run writes it (another process writing it is refused), and replaced all
    together once the new run is saved (``aekit.runs.saving``; a run over a saved one trains
    beside it, ``aekit.runs.training_place``), so a failure never leaves a mix of two runs.
    ``resume=True`` continues the run in ``out`` from its latest checkpoint, with the options
    and data it was started with (options given here override them; ``data`` may be omitted
    when the run was trained on a file or a built-in).
    ``progress=True`` shows the epochs as they train (off by default; the CLI turns it on).
    Started by torchrun, or called on every process of a torch.distributed process group,
    the processes train one model together (``aekit.training.distributed``); process 0 writes
    ``out``, and every process returns the model.
    """
    if out is None:
        return _train(None, data, label, val_data, config, resume, overwrite, progress, options)
    out = Path(out)
    if not is_lead_process():  # process 0 holds the folder and writes it
        place = training_place(out, resume)
        return _train(place, data, label, val_data, config, resume, overwrite, progress, options)
    check_writable(out)
    with writer_lock(out):
        place = training_place(out, resume)
        try:
            return _train(
                place, data, label, val_data, config, resume, overwrite, progress, options
            )
        except TrainingInterrupted:
            raise  # its message says where the checkpoint is and how to resume
        except AekitError as exc:
            note_failure(exc, place)
            raise


def _train(
    place: TrainingPlace | None, data, label, val_data, config, resume, overwrite, progress, options
) -> Autoencoder:
    """``train``'s steps, holding the run folder (``place.out``) where there is one."""
    out = place.out if place is not None else None
    request = resolve_request(data, label, val_data, config, out, resume, options)
    checkpoint = request.checkpoint
    if checkpoint is not None and resume_folder(out) == out:  # not a run over the saved one
        if holds_finished_run(out, checkpoint, finished_reason(checkpoint, request.settings)):
            return load(out)
    if place is not None and not resume:
        check_out_folder(out, resume_folder(out), overwrite)
    ranks = join(resolve_device(request.settings.device))
    if checkpoint is not None:
        ranks.check_resumable(checkpoint.meta["run"].get("world_size", 1), out)
    with load_and_split(request) as (dataset, train_part, val_part):
        in_memory = train_part.data.x if isinstance(train_part, MemoryPart) else None
        ranks.check_same_data(dataset.name, in_memory, val_part.x if val_part else None)
        return _train_on(request, dataset, train_part, val_part, place, progress, ranks)


def _train_on(request, dataset, train_part, val_part, place, progress, ranks) -> Autoencoder:
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
        net, train_x, val_x, settings, net_config, data_info, place, request, reporter, ranks
    )
    del train_x  # the scaled training rows (or a streamed file's chunks): the report needs room
    # a denoising run's validation loss is of corrupted inputs: the start is judged on it
    net.settle(val_x if not settings.noise else None, result)
    # process 0's model is the run's (what it saves); the others take it, bit for bit
    ranks.broadcast(net.state_dict().values())
    model = _make_model(net, scaler, data_info, settings, result, train_part, ranks)
    if place is not None and ranks.is_lead:
        # the new run replaces what the folder held, all together; then its report is added
        model._save(place.out, checkpoint=place.checkpoint)
        if settings.report:
            if isinstance(train_part, StreamedPart):  # never read whole: its samples stand in
                finish_run(
                    place.out,
                    train_part.baseline_rows(seed),
                    val_part,
                    progress=reporter,
                    reload_data=False,
                )
            else:
                finish_run(place.out, train_part.data, val_part, progress=reporter)
    ranks.barrier()  # the run folder is complete when any process returns
    return model


def is_finished(
    out: str | Path, data=None, *, label: str | None = None, val_data=None, **options
) -> bool:
    """True when ``out`` holds a run whose training is over under ``options`` and whose model
    is saved: ``train(data, out=out, resume=True, **options)`` would only load it. Says
    nothing (the sweep skips such runs with a line of its own)."""
    out = Path(out)
    if resume_folder(out) != out or not has_checkpoint(out):
        return False  # a run started over the saved one is not finished
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
    net, train_x, val_x, settings, net_config, data_info: DataInfo, place, request, reporter, ranks
) -> TrainResult:
    """The loop (``training.fit``), checkpointing into the place's work folder and resuming the
    request's checkpoint, after checking it was made on the same data."""
    checkpoint = request.checkpoint
    if checkpoint is not None:
        check_same_data(checkpoint.meta["run"]["data"], data_info.to_dict(), place.out)
    if place is not None and ranks.is_lead:
        prepare(place, resume=checkpoint is not None)
    # every option by name, the family's too: what a resumed run is started again with
    run = {"train": all_options(settings), "data": data_info.to_dict(), "world_size": ranks.size}
    writes = place is not None and ranks.is_lead
    return fit(
        net,
        train_x,
        val_x,
        settings,
        progress=reporter,
        on_epoch=(lambda history: write_metrics(place.work, history)) if writes else None,
        checkpoint_dir=place.work if place is not None else None,
        run_folder=place.out if place is not None else None,
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
    if net.code_prior() is None:
        # a family without a prior of its own (a deterministic autoencoder): sampling draws
        # codes from a density fitted on at most MAX_FIT_CODES codes: encode only those samples
        rows = np.random.default_rng(settings.seed).permutation(len(train_part))[:MAX_FIT_CODES]
        model.fit_code_density_on_use(model.encode(train_part.rows(np.sort(rows))))
    return model


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
    noise: str | list[str] | None = None,
    progress: bool = False,
    **family_options,
) -> Comparison:
    """Compare ``model`` with PCA at the same code size on held-out ``test_data``.

    The model's family may add figures of its own, with options of its own in
    ``family_options`` (a VAE: its test ELBO and importance-weighted test NLL, ``iw_samples``
    draws on each of ``iw_images`` test samples; see ``aekit.models``); an option of another
    family's evaluation is a ConfigError. ``progress=True`` shows a live count on a terminal.

    PCA is fitted on the model's training data (reloaded from where it was trained, with the
    validation part split off again only where training split it off, as
    ``data_info["validation"]`` records; else ``train_data`` as given), with ``code_size``
    components or min(n, d) if fewer (``baseline_size``). Reconstruction metrics are in the
    data's own units for models that scaled all values together (images, one-unit tables), in
    standardised units for models that scaled each column (mixed tables), with PCA fitted in
    the same space; ``Comparison.space`` and a note say which (``evaluation_space``).
    Where labels exist, a logistic regression is trained on
    the training codes of each and scored on the test codes. Every model also gets the fraction
    of near-zero code values (``near_zero_codes``, see ``evaluation.near_zero_fraction``).

    With ``noise`` (specs as in training, e.g. ``["gaussian:0.3"]``), the test inputs are also
    corrupted (seeded) and the PSNR of the model's output, of PCA's projection of the noisy
    input and of the noisy input itself are added (``evaluation.denoising``).

    With ``outlier_label``, a column (or .npz key) marking anomalies with 1 and normal rows
    with 0, ``Comparison.detection`` holds the AUROC and average precision of aekit's
    reconstruction error beside PCA's and IsolationForest's, all fitted on the training data
    (``evaluation.detection``); the column is set aside like ``label``, in the test data only:
    the training data is read with the run's own label and need not have it.
    """
    reporter = Progress() if progress else None
    return evaluate_model(
        model,
        test_data,
        train_data=train_data,
        label=label,
        outlier_label=outlier_label,
        noise=noise,
        progress=reporter.count if reporter else None,
        family_options=family_options,
    )


def report(
    run: str | Path, output: str | Path | None = None, data=None, *, progress: bool = False
) -> Path:
    """Write the HTML report of the run folder ``run`` (default: its report.html, the one
    training writes at its end) and return the path; see README "The run report".

    One self-contained page of the run's options, data, loss curves, evaluation against PCA and
    pictures (``aekit.reports``), from the folder's files only. ``data``: what the pictures and
    the evaluation use; None: the run's own held-out data and the evaluation stored in its
    evaluation.json. ``progress=True`` counts the pictures on a terminal.
    """
    reporter = Progress() if progress else None
    if output is not None:
        return write_report(run, output, data, progress=reporter)
    with writer_lock(run, make=False):  # the page is saved into the run folder
        return write_report(run, None, data, progress=reporter)
