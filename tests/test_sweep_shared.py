"""aekit sweep --storage: workers sharing one Optuna study in a real PostgreSQL database.

The test starts its own server (Debian's postgresql package: ``make test`` installs it where
missing and it can) in a temp folder, on a port of its own, as a non-root user, and stops it
at the end. Skipped, saying why, only where PostgreSQL or psycopg is not installed.
"""

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import aekit
import aekit.sweeps.search as search
from aekit.sweeps.grid import grid_from_keywords
from aekit.sweeps.search import study_name

optuna = pytest.importorskip("optuna")
pytest.importorskip("psycopg", reason="the shared-study tests need pip install 'aekit[postgres]'")

CODES = [1, 2, 3, 4, 5, 6]
OPTIONS = dict(code_size=CODES, epochs=2, hidden=[8])


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; make test does)")
    return Path(found[-1]).parent


def _as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the postgres user."""
    if os.geteuid() != 0:
        return command
    if shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: cannot start PostgreSQL as another user")
    return ["runuser", "-u", "postgres", "--", *command]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def database():
    """The URL of a fresh PostgreSQL server's database, trusted on 127.0.0.1 only."""
    bin_dir = _pg_bin()
    # not under pytest's temp folder, which only its owner may enter
    home = Path(tempfile.mkdtemp(prefix="aekit-postgres-"))
    if os.geteuid() == 0:
        shutil.chown(home, "postgres", "postgres")
    data, port = home / "data", _free_port()
    initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", "aekit", "-A", "trust"]
    options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1"
    start = [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(home / "log")]
    try:
        _server_command(initdb, home)
        _server_command([*start, "-w", "start"], home)
        yield f"postgresql://aekit@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            stop = [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]
            _server_command(stop, home)
        shutil.rmtree(home, ignore_errors=True)


def _server_command(command: list[str], home: Path) -> None:
    done = subprocess.run(_as_server_user(command), capture_output=True, text=True, cwd=home)
    assert done.returncode == 0, f"{command[0]} failed: {done.stdout}{done.stderr}"


def _study(url: str):
    name = study_name(grid_from_keywords(OPTIONS))
    return optuna.load_study(study_name=name, storage=url.replace("://", "+psycopg://", 1))


def _worker(data: Path, out: Path, url: str, trials: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "aekit", "sweep", str(data), "--out", str(out)]
    command += ["--search", "optuna", "--trials", str(trials), "--storage", url, "--quiet"]
    command += ["--code", ",".join(map(str, CODES)), "--hidden", "8", "--epochs", "2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_two_workers_share_one_study_and_stop_at_its_budget(database, tmp_path, low_rank):
    np.save(tmp_path / "x.npy", low_rank)
    workers = [_worker(tmp_path / "x.npy", tmp_path / "sweep", database, 4) for _ in range(2)]
    for worker in workers:
        output = worker.communicate(timeout=300)[0].decode()
        assert worker.returncode == 0, output
    trials = _study(database).get_trials()
    states = [trial.state for trial in trials]
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == 4  # the budget is the study's, not each worker's
    assert optuna.trial.TrialState.RUNNING not in states
    assert optuna.trial.TrialState.WAITING not in states
    # a worker stops at the trial it asks past the budget: at most one such trial each
    pruned = [t for t in trials if t.state == optuna.trial.TrialState.PRUNED]
    assert len([t for t in pruned if t.user_attrs.get("pruned") == "budget"]) <= 2
    # a setting both asked for at once is run by the worker that locked its folder first
    assert all(t.user_attrs.get("pruned") in ("budget", "taken") for t in pruned)
    table = pd.read_csv(tmp_path / "sweep" / "sweep.csv")
    assert sorted(table["trial"]) == sorted(t.number for t in complete)


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed:UserWarning")
def test_a_dead_workers_trial_is_run_again(database, tmp_path, low_rank, monkeypatch):
    monkeypatch.setattr(search, "HEARTBEAT_SECONDS", 1)
    monkeypatch.setattr(search, "GRACE_SECONDS", 2)
    options = dict(OPTIONS, code_size=[7, 8])  # a study of its own
    out = tmp_path / "sweep"
    aekit.sweep(low_rank, out=out, search="optuna", trials=1, storage=database, **options)
    # a worker that asked for a trial, beat once, and died
    storage = optuna.storages.RDBStorage(
        database.replace("://", "+psycopg://", 1), heartbeat_interval=1, grace_period=2
    )
    name = study_name(grid_from_keywords(options))
    study = optuna.load_study(study_name=name, storage=storage)
    dead = study.ask({"code_size": study.trials[0].distributions["code_size"]})
    storage.record_heartbeat(dead._trial_id)
    time.sleep(3)

    frame = aekit.sweep(low_rank, out=out, search="optuna", trials=2, storage=database, **options)
    trials = optuna.load_study(study_name=name, storage=storage).get_trials()
    assert trials[dead.number].state == optuna.trial.TrialState.FAIL
    retry = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
    retry = retry or optuna.storages.RetryFailedTrialCallback
    retried = [t for t in trials if retry.retried_trial_number(t) == dead.number]
    assert [t.number for t in retried] == [dead.number + 1]
    assert retried[0].params == dead.params and retried[0].state.is_finished()
    assert len(frame) == 2
