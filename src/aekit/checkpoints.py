"""Training checkpoints: everything needed to continue a run bit for bit, in one safetensors file.

Tensors (weights, the best weights so far, optimiser moments, random number generator states,
the current epoch's sample order) are safetensors tensors; everything else (epoch, step,
early-stopping counters, history, options) is JSON in the file's metadata. One file replaced
atomically, so a kill at any moment leaves the previous checkpoint or the new one, and loading
never unpickles.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from .errors import ModelFileError
from .files import atomic_path, safetensors_errors

CHECKPOINT_FILE = "checkpoint.safetensors"


@dataclass
class Checkpoint:
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)


def save_checkpoint(folder: str | Path, checkpoint: Checkpoint) -> Path:
    path = Path(folder) / CHECKPOINT_FILE
    tensors = {k: v.detach().cpu().contiguous() for k, v in checkpoint.tensors.items()}
    with atomic_path(path) as tmp, safetensors_errors(path):
        save_file(tensors, str(tmp), metadata={"aekit": json.dumps(checkpoint.meta)})
    return path


def load_checkpoint(folder: str | Path) -> Checkpoint:
    path = Path(folder) / CHECKPOINT_FILE
    if not path.exists():
        raise ModelFileError(f"{path} does not exist: there is no checkpoint to resume from")
    try:
        with safe_open(str(path), framework="pt") as handle:
            meta = json.loads((handle.metadata() or {})["aekit"])
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except (SafetensorError, OSError, KeyError, ValueError) as exc:
        raise ModelFileError(f"{path} is corrupted or not an aekit checkpoint: {exc}") from None
    return Checkpoint(tensors=tensors, meta=meta)


def pack_optimizer(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """Optimizer state as named tensors plus JSON-ready param groups."""
    state = optimizer.state_dict()
    tensors = {}
    for index, values in state["state"].items():
        for key, value in values.items():
            tensors[f"optim.{index}.{key}"] = torch.as_tensor(value)
    return tensors, {"param_groups": state["param_groups"]}


def unpack_optimizer(optimizer: torch.optim.Optimizer, checkpoint: Checkpoint) -> None:
    state: dict[int, dict] = {}
    for name, value in checkpoint.tensors.items():
        if name.startswith("optim."):
            _, index, key = name.split(".", 2)
            state.setdefault(int(index), {})[key] = value
    optimizer.load_state_dict({"state": state, "param_groups": checkpoint.meta["param_groups"]})


def prefixed(prefix: str, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {f"{prefix}.{k}": v for k, v in tensors.items()}


def unprefixed(prefix: str, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    start = len(prefix) + 1
    return {k[start:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}
