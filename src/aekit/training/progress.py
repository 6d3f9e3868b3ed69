"""Training progress for people: a live bar on a terminal; elsewhere (a log file, CI) a line
every few seconds or every tenth of the run, so a long run's log stays readable."""

from __future__ import annotations

import math
import sys
import time
from typing import TextIO

import torch

from ..options.defaults import LR_DROP_FACTOR


class Progress:
    """Receives the loop's events; writes to ``stream`` (stderr by default), never to stdout.

    On a terminal a single line is redrawn at most ten times a second with the running loss and
    throughput, and each epoch leaves one line. Elsewhere an epoch's line is written only when
    ``log_every`` seconds have passed since the last one or the epoch starts a new tenth of the
    planned epochs; ``end_run`` adds the last epoch's line if it was held back.
    """

    log_every = 5.0  # seconds between epoch lines off a terminal

    def __init__(self, stream: TextIO | None = None, *, live: bool | None = None):
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self._last_draw = 0.0
        self._epoch_start = 0.0
        self._count_start: float | None = None
        self._last_line = -math.inf
        self._held_back: dict | None = None

    def start_epoch(self, epoch: int, epochs: int, n_steps: int) -> None:
        self._epoch, self._epochs, self._n_steps = epoch, epochs, n_steps
        self._epoch_start = time.perf_counter()

    def step(
        self, step: int, samples: int, loss_sum: torch.Tensor, counted: int | None = None
    ) -> None:
        """``loss_sum``: the epoch's sample-weighted loss so far over ``counted`` of its
        ``samples`` (all of them unless given: on several processes, this one's share); read
        only when drawing."""
        if not self.live:
            return
        now = time.perf_counter()
        if now - self._last_draw < 0.1 and step < self._n_steps:
            return
        self._last_draw = now
        width = 24
        filled = int(width * step / max(self._n_steps, 1))
        rate = samples / max(now - self._epoch_start, 1e-9)
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(
            f"\repoch {self._epoch}/{self._epochs} [{bar}] {step}/{self._n_steps}"
            f"  loss {loss_sum.item() / max(counted or samples, 1):.5f}  {rate:,.0f} samples/s "
        )
        self.stream.flush()

    def end_epoch(self, row: dict) -> None:
        if self.live:
            self.stream.write("\r\033[K")
        elif not self._worth_a_line(row):
            self._held_back = row
            return
        self._write_epoch(row)

    def end_run(self) -> None:
        """The loop has ended: show the last epoch if its line was held back."""
        if self._held_back is not None:
            self._write_epoch(self._held_back)

    def _worth_a_line(self, row: dict) -> bool:
        epoch = row["epoch"]
        tenth = max(self._epochs // 10, 1)
        waited = time.perf_counter() - self._last_line
        regular = epoch == 1 or epoch % tenth == 0 or waited >= self.log_every
        return regular or bool(row.get("lr_drop"))

    def _write_epoch(self, row: dict) -> None:
        self._held_back = None
        self._last_line = time.perf_counter()
        val = f"  val {row['val_loss']:.5f}" if row.get("val_loss") is not None else ""
        mark = " *" if row.get("best") else ""
        if row.get("lr_drop"):  # validation stalled: the next epochs go on from the best weights
            mark += f"  stalled: lr x{LR_DROP_FACTOR ** row['lr_drop']:g} from the best weights"
        self.stream.write(
            f"epoch {row['epoch']}/{self._epochs}  train {row['train_loss']:.5f}{val}"
            f"  {row['seconds']:.1f}s  {row['samples_per_s']:,.0f} samples/s{mark}\n"
        )
        self.stream.flush()

    def message(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def count(self, label: str, done: int, total: int) -> None:
        """A long computation's count so far (``aekit.evaluate``'s IWAE NLL): on a terminal a
        redrawn line with the time left, cleared at the end; nothing elsewhere."""
        if not self.live:
            return
        now = time.perf_counter()
        if done <= 0 or self._count_start is None:
            self._count_start = now
        if now - self._last_draw < 0.1 and done < total:
            return
        self._last_draw = now
        if done >= total:
            self.stream.write("\r\033[K")
            self._count_start = None
        else:
            left = (now - self._count_start) / done * (total - done) if done else None
            eta = f"  about {left:.0f} s left" if left is not None else ""
            self.stream.write(f"\r{label}: {done}/{total}{eta} ")
        self.stream.flush()
