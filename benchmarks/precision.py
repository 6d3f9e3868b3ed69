"""bf16 against fp32 training on this machine: samples/s and test MSE after equal epochs.

Two models on Fashion-MNIST: the seed article's MLP (784-128-32, as vectors) and the conv
preset (images). Each trains ``--epochs`` epochs on the first ``--n`` training images in fp32
and in bf16 autocast (rounds alternate, in one process); samples/s is the training loop's own
(``history[-1]["samples_per_s"]``, validation excluded), test MSE is on the first 2,000 test
images. Also: ``model.encode`` on 60,000 images against scikit-learn's ``PCA(32).transform``.
Issue targets: bf16 >= 1.6x fp32 on the conv preset, >= 1.2x on the MLP, MSE within 1%.

    python benchmarks/precision.py [--n 20000] [--epochs 1] [--rounds 2]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from results import Table, add_results_option, docstring_summary, write_results

import aekit
from aekit.data import load_data

NAME = "precision"
MODELS = {
    "seed MLP 784-128-32": dict(backbone="mlp", hidden=[128], code_size=32, vectors=True),
    "conv preset": dict(backbone="conv", code_size=32, vectors=False),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2)
    add_results_option(parser, NAME)
    args = parser.parse_args()
    train_x = load_data("fashion-mnist").x[: args.n]
    test_x = load_data("fashion-mnist:test").x[:2000]
    print(f"{args.n} images, {args.epochs} epoch(s), median of {args.rounds} rounds")
    figures, cells = {}, []
    for name, spec in MODELS.items():
        options = {k: v for k, v in spec.items() if k != "vectors"}
        shape = (-1, 784) if spec["vectors"] else (-1, 1, 28, 28)
        speed: dict[str, list[float]] = {"fp32": [], "bf16": []}
        mse = {}
        for _ in range(args.rounds):
            for precision in ("fp32", "bf16"):
                model = aekit.train(
                    train_x.reshape(shape), epochs=args.epochs, early_stopping=False,
                    precision=precision, **options,
                )  # fmt: skip
                speed[precision].append(model.history[-1]["samples_per_s"])
                x = test_x.reshape(shape)
                mse[precision] = float(np.mean((model.reconstruct(x) - x) ** 2))
        fp32, bf16 = (statistics.median(speed[p]) for p in ("fp32", "bf16"))
        figures[name] = {"samples_per_s": speed, "test_mse": mse, "ratio": bf16 / fp32}
        cells.append(
            [name, f"{fp32:,.0f}", f"{bf16:,.0f}", f"{bf16 / fp32:.2f}x"]
            + [f"{mse['fp32']:.5f}", f"{mse['bf16']:.5f}"]
        )
    columns = ["model", "fp32 samples/s", "bf16 samples/s", "bf16 / fp32", "fp32 test MSE"]
    table = Table(
        f"{args.n:,} training images, {args.epochs} epoch(s), medians of {args.rounds} rounds",
        columns + ["bf16 test MSE"],
        cells,
    )
    table.print()
    encode, transform = _encode_against_pca(load_data("fashion-mnist").x[:60000], model)
    figures["encode_images_per_s"], figures["pca_transform_images_per_s"] = encode, transform
    write_results(
        args.results,
        benchmark=NAME,
        title="bf16 against fp32 training",
        about=docstring_summary(__doc__),
        headline="bf16 / fp32 training samples/s: "
        + ", ".join(f"{name} {figures[name]['ratio']:.2f}x" for name in MODELS),
        tables=[table],
        figures=figures,
        options=args,
        baselines=("scikit-learn",),
        chosen_on="nothing: a timing of fixed settings",
        checked_on="speed: the training images on this machine; MSE: the first 2,000 test images",
        notes=[
            f"`model.encode` (conv preset, fp32 inference): {encode:,.0f} images/s; "
            f"`PCA(32).transform`: {transform:,.0f} images/s."
        ],
    )


def _encode_against_pca(images: np.ndarray, model) -> tuple[float, float]:
    """Images per second of ``model.encode`` and of scikit-learn's ``PCA(32).transform``."""
    from sklearn.decomposition import PCA

    pca = PCA(32, random_state=0).fit(images[:10000].reshape(-1, 784))
    start = time.perf_counter()
    model.encode(images)
    encode = len(images) / (time.perf_counter() - start)
    start = time.perf_counter()
    pca.transform(images.reshape(-1, 784))
    transform = len(images) / (time.perf_counter() - start)
    print(
        f"encode {len(images):,} images (conv preset, fp32 inference): {encode:,.0f} images/s; "
        f"PCA(32).transform: {transform:,.0f} images/s"
    )
    return encode, transform


if __name__ == "__main__":
    main()
