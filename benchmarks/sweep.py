"""Fashion-MNIST, code sizes 2 to 64: where does the autoencoder gain most over PCA?

Runs ``aekit.sweep`` over the code sizes with the default model for images (the conv preset)
and a time limit per run, then prints each run's test MSE beside PCA's at the same code size
(fitted on the same training images) and copies the sweep's figure to
docs/sweep-fashion-mnist.png for the README. The sweep folder keeps every run: running the
command again resumes an interrupted sweep instead of starting over.

    .venv/bin/python benchmarks/sweep.py [--time-limit 60] [--codes 2,4,8,16,32,64]

Check it runs with a tiny budget: ``--time-limit 3 --codes 2,4 --out /tmp/sweep-check
--figure /tmp/sweep-check.png``. Needs Fashion-MNIST's IDX files (see ``aekit datasets``).
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import torch

import aekit

ROOT = Path(__file__).resolve().parents[1]


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


if __name__ == "__main__":
    main()
