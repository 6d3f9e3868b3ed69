"""Choosing the setting for generating images, on held-out TRAINING images only.

The choice behind ``generation.py``'s GENERATION_ROW and the sample-quality guide's "What to
train to generate": the plain autoencoder (``--backbone``, conv by default; mixture sampler)
with each loss of ``--losses``, code size of ``--codes`` and seed of ``--seeds``, trained
``--budget`` seconds (0: the default epochs) on the training set
less its last ``--held-out`` images, its samples and its reconstructions of those held-out
images scored against them (Frechet distance in the features of the reference network
trained on the fit part; lower is better). The test images are never read.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/generation_selection.py [--budget 120]

writes benchmarks/results/generation_selection.json. A trial: ``--budget 5 --held-out 500
--train-limit 3000 --codes 32 --results /tmp/selection.json``. The check of that choice on
scikit-learn's digits, data it was not made on (the default epochs, the last 20% of the
training images held out, three seeds), with aekit's backbone for 8x8 images and with conv:

    .venv/bin/python benchmarks/generation_selection.py --data digits --backbone mlp \
        --budget 0 --held-out 287 --codes 16 --seeds 0 1 2 \
        --results benchmarks/results/generation_selection_digits.json
    (the same with --backbone conv --results .../generation_selection_digits_conv.json)
"""

from __future__ import annotations

import argparse
import itertools

from results import Table, add_results_option, docstring_summary, write_results

import aekit
from aekit.data import load_data
from aekit.evaluation.reference_network import ReferenceNetwork
from aekit.evaluation.sample_quality import quality_scores

SELECTION_DATA = "fashion-mnist"  # the data the generation setting is chosen on
COLUMNS = ["loss", "code", "seed", "samples FD", "reconstructions FD", "epochs"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--budget", type=float, default=120.0,
        help="training seconds a model; 0: the default epochs, which early stopping may end",
    )  # fmt: skip
    parser.add_argument("--held-out", type=int, default=5000, help="training images held out")
    parser.add_argument("--codes", type=int, nargs="+", default=[16, 32, 64])
    parser.add_argument("--losses", nargs="+", default=["mse", "mae"])
    parser.add_argument("--data", default="fashion-mnist", help="a built-in image data set")
    parser.add_argument("--backbone", default="conv", choices=["conv", "mlp"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="training seeds")
    parser.add_argument("--train-limit", type=int, help="first N training images only (trials)")
    add_results_option(parser, "generation_selection")
    args = parser.parse_args()
    train = load_data(f"{args.data}:train")
    x, y = train.x[: args.train_limit], train.y[: args.train_limit]
    x_fit, y_fit, x_held = x[: -args.held_out], y[: -args.held_out], x[-args.held_out :]
    reference = ReferenceNetwork.fit(x_fit, y_fit)
    held = reference.features(x_held)
    rows = []
    budget = dict(time_limit=args.budget, epochs=1000) if args.budget > 0 else {}
    for loss, code, seed in itertools.product(args.losses, args.codes, args.seeds):
        model = aekit.train(
            x_fit, model="ae", loss=loss, code_size=code, backbone=args.backbone, seed=seed,
            progress=False, report=False, **budget,
        )  # fmt: skip
        samples = model.sample(len(x_held), seed=seed, sampler="mixture")
        fd = quality_scores(held, reference.features(samples.reshape(x_held.shape)))
        rebuilt = quality_scores(held, reference.features(model.reconstruct(x_held)))
        scores = [round(fd["sample_fd"], 2), round(rebuilt["sample_fd"], 2)]
        rows.append([loss, code, seed, *scores, len(model.history)])
        print(rows[-1], flush=True)
    length = f"{args.budget:g} s a model" if args.budget > 0 else "the default epochs"
    table = Table(
        f"The plain autoencoder ({args.backbone}) on {args.data}: {len(x_fit)} training images "
        f"fitted, the last {len(x_held)} held out, {length}",
        COLUMNS,
        [[str(cell) for cell in row] for row in rows],
    )
    table.print()
    # each setting's mean over the seeds (one seed: its own figures)
    means = {
        (loss, code): [
            sum(row[k] for row in rows if row[:2] == [loss, code]) / len(args.seeds) for k in (3, 4)
        ]
        for loss, code in itertools.product(args.losses, args.codes)
    }
    (best_loss, best_code), (best_fd, best_rebuilt) = min(means.items(), key=lambda kv: kv[1][0])
    seeds = f"mean of {len(args.seeds)} seeds" if len(args.seeds) > 1 else f"seed {args.seeds[0]}"
    write_results(
        args.results,
        benchmark="generation_selection",
        title="Choosing the setting for generation (held-out training images)",
        about=docstring_summary(__doc__),
        headline=(
            f"lowest samples FD on held-out training images ({seeds}): loss {best_loss}, "
            f"code {best_code}: {best_fd:.2f} (reconstructions {best_rebuilt:.2f}); "
            + ", ".join(f"{loss} {code}: {fd:.2f}" for (loss, code), (fd, _) in means.items())
        ),
        tables=[table],
        figures={
            "rows": rows,
            "columns": COLUMNS,
            "seed_means": [[*k, *v] for k, v in means.items()],
        },
        options=args,
        chosen_on=(
            "this is the selection: the last held-out training images, never the tests"
            if args.data == SELECTION_DATA
            else f"nothing chosen here: a check of the setting chosen on {SELECTION_DATA}'s "
            f"held-out training images, on {args.data}'s, never its tests"
        ),
        checked_on=f"{len(x_held)} held-out {args.data} training images",
        notes=[
            "samples FD: the mixture's samples against the held-out images; reconstructions "
            "FD: the model's reconstructions of those images against them (what the samples "
            "can at best reach). The setting chosen here is checked on the test images by "
            "generation.py.",
        ],
    )


if __name__ == "__main__":
    main()
