"""Training checkpoints: everything needed to continue a run bit for bit, in one safetensors file
(written and read by ``runs``; packed and restored by ``loop_state``).

Tensors (weights, the best weights so far, optimiser moments, random number generator states,
the current epoch's sample order) are safetensors tensors; everything else (epoch, step,
early-stopping counters, history, options) is JSON in the file's metadata. One file replaced
atomically, so a kill at any moment leaves the previous checkpoint or the new one, and loading
never unpickles. A checkpoint may come from anywhere, as a run folder may: what it holds is
checked (here, and against the network and optimiser in ``loop_state``) before anything is
restored, and every problem is a ModelFileError naming the file.
"""

from __future__ import annotations

import math

import torch

from ..models.options import saved_config
from ..options.saved_values import OBJECT, SIZE, not_required
from ..runs.folder import Checkpoint, short_json
from ..runs.schema import DATA, TRAIN, check_fields

RUN_FIELDS = {
    "train": OBJECT,
    "data": OBJECT,
    # absent in checkpoints written before runs on several processes: one process
    "world_size": not_required(SIZE),
}

__all__ = ["Checkpoint", "check_run_meta", "check_tensors", "pack_optimizer", "unpack_optimizer"]


def check_run_meta(checkpoint: Checkpoint) -> dict:
    """The checkpoint's "run" metadata (``aekit.train``'s options and data, checked as a run's
    config.json sections "train" and "data" are, and how many processes trained it)."""
    run = checkpoint.meta.get("run")
    path = checkpoint.path or "the checkpoint"
    check_fields(run, RUN_FIELDS, "run", path)
    check_fields(run["train"], TRAIN, "run.train", path)
    check_fields(run["data"], DATA, "run.data", path)
    try:
        saved_config(run["train"])
    except (TypeError, ValueError) as exc:  # ConfigError is a ValueError
        raise checkpoint.error(f"run.train.{exc}") from None
    return run


def check_tensors(
    checkpoint: Checkpoint, expected: dict[str, torch.Tensor], optional: tuple[str, ...] = ()
) -> None:
    """ModelFileError naming the file and the tensor unless the checkpoint holds exactly the
    tensors of ``expected`` (names, shapes and dtypes). The tensors under each prefix in
    ``optional`` may all be absent (the best weights of a run without validation data, the
    optimiser state of a parameter before its first step), but not some of them."""
    absent = {
        prefix
        for prefix in optional
        if not any(name.startswith(prefix) for name in checkpoint.tensors)
    }
    for name, want in expected.items():
        got = checkpoint.tensors.get(name)
        if got is None:
            if any(name.startswith(prefix) for prefix in absent):
                continue
            raise checkpoint.error(
                f"tensor {name!r} must be present with shape {tuple(want.shape)}, got no such "
                "tensor; the checkpoint is for a different network or not aekit's"
            )
        if got.shape != want.shape or got.dtype != want.dtype:
            raise checkpoint.error(
                f"tensor {name!r} must have shape {tuple(want.shape)} and dtype {_dtype(want)} "
                f"for this network, got shape {tuple(got.shape)} and dtype {_dtype(got)}"
            )
    extra = sorted(set(checkpoint.tensors) - set(expected))
    if extra:
        raise checkpoint.error(
            f"tensor {extra[0]!r} is not part of an aekit checkpoint for this network"
        )


def pack_optimizer(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """Optimizer state as named tensors plus JSON-ready param groups."""
    state = optimizer.state_dict()
    tensors = {}
    for index, values in state["state"].items():
        for key, value in values.items():
            tensors[f"optim.{index}.{key}"] = torch.as_tensor(value)
    return tensors, {"param_groups": state["param_groups"]}


def expected_optimizer_tensors(optimizer: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    """The tensors ``pack_optimizer`` writes for Adam/AdamW once every parameter has stepped."""
    expected = {}
    index = 0
    for group in optimizer.param_groups:
        for parameter in group["params"]:
            expected[f"optim.{index}.step"] = torch.zeros((), dtype=torch.float32)
            expected[f"optim.{index}.exp_avg"] = parameter.detach()
            expected[f"optim.{index}.exp_avg_sq"] = parameter.detach()
            index += 1
    return expected


def unpack_optimizer(optimizer: torch.optim.Optimizer, checkpoint: Checkpoint) -> None:
    """Restore the optimiser; its tensors must have passed ``check_tensors``."""
    groups = checkpoint.meta["param_groups"]
    current = optimizer.state_dict()["param_groups"]
    if len(groups) != len(current) or not all(map(_same_kind, groups, current)):
        raise checkpoint.error(
            f"metadata param_groups must match the optimiser's ({short_json(current)}), "
            f"got {short_json(groups)}"
        )
    state: dict[int, dict] = {}
    for name, value in checkpoint.tensors.items():
        if name.startswith("optim."):
            _, index, key = name.split(".", 2)
            state.setdefault(int(index), {})[key] = value
    optimizer.load_state_dict({"state": state, "param_groups": groups})
    # load_state_dict moves the saved moments to their parameter's device and dtype but keeps
    # the file's contiguous layout; CUDA's fused AdamW refuses moments laid out unlike their
    # parameter, and the conv backbone's weights are channels-last
    for parameter, values in optimizer.state.items():
        for key, value in values.items():
            if key != "step" and value.shape == parameter.shape:
                values[key] = torch.empty_like(parameter).copy_(value)


def prefixed(prefix: str, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {f"{prefix}.{k}": v for k, v in tensors.items()}


def unprefixed(prefix: str, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    start = len(prefix) + 1
    return {k[start:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}


def _same_kind(saved: object, current: object) -> bool:
    """Whether a JSON value read back can stand for ``current`` (an optimiser setting)."""
    if isinstance(current, dict):
        # a key this PyTorch added since may be missing; the optimiser fills in its default
        return (
            isinstance(saved, dict)
            and saved.keys() <= current.keys()
            and saved.get("params") == current["params"]
            and all(_same_kind(saved[k], current[k]) for k in saved)
        )
    if isinstance(current, bool) or current is None or isinstance(current, str):
        return type(saved) is type(current)
    if isinstance(current, int | float):
        return (
            isinstance(saved, int | float) and not isinstance(saved, bool) and math.isfinite(saved)
        )
    if isinstance(current, list | tuple):
        return (
            isinstance(saved, list)
            and len(saved) == len(current)
            and all(map(_same_kind, saved, current))
        )
    return saved == current


def _dtype(tensor: torch.Tensor) -> str:
    return str(tensor.dtype).removeprefix("torch.")
