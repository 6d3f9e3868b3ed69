"""Atomic file writes: a reader (or a crash) sees the old file or the new one, never half of one.

Every file operation aekit makes in a run folder, a sweep folder or an output file (create,
sync, rename, remove, make a folder) passes through ``perform``, which turns an OSError into an
AekitError naming the file. It is the one place tests/test_write_faults.py counts those
operations and fails the n-th with ENOSPC or EIO, as SQLite's I/O error tests do.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from safetensors import SafetensorError

from .errors import AekitError

_NAME_TRIES = 100
T = TypeVar("T")


def perform(doing: str, path: str | os.PathLike, action: Callable[[], T]) -> T:
    """``action()``, one file operation on ``path``: an OSError is an AekitError saying
    "cannot <doing> <path>: <why>"."""
    try:
        return action()
    except OSError as exc:
        raise AekitError(f"cannot {doing} {path}: {exc.strerror or exc}") from exc


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success, move it over ``path``.

    The writer writes the temporary file however it likes (np.save, PIL, matplotlib...);
    it is flushed to disk and renamed only when the block ends without an exception, and the
    folder is flushed after the rename, so a failure, a kill or a power cut leaves any previous
    ``path`` untouched. The file gets the permissions a plain ``open()`` would give it.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        make_folder(folder)
    tmp = perform("write", path, lambda: _create_temporary(folder, path.name))
    try:
        yield tmp
        perform("write", path, lambda: _sync_file(tmp))
        perform("write", path, lambda: os.replace(tmp, path))
        perform("write", path, lambda: sync_folder(folder))
    except OSError as exc:  # the writer's own write failed
        tmp.unlink(missing_ok=True)
        raise AekitError(f"cannot write {path}: {exc.strerror or exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def make_folder(folder: Path) -> None:
    """Make ``folder`` and any folder above it that is missing."""
    perform("make the folder", folder, lambda: folder.mkdir(parents=True, exist_ok=True))


def move_file(source: Path, target: Path) -> None:
    """Rename ``source`` over ``target`` (one atomic step on one file system)."""
    perform("move", source, lambda: os.replace(source, target))


def remove_file(path: Path) -> None:
    perform("remove", path, lambda: path.unlink(missing_ok=True))


def remove_folder(folder: Path) -> None:
    """Remove ``folder`` and everything in it, if it exists."""
    if folder.exists():
        perform("remove", folder, lambda: shutil.rmtree(folder))


def synced_folder(folder: Path) -> None:
    """Flush ``folder``'s entries (renames and removals in it) to disk."""
    perform("sync", folder, lambda: sync_folder(folder))


def _create_temporary(folder: Path, name: str) -> Path:
    """An empty new file ``.<name>.<random>.tmp`` in ``folder``.

    Created with mode 0o666 as ``open()`` does, so the umask (and a folder's default ACL) set
    its permissions; ``tempfile.mkstemp`` would make every output file private (0o600).
    """
    for _ in range(_NAME_TRIES):
        tmp = folder / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"no free temporary name for {name} in {folder}")


def _sync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def sync_folder(folder: Path) -> None:
    """Flush the folder's entry for the renamed file, so the rename itself survives a crash."""
    if os.name != "posix":
        return  # Windows cannot open a folder to fsync it
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise  # some file systems cannot sync a folder; the file itself is written
    finally:
        os.close(fd)


@contextlib.contextmanager
def safetensors_errors(path: str | os.PathLike) -> Iterator[None]:
    """Turn safetensors' own error on a failed write (a full disk, say) into an AekitError."""
    try:
        yield
    except SafetensorError as exc:
        raise AekitError(f"cannot write {path}: {exc}") from exc


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        perform("write", path, lambda: tmp.write_bytes(data))


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))
