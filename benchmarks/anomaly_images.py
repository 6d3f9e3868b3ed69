"""Image anomalies: one-class Fashion-MNIST, aekit's conv detector beside PCA and an MLP.

The one-class protocol of Golan and El-Yaniv (2018) and the papers before it: for each class c,
every detector is fitted on the training images of class c only (6,000) and scores the whole
test set (10,000 images); the figure is the AUROC of those scores with "not class c" as the
positive (anomaly) label, then the mean over the classes. Nothing is tuned on the test images:

- aekit conv: ``AutoencoderAnomalyDetector(backbone="conv")``, every other option at its
  default (code 32, the conv preset), trained for ``--time-limit`` seconds (or ``--epochs``);
- aekit mlp: ``AutoencoderAnomalyDetector(backbone="mlp")``, the same budget;
- PCA: the reconstruction error of PCA with as many components as the detector's default code
  (32), fitted on the same images (pixels in [0, 1], as the detectors' min-max scaling gives).

Seconds are each detector's fit and score of one class. The published figures (GEOM's Table 1)
come from models trained far longer on a GPU, and their OC-SVMs' two parameters were picked by
the test AUROC itself (see the README).

    python benchmarks/anomaly_images.py [--classes 0,1] [--time-limit 60 | --epochs 20]
                                        [--seed 0] [--no-mlp] [--json out.json]
    python benchmarks/anomaly_images.py --epochs 3 --lr 6e-3 --warmup 0.03 --schedule linear

The second line trains both aekit detectors for 3 epochs with the faster conv recipe, which the
conv detector takes by default under the time limit (options/defaults.py).

Needs Fashion-MNIST's IDX files (Debian: `apt-get install dataset-fashion-mnist`, or
$AEKIT_DATA/fashion-mnist/); see `aekit datasets`.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import torch
from results import Table, add_results_option, docstring_summary, write_results
from sklearn.metrics import roc_auc_score

from aekit.atomic_files import atomic_write_text
from aekit.data import load_data
from aekit.evaluation.detection import pca_scores
from aekit.options.defaults import default_code_size
from aekit.sklearn import AutoencoderAnomalyDetector

NAME = "anomaly_images"
CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
# The detector's default code for 28x28 images: PCA gets as many components.
PCA_COMPONENTS = default_code_size(28 * 28)


def detectors(budget: dict, with_mlp: bool) -> dict:
    """name -> fit_and_score(x_fit, x_score, seed) -> (scores, epochs); higher = more anomalous."""

    def aekit_detector(backbone: str):
        def fit_and_score(x_fit, x_score, seed):
            detector = AutoencoderAnomalyDetector(backbone=backbone, random_state=seed, **budget)
            detector.fit(x_fit)
            return detector.pyod_scores(x_score), epochs_trained(detector, len(x_fit))

        return fit_and_score

    def pca(x_fit, x_score, seed):
        flat_fit, flat_score = x_fit.reshape(len(x_fit), -1), x_score.reshape(len(x_score), -1)
        return pca_scores(flat_fit, flat_score, PCA_COMPONENTS, seed), None

    found = {"aekit_conv": aekit_detector("conv")}
    if with_mlp:
        found["aekit_mlp"] = aekit_detector("mlp")
    found[f"pca_{PCA_COMPONENTS}"] = pca
    return found


def epochs_trained(detector: AutoencoderAnomalyDetector, n_fit: int) -> float:
    """Passes over the training part (the rest is validation) that the budget bought: a
    time limit on a busy machine can end training inside the first epoch."""
    seen = sum(row["seconds"] * row["samples_per_s"] for row in detector.model_.history)
    return seen / (n_fit * (1.0 - detector.val_fraction))


def run_class(c: int, train, test, methods: dict, seed: int) -> list[dict]:
    x_fit = train.x[train.y == c]
    is_anomaly = (test.y != c).astype(int)
    rows = []
    for name, fit_and_score in methods.items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scores, epochs = fit_and_score(x_fit, test.x, seed)
        seconds = time.perf_counter() - start
        if not np.isfinite(scores).all():
            raise SystemExit(f"class {c}: {name} gave {np.sum(~np.isfinite(scores))} NaN scores")
        row = {
            "class": c,
            "name": CLASS_NAMES[c],
            "detector": name,
            "auroc": float(roc_auc_score(is_anomaly, scores)),
            "seconds": seconds,
            "epochs": epochs,
            "n_fit": len(x_fit),
        }
        print(
            f"class {c} ({CLASS_NAMES[c]}), {name}: AUROC {row['auroc']:.3f}, {seconds:.0f} s"
            + (f", {epochs:.1f} epochs" if epochs is not None else ""),
            flush=True,
        )
        rows.append(row)
    return rows


def results_table(rows: list[dict]) -> tuple[Table, dict]:
    """AUROC per class and detector, the means, seconds and epochs; and the means."""
    classes = list(dict.fromkeys(r["class"] for r in rows))
    methods = list(dict.fromkeys(r["detector"] for r in rows))
    auroc = {(r["class"], r["detector"]): r["auroc"] for r in rows}
    cells = [[f"{c} {CLASS_NAMES[c]}"] + [f"{auroc[c, m]:.3f}" for m in methods] for c in classes]
    means = {m: float(np.mean([auroc[c, m] for c in classes])) for m in methods}
    cells.append(["**mean**"] + [f"**{means[m]:.3f}**" for m in methods])
    seconds = {m: sum(r["seconds"] for r in rows if r["detector"] == m) for m in methods}
    cells.append(["seconds"] + [f"{seconds[m]:.0f}" for m in methods])
    epochs = [[r["epochs"] for r in rows if r["detector"] == m] for m in methods]
    cells.append(
        ["epochs (mean)"] + [f"{np.mean(e):.1f}" if None not in e else "-" for e in epochs]
    )
    caption = f"AUROC, one class in, the 10,000 test images scored; {len(classes)} class(es)"
    return Table(caption, ["class", *methods], cells), means


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", default="0,1,2,3,4,5,6,7,8,9", help="e.g. 0,1 [all ten]")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--time-limit", type=float, default=60.0, help="seconds per class [60]")
    budget.add_argument("--epochs", type=int, help="train this many epochs instead")
    parser.add_argument("--lr", type=float, help="the aekit detectors' learning rate [default]")
    parser.add_argument("--warmup", type=float, help="their warm-up share [default]")
    parser.add_argument("--schedule", help="their schedule: linear, cosine, constant [default]")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, help="torch threads [torch's default]")
    parser.add_argument("--no-mlp", action="store_true", help="skip the MLP detector")
    parser.add_argument("--json", help="also write every row here")
    add_results_option(parser, NAME)
    args = parser.parse_args()
    classes = [int(c) for c in args.classes.split(",")]
    if not all(0 <= c <= 9 for c in classes):
        raise SystemExit(f"--classes: Fashion-MNIST's classes are 0-9, got {args.classes}")
    if args.threads:
        torch.set_num_threads(args.threads)
    budget = {"epochs": args.epochs} if args.epochs else {"time_limit": args.time_limit}
    for name in ("lr", "warmup", "schedule"):
        if getattr(args, name) is not None:
            budget[name] = getattr(args, name)
    train, test = load_data("fashion-mnist:train"), load_data("fashion-mnist:test")
    methods = detectors(budget, with_mlp=not args.no_mlp)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; budget {budget} a class")
    start = time.perf_counter()
    rows = [r for c in classes for r in run_class(c, train, test, methods, args.seed)]
    table, means = results_table(rows)
    table.print()
    print(f"wall time {time.perf_counter() - start:.0f} s; seed {args.seed}")
    if args.json:
        atomic_write_text(args.json, json.dumps(rows, indent=1))
    write_results(
        args.results,
        benchmark=NAME,
        title="Image anomalies: one-class Fashion-MNIST",
        about=docstring_summary(__doc__),
        headline=", ".join(f"{m} {means[m]:.3f}" for m in means)
        + f": mean AUROC over {len(classes)} one-class splits of Fashion-MNIST",
        tables=[table],
        figures={"rows": rows, "mean_auroc": means, "budget": budget},
        options=args,
        chosen_on=(
            "the detector's table defaults: the ADBench tables (anomaly.py, seeds 0-2); the conv "
            "preset: Fashion-MNIST's validation part (quality.py); the image score (the sum of the "
            "two standings, the local error): held-out Fashion-MNIST training images "
            "(anomaly_score_images.py); nothing here"
        ),
        checked_on="the 10,000 test images; no option was chosen on them",
    )


if __name__ == "__main__":
    main()
