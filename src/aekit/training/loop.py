"""The one training loop. It only calls ``model.loss(batch) -> (loss, logs)`` (on several
processes, through DistributedDataParallel: ``aekit.training.distributed``).

It owns the optimiser, the learning-rate schedule, shuffling, validation, early stopping, the
time limit, the history, checkpoints and interrupts; the CLI, the Python API and the estimator
all come through here. ``fit`` reads as the loop; ``trainer.Trainer`` holds its parts.

With validation data, the weights of the epoch with the lowest validation loss are restored at
the end (model selection), and early stopping watches the same number: after ``patience``
epochs without a better one, the learning rate drops (``lr_drops`` times, each from the best
weights; the row of that epoch gets "lr_drop": how many so far), then the run stops. Without
it, the last weights are kept. ``on_epoch`` gets the history after every epoch (to save
metrics).

With a checkpoint folder, a checkpoint is written there after every epoch, every
``checkpoint_every`` steps, on SIGINT/SIGTERM and before a non-finite stop; the metadata given
is stored in it as is, and a run resumed from it ends with the bytes of one never stopped.

With a corruption (a denoising autoencoder), each batch is corrupted afresh and the model
learns to reconstruct the clean batch; the corruption's generator is seeded from the seed and
checkpointed. Validation then scores corrupted validation inputs against clean targets, with
the same corruption every epoch (a fixed seed), so the numbers stay comparable.

With the ranks of a process group (``aekit.training.distributed``), every process calls
``fit`` with the same data and options; each trains on its share of every batch through DDP,
and they agree on every decision. Process 0 alone writes checkpoints and gets ``on_epoch``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from ..nn.noise import Corruption
from ..options.train_config import TrainConfig
from .checkpoints import Checkpoint
from .distributed import SINGLE, Ranks
from .failures import TrainingError, TrainingInterrupted, interrupt_message
from .loop_state import TrainResult, finished_reason
from .progress import Progress
from .steps import evaluate_loss, resolve_device
from .stop_signals import stop_requests
from .trainer import Trainer

__all__ = [
    "TrainResult",
    "TrainingError",
    "TrainingInterrupted",
    "evaluate_loss",
    "finished_reason",
    "fit",
    "resolve_device",
]


# the options aekit.train fills where the user left them open, which the loop needs set
OPTIONS_TRAIN_FILLS = ("lr", "batch_size", "schedule", "warmup")


def fit(
    model: nn.Module,
    train_x: torch.Tensor,
    val_x: torch.Tensor | None,
    config: TrainConfig,
    *,
    progress: Progress | None = None,
    on_epoch: Callable[[list[dict]], None] | None = None,
    checkpoint_dir: str | Path | None = None,
    resume: Checkpoint | None = None,
    checkpoint_meta: dict | None = None,
    corrupt: Corruption | None = None,
    ranks: Ranks = SINGLE,
    run_folder: str | Path | None = None,
) -> TrainResult:
    """Train ``model`` in place on ``train_x`` (n, ...) float32, already scaled: a tensor, or a
    file's rows read as the loop goes (``aekit.data.shuffled_chunks.StreamedRows``); validation
    on ``val_x``, checkpoints into ``checkpoint_dir`` (with ``checkpoint_meta``), ``resume``
    from one, ``corrupt`` for denoising, ``ranks`` of a process group: see the module.
    ``run_folder``: the folder messages tell to resume (default ``checkpoint_dir``)."""
    open_options = [name for name in OPTIONS_TRAIN_FILLS if getattr(config, name) is None]
    if open_options:
        raise ValueError(
            f"fit needs a config with {', '.join(open_options)} set (aekit.train fills them)"
        )
    run = Trainer(
        model, train_x, val_x, config, corrupt, checkpoint_dir, checkpoint_meta, ranks, run_folder
    )
    if resume is not None:
        run.restore(resume)
    else:
        ranks.seed_own_stream(config.seed)
    run.start_clock()
    if val_x is not None and resume is None and getattr(model, "starts_at_baseline", False):
        run.count_start_as_epoch_zero()
    model.train()
    loop = run.loop
    with stop_requests(enabled=checkpoint_dir is not None) as stop_requested:
        while not loop.finished and loop.epoch <= config.epochs:
            epoch = loop.epoch
            out_of_time = run.train_epoch(progress, stop_requested)
            row = run.end_epoch(out_of_time)
            run.decide_stop(out_of_time)
            if progress:
                progress.end_epoch(row)
            if on_epoch:
                on_epoch(loop.result.history)
            loop.epoch, loop.position = epoch + 1, 0
            run.checkpoint()
            if ranks.any(stop_requested()) and not loop.finished:
                raise TrainingInterrupted(interrupt_message(epoch, loop, run.run_folder, ranks))
    if progress:
        progress.end_run()
    return run.finish()
