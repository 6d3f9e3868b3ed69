"""The ``aekit`` command line's parser: every command and its flags (the train options' flags
come from their declarations, ``cli_flags``). ``cli.py`` runs what it parses."""

from __future__ import annotations

import argparse
from pathlib import Path

from .._version import __version__
from ..evaluation.outlier_scores import SCORES
from ..models.priors import SAMPLERS
from ..options.train_config import STREAM_CHOICES
from ..sweeps.driver import SEARCHES
from ..trained.onnx_export import PARTS
from .flags import add_evaluation_flags, add_sweep_flags, add_train_flags


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aekit",
        description="Train autoencoders and use them: encode, decode, evaluate against PCA.",
    )
    parser.add_argument("--version", action="version", version=f"aekit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_train(commands)
    _add_sweep(commands)
    _add_transforms(commands)
    _add_evaluate(commands)
    _add_report(commands)
    _add_generation(commands)
    _add_score_and_export(commands)
    _add_datasets_and_demo(commands)
    return parser


def _add_train(commands) -> None:
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
    p.set_defaults(handler="train")


def _add_sweep(commands) -> None:
    p = commands.add_parser(
        "sweep",
        help="train a grid of options (--code 2,4,8), each run against PCA at its code size",
        description="Train a run for every combination of the values given (a scalar option "
        "takes comma-separated values, --code 2,4,8; a list option one setting per argument, "
        "--hidden 128 512,128), compare each with PCA at its code size and write sweep.csv, "
        "sweep.png and sweep.html. Running the same command again skips finished runs and "
        "resumes unfinished ones.",
    )
    p.add_argument("data", help="a file, an image folder or a built-in name (as for train)")
    p.add_argument(
        "--out", type=Path, help="sweep folder, one run folder per setting [sweeps/<data>]"
    )
    p.add_argument(
        "--config",
        type=Path,
        help="TOML file of options to sweep (code_size = [2, 4, 8]; one value: fixed), at the "
        "top level or under [sweep] or [train]; flags override its keys",
    )
    p.add_argument(
        "--val-data",
        metavar="DATA",
        help="validation data for every run (default: each holds out --val-fraction)",
    )
    p.add_argument(
        "--test", metavar="DATA", help="held-out data to report on [a built-in's test split]"
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a sweep of other data or fixed options in --out (its runs are removed)",
    )
    p.add_argument(
        "--search",
        choices=SEARCHES,
        default="grid",
        help="grid: train every setting; optuna: --trials N of Optuna's TPE over the same "
        "values, by validation MSE (pip install 'aekit[sweep]') [grid]",
    )
    p.add_argument(
        "--trials", type=int, metavar="N", help="trials of --search optuna (the study's, in all)"
    )
    p.add_argument(
        "--storage",
        metavar="URL",
        help="keep the --search optuna study in this database (an SQLAlchemy URL, "
        "postgresql://user@host/db; pip install 'aekit[postgres]') so workers on several "
        "machines share it [SQLite in --out]",
    )
    p.add_argument("--verbose", action="store_true", help="also show each run's epochs")
    _label_and_quiet(p)
    add_sweep_flags(
        p.add_argument_group(
            "options to sweep (any train option; one value: every run uses it; defaults in "
            "brackets)"
        )
    )
    p.set_defaults(handler="sweep")


def _add_transforms(commands) -> None:
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
        p.add_argument(
            "--stream",
            choices=STREAM_CHOICES,
            default="auto",
            help="read a .npy/.csv/.parquet file in chunks and write as it goes (auto: files "
            "over 1 GiB) [auto]",
        )
        if name == "encode":
            p.add_argument("--sample", action="store_true", help="VAE: draw from the posterior")
            p.add_argument("--seed", type=int, default=0, help="seed of --sample [0]")
        p.set_defaults(handler="transform", method=name)

    p = commands.add_parser("decode", help="codes to data with a trained run")
    p.add_argument("run", type=Path, help="run folder")
    p.add_argument("codes", help="codes file (.npy .npz .csv .parquet), shape (n, code size)")
    p.add_argument("-o", "--output", type=Path, required=True, help="output .npy, .csv or .parquet")
    p.set_defaults(handler="decode")


def _add_evaluate(commands) -> None:
    p = commands.add_parser("evaluate", help="compare a run with PCA on held-out data")
    p.add_argument("run", type=Path, help="run folder")
    p.add_argument(
        "data",
        nargs="?",
        help="held-out data (default: a built-in's test split, or the validation part a file "
        "run held out)",
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
        "--no-sample-quality",
        dest="sample_quality",
        action="store_false",
        help="leave out the sample-quality rows (a reference network is trained for them: "
        "about a minute on Fashion-MNIST)",
    )
    _sampler_flag(p)
    add_evaluation_flags(p.add_argument_group("the family's own figures (defaults in brackets)"))
    p.add_argument(
        "--labels",
        metavar="COLUMN",
        help="column marking anomalies (1) and normal rows (0): adds AUROC and average "
        "precision of aekit, PCA and IsolationForest",
    )
    _label_and_quiet(p)
    p.set_defaults(handler="evaluate")


def _add_report(commands) -> None:
    p = commands.add_parser(
        "report", help="write a run's HTML report: options, data, curves, evaluation, pictures"
    )
    p.add_argument("run", type=Path, help="run folder")
    p.add_argument("-o", "--output", type=Path, help="the HTML file to write [RUN/report.html]")
    p.add_argument(
        "--data",
        help="data for the pictures and the evaluation (default: a built-in's test split, or "
        "the validation part a file run held out)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(handler="report")


def _add_generation(commands) -> None:
    p = commands.add_parser(
        "generate", help="new samples: decoded draws of the code mixture or the family's prior"
    )
    p.add_argument("run", type=Path, help="run folder")
    p.add_argument("-n", type=int, default=64, help="number of samples [64]")
    p.add_argument(
        "-o", "--output", type=Path, required=True, help="output .png (images), .npy, ..."
    )
    p.add_argument("--seed", type=int, default=0, help="[0]")
    _sampler_flag(p)
    p.set_defaults(handler="generate")

    p = commands.add_parser("interpolate", help="decode the path between two samples' codes")
    p.add_argument("run", type=Path, help="run folder")
    p.add_argument("data", help="data holding both samples")
    p.add_argument("--from", dest="from_index", type=int, required=True, metavar="I")
    p.add_argument("--to", dest="to_index", type=int, required=True, metavar="J")
    p.add_argument("--steps", type=int, default=10, help="points, endpoints included [10]")
    p.add_argument(
        "-o", "--output", type=Path, required=True, help="output .png (images), .npy, ..."
    )
    p.set_defaults(handler="interpolate")


def _add_score_and_export(commands) -> None:
    p = commands.add_parser("score", help="anomaly scores: each row's reconstruction error")
    p.add_argument("run", type=Path, help="run folder")
    p.add_argument("data", help="data to score")
    p.add_argument("-o", "--output", type=Path, required=True, help="output .csv or .parquet")
    p.add_argument(
        "--anomaly-score",
        choices=SCORES,
        default="reconstruction",
        help="reconstruction: the row's reconstruction error; both: that error and the row's "
        "code distance to the nearest training codes, each against the training rows' (the "
        "larger on a table, their sum on images; the scikit-learn detector's default); "
        "neighbours: the distance alone "
        "[reconstruction]",
    )
    p.add_argument(
        "--train-data",
        metavar="DATA",
        help="the run's training data, for the code distances [reloaded from the run's source]",
    )
    p.add_argument(
        "--contamination",
        type=float,
        default=0.1,
        metavar="FRACTION",
        help="fraction of rows to flag: the threshold is the scores' (1 - FRACTION) quantile [0.1]",
    )
    p.add_argument(
        "--explain",
        type=int,
        metavar="N",
        help="also write each row's N features with the largest share of its reconstruction "
        "error: feature_1, share_1 (of that error), residual_1 (value minus reconstruction, in "
        "the data's units), ..., feature_N, ...; with --anomaly-score both, also "
        "leading_term: reconstruction or code distance, whichever stands out more",
    )
    _label_and_quiet(p)
    p.add_argument(
        "--stream",
        choices=STREAM_CHOICES,
        default="auto",
        help="read a .npy/.csv/.parquet file in chunks, keeping only the scores (auto: files "
        "over 1 GiB; --anomaly-score reconstruction only, without --explain) [auto]",
    )
    p.set_defaults(handler="score")

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
    p.set_defaults(handler="export")


def _add_datasets_and_demo(commands) -> None:
    p = commands.add_parser("datasets", help="list the built-in datasets and where they were found")
    p.set_defaults(handler="datasets")

    p = commands.add_parser(
        "demo", help="train on Fashion-MNIST (or digits), then evaluate against PCA"
    )
    p.add_argument("--out", type=Path, default=Path("runs/demo"), help="run folder [runs/demo]")
    p.add_argument("--time-limit", type=float, default=240.0, metavar="SECONDS", help="[240]")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.set_defaults(handler="demo")


def _sampler_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--sampler",
        choices=sorted(SAMPLERS),
        help="mixture: the Gaussian mixture fitted on the training codes (every family with "
        "vector codes); prior: the family's own prior (vae, wae: N(0, I); vqvae: its "
        "autoregressive prior) [mixture where the run has one, else prior]",
    )


def _label_and_quiet(p: argparse.ArgumentParser) -> None:
    p.add_argument("--label", metavar="COLUMN", help="CSV/Parquet column to set aside as labels")
    p.add_argument("--quiet", action="store_true", help="no progress output")
