"""Training on several processes: torchrun and PyTorch's DistributedDataParallel (DDP).

``torchrun --nproc-per-node N -m aekit train ...`` starts N processes with ``WORLD_SIZE``,
``RANK`` and the rendezvous address in their environment; ``join`` makes the process group
from it (gloo on CPU, nccl on CUDA) or uses the one the caller already made. ``Ranks`` is what
the rest of aekit sees: this process's rank, how many there are, and the few things they do
together. One process alone is ``SINGLE``, whose collectives hand their inputs back, so the
training loop has one code path.

How the processes split the work so that N of them train the model one process would:

- every process loads, splits and scales the same data, and draws the same seeded permutation
  each epoch; process r takes rows r, r + N, r + 2N, ... of each batch (``Ranks.part``), so
  the processes' rows together are exactly the batch one process takes, and ``batch_size`` is
  the global batch;
- DDP averages the processes' gradients; ``Ranks.weight`` scales a process's loss when the
  batch does not split evenly (a last, partial batch), so the average is still the gradient of
  the whole batch's mean loss;
- what decides the loop's course is agreed: the non-finite check, stop signals and the clock
  of each step (``Ranks.agree``), the epoch's loss sums and the validation loss (``Ranks.sum``),
  so every process selects the same epoch and stops at the same step;
- buffers (batch-norm statistics) follow process 0: DDP copies them from it at every training
  step, and the loop does at each checkpoint and epoch end;
- process 0 alone writes the run folder and checkpoints; a checkpoint holds every process's
  random number generator, so a run resumes exactly on as many processes as it ran on.
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from ..errors import ConfigError, DataError, DistributedError
from ..options.train_config import TrainConfig

# How long a process waits for the others in one collective before giving up. Failures are
# seen much sooner: a process that exits closes its connections and the others' next
# collective fails at once, and torchrun stops the rest when one fails. This bounds the waits
# that are not failures (the processes reach the first collective after loading the data; the
# others wait while process 0 saves the model), and real hangs (a machine that stops answering).
TIMEOUT = timedelta(minutes=10)


@dataclass(frozen=True)
class Ranks:
    """The processes training together, as seen from one of them (rank ``rank`` of ``size``).

    ``group``: inside a torch.distributed process group (DDP trains the model, collectives
    run), even of one process; ``device``: where the group's collectives run (CUDA for nccl).
    """

    rank: int = 0
    size: int = 1
    group: bool = False
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    def __str__(self) -> str:
        return f"process {self.rank} of {self.size}"

    @property
    def is_lead(self) -> bool:
        """Process 0: the one that writes the run folder and reports progress."""
        return self.rank == 0

    # -- splitting the work ------------------------------------------------------------------
    @property
    def part(self) -> slice:
        """This process's rows of a batch: r, r + N, r + 2N, ..."""
        return slice(self.rank, None, self.size)

    def weight(self, rows: int, batch: int) -> float:
        """The factor on this process's mean loss over its ``rows`` of a ``batch`` that makes
        DDP's average of the processes' gradients the gradient of the batch's mean loss:
        rows * N / batch, which is 1 when the batch splits evenly."""
        return rows * self.size / batch

    def batch_size_for(self, settings: TrainConfig, given: bool) -> TrainConfig:
        """``settings`` with a batch size that splits evenly across the processes.

        A batch size the user gave must be a multiple of the process count (ConfigError
        otherwise); one picked from the data is rounded down to one."""
        batch, size = settings.batch_size, self.size
        if size == 1 or batch % size == 0:
            return settings
        if given:
            raise ConfigError(
                f"batch_size={batch} cannot be split evenly across {size} processes: give a "
                f"multiple of {size} (batch_size is the global batch, split across the processes)"
            )
        return dataclasses.replace(settings, batch_size=max(size, batch - batch % size))

    def smallest_batch(self, model: nn.Module) -> int:
        """The fewest samples a batch may hold: every process needs one (two where batch norm
        normalises vectors over them) and a batch at least 2 (see ``batch_starts``)."""
        per_process = 2 if self.size > 1 and _has_vector_batch_norm(model) else 1
        return max(2, self.size * per_process)

    def check_enough_samples(self, n: int, model: nn.Module) -> None:
        if self.size > 1 and n < self.smallest_batch(model):
            raise DataError(
                f"{n} training samples are too few to give each of {self.size} processes a "
                f"share of a batch ({self.smallest_batch(model)} needed); train on fewer "
                "processes or more data"
            )

    def training_step(self, model: nn.Module) -> Callable[..., tuple]:
        """What the loop calls for a batch's loss: ``model.loss`` itself alone, DDP around it in
        a process group (so that the backward pass averages the gradients across processes)."""
        if not self.group:
            return model.loss
        device_ids = [self.device.index] if self.device.type == "cuda" else None
        # broadcast_buffers (the default): batch-norm statistics follow process 0
        return nn.parallel.DistributedDataParallel(_Loss(model), device_ids=device_ids)

    def seed_own_stream(self, seed: int) -> None:
        """Give this process its own stream of torch's global generator (dropout, a VAE's
        draws), derived from ``seed`` and the rank: the same streams in every run with that
        seed, and process 0's is the one a single process uses."""
        if self.rank > 0:
            words = np.random.SeedSequence([seed, self.rank]).generate_state(2)
            torch.manual_seed(int(words[0]) << 32 | int(words[1]))

    # -- collectives -------------------------------------------------------------------------
    def sum(self, values: torch.Tensor) -> torch.Tensor:
        """``values`` summed over the processes (a new tensor in a group)."""
        if not self.group:
            return values
        total = values.detach().to(self.device, copy=True)
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
        return total.to(values.device)

    def agree(self, finite: bool, stop: bool, elapsed: float) -> tuple[bool, bool, float]:
        """One step's course, the same on every process: finite only if finite everywhere, stop
        if any process was asked to, and the longest elapsed time (which sets the learning
        rate of time-limited runs and ends them)."""
        if not self.group:
            return finite, stop, elapsed
        flags = torch.tensor([0.0 if finite else 1.0, float(stop), elapsed], dtype=torch.float64)
        flags = flags.to(self.device)
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
        not_finite, stop_flag, longest = flags.tolist()
        return not_finite == 0.0, stop_flag > 0.0, longest

    def any(self, flag: bool) -> bool:
        return self.agree(True, flag, 0.0)[1]

    def gather(self, tensor: torch.Tensor) -> list[torch.Tensor]:
        """Every process's ``tensor`` (same shape and dtype everywhere), in rank order, on
        ``tensor``'s device."""
        if not self.group:
            return [tensor]
        mine = tensor.to(self.device)
        parts = [torch.empty_like(mine) for _ in range(self.size)]
        dist.all_gather(parts, mine)
        return [part.to(tensor.device) for part in parts]

    def broadcast(self, tensors: Iterable[torch.Tensor]) -> None:
        """Overwrite ``tensors`` in place with process 0's."""
        if not self.group:
            return
        for tensor in tensors:
            mine = tensor.detach()
            moved = mine.to(self.device)
            dist.broadcast(moved, src=0)
            if moved.data_ptr() != mine.data_ptr():
                mine.copy_(moved)

    def broadcast_arrays(self, *arrays: np.ndarray) -> None:
        """Overwrite NumPy ``arrays`` in place with process 0's."""
        self.broadcast(torch.from_numpy(array) for array in arrays)

    def check_resumable(self, saved_size: int, folder) -> None:
        """ConfigError unless a checkpoint written by ``saved_size`` processes can resume here:
        on as many processes only, as each process's random numbers are in it, and only then
        does the run end with the weights it would have had uninterrupted."""
        if saved_size == self.size:
            return
        how = (
            f"aekit train --resume {folder} in one process"
            if saved_size == 1
            else f"torchrun with {saved_size} processes in all (--nproc-per-node times --nnodes)"
        )
        raise ConfigError(
            f"cannot resume {folder} on {self.size} process(es): it was trained on "
            f"{saved_size}, and a run resumes exactly only on as many; resume it with {how}"
        )

    def barrier(self) -> None:
        if self.group:
            dist.barrier()

    def check_same_data(self, name: str, *arrays: np.ndarray | None) -> None:
        """DistributedError on every process unless all read the same data: on several
        machines each reads its own copy, and a different one must not train unnoticed."""
        if not self.group:
            return
        digest = hashlib.sha256()
        for array in arrays:
            if array is not None:
                digest.update(repr((array.shape, array.dtype.str)).encode())
                digest.update(np.ascontiguousarray(array).data)
        mine = torch.frombuffer(bytearray(digest.digest()), dtype=torch.uint8)
        digests = self.gather(mine)
        for rank, theirs in enumerate(digests):
            if not torch.equal(theirs, digests[0]):
                raise DistributedError(
                    f"process {rank} of {self.size} read other data than process 0 from "
                    f"{name}: every process must train on the same data (on several machines, "
                    "give each the same copy)"
                )


SINGLE = Ranks()


class _Loss(nn.Module):
    """The model's loss as a module's forward, which is what DDP wraps."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor, target: torch.Tensor) -> tuple:
        return self.net.loss(x, target=target)


def join(device: torch.device) -> Ranks:
    """The processes this one trains with, training on ``device``.

    Inside a process group the caller made, that group. Else, started by torchrun (the
    environment's ``WORLD_SIZE`` above 1): a new group over its environment (gloo on CPU,
    nccl on CUDA, with this process on GPU ``LOCAL_RANK``), kept until the process exits; if
    none can be made, DistributedError rather than N processes each training a copy. Else
    ``SINGLE``.
    """
    if dist.is_available() and dist.is_initialized():
        return _current(device)
    size = _environment_int("WORLD_SIZE", 1)
    if size <= 1:
        return SINGLE
    launch = f"WORLD_SIZE={size} (a torchrun launch)"
    if not dist.is_available():
        raise DistributedError(
            f"{launch}, but this PyTorch has no torch.distributed; train in one process"
        )
    _set_threads()
    if device.type == "cuda":
        torch.cuda.set_device(_environment_int("LOCAL_RANK", 0))
    try:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=TIMEOUT)
    except (RuntimeError, ValueError) as exc:
        raise DistributedError(
            f"{launch}, but no process group could be made ({exc}); launch with torchrun, which "
            "sets RANK, MASTER_ADDR and MASTER_PORT, or unset WORLD_SIZE to train in one "
            f"process: aekit never trains {size} copies side by side"
        ) from None
    atexit.register(_leave)  # exiting with the group still open aborts the process
    return _current(device)


def _current(device: torch.device) -> Ranks:
    backend = dist.get_backend()
    if backend == "nccl" and device.type != "cuda":
        raise DistributedError(
            f"the process group's backend is nccl, which needs CUDA, but training is on "
            f"{device.type}; use device='cuda' or a gloo process group"
        )
    where = torch.device("cuda", torch.cuda.current_device()) if backend == "nccl" else None
    return Ranks(
        rank=dist.get_rank(),
        size=dist.get_world_size(),
        group=True,
        device=where or torch.device("cpu"),
    )


def reports_lost_processes(function: Callable) -> Callable:
    """Wrap ``function`` so that a collective that failed because another process is gone (it
    failed or was stopped) raises a DistributedError saying so, not a traceback from deep in
    torch."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except RuntimeError as exc:
            if not (dist.is_available() and dist.is_initialized()) or not _lost_contact(exc):
                raise
            text = str(exc).strip()
            first_line = text.splitlines()[0] if text else repr(exc)
            raise DistributedError(
                f"process {dist.get_rank()} of {dist.get_world_size()} lost contact with the "
                "others: another process probably failed or was stopped (its own error is "
                f"printed above). From torch: {first_line}"
            ) from exc

    return wrapper


def _leave() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def _set_threads() -> None:
    """Share this machine's cores among its processes, unless OMP_NUM_THREADS says how many
    each takes (torchrun sets it to 1 unless it is set)."""
    if "OMP_NUM_THREADS" in os.environ:
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    local = _environment_int("LOCAL_WORLD_SIZE", 1)
    torch.set_num_threads(max(1, (cores or 1) // max(local, 1)))


def _environment_int(name: str, default: int) -> int:
    text = os.environ.get(name)
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise DistributedError(
            f"the environment variable {name} must be an integer, got {text!r}"
        ) from None


def _has_vector_batch_norm(model: nn.Module) -> bool:
    return any(isinstance(m, nn.BatchNorm1d) for m in model.modules())


def _lost_contact(exc: RuntimeError) -> bool:
    """Whether a RuntimeError is a collective's failure (torch raises those as plain
    RuntimeErrors from gloo, DistError subclasses from nccl and the store)."""
    if isinstance(exc, getattr(dist, "DistError", ())):
        return True
    text = str(exc)
    return any(word in text for word in ("gloo", "Gloo", "NCCL", "Connection closed", "timed out"))


def process_label() -> str:
    """' (process R of N)' in a distributed launch, else '': for messages every process
    prints."""
    if dist.is_available() and dist.is_initialized():
        rank, size = dist.get_rank(), dist.get_world_size()
    else:
        try:
            rank, size = _environment_int("RANK", 0), _environment_int("WORLD_SIZE", 1)
        except DistributedError:
            return ""
    return f" (process {rank} of {size})" if size > 1 else ""


def is_lead_process() -> bool:
    """False on the processes other than process 0 of a distributed launch."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank() == 0
    try:
        return _environment_int("RANK", 0) == 0
    except DistributedError:
        return True
