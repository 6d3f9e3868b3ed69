"""Encoding, reconstructing, denoising or scoring a file too large to hold, a block of rows at a
time.

The file is read in order (``aekit.data.chunks``: .npy row ranges, Parquet row groups, CSV
chunks), each block checked and matched to the model's columns as a whole file would be, and
the model's outputs come out block by block (``aekit.data.writing.write_blocks`` writes them as
they come). Blocks are whole multiples of the model's inference batch, so every sample meets
the network in the batch it would meet in memory, and the outputs are the same to the bit.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..data import Dataset
from ..data.chunks import read_chunks
from ..data.streaming import rows_per_read
from ..errors import DataError
from .batches import INFERENCE_BATCH

if TYPE_CHECKING:  # the model calls this module for files it cannot hold
    from .autoencoder import Autoencoder

METHODS = ("encode", "reconstruct", "denoise", "anomaly_scores")


def streamed_outputs(
    model: Autoencoder,
    method: str,
    path: Path,
    *,
    label: str | None = None,
    sample: bool = False,
    seed: int | None = None,
) -> Iterator[np.ndarray]:
    """``model.<method>`` of the rows of ``path``, block by block in the file's order.

    ``sample`` and ``seed`` as for ``Autoencoder.encode``: one generator draws the posterior
    noise of all blocks in turn, so the draws are those of the whole file encoded at once.
    DataError for a bad row names the row as the file numbers it.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    batches = max(1, rows_per_read(int(np.prod(model.sample_shape))) // INFERENCE_BATCH)
    rows = batches * INFERENCE_BATCH
    generator = np.random.default_rng(seed)
    options = {"sample": sample, "seed": generator} if method == "encode" else {}
    run = getattr(model, method)
    waiting, first_row = None, 0  # rows short of a whole inference batch, and where they begin
    for chunk in read_chunks(Path(path), rows=rows, label=label, columns=model.columns):
        block = chunk.x if waiting is None else np.concatenate([waiting, chunk.x])
        whole = len(block) // INFERENCE_BATCH * INFERENCE_BATCH
        if whole:
            yield _applied(run, block[:whole], options, path, first_row)
        waiting, first_row = (block[whole:] if whole < len(block) else None), first_row + whole
    if waiting is not None:
        yield _applied(run, waiting, options, path, first_row)


def _applied(run, block: np.ndarray, options: dict, path: Path, first_row: int) -> np.ndarray:
    """``run`` on the rows ``block`` (already in the model's columns), shaped as ``run`` shapes a
    file's rows; a DataError says where the block lies in the file."""
    stop = first_row + len(block) - 1
    try:
        return run(Dataset(x=block, y=None, name=f"{path} (rows {first_row} to {stop})"), **options)
    except DataError as exc:
        raise DataError(
            f"{path} (rows {first_row} to {stop}; row numbers below count from {first_row}): {exc}"
        ) from None
