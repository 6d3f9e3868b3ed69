"""Options from a TOML file (options/config_file.py): what a file may hold, a key given twice."""

import numpy as np
import pandas as pd
import pytest

import aekit
from aekit import ConfigError
from aekit.options.config_file import read_config_file
from aekit.sweeps.grid import read_sweep_file


@pytest.mark.parametrize(
    "text",
    [
        "code_size = 3\n[train]\ncode_size = 5\n",
        "code_size = 3\ncode-size = 5\n",  # dashes are read as underscores: the same key
    ],
)
def test_a_key_given_twice_with_two_values_is_refused(tmp_path, text):
    path = tmp_path / "options.toml"
    path.write_text(text)
    for read in (read_config_file, read_sweep_file):
        with pytest.raises(ConfigError, match=r"options\.toml: code_size is given twice") as info:
            read(path)
        assert "3" in str(info.value) and "5" in str(info.value)


def test_sweep_file_refuses_a_key_under_both_train_and_sweep(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text("[train]\ncode_size = 8\n[sweep]\ncode_size = [2, 4]\n")
    with pytest.raises(ConfigError, match=r"code_size is given twice.*\[train\].*\[sweep\]"):
        read_sweep_file(path)
    assert read_config_file(path)["code_size"] == 8  # train skips [sweep]: no conflict there


def test_the_same_value_in_two_places_is_no_conflict(tmp_path):
    path = tmp_path / "options.toml"
    path.write_text("epochs = 2\n[train]\nepochs = 2\ncode_size = 3\n")
    assert read_config_file(path) == {"epochs": 2, "code_size": 3}


def test_label_may_be_set_in_the_file_and_the_call_wins(tmp_path, low_rank):
    table = pd.DataFrame(low_rank, columns=[f"f{i}" for i in range(8)])
    table["kind"] = np.where(low_rank[:, 0] > 100, "a", "b")
    table["other"] = 1.0
    path = tmp_path / "options.toml"
    path.write_text('label = "kind"\nepochs = 1\n')
    model = aekit.train(table.drop(columns="other"), config=path)
    assert model.columns.label == "kind" and "kind" not in model.columns.features
    model = aekit.train(table.drop(columns="kind"), config=path, label="other")
    assert model.columns.label == "other"
    sweep_file = tmp_path / "sweep.toml"
    sweep_file.write_text('label = "kind"\nepochs = 1\n[sweep]\ncode_size = [2, 3]\n')
    frame = aekit.sweep(table.drop(columns="other"), out=tmp_path / "sweep", config=sweep_file)
    assert aekit.load(frame["run"][0]).columns.label == "kind"


@pytest.mark.parametrize("value", ["3", "['a']"])
def test_a_label_that_is_no_column_name_is_refused(tmp_path, value):
    path = tmp_path / "options.toml"
    path.write_text(f"label = {value}\n")
    with pytest.raises(ConfigError, match=r"options\.toml: label must be a column name"):
        read_config_file(path)
