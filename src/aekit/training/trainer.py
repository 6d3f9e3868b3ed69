"""The training loop's parts (``loop.fit`` runs them) and the state they share: the model and
its optimiser, the random streams, the data, the loop state and the best weights so far. Each
part is a unit: an epoch of steps (``train_epoch``), validation with best-weights selection
and early stopping (``end_epoch``, ``decide_stop``), learning-rate drops at a stall
(``drop_lr``), checkpointing (``checkpoint``; packing and restoring the loop state is
``loop_state``).
"""

from __future__ import annotations

import bisect
import math
import time

import torch

from ..runs.folder import write_checkpoint
from .checkpoints import Checkpoint
from .compiling import compiled
from .failures import (
    TrainingError,
    TrainingInterrupted,
    bad_state_message,
    interrupt_message,
    nonfinite_message,
)
from .loop_state import LoopState, RunningSums, TrainResult, pack, restore
from .precision import autocast
from .progress import Progress
from .steps import (
    batch_starts,
    check_batch_fits,
    finite_step,
    loss_sum,
    make_optimizer,
    resolve_device,
    set_lr,
    state_is_finite,
)


class Trainer:
    """The loop's parts and the state they share: the model and its optimiser, the random
    streams, the data, the loop state and the best weights so far."""

    def __init__(
        self, model, train_x, val_x, config, corrupt, checkpoint_dir, checkpoint_meta, ranks,
        run_folder=None,
    ):  # fmt: skip
        self.ranks = ranks
        self.device = device = resolve_device(config.device)
        # validation and inference stay fp32: model selection compares exact losses
        self.mixed_precision = autocast(config.precision, device)
        self.model = model.to(device)
        # the training step's loss: DDP around the model on several processes
        self.step_loss = compiled(ranks.training_step(self.model), config.compile)
        self.train_x = train_x.to(device)
        self.val_x = val_x.to(device) if val_x is not None else None
        self.config, self.corrupt = config, corrupt
        self.checkpoint_dir, self.checkpoint_meta = checkpoint_dir, checkpoint_meta
        # the folder messages tell to resume: the run's, where its checkpoints may go elsewhere
        self.run_folder = run_folder if run_folder is not None else checkpoint_dir
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
        self.start_epoch(progress)
        # the step's objects as locals: attribute lookups in the step cost measurable time
        loop, config, optimizer, ranks = self.loop, self.config, self.optimizer, self.ranks
        train_x, starts, n, buffers = self.train_x, self.starts, self.n, self.buffers
        step_loss, part, order, sums = self.step_loss, ranks.part, self.order, self.sums
        corrupt, noise_generator = self.corrupt, self.noise_generator
        mixed_precision, parameters = self.mixed_precision, self.parameters
        total_steps, steps_per_epoch, epoch = self.total_steps, len(starts), loop.epoch
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
                raise TrainingInterrupted(interrupt_message(epoch, loop, self.run_folder, ranks))
            if config.checkpoint_every and loop.step % config.checkpoint_every == 0:
                self.checkpoint()
            if config.time_limit is not None and elapsed >= config.time_limit:
                return True
        return False

    def start_epoch(self, progress: Progress | None) -> None:
        """The epoch's clock, and (at its first step) its sample order and fresh loss sums."""
        loop = self.loop
        self.epoch_start = time.perf_counter()
        self.epoch_seconds_before = loop.epoch_seconds if loop.position > 0 else 0.0
        if loop.position == 0:
            self.order = self.epoch_order(loop.epoch)
            self.sums = RunningSums()
            loop.seen = self.counted = 0
        if progress:
            progress.start_epoch(loop.epoch, self.config.epochs, len(self.starts))

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
            raise TrainingError(nonfinite_message(loop.epoch, loop, config, self.run_folder))

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
            raise TrainingError(bad_state_message(self.loop, self.config, self.run_folder))

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
