"""Where a training run writes while it trains, so that the run saved in its folder stays whole.

A run trained into a folder that holds no saved run trains in place: its checkpoints and
metrics go into the folder itself, and a run killed there is resumed there. A run trained over
a saved one (``overwrite``, or a finished run resumed for more epochs) trains in the folder's
next-run folder (``NEXT_RUN_FOLDER``) and replaces the saved run only when it is saved, all
together (``runs.saving``): until then, the folder is the earlier run, whole and loadable, and
``resume`` continues the run in the next-run folder.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..atomic_files import atomic_path, make_folder, move_file, perform, remove_file, remove_folder
from ..errors import AekitError, ModelFileError
from .files import CHECKPOINT_FILE, METRICS_FILE, NEXT_RUN_FOLDER
from .folder import Checkpoint, has_checkpoint, holds_run, read_checkpoint
from .saving import committed

_MAKING_NEXT_RUN = NEXT_RUN_FOLDER + ".new"


@dataclass(frozen=True)
class TrainingPlace:
    """``out``: the run folder; ``work``: where the run's checkpoints and metrics go while it
    trains (``out``, or its next-run folder when ``out`` holds a saved run)."""

    out: Path
    work: Path

    @property
    def over_saved_run(self) -> bool:
        return self.work != self.out

    @property
    def checkpoint(self) -> Path:
        return self.work / CHECKPOINT_FILE


def resume_folder(out: Path) -> Path:
    """Where resuming ``out`` continues: its next-run folder if there is one, else ``out``."""
    next_run = out / NEXT_RUN_FOLDER
    return next_run if next_run.is_dir() else out


def training_place(out: Path, resume: bool) -> TrainingPlace:
    """Where a run trained into ``out`` (``resume``: continued there) writes."""
    next_run = out / NEXT_RUN_FOLDER
    if (resume and next_run.is_dir()) or holds_run(out):
        return TrainingPlace(out, next_run)
    return TrainingPlace(out, out)


def prepare(place: TrainingPlace, resume: bool) -> None:
    """Make the place ready for training: a new run starts from nothing (an unfinished run's
    checkpoint in ``out``, a next-run folder left by a run over the saved one, are removed);
    a resumed one keeps its checkpoint, and a finished run resumed for more epochs starts its
    next-run folder with the saved run's checkpoint."""
    out, next_run = place.out, place.out / NEXT_RUN_FOLDER
    if not resume:
        remove_folder(next_run)
        if not place.over_saved_run:
            remove_file(out / CHECKPOINT_FILE)
    if place.over_saved_run and not next_run.is_dir():
        # made under another name and renamed: a next-run folder without a checkpoint is
        # always a new run that stopped before its first one (``read_resumed_checkpoint``)
        making = out / _MAKING_NEXT_RUN
        remove_folder(making)
        make_folder(making)
        if resume:
            _link_or_copy(out / CHECKPOINT_FILE, making / CHECKPOINT_FILE)
        move_file(making, next_run)


def _link_or_copy(source: Path, target: Path) -> None:
    """``source`` at ``target`` too: a hard link costs nothing, as checkpoints are replaced by
    renames, never written in place; a copy where the file system has no links."""
    try:
        perform("link", source, lambda: os.link(source, target))
    except AekitError:
        with atomic_path(target) as tmp:
            perform("copy", source, lambda: shutil.copyfile(source, tmp))


def read_resumed_checkpoint(out: Path) -> Checkpoint:
    """The checkpoint resuming ``out`` continues from (``resume_folder``)."""
    folder = resume_folder(out)
    if folder != out and not has_checkpoint(folder):
        raise ModelFileError(
            f"{out}: the run started over the one saved there stopped before its first "
            f"checkpoint, so there is no checkpoint to resume from; {out} still holds the run "
            "saved before it (train the new one again with --overwrite)"
        )
    return read_checkpoint(folder)


def note_failure(exc: AekitError, place: TrainingPlace) -> None:
    """Add to ``exc``, a failed run's error, what its folder now holds; a run that leaves
    nothing to resume leaves no partial files either."""
    out = place.out
    if committed(out):  # the new run is saved: its error says the rest is done next time
        return
    if place.over_saved_run:
        note = f"{out} still holds the run saved there before, unchanged"
        if has_checkpoint(place.work):
            note += f" (aekit train --resume {out} continues the new run from its checkpoint)"
    elif has_checkpoint(out):
        note = (
            f"{out} holds no saved run, only this run's last checkpoint: aekit train --resume "
            f"{out} continues it"
        )
    else:
        note = f"nothing was saved in {out}"
        try:
            remove_file(out / METRICS_FILE)  # the metrics of epochs no checkpoint kept
        except AekitError as removal:
            note += f" (its metrics.jsonl is left: {removal})"
    exc.args = (f"{exc}; {note}",)
