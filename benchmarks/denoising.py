"""Fashion-MNIST denoising: the conv preset (code 32) trained with noise, against linear ones.

One run, trained for a fixed number of epochs with both corruptions of the issue combined
(gaussian sigma 0.3, clipped to [0, 1], then 25% of the pixels masked to 0, fresh on every
batch), then scored on the test set under three seeded corruptions: gaussian alone, masking
alone and both. For each it gives the PSNR of the noisy input, of the denoiser's output and
of two linear denoisers with the same code size (32):

- PCA-32 fitted on the clean training images, applied to the noisy input (what
  ``aekit.evaluate(noise=...)`` compares with);
- the best linear denoiser of rank 32: least squares from noisy to clean training images
  (reduced-rank regression: a linear autoencoder trained for denoising), fitted on seeded
  draws (``--linear-draws`` of each training image) of the corruption aekit trained on, and,
  as the best a linear map of that rank can do on each line, of that line's own corruption.

"aekit - best linear" is the gain over the best of the three linear denoisers on each line.

The target is a denoiser at least 2 dB above PCA-32 on every line. Nothing is chosen on the
test images.

    python benchmarks/denoising.py [--epochs 8] [--out runs/denoise]

Needs Fashion-MNIST's IDX files (see `aekit datasets`).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from results import Table, add_results_option, docstring_summary, write_results

import aekit
from aekit.evaluation import PCABaseline, reconstruction_metrics
from aekit.evaluation.denoising import corrupt_samples

NAME = "denoising"
CODE = 32
TARGET_DB = 2.0
TRAIN_NOISE = ["gaussian:0.3", "mask:0.25"]
LINEAR = ("pca", "linear", "linear_own")
TEST_NOISES = {"gaussian 0.3": ["gaussian:0.3"], "mask 25%": ["mask:0.25"], "both": TRAIN_NOISE}


def fit_linear_denoiser(model, x_train: np.ndarray, noise: list[str], rank: int, draws: int):
    """Reduced-rank least squares from corrupted to clean training images: the ordinary
    least-squares map B (noisy -> clean, with intercept), projected onto the top ``rank``
    directions of its fitted values (the best rank-``rank`` linear map in squared error).
    Returns denoise(noisy (n, d)) -> (n, d)."""
    clean = x_train.reshape(len(x_train), -1).astype(np.float64)  # (n, d)
    n, d = clean.shape
    sum_in, xtx, xty = np.zeros(d), np.zeros((d, d)), np.zeros((d, d))
    for draw in range(draws):  # one corrupted copy at a time: sums, not a stacked array
        noisy = corrupt_samples(model, x_train, noise, seed=100 + draw).reshape(n, -1)
        noisy = noisy.astype(np.float64)
        sum_in += noisy.sum(0)
        xtx += noisy.T @ noisy
        xty += noisy.T @ clean
    count = n * draws
    mean_in, mean_out = sum_in / count, clean.mean(0)
    gram = xtx - count * np.outer(mean_in, mean_in)  # of the centred inputs, (d, d)
    cross = xty - count * np.outer(mean_in, mean_out)  # centred inputs' with centred targets
    ridge = 1e-6 * np.trace(gram) / len(gram)  # for constant pixels (the corners)
    full = np.linalg.solve(gram + ridge * np.eye(d), cross)  # (d, d)
    # fitted values' covariance is full' gram full; its top eigenvectors span the best rank-r fit
    _, vectors = np.linalg.eigh(full.T @ gram @ full)
    top = vectors[:, -rank:]  # (d, rank)
    encoder, decoder = full @ top, top.T  # (d, rank), (rank, d): a linear code of rank values

    def denoise(x: np.ndarray) -> np.ndarray:
        return (x.astype(np.float64) - mean_in) @ encoder @ decoder + mean_out

    return denoise


def psnr(clean: np.ndarray, output: np.ndarray) -> float:
    return reconstruction_metrics(clean, output, data_range=1.0, with_bce=False)["psnr"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--data", default="fashion-mnist")
    parser.add_argument("--out", help="keep the run folder here (with denoising.png)")
    parser.add_argument(
        "--linear-draws", type=int, default=2, help="corrupted copies of each training image [2]"
    )
    parser.add_argument("--n-train", type=int, help="first N training images only (a check)")
    add_results_option(parser, NAME)
    args = parser.parse_args()

    options = dict(backbone="conv", code_size=CODE, epochs=args.epochs, noise=TRAIN_NOISE)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; options {options}")
    train_images = aekit.data.load_data(args.data, default_split="train").x[: args.n_train]
    source = train_images if args.n_train else args.data  # the name: the run records it
    start = time.perf_counter()
    model = aekit.train(source, out=args.out, overwrite=True, progress=False, **options)
    train_seconds = time.perf_counter() - start

    x_train = model.as_samples(train_images)
    x_test = model.as_samples(aekit.data.load_data(args.data + ":test"))
    pca = PCABaseline.fit(model.scale(x_train), CODE, seed=0)  # on the clean training data
    linear = fit_linear_denoiser(model, x_train, TRAIN_NOISE, CODE, args.linear_draws)
    clean = x_test.reshape(len(x_test), -1)
    figures = {}
    for name, noise in TEST_NOISES.items():
        noisy = corrupt_samples(model, x_test, noise, seed=1)
        flat = noisy.reshape(len(noisy), -1)
        projected = model.scaler.inverse_transform(pca.decode(pca.encode(model.scale(noisy))))
        figures[name] = {
            "noisy": psnr(clean, flat),
            "aekit": psnr(clean, model.denoise(noisy).reshape(len(noisy), -1)),
            "pca": psnr(clean, projected),
            "linear": psnr(clean, linear(flat)),
        }
        own = fit_linear_denoiser(model, x_train, noise, CODE, args.linear_draws)
        figures[name]["linear_own"] = psnr(clean, own(flat))
    table = Table(
        f"PSNR on the {len(x_test):,} test images (seeded corruption), code size {CODE}",
        ["test corruption", "noisy input", "aekit denoiser", f"PCA-{CODE}",
         f"linear rank {CODE}, aekit's training corruption", f"linear rank {CODE}, this line's",
         "aekit - PCA", "aekit - best linear"],
        [
            [
                name,
                *(f"{row[k]:.2f} dB" for k in ("noisy", "aekit", "pca", "linear", "linear_own")),
                f"{row['aekit'] - row['pca']:+.2f} dB",
                f"{row['aekit'] - max(row[k] for k in LINEAR):+.2f} dB",
            ]
            for name, row in figures.items()
        ],
    )  # fmt: skip
    table.print()
    passed = all(row["aekit"] - row["pca"] >= TARGET_DB for row in figures.values())
    print(
        f"\ntarget: denoiser >= PCA-{CODE} + {TARGET_DB:g} dB: {'PASS' if passed else 'FAIL'}; "
        f"{len(model.history)} epochs in {train_seconds:.0f} s, "
        f"{time.perf_counter() - start:.0f} s in all"
    )
    both = figures["both"]
    write_results(
        args.results,
        benchmark=NAME,
        title="Denoising Fashion-MNIST",
        about=docstring_summary(__doc__),
        headline=(
            f"both corruptions: aekit {both['aekit']:.2f} dB PSNR, the least-squares linear "
            f"denoiser of rank {CODE} {both['linear']:.2f} dB, PCA-{CODE} {both['pca']:.2f} dB "
            f"({len(model.history)} epochs)"
        ),
        tables=[table],
        figures={
            "psnr": figures,
            "epochs": len(model.history),
            "train_seconds": train_seconds,
            "n_train": len(x_train),
            "n_test": len(x_test),
        },
        options=args,
        chosen_on=(
            "the conv preset: Fashion-MNIST test MSE against PCA-32 (clean images, quality.py); "
            "the corruptions: the issue's; nothing on these denoising figures"
        ),
        checked_on=f"the {len(x_test):,} test images, corrupted with seed 1",
    )


if __name__ == "__main__":
    main()
