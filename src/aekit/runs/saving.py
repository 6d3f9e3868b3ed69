"""Saving a run folder's files all together, or not at all, and one writer at a time.

``writer_lock(folder)`` holds the folder's lock (``runs.lock``) for a writer. ``saving(folder)``
yields a staging folder (``.aekit-saving`` inside the run folder) to write the new files into;
when the block ends, they replace the folder's files in one step as seen by any reader:

1. the new files are written into the staging folder, each synced to disk, then the new
   manifest.json (``runs.manifest``): every file the folder will hold, its size and SHA-256;
2. commit.json is written there: which files move into place, which are removed. Writing it
   is the commit: before, the folder is the old save (a staging folder without commit.json is
   discarded by the next writer); after, it is the new one;
3. ``finish`` moves the files into place, removes the old ones and the staging folder. If the
   process dies or a disk fails half way, the next aekit command that reads or writes the
   folder finishes it (``recover``, ``settle``), as a database replays its journal.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

from ..atomic_files import (
    atomic_write_text,
    make_folder,
    move_file,
    perform,
    remove_file,
    remove_folder,
    synced_folder,
)
from ..errors import AekitError, ConfigError, ModelFileError
from .files import COMMIT_FILE, MANIFEST_FILE, NEXT_RUN_FOLDER, RUN_FILES, SAVING_FOLDER
from .lock import FolderLock
from .manifest import entry, read_manifest, write_manifest

log = logging.getLogger(__name__)

_SETTLE_SECONDS = 30.0  # how long a reader waits for a writer to move its saved files in place
_SOURCES = (SAVING_FOLDER, NEXT_RUN_FOLDER)  # where a commit may move run files from
# a temporary file ``atomic_files`` writes a file through: ``.<name>.<8 hex digits>.tmp``
_TEMPORARY = re.compile(r"\.(?P<name>.+)\.[0-9a-f]{8}\.tmp")


class Saving:
    """The files of one save: those written into ``staged``, those ``take``n from elsewhere in
    the folder (the checkpoint of a run trained in the next-run folder), and the run files to
    ``remove``."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.staged = folder / SAVING_FOLDER
        self.taken: dict[str, Path] = {}
        self.removed: set[str] = set()

    def take(self, source: Path) -> None:
        """Move ``source``, a run file in the next-run folder, into place with the rest."""
        self.taken[source.name] = source

    def remove(self, name: str) -> None:
        self.removed.add(name)


@contextlib.contextmanager
def writer_lock(folder: str | Path, *, make: bool = True) -> Iterator[Path]:
    """Hold ``folder``'s lock while the block writes it (ConfigError naming the holder if another
    process holds it), having first finished or discarded a save that stopped half way.
    ``make``: the folder is made if missing, and removed again if it is left empty; else a
    missing folder is a ModelFileError (the run to write into is not there)."""
    folder = Path(folder)
    made = not folder.exists()
    if not make and folder_problem(folder) is not None:
        raise ModelFileError(folder_problem(folder))
    make_folder(folder)
    lock = FolderLock(folder)
    try:
        lock.acquire()
        try:
            recover(folder)
            yield folder
        finally:
            lock.release()
    finally:
        if made:
            _remove_if_empty(folder)


def folder_problem(folder: Path) -> str | None:
    """Why ``folder`` cannot be a run folder (it is missing, or a file), or None."""
    if folder.is_dir():
        return None
    return f"run folder {folder} {'is not a folder' if folder.exists() else 'does not exist'}"


@contextlib.contextmanager
def saving(
    folder: str | Path, *, replacing: bool = False, keep: frozenset[str] = frozenset()
) -> Iterator[Saving]:
    """Yield a ``Saving`` to write run files into (``Saving.staged``); when the block ends they
    replace ``folder``'s all together (see the module). ``replacing``: the folder's other run
    files are removed too, except those named in ``keep``. Call it holding ``writer_lock``."""
    save = Saving(Path(folder))
    remove_folder(save.staged)
    make_folder(save.staged)
    try:
        yield save
        record = _commit_record(save, replacing, keep)
        atomic_write_text(save.staged / COMMIT_FILE, json.dumps(record, indent=2))
    except BaseException:
        _discard(save.staged)
        raise
    try:
        finish(save.folder)
    except AekitError as exc:
        exc.args = (
            f"{exc}; the save is committed, and the next aekit command that reads or writes "
            f"{save.folder} moves its files into place",
        )
        raise


def committed(folder: Path) -> bool:
    """Whether ``folder`` holds a save that is committed but whose files are not all in place
    yet (its writer failed or died while moving them: the next reader or writer finishes it)."""
    return (folder / SAVING_FOLDER / COMMIT_FILE).exists()


def recover(folder: Path) -> None:
    """Finish the save that a commit record in ``folder`` describes, or discard a staging
    folder without one, and remove the temporary files a killed writer left. Call it holding
    the folder's lock."""
    staged = folder / SAVING_FOLDER
    if committed(folder):
        log.warning("%s: finishing a save that stopped half way", folder)
        finish(folder)
    elif staged.exists():
        remove_folder(staged)
    _remove_left_temporaries(folder)


def settle(folder: Path) -> None:
    """Before reading ``folder``: finish a committed save whose writer died half way (taking the
    lock for it), or wait for a live writer to finish moving its files in."""
    deadline = time.monotonic() + _SETTLE_SECONDS
    while committed(folder):
        lock = FolderLock(folder)
        try:
            lock.acquire()
        except ConfigError as exc:  # its writer holds it, and is moving the files
            if time.monotonic() > deadline:
                raise ModelFileError(f"{folder} is being saved; try again later ({exc})") from None
            time.sleep(0.01)
            continue
        except AekitError as exc:
            raise ModelFileError(
                f"{folder} holds a save that stopped half way ({SAVING_FOLDER}), and it cannot be "
                f"finished from here: {exc}"
            ) from None
        try:
            recover(folder)
        finally:
            lock.release()


def finish(folder: Path) -> None:
    """Carry out the commit record in ``folder``: move the saved files into place, remove the
    old ones, then the staging folder. Each step may have been done before: a file already
    moved is not there to move again."""
    staged = folder / SAVING_FOLDER
    record = _read_record(staged / COMMIT_FILE)
    for source, name in record["moves"]:
        if (folder / source).exists():
            move_file(folder / source, folder / name)
    for name in record["remove"]:
        remove_file(folder / name)
    synced_folder(folder)
    for name in record["drop"]:
        remove_folder(folder / name)
    remove_folder(staged)


def _commit_record(save: Saving, replacing: bool, keep: frozenset[str]) -> dict:
    """The moves and removals that make ``save`` the folder's files, after writing the new
    manifest into the staging folder."""
    folder, staged = save.folder, save.staged
    written = {path.name: path for path in staged.iterdir() if path.name in RUN_FILES}
    new = {**save.taken, **written}
    removed = set(save.removed)
    if replacing:
        removed |= {name for name in RUN_FILES if name not in keep}
    removed -= {*new, MANIFEST_FILE}
    kept = [
        name
        for name in RUN_FILES
        if name not in new and name not in removed and name != MANIFEST_FILE
    ]
    earlier = _earlier_entries(folder)
    entries = {name: entry(path) for name, path in new.items()}
    for name in kept:
        if (folder / name).is_file():
            entries[name] = earlier.get(name) or _entry(folder / name)
    moves = [[str(path.relative_to(folder)), name] for name, path in new.items()]
    if entries:
        write_manifest(staged, entries)
        moves.append([f"{SAVING_FOLDER}/{MANIFEST_FILE}", MANIFEST_FILE])
    else:  # no run files left: no run, and no manifest
        removed.add(MANIFEST_FILE)
    return {
        "moves": moves,
        "remove": sorted(removed),
        "drop": [NEXT_RUN_FOLDER] if save.taken or replacing else [],
    }


def _entry(path: Path) -> dict:
    return perform("read", path, lambda: entry(path))


def _earlier_entries(folder: Path) -> dict:
    try:
        return read_manifest(folder) or {}
    except ModelFileError:
        return {}  # an unreadable manifest is replaced by this save's


def _read_record(path: Path) -> dict:
    """The commit record at ``path``, checked to move and remove only run files inside the
    folder: a run folder may come from anywhere, and reading one may finish its save."""
    try:
        record = json.loads(path.read_bytes().decode("utf-8"))
        moves, removed, dropped = record["moves"], record["remove"], record["drop"]
        sound = all(
            isinstance(pair, list)
            and len(pair) == 2
            and pair[1] in RUN_FILES
            and pair[0] in {f"{source}/{pair[1]}" for source in _SOURCES}
            for pair in moves
        )
        sound = sound and set(removed) <= set(RUN_FILES) and set(dropped) <= {NEXT_RUN_FOLDER}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelFileError(f"{path} is not an aekit commit record: {exc}") from None
    if not sound:
        raise ModelFileError(f"{path} is not an aekit commit record: it names other files")
    return record


def _discard(staged: Path) -> None:
    """Remove a save's staging folder after a failure; if that fails too, the next writer
    does it."""
    try:
        remove_folder(staged)
    except AekitError as exc:
        log.warning("%s", exc)


def _remove_left_temporaries(folder: Path) -> None:
    """Remove the temporary files of run files in ``folder`` and its next-run folder: a writer
    killed while writing one left it, as no live writer can hold one while we hold the lock."""
    for place in (folder, folder / NEXT_RUN_FOLDER):
        for path in place.glob(".*.tmp") if place.is_dir() else ():
            found = _TEMPORARY.fullmatch(path.name)
            if found is not None and found["name"] in RUN_FILES:
                remove_file(path)


def _remove_if_empty(folder: Path) -> None:
    try:
        perform("remove", folder, folder.rmdir)
    except AekitError:
        pass  # not empty: it holds what the writer wrote
