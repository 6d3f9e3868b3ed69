"""``python -m aekit`` with hooks for tests/test_distributed.py, run by torchrun (or python).

Each hook is switched on by an environment variable that only these tests set:

- AEKIT_TEST_RECORD=FOLDER: every process writes the rows of each training batch it is given
  (their first values, which tell the tiny test data's rows apart) to FOLDER/rank<R>.json;
- AEKIT_TEST_FAIL=RANK:EPOCH: process RANK raises an AekitError once it has trained epoch
  EPOCH, as a process that fails (a full disk, a bad copy of the data) does;
- AEKIT_TEST_KILL=RANK:N: process RANK kills itself with SIGKILL once it has written its Nth
  checkpoint, as the out-of-memory killer or a lost machine does;
- AEKIT_TEST_SLOW=SECONDS: every epoch takes SECONDS longer, so that a second writer started
  with this one finds it still at work (tests/test_run_lock.py).
"""

import json
import os
import signal
import sys
import time
from pathlib import Path

import aekit.training.trainer
from aekit.cli.commands import main
from aekit.errors import AekitError
from aekit.models.ae import AutoencoderNet

RANK = int(os.environ.get("RANK", "0"))


def record_batches(folder: Path) -> None:
    batches = []
    real_loss = AutoencoderNet.loss

    def loss(self, x, target=None):
        if self.training:  # a training step, not validation
            batches.append(target.flatten(1)[:, 0].tolist())
            (folder / f"rank{RANK}.json").write_text(json.dumps(batches))
        return real_loss(self, x, target=target)

    AutoencoderNet.loss = loss


def fail_after_epoch(epoch: int) -> None:
    real_end_epoch = aekit.training.trainer.Trainer.end_epoch

    def end_epoch(self, out_of_time):
        row = real_end_epoch(self, out_of_time)
        if row["epoch"] == epoch:
            raise AekitError(f"process {RANK} failed on purpose after epoch {epoch} (test hook)")
        return row

    aekit.training.trainer.Trainer.end_epoch = end_epoch


def kill_after_checkpoints(count: int) -> None:
    real_write = aekit.training.trainer.write_checkpoint
    written = []

    def write_checkpoint(folder, checkpoint):
        path = real_write(folder, checkpoint)
        written.append(path)
        if len(written) == count:
            os.kill(os.getpid(), signal.SIGKILL)
        return path

    aekit.training.trainer.write_checkpoint = write_checkpoint


def slow_epochs(seconds: float) -> None:
    real_end_epoch = aekit.training.trainer.Trainer.end_epoch

    def end_epoch(self, out_of_time):
        time.sleep(seconds)
        return real_end_epoch(self, out_of_time)

    aekit.training.trainer.Trainer.end_epoch = end_epoch


def rank_and_value(name: str) -> int | None:
    """The number in ``RANK:NUMBER`` of the variable ``name`` when RANK is this process."""
    rank, _, value = os.environ.get(name, "").partition(":")
    return int(value) if rank and int(rank) == RANK else None


if "AEKIT_TEST_RECORD" in os.environ:
    record_batches(Path(os.environ["AEKIT_TEST_RECORD"]))
if (epoch := rank_and_value("AEKIT_TEST_FAIL")) is not None:
    fail_after_epoch(epoch)
if (count := rank_and_value("AEKIT_TEST_KILL")) is not None:
    kill_after_checkpoints(count)
if "AEKIT_TEST_SLOW" in os.environ:
    slow_epochs(float(os.environ["AEKIT_TEST_SLOW"]))
sys.exit(main(sys.argv[1:]))
