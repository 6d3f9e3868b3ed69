"""The run folder on disk: config.json + model.safetensors + metrics.jsonl (+ plots).

This module only moves bytes: a JSON-ready config dict and a dict of tensors in, the same out.
Weights are safetensors and metadata JSON, so loading a run never executes code from it.
Every file is written atomically.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .errors import ModelFileError
from .files import atomic_path, atomic_write_text

FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
METRICS_FILE = "metrics.jsonl"


def write_run(folder: str | Path, config: dict, weights: dict[str, torch.Tensor]) -> Path:
    """Write weights first, then config, so a folder with a config always has its weights."""
    folder = Path(folder)
    with atomic_path(folder / WEIGHTS_FILE) as tmp:
        save_file({k: v.detach().cpu().contiguous() for k, v in weights.items()}, str(tmp))
    atomic_write_text(
        folder / CONFIG_FILE, json.dumps({"format_version": FORMAT_VERSION, **config}, indent=2)
    )
    return folder


def write_metrics(folder: str | Path, history: list[dict]) -> None:
    """One JSON object per epoch. Rewritten whole each time: small, and never torn."""
    atomic_write_text(
        Path(folder) / METRICS_FILE, "".join(json.dumps(row) + "\n" for row in history)
    )


def read_run(folder: str | Path) -> tuple[dict, dict[str, torch.Tensor], list[dict]]:
    """(config, weights, history) of a run folder; ModelFileError naming the file on any problem."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelFileError(f"run folder {folder} does not exist")
    config_path = folder / CONFIG_FILE
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFileError(
            f"{config_path} is missing: {folder} is not an aekit run folder"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{config_path} is not valid JSON: {exc}") from None
    if not isinstance(config, dict):
        raise ModelFileError(f"{config_path} must hold a JSON object")
    version = config.get("format_version")
    if not isinstance(version, int):
        raise ModelFileError(f"{config_path} has no integer format_version")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{config_path} has format version {version}, newer than this aekit reads "
            f"({FORMAT_VERSION}); upgrade aekit to load it"
        )
    weights_path = folder / WEIGHTS_FILE
    if not weights_path.exists():
        raise ModelFileError(f"{weights_path} is missing")
    try:
        weights = load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelFileError(
            f"{weights_path} is corrupted or not a safetensors file: {exc}"
        ) from None
    return config, weights, read_metrics(folder)


def read_metrics(folder: str | Path) -> list[dict]:
    path = Path(folder) / METRICS_FILE
    if not path.exists():
        return []
    try:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path} is not valid JSON lines: {exc}") from None
