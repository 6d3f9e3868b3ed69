"""A streamed file's training rows in a seeded order that reads each block of the file once an
epoch, and the rows of a batch, scaled, for the training loop.

The file's rows are cut into chunks of consecutive rows (about ``CHUNK_BYTES`` each). Every
epoch, the chunks are put in a random order and taken ``SHUFFLE_CHUNKS`` at a time; the
training rows of those chunks are shuffled together, and come one after the other. The order
depends only on (seed, epoch), so it repeats exactly, and a resumed run (which also finds it in
its checkpoint) sees the same batches. The trade-off: rows only mix with the rows of the
chunks shuffled with them, so a file sorted by class gives batches drawn from a few stretches
of it; more chunks at a time mix better and hold more in memory (``SHUFFLE_CHUNKS`` x
``CHUNK_BYTES``, 64 MiB, of scaled rows).
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import torch

from .streaming import StreamedFile

CHUNK_BYTES = 8 << 20
SHUFFLE_CHUNKS = 8


def chunk_starts(n_rows: int, values_per_row: int) -> np.ndarray:
    """Where each chunk of a file of ``n_rows`` rows begins, and the end: (chunks + 1,)."""
    rows = max(1, CHUNK_BYTES // (4 * max(values_per_row, 1)))
    return np.append(np.arange(0, n_rows, rows), n_rows)


def epoch_order(train_starts: np.ndarray, seed: int, epoch: int) -> torch.Tensor:
    """The order of the training rows in ``epoch``: (n,) int64, a permutation of 0 .. n - 1.

    ``train_starts``: (chunks + 1,) the number of training rows before each chunk and in all.
    """
    rng = np.random.default_rng([seed, epoch])
    chunks = rng.permutation(len(train_starts) - 1)
    parts = []
    for begin in range(0, len(chunks), SHUFFLE_CHUNKS):
        together = chunks[begin : begin + SHUFFLE_CHUNKS]
        rows = np.concatenate([np.arange(train_starts[c], train_starts[c + 1]) for c in together])
        parts.append(rows[rng.permutation(len(rows))])
    return torch.from_numpy(np.concatenate(parts).astype(np.int64))


class StreamedRows:
    """The training rows of a streamed file, scaled and shaped as the network takes them, where
    the loop (``aekit.training.loop.fit``) takes a tensor: ``len``, ``to(device)``, ``rows[index]``
    (the batch, (len(index), *input_shape) on the device) and ``epoch_order(epoch)``.

    ``rows[index]`` reads the chunks that hold the rows at ``index`` and keeps the last
    ``SHUFFLE_CHUNKS`` read, so that an epoch in ``epoch_order`` reads each chunk once. Any
    index works (a rank's share of a batch too), only more slowly.
    """

    def __init__(self, file: StreamedFile, scale, input_shape: tuple[int, ...], seed: int):
        """scale: (m, d) float32 in the data's units -> (m, d) float32 scaled."""
        self.file, self.scale, self.input_shape, self.seed = file, scale, tuple(input_shape), seed
        self.starts = chunk_starts(len(file.rows), int(np.prod(file.sample_shape)))
        self.train_starts = file.training_starts(self.starts)
        self.device = torch.device("cpu")
        self.cached: OrderedDict[int, torch.Tensor] = OrderedDict()

    def __len__(self) -> int:
        return int(self.train_starts[-1])

    def to(self, device: torch.device) -> StreamedRows:
        self.device, self.cached = torch.device(device), OrderedDict()
        return self

    def epoch_order(self, epoch: int) -> torch.Tensor:
        return epoch_order(self.train_starts, self.seed, epoch)

    def __getitem__(self, index: torch.Tensor) -> torch.Tensor:
        rows = index.cpu().numpy()
        chunk_of_row = np.searchsorted(self.train_starts, rows, side="right") - 1
        parts, places = [], []
        for chunk in dict.fromkeys(chunk_of_row.tolist()):  # in the order the batch meets them
            where = np.flatnonzero(chunk_of_row == chunk)
            within = torch.from_numpy(rows[where] - self.train_starts[chunk]).to(self.device)
            parts.append(self._chunk(chunk).index_select(0, within))
            places.append(where)
        # the rows gathered chunk by chunk, put back in the order of ``index``
        back = torch.from_numpy(np.argsort(np.concatenate(places))).to(self.device)
        return torch.cat(parts).index_select(0, back)

    def _chunk(self, chunk: int) -> torch.Tensor:
        """The chunk's training rows, scaled, on the device: read unless among the last read."""
        if chunk in self.cached:
            self.cached.move_to_end(chunk)
            return self.cached[chunk]
        samples = self.file.training_block(int(self.starts[chunk]), int(self.starts[chunk + 1]))
        scaled = self.scale(samples.reshape(len(samples), -1))
        tensor = torch.from_numpy(np.ascontiguousarray(scaled).reshape(-1, *self.input_shape))
        self.cached[chunk] = tensor.to(self.device)
        if len(self.cached) > SHUFFLE_CHUNKS:
            self.cached.popitem(last=False)
        return self.cached[chunk]
