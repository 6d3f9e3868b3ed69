"""A sweep's Optuna search: TPE over the grid's values, minimising validation error.

Optuna is optional (``pip install 'aekit[sweep]'``). The study lives in the sweep folder
(``sqlite:///SWEEP/optuna.db``) under a name fixed by the grid, so running the same command
again resumes it: trials already complete count toward the number asked for, and a trial
interrupted mid-run is queued again and resumes its run folder. The objective is the run's
validation MSE, never a test figure.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import socket
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import ConfigError
from ..runs.lock import FolderInUse
from .folder import search_storage
from .grid import Grid

# the row's figure the search minimises (in the data's units, so runs with other losses or
# scalings compare: each run's own validation loss would not)
OBJECTIVE = "val_mse"
# a shared study's liveness: each running trial records a heartbeat this often, and one
# silent for GRACE_SECONDS is taken for dead (its worker killed, its machine gone)
HEARTBEAT_SECONDS = 30
GRACE_SECONDS = 120
OPEN_ATTEMPTS = 3


def run_search(
    grid: Grid,
    folder: Path,
    trials: int,
    seed: int,
    run_trial: Callable[[dict, str], dict],
    storage: str | None = None,
) -> list[dict]:
    """Run the study until ``trials`` of its trials are complete or running (counted over every
    worker sharing it); the rows of every complete trial, in trial order, each with its
    ``"trial"`` number first.

    run_trial(setting, position): trains or loads the setting's run and returns its row;
    ``position`` is what the progress line shows (``trial 3/20``).
    storage: an SQLAlchemy URL of a shared database (``postgresql://...``) for workers on
    several machines; default: SQLite in ``folder``, for one worker.
    """
    optuna = check_search(grid)
    with _quiet(optuna):
        study = optuna.create_study(
            storage=_storage(optuna, folder, storage),
            study_name=study_name(grid),
            direction="minimize",
            load_if_exists=True,
        )
        done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        # seeded and offset by the trials done, so a resumed search goes on reproducibly
        # rather than replaying the sampler's first draws (runs already done); workers sharing
        # a study each draw their own and avoid the settings of trials still running
        shared = storage is not None
        offset = len(done) + (_worker_number() if shared else 0)
        study.sampler = optuna.samplers.TPESampler(seed=seed + offset, constant_liar=shared)
        if shared:  # trials whose workers stopped beating: failed, their settings queued
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                optuna.storages.fail_stale_trials(study)
        else:  # one worker: whatever a killed sweep left running is dead
            _requeue_interrupted(optuna, study)
        mine: dict[int, dict] = {}
        objective = _objective(optuna, study, grid, trials, run_trial, mine)
        if len(_counted(optuna, study)) < trials:
            study.optimize(objective, callbacks=[_stop_at_budget(optuna, trials)])
        rows = []
        for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
            position = f"trial {len(rows) + 1}/{trials}"
            row = mine.get(trial.number) or run_trial(_setting(grid, trial.params), position)
            rows.append({"trial": trial.number, **row})
    return rows


def _objective(optuna, study, grid: Grid, trials: int, run_trial, mine: dict) -> Callable:
    """The trial's run: its row kept in ``mine``; its validation MSE the objective. A trial
    asked once the study's budget is used (another worker took the last place) is pruned and
    stops this worker."""

    def objective(trial) -> float:
        ahead = len(_counted(optuna, study, below=trial.number))
        if ahead >= trials:
            study.stop()
            trial.set_user_attr("pruned", "budget")
            raise optuna.TrialPruned("the study's trials are all taken")
        setting = {
            name: grid.choices(name)[trial.suggest_categorical(name, list(grid.choices(name)))]
            for name in grid.swept
        }
        try:
            row = run_trial(setting, f"trial {ahead + 1}/{trials}")
            if row.get(OBJECTIVE) is None:
                raise ConfigError(
                    f"{row['run']} has no validation data to choose by: the search needs a "
                    "validation split (val_fraction > 0, and enough samples)"
                )
        except FolderInUse as exc:
            # another worker asked for the same setting at the same moment and holds its run:
            # its trial will have the row; this one gives way, and the worker asks again
            trial.set_user_attr("pruned", "taken")
            raise optuna.TrialPruned(str(exc)) from exc
        except BaseException:
            study.enqueue_trial(trial.params)  # the next invocation resumes this run
            raise
        mine[trial.number] = row
        return row[OBJECTIVE]

    return objective


def _stop_at_budget(optuna, trials: int) -> Callable:
    """After each trial: stop once the study's trials, complete or running, reach the budget."""

    def callback(study, trial) -> None:
        if len(_counted(optuna, study)) >= trials:
            study.stop()

    return callback


def _counted(optuna, study, below: int | None = None) -> list:
    """The trials the budget counts (complete or running), numbered below ``below`` if given:
    failed ones are not (their settings are queued again), nor pruned ones."""
    state = optuna.trial.TrialState
    counted = study.get_trials(deepcopy=False, states=(state.COMPLETE, state.RUNNING))
    return [t for t in counted if below is None or t.number < below]


def _storage(optuna, folder: Path, url: str | None):
    """The study's storage: SQLite in the sweep folder, or the shared database at ``url``
    with heartbeats, so a trial whose worker died (no heartbeat for ``GRACE_SECONDS``) is
    failed by the next worker to ask and its setting queued again."""
    if url is None:
        return search_storage(folder)
    for attempt in range(OPEN_ATTEMPTS):
        try:
            return _shared_storage(optuna, url)
        except ImportError as error:  # the database's driver (psycopg for postgresql://)
            raise ConfigError(
                f"the storage {_without_password(url)} needs a database driver that is not "
                f"installed ({error}); for PostgreSQL: pip install 'aekit[postgres]'"
            ) from None
        except Exception as error:  # SQLAlchemy's: a bad URL, an unreachable server
            # workers started together race to create the study's tables: one wins, and the
            # others find them on their next attempt
            if attempt + 1 == OPEN_ATTEMPTS:
                shown = _without_password(url)
                raise ConfigError(f"cannot open the storage {shown}: {error}") from None
            time.sleep(1 + attempt)
    raise AssertionError("unreachable")


def _shared_storage(optuna, url: str):
    # Optuna 4.9 renamed the retry callback; heartbeats are "experimental" (since 2.8)
    retry = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if retry is not None:
            callback = {"heartbeat_stale_trial_callback": retry(max_retry=None)}
        else:
            callback = {"failed_trial_callback": optuna.storages.RetryFailedTrialCallback(None)}
        return optuna.storages.RDBStorage(
            _with_driver(url),
            heartbeat_interval=HEARTBEAT_SECONDS,
            grace_period=GRACE_SECONDS,
            **callback,
        )


def _with_driver(url: str) -> str:
    """``postgresql://`` with psycopg (aekit[postgres]) where psycopg2, SQLAlchemy's default
    driver for it, is not installed; any other URL as given."""
    from sqlalchemy.engine import make_url  # with Optuna, which is optional

    parsed = make_url(url)
    missing = importlib.util.find_spec("psycopg2") is None
    if parsed.drivername == "postgresql" and missing and importlib.util.find_spec("psycopg"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def _without_password(url: str) -> str:
    """The URL as a message may show it: a password replaced by ***."""
    from sqlalchemy.engine import make_url  # with Optuna, which is optional

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(an unreadable URL)"


def _worker_number() -> int:
    """A number of this worker's own (host and process), so workers draw other settings."""
    text = f"{socket.gethostname()}:{os.getpid()}"
    return int(hashlib.sha256(text.encode()).hexdigest()[:6], 16)


def check_search(grid: Grid):
    """Optuna (the module), once it is installed and ``grid`` gives it values to choose among;
    else ConfigError saying what to do."""
    optuna = _import_optuna()
    if not grid.swept:
        raise ConfigError(
            "an Optuna search chooses among values: give at least one option two or more "
            "(--code 2,4,8)"
        )
    return optuna


def study_name(grid: Grid) -> str:
    """Fixed by the grid: the same command finds its study; another grid gets its own
    (Optuna refuses a parameter whose choices change within one study), and so do longer runs
    (more epochs or time), as the trials' validation errors would be those of shorter ones."""
    text = json.dumps(grid.to_dict(), sort_keys=True)
    return "aekit-sweep-" + hashlib.sha256(text.encode()).hexdigest()[:12]


def _requeue_interrupted(optuna, study) -> None:
    """Trials a killed sweep left running: failed, and their settings queued again (their run
    folders hold checkpoints, so the queued trial resumes rather than retrains)."""
    running = optuna.trial.TrialState.RUNNING
    for trial in study.get_trials(deepcopy=False, states=(running,)):
        study.enqueue_trial(trial.params)
        study.tell(trial.number, state=optuna.trial.TrialState.FAIL)


def _setting(grid: Grid, params: dict) -> dict:
    return {name: grid.choices(name)[params[name]] for name in grid.swept}


def _import_optuna():
    try:
        import optuna
    except ImportError:
        raise ConfigError(
            "search='optuna' needs Optuna, which is optional: pip install 'aekit[sweep]'"
        ) from None
    return optuna


@contextlib.contextmanager
def _quiet(optuna) -> Iterator[None]:
    """Optuna logs every trial at INFO on stderr; the sweep prints its own line per run."""
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(verbosity)
