"""Fashion-MNIST, code size 32: the shipped conv preset against PCA-32 on the test set.

Trains `aekit`'s default model for images under a time budget (5 minutes by default; or for
``--epochs N``, where early stopping may end it sooner), then
prints `aekit.evaluate`'s table: test MSE, MAE, PSNR and BCE per pixel for the model and for
PCA with 32 components fitted on the same training data, and a logistic-regression probe on the
codes. It also prints the same ratio on the run's own validation part (the 10% of the training
images it held out): presets are compared on that figure, never on the test set's. The target
is a test MSE at most 0.38 x PCA-32's.

    python benchmarks/quality.py [--time-limit 300 | --epochs 20] [--hidden 32,64,128] ...
    python benchmarks/quality.py --lr 3e-3 --warmup 0 --schedule cosine

Under the time limit the preset takes the faster recipe for time-limited conv runs (lr 6e-3, a
warm-up, linear decay), chosen on the validation part (aekit/options/defaults.py); the second
line trains with the schedule a run without a time limit takes instead.

Needs Fashion-MNIST's IDX files (Debian: `apt-get install dataset-fashion-mnist`, or
$AEKIT_DATA/fashion-mnist/); see `aekit datasets`.
"""

from __future__ import annotations

import argparse
import time

import torch
from results import Table, add_results_option, docstring_summary, write_results

import aekit

NAME = "quality"
TARGET_RATIO = 0.38


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--time-limit", type=float, default=300.0, help="training seconds [300]")
    budget.add_argument("--epochs", type=int, help="train this many epochs, no time limit")
    parser.add_argument("--n-train", type=int, help="first N training images only (a check)")
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto [auto]")
    parser.add_argument("--data", default="fashion-mnist")
    parser.add_argument("--hidden", help="conv channels per stage, e.g. 16,64,128 [preset]")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--schedule", help="linear, cosine or constant [preset]")
    parser.add_argument("--warmup", type=float, help="share of the run spent warming up [preset]")
    parser.add_argument("--norm")
    parser.add_argument("--activation")
    parser.add_argument("--loss")
    parser.add_argument("--precision", help="bf16, fp32 or auto [auto]")
    parser.add_argument("--out", help="keep the run folder here")
    add_results_option(parser, NAME)
    args = parser.parse_args()

    options = dict(code_size=32, backbone="conv", device=args.device)
    if args.epochs:
        options.update(epochs=args.epochs)
    else:  # the time limit ends the run (or early stopping)
        options.update(epochs=1000, time_limit=args.time_limit)
    if args.hidden:
        options["hidden"] = [int(c) for c in args.hidden.split(",")]
    for name in (
        "batch_size",
        "lr",
        "schedule",
        "warmup",
        "norm",
        "activation",
        "loss",
        "precision",
    ):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; options {options}")
    data = args.data
    if args.n_train:
        data = aekit.data.load_data(args.data, default_split="train").x[: args.n_train]
    start = time.perf_counter()
    model = aekit.train(data, out=args.out, overwrite=True, progress=True, **options)
    seconds = time.perf_counter() - start
    # a run on an array (--n-train) has no source to reload its training data from
    train_data = None if isinstance(data, str) else data
    validation = aekit.evaluate(
        model, _validation_part(data, model), train_data=train_data, sample_quality=False
    )
    val_ratio = validation.rows["aekit"]["mse"] / validation.rows["pca"]["mse"]
    print(f"validation MSE vs PCA-32 (the figure presets are chosen on): {val_ratio:.3f}x")
    result = aekit.evaluate(model, args.data + ":test", train_data=train_data, sample_quality=False)
    print(result.to_table())
    ours, pca = result.rows["aekit"]["mse"], result.rows["pca"]["mse"]
    verdict = "PASS" if ours <= TARGET_RATIO * pca else "FAIL"
    epochs = len(model.history)
    print(
        f"\ntest MSE per pixel {ours:.5f} vs PCA-32 {pca:.5f}: {ours / pca:.3f}x "
        f"(target <= {TARGET_RATIO:.2f}x) {verdict}; {epochs} epochs, "
        f"{seconds:.0f} s wall including data loading; precision {model.train_config.precision}"
    )
    table = Table(
        f"Test images ({result.n_test:,}), per pixel; PCA-32 fitted on the same training images",
        ["metric", "aekit", "PCA-32", "aekit vs PCA"],
        [
            [name, f"{value:.4g}", f"{baseline:.4g}", versus]
            for name, value, baseline, versus in result.metric_rows()
            if value is not None and baseline is not None
        ],
    )
    table.print()
    ratios = Table(
        "MSE per pixel against PCA-32's: the validation part (what presets are chosen on) beside "
        "the test images",
        ["data", "images", "aekit MSE", "PCA-32 MSE", "aekit / PCA-32"],
        [
            [name, f"{report.n_test:,}"]
            + [f"{report.rows[k]['mse']:.5f}" for k in ("aekit", "pca")]
            + [f"{report.rows['aekit']['mse'] / report.rows['pca']['mse']:.3f}x"]
            for name, report in (("validation part", validation), ("test images", result))
        ],
    )
    ratios.print()
    budget = f"{epochs} epochs" + ("" if args.epochs else f" in {args.time_limit:g} s")
    write_results(
        args.results,
        benchmark=NAME,
        title="Quality: the conv preset against PCA-32 on Fashion-MNIST",
        about=docstring_summary(__doc__),
        headline=(
            f"test MSE {ours / pca:.3f}x PCA-32's ({val_ratio:.3f}x on the validation part), "
            f"{budget}"
        ),
        tables=[ratios, table],
        figures={
            "test": result.rows,
            "validation": validation.rows,
            "test_ratio": ours / pca,
            "validation_ratio": val_ratio,
            "epochs": epochs,
            "seconds": seconds,
            "precision": model.train_config.precision,
            "options": options,
        },
        options=args,
        chosen_on=(
            "the conv preset's channels and batch size: test MSE against PCA-32 on these "
            "test images (options/defaults.py), so its test figure is not out of sample; its "
            "activation, its pixel-shuffle decoder head (for its speed) and the faster recipe "
            "a time limit takes (lr, warm-up, schedule): the validation part"
        ),
        checked_on=(
            f"the {result.n_test:,} test images, and the run's validation part "
            f"({validation.n_test:,} training images held out)"
        ),
        device=str(next(model.net.parameters()).device),
    )


def _validation_part(data, model: aekit.Autoencoder):
    """The images the run held out for model selection (the same seeded split as training)."""
    from aekit.api import split_validation
    from aekit.data import load_data

    settings = model.train_config
    return split_validation(load_data(data), settings.val_fraction, settings.seed)[1]


if __name__ == "__main__":
    main()
