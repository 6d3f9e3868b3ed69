"""Fashion-MNIST, code size 32: the shipped conv preset against PCA-32 on the test set.

Trains `aekit`'s default model for images under a time budget (5 minutes by default), then
prints `aekit.evaluate`'s table: test MSE, MAE, PSNR and BCE per pixel for the model and for
PCA with 32 components fitted on the same training data, and a logistic-regression probe on the
codes. It also prints the same ratio on the run's own validation part (the 10% of the training
images it held out): presets are compared on that figure, never on the test set's. The target
is a test MSE at most 0.38 x PCA-32's.

    .venv/bin/python benchmarks/quality.py [--time-limit 300] [--hidden 32,64,128] ...
    .venv/bin/python benchmarks/quality.py --lr 6e-3 --warmup 0.03 --schedule linear

The second line is the faster recipe for time-limited conv runs (README, Quality): better here,
but not the default, since it loses where early stopping ends a run before its schedule does.

Needs Fashion-MNIST's IDX files (Debian: `apt-get install dataset-fashion-mnist`, or
$AEKIT_DATA/fashion-mnist/); see `aekit datasets`.
"""

from __future__ import annotations

import argparse
import time

import torch

import aekit

TARGET_RATIO = 0.38


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=300.0, help="training budget, seconds")
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
    args = parser.parse_args()

    options = dict(code_size=32, epochs=1000, time_limit=args.time_limit, backbone="conv")
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
    start = time.perf_counter()
    model = aekit.train(args.data, out=args.out, overwrite=True, progress=True, **options)
    seconds = time.perf_counter() - start
    validation = aekit.evaluate(model, _validation_part(args.data, model))
    val_ratio = validation.rows["aekit"]["mse"] / validation.rows["pca"]["mse"]
    print(f"validation MSE vs PCA-32 (the figure presets are chosen on): {val_ratio:.3f}x")
    result = aekit.evaluate(model)
    print(result.to_table())
    ours, pca = result.rows["aekit"]["mse"], result.rows["pca"]["mse"]
    verdict = "PASS" if ours <= TARGET_RATIO * pca else "FAIL"
    print(
        f"\ntest MSE per pixel {ours:.5f} vs PCA-32 {pca:.5f}: {ours / pca:.3f}x "
        f"(target <= {TARGET_RATIO:.2f}x) {verdict}; {len(model.history)} epochs, "
        f"{seconds:.0f} s wall including data loading; precision {model.train_config.precision}"
    )


def _validation_part(data: str, model: aekit.Autoencoder):
    """The images the run held out for model selection (the same seeded split as training)."""
    from aekit.api import split_validation
    from aekit.data import load_data

    settings = model.train_config
    return split_validation(load_data(data), settings.val_fraction, settings.seed)[1]


if __name__ == "__main__":
    main()
