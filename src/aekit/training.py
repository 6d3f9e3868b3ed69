"""The one training loop. It only calls ``model.loss(batch) -> (loss, logs)``.

It owns the optimiser, the learning-rate schedule, shuffling, validation, early stopping, the
time limit, the history, checkpoints and interrupts; the CLI, the Python API and the estimator
all come through here. A checkpoint holds the whole loop state (weights, optimiser, random
number generators, the epoch's sample order and position), so a resumed run ends with exactly
the weights the uninterrupted run would have had.
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn

from .checkpoints import (
    Checkpoint,
    check_tensors,
    expected_optimizer_tensors,
    pack_optimizer,
    prefixed,
    unpack_optimizer,
    unprefixed,
)
from .config import TrainConfig
from .errors import AekitError, ConfigError
from .noise import Corruption
from .precision import autocast
from .progress import Progress
from .run_schema import COUNT, NUMBER, Field, check_fields
from .runs import write_checkpoint
from .stop_signals import stop_requests

VALIDATION_BATCH = 1024


class TrainingError(AekitError):
    """Training cannot go on (for example the loss became NaN)."""


class TrainingInterrupted(AekitError):
    """SIGINT or SIGTERM arrived; the step finished and a checkpoint was written."""


@dataclass
class TrainResult:
    history: list[dict] = field(default_factory=list)  # one row per epoch
    best_epoch: int = 0
    best_val_loss: float | None = None
    stop_reason: str = "epochs"  # "epochs", "early_stopping" or "time_limit"


@dataclass
class _LoopState:
    """Where the loop is; all of it goes into a checkpoint."""

    epoch: int = 1
    position: int = 0  # index in this epoch's order of the next batch
    step: int = 0  # optimiser steps taken
    seen: int = 0  # samples trained on in this epoch
    epoch_seconds: float = 0.0  # training seconds of this epoch before the last resume
    elapsed: float = 0.0  # training seconds of the run before the last resume
    skipped: int = 0  # non-finite batches skipped
    epochs_without_improvement: int = 0
    finished: bool = False
    result: TrainResult = field(default_factory=TrainResult)


# What a checkpoint's "loop" metadata must hold: _LoopState's fields and TrainResult's.
_SECONDS = Field("a finite number >= 0", lambda v: NUMBER.ok(v) and v >= 0)
LOOP_FIELDS = {
    "epoch": Field("an integer >= 1", lambda v: COUNT.ok(v) and v >= 1),
    "position": COUNT,
    "step": COUNT,
    "seen": COUNT,
    "epoch_seconds": _SECONDS,
    "elapsed": _SECONDS,
    "skipped": COUNT,
    "epochs_without_improvement": COUNT,
    "finished": Field("true or false", lambda v: isinstance(v, bool)),
    "result": Field("a JSON object", lambda v: isinstance(v, dict)),
}
RESULT_FIELDS = {
    "history": Field(
        "a list of JSON objects",
        lambda v: isinstance(v, list) and all(isinstance(row, dict) for row in v),
    ),
    "best_epoch": COUNT,
    "best_val_loss": Field("null or a finite number", lambda v: v is None or NUMBER.ok(v)),
    "stop_reason": Field(
        "one of 'epochs', 'early_stopping', 'time_limit'",
        lambda v: v in ("epochs", "early_stopping", "time_limit"),
    ),
}


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise AekitError(
            "device 'cuda' was asked for, but PyTorch sees no CUDA GPU; use --device cpu"
        )
    return torch.device(name)


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
) -> TrainResult:
    """Train ``model`` in place on ``train_x`` (n, ...) float32, already scaled.

    With ``val_x``, the weights of the epoch with the lowest validation loss are restored at the
    end (model selection), and early stopping watches the same number. Without it, the last
    weights are kept. ``on_epoch`` gets the history after every epoch (to save metrics).
    With ``checkpoint_dir``, a checkpoint is written there after every epoch, every
    ``config.checkpoint_every`` steps, on SIGINT/SIGTERM and before a non-finite stop;
    ``checkpoint_meta`` is stored in it as is. ``resume`` continues from such a checkpoint.
    With ``corrupt`` (a denoising autoencoder), each batch is corrupted afresh and the model
    learns to reconstruct the clean batch; the corruption's generator is seeded from
    ``config.seed`` and checkpointed. Validation then scores corrupted validation inputs
    against clean targets, with the same corruption every epoch (a fixed seed), so the
    numbers stay comparable from epoch to epoch.
    """
    if config.lr is None or config.batch_size is None:
        raise ValueError("fit needs a config with lr and batch_size set (aekit.train fills them)")
    device = resolve_device(config.device)
    # validation and inference stay fp32: model selection compares exact losses
    mixed_precision = autocast(config.precision, device)
    model.to(device)
    train_x = train_x.to(device)
    val_x = val_x.to(device) if val_x is not None else None
    generator = torch.Generator().manual_seed(config.seed)
    # its own stream, so adding noise leaves the shuffling order of the same seed unchanged
    noise_generator = (
        torch.Generator(device=device).manual_seed(config.seed + 1) if corrupt else None
    )
    optimizer = _make_optimizer(model, config)
    parameters = [p for p in model.parameters() if p.requires_grad]
    n = train_x.shape[0]
    batch = min(config.batch_size, n)
    _check_batch_fits(model, batch)
    starts = batch_starts(n, batch)
    steps_per_epoch = len(starts)
    total_steps = steps_per_epoch * config.epochs

    loop = _LoopState()
    best_state: dict[str, torch.Tensor] | None = None
    order = torch.empty(0, dtype=torch.long)
    sums = _RunningSums()
    if resume is not None:
        loop, best_state, order, sums = _restore(resume, model, optimizer, generator, device, n)
        if loop.finished and loop.result.stop_reason == "time_limit":
            # resumed with a larger time limit (else the caller checks finished_reason first)
            loop.finished = config.time_limit is not None and loop.elapsed >= config.time_limit
            loop.result.stop_reason = "time_limit" if loop.finished else "epochs"
        if noise_generator is not None and "rng.noise" in resume.tensors:
            try:
                noise_generator.set_state(resume.tensors["rng.noise"])
            except (RuntimeError, TypeError) as exc:
                raise resume.error(f"tensor 'rng.noise' is not a generator state: {exc}") from None

    # only when bad batches may be skipped: a skipped batch must not move them (BatchNorm
    # statistics, a VAE's warm-up counter), so they are copied before each step
    buffers = list(model.buffers()) if config.skip_nonfinite > 0 else []

    def check_finite_state() -> None:
        if not _state_is_finite(model, optimizer):
            raise TrainingError(_bad_state_message(loop, config, checkpoint_dir))

    def checkpoint() -> None:
        if checkpoint_dir is None:
            return
        check_finite_state()  # never write non-finite weights over the last good checkpoint
        loop.elapsed = elapsed()
        loop.epoch_seconds = time.perf_counter() - epoch_start + epoch_seconds_before
        packed = _pack(loop, model, optimizer, generator, best_state, order, sums, checkpoint_meta)
        if noise_generator is not None:
            packed.tensors["rng.noise"] = noise_generator.get_state()
        write_checkpoint(checkpoint_dir, packed)

    start = time.perf_counter()
    elapsed_before = loop.elapsed

    def elapsed() -> float:
        return elapsed_before + time.perf_counter() - start

    result = loop.result
    if val_x is not None and resume is None and getattr(model, "starts_at_baseline", False):
        # the untrained network is epoch 0's candidate: started at PCA, it is never bettered
        # by a worse epoch, so the model ends no worse than PCA on validation data
        result.best_val_loss = evaluate_loss(model, val_x, corrupt=corrupt, seed=config.seed)
        best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    model.train()
    with stop_requests(enabled=checkpoint_dir is not None) as stop_requested:
        while not loop.finished and loop.epoch <= config.epochs:
            epoch = loop.epoch
            epoch_start = time.perf_counter()
            epoch_seconds_before = loop.epoch_seconds if loop.position > 0 else 0.0
            if loop.position == 0:
                order = torch.randperm(n, generator=generator).to(device)
                sums = _RunningSums()
                loop.seen = 0
            if progress:
                progress.start_epoch(epoch, config.epochs, steps_per_epoch)
            out_of_time = False
            for number in range(bisect.bisect_left(starts, loop.position), steps_per_epoch):
                begin = starts[number]
                end = starts[number + 1] if number + 1 < steps_per_epoch else n
                index = order[begin:end]
                loop.position = end
                _set_lr(optimizer, config, loop.step, total_steps, elapsed())
                saved_buffers = [b.clone() for b in buffers]
                x = train_x[index]
                with mixed_precision:
                    loss, logs = model.loss(corrupt(x, noise_generator) if corrupt else x, target=x)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if not _finite_step(loss, parameters, config):
                    loop.skipped += 1
                    for buffer, saved in zip(buffers, saved_buffers, strict=True):
                        buffer.copy_(saved)
                    if loop.skipped > config.skip_nonfinite:
                        loop.position = begin  # the checkpoint is the state before this batch
                        if _state_is_finite(model, optimizer):  # else keep the last good one
                            checkpoint()
                        raise TrainingError(_nonfinite_message(epoch, loop, config, checkpoint_dir))
                    continue
                optimizer.step()
                loop.step += 1
                sums.add(loss, logs, len(index))
                loop.seen += len(index)
                if progress:
                    progress.step(number + 1, loop.seen, sums.values[0])
                if stop_requested():
                    checkpoint()
                    raise TrainingInterrupted(_interrupt_message(epoch, loop, checkpoint_dir))
                if config.checkpoint_every and loop.step % config.checkpoint_every == 0:
                    checkpoint()
                if config.time_limit is not None and elapsed() >= config.time_limit:
                    out_of_time = True
                    break
            check_finite_state()  # a finite loss can come with a non-finite gradient
            train_seconds = time.perf_counter() - epoch_start + epoch_seconds_before
            means = sums.means(loop.seen)
            train_loss = means.pop("loss", math.nan)
            val_loss = (
                evaluate_loss(model, val_x, corrupt=corrupt, seed=config.seed)
                if val_x is not None
                else None
            )
            watched = val_loss if val_loss is not None else train_loss
            improved = result.best_val_loss is None or watched < result.best_val_loss
            if improved:
                result.best_val_loss, result.best_epoch = watched, epoch
                loop.epochs_without_improvement = 0
                if val_x is not None:
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                loop.epochs_without_improvement += 1
            row = {
                "epoch": epoch,
                "train_loss": train_loss,
                "val_loss": val_loss,
                "seconds": train_seconds,
                "samples_per_s": loop.seen / max(train_seconds, 1e-9),
                "lr": optimizer.param_groups[0]["lr"],
                "best": improved,
                **{f"train_{key}": value for key, value in means.items()},
            }
            if out_of_time:
                row["partial"] = True
            result.history.append(row)
            if progress:
                progress.end_epoch(row)
            if on_epoch:
                on_epoch(result.history)
            stopping_early = (
                config.early_stopping
                and val_x is not None
                and loop.epochs_without_improvement >= config.patience
            )
            if out_of_time:
                result.stop_reason = "time_limit"
            elif stopping_early:
                result.stop_reason = "early_stopping"
            loop.finished = out_of_time or stopping_early
            loop.epoch, loop.position = epoch + 1, 0
            checkpoint()
            if stop_requested() and not loop.finished:
                raise TrainingInterrupted(_interrupt_message(epoch, loop, checkpoint_dir))
    if val_x is None:
        result.best_val_loss = None
        result.best_epoch = len(result.history)
    elif best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return result


def finished_reason(checkpoint: Checkpoint, config: TrainConfig) -> str | None:
    """Why the run of ``checkpoint`` has nothing left to train under ``config``, the options it
    is resumed with; None when it has.

    A run stopped by its time limit goes on when resumed with a larger limit (or none): the
    limit is the run's whole training time, so the time already spent counts against it, and
    the learning-rate schedule, which follows the larger of the fractions of steps and of time
    done, is stretched over the longer run. A run that trained all its epochs goes on when
    resumed with more epochs; an early-stopped run stays stopped.
    """
    loop = _check_loop_meta(checkpoint)
    result = loop["result"]
    if loop["finished"] and result["stop_reason"] == "early_stopping":
        return (
            f"the run stopped early after epoch {len(result['history'])} (best epoch "
            f"{result['best_epoch']}): its validation loss had stopped improving, so there is "
            "nothing to resume"
        )
    if loop["finished"] and result["stop_reason"] == "time_limit":
        if config.time_limit is None or loop["elapsed"] < config.time_limit:
            return None
        return (
            f"the run has used its time limit ({loop['elapsed']:.1f} s of training); resume "
            "with a larger --time-limit (time_limit=) to train longer: the limit counts the "
            "time already spent"
        )
    if loop["epoch"] > config.epochs:
        return (
            f"the run has trained all its {config.epochs} epochs; resume with more --epochs "
            "(epochs=) to train longer"
        )
    return None


@torch.no_grad()
def evaluate_loss(
    model: nn.Module, x: torch.Tensor, *, corrupt: Corruption | None = None, seed: int = 0
) -> float:
    """Mean per-sample loss over ``x`` in eval mode (dropout off, batch-norm statistics frozen).

    With ``corrupt``: of corrupted inputs against the clean ``x``, drawn from a generator seeded
    with ``seed`` afresh on every call, so every call sees the same corruption.
    """
    was_training = model.training
    model.eval()
    total = 0.0
    noise_generator = torch.Generator(device=x.device).manual_seed(seed) if corrupt else None
    for begin in range(0, x.shape[0], VALIDATION_BATCH):
        chunk = x[begin : begin + VALIDATION_BATCH]
        noisy = corrupt(chunk, noise_generator) if corrupt else chunk
        loss, _ = model.loss(noisy, target=chunk)
        total += loss.item() * chunk.shape[0]
    model.train(was_training)
    return total / x.shape[0]


def _finite_step(loss: torch.Tensor, parameters: list[torch.Tensor], config: TrainConfig) -> bool:
    """Clip gradients if asked; True when the step is safe to take.

    The gradient norm is computed where it is needed anyway (clipping) or where bad batches are
    to be skipped. Otherwise only the loss is checked: the norm costs about 1.5% of a small
    step, and a non-finite gradient makes the weights non-finite, which the next step's loss
    shows; training then stops there without overwriting the last good checkpoint.
    """
    if config.clip_grad is not None:
        norm = torch.nn.utils.clip_grad_norm_(parameters, config.clip_grad)
    elif config.skip_nonfinite > 0:
        norm = torch.nn.utils.get_total_norm([p.grad for p in parameters if p.grad is not None])
    else:
        return bool(torch.isfinite(loss.detach()))
    return bool(torch.isfinite(loss.detach() + norm))


def batch_starts(n: int, batch: int) -> list[int]:
    """Where each batch of an epoch of ``n`` samples begins; a batch ends where the next begins.

    A lone last sample joins the batch before it (a batch of 1 breaks batch norm and gives a
    noisy step), so that it is still trained on; ``batch`` 1 itself is left as asked.
    """
    starts = list(range(0, n, batch))
    if batch > 1 and len(starts) > 1 and n - starts[-1] == 1:
        starts.pop()
    return starts


def _check_batch_fits(model: nn.Module, batch: int) -> None:
    """Batch norm over vectors normalises each feature over the batch: one sample has no spread,
    and PyTorch refuses to train it. Said before training instead of at the first step."""
    if batch == 1 and any(isinstance(m, nn.BatchNorm1d) for m in model.modules()):
        raise ConfigError(
            "batch norm over vectors (norm='batch' with the MLP backbone) needs at least 2 "
            "samples per batch, but every batch holds 1 (batch_size=1 or a single training "
            "sample); use a larger batch_size, or norm='layer' or 'none'"
        )


def _state_is_finite(model: nn.Module, optimizer: torch.optim.Optimizer) -> bool:
    """True when the weights, buffers and optimiser moments are all finite (one sync a device:
    on a GPU, Adam keeps its step counts on the CPU)."""
    tensors = [t for t in model.state_dict().values() if t.is_floating_point()]
    for state in optimizer.state.values():
        tensors += [v for v in state.values() if torch.is_tensor(v) and v.is_floating_point()]
    flags: dict[torch.device, list[torch.Tensor]] = {}
    for tensor in tensors:
        flags.setdefault(tensor.device, []).append(torch.isfinite(tensor).all())
    return all(bool(torch.stack(found).all()) for found in flags.values())


def _make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    kind = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    # foreach: one fused update over all parameters; PyTorch enables it by default only on GPUs,
    # but on CPUs it saves a Python-level loop over the parameters every step.
    return kind(model.parameters(), lr=config.lr, weight_decay=config.weight_decay, foreach=True)


def _set_lr(optimizer, config: TrainConfig, step: int, total_steps: int, elapsed: float) -> None:
    """Cosine decay from ``lr`` to 0 over the run.

    With a time limit the run's length is not known in steps, so progress is whichever is
    further along: steps taken or time spent (that makes time-limited runs depend on speed).
    """
    if config.schedule == "constant":
        return
    done = step / total_steps
    if config.time_limit is not None:
        done = max(done, elapsed / config.time_limit)
    lr = config.lr * 0.5 * (1.0 + math.cos(math.pi * min(done, 1.0)))
    for group in optimizer.param_groups:
        group["lr"] = lr


class _RunningSums:
    """The epoch's sample-weighted loss and logged terms in one tensor: one add per step, no sync.

    ``keys`` name the entries: "loss" first, then the model's logs in the order it gives them.
    """

    def __init__(self, keys: list[str] | None = None, values: torch.Tensor | None = None):
        self.keys = keys or []
        self.values = values

    def add(self, loss: torch.Tensor, logs: dict[str, torch.Tensor], n: int) -> None:
        if self.values is None:
            self.keys = ["loss", *logs]
        stacked = torch.stack([loss.detach(), *(logs[k].detach() for k in self.keys[1:])]).float()
        if self.values is None:
            self.values = torch.zeros_like(stacked)
        self.values.add_(stacked, alpha=n)

    def means(self, seen: int) -> dict[str, float]:
        if self.values is None:
            return {}
        return {k: v / max(seen, 1) for k, v in zip(self.keys, self.values.tolist(), strict=True)}

    def to_tensors(self) -> dict[str, torch.Tensor]:
        return (
            {} if self.values is None else dict(zip(self.keys, self.values.unbind(), strict=True))
        )

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor], device) -> _RunningSums:
        if not tensors:
            return cls()
        keys = sorted(
            tensors, key=lambda k: k != "loss"
        )  # "loss" first; add() looks logs up by key
        return cls(keys, torch.stack([tensors[k] for k in keys]).to(device))


def _pack(loop, model, optimizer, generator, best_state, order, sums, meta) -> Checkpoint:
    optim_tensors, optim_meta = pack_optimizer(optimizer)
    tensors = {
        **prefixed("model", model.state_dict()),
        **optim_tensors,
        "rng.torch": torch.get_rng_state(),
        "rng.shuffle": generator.get_state(),
        "loop.order": order.cpu(),
        **prefixed("loop.sums", sums.to_tensors()),
    }
    if best_state is not None:
        tensors.update(prefixed("best", best_state))
    state = asdict(loop)
    return Checkpoint(tensors=tensors, meta={"loop": state, **optim_meta, **(meta or {})})


def _restore(checkpoint: Checkpoint, model, optimizer, generator, device, n: int):
    """The loop state, best weights, sample order and running sums of ``checkpoint``, with the
    model, optimiser and generators set from it; ModelFileError if it does not fit them."""
    loop = _checked_loop_state(checkpoint, n)
    _check_loop_tensors(checkpoint, model, optimizer, generator, loop, n)
    tensors = checkpoint.tensors
    try:
        model.load_state_dict(unprefixed("model", tensors))
        unpack_optimizer(optimizer, checkpoint)
        torch.set_rng_state(tensors["rng.torch"])
        generator.set_state(tensors["rng.shuffle"])
    except (RuntimeError, ValueError, KeyError, TypeError) as exc:
        raise checkpoint.error(f"cannot be restored: {exc}") from None
    best = unprefixed("best", tensors) or None
    if best is not None:
        best = {k: v.to(device) for k, v in best.items()}
    sums = _RunningSums.from_tensors(unprefixed("loop.sums", tensors), device)
    return loop, best, tensors["loop.order"].to(device), sums


def _check_loop_meta(checkpoint: Checkpoint) -> dict:
    """The checkpoint's "loop" metadata, checked against LOOP_FIELDS and RESULT_FIELDS."""
    saved = checkpoint.meta["loop"]
    path = checkpoint.path or "the checkpoint"
    check_fields(saved, LOOP_FIELDS, "loop", path)
    check_fields(saved["result"], RESULT_FIELDS, "loop.result", path)
    return saved


def _checked_loop_state(checkpoint: Checkpoint, n: int) -> _LoopState:
    saved = _check_loop_meta(checkpoint)
    if saved["position"] > n:
        raise checkpoint.error(
            f"loop.position must be at most {n}, the number of training samples, "
            f"got {saved['position']}"
        )
    return _LoopState(**{**saved, "result": TrainResult(**saved["result"])})


def _check_loop_tensors(checkpoint, model, optimizer, generator, loop: _LoopState, n: int):
    """Names, shapes and dtypes of every tensor; the sample order must be one of the n samples."""
    state = model.state_dict()
    expected = {
        **prefixed("model", state),
        **prefixed("best", state),
        **expected_optimizer_tensors(optimizer),
        "rng.torch": torch.get_rng_state(),
        "rng.shuffle": generator.get_state(),
    }
    tensors = checkpoint.tensors
    for name in ("rng.noise", "loop.order", *(k for k in tensors if k.startswith("loop.sums."))):
        if name in tensors:  # their shapes vary; checked below
            expected[name] = tensors[name]
    optional = ("best.", *(f"optim.{i}." for i in range(len(list(model.parameters())))))
    check_tensors(checkpoint, expected, optional)
    order = tensors.get("loop.order")
    if order is None or order.dtype != torch.int64 or order.shape not in ((0,), (n,)):
        raise checkpoint.error(f"tensor 'loop.order' must be {n} int64 sample indices")
    if loop.position > 0 and not torch.equal(order.sort().values, torch.arange(n)):
        raise checkpoint.error(f"tensor 'loop.order' must be an order of the {n} samples")
    for name, value in unprefixed("loop.sums", tensors).items():
        if value.shape != () or value.dtype != torch.float32:
            raise checkpoint.error(f"tensor 'loop.sums.{name}' must be a float32 scalar")
    if "rng.noise" in tensors and tensors["rng.noise"].dtype != torch.uint8:
        raise checkpoint.error("tensor 'rng.noise' must be a uint8 generator state")


def _nonfinite_message(epoch: int, loop: _LoopState, config: TrainConfig, folder) -> str:
    where = f"; the last good state is in {folder}" if folder is not None else ""
    return (
        f"the loss or its gradient became NaN or infinite in epoch {epoch}, step {loop.step + 1}"
        f" ({loop.skipped} non-finite batch(es), {config.skip_nonfinite} allowed){where}. "
        f"Try a lower learning rate (now {config.lr}), --clip-grad, or --skip-nonfinite N"
    )


def _bad_state_message(loop: _LoopState, config: TrainConfig, folder) -> str:
    where = f"; the last good checkpoint in {folder} is kept" if folder is not None else ""
    return (
        f"the weights became NaN or infinite in epoch {loop.epoch}, at or before step "
        f"{loop.step} (a non-finite gradient with a finite loss){where}. Try a lower learning "
        f"rate (now {config.lr}), --clip-grad, or --skip-nonfinite N"
    )


def _interrupt_message(epoch: int, loop: _LoopState, folder) -> str:
    return (
        f"training interrupted in epoch {epoch} after step {loop.step}; the checkpoint is in "
        f"{folder}. Resume with: aekit train --resume {folder}"
    )
