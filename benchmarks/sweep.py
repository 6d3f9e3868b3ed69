"""Fashion-MNIST, code sizes 2 to 64: where does the autoencoder gain most over PCA?

Runs ``aekit.sweep`` over the code sizes with the default model for images (the conv preset)
and a time limit per run, then prints each run's test MSE beside PCA's at the same code size
(fitted on the same training images) and copies the sweep's figure to
docs/sweep-fashion-mnist.png for the README. The sweep folder keeps every run: running the
command again resumes an interrupted sweep instead of starting over.

    python benchmarks/sweep.py [--time-limit 60] [--codes 2,4,8,16,32,64]

Check it runs with a tiny budget: ``--time-limit 3 --codes 2,4 --out /tmp/sweep-check
--figure /tmp/sweep-check.png --results /tmp/sweep-check.json``. Needs Fashion-MNIST's IDX
files (see ``aekit datasets``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

import torch
from results import Table, add_results_option, docstring_summary, write_results

import aekit

NAME = "sweep"
ROOT = Path(__file__).resolve().parents[1]


def figure_note(figure: Path) -> str:
    """The figure on the benchmark page (docs/benchmarks/), or where it is if not in docs/."""
    docs = ROOT / "docs"
    if figure.resolve().is_relative_to(docs):
        link = os.path.relpath(figure.resolve(), docs / "benchmarks")
        return f"![test MSE against code size, aekit and PCA]({link})"
    return f"The figure: `{figure}`."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="fashion-mnist")
    parser.add_argument("--codes", default="2,4,8,16,32,64", help="code sizes, comma-separated")
    parser.add_argument(
        "--time-limit", type=float, default=60.0, help="training seconds per run [60]"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "sweep-fashion-mnist")
    parser.add_argument("--figure", type=Path, default=ROOT / "docs" / "sweep-fashion-mnist.png")
    parser.add_argument("--overwrite", action="store_true", help="replace another sweep in --out")
    add_results_option(parser, NAME)
    args = parser.parse_args()

    codes = [int(code) for code in args.codes.split(",")]
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; {args.data}, code sizes "
        f"{codes}, {args.time_limit:g} s of training per run, sweep folder {args.out}"
    )
    start = time.perf_counter()
    frame = aekit.sweep(
        args.data,
        out=args.out,
        code_size=codes,
        time_limit=args.time_limit,
        epochs=1000,  # the time limit (or early stopping) ends each run
        overwrite=args.overwrite,
        progress=True,
    )
    seconds = time.perf_counter() - start
    columns = {
        "code_size": "code",
        "test_mse": "aekit test MSE",
        "pca_test_mse": "PCA test MSE",
        "test_ratio": "aekit / PCA",
        "probe_accuracy": "aekit probe",
        "pca_probe_accuracy": "PCA probe",
        "epochs": "epochs",
        "seconds": "train s",
    }
    table = frame[list(columns)].rename(columns=columns)
    print(table.to_string(index=False, float_format=lambda value: f"{value:.4g}"))
    best = frame.loc[frame["test_ratio"].idxmin()]
    print(
        f"\naekit's test MSE is lowest against PCA's at code size {best['code_size']}: "
        f"{best['test_ratio']:.3f}x (below 1x: aekit better); {seconds:.0f} s in all"
    )
    args.figure.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.out / "sweep.png", args.figure)
    print(f"figure: {args.figure} (also {args.out / 'sweep.html'})")
    formats = {"code": "{:.0f}", "epochs": "{:.0f}", "train s": "{:.0f}"}
    cells = [
        [formats.get(column, "{:.4g}").format(value) for column, value in row.items()]
        for row in table.to_dict("records")
    ]
    write_results(
        args.results,
        benchmark=NAME,
        title="Where the autoencoder gains most over PCA",
        about=docstring_summary(__doc__),
        headline=(
            f"Fashion-MNIST, {args.time_limit:g} s a run: aekit's test MSE lowest against PCA's "
            f"at code {best['code_size']}, {best['test_ratio']:.3f}x"
        ),
        tables=[Table(f"{args.data}, test MSE and probe accuracy", list(table.columns), cells)],
        figures={"runs": frame.to_dict("records"), "seconds": seconds},
        options=args,
        chosen_on="each run's epoch: its validation part; the code sizes: fixed in advance",
        checked_on=f"the {args.data} test images",
        notes=[figure_note(args.figure)],
    )


if __name__ == "__main__":
    main()
