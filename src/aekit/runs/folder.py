"""The run folder: every file an aekit run keeps on disk, written and read here and nowhere else.

config.json (options, data, scaler, net, result) + model.safetensors + metrics.jsonl, the
training checkpoint, a plain autoencoder's code_density.json, the evaluation, the PNGs and the
report. This module moves
bytes and checks the folder (may a run be saved here, may it be resumed); ``run_schema`` checks
what a config says, ``checkpoints`` what a checkpoint holds. Weights are safetensors and
metadata JSON, so loading a run never executes code from it. Every file is written atomically.
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
from ..errors import AekitError, ConfigError, DataError, ModelFileError
from ..models.options import all_options, saved_config
from ..models.priors import CodeDensity
from .schema import FORMAT_VERSION, saved_options

log = logging.getLogger(__name__)

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
METRICS_FILE = "metrics.jsonl"
CHECKPOINT_FILE = "checkpoint.safetensors"
# the density a family without a prior of its own samples codes from (aekit.models.priors)
CODE_DENSITY_FILE = "code_density.json"
# the comparison with PCA on the run's held-out data (Comparison.to_dict), written by training
# and by `aekit evaluate RUN`
EVALUATION_FILE = "evaluation.json"
REPORT_FILE = "report.html"  # the run's report (aekit.reports.run_report)
# The pictures (aekit.reports.run_pictures.RunPictures.available's names) and their files
PICTURE_FILES = {
    "loss": "loss.png",
    "codes": "codes.png",
    "reconstructions": "reconstructions.png",  # image data only
    "samples": "samples.png",  # image data only
    "interpolation": "interpolation.png",  # image data only
    "denoising": "denoising.png",  # image data trained with noise only
    "feature_errors": "feature_errors.png",  # tables only
}
# Every file an aekit run writes into its folder. Saving over a run removes those it does not
# write again, so the folder never mixes two runs; files of other names are never touched.
RUN_FILES = (
    CONFIG_FILE,
    WEIGHTS_FILE,
    METRICS_FILE,
    CHECKPOINT_FILE,
    CODE_DENSITY_FILE,
    EVALUATION_FILE,
    REPORT_FILE,
    *PICTURE_FILES.values(),
)


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


def check_out_folder(out: Path, overwrite: bool) -> None:
    """Fail before training, not after it, when the results could not be saved."""
    if (out / CONFIG_FILE).exists() and not overwrite:
        raise ConfigError(
            f"{out} already holds a run; choose another folder or pass overwrite=True (--overwrite)"
        )
    if (out / CHECKPOINT_FILE).exists() and not overwrite:
        raise ConfigError(
            f"{out} holds an unfinished run; continue it with resume=True (--resume {out}) "
            "or pass overwrite=True (--overwrite)"
        )
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} exists and is not a folder")
    existing = next(parent for parent in (out, *out.parents) if parent.exists())
    if not existing.is_dir():  # no folder can be made below a file, not even by root
        raise ConfigError(f"cannot write into {out}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK):
        raise ConfigError(f"cannot write into {out}: {existing} is not writable")


def forget_checkpoint(folder: str | Path) -> None:
    """Remove an earlier run's checkpoint when a new run starts in ``folder``: if the new run
    died before its first one, --resume would continue the earlier run. The earlier model
    stays until the new run's replaces it."""
    (Path(folder) / CHECKPOINT_FILE).unlink(missing_ok=True)


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
    keep: set[str] | frozenset[str] = frozenset(),
) -> Path:
    """Write a run's weights, then its config (so a folder with a config always has its
    weights), its metrics and code density; then remove the run files an earlier run left
    there, except those named in ``keep``."""
    folder = Path(folder)
    with atomic_path(folder / WEIGHTS_FILE) as tmp, safetensors_errors(folder / WEIGHTS_FILE):
        save_file({k: v.detach().cpu().contiguous() for k, v in weights.items()}, str(tmp))
    atomic_write_text(
        folder / CONFIG_FILE, json.dumps({"format_version": FORMAT_VERSION, **config}, indent=2)
    )
    write_metrics(folder, history)
    written = {CONFIG_FILE, WEIGHTS_FILE, METRICS_FILE}
    if code_density is not None:
        atomic_write_text(folder / CODE_DENSITY_FILE, json.dumps(code_density))
        written.add(CODE_DENSITY_FILE)
    remove_run_files(folder, keep=written | keep)
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


def write_pictures(folder: str | Path, pictures: dict[str, bytes]) -> None:
    """Each picture's PNG bytes, by name (``PICTURE_FILES``), into its file in ``folder``."""
    for name, png in pictures.items():
        atomic_write_bytes(Path(folder) / PICTURE_FILES[name], png)


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


def write_evaluation(folder: str | Path, evaluation: dict) -> None:
    """The run's evaluation (``Comparison.to_dict``) as evaluation.json."""
    atomic_write_text(Path(folder) / EVALUATION_FILE, json.dumps(evaluation, indent=2) + "\n")


def read_evaluation(folder: str | Path) -> dict | None:
    """The run's stored evaluation, or None if it has none; ModelFileError if unreadable."""
    path = Path(folder) / EVALUATION_FILE
    if not path.exists():
        return None
    evaluation = _read_json(path)
    if not isinstance(evaluation, dict) or not isinstance(evaluation.get("rows"), dict):
        raise ModelFileError(f"{path}: not an aekit evaluation (a JSON object with rows)")
    return evaluation


def write_report_page(folder: str | Path, page: str, output: str | Path | None = None) -> Path:
    """The report page, as report.html in ``folder`` or at ``output``; the path written."""
    path = Path(output) if output is not None else Path(folder) / REPORT_FILE
    atomic_write_text(path, page)
    return path


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
