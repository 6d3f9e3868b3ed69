"""aekit.sweep(search="optuna"): TPE over the grid's values by validation MSE, resumable."""

import sys

import pytest

import aekit
import aekit.sweeps.driver
from aekit.errors import ConfigError
from aekit.runs.lock import FolderLock
from aekit.sweeps.grid import grid_from_keywords
from aekit.sweeps.search import study_name

optuna = pytest.importorskip("optuna")

OPTIONS = dict(code_size=[1, 2, 3, 4], epochs=2, hidden=[16])


def _study(out):
    return optuna.load_study(
        study_name=study_name(grid_from_keywords(OPTIONS)),
        storage=f"sqlite:///{out / 'optuna.db'}",
    )


def test_search_resumes_counting_trials_done_and_picks_by_validation(
    tmp_path, low_rank, monkeypatch
):
    out = tmp_path / "search"
    first = aekit.sweep(low_rank, out=out, search="optuna", trials=2, **OPTIONS)
    assert first["trial"].tolist() == [0, 1]

    trained = []
    train = aekit.sweeps.driver.train
    monkeypatch.setattr(
        aekit.sweeps.driver, "train", lambda *a, **k: trained.append(k["out"]) or train(*a, **k)
    )
    frame = aekit.sweep(low_rank, out=out, search="optuna", trials=3, **OPTIONS)
    assert frame["trial"].tolist() == [0, 1, 2]  # the two done count toward the three
    assert len(trained) <= 1  # at most the third trial's run is new (it may repeat one)
    assert frame[["trial", "val_mse"]].iloc[:2].equals(first[["trial", "val_mse"]])

    study = _study(out)
    assert study.best_value == frame["val_mse"].min()  # validation, never test
    assert frame.loc[frame["best"], "trial"].tolist() == [study.best_trial.number]
    for row in frame.to_dict("records"):
        assert row["run"] == str(out / f"code={row['code_size']}")
        assert study.trials[row["trial"]].value == row["val_mse"]


def test_an_interrupted_trial_runs_again_from_its_checkpoint(tmp_path, low_rank, monkeypatch):
    out = tmp_path / "search"
    train = aekit.sweeps.driver.train

    def interrupted(*args, **kwargs):
        train(*args, **{**kwargs, "epochs": 1})  # leaves a run with a checkpoint, unfinished
        raise KeyboardInterrupt

    monkeypatch.setattr(aekit.sweeps.driver, "train", interrupted)
    with pytest.raises(KeyboardInterrupt):
        aekit.sweep(low_rank, out=out, search="optuna", trials=2, **OPTIONS)
    monkeypatch.undo()
    states = [trial.state.name for trial in _study(out).trials]
    assert states == ["FAIL", "WAITING"]  # failed, and its setting queued again
    interrupted_run = _study(out).trials[0].params

    frame = aekit.sweep(low_rank, out=out, search="optuna", trials=1, **OPTIONS)
    assert frame["code_size"].tolist() == [int(interrupted_run["code_size"])]
    assert frame["epochs"].tolist() == [2]


def test_search_needs_optuna_trials_and_a_choice(tmp_path, low_rank, monkeypatch):
    out = tmp_path / "search"
    with pytest.raises(ConfigError, match="needs trials, a positive integer; got None"):
        aekit.sweep(low_rank, out=out, search="optuna", **OPTIONS)
    with pytest.raises(ConfigError, match="trials is for search='optuna'"):
        aekit.sweep(low_rank, out=out, trials=3, **OPTIONS)
    with pytest.raises(ConfigError, match="val_fraction must be above 0"):
        aekit.sweep(low_rank, out=out, search="optuna", trials=2, val_fraction=0, **OPTIONS)
    with pytest.raises(ConfigError, match="give at least one option two or more"):
        aekit.sweep(low_rank, out=out, search="optuna", trials=2, code_size=2, epochs=1)
    monkeypatch.setitem(sys.modules, "optuna", None)  # as if it were not installed
    with pytest.raises(ConfigError, match=r"pip install 'aekit\[sweep\]'"):
        aekit.sweep(low_rank, out=out, search="optuna", trials=2, **OPTIONS)


def test_a_storage_is_for_a_search_and_a_bad_one_is_named_without_its_password(tmp_path, low_rank):
    with pytest.raises(ConfigError, match="storage is for search='optuna'"):
        aekit.sweep(low_rank, out=tmp_path / "grid", storage="sqlite:///x.db", **OPTIONS)
    url = "postgresql://aekit:secret@127.0.0.1:1/nowhere"  # no server listens on port 1
    with pytest.raises(ConfigError, match="cannot open the storage") as caught:
        aekit.sweep(low_rank, out=tmp_path / "s", search="optuna", trials=1, storage=url, **OPTIONS)
    assert "secret" not in str(caught.value) and "127.0.0.1:1/nowhere" in str(caught.value)


def test_a_setting_another_worker_is_running_gives_way(tmp_path, low_rank, monkeypatch):
    """Workers sharing a study may ask for one setting at the same moment: the one that finds
    its run folder locked prunes its trial and asks again, instead of failing the worker."""
    run = aekit.sweeps.driver._Runner.run
    taken = []

    def first_is_taken(self, setting, *args, **kwargs):
        if not taken:  # the first setting asked for: another worker holds its run folder
            taken.append(setting)
            folder = tmp_path / "elsewhere"
            folder.mkdir()
            held = FolderLock(folder)
            held.acquire()
            try:
                FolderLock(folder).acquire()
            finally:
                held.release()
        return run(self, setting, *args, **kwargs)

    monkeypatch.setattr(aekit.sweeps.driver._Runner, "run", first_is_taken)
    out = tmp_path / "sweep"
    frame = aekit.sweep(low_rank, out=out, search="optuna", trials=2, **OPTIONS)
    assert taken and len(frame) == 2  # the worker went on to the study's two trials
