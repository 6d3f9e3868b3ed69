"""The ``aekit`` command: options -> the same TrainConfig -> library calls -> print.

Errors that are the user's to fix (AekitError) print as one line and exit with status 2.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..api import evaluate, load, report, train
from ..atomic_files import atomic_path
from ..data import builtin_datasets, load_data, save_array
from ..data.columns import code_names
from ..data.streaming import streams
from ..data.writing import write_blocks
from ..errors import AekitDeprecationWarning, AekitError, AekitWarning, ConfigError
from ..evaluation.comparison import Comparison
from ..evaluation.detector_terms import fitted_reference
from ..evaluation.explanations import AnomalyExplanation, explain_samples
from ..evaluation.run_data import training_part
from ..models.options import OPTION_NAMES, evaluation_fields
from ..options.defaults import DETECTOR_NEIGHBOURS
from ..runs.folder import read_evaluation, save_evaluation
from ..runs.saving import writer_lock
from ..sweeps.driver import default_folder, sweep
from ..sweeps.grid import grid_from_texts
from ..trained.streamed import streamed_outputs
from ..training.distributed import is_lead_process, process_label
from ..training.loop import TrainingInterrupted
from ..training.loop_state import how_it_stopped
from .generated_files import save_generated
from .parser import build_parser


def cmd_train(args) -> int:
    given = {name: getattr(args, name) for name in OPTION_NAMES if getattr(args, name) is not None}
    if args.resume is not None:
        if args.out is not None and args.out != args.resume:
            raise ConfigError("--resume RUN continues RUN in place; leave out --out")
        out = args.resume
    elif args.data is None:
        raise ConfigError("name the data to train on (or --resume RUN)")
    else:
        out = args.out or Path("runs") / f"{_slug(args.data)}-{time.strftime('%Y%m%d-%H%M%S')}"
    model = train(
        args.data,
        label=args.label,
        val_data=args.val_data,
        config=args.config,
        out=out,
        overwrite=args.overwrite,
        resume=args.resume is not None,
        progress=not args.quiet,
        **given,
    )
    if not is_lead_process():  # process 0 of a distributed run speaks for all
        return 0
    result = model.result
    best = result["best_val_loss"]
    summary = f"best epoch {result['best_epoch']} of {result['epochs_run']}"
    if best is not None:
        summary += f", validation loss {best:.6f}"
    print(f"{summary} (stopped: {how_it_stopped(result)})")
    print(f"run saved to {out}")
    return 0


def cmd_sweep(args) -> int:
    texts = {name: getattr(args, name) for name in OPTION_NAMES if getattr(args, name) is not None}
    out = args.out or default_folder(args.data)
    try:
        frame = sweep(
            args.data,
            out=out,
            config=args.config,
            val_data=args.val_data,
            test_data=args.test,
            label=args.label,
            search=args.search,
            trials=args.trials,
            storage=args.storage,
            overwrite=args.overwrite,
            progress=not args.quiet,
            verbose=args.verbose and not args.quiet,
            **grid_from_texts(texts).keywords(),
        )
    except (TrainingInterrupted, KeyboardInterrupt):
        print("aekit: run the same aekit sweep command again to finish the sweep", file=sys.stderr)
        raise
    shown = [c for c in frame.columns if c not in ("run", "best_epoch", "stop_reason")]
    print(frame[shown].to_string(index=False, float_format=lambda value: f"{value:.4g}"))
    print(f"wrote {out}/sweep.csv, sweep.png and sweep.html; the runs are in {out}/")
    return 0


def cmd_transform(args) -> int:
    model = load(args.run)
    options = dict(sample=args.sample, seed=args.seed) if args.method == "encode" else {}
    columns = _code_columns(model) if args.method == "encode" else _sample_columns(model)
    if streams(args.data, args.stream):  # read and written a block of rows at a time
        path = Path(args.data).expanduser()
        blocks = streamed_outputs(model, args.method, path, label=args.label, **options)
        write_blocks(args.output, blocks, **columns)
    else:
        # columns matched by name to the run's (its label column set aside), as in Python
        data = model.load_input(args.data, label=args.label, default_split="test")
        save_array(args.output, getattr(model, args.method)(data, **options), **columns)
    if not args.quiet:
        print(f"wrote {args.output}")
    return 0


def cmd_decode(args) -> int:
    model = load(args.run)
    codes = load_data(args.codes)
    save_array(args.output, model.decode(codes), **_sample_columns(model))
    print(f"wrote {args.output}")
    return 0


def cmd_generate(args) -> int:
    model = load(args.run)
    samples = model.sample(args.n, seed=args.seed, sampler=args.sampler)
    _save_generated(model, args.output, samples)
    print(f"wrote {args.output}")
    return 0


def cmd_interpolate(args) -> int:
    model = load(args.run)
    x = model.as_samples(model.load_input(args.data, default_split="test"))
    for flag, index in (("--from", args.from_index), ("--to", args.to_index)):
        if not 0 <= index < len(x):
            raise ConfigError(
                f"{flag} {index} is out of range: {args.data} has {len(x)} samples "
                f"(indices 0 to {len(x) - 1})"
            )
    strip = model.interpolate(x[args.from_index], x[args.to_index], steps=args.steps)
    _save_generated(model, args.output, strip)
    print(f"wrote {args.output}")
    return 0


def _save_generated(model, path: Path, data) -> None:
    info = model.data_info
    save_generated(
        path,
        data,
        sample_shape=model.sample_shape,
        low=info.data_min,
        high=info.data_max,
        column_names=info.feature_names,
    )


def _code_columns(model) -> dict:
    """``save_array``'s column names for codes: z0, z1, ..., the names ``decode`` reads."""
    return dict(column_names=code_names(model.code_size))


def _sample_columns(model) -> dict:
    """``save_array``'s column names for samples in the data's units (reconstructions, decodes):
    a table model's training features, in training order, so a column reads as the input's
    column of that name; x0, x1, ... for the values of an array or image model's samples."""
    return dict(column_prefix="x", column_names=model.data_info.feature_names)


def cmd_evaluate(args) -> int:
    # on the run's own held-out data, the evaluation is the run's, saved for its report: the
    # run folder is held from loading to saving, so no other run is saved there meanwhile
    saves = args.data is None
    with writer_lock(args.run, make=False) if saves else contextlib.nullcontext():
        model = load(args.run)
        comparison = evaluate(
            model,
            args.data,
            train_data=args.train_data,
            label=args.label,
            outlier_label=args.labels,
            noise=args.noise,
            sample_quality=args.sample_quality,
            sampler=args.sampler,
            progress=not args.quiet,
            # the family's own options, those given (the flags of all families' are parsed)
            **{f.name: getattr(args, f.name) for f in evaluation_fields() if hasattr(args, f.name)},
        )
        if saves:
            save_evaluation(args.run, comparison.to_dict())
    if args.json:
        print(json.dumps(comparison.to_dict(), indent=2))
    else:
        print(comparison.to_table())
    return 0


def cmd_report(args) -> int:
    path = report(args.run, args.output, args.data, progress=not args.quiet)
    print(f"wrote {path}")
    return 0


def cmd_score(args) -> int:
    if not 0 < args.contamination < 1:
        raise ConfigError(f"--contamination must be in (0, 1), got {args.contamination}")
    if args.output.suffix.lower() not in (".csv", ".parquet"):
        raise ConfigError(f"cannot write scores to {args.output}: use a .csv or .parquet file")
    if args.train_data is not None and args.anomaly_score == "reconstruction":
        raise ConfigError(
            "--train-data gives the training codes of --anomaly-score both or neighbours; the "
            "reconstruction error does not use it"
        )
    if args.explain is not None and args.explain < 1:
        raise ConfigError(f"--explain must be at least 1 (features per row), got {args.explain}")
    model = load(args.run)
    explained = None
    if streams(args.data, args.stream):  # a block of rows at a time; the scores are kept
        _check_streamed_score(args)
        path = Path(args.data).expanduser()
        blocks = streamed_outputs(model, "anomaly_scores", path, label=args.label)
        scores = np.concatenate(list(blocks))
    else:
        data = model.load_input(args.data, label=args.label, default_split="test")
        explained = _explained_in_memory(model, data, args)
        scores = explained.scores
    threshold = float(np.quantile(scores, 1 - args.contamination))
    table = pd.DataFrame(
        {"score": scores, "outlier": (scores > threshold).astype(np.int8), "threshold": threshold}
    )
    if args.explain is not None:
        if args.anomaly_score == "both":  # which of the two terms the score is
            table["leading_term"] = explained.leading_term
        table = pd.concat([table, _top_feature_columns(explained, args.explain)], axis=1)
    with atomic_path(args.output) as tmp:
        if args.output.suffix.lower() == ".csv":
            table.to_csv(tmp, index=False)
        else:
            table.to_parquet(tmp, index=False)
    if not args.quiet:
        flagged = int(table["outlier"].sum())
        print(f"wrote {args.output}: {len(table)} scores, {flagged} above {threshold:.6g}")
    return 0


def _check_streamed_score(args) -> None:
    """ConfigError for what ``aekit score`` cannot do a block of rows at a time."""
    if args.anomaly_score != "reconstruction":
        raise ConfigError(
            f"--anomaly-score {args.anomaly_score} needs the code of every training row in "
            "memory, and the file is read in chunks (--stream); use --anomaly-score "
            "reconstruction, or --stream off to read it whole"
        )
    if args.explain is not None:
        raise ConfigError(
            "--explain needs the data in memory, and the file is read in chunks (--stream); "
            "use --stream off to read it whole"
        )


def _explained_in_memory(model, data, args) -> AnomalyExplanation:
    """``aekit score``'s scores of ``data`` with their explanation, from one pass through the
    model; the code distances from the training data's codes."""
    reference = None
    if args.anomaly_score != "reconstruction":
        model.require_vector_codes(f"--anomaly-score {args.anomaly_score}")
        why = f"the code distances of --anomaly-score {args.anomaly_score}"
        # --label names a column of DATA; the training data keeps the run's own label
        train_part = training_part(model, args.train_data, None, needed_for=why)
        reference, _ = fitted_reference(model, train_part, DETECTOR_NEIGHBOURS)
    return explain_samples(model, data, kind=args.anomaly_score, reference=reference)


def _top_feature_columns(explained: AnomalyExplanation, count: int) -> pd.DataFrame:
    """feature_1, share_1, residual_1, ...: each row's ``count`` largest shares of its
    reconstruction error, one group of columns per rank."""
    top = explained.top_features(count)
    columns = {}
    for rank in range(1, top["rank"].max() + 1):
        at_rank = top[top["rank"] == rank]
        for name in ("feature", "share", "residual"):
            columns[f"{name}_{rank}"] = at_rank[name].to_numpy()
    return pd.DataFrame(columns)


def cmd_export(args) -> int:
    model = load(args.run)
    path = model.export_onnx(args.output, part=args.part)
    print(f"wrote {path} ({args.part}; code size {model.code_size}, samples {model.output_shape})")
    return 0


def cmd_datasets(args) -> int:
    for entry in builtin_datasets():
        shape = "x".join(str(s) for s in entry["sample_shape"])
        where = entry["location"] if entry["available"] else f"not found: {entry['how_to_get']}"
        print(
            f"{entry['name']:<14} {entry['n_train']:>6} train {entry['n_test']:>6} test"
            f"  {shape:<8} {where}"
        )
    return 0


def cmd_demo(args) -> int:
    available = {entry["name"]: entry["available"] for entry in builtin_datasets()}
    name = "fashion-mnist" if available.get("fashion-mnist") else "digits"
    if name == "digits":
        print("Fashion-MNIST not found (see `aekit datasets`); the demo uses scikit-learn's digits")
    else:
        print(
            f"demo: Fashion-MNIST, conv autoencoder, code size 32, {args.time_limit:.0f} s budget"
        )
    # the time limit ends the Fashion-MNIST run; digits converges (early stopping) well before it
    options = dict(code_size=32 if name != "digits" else 16, time_limit=args.time_limit)
    train(name, out=args.out, overwrite=True, progress=not args.quiet, **options)
    # training evaluated the run on the test split (evaluation.json); no need to do it twice
    print(Comparison.from_dict(read_evaluation(args.out)).to_table())
    print(f"run saved to {args.out}: open report.html for its curves, evaluation and pictures")
    return 0


def _slug(text: str) -> str:
    stem = Path(text).stem if Path(text).suffix else Path(text).name
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in stem) or "run"


def _note_deprecations() -> None:
    """Show aekit's warnings as one line on stderr, deprecations (an old option spelling) as
    notes: Python's default filters may hide them, and its format names a source line."""
    warnings.filterwarnings("always", category=AekitDeprecationWarning)
    show_others = warnings.showwarning

    def note(message, category, *rest) -> None:
        if issubclass(category, AekitDeprecationWarning):
            print(f"aekit: note: {message}", file=sys.stderr)
        elif issubclass(category, AekitWarning):
            print(f"aekit: warning: {message}", file=sys.stderr)
        else:
            show_others(message, category, *rest)

    warnings.showwarning = note


HANDLERS = {
    "train": cmd_train,
    "sweep": cmd_sweep,
    "transform": cmd_transform,
    "decode": cmd_decode,
    "evaluate": cmd_evaluate,
    "report": cmd_report,
    "generate": cmd_generate,
    "interpolate": cmd_interpolate,
    "score": cmd_score,
    "export": cmd_export,
    "datasets": cmd_datasets,
    "demo": cmd_demo,
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            _note_deprecations()
            return HANDLERS[args.handler](args)
    except TrainingInterrupted as exc:
        if is_lead_process():  # every process stopped at the same step; one says so
            print(f"aekit: {exc}", file=sys.stderr)
        return 130
    except AekitError as exc:
        print(f"aekit{process_label()}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("aekit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
