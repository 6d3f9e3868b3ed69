"""The one training loop. It only calls ``model.loss(batch) -> (loss, logs)``.

It owns the optimiser, the learning-rate schedule, shuffling, validation, early stopping,
the time limit and the history; the CLI, the Python API and the estimator all come through here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from .config import TrainConfig
from .errors import AekitError
from .progress import Progress

VALIDATION_BATCH = 1024


class TrainingError(AekitError):
    """Training cannot go on (for example the loss became NaN)."""


@dataclass
class TrainResult:
    history: list[dict] = field(default_factory=list)  # one row per epoch
    best_epoch: int = 0
    best_val_loss: float | None = None
    stop_reason: str = "epochs"  # "epochs", "early_stopping" or "time_limit"


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
) -> TrainResult:
    """Train ``model`` in place on ``train_x`` (n, ...) float32, already scaled.

    With ``val_x``, the weights of the epoch with the lowest validation loss are restored at the
    end (model selection), and early stopping watches the same number. Without it, the last
    weights are kept. ``on_epoch`` gets the history after every epoch (to save metrics).
    """
    device = resolve_device(config.device)
    model.to(device)
    train_x = train_x.to(device)
    val_x = val_x.to(device) if val_x is not None else None
    generator = torch.Generator().manual_seed(config.seed)
    optimizer = _make_optimizer(model, config)
    n = train_x.shape[0]
    batch = min(config.batch_size, n)
    steps_per_epoch = math.ceil(n / batch)
    total_steps = steps_per_epoch * config.epochs

    result = TrainResult()
    best_state: dict[str, torch.Tensor] | None = None
    epochs_without_improvement = 0
    start = time.perf_counter()
    step = 0
    model.train()
    for epoch in range(1, config.epochs + 1):
        epoch_start = time.perf_counter()
        if progress:
            progress.start_epoch(epoch, config.epochs, steps_per_epoch)
        order = torch.randperm(n, generator=generator).to(device)
        loss_sum = torch.zeros((), device=device)
        seen = 0
        out_of_time = False
        for begin in range(0, n, batch):
            index = order[begin : begin + batch]
            if len(index) < 2 <= n:
                continue  # a lone last sample would break batch norm and adds only noise
            _set_lr(optimizer, config, step, total_steps, time.perf_counter() - start)
            loss, _ = model.loss(train_x[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            loss_sum += loss.detach() * len(index)
            seen += len(index)
            if progress:
                progress.step(begin // batch + 1, seen, loss_sum.item() / seen)
            if config.time_limit is not None and time.perf_counter() - start >= config.time_limit:
                out_of_time = True
                break
        train_seconds = time.perf_counter() - epoch_start
        train_loss = loss_sum.item() / max(seen, 1)
        if not math.isfinite(train_loss):
            raise TrainingError(
                f"the training loss became {train_loss} in epoch {epoch}; "
                f"try a lower learning rate (now {config.lr}) or a different scale"
            )
        val_loss = evaluate_loss(model, val_x) if val_x is not None else None
        watched = val_loss if val_loss is not None else train_loss
        improved = result.best_val_loss is None or watched < result.best_val_loss
        if improved:
            result.best_val_loss, result.best_epoch = watched, epoch
            epochs_without_improvement = 0
            if val_x is not None:
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            epochs_without_improvement += 1
        row = {
            "epoch": epoch,
            "train_loss": train_loss,
            "val_loss": val_loss,
            "seconds": train_seconds,
            "samples_per_s": seen / max(train_seconds, 1e-9),
            "lr": optimizer.param_groups[0]["lr"],
            "best": improved,
        }
        if out_of_time:
            row["partial"] = True
        result.history.append(row)
        if progress:
            progress.end_epoch(row)
        if on_epoch:
            on_epoch(result.history)
        if out_of_time:
            result.stop_reason = "time_limit"
            break
        if (
            config.early_stopping
            and val_x is not None
            and epochs_without_improvement >= config.patience
        ):
            result.stop_reason = "early_stopping"
            break
    if val_x is None:
        result.best_val_loss = None
        result.best_epoch = len(result.history)
    elif best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return result


@torch.no_grad()
def evaluate_loss(model: nn.Module, x: torch.Tensor) -> float:
    """Mean per-sample loss over ``x`` in eval mode (dropout off, batch-norm statistics frozen)."""
    was_training = model.training
    model.eval()
    total = 0.0
    for begin in range(0, x.shape[0], VALIDATION_BATCH):
        chunk = x[begin : begin + VALIDATION_BATCH]
        loss, _ = model.loss(chunk)
        total += loss.item() * chunk.shape[0]
    model.train(was_training)
    return total / x.shape[0]


def _make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    kind = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    return kind(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)


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
