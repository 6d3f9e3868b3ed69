"""One writer per folder: ``FolderLock`` holds an OS lock on the folder's ``.aekit.lock`` while a
run, a sweep, ``aekit evaluate`` or ``aekit report`` writes into the folder.

The lock is ``fcntl.flock``: the kernel lets go of it when its process ends, however it ends,
so a lock left by a killed process (kill -9, the out-of-memory killer) is free at once and the
next writer takes it over (and says whose it was). The holder writes its pid, host, start time
and command into the file, for the error a second writer gets; it removes the file when done,
and a writer that locked a file removed meanwhile tries again on the new one, so two writers
never both hold "the" lock. On systems without fcntl (Windows) there is no lock.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import time
from pathlib import Path

from ..atomic_files import perform
from ..errors import AekitError, ConfigError
from .files import LOCK_FILE

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

log = logging.getLogger(__name__)

_TRIES = 20  # lock files removed under a waiting writer in a row before it gives up


class FolderInUse(ConfigError):
    """Another process holds the folder's lock: it is writing the folder now."""


class FolderLock:
    """The lock of ``folder``, taken by ``acquire`` (ConfigError naming its holder when another
    process holds it) and given back by ``release``."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_FILE
        self.fd: int | None = None

    def acquire(self) -> None:
        if fcntl is None:
            return
        for _ in range(_TRIES):
            fd = perform("lock", self.path, self._open)
            if not self._lock(fd):
                holder = _read_holder(fd)
                os.close(fd)
                raise FolderInUse(
                    f"{self.folder} is in use: {_describe(holder)} is writing it; nothing was "
                    "written. Wait for it to end, or choose another folder"
                )
            if _same_file(fd, self.path):
                self.fd = fd
                break
            os.close(fd)  # its holder removed that file as we waited: lock the new one
        else:
            raise AekitError(f"cannot lock {self.path}: it keeps being replaced")
        left = _read_holder(self.fd)
        if left:  # its writer never removed it: it was killed, or its machine lost
            log.warning("%s: taking over the lock of %s, now gone", self.folder, _describe(left))
        try:
            perform("lock", self.path, lambda: _write_holder(self.fd))
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        """Remove the lock file, then let go of the lock (in that order: see ``acquire``).
        Never fails: a lock file left behind only says who wrote the folder last."""
        if self.fd is None:
            return
        try:
            perform("unlock", self.path, lambda: self.path.unlink(missing_ok=True))
        except AekitError as exc:
            log.debug("%s", exc)
        os.close(self.fd)
        self.fd = None

    def _open(self) -> int:
        return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)

    def _lock(self, fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        except OSError as exc:  # no locks on this file system (some network ones)
            os.close(fd)
            raise AekitError(f"cannot lock {self.path}: {exc.strerror or exc}") from exc
        return True


def _same_file(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd``."""
    try:
        here = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)


def _write_holder(fd: int) -> None:
    holder = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "command": " ".join(sys.argv)[:300],
    }
    data = json.dumps(holder).encode("utf-8")
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)


def _read_holder(fd: int) -> dict:
    """What the lock's holder wrote of itself; {} when it wrote nothing (yet)."""
    try:
        holder = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _describe(holder: dict) -> str:
    if not holder:
        return "another aekit process"
    return (
        f"aekit process {holder.get('pid')} on {holder.get('host')}, started "
        f"{holder.get('started')} ({holder.get('command')})"
    )
