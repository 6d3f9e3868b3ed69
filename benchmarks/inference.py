"""Inference speed: aekit's encode / reconstruct / detector scores against a bare forward pass.

The case is issue 24's: the seed MLP (784-128-32, default options; one training epoch, as
the speed of inference does not depend on how well the network was trained) on Fashion-MNIST
as vectors, and rows/s over all the rows of

    model.encode(x)                                    vs  the bare net.encode
    model.reconstruct(x)                               vs  the bare net forward
    AutoencoderAnomalyDetector().score_samples(x)      vs  its own net's bare forward
    (anomaly_score="reconstruction", and the default "both", which adds code-space neighbours)
    the ONNX Runtime session of the exported run       vs  the same bare forward
    scikit-learn's PCA(32).transform                   (for scale)

The bare forward is what a PyTorch user writes: the scaled data already a tensor (its scaling
not timed), ``torch.inference_mode()``, the network over batches of aekit's inference batch
size, ``torch.cat`` of the outputs. Calls alternate in one process; each figure is the median
of the repeats. Target: aekit's calls at least 0.9x the bare forward.

    .venv/bin/python benchmarks/inference.py [--rows 60000] [--repeats 5] [--results PATH]

Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from results import Table, add_results_option, docstring_summary, write_results
from sklearn.decomposition import PCA

import aekit
from aekit.data import load_data
from aekit.sklearn import AutoencoderAnomalyDetector
from aekit.trained.batches import INFERENCE_BATCH

HIDDEN, CODE = [128], 32
TARGET = 0.9


def bare(fn: Callable, scaled: torch.Tensor) -> Callable[[], torch.Tensor]:
    """The bare forward: ``fn`` over the inference batches of the already scaled tensor."""

    def call() -> torch.Tensor:
        with torch.inference_mode():
            starts = range(0, len(scaled), INFERENCE_BATCH)
            return torch.cat([fn(scaled[i : i + INFERENCE_BATCH]) for i in starts])

    return call


def onnx_session(model: aekit.Autoencoder, folder: Path, part: str, x: np.ndarray) -> Callable:
    """The exported run's ONNX Runtime session, over the same batches as the bare forward."""
    import onnxruntime

    path = model.export_onnx(folder / f"{part}.onnx", part=part)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return lambda: [
        session.run(None, {"x": x[i : i + INFERENCE_BATCH]})
        for i in range(0, len(x), INFERENCE_BATCH)
    ]


def calls(x: np.ndarray, folder: Path) -> dict[str, Callable]:
    """Every timed call by name; those compared with a bare forward end in its name."""
    model = aekit.train(x, hidden=HIDDEN, code_size=CODE, epochs=1, progress=False)
    scaled = torch.from_numpy(model.scale(x))
    found = {
        "bare net.encode": bare(model.net.eval().encode, scaled),
        "model.encode": lambda: model.encode(x),
        "bare net forward": bare(model.net.eval(), scaled),
        "model.reconstruct": lambda: model.reconstruct(x),
        "ONNX Runtime encoder": onnx_session(model, folder, "encoder", x),
        "ONNX Runtime both": onnx_session(model, folder, "both", x),
    }
    for score in ("reconstruction", "both"):
        detector = AutoencoderAnomalyDetector(
            hidden=HIDDEN, code_size=CODE, epochs=1, anomaly_score=score, random_state=0
        ).fit(x)
        net = detector.model_.net.eval()
        found[f"bare forward ({score})"] = bare(net, torch.from_numpy(detector.model_.scale(x)))
        found[f"score_samples ({score})"] = lambda d=detector: d.score_samples(x)
    pca = PCA(CODE, random_state=0).fit(x)
    found["PCA(32).transform"] = lambda: pca.transform(x)
    return found


# each aekit call and the bare forward it is held against
VERSUS = {
    "model.encode": "bare net.encode",
    "model.reconstruct": "bare net forward",
    "score_samples (reconstruction)": "bare forward (reconstruction)",
    "score_samples (both)": "bare forward (both)",
    "ONNX Runtime encoder": "bare net.encode",
    "ONNX Runtime both": "bare net forward",
    "PCA(32).transform": "bare net.encode",
}
HELD_TO_TARGET = ("model.encode", "model.reconstruct", "score_samples (reconstruction)")


def timed(found: dict[str, Callable], repeats: int) -> dict[str, list[float]]:
    """Seconds of each call, repeat by repeat, the calls alternating."""
    for call in found.values():  # warm-up: thread pools, allocator, ONNX Runtime's first run
        call()
    seconds: dict[str, list[float]] = {name: [] for name in found}
    for repeat in range(repeats):
        for name, call in found.items():
            start = time.perf_counter()
            call()
            seconds[name].append(time.perf_counter() - start)
        print(f"repeat {repeat + 1} of {repeats} done", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=60000, help="Fashion-MNIST rows scored")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats of each call")
    add_results_option(parser, "inference")
    args = parser.parse_args()
    x = np.ascontiguousarray(load_data("fashion-mnist").x[: args.rows].reshape(-1, 784))
    with tempfile.TemporaryDirectory() as folder:
        seconds = timed(calls(x, Path(folder)), args.repeats)
    speed = {name: len(x) / statistics.median(times) for name, times in seconds.items()}
    rows = []
    for name in seconds:
        against = VERSUS.get(name)
        ratio = f"{speed[name] / speed[against]:.2f}x {against}" if against else ""
        verdict = ""
        if name in HELD_TO_TARGET:
            verdict = "PASS" if speed[name] / speed[against] >= TARGET else "FAIL"
        rows.append([name, f"{speed[name]:,.0f}", ratio, verdict])
    result = Table(
        f"rows/s over {len(x):,} Fashion-MNIST rows, MLP 784-128-32, batch {INFERENCE_BATCH}, "
        f"median of {args.repeats}",
        ["call", "rows/s", "vs bare forward", f"target >= {TARGET}x"],
        rows,
    )
    result.print()
    notes = [
        "One process, calls alternating; the bare forward runs on data already scaled. "
        "score_samples (both) adds the code-space neighbour distances to the reconstruction "
        "error, so it is shown for reference, not held to the target."
    ]
    ratios = {name: speed[name] / speed[VERSUS[name]] for name in HELD_TO_TARGET if name in speed}
    write_results(
        args.results,
        benchmark="inference",
        title="Inference speed against a bare forward pass",
        about=docstring_summary(__doc__),
        headline=", ".join(f"{name} {ratio:.2f}x a bare forward" for name, ratio in ratios.items()),
        tables=[result],
        figures={"rows_per_second": speed, "ratio_to_bare": ratios, "seconds": seconds},
        options=args,
        chosen_on="nothing: no setting is chosen here (aekit's defaults, its inference batch)",
        checked_on=f"the first {len(x):,} Fashion-MNIST training images",
        notes=notes,
        baselines=("scikit-learn", "onnxruntime"),
    )


if __name__ == "__main__":
    main()
