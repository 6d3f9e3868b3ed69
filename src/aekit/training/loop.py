"""The one training loop. It only calls ``model.loss(batch) -> (loss, logs)`` (on several
processes, through DistributedDataParallel: ``aekit.training.distributed``).

It owns the optimiser, the learning-rate schedule, shuffling, validation, early stopping, the
time limit, the history, checkpoints and interrupts; the CLI, the Python API and the estimator
all come through here. ``fit`` reads as the loop; ``_Trainer`` holds its parts, each a unit:
an epoch of steps (``train_epoch``), validation with best-weights selection and early
stopping (``end_epoch``), checkpointing (``checkpoint``; packing and restoring the loop state
is ``aekit.training.loop_state``).
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from ..errors import AekitError
from ..nn.noise import Corruption
from ..options.train_config import TrainConfig
from ..runs.folder import write_checkpoint
from .checkpoints import Checkpoint
from .distributed import SINGLE, Ranks
from .loop_state import LoopState, RunningSums, TrainResult, finished_reason, pack, restore
from .precision import autocast
from .progress import Progress
from .steps import (
    batch_starts,
    check_batch_fits,
    evaluate_loss,
    finite_step,
    loss_sum,
    make_optimizer,
    resolve_device,
    set_lr,
    state_is_finite,
)
from .stop_signals import stop_requests

__all__ = [
    "TrainResult",
    "TrainingError",
    "evaluate_loss",
    "finished_reason",
    "fit",
    "resolve_device",
]


class TrainingError(AekitError):
    """Training cannot go on (for example the loss became NaN)."""


class TrainingInterrupted(AekitError):
    """SIGINT or SIGTERM arrived; the step finished and a checkpoint was written."""


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
) -> TrainResult:
    """Train ``model`` in place on ``train_x`` (n, ...) float32, already scaled: a tensor, or a
    file's rows read as the loop goes (``aekit.data.shuffled_chunks.StreamedRows``).

    With ``val_x``, the weights of the epoch with the lowest validation loss are restored at the
    end (model selection), and early stopping watches the same number: after ``patience``
    epochs without a better one, the learning rate drops (``lr_drops`` times, each from the
    best weights; the row of that epoch gets "lr_drop": how many so far), then the run stops.
    Without it, the last weights are kept. ``on_epoch`` gets the history after every epoch (to
    save metrics).
    With ``checkpoint_dir``, a checkpoint is written there after every epoch, every
    ``config.checkpoint_every`` steps, on SIGINT/SIGTERM and before a non-finite stop;
    ``checkpoint_meta`` is stored in it as is. ``resume`` continues from such a checkpoint.
    With ``corrupt`` (a denoising autoencoder), each batch is corrupted afresh and the model
    learns to reconstruct the clean batch; the corruption's generator is seeded from
    ``config.seed`` and checkpointed. Validation then scores corrupted validation inputs
    against clean targets, with the same corruption every epoch (a fixed seed), so the
    numbers stay comparable from epoch to epoch.
    With ``ranks`` of a process group (``aekit.training.distributed``), every process calls ``fit`` with
    the same data and options; each trains on its share of every batch through DDP, and they
    agree on every decision. Process 0 alone writes checkpoints; give ``on_epoch`` to it alone.
    """
    if config.lr is None or config.batch_size is None:
        raise ValueError("fit needs a config with lr and batch_size set (aekit.train fills them)")
    run = _Trainer(model, train_x, val_x, config, corrupt, checkpoint_dir, checkpoint_meta, ranks)
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
                raise TrainingInterrupted(_interrupt_message(epoch, loop, checkpoint_dir, ranks))
    if progress:
        progress.end_run()
    return run.finish()


class _Trainer:
    """The loop's parts and the state they share: the model and its optimiser, the random
    streams, the data, the loop state and the best weights so far."""

    def __init__(
        self, model, train_x, val_x, config, corrupt, checkpoint_dir, checkpoint_meta, ranks
    ):
        self.ranks = ranks
        self.device = device = resolve_device(config.device)
        # validation and inference stay fp32: model selection compares exact losses
        self.mixed_precision = autocast(config.precision, device)
        self.model = model.to(device)
        # the training step's loss: DDP around the model on several processes
        self.step_loss = ranks.training_step(self.model)
        self.train_x = train_x.to(device)
        self.val_x = val_x.to(device) if val_x is not None else None
        self.config, self.corrupt = config, corrupt
        self.checkpoint_dir, self.checkpoint_meta = checkpoint_dir, checkpoint_meta
        self.generator = torch.Generator().manual_seed(config.seed)
        # its own stream, so adding noise leaves the shuffling order of the same seed unchanged
        self.noise_generator = (
            torch.Generator(device=device).manual_seed(config.seed + 1) if corrupt else None
        )
        self.optimizer = make_optimizer(model, config)
        self.parameters = [p for p in model.parameters() if p.requires_grad]
        self.n = n = len(self.train_x)
        ranks.check_enough_samples(n, model)
        batch = min(config.batch_size, n)
        check_batch_fits(model, batch // ranks.size, ranks.size)
        self.starts = batch_starts(n, batch, ranks.smallest_batch(model))
        self.total_steps = len(self.starts) * config.epochs
        # only when bad batches may be skipped: a skipped batch must not move them (BatchNorm
        # statistics, a VAE's warm-up counter), so they are copied before each step
        self.buffers = list(model.buffers()) if config.skip_nonfinite > 0 else []
        self.loop = LoopState()
        self.best_state: dict[str, torch.Tensor] | None = None
        self.order = torch.empty(0, dtype=torch.long)
        self.sums = RunningSums()
        self.counted = 0  # samples in this process's sums (all of them on one process)
        self.epoch_start = self.epoch_seconds_before = 0.0

    def restore(self, checkpoint: Checkpoint) -> None:
        """Continue from ``checkpoint`` (``loop_state.restore``)."""
        self.loop, self.best_state, self.order, self.sums = restore(
            checkpoint, self.model, self.optimizer, self.generator, self.device, self.n, self.ranks
        )
        loop, config = self.loop, self.config
        # the checkpoint's sums are all processes' (see checkpoint): process 0 carries them on
        self.counted = loop.seen
        if not self.ranks.is_lead:
            self.sums, self.counted = self.sums.zeroed(), 0
        if loop.finished and loop.result.stop_reason == "time_limit":
            # resumed with a larger time limit (else the caller checks finished_reason first)
            loop.finished = config.time_limit is not None and loop.elapsed >= config.time_limit
            loop.result.stop_reason = "time_limit" if loop.finished else "epochs"
        stopped_early = loop.finished and loop.result.stop_reason == "early_stopping"
        if stopped_early and loop.lr_drops_done < config.lr_drops:
            # resumed with a larger lr_drops: the stall that stopped it drops the rate instead,
            # as it would have in a run started with that lr_drops
            loop.finished, loop.result.stop_reason = False, "epochs"
            self.drop_lr()
        if self.noise_generator is not None and "rng.noise" in checkpoint.tensors:
            try:
                self.noise_generator.set_state(checkpoint.tensors["rng.noise"])
            except (RuntimeError, TypeError) as exc:
                raise checkpoint.error(
                    f"tensor 'rng.noise' is not a generator state: {exc}"
                ) from None

    def start_clock(self) -> None:
        self.start, self.elapsed_before = time.perf_counter(), self.loop.elapsed

    def elapsed(self) -> float:
        """Training seconds of the whole run, earlier sessions included."""
        return self.elapsed_before + time.perf_counter() - self.start

    def count_start_as_epoch_zero(self) -> None:
        """The untrained network is epoch 0's candidate: started at PCA, it is never bettered
        by a worse epoch, so the model ends no worse than PCA on validation data."""
        self.loop.result.best_val_loss = self.validation_loss()
        self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def validation_loss(self) -> float:
        """The mean loss over the validation data; each process scores its part of it."""
        ranks = self.ranks
        total, count = loss_sum(
            self.model, self.val_x, corrupt=self.corrupt, seed=self.config.seed, rows=ranks.part
        )
        total, count = ranks.sum(torch.tensor([total, count], dtype=torch.float64)).tolist()
        return total / count

    def total_sums(self) -> RunningSums:
        """The epoch's loss sums over every process's samples."""
        if self.sums.values is None:
            return self.sums
        return RunningSums(self.sums.keys, self.ranks.sum(self.sums.values))

    def follow_lead_buffers(self) -> None:
        """Batch-norm statistics as process 0 has them, as DDP sets them at every training
        step: all processes then validate and checkpoint the same model."""
        self.ranks.broadcast(self.model.buffers())

    def train_epoch(self, progress: Progress | None, stop_requested) -> bool:
        """The steps of ``loop.epoch`` from ``loop.position`` on; True when the time limit cut
        it short."""
        loop, config, optimizer, ranks = self.loop, self.config, self.optimizer, self.ranks
        train_x, starts, n, buffers = self.train_x, self.starts, self.n, self.buffers
        step_loss, part = self.step_loss, ranks.part
        corrupt, noise_generator = self.corrupt, self.noise_generator
        mixed_precision, parameters, total_steps = (
            self.mixed_precision,
            self.parameters,
            self.total_steps,
        )
        steps_per_epoch = len(starts)
        epoch = loop.epoch
        self.epoch_start = time.perf_counter()
        self.epoch_seconds_before = loop.epoch_seconds if loop.position > 0 else 0.0
        if loop.position == 0:
            self.order = self.epoch_order(epoch)
            self.sums = RunningSums()
            loop.seen = self.counted = 0
        order, sums = self.order, self.sums
        if progress:
            progress.start_epoch(epoch, config.epochs, steps_per_epoch)
        for number in range(bisect.bisect_left(starts, loop.position), steps_per_epoch):
            begin = starts[number]
            end = starts[number + 1] if number + 1 < steps_per_epoch else n
            index = order[begin:end]  # the whole batch, of all processes
            loop.position = end
            saved_buffers = [b.clone() for b in buffers]
            if corrupt:  # the whole batch's draws, as one process makes them, then our rows
                x = train_x[index]
                noisy, x = corrupt(x, noise_generator)[part], x[part]
            else:
                x = noisy = train_x[index[part]]
            with mixed_precision:
                loss, logs = step_loss(noisy, target=x)
            weight = ranks.weight(len(x), len(index))
            optimizer.zero_grad(set_to_none=True)
            (loss * weight if weight != 1 else loss).backward()
            finite, stop, elapsed = ranks.agree(
                finite_step(loss, parameters, config), stop_requested(), self.elapsed()
            )
            set_lr(optimizer, config, loop.step, total_steps, elapsed, loop.lr_drops_done)
            if not finite:
                self.skip_batch(saved_buffers, begin)
                continue
            optimizer.step()
            loop.step += 1
            sums.add(loss, logs, len(x))
            self.counted += len(x)
            loop.seen += len(index)
            if progress:
                progress.step(number + 1, loop.seen, sums.values[0], self.counted)
            if stop:
                self.checkpoint()
                raise TrainingInterrupted(
                    _interrupt_message(epoch, loop, self.checkpoint_dir, ranks)
                )
            if config.checkpoint_every and loop.step % config.checkpoint_every == 0:
                self.checkpoint()
            if config.time_limit is not None and elapsed >= config.time_limit:
                return True
        return False

    def epoch_order(self, epoch: int) -> torch.Tensor:
        """The epoch's sample order: a permutation from the seeded generator, or a streamed
        file's own (chunks, then rows within them; seeded by the seed and the epoch)."""
        if isinstance(self.train_x, torch.Tensor):
            return torch.randperm(self.n, generator=self.generator).to(self.device)
        return self.train_x.epoch_order(epoch).to(self.device)

    def skip_batch(self, saved_buffers: list[torch.Tensor], begin: int) -> None:
        """Undo a non-finite batch's buffer updates; stop once too many were skipped."""
        loop, config = self.loop, self.config
        loop.skipped += 1
        for buffer, saved in zip(self.buffers, saved_buffers, strict=True):
            buffer.copy_(saved)
        if loop.skipped > config.skip_nonfinite:
            loop.position = begin  # the checkpoint is the state before this batch
            if state_is_finite(self.model, self.optimizer):  # else keep the last good one
                self.checkpoint()
            raise TrainingError(_nonfinite_message(loop.epoch, loop, config, self.checkpoint_dir))

    def end_epoch(self, out_of_time: bool) -> dict:
        """Validate, keep the best weights, and add the epoch's row to the history."""
        loop, result = self.loop, self.loop.result
        self.follow_lead_buffers()
        self.check_finite_state()  # a finite loss can come with a non-finite gradient
        train_seconds = time.perf_counter() - self.epoch_start + self.epoch_seconds_before
        means = self.total_sums().means(loop.seen)
        train_loss = means.pop("loss", math.nan)
        val_loss = self.validation_loss() if self.val_x is not None else None
        watched = val_loss if val_loss is not None else train_loss
        improved = result.best_val_loss is None or watched < result.best_val_loss
        if improved:
            result.best_val_loss, result.best_epoch = watched, loop.epoch
            loop.epochs_without_improvement = 0
            if self.val_x is not None:
                self.best_state = {
                    k: v.detach().clone() for k, v in self.model.state_dict().items()
                }
        else:
            loop.epochs_without_improvement += 1
        row = {
            "epoch": loop.epoch,
            "train_loss": train_loss,
            "val_loss": val_loss,
            "seconds": train_seconds,
            "samples_per_s": loop.seen / max(train_seconds, 1e-9),
            "lr": self.optimizer.param_groups[0]["lr"],
            "best": improved,
            "world_size": self.ranks.size,
            **{f"train_{key}": value for key, value in means.items()},
        }
        if out_of_time:
            row["partial"] = True
        result.history.append(row)
        return row

    def decide_stop(self, out_of_time: bool) -> None:
        """Finish the run at its time limit, or early when validation stopped improving and the
        learning rate has already dropped ``config.lr_drops`` times (else drop it now)."""
        loop, config = self.loop, self.config
        stopping_early = (
            config.early_stopping
            and self.val_x is not None
            and loop.epochs_without_improvement >= config.patience
        )
        if stopping_early and not out_of_time and loop.lr_drops_done < config.lr_drops:
            self.drop_lr()
            stopping_early = False
        if out_of_time:
            loop.result.stop_reason = "time_limit"
        elif stopping_early:
            loop.result.stop_reason = "early_stopping"
        loop.finished = out_of_time or stopping_early

    def drop_lr(self) -> None:
        """Validation stalled: go on from the best weights at a lower learning rate (the
        optimiser's moments stay; they are the recent gradients' scale, which still holds)."""
        loop = self.loop
        loop.lr_drops_done += 1
        loop.epochs_without_improvement = 0
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        loop.result.history[-1]["lr_drop"] = loop.lr_drops_done

    def check_finite_state(self) -> None:
        if not state_is_finite(self.model, self.optimizer):
            raise TrainingError(_bad_state_message(self.loop, self.config, self.checkpoint_dir))

    def checkpoint(self) -> None:
        """Write the whole loop state into the run folder, if there is one."""
        if self.checkpoint_dir is None:
            return
        self.follow_lead_buffers()
        self.check_finite_state()  # never write non-finite weights over the last good checkpoint
        rng_states = self.ranks.gather(torch.get_rng_state())
        sums = self.total_sums()
        if not self.ranks.is_lead:
            return
        loop = self.loop
        loop.elapsed = self.elapsed()
        loop.epoch_seconds = time.perf_counter() - self.epoch_start + self.epoch_seconds_before
        packed = pack(
            loop,
            self.model,
            self.optimizer,
            self.generator,
            self.best_state,
            self.order,
            sums,
            self.checkpoint_meta,
            rng_states,
        )
        if self.noise_generator is not None:
            packed.tensors["rng.noise"] = self.noise_generator.get_state()
        write_checkpoint(self.checkpoint_dir, packed)

    def finish(self) -> TrainResult:
        """The result, with the best weights loaded (with validation data)."""
        result = self.loop.result
        if self.val_x is None:
            result.best_val_loss = None
            result.best_epoch = len(result.history)
        elif self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        self.model.eval()
        return result


def _nonfinite_message(epoch: int, loop: LoopState, config: TrainConfig, folder) -> str:
    where = f"; the last good state is in {folder}" if folder is not None else ""
    return (
        f"the loss or its gradient became NaN or infinite in epoch {epoch}, step {loop.step + 1}"
        f" ({loop.skipped} non-finite batch(es), {config.skip_nonfinite} allowed){where}. "
        f"Try a lower learning rate (now {config.lr}), --clip-grad, or --skip-nonfinite N"
    )


def _bad_state_message(loop: LoopState, config: TrainConfig, folder) -> str:
    where = f"; the last good checkpoint in {folder} is kept" if folder is not None else ""
    return (
        f"the weights became NaN or infinite in epoch {loop.epoch}, at or before step "
        f"{loop.step} (a non-finite gradient with a finite loss){where}. Try a lower learning "
        f"rate (now {config.lr}), --clip-grad, or --skip-nonfinite N"
    )


def _interrupt_message(epoch: int, loop: LoopState, folder, ranks: Ranks) -> str:
    command = f"aekit train --resume {folder}"
    if ranks.size > 1:
        command = f"torchrun ... -m {command} on {ranks.size} processes in all, as now"
    return (
        f"training interrupted in epoch {epoch} after step {loop.step}; the checkpoint is in "
        f"{folder}. Resume with: {command}"
    )
