"""One writer per run folder (aekit.runs.lock): a second one is refused, naming the holder,
and writes nothing; a lock whose holder was killed is taken over."""

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import aekit
from aekit.cli.commands import main
from aekit.runs.lock import FolderLock

HOOKS = Path(__file__).with_name("aekit_with_test_hooks.py")
TINY = ["--code", "2", "--hidden", "8", "--epochs", "3", "--batch-size", "8", "--quiet"]


@pytest.fixture
def data_file(tmp_path):
    path = tmp_path / "rows.npy"
    np.save(path, np.random.default_rng(0).normal(size=(40, 6)).astype(np.float32))
    return path


def listing(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_two_trains_into_one_folder_at_once_one_is_refused(tmp_path, data_file):
    out = tmp_path / "run"
    # each epoch 2 s longer: the first to take the folder is still training when the
    # other, started with it, comes to take it
    env = {**os.environ, "AEKIT_TEST_SLOW": "2"}
    processes = [
        subprocess.Popen(
            [sys.executable, str(HOOKS), "train", str(data_file), "--out", str(out)]
            + [*TINY, "--seed", str(seed), "--report", "off"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (1, 2)
    ]
    ended = [(process.wait(timeout=120), *process.communicate()) for process in processes]
    codes = sorted(code for code, _, _ in ended)
    assert codes == [0, 2], ended
    winner = next(seed for seed, (code, _, _) in zip((1, 2), ended, strict=True) if code == 0)
    refused = next(err for code, _, err in ended if code != 0)
    assert f"{out} is in use: aekit process " in refused, refused
    assert socket.gethostname() in refused and "nothing was written" in refused, refused
    assert "Traceback" not in refused
    model = aekit.load(out)  # the winner's whole run, nothing of the other's
    assert model.train_config.seed == winner and model.result["epochs_run"] == 3


def test_a_second_writer_is_told_who_holds_the_folder_and_writes_nothing(tmp_path, data_file):
    out = tmp_path / "run"
    assert main(["train", str(data_file), "--out", str(out), *TINY]) == 0
    lock = FolderLock(out)
    lock.acquire()
    try:
        before = listing(out)
        holder = json.loads((out / ".aekit.lock").read_text())
        with pytest.raises(aekit.ConfigError) as refused:
            aekit.train(str(data_file), out=out, overwrite=True, progress=False)
        message = str(refused.value)
        assert f"{out} is in use: aekit process {os.getpid()} on {socket.gethostname()}" in message
        assert f"started {holder['started']}" in message
        assert listing(out) == before
    finally:
        lock.release()
    assert not (out / ".aekit.lock").exists()  # a writer that ends removes its lock file


@pytest.mark.parametrize(
    "command",
    [
        ["evaluate", "{run}", "--quiet"],
        ["report", "{run}", "--quiet"],
        ["train", "--resume", "{run}", "--epochs", "4", "--quiet"],
    ],
)
def test_evaluate_report_and_resume_take_the_lock(tmp_path, data_file, command, capsys):
    out = tmp_path / "run"
    assert main(["train", str(data_file), "--out", str(out), *TINY]) == 0
    lock = FolderLock(out)
    lock.acquire()
    try:
        before = listing(out)
        capsys.readouterr()
        assert main([part.format(run=out) for part in command]) == 2
        assert f"{out} is in use: aekit process {os.getpid()}" in capsys.readouterr().err
        assert listing(out) == before
    finally:
        lock.release()


def test_a_sweep_takes_its_folder(tmp_path, data_file, capsys):
    out = tmp_path / "sweep"
    out.mkdir()
    lock = FolderLock(out)
    lock.acquire()
    try:
        assert main(["sweep", str(data_file), "--out", str(out), *TINY]) == 2
        assert f"{out} is in use" in capsys.readouterr().err
        assert sorted(path.name for path in out.iterdir()) == [".aekit.lock"]
    finally:
        lock.release()


TAKE_AND_DIE = """
import os, signal, sys
from aekit.runs.lock import FolderLock
FolderLock(sys.argv[1]).acquire()
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_the_lock_of_a_killed_writer_is_taken_over(tmp_path, data_file, caplog):
    out = tmp_path / "run"
    out.mkdir()
    killed = subprocess.run([sys.executable, "-c", TAKE_AND_DIE, str(out)])
    assert killed.returncode == -signal.SIGKILL
    left = json.loads((out / ".aekit.lock").read_text())  # its holder never removed it
    aekit.train(str(data_file), out=out, code_size=2, hidden=[8], epochs=1, progress=False)
    assert f"taking over the lock of aekit process {left['pid']}" in caplog.text
    assert aekit.load(out).result["epochs_run"] == 1
