"""SIGINT and SIGTERM during training: ask the loop to stop after its current step.

The loop then writes a checkpoint and raises, so Ctrl-C or a scheduler's SIGTERM never leaves a
run without a resumable state.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def stop_requests(*, enabled: bool) -> Iterator[Callable[[], bool]]:
    """While training, SIGINT/SIGTERM only set a flag; the loop stops after the current step."""
    requested = threading.Event()
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield requested.is_set
        return

    def handler(signum, frame):
        requested.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield requested.is_set
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
