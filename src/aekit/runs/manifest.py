"""A run folder's manifest.json: every run file's size and SHA-256, written last by each save
(``runs.saving``), so that a folder whose files are not one save's (two runs' files side by
side, a file missing, changed or left over) is told apart from a whole run.

Runs saved in format 4 on have one (``runs.schema.MANIFEST_VERSION``) and ``check`` refuses
their folder, saying which file does not belong; older runs have none and load as before.
The training checkpoint is listed by size only: loading never reads it, and it may be large.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..atomic_files import atomic_write_text
from ..errors import ModelFileError
from .files import (
    CHECKPOINT_FILE,
    CODE_DENSITY_FILE,
    CONFIG_FILE,
    MANIFEST_FILE,
    METRICS_FILE,
    RUN_FILES,
    WEIGHTS_FILE,
)

_UNHASHED = {CHECKPOINT_FILE}
# What loading reads: one missing is a run not wholly saved. The others (the checkpoint, the
# evaluation, the pictures, the report) a user may remove by hand, to save room or to redo them.
_NEEDED = {CONFIG_FILE, WEIGHTS_FILE, METRICS_FILE, CODE_DENSITY_FILE}
_CHUNK = 1 << 20


def entry(path: Path) -> dict:
    """The manifest's entry of the file at ``path``: its size, and its SHA-256."""
    found = {"bytes": path.stat().st_size}
    if path.name not in _UNHASHED:
        found["sha256"] = _sha256(path)
    return found


def write_manifest(folder: Path, entries: dict[str, dict]) -> None:
    """manifest.json in ``folder``, listing ``entries`` (file name -> ``entry``)."""
    text = json.dumps({"files": dict(sorted(entries.items()))}, indent=2)
    atomic_write_text(folder / MANIFEST_FILE, text + "\n")


def read_manifest(folder: Path) -> dict[str, dict] | None:
    """The entries of ``folder``'s manifest (file name -> entry), None without one;
    ModelFileError if it is not a manifest of run files."""
    path = folder / MANIFEST_FILE
    if not path.exists():
        return None
    try:
        files = json.loads(path.read_bytes().decode("utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelFileError(f"{path} is not an aekit manifest: {exc}") from None
    if not isinstance(files, dict) or not all(map(_sound, files.keys(), files.values())):
        raise ModelFileError(
            f"{path} is not an aekit manifest: it must map run file names to their size and SHA-256"
        )
    return files


def check_manifest(folder: Path) -> None:
    """ModelFileError unless ``folder``'s run files are those its manifest lists, each with the
    size and SHA-256 listed (of those loading does not read, some may be missing)."""
    listed = read_manifest(folder)
    if listed is None:
        raise ModelFileError(
            f"{folder / MANIFEST_FILE} is missing: a run of this format lists its files there, "
            f"last of all, so {folder} is not a whole saved run (a save that did not finish, or "
            "files copied in by hand)"
        )
    for name, saved in listed.items():
        path = folder / name
        if not path.exists() and name not in _NEEDED:
            continue
        if not path.is_file():
            raise ModelFileError(
                f"{path} is missing ({MANIFEST_FILE} lists it): {folder} is not a whole run"
            )
        try:
            found = entry(path)
        except OSError as exc:
            raise ModelFileError(f"{path} cannot be read: {exc.strerror or exc}") from None
        if found != saved:
            raise ModelFileError(
                f"{path} is not the file saved with this run ({_difference(found, saved)}): "
                f"{folder} mixes files of different saves, or the file was changed since"
            )
    extra = [name for name in RUN_FILES if name not in listed and name != MANIFEST_FILE]
    extra = [name for name in extra if (folder / name).exists()]
    if extra:
        raise ModelFileError(
            f"{folder / extra[0]} is not one of this run's files ({MANIFEST_FILE} does not "
            f"list it): {folder} mixes files of different saves"
        )


def _sound(name: object, saved: object) -> bool:
    """Whether (``name``, ``saved``) is a run file's entry: no other path can be named."""
    return (
        name in RUN_FILES
        and name != MANIFEST_FILE
        and isinstance(saved, dict)
        and isinstance(saved.get("bytes"), int)
        and set(saved) <= {"bytes", "sha256"}
    )


def _difference(found: dict, saved: dict) -> str:
    if found["bytes"] != saved["bytes"]:
        return f"it has {found['bytes']} bytes, {MANIFEST_FILE} lists {saved['bytes']}"
    return f"its contents differ from those {MANIFEST_FILE} lists: another SHA-256"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
