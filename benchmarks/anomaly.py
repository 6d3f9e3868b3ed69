"""Anomaly detection on the ADBench tables: aekit's detector against the usual baselines.

The protocol of the shared data's README (unsupervised): each table is split 70/30 at random,
stratified, once per seed; every detector is fitted on the 70% with its anomalies and without
its labels, and scores the 30%; the figure is the AUROC of those scores (and the average
precision), averaged over the seeds, then over the tables. The detector's defaults were chosen
on the splits of seeds 0, 1 and 2 (the selection seeds, ``--seeds``); the splits of seeds 3, 4
and 5 (``--holdout-seeds``) were not looked at, and the two are reported apart. Every detector
runs with its default options, the same on every table:

- aekit: ``aekit.sklearn.AutoencoderAnomalyDetector()`` (scales by itself);
- KNN with aekit's rule: the mean distance to the 2nd to 21st nearest training rows, as
  aekit's detector measures it between codes (``DETECTOR_NEIGHBOURS``), here on the
  standardised rows themselves: what the autoencoder adds to a nearest-neighbour detector;
- KNN with PyOD's ``KNN()`` defaults (the distance to the 5th nearest) and LOF with PyOD's
  ``LOF()`` defaults (20 neighbours), both computed with scikit-learn on standardised rows;
- IsolationForest: scikit-learn's, on the raw features;
- PyOD (optional: ``pip install pyod``): ECOD, PCA, and AutoEncoder at its default 10 epochs
  and at the 30 epochs aekit's detector trains for.

Features are standardised on the 70% for the detectors that do not scale by themselves, as the
protocol says. Seconds are each detector's fit and score, summed over all tables and seeds of
a group; they depend on ``--jobs`` and ``--threads`` (tables side by side, torch threads each).

    python benchmarks/anomaly.py --jobs 2 --threads 1 [--only 14_glass,42_WBC] [--json rows.json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.stats
from results import Table, add_results_option, docstring_summary, write_results

from aekit.options.defaults import DETECTOR_NEIGHBOURS, DETECTOR_TABLE

REPO = Path(__file__).resolve().parent.parent
NAME = "anomaly"
SEEDS = "0,1,2"
HOLDOUT_SEEDS = "3,4,5"
AEKIT_EPOCHS = DETECTOR_TABLE["epochs"]
AEKIT_NEIGHBOURS = DETECTOR_NEIGHBOURS
LABELS = {
    "aekit": "aekit",
    "knn_aekit_rule": f"KNN (aekit's rule, {AEKIT_NEIGHBOURS} neighbours)",
    "knn": "KNN (5th nearest)",
    "lof": "LOF (20 neighbours)",
    "isolation_forest": "IsolationForest",
    "ecod": "ECOD (PyOD)",
    "pyod_pca": "PCA (PyOD)",
    "pyod_autoencoder": "AutoEncoder (PyOD, 10 epochs)",
    "pyod_autoencoder_aekit_epochs": f"AutoEncoder (PyOD, {AEKIT_EPOCHS} epochs)",
}


THRESHOLD_COLUMNS = {
    "precision": "precision",
    "recall": "recall",
    "flagged_share": "share flagged",
    "anomaly_share": "share of anomalies",
}


def default_adbench() -> Path:
    for candidate in (REPO / "../shared/data/adbench", Path("/work/shared/data/adbench")):
        if candidate.is_dir():
            return candidate
    return REPO / "../shared/data/adbench"


def standardised(x_fit: np.ndarray, x_score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both parts in the units of the 70%'s mean and standard deviation (constant: 1)."""
    mean, std = x_fit.mean(0), x_fit.std(0)
    std[std == 0] = 1.0
    return (x_fit - mean) / std, (x_score - mean) / std


def detectors(with_pyod: bool, only: set[str] | None = None) -> dict:
    """name -> fit_and_score(x_fit, x_score, seed) -> scores, higher = more anomalous; or
    (scores, flags) for a detector with a threshold of its own (contamination "auto")."""

    def aekit_detector(x_fit, x_score, seed):
        from aekit.sklearn import AutoencoderAnomalyDetector

        detector = AutoencoderAnomalyDetector(random_state=seed).fit(x_fit)
        return detector.pyod_scores(x_score), detector.predict(x_score) == -1

    def knn(x_fit, x_score, seed):  # PyOD's KNN(): the distance to the 5th nearest
        from sklearn.neighbors import NearestNeighbors

        fit, score = standardised(x_fit, x_score)
        distances, _ = NearestNeighbors(n_neighbors=5).fit(fit).kneighbors(score)
        return distances[:, -1]

    def knn_aekit_rule(x_fit, x_score, seed):  # aekit's code distance, on the rows themselves
        from sklearn.neighbors import NearestNeighbors

        fit, score = standardised(x_fit, x_score)
        k = min(AEKIT_NEIGHBOURS, len(fit) - 1)
        distances, _ = NearestNeighbors(n_neighbors=k + 1).fit(fit).kneighbors(score)
        return distances[:, 1:].mean(axis=1)

    def lof(x_fit, x_score, seed):
        from sklearn.neighbors import LocalOutlierFactor

        fit, score = standardised(x_fit, x_score)
        return -LocalOutlierFactor(n_neighbors=20, novelty=True).fit(fit).score_samples(score)

    def isolation_forest(x_fit, x_score, seed):
        from sklearn.ensemble import IsolationForest

        forest = IsolationForest(random_state=seed).fit(x_fit)
        return -forest.score_samples(x_score), forest.predict(x_score) == -1

    def pyod(make):
        def fit_and_score(x_fit, x_score, seed):
            fit, score = standardised(x_fit, x_score)
            return make(seed).fit(fit).decision_function(score)

        return fit_and_score

    found = {
        "aekit": aekit_detector,
        "knn_aekit_rule": knn_aekit_rule,
        "knn": knn,
        "lof": lof,
        "isolation_forest": isolation_forest,
    }
    if with_pyod:
        from pyod.models.auto_encoder import AutoEncoder
        from pyod.models.ecod import ECOD
        from pyod.models.pca import PCA

        found["ecod"] = pyod(lambda seed: ECOD())
        found["pyod_pca"] = pyod(lambda seed: PCA(random_state=seed))
        found["pyod_autoencoder"] = pyod(lambda seed: AutoEncoder(random_state=seed, verbose=0))
        found["pyod_autoencoder_aekit_epochs"] = pyod(
            lambda seed: AutoEncoder(random_state=seed, verbose=0, epoch_num=AEKIT_EPOCHS)
        )
    return {name: found[name] for name in found if only is None or name in only}


def warm_up(threads: int, with_pyod: bool, only: set[str] | None) -> None:
    """Every detector once on a tiny table, untimed: a process's first call pays for imports
    and one-off set-up that the seconds should not count."""
    import torch

    torch.set_num_threads(threads)
    x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for fit_and_score in detectors(with_pyod, only).values():
            fit_and_score(x, x[:8], 0)


def run_task(task: dict) -> list[dict]:
    import torch
    from sklearn.metrics import average_precision_score, roc_auc_score
    from sklearn.model_selection import train_test_split

    torch.set_num_threads(task["threads"])
    data = np.load(task["path"], allow_pickle=False)
    x, y = data["X"].astype(np.float32), data["y"].astype(int)
    x_fit, x_score, _, y_score = train_test_split(
        x, y, test_size=0.3, stratify=y, random_state=task["seed"]
    )
    rows = []
    for name, fit_and_score in detectors(task["pyod"], task["detectors"]).items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = fit_and_score(x_fit, x_score, task["seed"])
        seconds = time.perf_counter() - start
        flags = None
        if isinstance(found, tuple):
            found, flags = found
        scores = np.asarray(found, dtype=np.float64)
        if np.isnan(scores).any():
            raise ValueError(f"{name} gave NaN scores on {task['name']} (seed {task['seed']})")
        # PyOD 3's PCA scores some rows +inf (12_fault, 7_Cardiotocography): ranks keep the
        # order, inf rows tied at the top, and AUROC and average precision depend on it alone.
        scores = scipy.stats.rankdata(scores)
        threshold = {}
        if flags is not None:  # the detector's own "auto" threshold: what it flags
            hits = int(np.sum(flags & (y_score == 1)))
            threshold = {
                "flagged_share": float(np.mean(flags)),
                "anomaly_share": float(np.mean(y_score)),
                "precision": hits / max(int(np.sum(flags)), 1),
                "recall": hits / int(np.sum(y_score)),
            }
        rows.append(
            {
                **threshold,
                "group": task["group"],
                "dataset": task["name"],
                "seed": task["seed"],
                "detector": name,
                "auroc": float(roc_auc_score(y_score, scores)),
                "average_precision": float(average_precision_score(y_score, scores)),
                "seconds": seconds,
            }
        )
    return rows


def summarise(rows: list[dict], seeds: tuple[int, ...]) -> dict:
    """One group of seeds: per table and detector the mean AUROC; per detector the means."""
    names = sorted({r["dataset"] for r in rows}, key=lambda s: int(s.split("_")[0]))
    methods = list(dict.fromkeys(r["detector"] for r in rows))

    def mean(key, dataset, method):
        return float(
            np.mean([r[key] for r in rows if r["dataset"] == dataset and r["detector"] == method])
        )

    auroc = {d: {m: mean("auroc", d, m) for m in methods} for d in names}
    precision = {d: {m: mean("average_precision", d, m) for m in methods} for d in names}
    return {
        "seeds": list(seeds),
        "tables": len(names),
        "mean_auroc": {m: float(np.mean([auroc[d][m] for d in names])) for m in methods},
        "mean_average_precision": {
            m: float(np.mean([precision[d][m] for d in names])) for m in methods
        },
        "seconds": {m: sum(r["seconds"] for r in rows if r["detector"] == m) for m in methods},
        "auroc": auroc,
        "at_threshold": {
            m: {
                key: float(np.mean([r[key] for r in rows if r["detector"] == m]))
                for key in ("precision", "recall", "flagged_share", "anomaly_share")
            }
            for m in methods
            if all("precision" in r for r in rows if r["detector"] == m)
        },
    }


def seconds_text(seconds: float) -> str:
    return f"{seconds:.1f}" if seconds < 10 else f"{seconds:.0f}"


def group_label(group: str, seeds: list[int]) -> str:
    seeds_text = ",".join(map(str, seeds))
    if group == "selection":
        return f"seeds {seeds_text} (the defaults were chosen on them)"
    return f"seeds {seeds_text} (not looked at)"


def tables(summaries: dict[str, dict]) -> list[Table]:
    """The means of every group side by side, then each group's AUROC per table."""
    methods = list(next(iter(summaries.values()))["mean_auroc"])
    columns, cells = ["detector"], {m: [LABELS[m]] for m in methods}
    for summary in summaries.values():
        seeds = ",".join(map(str, summary["seeds"]))
        columns += [f"AUROC, seeds {seeds}", f"AP, seeds {seeds}", f"seconds, seeds {seeds}"]
        best = max(summary["mean_auroc"].values())
        for m in methods:
            auroc = f"{summary['mean_auroc'][m]:.3f}"
            cells[m] += [
                f"**{auroc}**" if summary["mean_auroc"][m] == best else auroc,
                f"{summary['mean_average_precision'][m]:.3f}",
                seconds_text(summary["seconds"][m]),
            ]
    groups = "; ".join(group_label(g, s["seeds"]) for g, s in summaries.items())
    found = [Table(f"Mean over the tables: {groups}", columns, [cells[m] for m in methods])]
    threshold_rows = [
        [LABELS[m], ",".join(map(str, summary["seeds"]))]
        + [f"{summary['at_threshold'][m][key]:.3f}" for key in THRESHOLD_COLUMNS]
        for summary in summaries.values()
        for m in summary["at_threshold"]
    ]
    if threshold_rows:
        caption = (
            "At each detector's own threshold (contamination 'auto'), mean over tables and seeds"
        )
        columns = ["detector", "seeds", *THRESHOLD_COLUMNS.values()]
        found.append(Table(caption, columns, threshold_rows))
    for group, summary in summaries.items():
        rows = [[d] + [f"{summary['auroc'][d][m]:.3f}" for m in methods] for d in summary["auroc"]]
        caption = f"AUROC per table, {group_label(group, summary['seeds'])}"
        found.append(Table(caption, ["table"] + [LABELS[m] for m in methods], rows))
    return found


def headline(summaries: dict[str, dict]) -> str:
    parts = []
    for summary in summaries.values():
        means = summary["mean_auroc"]
        others = [m for m in means if m != "aekit"]
        seeds = ",".join(map(str, summary["seeds"]))
        found = [f"aekit {means['aekit']:.3f}"] if "aekit" in means else []
        if others:
            best = max(others, key=means.get)
            found.append(f"best other {LABELS[best]} {means[best]:.3f}")
        parts.append(f"seeds {seeds}: " + ", ".join(found))
    tables = next(iter(summaries.values()))["tables"]
    return f"mean AUROC on {tables} ADBench tables; " + "; ".join(parts)


def parse_seeds(text: str) -> tuple[int, ...]:
    return () if text in ("", "none") else tuple(int(s) for s in text.split(","))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adbench", type=Path, default=default_adbench())
    parser.add_argument("--only", help="comma-separated table names (e.g. 14_glass,42_WBC)")
    parser.add_argument("--jobs", type=int, default=1, help="tables run side by side")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per job")
    parser.add_argument("--no-pyod", action="store_true", help="skip PyOD even if installed")
    parser.add_argument(
        "--detectors", help=f"comma-separated, of {','.join(LABELS)} [all that are installed]"
    )
    parser.add_argument("--json", type=Path, help="also write every row here")
    parser.add_argument("--seeds", default=SEEDS, help=f"selection split seeds [{SEEDS}]")
    parser.add_argument(
        "--holdout-seeds",
        default=HOLDOUT_SEEDS,
        help=f"split seeds nothing was chosen on, reported apart [{HOLDOUT_SEEDS}]; none: skip",
    )
    add_results_option(parser, NAME)
    args = parser.parse_args()
    groups = {"selection": parse_seeds(args.seeds), "holdout": parse_seeds(args.holdout_seeds)}
    groups = {group: seeds for group, seeds in groups.items() if seeds}
    with_pyod = not args.no_pyod
    if with_pyod:
        try:
            import pyod  # noqa: F401
        except ImportError:
            print("PyOD is not installed (pip install pyod): its columns are left out")
            with_pyod = False
    wanted_detectors = set(args.detectors.split(",")) if args.detectors else None
    if wanted_detectors and not wanted_detectors <= set(LABELS):
        raise SystemExit(f"--detectors: unknown {sorted(wanted_detectors - set(LABELS))}")
    paths = sorted(args.adbench.glob("*.npz"))
    if args.only:
        wanted = set(args.only.split(","))
        paths = [p for p in paths if p.stem in wanted]
    if not paths:
        raise SystemExit(f"no ADBench tables (*.npz) found in {args.adbench}")
    tasks = [
        dict(
            path=str(p),
            name=p.stem,
            seed=s,
            group=g,
            threads=args.threads,
            pyod=with_pyod,
            detectors=wanted_detectors,
        )
        for g, seeds in groups.items()
        for p in paths
        for s in seeds
    ]
    start = time.perf_counter()
    warm = (args.threads, with_pyod, wanted_detectors)
    if args.jobs > 1:
        context = multiprocessing.get_context("spawn")
        with context.Pool(args.jobs, initializer=warm_up, initargs=warm) as pool:
            rows = [r for part in pool.imap_unordered(run_task, tasks) for r in part]
    else:
        warm_up(*warm)
        rows = [r for task in tasks for r in run_task(task)]
    summaries = {
        g: summarise([r for r in rows if r["group"] == g], seeds) for g, seeds in groups.items()
    }
    found = tables(summaries)
    for table in found:
        table.print()
    print(f"wall time {time.perf_counter() - start:.0f} s with {args.jobs} job(s)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    write_results(
        args.results,
        benchmark=NAME,
        title="Anomaly detection on the ADBench tables",
        about=docstring_summary(__doc__),
        headline=headline(summaries),
        tables=found,
        figures={"groups": summaries, "pyod": with_pyod},
        options=args,
        chosen_on=f"the detector's defaults: the splits of seeds {args.seeds} (mean AUROC)",
        checked_on=(
            f"the splits of seeds {args.holdout_seeds}, not looked at when choosing"
            if "holdout" in groups
            else "only the selection splits (no hold-out seeds): figures on the data chosen on"
        ),
        threads=args.threads,
        baselines=("scikit-learn", "pyod") if with_pyod else ("scikit-learn",),
    )


if __name__ == "__main__":
    main()
