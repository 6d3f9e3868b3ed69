"""The run folder: every file an aekit run keeps on disk, written and read here and nowhere else.

config.json (options, data, scaler, net, result) + model.safetensors + metrics.jsonl, the
training checkpoint, a plain autoencoder's code_density.json, the evaluation, the PNGs and the
report, and manifest.json listing them (their names: ``runs.files``). This module moves
bytes and checks the folder (may a run be saved here, may it be resumed); ``run_schema`` checks
what a config says, ``checkpoints`` what a checkpoint holds. Weights are safetensors and
metadata JSON, so loading a run never executes code from it. Every file is written atomically,
and the files of a save replace the folder's all together (``runs.saving``), by one writer at
a time.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from ..atomic_files import atomic_path, atomic_write_bytes, atomic_write_text, safetensors_errors
from ..errors import ConfigError, DataError, ModelFileError
from ..models.options import all_options, saved_config
from ..models.priors import CodeDensity
from .files import (
    CHECKPOINT_FILE,
    CODE_DENSITY_FILE,
    CONFIG_FILE,
    EVALUATION_FILE,
    METRICS_FILE,
    PICTURE_FILES,
    REPORT_FILE,
    WEIGHTS_FILE,
)
from .manifest import check_manifest
from .saving import folder_problem, saving, settle
from .schema import FORMAT_VERSION, MANIFEST_VERSION, saved_options

log = logging.getLogger(__name__)


@dataclass
class Checkpoint:
    """A training checkpoint's contents (``aekit.training.checkpoints``): tensors and JSON."""

    tensors: dict[str, torch.Tensor] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    path: Path | None = None  # the file it was read from, for error messages

    def error(self, problem: str) -> ModelFileError:
        return ModelFileError(f"{self.path or 'the checkpoint'}: {problem}")

    def check_meta(self) -> Checkpoint:
        """This checkpoint, once its metadata is a JSON object with the loop state and the
        optimiser's parameter groups (the rest is checked where it is used)."""
        if not isinstance(self.meta, dict):
            raise self.error("the metadata must be a JSON object")
        for name, kind in (("loop", dict), ("param_groups", list)):
            if not isinstance(self.meta.get(name), kind):
                what = "a JSON object" if kind is dict else "a list"
                raise self.error(
                    f"metadata {name} must be {what}, got {short_json(self.meta.get(name))}"
                )
        return self


def check_writable(out: Path) -> None:
    """Fail before anything is made when ``out`` cannot be a folder aekit writes into."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} exists and is not a folder")
    existing = next(parent for parent in (out, *out.parents) if parent.exists())
    if not existing.is_dir():  # no folder can be made below a file, not even by root
        raise ConfigError(f"cannot write into {out}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK):
        raise ConfigError(f"cannot write into {out}: {existing} is not writable")


def check_out_folder(out: Path, unfinished: Path, overwrite: bool) -> None:
    """Fail before training, not after it, when the results could not be saved: ``out`` holds
    a run, or ``unfinished`` (where a resume would continue, ``training_place.resume_folder``)
    an unfinished one, and ``overwrite`` is not given."""
    if holds_run(out) and not overwrite:
        raise ConfigError(
            f"{out} already holds a run; choose another folder or pass overwrite=True (--overwrite)"
        )
    if has_checkpoint(unfinished) and not overwrite:
        raise ConfigError(
            f"{out} holds an unfinished run; continue it with resume=True (--resume {out}) "
            "or pass overwrite=True (--overwrite)"
        )


def holds_run(folder: Path) -> bool:
    """Whether ``folder`` holds a saved run (whole or not: loading says)."""
    return (folder / CONFIG_FILE).exists()


def check_same_data(saved: dict, now: dict, out) -> None:
    """A resumed run must see the data it started with, or 'bit-identical' means nothing."""
    for key in ("sample_shape", "n_train", "n_val", "data_min", "data_max", "feature_names"):
        if saved.get(key) != now.get(key):
            raise DataError(
                f"cannot resume {out}: the data differs from the data it was started with "
                f"({key} was {saved.get(key)}, is now {now.get(key)})"
            )


def holds_finished_run(out: Path, checkpoint: Checkpoint, finished: str | None) -> bool:
    """True (and says why) when the checkpoint's run is over (``finished``: why, else None) and
    its model is saved in ``out``; a run killed between its last checkpoint and saving its
    model is not finished."""
    if finished is None or not holds_model_of(out, checkpoint):
        return False
    log.warning("%s: %s", out, finished)
    return True


def has_checkpoint(folder: str | Path) -> bool:
    return (Path(folder) / CHECKPOINT_FILE).exists()


def holds_model_of(out: Path, checkpoint: Checkpoint) -> bool:
    """True when the model saved in ``out`` is the checkpoint's run's (same options and data),
    which is so once that run has saved its model."""
    if not (out / CONFIG_FILE).exists():
        return False
    try:
        saved = json.loads((out / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False  # finishing the run rewrites it
    run = checkpoint.meta["run"]
    # either side may be in an older format (every family's options, an old model spelling);
    # another run's model saved there means this run is not finished
    return isinstance(saved, dict) and [
        _same_options(saved_options(saved)),
        saved.get("data"),
    ] == [_same_options(run["train"]), run["data"]]


def _same_options(options: dict) -> dict | None:
    """The options a run trained with, in one form whatever the format they were saved in."""
    try:
        return all_options(saved_config(options))
    except (TypeError, ValueError):
        return None


def write_run(
    folder: str | Path,
    config: dict,
    weights: dict[str, torch.Tensor],
    history: list[dict],
    *,
    code_density: dict | None = None,
    checkpoint: Path | None = None,
) -> Path:
    """Save a run into ``folder``: its weights, config, metrics, code density and ``checkpoint``
    (the one training wrote, in the folder or in its next-run folder), all together
    (``runs.saving``); the other run files there, an earlier run's, are removed. Call it
    holding ``writer_lock(folder)``."""
    folder = Path(folder)
    in_place = checkpoint is not None and checkpoint.parent == folder and checkpoint.exists()
    keep = frozenset({CHECKPOINT_FILE} if in_place else ())
    with saving(folder, replacing=True, keep=keep) as save:
        staged = save.staged
        with atomic_path(staged / WEIGHTS_FILE) as tmp, safetensors_errors(folder / WEIGHTS_FILE):
            save_file({k: v.detach().cpu().contiguous() for k, v in weights.items()}, str(tmp))
        version = {"format_version": FORMAT_VERSION}
        atomic_write_text(staged / CONFIG_FILE, json.dumps({**version, **config}, indent=2))
        write_metrics(staged, history)
        if code_density is not None:
            atomic_write_text(staged / CODE_DENSITY_FILE, json.dumps(code_density))
        if checkpoint is not None and not in_place and checkpoint.exists():
            save.take(checkpoint)
    return folder


def clear_run(folder: Path) -> None:
    """Remove every run file from ``folder``, all together; other files stay."""
    with saving(folder, replacing=True):
        pass


def write_metrics(folder: str | Path, history: list[dict]) -> None:
    """One JSON object per epoch. Rewritten whole each time: small, and never torn."""
    atomic_write_text(
        Path(folder) / METRICS_FILE, "".join(json.dumps(row) + "\n" for row in history)
    )


def write_checkpoint(folder: str | Path, checkpoint: Checkpoint) -> Path:
    """Tensors as safetensors tensors, the rest as JSON in the file's metadata."""
    path = Path(folder) / CHECKPOINT_FILE
    tensors = {k: v.detach().cpu().contiguous() for k, v in checkpoint.tensors.items()}
    with atomic_path(path) as tmp, safetensors_errors(path):
        save_file(tensors, str(tmp), metadata={"aekit": json.dumps(checkpoint.meta)})
    return path


def read_checkpoint(folder: str | Path) -> Checkpoint:
    """The checkpoint in ``folder``, its metadata checked (``Checkpoint.check_meta``)."""
    path = Path(folder) / CHECKPOINT_FILE
    if not path.exists():
        raise ModelFileError(f"{path} does not exist: there is no checkpoint to resume from")
    try:
        with safe_open(str(path), framework="pt") as handle:
            meta = json.loads((handle.metadata() or {})["aekit"])
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except (SafetensorError, OSError, KeyError, ValueError, RecursionError) as exc:
        raise ModelFileError(f"{path} is corrupted or not an aekit checkpoint: {exc}") from None
    return Checkpoint(tensors=tensors, meta=meta, path=path).check_meta()


def save_report(
    folder: str | Path,
    page: str,
    *,
    evaluation: dict | None = None,
    pictures: dict[str, bytes] | None = None,
) -> Path:
    """Save the run's report page as report.html in ``folder``, with its evaluation
    (``Comparison.to_dict``) and its pictures (PNG bytes by name, ``PICTURE_FILES``; those not
    given are removed) when given, all together; the page's path."""
    folder = Path(folder)
    with saving(folder) as save:
        if evaluation is not None:
            _write_evaluation(save.staged, evaluation)
        for name, file in PICTURE_FILES.items():
            if pictures is not None and name in pictures:
                atomic_write_bytes(save.staged / file, pictures[name])
            elif pictures is not None:
                save.remove(file)
        atomic_write_text(save.staged / REPORT_FILE, page)
    return folder / REPORT_FILE


def save_evaluation(folder: str | Path, evaluation: dict) -> None:
    """Save the run's evaluation (``Comparison.to_dict``) as its evaluation.json."""
    with saving(folder) as save:
        _write_evaluation(save.staged, evaluation)


def _write_evaluation(folder: Path, evaluation: dict) -> None:
    atomic_write_text(folder / EVALUATION_FILE, json.dumps(evaluation, indent=2) + "\n")


def read_pictures(folder: str | Path, names) -> dict[str, bytes]:
    """The pictures among ``names`` that ``folder`` holds as PNG files, by name; a file that
    does not start as a PNG does is left out (the bytes go into a page as an image)."""
    found = {}
    for name in names:
        path = Path(folder) / PICTURE_FILES[name]
        if path.is_file():
            png = path.read_bytes()
            if png.startswith(b"\x89PNG\r\n\x1a\n"):
                found[name] = png
    return found


def read_evaluation(folder: str | Path) -> dict | None:
    """The run's stored evaluation, or None if it has none; ModelFileError if unreadable."""
    path = Path(folder) / EVALUATION_FILE
    if not path.exists():
        return None
    evaluation = _read_json(path)
    if not isinstance(evaluation, dict) or not isinstance(evaluation.get("rows"), dict):
        raise ModelFileError(f"{path}: not an aekit evaluation (a JSON object with rows)")
    return evaluation


def write_report_page(path: Path, page: str) -> Path:
    """A report page written to ``path``, outside any run folder."""
    atomic_write_text(path, page)
    return path


def read_run(folder: str | Path) -> tuple[dict, dict[str, torch.Tensor], list[dict]]:
    """(config, weights, history) of a run folder; ModelFileError naming the file on any problem.

    Only the file formats are checked here (JSON, safetensors, JSON lines, the format version);
    ``run_schema`` checks what the config and the weights say.
    """
    folder = Path(folder)
    problem = folder_problem(folder)
    if problem is not None:
        raise ModelFileError(problem)
    settle(folder)
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
    if version >= MANIFEST_VERSION:
        check_manifest(folder)
    return config, _read_weights(folder / WEIGHTS_FILE), read_metrics(folder)


def read_code_density(folder: str | Path, code_size: int) -> CodeDensity | None:
    """The code density saved in ``folder``, or None if it has none; ModelFileError if unsound."""
    path = Path(folder) / CODE_DENSITY_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"{path}: not a readable code density: {exc}") from None
    return CodeDensity.from_dict(data, code_size, path)


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


def short_json(value: object) -> str:
    """``value`` as JSON, cut to 60 characters, for error messages."""
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
