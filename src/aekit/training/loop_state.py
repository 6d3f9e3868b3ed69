"""The training loop's state, and how it goes into a checkpoint and comes back out of one.

A checkpoint (``checkpoints``, written by ``aekit.runs.folder``) holds the whole loop state:
weights, the best weights so far, the optimiser, random number generators, the epoch's sample
order and position and running sums, so a resumed run ends with exactly the weights the
uninterrupted run would have had. What a checkpoint says is checked before anything is restored.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch

from ..options.train_config import TrainConfig
from ..runs.schema import COUNT, NUMBER, Field, check_fields
from .checkpoints import (
    Checkpoint,
    check_tensors,
    expected_optimizer_tensors,
    pack_optimizer,
    prefixed,
    unpack_optimizer,
    unprefixed,
)
from .distributed import SINGLE


@dataclass
class TrainResult:
    history: list[dict] = field(default_factory=list)  # one row per epoch
    best_epoch: int = 0
    best_val_loss: float | None = None
    stop_reason: str = "epochs"  # "epochs", "early_stopping" or "time_limit"


def how_it_stopped(result: dict) -> str:
    """A saved run's ``result`` (``Autoencoder.result``) in words: "early stopping, after 2
    learning-rate drops"."""
    words = str(result.get("stop_reason", "")).replace("_", " ")
    drops = result.get("lr_drops") or 0
    if drops:
        words += f", after {drops} learning-rate drop{'s' if drops > 1 else ''}"
    return words


@dataclass
class LoopState:
    """Where the loop is; all of it goes into a checkpoint."""

    epoch: int = 1
    position: int = 0  # index in this epoch's order of the next batch
    step: int = 0  # optimiser steps taken
    seen: int = 0  # samples trained on in this epoch
    epoch_seconds: float = 0.0  # training seconds of this epoch before the last resume
    elapsed: float = 0.0  # training seconds of the run before the last resume
    skipped: int = 0  # non-finite batches skipped
    epochs_without_improvement: int = 0
    lr_drops_done: int = 0  # plateaus answered with a lower learning rate (TrainConfig.lr_drops)
    finished: bool = False
    result: TrainResult = field(default_factory=TrainResult)


# What a checkpoint's "loop" metadata must hold: LoopState's fields and TrainResult's.
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
    # absent in checkpoints written before the learning rate could drop: none had
    "lr_drops_done": Field(COUNT.expected, COUNT.ok, required=False),
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


class RunningSums:
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

    def zeroed(self) -> RunningSums:
        """The same entries at zero."""
        return RunningSums(
            self.keys, None if self.values is None else torch.zeros_like(self.values)
        )

    def to_tensors(self) -> dict[str, torch.Tensor]:
        return (
            {} if self.values is None else dict(zip(self.keys, self.values.unbind(), strict=True))
        )

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor], device) -> RunningSums:
        if not tensors:
            return cls()
        keys = sorted(
            tensors, key=lambda k: k != "loss"
        )  # "loss" first; add() looks logs up by key
        return cls(keys, torch.stack([tensors[k] for k in keys]).to(device))


def finished_reason(checkpoint: Checkpoint, config: TrainConfig) -> str | None:
    """Why the run of ``checkpoint`` has nothing left to train under ``config``, the options it
    is resumed with; None when it has.

    A run stopped by its time limit goes on when resumed with a larger limit (or none): the
    limit is the run's whole training time, so the time already spent counts against it, and
    the learning-rate schedule, which follows the larger of the fractions of steps and of time
    done, is stretched over the longer run. A run that trained all its epochs goes on when
    resumed with more epochs; an early-stopped run goes on when resumed with a larger
    ``lr_drops`` (its learning rate drops at the stall that stopped it), else stays stopped.
    """
    loop = _check_loop_meta(checkpoint)
    result = loop["result"]
    if loop["finished"] and result["stop_reason"] == "early_stopping":
        if loop.get("lr_drops_done", 0) >= config.lr_drops or not config.early_stopping:
            return (
                f"the run stopped early after epoch {len(result['history'])} (best epoch "
                f"{result['best_epoch']}): its validation loss had stopped improving after "
                f"{loop.get('lr_drops_done', 0)} learning-rate drop(s), so there is nothing "
                "to resume; resume with a larger --lr-drops (lr_drops=) to go on from its best "
                "weights at a lower learning rate"
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


def pack(
    loop, model, optimizer, generator, best_state, order, sums, meta, rng_states
) -> Checkpoint:
    """The checkpoint of the loop state. ``rng_states``: torch's global generator state of each
    process, in rank order (one process: ``[torch.get_rng_state()]``); the other random
    streams are the same on every process."""
    optim_tensors, optim_meta = pack_optimizer(optimizer)
    tensors = {
        **prefixed("model", model.state_dict()),
        **optim_tensors,
        **_rng_tensors(rng_states),
        "rng.shuffle": generator.get_state(),
        "loop.order": order.cpu(),
        **prefixed("loop.sums", sums.to_tensors()),
    }
    if best_state is not None:
        tensors.update(prefixed("best", best_state))
    state = asdict(loop)
    return Checkpoint(tensors=tensors, meta={"loop": state, **optim_meta, **(meta or {})})


def restore(checkpoint: Checkpoint, model, optimizer, generator, device, n: int, ranks=SINGLE):
    """The loop state, best weights, sample order and running sums of ``checkpoint``, with the
    model, optimiser and generators set from it (torch's global generator from this process's
    state, ``ranks.rank`` of ``ranks.size``); ModelFileError if it does not fit them."""
    loop = _checked_loop_state(checkpoint, n)
    _check_loop_tensors(checkpoint, model, optimizer, generator, loop, n, ranks.size)
    tensors = checkpoint.tensors
    try:
        model.load_state_dict(unprefixed("model", tensors))
        unpack_optimizer(optimizer, checkpoint)
        torch.set_rng_state(tensors[_rng_name(ranks.rank)])
        generator.set_state(tensors["rng.shuffle"])
    except (RuntimeError, ValueError, KeyError, TypeError) as exc:
        raise checkpoint.error(f"cannot be restored: {exc}") from None
    best = unprefixed("best", tensors) or None
    if best is not None:
        best = {k: v.to(device) for k, v in best.items()}
    sums = RunningSums.from_tensors(unprefixed("loop.sums", tensors), device)
    return loop, best, tensors["loop.order"].to(device), sums


def _check_loop_meta(checkpoint: Checkpoint) -> dict:
    """The checkpoint's "loop" metadata, checked against LOOP_FIELDS and RESULT_FIELDS."""
    saved = checkpoint.meta["loop"]
    path = checkpoint.path or "the checkpoint"
    check_fields(saved, LOOP_FIELDS, "loop", path)
    check_fields(saved["result"], RESULT_FIELDS, "loop.result", path)
    return saved


def _checked_loop_state(checkpoint: Checkpoint, n: int) -> LoopState:
    saved = _check_loop_meta(checkpoint)
    if saved["position"] > n:
        raise checkpoint.error(
            f"loop.position must be at most {n}, the number of training samples, "
            f"got {saved['position']}"
        )
    return LoopState(**{**saved, "result": TrainResult(**saved["result"])})


def _rng_name(rank: int) -> str:
    # process 0's under the name a one-process checkpoint gives its only one
    return "rng.torch" if rank == 0 else f"rng.torch.rank{rank}"


def _rng_tensors(states: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    return {_rng_name(rank): state for rank, state in enumerate(states)}


def _check_loop_tensors(checkpoint, model, optimizer, generator, loop, n: int, processes: int):
    """Names, shapes and dtypes of every tensor; the sample order must be one of the n samples."""
    state = model.state_dict()
    expected = {
        **prefixed("model", state),
        **prefixed("best", state),
        **expected_optimizer_tensors(optimizer),
        **_rng_tensors([torch.get_rng_state()] * processes),
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
