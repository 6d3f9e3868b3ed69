"""config.json keeps the model options apart from the training options (format 2), and runs
saved in format 1, with every option under "train", still load and resume."""

import json
import shutil

import numpy as np
import pytest

import aekit
from aekit.options.train_config import MODEL_OPTIONS, TRAINING_OPTIONS
from aekit.runs.schema import SPLIT_OPTIONS_VERSION

X = np.random.default_rng(0).normal(size=(40, 6)).astype(np.float32)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("trained") / "run"
    aekit.train(X, code_size=2, hidden=[4], epochs=1, progress=False, out=out)
    return out


@pytest.fixture
def run(trained_run, tmp_path):
    return shutil.copytree(trained_run, tmp_path / "run")


def read_config(folder) -> dict:
    return json.loads((folder / "config.json").read_text())


def as_format_1(folder) -> None:
    """Rewrite the run's config.json as aekit wrote it before format 2."""
    config = read_config(folder)
    config["format_version"] = SPLIT_OPTIONS_VERSION - 1
    config["train"] = {**config.pop("model_options"), **config["train"]}
    (folder / "config.json").write_text(json.dumps(config))


def test_model_and_training_options_are_saved_apart(run):
    config = read_config(run)
    assert set(config["model_options"]) == set(MODEL_OPTIONS)
    assert set(config["train"]) == set(TRAINING_OPTIONS)
    assert not set(MODEL_OPTIONS) & set(TRAINING_OPTIONS)
    # the options as the user gave them, for --resume; "net" holds what was built from them
    assert config["model_options"]["hidden"] == [4] and config["model_options"]["norm"] is None
    assert config["net"]["norm"] == "none"


def test_a_format_1_run_loads_with_the_same_options(run):
    new = aekit.load(run)
    as_format_1(run)
    old = aekit.load(run)
    assert old.train_config == new.train_config
    np.testing.assert_array_equal(old.encode(X), new.encode(X))


def test_a_format_1_run_has_no_model_options_section(run):
    as_format_1(run)
    config = read_config(run)
    config["model_options"] = {}
    (run / "config.json").write_text(json.dumps(config))
    with pytest.raises(aekit.ModelFileError, match="model_options is not a field aekit knows"):
        aekit.load(run)


@pytest.mark.parametrize("old_format", [False, True])
def test_a_finished_run_resumes_to_itself(run, old_format):
    """--resume compares the options saved in config.json with the checkpoint's: in either
    format a finished run is reported finished instead of trained again."""
    if old_format:
        as_format_1(run)
    written = (run / "config.json").stat().st_mtime_ns
    model = aekit.train(X, out=run, resume=True, progress=False)
    assert (run / "config.json").stat().st_mtime_ns == written  # not trained and saved again
    assert model.train_config.hidden == [4]
