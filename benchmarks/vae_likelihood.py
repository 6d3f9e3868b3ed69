"""Binarised Fashion-MNIST, MLP VAE: test ELBO and importance-weighted NLL beside published figures.

Trains a 784-512-256-32 MLP VAE (Bernoulli decoder, loss bce, beta 1, no warm-up) for a fixed
number of epochs on all 60,000 training images, binarised with a fixed threshold (x > 0.5, the
same for every run: no stochastic binarisation), then prints the test ELBO (all 10,000 test
images, one draw each) and the IWAE bound on the test NLL with K importance samples (on the
first ``--iw-subset`` test images, for time), in nats per image.

The published numbers are for binarised MNIST, not Fashion-MNIST: a one-stochastic-layer MLP
VAE reaches about 85-87 nats test NLL (Burda et al. 2016, IWAE, K=5000; Kingma & Welling 2014
report lower bounds in the same range), after thousands of epochs. Fashion-MNIST images have
more "on" pixels and texture, so its NLLs are higher and the two columns are not comparable;
the benchmark shows that the estimators and the training behave, not a state of the art.

    python benchmarks/vae_likelihood.py [--epochs 5] [--iw-samples 1000]
    python benchmarks/vae_likelihood.py --conv-evaluate 60

With ``--conv-evaluate SECONDS`` it instead times ``aekit.evaluate`` with its defaults on the
conv VAE (Fashion-MNIST as grey values, default loss, trained for SECONDS): the case the
evaluation defaults were chosen for (``aekit.models.vae_likelihood.DEFAULT_IW_SAMPLES``); its
results file is benchmarks/results/vae_likelihood_evaluate.json unless ``--results`` says.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from results import RESULTS_DIR, Table, add_results_option, docstring_summary, write_results

import aekit
from aekit.data import load_data
from aekit.models.vae_likelihood import elbo, iwae_log_likelihood

NAME = "vae_likelihood"
PUBLISHED = "85-87 (binarised MNIST, 1-layer MLP VAE, IWAE paper)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--iw-samples", type=int, default=1000)
    parser.add_argument("--iw-subset", type=int, default=500, help="test images for the IWAE")
    parser.add_argument("--conv-evaluate", type=float, metavar="SECONDS", help="see above")
    parser.add_argument("--n-train", type=int, help="first N training images only (a check)")
    add_results_option(parser, NAME)
    args = parser.parse_args()
    torch.set_num_threads(2)
    if args.conv_evaluate:
        if args.results == parser.get_default("results"):
            args.results = RESULTS_DIR / f"{NAME}_evaluate.json"
        time_conv_evaluate(args)
        return

    def binarised(split: str) -> np.ndarray:
        return (load_data(f"fashion-mnist:{split}").x > 0.5).astype(np.float32)

    x_train, x_test = binarised("train")[: args.n_train], binarised("test")
    start = time.perf_counter()
    model = aekit.train(
        x_train,
        model="vae",
        backbone="mlp",
        hidden=[512, 256],
        code_size=32,
        loss="bce",
        epochs=args.epochs,
        val_fraction=0.0,
        progress=False,
    )
    train_seconds = time.perf_counter() - start
    net = model.net
    test = torch.from_numpy(x_test)  # minmax scaling of {0, 1} data is the identity
    start = time.perf_counter()
    test_elbo = float(elbo(net, test).mean())
    subset = test[: args.iw_subset]
    iw = float(-iwae_log_likelihood(net, subset, samples=args.iw_samples).mean())
    elbo_subset = float(elbo(net, subset).mean())
    eval_seconds = time.perf_counter() - start

    caption = (
        f"binarised Fashion-MNIST (x > 0.5), MLP VAE 784-512-256-32, {args.epochs} epochs on "
        f"{len(x_train):,} images: train {train_seconds:.0f} s, evaluation {eval_seconds:.0f} s"
    )
    table = Table(
        caption,
        ["figure", "aekit", "published"],
        [
            [f"test ELBO, all {len(test):,} (nats)", f"{test_elbo:.2f}", "-"],
            [f"-ELBO on the IWAE subset of {len(subset)}", f"{-elbo_subset:.2f}", "-"],
            [f"IWAE test NLL, K={args.iw_samples}, {len(subset)} images", f"{iw:.2f}", PUBLISHED],
        ],
    )
    table.print()
    write_results(
        args.results,
        benchmark=NAME,
        title="VAE likelihood on binarised Fashion-MNIST",
        about=docstring_summary(__doc__),
        headline=(
            f"MLP VAE, {args.epochs} epochs: test ELBO {test_elbo:.1f} nats, IWAE NLL "
            f"{iw:.1f} nats (K={args.iw_samples})"
        ),
        tables=[table],
        figures={
            "test_elbo": test_elbo,
            "iwae_nll": iw,
            "elbo_subset": elbo_subset,
            "train_seconds": train_seconds,
            "eval_seconds": eval_seconds,
        },
        options=args,
        chosen_on="nothing: the network and epochs are fixed in advance",
        checked_on=f"the {len(test):,} test images (the IWAE: the first {len(subset)})",
    )


def time_conv_evaluate(args) -> None:
    model = aekit.train(
        "fashion-mnist", model="vae", code_size=32, time_limit=args.conv_evaluate, progress=False
    )
    start = time.perf_counter()
    report = aekit.evaluate(model, "fashion-mnist:test")
    seconds = time.perf_counter() - start
    scores = report.rows["aekit"]
    table = Table(
        f"conv VAE on Fashion-MNIST (loss {model.net.config.loss}), trained "
        f"{args.conv_evaluate:g} s; aekit.evaluate with its defaults",
        ["evaluate seconds", "test ELBO", "IWAE NLL (nats)"],
        [
            [
                f"{seconds:.1f}",
                f"{scores['elbo']:.2f}",
                f"{scores['iwae_nll']:.2f} +- {scores['iwae_nll_se']:.2f}",
            ]
        ],
    )
    table.print()
    write_results(
        args.results,
        benchmark=NAME,
        title="VAE likelihood on binarised Fashion-MNIST",
        about=docstring_summary(__doc__),
        headline=f"aekit.evaluate's defaults on the conv VAE: {seconds:.0f} s",
        tables=[table],
        figures={"evaluate_seconds": seconds, **scores},
        options=args,
        chosen_on="nothing: this run measures what the evaluation defaults cost",
        checked_on="the 10,000 Fashion-MNIST test images (grey values), timed on this machine",
    )


if __name__ == "__main__":
    main()
