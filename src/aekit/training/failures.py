"""How training fails or stops before its end, and what the user is told: the errors, and
messages that say where the last good state is and how to go on."""

from __future__ import annotations

from ..errors import AekitError
from ..options.train_config import TrainConfig
from .distributed import Ranks
from .loop_state import LoopState


class TrainingError(AekitError):
    """Training cannot go on (for example the loss became NaN)."""


class TrainingInterrupted(AekitError):
    """SIGINT or SIGTERM arrived; the step finished and a checkpoint was written."""


def nonfinite_message(epoch: int, loop: LoopState, config: TrainConfig, folder) -> str:
    where = f"; the last good state is in {folder}" if folder is not None else ""
    return (
        f"the loss or its gradient became NaN or infinite in epoch {epoch}, step {loop.step + 1}"
        f" ({loop.skipped} non-finite batch(es), {config.skip_nonfinite} allowed){where}. "
        f"Try a lower learning rate (now {config.lr}), --clip-grad, or --skip-nonfinite N"
    )


def bad_state_message(loop: LoopState, config: TrainConfig, folder) -> str:
    where = f"; the last good checkpoint in {folder} is kept" if folder is not None else ""
    return (
        f"the weights became NaN or infinite in epoch {loop.epoch}, at or before step "
        f"{loop.step} (a non-finite gradient with a finite loss){where}. Try a lower learning "
        f"rate (now {config.lr}), --clip-grad, or --skip-nonfinite N"
    )


def interrupt_message(epoch: int, loop: LoopState, folder, ranks: Ranks) -> str:
    command = f"aekit train --resume {folder}"
    if ranks.size > 1:
        command = f"torchrun ... -m {command} on {ranks.size} processes in all, as now"
    return (
        f"training interrupted in epoch {epoch} after step {loop.step}; the checkpoint is in "
        f"{folder}. Resume with: {command}"
    )
