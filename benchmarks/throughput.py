"""What a user waits for: the whole ``aekit.train`` call against a hand-written loop (and pythae).

The case is the seed article's model on Fashion-MNIST as vectors:

    aekit.train(x, hidden=[128], code_size=32, loss="bce", epochs=3, batch_size=256, lr=1e-3,
                early_stopping=False, progress=False)

timed from the NumPy array in to the model out: scaling, the validation split, the training
loop with its validation passes, the code density fitted for sampling, everything. Its
samples/s is the training samples it trains on (3 epochs of the 90% it keeps) over the call's
wall time. The hand-written loop is what a PyTorch user writes for the same job: the array to a
tensor, the same network, the same optimiser as aekit's (AdamW, fused, aekit's default weight
decay), randperm, slice, forward, BCE on logits, backward, step, for 3 epochs over the same
number of samples. pythae (optional: ``pip install pythae``) runs its own ``TrainingPipeline``
with the same 784-128-32 MLP (its AE trains with MSE; it has no BCE option) and the same
optimiser (``optimizer_cls="AdamW"`` with aekit's settings, not pythae's default Adam), 3 epochs,
batch 256, lr 1e-3, timed from the array in to the trained model out, its output folder
included.

Rounds alternate (hand, aekit, pythae) in one process, and each figure is the median of the
rounds. Target: aekit >= 0.9x the hand loop's samples/s. pythae is a comparison, held to no
target (issue 24 retired the 2.5x-pythae one: pythae takes only 1.5-1.9x the hand loop's time,
so 2.5x asked for a call faster than a minimal loop).

    python benchmarks/throughput.py [--rounds 5] [--n 60000]
    python benchmarks/throughput.py --quick --results /tmp/throughput.json   # smoke run

Synthetic data (uniform random pixels) stands in when Fashion-MNIST is not installed (see
`aekit datasets`). Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F
from results import Table, add_results_option, docstring_summary, write_results
from torch import nn

import aekit
from aekit.options.train_config import TrainConfig

NAME = "throughput"
EPOCHS = 3
BATCH = 256
LR = 1e-3
CODE = 32
HIDDEN = 128
VAL_FRACTION = 0.1  # aekit's default: it trains on the other 90%
TARGET_HAND = 0.9  # the one target: pythae is shown for comparison
# aekit's optimiser, which the hand loop and pythae get too (training/steps.py: fused AdamW)
WEIGHT_DECAY = TrainConfig.__dataclass_fields__["weight_decay"].default
assert TrainConfig.__dataclass_fields__["optimizer"].default == "adamw"


def aekit_call(x: np.ndarray) -> int:
    """The user's call; returns the training samples it went through."""
    model = aekit.train(
        x,
        hidden=[HIDDEN],
        code_size=CODE,
        loss="bce",
        epochs=EPOCHS,
        batch_size=BATCH,
        lr=LR,
        early_stopping=False,
        progress=False,
    )
    return EPOCHS * model.data_info["n_train"]


def hand_net(d: int) -> nn.Module:
    return nn.Sequential(
        nn.Linear(d, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, CODE),
        nn.Linear(CODE, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, d),
    )  # fmt: skip


def hand_call(x: np.ndarray) -> int:
    """A minimal PyTorch loop over as many samples as aekit trains on."""
    n = len(x) - int(round(len(x) * VAL_FRACTION))
    data = torch.from_numpy(x[:n])
    torch.manual_seed(0)
    net = hand_net(x.shape[1])
    optimizer = torch.optim.AdamW(net.parameters(), lr=LR, weight_decay=WEIGHT_DECAY, fused=True)
    for _ in range(EPOCHS):
        order = torch.randperm(n)
        for begin in range(0, n, BATCH):
            batch = data[order[begin : begin + BATCH]]
            loss = F.binary_cross_entropy_with_logits(net(batch), batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return EPOCHS * n


def pythae_call(x: np.ndarray) -> int:
    """pythae's own pipeline, same network sizes; its validation set is aekit's 10%."""
    from pythae.models import AE, AEConfig
    from pythae.models.base.base_utils import ModelOutput
    from pythae.models.nn import BaseDecoder, BaseEncoder
    from pythae.pipelines import TrainingPipeline
    from pythae.trainers import BaseTrainerConfig

    d = x.shape[1]

    class Encoder(BaseEncoder):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(d, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, CODE))

        def forward(self, inputs):
            return ModelOutput(embedding=self.net(inputs.reshape(len(inputs), -1)))

    class Decoder(BaseDecoder):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(CODE, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, d))

        def forward(self, codes):
            return ModelOutput(reconstruction=torch.sigmoid(self.net(codes)))

    n = len(x) - int(round(len(x) * VAL_FRACTION))
    with tempfile.TemporaryDirectory() as folder:
        config = BaseTrainerConfig(
            output_dir=folder,
            num_epochs=EPOCHS,
            learning_rate=LR,
            per_device_train_batch_size=BATCH,
            per_device_eval_batch_size=BATCH,
            optimizer_cls="AdamW",
            optimizer_params={"weight_decay": WEIGHT_DECAY, "fused": True},
            no_cuda=True,
        )
        model = AE(AEConfig(input_dim=(d,), latent_dim=CODE), encoder=Encoder(), decoder=Decoder())
        TrainingPipeline(training_config=config, model=model)(train_data=x[:n], eval_data=x[n:])
    return EPOCHS * n


def load_vectors(source: str, n: int) -> np.ndarray:
    """(n, 784) float32 pixels in [0, 1]."""
    if source == "synthetic":
        return np.random.default_rng(0).random((n, 784), dtype=np.float32)
    from aekit.data import load_data

    return np.ascontiguousarray(load_data("fashion-mnist").x[:n].reshape(-1, 784))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds of each call")
    parser.add_argument("--n", type=int, default=60000, help="samples given to each call")
    parser.add_argument("--data", choices=("fashion-mnist", "synthetic"), default="fashion-mnist")
    parser.add_argument("--quick", action="store_true", help="synthetic data, small, 1 round")
    parser.add_argument("--no-pythae", action="store_true", help="skip pythae even if installed")
    add_results_option(parser, NAME)
    args = parser.parse_args()
    if args.quick:
        args.data, args.n, args.rounds = "synthetic", 4096, 1
    x = load_vectors(args.data, args.n)
    calls = {"hand": hand_call, "aekit": aekit_call}
    if not args.no_pythae:
        try:
            import pythae  # noqa: F401
        except ImportError:
            print("pythae is not installed (pip install pythae): its column is left out")
        else:
            calls["pythae"] = pythae_call
    for call in calls.values():  # warm-up: imports, allocator, thread pools
        call(x[: 4 * BATCH])
    seconds: dict[str, list[float]] = {name: [] for name in calls}
    samples = {}
    for round_number in range(1, args.rounds + 1):
        for name, call in calls.items():
            start = time.perf_counter()
            samples[name] = call(x)
            seconds[name].append(time.perf_counter() - start)
        # each round's times: this VM's speed drifts, and the spread says how far to trust
        times = ", ".join(f"{name} {seconds[name][-1]:.2f} s" for name in calls)
        print(f"round {round_number}: {times}", flush=True)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs; "
        f"{args.data} {x.shape}; {EPOCHS} epochs, batch {BATCH}; median of {args.rounds} rounds"
    )
    figures = summarise(seconds, samples)
    found = tables(figures, args.rounds)
    for table in found:
        table.print()
    write_results(
        args.results,
        benchmark=NAME,
        title="Training throughput: the whole aekit.train call",
        about=docstring_summary(__doc__),
        headline=headline(figures),
        tables=found,
        figures={**figures, "data": args.data, "shape": list(x.shape)},
        options=args,
        chosen_on="nothing: a timing of fixed settings, the same for the three",
        checked_on=f"{args.data} rows {tuple(x.shape)}, timed on this machine",
        baselines=("pythae",) if "pythae" in calls else (),
    )


def summarise(seconds: dict[str, list[float]], samples: dict[str, int]) -> dict:
    """Medians, samples/s, aekit's speed over each call's, and the same ratio round by round
    (the two calls of a round ran seconds apart, so the VM's drift between rounds cancels)."""
    speed = {name: samples[name] / statistics.median(seconds[name]) for name in seconds}
    paired = {
        name: [
            (samples["aekit"] / a) / (samples[name] / b)
            for a, b in zip(seconds["aekit"], seconds[name], strict=True)
        ]
        for name in seconds
    }
    return {
        "seconds": seconds,
        "median_seconds": {name: statistics.median(times) for name, times in seconds.items()},
        "samples_per_s": speed,
        "aekit_speed_ratio": {name: speed["aekit"] / speed[name] for name in seconds},
        "paired_ratios": paired,
        "targets": {"hand": TARGET_HAND},
    }


def tables(figures: dict, rounds: int) -> list[Table]:
    names = list(figures["seconds"])
    rows = [
        [
            name,
            f"{figures['median_seconds'][name]:.2f}",
            f"{figures['samples_per_s'][name]:,.0f}",
            f"{figures['aekit_speed_ratio'][name]:.2f}x",
            "-" if name == "aekit" else spread(figures["paired_ratios"][name]),
        ]
        for name in names
    ]
    columns = ["call", "seconds", "samples/s", "aekit's speed / its", "round by round"]
    found = [Table(f"Medians of {rounds} rounds", columns, rows)]
    per_round = [
        [str(i + 1)] + [f"{figures['seconds'][name][i]:.2f}" for name in names]
        for i in range(rounds)
    ]
    found.append(Table("Seconds of every round", ["round"] + names, per_round))
    return found


def spread(ratios: list[float]) -> str:
    return f"{min(ratios):.2f}-{max(ratios):.2f}, median {statistics.median(ratios):.2f}"


def headline(figures: dict) -> str:
    ratios = figures["aekit_speed_ratio"]
    found = (
        f"aekit.train at {ratios['hand']:.2f}x the hand loop's samples/s (target {TARGET_HAND}x)"
    )
    if "pythae" in ratios:
        found += f"; for comparison, {ratios['pythae']:.2f}x pythae's"
    return found


if __name__ == "__main__":
    main()
