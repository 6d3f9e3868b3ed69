"""The conv preset against the faster recipe for time-limited runs, on digits.

The recipe (``lr=6e-3, warmup=0.03, schedule="linear"``) was chosen on Fashion-MNIST's
validation part, in 5-minute runs (quality.py; aekit/options/defaults.py), and is what a conv
run under a time limit takes by default. A default must hold on other data too, so this trains
both on scikit-learn's digits as 8x8 images, data the recipe was not chosen on: conv backbone,
code 8, every other option at its default (so the epochs are the default's and early stopping
ends the run), one 80/20 split, several seeds. The preset's row sets its own schedule (lr 3e-3,
cosine decay, no warm-up: what a run without a time limit takes). Each row is the test MSE
against PCA-8's, fitted on the same training images. The preset's learning-rate drops at a
stall (``DEFAULT_LR_DROPS``) were adopted on this very table, so the preset's figures with them
are not out of sample (``--lr-drops 0``: without).

With ``--time-limit SECONDS`` each run also stops after that many seconds of training (the
schedule then decays over the time limit where it ends first): the check of the recipe as the
default for time-limited runs, written to its own results file.

    python benchmarks/conv_recipe.py [--seeds 0,1,2,3,4,5] [--lr-drops 0]
    python benchmarks/conv_recipe.py --time-limit 10 \
        --results benchmarks/results/conv_recipe_time_limited.json
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from results import Table, add_results_option, docstring_summary, write_results
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import aekit
from aekit.options.defaults import BACKBONE_DEFAULTS, SCHEDULE_DEFAULTS, TIME_LIMITED_CONV

NAME = "conv_recipe"
SETTINGS = {
    "preset": {"lr": BACKBONE_DEFAULTS["conv"]["lr"], **SCHEDULE_DEFAULTS},
    "recipe": dict(TIME_LIMITED_CONV),
}


def setting_text(options: dict) -> str:
    return ", ".join(f"{key}={value}" for key, value in options.items()) or "the defaults"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2,3,4,5", help="training seeds, comma-separated")
    parser.add_argument(
        "--lr-drops", type=int, help="learning-rate drops at a stall (0: as before they existed)"
    )
    parser.add_argument("--time-limit", type=float, help="seconds of training per run")
    add_results_option(parser, NAME)
    args = parser.parse_args()
    shared = {} if args.lr_drops is None else {"lr_drops": args.lr_drops}
    if args.time_limit is not None:
        shared["time_limit"] = args.time_limit
    images = (load_digits().images / 16.0).astype(np.float32)
    train, test = train_test_split(images, test_size=0.2, random_state=0)
    seeds = [int(s) for s in args.seeds.split(",")]
    runs: dict[str, list[dict]] = {name: [] for name in SETTINGS}
    for seed in seeds:
        for name, options in SETTINGS.items():
            start = time.perf_counter()
            model = aekit.train(
                train, backbone="conv", code_size=8, seed=seed, progress=False, report=False,
                **shared, **options,
            )  # fmt: skip
            rows = aekit.evaluate(model, test, train_data=train, sample_quality=False).rows
            runs[name].append(
                {
                    "seed": seed,
                    "ratio": rows["aekit"]["mse"] / rows["pca"]["mse"],
                    "epochs": len(model.history),
                    "seconds": time.perf_counter() - start,
                }
            )
        print(f"seed {seed}: " + ", ".join(f"{n} {runs[n][-1]['ratio']:.3f}x" for n in runs))
    means = {name: statistics.mean(run["ratio"] for run in runs[name]) for name in SETTINGS}
    cells = [
        [str(seed)]
        + [f"{runs[n][i]['ratio']:.3f}x ({runs[n][i]['epochs']} epochs)" for n in SETTINGS]
        for i, seed in enumerate(seeds)
    ]
    cells.append(["mean"] + [f"{means[n]:.3f}x" for n in SETTINGS])
    table = Table(
        "Test MSE against PCA-8's (lower is better), digits as 8x8 images, code 8"
        + (f", at most {args.time_limit:g} s of training a run" if args.time_limit else ""),
        ["seed"] + [f"{n} ({setting_text(SETTINGS[n])})" for n in SETTINGS],
        cells,
    )
    table.print()
    limit = f" under {args.time_limit:g} s" if args.time_limit else ""
    wins = sum(r["ratio"] < p["ratio"] for r, p in zip(runs["recipe"], runs["preset"], strict=True))
    write_results(
        args.results,
        benchmark=NAME,
        title="The conv preset against the faster recipe, on digits",
        about=docstring_summary(__doc__),
        headline=(
            f"digits{limit}, mean test MSE vs PCA-8: preset {means['preset']:.3f}x, recipe "
            f"{means['recipe']:.3f}x; the recipe better on {wins} of {len(seeds)} seeds"
        ),
        tables=[table],
        figures={"runs": runs, "mean_ratio": means, "recipe_wins": wins},
        options=args,
        chosen_on=(
            "the recipe: Fashion-MNIST's validation part (quality.py); the preset's learning-rate "
            "drops (DEFAULT_LR_DROPS): this very table, the digits test part"
        ),
        checked_on=(
            "scikit-learn's digits, the test part of one 80/20 split: out of sample for the "
            "recipe, not for the drops, which were adopted on it"
        ),
    )


if __name__ == "__main__":
    main()
