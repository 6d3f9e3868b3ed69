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

from .code_density import CODE_DENSITY_FILE
from .errors import AekitError, ModelFileError
from .files import atomic_path, atomic_write_text, safetensors_errors

# 2: the model options apart from the training options (run_schema.SPLIT_OPTIONS_VERSION)
FORMAT_VERSION = 2
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
METRICS_FILE = "metrics.jsonl"
CHECKPOINT_FILE = "checkpoint.safetensors"  # see aekit.checkpoints
# Every file an aekit run writes into its folder (the checkpoint, the plain autoencoder's code
# density and the plots too). Saving over a run removes those it does not write again, so the
# folder never mixes two runs; files of other names are never touched.
RUN_FILES = (
    CONFIG_FILE,
    WEIGHTS_FILE,
    METRICS_FILE,
    CHECKPOINT_FILE,
    CODE_DENSITY_FILE,
    "loss.png",
    "reconstructions.png",
    "denoising.png",
)


def write_run(folder: str | Path, config: dict, weights: dict[str, torch.Tensor]) -> Path:
    """Write weights first, then config, so a folder with a config always has its weights."""
    folder = Path(folder)
    with atomic_path(folder / WEIGHTS_FILE) as tmp, safetensors_errors(folder / WEIGHTS_FILE):
        save_file({k: v.detach().cpu().contiguous() for k, v in weights.items()}, str(tmp))
    atomic_write_text(
        folder / CONFIG_FILE, json.dumps({"format_version": FORMAT_VERSION, **config}, indent=2)
    )
    return folder


def remove_run_files(folder: str | Path, keep: set[str]) -> None:
    """Delete the files of ``RUN_FILES`` in ``folder`` whose names are not in ``keep``."""
    for name in RUN_FILES:
        if name not in keep:
            path = Path(folder) / name
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                raise AekitError(
                    f"cannot remove {path}, left by an earlier run: {exc.strerror or exc}"
                ) from exc


def write_metrics(folder: str | Path, history: list[dict]) -> None:
    """One JSON object per epoch. Rewritten whole each time: small, and never torn."""
    atomic_write_text(
        Path(folder) / METRICS_FILE, "".join(json.dumps(row) + "\n" for row in history)
    )


def read_run(folder: str | Path) -> tuple[dict, dict[str, torch.Tensor], list[dict]]:
    """(config, weights, history) of a run folder; ModelFileError naming the file on any problem.

    Only the file formats are checked here (JSON, safetensors, JSON lines, the format version);
    ``run_schema`` checks what the config and the weights say.
    """
    folder = Path(folder)
    if not folder.is_dir():
        problem = "is not a folder" if folder.exists() else "does not exist"
        raise ModelFileError(f"run folder {folder} {problem}")
    config_path = folder / CONFIG_FILE
    if not config_path.exists():
        raise ModelFileError(f"{config_path} is missing: {folder} is not an aekit run folder")
    config = _read_json(config_path)
    if not isinstance(config, dict):
        raise ModelFileError(
            f"{config_path}: the file must hold a JSON object, got {json.dumps(config)[:60]}"
        )
    version = config.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(
            f"{config_path}: format_version must be a positive integer, "
            f"got {json.dumps(version)[:60]}"
        )
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{config_path} has format version {version}, newer than this aekit reads "
            f"({FORMAT_VERSION}); upgrade aekit to load it"
        )
    return config, _read_weights(folder / WEIGHTS_FILE), read_metrics(folder)


def read_metrics(folder: str | Path) -> list[dict]:
    """The rows of metrics.jsonl, one dict per epoch; [] when the file does not exist."""
    path = Path(folder) / METRICS_FILE
    if not path.exists():
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{path} cannot be read as UTF-8 text: {exc}") from None
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (ValueError, RecursionError) as exc:
            raise ModelFileError(f"{path}: line {number} is not valid JSON: {exc}") from None
        if not isinstance(row, dict):
            raise ModelFileError(f"{path}: line {number} must be a JSON object, got {line[:60]}")
        rows.append(row)
    return rows


def _read_json(path: Path) -> object:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelFileError(f"{path} cannot be read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelFileError(f"{path} is not UTF-8 text: {exc}") from None
    try:
        return json.loads(text)
    # ValueError: bad JSON, or an integer too long to parse; RecursionError: nesting too deep
    except (ValueError, RecursionError) as exc:
        raise ModelFileError(f"{path} is not valid JSON: {exc}") from None


def _read_weights(path: Path) -> dict[str, torch.Tensor]:
    if not path.exists():
        raise ModelFileError(f"{path} is missing")
    if not path.is_file():
        raise ModelFileError(f"{path} must be a safetensors file, got a folder or special file")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelFileError(f"{path} is corrupted or not a safetensors file: {exc}") from None
