"""Fashion-MNIST denoising: the conv preset (code 32) trained with noise against PCA-32.

One run, trained for a fixed number of epochs with both corruptions of the issue combined
(gaussian sigma 0.3, clipped to [0, 1], then 25% of the pixels masked to 0, fresh on every
batch), then scored on the test set under three seeded corruptions: gaussian alone, masking
alone and both. For each it prints the PSNR of the noisy input, of the denoiser's output and
of PCA-32 (fitted on the clean training data) applied to the noisy input. The target is a
denoiser at least 2 dB above PCA-32 on every line.

    .venv/bin/python benchmarks/denoising.py [--epochs 2] [--out runs/denoise]

Needs Fashion-MNIST's IDX files (see `aekit datasets`).
"""

from __future__ import annotations

import argparse
import time

import torch

import aekit
from aekit.evaluation import PCABaseline, denoising_rows
from aekit.evaluation.denoising import corrupt_samples

TARGET_DB = 2.0
TRAIN_NOISE = ["gaussian:0.3", "mask:0.25"]
TEST_NOISES = {"gaussian 0.3": ["gaussian:0.3"], "mask 25%": ["mask:0.25"], "both": TRAIN_NOISE}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--data", default="fashion-mnist")
    parser.add_argument("--out", help="keep the run folder here (with denoising.png)")
    args = parser.parse_args()

    options = dict(backbone="conv", code_size=32, epochs=args.epochs, noise=TRAIN_NOISE)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; options {options}")
    start = time.perf_counter()
    model = aekit.train(args.data, out=args.out, overwrite=True, progress=False, **options)
    train_seconds = time.perf_counter() - start

    x_train = model.as_samples(aekit.data.load_data(args.data, default_split="train"))
    x_test = model.as_samples(aekit.data.load_data(args.data + ":test"))
    pca = PCABaseline.fit(model.scale(x_train), 32, seed=0)  # on the clean training data
    header = f"{'test noise':<14}{'noisy':>10}{'denoiser':>10}{'PCA-32':>10}{'gain':>10}  verdict"
    lines = [header, "-" * len(header)]
    passed = True
    for name, noise in TEST_NOISES.items():
        noisy = corrupt_samples(model, x_test, noise, seed=1)
        flat = noisy.reshape(len(noisy), -1)
        rows = denoising_rows(
            x_test.reshape(len(x_test), -1),
            flat,
            model.denoise(noisy).reshape(len(noisy), -1),
            model.scaler.inverse_transform(pca.decode(pca.encode(model.scale(flat)))),
            data_range=1.0,
        )
        noisy_db, ours, pca_db = (
            rows["noisy"]["psnr"],
            rows["aekit"]["denoise_psnr"],
            rows["pca"]["denoise_psnr"],
        )
        ok = ours - pca_db >= TARGET_DB
        passed &= ok
        lines.append(
            f"{name:<14}{noisy_db:>7.2f} dB{ours:>7.2f} dB{pca_db:>7.2f} dB"
            f"{ours - pca_db:>+7.2f} dB  {'PASS' if ok else 'FAIL'}"
        )
    print("\n".join(lines))
    print(
        f"\nPSNR on the 10,000 test images (seeded corruption); target: denoiser >= PCA-32 + "
        f"{TARGET_DB:g} dB: {'PASS' if passed else 'FAIL'}; {len(model.history)} epochs in "
        f"{train_seconds:.0f} s, {time.perf_counter() - start:.0f} s in all"
    )


if __name__ == "__main__":
    main()
