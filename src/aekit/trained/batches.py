"""The trained model's inference a batch of rows at a time: each batch is scaled, run through the
network, checked and written out while it is still in the processor's cache.

Done a step at a time over the whole array (scale it, run the network, concatenate, check the
outputs, unscale them, compare them with the input in float64), each step read and wrote the
whole data again: ``encode`` of 60,000 Fashion-MNIST rows ran at 0.62-0.68x a bare forward of
the same network, ``anomaly_scores`` at a fifth of one. Batch by batch, the outputs land in one
array allocated once and no step allocates the whole data again.

Every step is row by row and every sample meets the network in a batch of ``INFERENCE_BATCH``
rows beginning at a multiple of it (streamed files too, ``streamed``), so the outputs are the
same to the bit whatever else is given with a sample.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from ..data.scaling import Scaler, tensor_view
from ..errors import DataError

# Rows the model runs through its network at a time, in memory and streamed alike.
INFERENCE_BATCH = 4096
# Rows whose squared errors are taken at a time (float64, 1.6 MB of images: in the cache)
ERROR_ROWS = 256


def row_batches(n: int) -> Iterator[slice]:
    """The rows of each inference batch of n samples, in order."""
    return (slice(start, min(start + INFERENCE_BATCH, n)) for start in range(0, n, INFERENCE_BATCH))


def scaled_batches(
    scaler: Scaler, samples: np.ndarray, device: torch.device
) -> Iterator[tuple[slice, torch.Tensor]]:
    """Each inference batch of ``samples`` (n, *sample_shape): its rows, and the batch scaled,
    on ``device``. A batch is valid until the next is asked for: on the CPU they share one
    buffer (scaling into fresh memory took twice as long as into memory used before)."""
    buffer = None
    if not scaler.is_identity:
        values = int(np.prod(samples.shape[1:]))
        buffer = np.empty((min(INFERENCE_BATCH, len(samples)), values), dtype=np.float32)
    for rows in row_batches(len(samples)):
        yield rows, scaled_batch(scaler, samples[rows], samples, buffer).to(device)


def scaled_batch(
    scaler: Scaler, samples: np.ndarray, all_samples: np.ndarray, buffer: np.ndarray | None
) -> torch.Tensor:
    """``samples`` (b, *sample_shape), finite, in the space the network sees, as a tensor;
    scaled into the first b rows of ``buffer`` (flat, float32).

    DataError where scaling overflows float32 (``all_samples``: the whole input, named in it).
    """
    if scaler.is_identity:  # finite already (``aekit.data.Dataset``), and not copied
        return tensor_view(samples)
    with np.errstate(over="ignore", invalid="ignore"):
        flat = scaler.transform(samples.reshape(len(samples), -1), out=buffer[: len(samples)])
    scaled = torch.from_numpy(flat).reshape(samples.shape)
    if not all_finite(scaled):
        raise DataError(
            "the data holds values so far outside the training range that scaling them "
            f"overflows float32 (largest magnitude {np.abs(all_samples).max():.3g})"
        )
    return scaled


def all_finite(values: torch.Tensor) -> bool:
    """Whether every value is finite: a NaN or an infinity makes the sum non-finite, so only a
    non-finite sum (or finite values whose sum overflows) needs the exact check, which makes
    temporaries the size of the data (torch's ``isfinite`` took longer than the scaling)."""
    return bool(torch.isfinite(values.sum())) or bool(torch.isfinite(values).all())


def squared_errors(scaled: torch.Tensor, rebuilt: torch.Tensor) -> np.ndarray:
    """(b,) float64: each row's mean squared error between ``scaled`` and ``rebuilt`` (CPU).

    The differences and squares in float64 run in torch; the mean is NumPy's, whose pairwise
    sum of each row the scores have always had. ``ERROR_ROWS`` rows at a time, both sides
    converted to float64 first: a whole batch's float64 temporaries (25 MB for 4,096 images)
    left the cache, and float32 subtracted from float64 took torch's slow mixed-type path;
    this way the step took about half the time (a quick check on a shared 2-core machine;
    benchmarks/inference.py measures the whole call), with the same numbers.
    """
    flat, rebuilt = scaled.reshape(len(scaled), -1), rebuilt.reshape(len(scaled), -1)
    errors = np.empty(len(flat))
    for start in range(0, len(flat), ERROR_ROWS):
        rows = slice(start, start + ERROR_ROWS)
        differences = flat[rows].double().sub_(rebuilt[rows].double()).square_()
        errors[rows] = np.mean(differences.numpy(), axis=1)
    return errors


class BatchOutputs:
    """The outputs of n samples, gathered batch by batch into one array allocated once, and
    the samples whose network output overflowed (``result`` reports them all at once)."""

    def __init__(self, n: int):
        self.n = n
        self._array: np.ndarray | None = None
        self._overflowed: list[np.ndarray] = []

    def checked(self, rows: slice, out: torch.Tensor) -> torch.Tensor:
        """The network's output ``out`` for ``rows``, on the CPU; its non-finite rows noted."""
        out = out.cpu()
        if not all_finite(out):
            finite = torch.isfinite(out.reshape(len(out), -1)).all(dim=1).numpy()
            self._overflowed.append(rows.start + np.flatnonzero(~finite))
        return out

    def put(self, rows: slice, values: np.ndarray | torch.Tensor) -> None:
        """Write ``values`` (b, ...) as the outputs of ``rows``."""
        values = values.numpy() if isinstance(values, torch.Tensor) else values
        self._rows(rows, values.shape[1:], values.dtype)[...] = values

    def put_unscaled(self, rows: slice, scaled: torch.Tensor, scaler: Scaler) -> None:
        """Write ``scaled`` (b, ...) float32 on the CPU, in the space the network sees, as the
        outputs of ``rows`` in original units, flattened to (b, d): ``Scaler.unscaled`` writes
        them straight into the output array."""
        flat = scaled.reshape(len(scaled), -1)  # a view, or a copy of channels-last conv output
        scaler.unscaled(flat, out=torch.from_numpy(self._rows(rows, flat.shape[1:], np.float32)))

    def _rows(self, rows: slice, shape: tuple[int, ...], dtype) -> np.ndarray:
        """The output array's ``rows``, the array (n, *shape) allocated on the first call."""
        if self._array is None:
            # allocated by torch, as a bare forward's torch.cat is: NumPy's allocation of
            # reconstruct's output (188 MB for 60,000 Fashion-MNIST rows) ran it at 0.79x a bare
            # forward in a process that had scored by code distance before, torch's at 1.13x
            # (benchmarks/inference.py's calls, quick check); alone, both at about 1.0x
            kind = torch.from_numpy(np.empty(0, dtype=dtype)).dtype
            self._array = torch.empty((self.n, *shape), dtype=kind).numpy()
        return self._array[rows]

    def result(self) -> np.ndarray:
        """(n, ...) outputs; DataError naming the samples whose output overflowed."""
        if self._overflowed:
            bad = np.concatenate(self._overflowed)
            # finite inputs, but so far outside the training range that the network overflows
            raise DataError(
                f"the model's output overflows for {len(bad)} sample(s) (first: row {bad[0]}): "
                "their values lie far outside the training data's range"
            )
        return self._array
