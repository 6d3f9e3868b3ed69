"""The ``aekit`` command: options -> the same TrainConfig -> library calls -> print.

Errors that are the user's to fix (AekitError) print as one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ._version import __version__
from .api import evaluate, load, train
from .cli_flags import add_train_flags
from .config import OPTION_NAMES
from .data import builtin_datasets, load_data, save_array
from .errors import AekitDeprecationWarning, AekitError, ConfigError
from .export import PARTS
from .files import atomic_path
from .generation import save_generated
from .likelihood import DEFAULT_IW_IMAGES, DEFAULT_IW_SAMPLES
from .training import TrainingInterrupted


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aekit",
        description="Train autoencoders and use them: encode, decode, evaluate against PCA.",
    )
    parser.add_argument("--version", action="version", version=f"aekit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("train", help="train an autoencoder and save the run folder")
    p.add_argument(
        "data",
        nargs="?",
        help="a file (.npy .npz .csv .parquet IDX), an image folder, or a built-in name "
        "(optional with --resume)",
    )
    p.add_argument("--out", type=Path, help="run folder to write (default: runs/<data>-<time>)")
    p.add_argument(
        "--config", type=Path, help="TOML file of options (keys as in Python: code_size = 32)"
    )
    p.add_argument("--val-data", help="explicit validation data (default: hold out --val-fraction)")
    p.add_argument("--overwrite", action="store_true", help="replace a run already in --out")
    p.add_argument(
        "--resume",
        type=Path,
        metavar="RUN",
        help="continue the run in RUN from its latest checkpoint, with its options and data",
    )
    _label_and_quiet(p)
    add_train_flags(p.add_argument_group("training options (defaults in brackets)"))
    p.set_defaults(handler=cmd_train)

    for name, what in (
        ("encode", "data to codes"),
        ("reconstruct", "data to its reconstruction"),
        ("denoise", "noisy data to its clean reconstruction (a model trained with --noise)"),
    ):
        p = commands.add_parser(name, help=f"{what} with a trained run")
        p.add_argument("run", type=Path, help="run folder")
        p.add_argument("data", help="data to transform")
        p.add_argument(
            "-o", "--output", type=Path, required=True, help="output .npy, .csv or .parquet"
        )
        _label_and_quiet(p)
        if name == "encode":
            p.add_argument("--sample", action="store_true", help="VAE: draw from the posterior")
            p.add_argument("--seed", type=int, default=0, help="seed of --sample [0]")
        p.set_defaults(handler=cmd_transform, method=name)

    p = commands.add_parser("decode", help="codes to data with a trained run")
    p.add_argument("run", type=Path, help="run folder")
    p.add_argument("codes", help="codes file (.npy .npz .csv .parquet), shape (n, code size)")
    p.add_argument("-o", "--output", type=Path, required=True, help="output .npy, .csv or .parquet")
    p.set_defaults(handler=cmd_decode)

    p = commands.add_parser("evaluate", help="compare a run with PCA on held-out data")
    p.add_argument("run", type=Path, help="run folder")
    p.add_argument(
        "data", nargs="?", help="held-out data (default for built-ins: their test split)"
    )
    p.add_argument(
        "--train-data", help="training data for the PCA baseline (default: the run's own)"
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument(
        "--noise",
        action="append",
        metavar="SPEC",
        help="also score denoising: corrupt the test data (seeded) with SPEC, e.g. gaussian:0.3",
    )
    p.add_argument(
        "--iw-samples",
        type=int,
        default=DEFAULT_IW_SAMPLES,
        metavar="K",
        help=f"VAE: importance samples per test sample for the NLL bound [{DEFAULT_IW_SAMPLES}]",
    )
    p.add_argument(
        "--iw-images",
        type=_count_or_all,
        default=DEFAULT_IW_IMAGES,
        metavar="N",
        help="VAE: test samples (a seeded random subset) the NLL bound is computed on, or all "
        f"[{DEFAULT_IW_IMAGES}]",
    )
    p.add_argument(
        "--labels",
        metavar="COLUMN",
        help="column marking anomalies (1) and normal rows (0): adds AUROC and average "
        "precision of aekit, PCA and IsolationForest",
    )
    _label_and_quiet(p)
    p.set_defaults(handler=cmd_evaluate)

    p = commands.add_parser("generate", help="new samples: VAE prior, or the AE's code density")
    p.add_argument("run", type=Path, help="run folder")
    p.add_argument("-n", type=int, default=64, help="number of samples [64]")
    p.add_argument(
        "-o", "--output", type=Path, required=True, help="output .png (images), .npy, ..."
    )
    p.add_argument("--seed", type=int, default=0, help="[0]")
    p.set_defaults(handler=cmd_generate)

    p = commands.add_parser("interpolate", help="decode the path between two samples' codes")
    p.add_argument("run", type=Path, help="run folder")
    p.add_argument("data", help="data holding both samples")
    p.add_argument("--from", dest="from_index", type=int, required=True, metavar="I")
    p.add_argument("--to", dest="to_index", type=int, required=True, metavar="J")
    p.add_argument("--steps", type=int, default=10, help="points, endpoints included [10]")
    p.add_argument(
        "-o", "--output", type=Path, required=True, help="output .png (images), .npy, ..."
    )
    p.set_defaults(handler=cmd_interpolate)

    p = commands.add_parser("score", help="anomaly scores: each row's reconstruction error")
    p.add_argument("run", type=Path, help="run folder")
    p.add_argument("data", help="data to score")
    p.add_argument("-o", "--output", type=Path, required=True, help="output .csv or .parquet")
    p.add_argument(
        "--contamination",
        type=float,
        default=0.1,
        metavar="FRACTION",
        help="fraction of rows to flag: the threshold is the scores' (1 - FRACTION) quantile [0.1]",
    )
    _label_and_quiet(p)
    p.set_defaults(handler=cmd_score)

    p = commands.add_parser("export", help="write a run as ONNX, its scaling folded in")
    p.add_argument("run", type=Path, help="run folder")
    p.add_argument("-o", "--output", type=Path, required=True, help="output .onnx file")
    p.add_argument(
        "--part",
        choices=PARTS,
        default="both",
        help="encoder (data -> codes), decoder (codes -> data) or both (data -> codes and "
        "reconstructions) [both]",
    )
    p.set_defaults(handler=cmd_export)

    p = commands.add_parser("datasets", help="list the built-in datasets and where they were found")
    p.set_defaults(handler=cmd_datasets)

    p = commands.add_parser(
        "demo", help="train on Fashion-MNIST (or digits), then evaluate against PCA"
    )
    p.add_argument("--out", type=Path, default=Path("runs/demo"), help="run folder [runs/demo]")
    p.add_argument("--time-limit", type=float, default=240.0, metavar="SECONDS", help="[240]")
    p.set_defaults(handler=cmd_demo)
    return parser


def _count_or_all(text: str) -> int | None:
    """--iw-images: a positive integer, or "all" (None)."""
    if text == "all":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'all', got {text!r}") from None


def _label_and_quiet(p: argparse.ArgumentParser) -> None:
    p.add_argument("--label", metavar="COLUMN", help="CSV/Parquet column to set aside as labels")
    p.add_argument("--quiet", action="store_true", help="no progress output")


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
    result = model.result
    best = result["best_val_loss"]
    summary = f"best epoch {result['best_epoch']} of {result['epochs_run']}"
    if best is not None:
        summary += f", validation loss {best:.6f}"
    print(f"{summary} (stopped: {result['stop_reason'].replace('_', ' ')})")
    print(f"run saved to {out}")
    return 0


def cmd_transform(args) -> int:
    model = load(args.run)
    # columns matched by name to the run's (its label column set aside), as in Python
    data = model.load_input(args.data, label=args.label, default_split="test")
    options = dict(sample=args.sample, seed=args.seed) if args.method == "encode" else {}
    save_array(
        args.output,
        getattr(model, args.method)(data, **options),
        column_prefix="z" if args.method == "encode" else "x",
    )
    if not args.quiet:
        print(f"wrote {args.output}")
    return 0


def cmd_decode(args) -> int:
    model = load(args.run)
    codes = load_data(args.codes)
    save_array(args.output, model.decode(codes), column_prefix="x")
    print(f"wrote {args.output}")
    return 0


def cmd_generate(args) -> int:
    model = load(args.run)
    _save_generated(model, args.output, model.sample(args.n, seed=args.seed))
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
        path, data, sample_shape=model.sample_shape, low=info.data_min, high=info.data_max
    )


def cmd_evaluate(args) -> int:
    model = load(args.run)
    comparison = evaluate(
        model,
        args.data,
        train_data=args.train_data,
        label=args.label,
        outlier_label=args.labels,
        noise=args.noise,
        iw_samples=args.iw_samples,
        iw_images=args.iw_images,
        progress=not args.quiet,
    )
    if args.json:
        print(json.dumps(comparison.to_dict(), indent=2))
    else:
        print(comparison.to_table())
    return 0


def cmd_score(args) -> int:
    if not 0 < args.contamination < 1:
        raise ConfigError(f"--contamination must be in (0, 1), got {args.contamination}")
    if args.output.suffix.lower() not in (".csv", ".parquet"):
        raise ConfigError(f"cannot write scores to {args.output}: use a .csv or .parquet file")
    model = load(args.run)
    data = model.load_input(args.data, label=args.label, default_split="test")
    scores = model.anomaly_scores(data)
    threshold = float(np.quantile(scores, 1 - args.contamination))
    table = pd.DataFrame(
        {"score": scores, "outlier": (scores > threshold).astype(np.int8), "threshold": threshold}
    )
    with atomic_path(args.output) as tmp:
        if args.output.suffix.lower() == ".csv":
            table.to_csv(tmp, index=False)
        else:
            table.to_parquet(tmp, index=False)
    if not args.quiet:
        flagged = int(table["outlier"].sum())
        print(f"wrote {args.output}: {len(table)} scores, {flagged} above {threshold:.6g}")
    return 0


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
    train(name, out=args.out, overwrite=True, **options)
    print(evaluate(load(args.out)).to_table())
    print(f"run saved to {args.out} (reconstructions.png, loss.png, metrics.jsonl)")
    return 0


def _slug(text: str) -> str:
    stem = Path(text).stem if Path(text).suffix else Path(text).name
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in stem) or "run"


def _note_deprecations() -> None:
    """Show aekit's deprecation warnings (an old option spelling) as one line on stderr:
    Python's default filters may hide them, and its format names a source line."""
    warnings.filterwarnings("always", category=AekitDeprecationWarning)
    show_others = warnings.showwarning

    def note(message, category, *rest) -> None:
        if issubclass(category, AekitDeprecationWarning):
            print(f"aekit: note: {message}", file=sys.stderr)
        else:
            show_others(message, category, *rest)

    warnings.showwarning = note


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            _note_deprecations()
            return args.handler(args)
    except TrainingInterrupted as exc:
        print(f"aekit: {exc}", file=sys.stderr)
        return 130
    except AekitError as exc:
        print(f"aekit: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("aekit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
