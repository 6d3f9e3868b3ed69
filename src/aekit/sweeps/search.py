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
import json
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import ConfigError
from .folder import search_storage
from .grid import Grid

# the row's figure the search minimises (in the data's units, so runs with other losses or
# scalings compare: each run's own validation loss would not)
OBJECTIVE = "val_mse"


def run_search(
    grid: Grid,
    folder: Path,
    trials: int,
    seed: int,
    run_trial: Callable[[dict, str], dict],
) -> list[dict]:
    """Run the study in ``folder`` until ``trials`` trials are complete; the rows of every
    complete trial, in trial order, each with its ``"trial"`` number first.

    run_trial(setting, position): trains or loads the setting's run and returns its row;
    ``position`` is what the progress line shows (``trial 3/20``).
    """
    optuna = check_search(grid)
    with _quiet(optuna):
        complete = optuna.trial.TrialState.COMPLETE
        study = optuna.create_study(
            storage=search_storage(folder),
            study_name=study_name(grid),
            direction="minimize",
            load_if_exists=True,
        )
        done = study.get_trials(deepcopy=False, states=(complete,))
        # seeded and offset by the trials done, so a resumed search goes on reproducibly
        # rather than replaying the sampler's first draws (runs already done)
        study.sampler = optuna.samplers.TPESampler(seed=seed + len(done))
        _requeue_interrupted(optuna, study)
        rows = []
        for trial in done:
            row = run_trial(_setting(grid, trial.params), f"trial {len(rows) + 1}/{trials}")
            rows.append({"trial": trial.number, **row})
        while len(rows) < trials:
            trial = study.ask()
            setting = {
                name: grid.choices(name)[trial.suggest_categorical(name, list(grid.choices(name)))]
                for name in grid.swept
            }
            try:
                row = run_trial(setting, f"trial {len(rows) + 1}/{trials}")
                if row.get(OBJECTIVE) is None:
                    raise ConfigError(
                        f"{row['run']} has no validation data to choose by: the search needs a "
                        "validation split (val_fraction > 0, and enough samples)"
                    )
            except BaseException:
                study.enqueue_trial(trial.params)  # the next invocation resumes this run
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                raise
            study.tell(trial, row[OBJECTIVE])
            rows.append({"trial": trial.number, **row})
    return rows


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
