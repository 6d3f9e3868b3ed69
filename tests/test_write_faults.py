"""Every file operation a run makes, failed in turn; SIGKILL at random points of a save.

As SQLite's I/O error tests do, each command below runs once to count its file operations
(every one passes through ``aekit.atomic_files.perform``: make a folder, lock, create a file,
write it, sync it, rename it, remove one), then once more for each n, with the n-th failing as
a full disk (ENOSPC) or a failing disk (EIO) would. Whatever n, the command fails with an aekit
error naming the file and the cause (or, where the failure cannot harm the run, succeeds), and
the run folder is the run it held before, byte for byte, or the new run, whole, or no run:
never a mix. ``pytest tests/test_write_faults.py -s -k write_points`` prints each command's
count of write points (docs/guide/reliability.md quotes them).
"""

import errno
import hashlib
import io
import os
import random
import shutil
import signal
import subprocess
import sys
from contextlib import redirect_stderr
from pathlib import Path

import numpy as np
import onnx as onnx_file
import pytest
from matplotlib.figure import Figure

import aekit
import aekit.atomic_files
import aekit.reports.run_report
import aekit.sweeps.folder
from aekit.cli.commands import main
from aekit.runs.files import CONFIG_FILE, MANIFEST_FILE, RUN_FILES, SAVING_FOLDER, WEIGHTS_FILE

FAULTS = (errno.ENOSPC, errno.EIO)
TINY = dict(code_size=2, hidden=[8], epochs=1, batch_size=8, progress=False)
TINY_FLAGS = ["--code", "2", "--hidden", "8", "--epochs", "1", "--batch-size", "8", "--quiet"]
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16  # drawing makes no file operation, and is slow
# what a failed run's message says its folder holds (``runs.training_place.note_failure``)
TRAIN_SAYS = (
    "nothing was saved in",
    "holds no saved run, only this run's last checkpoint: aekit train --resume",
    "still holds the run saved there before, unchanged",
    "the save is committed",
    # taking the folder, before anything was read or written
    "cannot lock",
    "cannot make the folder",
)


class Faults:
    """``perform`` everywhere aekit imported it: counts the file operations, and fails the
    ``fail_at``-th with ``error``."""

    def __init__(self, monkeypatch):
        real = aekit.atomic_files.perform
        self.count, self.fail_at, self.error = 0, None, errno.ENOSPC

        def perform(doing, path, action):
            self.count += 1
            if self.count == self.fail_at:
                return real(doing, path, self._fail)
            return real(doing, path, action)

        for name, module in list(sys.modules.items()):
            if name.startswith("aekit") and getattr(module, "perform", None) is real:
                monkeypatch.setattr(module, "perform", perform)

    def _fail(self):
        raise OSError(self.error, os.strerror(self.error))

    def arm(self, fail_at: int | None, error: int = errno.ENOSPC) -> None:
        self.count, self.fail_at, self.error = 0, fail_at, error


@pytest.fixture
def faults(monkeypatch):
    # syncing matters to a crash, not to these failures; on a busy disk it is most of the time
    monkeypatch.setattr(os, "fsync", lambda fd: None)
    monkeypatch.setattr(
        aekit.reports.run_report,
        "_draw",
        lambda pictures, progress: dict.fromkeys(pictures.available(), PNG),
    )
    # the sweep's figure: an empty one, drawn in no time
    monkeypatch.setattr(aekit.sweeps.folder, "error_curves", lambda *a, **k: Figure((1, 1)))
    return Faults(monkeypatch)


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "rows.npy"
    np.save(path, np.random.default_rng(0).normal(size=(40, 6)).astype(np.float32))
    return path


@pytest.fixture(scope="module")
def old_run(data_file, tmp_path_factory):
    """A whole run with its checkpoint, evaluation and report, trained with seed 1."""
    out = tmp_path_factory.mktemp("old") / "run"
    aekit.train(str(data_file), out=out, seed=1, **TINY)
    return out


def run_files(folder: Path) -> dict[str, str]:
    """The run files in ``folder``, by name: their SHA-256."""
    return {
        name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
        for name in RUN_FILES
        if (folder / name).is_file()
    }


def state(folder: Path, old: dict[str, str] | None) -> tuple[str, aekit.Autoencoder | None]:
    """ "old": the folder's run files are ``old``'s, byte for byte; "new": another whole run
    (loading checks its files against its manifest); "none": no saved run's file is there (a
    checkpoint to resume may be). Anything else fails the test."""
    try:
        model = aekit.load(folder)
    except aekit.ModelFileError as exc:
        saved = [
            name for name in (CONFIG_FILE, WEIGHTS_FILE, MANIFEST_FILE) if (folder / name).exists()
        ]
        assert not saved, f"{folder} holds {saved} but does not load: {exc}"
        return "none", None
    return ("old" if old is not None and run_files(folder) == old else "new"), model


def outcomes(faults, before, command):
    """Run ``command`` once to count its file operations, then once for each n with the n-th
    failing (ENOSPC and EIO in turn); yield (n, the count, the error's message or None)."""
    before()
    faults.arm(None)
    command()
    points = faults.count
    print(f"\n{command.__doc__}: {points} write points")
    for n in range(1, points + 1):
        error = FAULTS[n % len(FAULTS)]
        before()
        faults.arm(n, error)
        try:
            command()
            failed = None
        except aekit.AekitError as exc:
            failed = str(exc)
        faults.arm(None)
        if failed is not None:
            assert os.strerror(error) in failed, (n, failed)
        yield f"failing operation {n} of {points}", failed


def check_each(faults, folder, source, command, allowed, new_seed=None, says=()) -> None:
    """``outcomes`` of ``command`` run on a copy of ``source`` (None: no folder) at
    ``folder``: after a failure, the folder's state is one of ``allowed`` and the message
    says one of ``says`` (where given); after a success, it is the new run. A new run is the
    one trained with ``new_seed``, where given."""
    old = None

    def before():
        nonlocal old
        shutil.rmtree(folder, ignore_errors=True)
        if source is not None:
            shutil.copytree(source, folder)
            old = run_files(folder)

    for where, failed in outcomes(faults, before, command):
        after, model = state(folder, old)
        assert after in (allowed if failed else allowed - {"none"}), (where, failed, after)
        assert not list(folder.rglob("*.tmp")), (where, "a temporary file was left")
        assert not (folder / SAVING_FOLDER).exists(), (where, "a save was left half done")
        assert not failed or not says or any(what in failed for what in says), (where, failed)
        # a save committed before the failure is the new run: never "the old one, unchanged"
        assert not failed or "committed" not in failed or "unchanged" not in failed, failed
        if new_seed is not None and (after == "new" or not failed):
            assert model.train_config.seed == new_seed, where


def cli(*args) -> None:
    """``aekit ARGS``; an AekitError carrying what it printed when it fails."""
    printed = io.StringIO()
    with redirect_stderr(printed):
        code = main([str(arg) for arg in args])
    if code != 0:
        said = printed.getvalue()
        assert said.startswith("aekit: error: ") and "Traceback" not in said, said
        raise aekit.AekitError(said)


def test_write_points_of_a_new_run(faults, data_file, tmp_path):
    out = tmp_path / "run"

    def command():
        """aekit train (a new run, with its checkpoint; no report)"""
        aekit.train(str(data_file), out=out, seed=2, report=False, **TINY)

    check_each(faults, out, None, command, {"none", "new"}, new_seed=2, says=TRAIN_SAYS)


def test_write_points_of_a_run_over_a_saved_one(faults, data_file, old_run, tmp_path):
    out = tmp_path / "run"

    def command():
        """aekit train --overwrite (over a saved run, with its checkpoint; no report)"""
        aekit.train(str(data_file), out=out, seed=2, overwrite=True, report=False, **TINY)

    check_each(faults, out, old_run, command, {"old", "new"}, new_seed=2, says=TRAIN_SAYS)


def test_a_report_that_cannot_be_saved_leaves_the_new_run_saved(
    faults, data_file, old_run, tmp_path, monkeypatch, caplog
):
    out = tmp_path / "run"
    shutil.copytree(old_run, out)

    def full_disk(*args, **kwargs):
        raise aekit.AekitError(f"cannot write {out}/report.html: {os.strerror(errno.ENOSPC)}")

    monkeypatch.setattr(aekit.reports.run_report, "save_report", full_disk)
    aekit.train(str(data_file), out=out, seed=2, overwrite=True, **TINY)
    assert state(out, None)[0] == "new" and aekit.load(out).train_config.seed == 2
    assert not (out / "report.html").exists() and not (out / "loss.png").exists()  # the old's
    assert "the run is saved, but its report could not be written" in caplog.text


def test_write_points_of_the_report_and_the_evaluation(faults, old_run, tmp_path):
    out = tmp_path / "run"

    def report():
        """aekit report RUN"""
        aekit.report(out)

    def evaluate():
        """aekit evaluate RUN"""
        cli("evaluate", out, "--quiet")

    for command in (report, evaluate):
        check_each(faults, out, old_run, command, {"old", "new"}, new_seed=1)


def test_write_points_of_an_export(faults, old_run, tmp_path):
    onnx = tmp_path / "model.onnx"

    def export():
        """aekit export RUN FILE"""
        cli("export", old_run, "-o", onnx)

    run = run_files(old_run)
    before = lambda: onnx.unlink(missing_ok=True)  # noqa: E731
    for where, failed in outcomes(faults, before, export):
        # the whole file (one in place when only syncing its folder failed) or none
        if onnx.exists() or not failed:
            assert onnx_file.load(onnx).graph.output, (where, failed)
        assert not list(tmp_path.glob(".*.tmp")), where
        assert run_files(old_run) == run, where


def test_write_points_of_a_sweep(faults, data_file, tmp_path):
    out = tmp_path / "sweep"
    flags = ["--out", out, *TINY_FLAGS[2:], "--code", "1", "--report", "off"]

    def sweep():
        """aekit sweep (a run, no report)"""
        cli("sweep", data_file, *flags)

    def before():
        shutil.rmtree(out, ignore_errors=True)

    run = out / "run"  # the folder of the sweep's one setting
    for n, (where, failed) in enumerate(outcomes(faults, before, sweep)):
        after = state(run, None)[0] if run.is_dir() else "none"
        assert after in ({"none", "new"} if failed else {"new"}), (where, failed, after)
        assert not list(out.rglob("*.tmp")), (where, "a temporary file was left")
        if n % 5 == 0:  # the sweep goes on where it stopped
            cli("sweep", data_file, *flags)
            assert state(run, None)[0] == "new", where


KILL_AT = """
import os, signal, sys
import aekit.atomic_files
from aekit.cli.commands import main

real, kill_at, count = aekit.atomic_files.perform, int(sys.argv[1]), [0]

def perform(doing, path, action):
    count[0] += 1
    if count[0] == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(doing, path, action)

for name, module in list(sys.modules.items()):
    if name.startswith("aekit") and getattr(module, "perform", None) is real:
        module.perform = perform
sys.exit(main(sys.argv[2:]))
"""


def test_sigkill_at_random_points_of_a_save(faults, data_file, old_run, tmp_path):
    args = ["train", data_file, "--seed", "2", "--overwrite", *TINY_FLAGS]
    out = tmp_path / "counted"
    shutil.copytree(old_run, out)
    faults.arm(None)
    cli(*args, "--out", out)
    points = faults.count
    killed = {}
    for seed in range(3):  # three processes at once, each killed at its own point
        out = tmp_path / f"run{seed}"
        shutil.copytree(old_run, out)
        kill_at = random.Random(seed).randint(1, points)
        command = [sys.executable, "-c", KILL_AT, str(kill_at), *map(str, args), "--out", out]
        killed[out, kill_at] = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
    old = run_files(old_run)
    for (out, kill_at), process in killed.items():
        assert process.wait() == -signal.SIGKILL, process.stderr.read()
        assert state(out, old)[0] in {"old", "new"}, (kill_at, points)
        try:  # the new run goes on from its checkpoint, or ends, or says it has none
            cli("train", "--resume", out, "--quiet")
        except aekit.AekitError as exc:
            assert "no checkpoint to resume from" in str(exc), (kill_at, exc)
        assert state(out, old)[0] in {"old", "new"}, (kill_at, points)
        assert not list(out.rglob("*.tmp")), "the next writer removes what a killed one left"
        assert not (out / SAVING_FOLDER).exists(), "the next writer finishes or discards a save"
