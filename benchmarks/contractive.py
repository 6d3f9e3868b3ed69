"""What the contractive penalty costs: `aekit.train` with and without it, the whole public call.

Both calls get the same data, seed and options (MLP 784-128-32, batch 256, lr 1e-3, a constant
learning rate, no early stopping, no progress bar); the only difference is `contractive=LAMBDA`.
One untimed call of each warms up, then the two alternate for `--rounds` rounds, so a load that
comes and goes on a shared machine hits both alike. Each call is timed whole with
`time.perf_counter` (data in to model out: scaling, the loop, validation, the code density fit)
and its training-step time is read from the history it returns (the loop's own seconds per
epoch over its optimiser steps). The table gives the medians and the ratio contractive / plain
of each; the ratio of medians is the figure to quote, the absolute times depend on the machine.

    python benchmarks/contractive.py [--rounds 5] [--epochs 3] [--n 12000]
    python benchmarks/contractive.py --quick --results /tmp/contractive.json   # smoke run
    python benchmarks/contractive.py --data fashion-mnist

Synthetic data is uniform random pixels (no download); Fashion-MNIST needs its IDX files.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time

import numpy as np
import torch
from results import Table, add_results_option, docstring_summary, write_results

import aekit

NAME = "contractive"
OPTIONS = dict(
    backbone="mlp",
    hidden=[128],
    code_size=32,
    batch_size=256,
    lr=1e-3,
    schedule="constant",
    early_stopping=False,
    device="cpu",
    seed=0,
    progress=False,
)
LAMBDA = 0.1


def load_vectors(source: str, n: int) -> np.ndarray:
    """(n, 784) float32 pixels in [0, 1]."""
    if source == "synthetic":
        return np.random.default_rng(0).random((n, 784), dtype=np.float32)
    from aekit.data import load_data

    return load_data("fashion-mnist").x[:n].reshape(n, -1)


def timed_call(x: np.ndarray, epochs: int, contractive: float) -> tuple[float, float]:
    """Seconds of the whole ``aekit.train`` call, and milliseconds per training step in it."""
    start = time.perf_counter()
    model = aekit.train(x, epochs=epochs, contractive=contractive, **OPTIONS)
    seconds = time.perf_counter() - start
    n_train = model.data_info["n_train"]
    steps = epochs * math.ceil(n_train / OPTIONS["batch_size"])
    loop_seconds = sum(row["seconds"] for row in model.history)
    return seconds, 1000 * loop_seconds / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed calls of each, alternating")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per call")
    parser.add_argument("--n", type=int, default=12000, help="samples (10%% held out)")
    parser.add_argument("--data", choices=("synthetic", "fashion-mnist"), default="synthetic")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes for a smoke run")
    add_results_option(parser, NAME)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.quick:
        args.n, args.rounds, args.epochs = 1024, 2, 1

    x = load_vectors(args.data, args.n)
    variants = {"plain": 0.0, f"contractive {LAMBDA:g}": LAMBDA}
    for contractive in variants.values():  # warm-up, untimed
        aekit.train(x[:1024], epochs=1, contractive=contractive, **OPTIONS)
    calls = {name: [] for name in variants}
    steps = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, contractive in variants.items():
            seconds, step_ms = timed_call(x, args.epochs, contractive)
            calls[name].append(seconds)
            steps[name].append(step_ms)

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs; "
        f"data {args.data}, n {args.n}; MLP 784-128-32, batch 256, {args.epochs} epoch(s) per "
        f"call; {args.rounds} rounds, plain and contractive alternating; medians"
    )
    medians = {
        name: {"call_s": statistics.median(calls[name]), "step_ms": statistics.median(steps[name])}
        for name in variants
    }
    plain, contractive = variants
    call_ratio = medians[contractive]["call_s"] / medians[plain]["call_s"]
    step_ratio = medians[contractive]["step_ms"] / medians[plain]["step_ms"]
    cells = [[name, f"{m['call_s']:.2f}", f"{m['step_ms']:.2f}"] for name, m in medians.items()]
    cells.append(["contractive / plain", f"{call_ratio:.2f}x", f"{step_ratio:.2f}x"])
    table = Table(
        f"Medians of {args.rounds} rounds, {args.epochs} epoch(s) per call, {args.data} data",
        ["variant", "whole call, s", "training step, ms"],
        cells,
    )
    table.print()
    write_results(
        args.results,
        benchmark=NAME,
        title="What the contractive penalty costs",
        about=docstring_summary(__doc__),
        headline=(
            f"contractive {LAMBDA:g} against plain: {step_ratio:.2f}x the training step time, "
            f"{call_ratio:.2f}x the whole aekit.train call"
        ),
        tables=[table],
        figures={
            "calls_s": calls,
            "steps_ms": steps,
            "call_ratio": call_ratio,
            "step_ratio": step_ratio,
        },
        options=args,
        chosen_on="nothing: a timing of fixed settings",
        checked_on=f"{args.data} rows ({args.n:,}), timed on this machine",
    )


if __name__ == "__main__":
    main()
