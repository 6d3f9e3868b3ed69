"""Training throughput (samples/s) of aekit's loop against a minimal hand-written PyTorch loop.

Both train the same network (same seed, so identical initial weights) on the same data with the
same batch size and Adam settings, in the same process on the CPU. aekit's side is
`aekit.training.fit` with a constant learning rate, no validation and no early stopping; the
hand loop is randperm, slice, forward, MSE, zero_grad, backward, step. Each case warms both up
for one short epoch, then alternates hand and aekit for a few rounds of whole epochs timed with
`time.perf_counter`, and reports the median samples/s of each and their ratio aekit / hand.
The target is a ratio >= 0.95 on the seed model (MLP 784-128-32, batch 256).

    .venv/bin/python benchmarks/throughput.py [--rounds 3] [--epochs-per-round 1] [--n 60000]
    .venv/bin/python benchmarks/throughput.py --quick            # smoke run, a few seconds
    .venv/bin/python benchmarks/throughput.py --data fashion-mnist --threads 1

Synthetic data is uniform random pixels (no download); Fashion-MNIST needs its IDX files (see
`aekit datasets`). Run it on an otherwise idle machine: with every core busy, torch's threads
wait on each other at every op and both loops slow down many times (--threads 1 avoids that).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
import torch.nn.functional as F

from aekit.config import CONV_PRESET_CHANNELS, make_config
from aekit.models.autoencoder import AutoencoderNet, NetConfig
from aekit.training import fit

TARGET_RATIO = 0.95
LR = 1e-3
SEED = 0
WARMUP_BATCHES = 20  # one short epoch of this many batches warms up each loop

MLP = NetConfig((784,), 32, "mlp", [128], activation="relu", loss="mse", output="identity")
CONV = NetConfig((1, 28, 28), 32, "conv", CONV_PRESET_CHANNELS, norm="batch", output="sigmoid")


def hand_fit(model: torch.nn.Module, x: torch.Tensor, batch: int, epochs: int) -> None:
    """The minimal loop aekit is measured against: x (n, ...) float32."""
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    model.train()
    n = x.shape[0]
    for _ in range(epochs):
        order = torch.randperm(n)
        for begin in range(0, n, batch):
            xb = x[order[begin : begin + batch]]
            loss = F.mse_loss(model(xb), xb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()


def aekit_fit(model: torch.nn.Module, x: torch.Tensor, batch: int, epochs: int) -> None:
    config = make_config(
        epochs=epochs,
        batch_size=batch,
        lr=LR,
        optimizer="adam",
        schedule="constant",
        early_stopping=False,
        device="cpu",
        seed=SEED,
    )
    fit(model, x, None, config, progress=None)


def timed(train, model, x: torch.Tensor, batch: int, epochs: int) -> float:
    """Samples per second of ``epochs`` whole epochs of ``train``."""
    start = time.perf_counter()
    train(model, x, batch, epochs)
    return epochs * x.shape[0] / (time.perf_counter() - start)


def run_case(net: NetConfig, x: torch.Tensor, batch: int, rounds: int, epochs: int):
    """Median samples/s of the hand loop and of aekit's loop, alternating rounds."""
    loops = {"hand": hand_fit, "aekit": aekit_fit}
    models = {}
    for name in loops:
        torch.manual_seed(SEED)
        models[name] = AutoencoderNet(net)
    warmup = x[: batch * WARMUP_BATCHES]
    for name, train in loops.items():
        train(models[name], warmup, batch, 1)
    speeds = {name: [] for name in loops}
    for _ in range(rounds):
        for name, train in loops.items():
            speeds[name].append(timed(train, models[name], x, batch, epochs))
    return statistics.median(speeds["hand"]), statistics.median(speeds["aekit"])


def load_images(source: str, n: int) -> torch.Tensor:
    """(n, 1, 28, 28) float32 pixels in [0, 1]."""
    if source == "synthetic":
        return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(SEED))
    from aekit.data import load_data

    return torch.from_numpy(load_data("fashion-mnist").x[:n]).contiguous()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs-per-round", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per loop and case")
    parser.add_argument("--n", type=int, default=60000, help="samples (conv cases use n // 6)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes for a smoke run")
    parser.add_argument("--data", choices=("synthetic", "fashion-mnist"), default="synthetic")
    parser.add_argument("--threads", type=int, help="torch threads for both (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.quick:
        args.n, args.rounds, args.epochs_per_round = 2048, 2, 1

    images = load_images(args.data, args.n)
    vectors = images.reshape(len(images), -1).contiguous()
    n_conv = max(len(images) // 6, 512)
    cases = [  # (name, net, data, batch); the first is the seed model the target is about
        ("mlp 784-128-32", MLP, vectors, 256),
        ("mlp 784-128-32", MLP, vectors, 64),
        (f"conv {'-'.join(map(str, CONV_PRESET_CHANNELS))} bn", CONV, images[:n_conv], 256),
    ]
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads (both loops), "
        f"{os.cpu_count()} CPUs; data {args.data}; {args.rounds} rounds x "
        f"{args.epochs_per_round} epoch(s) per loop, hand and aekit alternating"
    )
    print(f"{'model':<18} {'batch':>5} {'n':>6} {'hand/s':>9} {'aekit/s':>9} {'ratio':>6}")
    ratios = []
    for name, net, x, batch in cases:
        hand, ours = run_case(net, x, batch, args.rounds, args.epochs_per_round)
        ratios.append(ours / hand)
        print(f"{name:<18} {batch:>5} {len(x):>6} {hand:>9.0f} {ours:>9.0f} {ours / hand:>6.3f}")
    verdict = "PASS" if ratios[0] >= TARGET_RATIO else "FAIL"
    print(
        f"\nseed model (mlp 784-128-32, batch 256): aekit / hand = {ratios[0]:.3f} "
        f"(target >= {TARGET_RATIO:.2f}) {verdict}"
    )


if __name__ == "__main__":
    main()
