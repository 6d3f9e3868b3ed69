"""The run report: one self-contained HTML page (``html_page``) of a run's options, data,
training curves, evaluation against PCA and pictures, built from the run folder's files only.

Training ends with ``finish_run`` (its ``report`` option): evaluation.json, the pictures as PNG
files and report.html. ``aekit report RUN`` (``write_report``) rebuilds the page for any run,
runs saved before reports existed included, showing the stored evaluation (with the likelihood
and denoising rows ``aekit evaluate RUN`` may have added) or computing one. Where the run's data
file is not found from here (a relative path an older run recorded, read from another folder),
the pictures of the data are the PNG files the folder holds.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from threadpoolctl import threadpool_limits

from ..data import Dataset
from ..errors import AekitError
from ..evaluation.comparison import Comparison
from ..evaluation.model_evaluation import evaluate_model
from ..evaluation.run_data import HeldOut
from ..runs.files import PICTURE_FILES
from ..runs.folder import read_evaluation, read_pictures, save_report, write_report_page
from ..trained.sampling import sampler_description
from ..training.loop_state import how_it_stopped
from ..training.progress import Progress
from . import html as html_page
from .drawing import png_bytes
from .run_pictures import RunPictures
from .unusual_rows import unusual_rows_section

log = logging.getLogger(__name__)

_CAPTIONS = {
    "loss": "loss per epoch, training and validation (circled: the epoch kept), and each "
    "logged term of the training loss",
    "codes": "code map",
    "reconstructions": "originals (top) and their reconstructions",
    "samples": "new samples: decoded draws of codes",
    "interpolation": "decodes along the path between the codes of two images, one strip a pair",
    "denoising": "inputs corrupted as in training, the model's output, the clean images",
    "feature_errors": "reconstruction error of each feature",
}


def finish_run(
    folder: str | Path,
    train_part: Dataset,
    val_part: Dataset | None,
    *,
    progress: Progress | None = None,
    reload_data: bool = True,
) -> Path | None:
    """What training writes into its run folder at the end: evaluation.json (the VAE's IWAE
    bound left out: too slow for every run), the pictures and report.html; returns its path.

    ``train_part``, ``val_part``: training's own parts, used only where the folder records no
    held-out data to reload (in-memory data), or with ``reload_data=False`` (a streamed file,
    never read whole: its PCA-start sample and validation rows stand in). A problem (the data
    file moved away, say) does not fail the finished training: it is logged, and the result is
    None.
    """
    try:
        own = (
            HeldOut(val_part, f"the validation part training held out ({len(val_part)} samples)")
            if val_part is not None
            else HeldOut(train_part, "training data (the run held no data out)", False)
        )
        # a streamed file is never reloaded: training's parts stand in from the start
        pictures = RunPictures(folder) if reload_data else RunPictures(folder, data=own)
        train_data = None
        if pictures.shown is None or not reload_data:
            train_data = train_part
            pictures.shown = own
        evaluation, provenance = _evaluate(pictures, train_data)
        if evaluation is not None:
            provenance = "stored in evaluation.json, written at the end of training"
        pngs = _draw(pictures, progress)
        page = _page(pictures, evaluation, provenance, pngs)
        # the three saved together: the report never shows another evaluation than the file's
        stored = evaluation.to_dict() if evaluation is not None else None
        path = save_report(folder, page, evaluation=stored, pictures=pngs)
    except AekitError as exc:
        log.warning(
            "%s: the run is saved, but its report could not be written: %s (aekit report %s "
            "tries again)",
            folder,
            exc,
            folder,
        )
        return None
    if progress is not None:
        progress.message(f"report: {path}")
    return path


def write_report(
    run: str | Path,
    output: str | Path | None = None,
    data=None,
    *,
    progress: Progress | None = None,
) -> Path:
    """Build the report page of the run in ``run`` and write it to ``output`` (default
    report.html in the run folder); returns the path written. See ``aekit.report``."""
    pictures = RunPictures(run, data)
    stored = read_evaluation(run) if data is None else None
    if stored is not None:
        evaluation = Comparison.from_dict(stored)
        provenance = "stored in evaluation.json (by training, or by aekit evaluate RUN)"
    else:
        evaluation, provenance = _evaluate(pictures, None)
    pngs = _draw(pictures, progress)
    if pictures.unfound is not None:  # the pictures of the data training drew stand in
        pngs = {**read_pictures(run, PICTURE_FILES), **pngs}
    page = _page(pictures, evaluation, provenance, pngs)
    if output is None:  # the caller holds the run folder's lock (aekit.report)
        return save_report(run, page)
    return write_report_page(Path(output), page)


def _evaluate(pictures: RunPictures, train_data) -> tuple[Comparison | None, str]:
    """The evaluation against PCA on the data shown, without the IWAE bound; or None and why."""
    model, shown = pictures.model, pictures.shown
    if shown is None and pictures.unfound is not None:
        return None, (
            f"No evaluation: the run's data file {pictures.unfound} is not found from here, and "
            "the run folder holds no evaluation.json; aekit report RUN --data TEST computes one."
        )
    if shown is None:
        return None, (
            "No evaluation: the run was trained on in-memory data and records no held-out "
            "data; aekit.evaluate(model, test, train_data=...) compares it with PCA."
        )
    if not shown.held_out:
        return None, "No evaluation: the run held no data out; give held-out data (--data)."
    if model.data_info.source is None and train_data is None:
        return None, (
            "No evaluation: the run was trained on in-memory data, so PCA's training data "
            "cannot be reloaded; aekit.evaluate(model, test, train_data=...) compares it."
        )
    # BLAS on one thread: right after training, torch's idle threads still spin on the cores,
    # and OpenBLAS's threads fighting them made PCA's eigendecomposition (784 x 784) take
    # 12-16 s instead of 0.3 s on two cores (the whole evaluation then took 3 s)
    with threadpool_limits(1, user_api="blas"):
        comparison = evaluate_model(
            model,
            shown.data,
            train_data=train_data,
            label=None,
            outlier_label=None,
            noise=model.train_config.noise,
            progress=None,
            family_options=model.net.report_evaluation_options,
        )
    comparison.notes.append(f"held-out data: {shown.description}")
    return comparison, "computed for this report"


def _draw(pictures: RunPictures, progress: Progress | None) -> dict[str, bytes]:
    """Every picture the run has, as PNG bytes, counting them on a terminal."""
    drawers = pictures.available()
    pngs = {}
    for done, (name, draw) in enumerate(drawers.items()):
        if progress is not None:
            progress.count("report: drawing the pictures", done, len(drawers))
        pngs[name] = png_bytes(draw())
    if progress is not None:
        progress.count("report: drawing the pictures", len(drawers), len(drawers))
    return pngs


def _page(
    pictures: RunPictures, evaluation: Comparison | None, provenance: str, pngs: dict[str, bytes]
) -> str:
    model, folder = pictures.model, pictures.folder
    return html_page.page(
        f"aekit run {folder.resolve().name}",
        html_page.paragraph(_summary(pictures)),
        _data_section(pictures),
        html_page.section(
            "Training",
            *_images(pngs, ["loss"], model),
            html_page.table(["result", "value"], list(model.result.items())),
        ),
        _evaluation_section(pictures, evaluation, provenance),
        *_unusual_rows(pictures),
        html_page.section(
            "Pictures",
            *_images(pngs, [name for name in _CAPTIONS if name != "loss"], model),
            *([] if pictures.shown is not None else [_no_data_note(pictures)]),
        ),
        _options_section(pictures),
    )


def _unusual_rows(pictures: RunPictures) -> list[str]:
    """The rows of a table the model rebuilds worst, and why; none for images or without data."""
    if pictures.shown is None or len(pictures.model.sample_shape) != 1:
        return []
    return [unusual_rows_section(pictures.model, pictures.shown)]


def _summary(pictures: RunPictures) -> str:
    model = pictures.model
    info, result = model.data_info, model.result
    code = f"a code of {model.code_size} numbers"
    if not model.net.vector_codes:
        code = f"codes of {model.code_size} numbers, {model.net.code_description}"
    text = (
        f"A {model.net_config.backbone} {model.net.display_name} with {code}, "
        f"trained on {info.name}: {info.n_train} training and {info.n_val} validation samples "
        f"of shape {tuple(info.sample_shape)}."
    )
    if result:
        text += (
            f" Best epoch {result.get('best_epoch')} of {result.get('epochs_run')} "
            f"(stopped: {how_it_stopped(result)})."
        )
    return text


def _data_section(pictures: RunPictures) -> str:
    info = pictures.model.data_info.to_dict()
    names = info.pop("feature_names")
    rows = [[key, _shown_value(value)] for key, value in info.items()]
    if names:
        rows.append(["features", f"{len(names)}: {', '.join(names[:20])}"])
    shown = pictures.shown
    if shown is not None:
        where = f"The pictures and the evaluation use {shown.description}."
    elif pictures.unfound is not None:
        where = (
            f"The run's data file {pictures.unfound} is not found from here (a path relative to "
            "the folder the run was trained from, as earlier aekit versions recorded it, or a "
            "file moved away): the report shows what the run folder holds of it "
            "(evaluation.json, the pictures)."
        )
    else:
        where = "The run was trained on in-memory data: it records no data to show."
    return html_page.section(
        "Data", html_page.table(["field", "value"], rows), html_page.paragraph(where)
    )


def _evaluation_section(
    pictures: RunPictures, evaluation: Comparison | None, provenance: str
) -> str:
    if evaluation is None:
        return html_page.section("Evaluation against PCA", html_page.paragraph(provenance))
    header = ["metric", "aekit", f"PCA-{evaluation.code_size}", "aekit vs PCA"]
    parts = [
        html_page.paragraph(
            f"On {evaluation.dataset}: {evaluation.n_test} samples; PCA with as many components "
            f"as the code, fitted on {evaluation.n_train} training samples; errors in "
            f"{evaluation.space}. {provenance[0].upper()}{provenance[1:]}."
        ),
        html_page.table(header, evaluation.metric_rows(), css_id="evaluation"),
    ]
    if evaluation.detection:
        rows = [
            [name, row["auroc"], row["average_precision"]]
            for name, row in evaluation.detection.items()
        ]
        parts.append(html_page.table(["anomaly detector", "AUROC", "average precision"], rows))
    notes = list(evaluation.notes)
    model = pictures.model
    notes += model.net.report_notes(evaluation.rows.get("aekit", {}), pictures.folder)
    parts += [html_page.paragraph(note, note=True) for note in notes]
    return html_page.section("Evaluation against PCA", *parts)


def _images(pngs: dict[str, bytes], names: list[str], model) -> list[str]:
    return [html_page.image(pngs[name], _caption(name, model)) for name in names if name in pngs]


def _caption(name: str, model) -> str:
    caption = _CAPTIONS[name]
    if name == "samples":
        caption += f" from {sampler_description(model)}"
    elif name == "denoising":
        caption += f" (noise: {', '.join(model.train_config.noise)})"
    return caption


def _no_data_note(pictures: RunPictures) -> str:
    if pictures.unfound is not None:
        return html_page.paragraph(
            "The pictures of the data are the PNG files the run folder holds, drawn at the end "
            f"of training ({pictures.unfound} is not found from here); aekit report RUN --data "
            "TEST draws them on other data (Python: aekit.report(run, data=...)).",
            note=True,
        )
    return html_page.paragraph(
        "Pictures of data (code map, reconstructions) need data to show: "
        "aekit report RUN --data TEST (Python: aekit.report(run, data=...)).",
        note=True,
    )


def _options_section(pictures: RunPictures) -> str:
    model = pictures.model
    options = model.train_config.to_dict()
    net = model.net_config.to_dict()
    return html_page.section(
        "Options",
        html_page.paragraph("As given (empty: picked from the data):"),
        html_page.table(["option", "value"], [[k, _shown_value(v)] for k, v in options.items()]),
        html_page.paragraph("The network built from them:"),
        html_page.table(["field", "value"], [[k, _shown_value(v)] for k, v in net.items()]),
    )


def _shown_value(value) -> object:
    """Numbers as numbers (the table keeps their exact value), lists as JSON, None empty."""
    if isinstance(value, list | dict):
        return json.dumps(value)
    return value
