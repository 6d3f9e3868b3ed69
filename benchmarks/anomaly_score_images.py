"""The image detector's error term and how its two terms are joined, chosen on training images.

The default score "both" (``aekit.evaluation.outlier_scores``) puts a sample's reconstruction
error and its code's distance to the nearest training codes on the training rows' scale (their
"standings") and joins them. This script compares the ways of joining them on one-class
Fashion-MNIST without looking at the test images: for each class c, the conv detector
(``AutoencoderAnomalyDetector(backbone="conv")``, its defaults, ``--time-limit`` seconds) is
fitted on 5,000 training images of c and scores 1,000 held-out training images of c against
1,000 training images of each other class. Figures: AUROC of the plain error (mean squared
residual) alone, the local error (the residual averaged over each pixel's 5x5 square first,
``aekit.evaluation.detector_terms``) alone, the distance alone, the larger standing with the
plain error (the tables' choice), the sum of the standings with the plain error (the images'
choice before), their sum with the local error (the images' choice now), and a
nearest-neighbour detector on the raw pixels for scale. Test-set figures for the chosen score:
``anomaly_images.py``.

    python benchmarks/anomaly_score_images.py [--classes 0,1] [--time-limit 60]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from anomaly_images import CLASS_NAMES
from results import Table, add_results_option, docstring_summary, write_results
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors

from aekit.data import load_data
from aekit.evaluation.detector_terms import codes_and_errors
from aekit.evaluation.outlier_scores import TrainingScale
from aekit.options.defaults import DETECTOR_NEIGHBOURS
from aekit.sklearn import AutoencoderAnomalyDetector

NAME = "anomaly_score_images"
FIT, HELD_OUT, PER_OTHER_CLASS = 5000, 1000, 1000
WAYS = ("error", "local error", "distance", "larger", "sum", "local sum", "raw-pixel kNN")


def class_row(c: int, x: np.ndarray, y: np.ndarray, time_limit: float, seed: int) -> dict:
    """AUROC of each way of scoring, for class c's selection split of the training images."""
    rng = np.random.default_rng(seed)
    own = rng.permutation(np.flatnonzero(y == c))
    fit, held_out = own[:FIT], own[FIT : FIT + HELD_OUT]
    others = [
        rng.choice(np.flatnonzero(y == o), PER_OTHER_CLASS, replace=False)
        for o in range(10)
        if o != c
    ]
    scored = np.concatenate([held_out, *others])
    is_anomaly = np.r_[np.zeros(len(held_out)), np.ones(len(scored) - len(held_out))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        detector = AutoencoderAnomalyDetector(
            backbone="conv", time_limit=time_limit, random_state=seed
        ).fit(x[fit])
    model, reference = detector.model_, detector.reference_
    codes, errors = model.codes_and_anomaly_scores(x[scored])
    error_standing = TrainingScale(model.anomaly_scores(x[fit])).standing(errors)
    local_standing = reference.error_scale.standing(codes_and_errors(model, x[scored])[1])
    distance_standing = reference.distance_scale.standing(reference.distances(codes))
    flat = x.reshape(len(x), -1)
    pixels = NearestNeighbors(n_neighbors=DETECTOR_NEIGHBOURS).fit(flat[fit])
    scores = {
        "error": error_standing,
        "local error": local_standing,
        "distance": distance_standing,
        "larger": np.maximum(error_standing, distance_standing),
        "sum": error_standing + distance_standing,
        "local sum": local_standing + distance_standing,
        "raw-pixel kNN": pixels.kneighbors(flat[scored])[0].mean(axis=1),
    }
    return {way: float(roc_auc_score(is_anomaly, scores[way])) for way in WAYS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", default="0,1,2,3,4,5,6,7,8,9", help="e.g. 0,1 [all ten]")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per class [60]")
    parser.add_argument("--seed", type=int, default=0)
    add_results_option(parser, NAME)
    args = parser.parse_args()
    classes = [int(c) for c in args.classes.split(",")]
    train = load_data("fashion-mnist:train")
    rows = {}
    for c in classes:
        start = time.perf_counter()
        rows[c] = class_row(c, train.x, train.y, args.time_limit, args.seed)
        shown = ", ".join(f"{way} {auroc:.3f}" for way, auroc in rows[c].items())
        print(f"class {c} ({CLASS_NAMES[c]}): {shown}, {time.perf_counter() - start:.0f} s")
    means = {way: float(np.mean([rows[c][way] for c in classes])) for way in WAYS}
    cells = [[f"{c} {CLASS_NAMES[c]}"] + [f"{rows[c][w]:.3f}" for w in WAYS] for c in classes]
    cells.append(["**mean**"] + [f"**{means[w]:.3f}**" for w in WAYS])
    table = Table(
        f"AUROC on selection data: {HELD_OUT} held-out training images of the class against "
        f"{PER_OTHER_CLASS} of each other class; {len(classes)} class(es)",
        ["class", *WAYS],
        cells,
    )
    table.print()
    write_results(
        args.results,
        benchmark=NAME,
        title="Image anomalies: the detector's error term and how its two terms are joined",
        about=docstring_summary(__doc__),
        headline=", ".join(f"{w} {means[w]:.3f}" for w in WAYS)
        + " (selection AUROC, training images only)",
        tables=[table],
        figures={"per_class": rows, "mean_auroc": means},
        options=args,
        chosen_on="nothing: the selection data the images' error term and joining are chosen on",
        checked_on="Fashion-MNIST training images only (the test images: anomaly_images.py)",
    )


if __name__ == "__main__":
    main()
