"""The Python entry points: ``train``, ``load``, ``evaluate``. The CLI calls exactly these.

``train`` is a pipeline of small steps, top to bottom: what it trains on comes from
``aekit.training.request``, the run folder's files are written and read by ``aekit.runs``,
the loop is ``aekit.training.loop.fit``.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from .data.splitting import split_validation
from .errors import AekitError
from .evaluation import Comparison
from .evaluation.model_evaluation import evaluate_model
from .models.options import all_options
from .nn.noise import Corruption
from .reports.run_report import finish_run, write_report
from .runs.data_info import DataInfo
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
from .training.assembly import build_net, describe_data, fit_scaler, make_model, report_start
from .training.distributed import is_lead_process, join, reports_lost_processes
from .training.failures import TrainingInterrupted
from .training.loop import TrainResult, finished_reason, fit, resolve_device
from .training.parts import MemoryPart, StreamedPart, scaled_tensor
from .training.planning import (
    with_loss,
)
from .training.progress import Progress
from .training.request import load_and_split, resolve_request

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
        The run folder to write: config, weights, metrics, checkpoint and report. Locked while
        the run writes it, and replaced all together once the new run is saved, so a failure
        never leaves a mix of two runs (``aekit.runs.saving``).
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
    steps = partial(_train, data=data, label=label, val_data=val_data, config=config)
    steps = partial(steps, resume=resume, overwrite=overwrite, progress=progress, options=options)
    return steps(None) if out is None else _train_holding(Path(out), resume, steps)


def _train_holding(out: Path, resume: bool, steps) -> Autoencoder:
    """``steps(place)`` (``_train``), holding the run folder ``out`` while they write it."""
    if not is_lead_process():  # process 0 holds the folder and writes it
        return steps(training_place(out, resume))
    check_writable(out)
    with writer_lock(out):
        place = training_place(out, resume)
        try:
            return steps(place)
        except TrainingInterrupted:
            raise  # its message says where the checkpoint is and how to resume
        except AekitError as exc:
            note_failure(exc, place)
            raise


def _train(
    place: TrainingPlace | None, *, data, label, val_data, config, resume, overwrite, progress,
    options,
) -> Autoencoder:  # fmt: skip
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
    scaler = fit_scaler(settings, dataset, train_part, values)
    ranks.broadcast_arrays(scaler.offset, scaler.spread)  # the same bits on every machine
    settings, net_config, net = build_net(settings, dataset, scaler, values, train_part, ranks)
    shape, seed = net_config.input_shape, settings.seed
    train_x = train_part.network_input(scaler, shape, seed)
    val_x = scaled_tensor(val_part, scaler, shape) if val_part is not None else None
    # the family's start on the training rows (a plain MLP autoencoder's: PCA)
    net.prepare(partial(train_part.pca_input, train_x, scaler, shape, seed))
    reporter = Progress() if progress and ranks.is_lead else None
    if reporter:
        report_start(reporter, dataset, net_config, train_part, val_part, ranks)
    data_info = describe_data(request, dataset, train_part, val_part, values)
    result = _train_net(
        net, train_x, val_x, settings, net_config, data_info, place, request, reporter, ranks
    )
    del train_x  # the scaled training rows (or a streamed file's chunks): the report needs room
    # a denoising run's validation loss is of corrupted inputs: the start is judged on it
    net.settle(val_x if not settings.noise else None, result)
    # process 0's model is the run's (what it saves); the others take it, bit for bit
    ranks.broadcast(net.state_dict().values())
    model = make_model(net, scaler, data_info, settings, result, train_part, ranks)
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
    reporter = Progress() if progress else None
    if output is not None:
        return write_report(run, output, data, progress=reporter)
    with writer_lock(run, make=False):  # the page is saved into the run folder
        return write_report(run, None, data, progress=reporter)
