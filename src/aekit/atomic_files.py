"""Atomic file writes: a reader (or a crash) sees the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from safetensors import SafetensorError

from .errors import AekitError

_NAME_TRIES = 100


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
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = _create_temporary(folder, path.name)
    except OSError as exc:
        raise AekitError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        _sync_folder(folder)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise AekitError(f"cannot write {path}: {exc.strerror or exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


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


def _sync_folder(folder: Path) -> None:
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
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))
