"""Two processes against one: ``aekit train`` under torchrun on the same cores.

The case is the seed article's model on Fashion-MNIST as vectors (784-128-32, BCE, batch 256,
lr 1e-3, 3 epochs, no early stopping), trained by the command a user types:

    1 process, 2 threads:    OMP_NUM_THREADS=2 aekit train data.npy --out RUN ...
    2 processes, 1 thread:   OMP_NUM_THREADS=1 torchrun --standalone --nproc-per-node 2 \\
                                 -m aekit train data.npy --out RUN ...

with the same global batch, so both train the same model (to float rounding) on as many
threads in all. For each it reports the wall time of the whole command (process start, data
loading, training, saving) and the training loop's samples/s (the training samples of all
epochs over their seconds, from metrics.jsonl). Rounds alternate; figures are medians.

    python benchmarks/distributed.py [--rounds 3] [--n 60000] [--epochs 3]
    python benchmarks/distributed.py --quick --results /tmp/distributed.json   # smoke run

Fashion-MNIST is used where installed (see ``aekit datasets``), else scikit-learn's digits
repeated to ``--n`` rows. Run it on an otherwise idle machine: the two configurations share
the cores, and another job's load falls unevenly on them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from results import Table, add_results_option, docstring_summary, write_results

import aekit
from aekit.data import builtin_datasets

NAME = "distributed"
TRAIN_OPTIONS = [
    "--hidden", "128", "--code", "32", "--loss", "bce", "--batch-size", "256", "--lr", "1e-3",
    "--no-early-stopping", "--quiet", "--overwrite",
]  # fmt: skip


def load_vectors(n: int) -> tuple[np.ndarray, str]:
    """(n, d) float32 rows in [0, 1] and where they came from."""
    available = {entry["name"]: entry["available"] for entry in builtin_datasets()}
    name = "fashion-mnist" if available.get("fashion-mnist") else "digits"
    x = aekit.data.load_data(name).x
    x = x.reshape(len(x), -1).astype(np.float32)
    repeats = -(-n // len(x))
    return np.tile(x, (repeats, 1))[:n], name


def launch(processes: int, data: Path, out: Path, epochs: int) -> list[str]:
    aekit_train = ["-m", "aekit", "train", str(data), "--out", str(out), "--epochs", str(epochs)]
    if processes == 1:
        return [sys.executable, *aekit_train, *TRAIN_OPTIONS]
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    return [*torchrun, "--nproc-per-node", str(processes), *aekit_train, *TRAIN_OPTIONS]


def timed_run(processes: int, threads: int, data: Path, out: Path, epochs: int) -> dict:
    """Wall seconds of the command, the loop's samples/s, and the last validation loss."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    start = time.perf_counter()
    result = subprocess.run(
        launch(processes, data, out, epochs), capture_output=True, text=True, env=env
    )
    wall = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{processes} process(es) failed:\n{result.stderr[-3000:]}")
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    samples = sum(row["samples_per_s"] * row["seconds"] for row in rows)
    return {
        "wall": wall,
        "samples_per_s": samples / sum(row["seconds"] for row in rows),
        "val_loss": rows[-1]["val_loss"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="runs of each, alternating")
    parser.add_argument("--n", type=int, default=60000, help="rows (10%% held out)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="tiny sizes for a smoke run")
    add_results_option(parser, NAME)
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.n, args.epochs = 1, 3000, 1
    x, name = load_vectors(args.n)
    cases = {"1 process x 2 threads": (1, 2), "2 processes x 1 thread": (2, 1)}
    print(f"{name}: {x.shape[0]} rows of {x.shape[1]}, {args.epochs} epochs, batch 256")
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data.npy"
        np.save(data, x)
        runs: dict[str, list[dict]] = {case: [] for case in cases}
        for _ in range(args.rounds):
            for case, (processes, threads) in cases.items():
                out = Path(folder) / f"run-{processes}"
                runs[case].append(timed_run(processes, threads, data, out, args.epochs))
    cells, figures, first = [], {}, None
    for case, results in runs.items():
        wall = statistics.median(r["wall"] for r in results)
        rate = statistics.median(r["samples_per_s"] for r in results)
        first = first or (wall, rate)
        figures[case] = {"runs": results, "wall": wall, "samples_per_s": rate}
        gains = f"{first[0] / wall:.2f}x, {rate / first[1]:.2f}x"
        cells.append([case, f"{wall:.2f}", f"{rate:,.0f}", gains, f"{results[-1]['val_loss']:.5f}"])
    table = Table(
        f"{name}, {x.shape[0]:,} rows, {args.epochs} epochs, batch 256; medians of "
        f"{args.rounds} rounds",
        ["configuration", "wall seconds", "loop samples/s", "speed-up: wall, loop", "val loss"],
        cells,
    )
    table.print()
    one, two = (figures[case] for case in cases)
    write_results(
        args.results,
        benchmark=NAME,
        title="Two processes against one",
        about=docstring_summary(__doc__),
        headline=(
            f"2 processes x 1 thread against 1 process x 2 threads: "
            f"{one['wall'] / two['wall']:.2f}x the wall-time speed, "
            f"{two['samples_per_s'] / one['samples_per_s']:.2f}x the loop's samples/s"
        ),
        tables=[table],
        figures=figures,
        options=args,
        chosen_on="nothing: a timing of fixed settings",
        checked_on=f"{name}, {x.shape[0]:,} rows, timed on this machine",
        threads=None,
    )


if __name__ == "__main__":
    main()
