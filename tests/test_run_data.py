"""A run's own held-out data, reloaded from the source it recorded: what evaluate, the pictures
and the report use when no data is named."""

import numpy as np
import pytest

import aekit
from aekit.data import load_data
from aekit.data.splitting import split_validation
from aekit.evaluation.run_data import held_out_part

FAST = dict(code_size=2, hidden=[8], epochs=2, progress=False)


def test_a_file_run_holds_out_its_validation_rows(table):
    model = aekit.train(str(table), label="kind", val_fraction=0.2, seed=3, **FAST)
    held = held_out_part(model)
    expected = split_validation(load_data(str(table), label="kind"), 0.2, 3)[1]
    np.testing.assert_array_equal(held.data.x, expected.x)
    assert held.held_out and len(held.data) == model.data_info.n_val == 40
    assert list(held.data.y) == list(expected.y)  # the run's label column colours the pictures
    assert held.description.startswith("validation data") and str(table) in held.description
    # evaluate with no data: the same rows, and a note saying which
    result = aekit.evaluate(model)
    assert result.n_test == 40 and "probe_accuracy" in result.rows["aekit"]
    assert any(note.startswith("held-out data: validation data") for note in result.notes)


def test_a_built_in_run_holds_out_its_test_split():
    model = aekit.train("digits", val_fraction=0.1, **FAST)
    held = held_out_part(model)
    assert held.data.name == "digits:test" and len(held.data) == 360 and held.data.y is not None


def test_in_memory_runs_and_runs_without_validation_have_nothing_to_evaluate_on(
    tmp_path, low_rank, table
):
    in_memory = aekit.train(low_rank, **FAST)
    assert held_out_part(in_memory) is None
    with pytest.raises(aekit.ConfigError, match="in-memory data: name the held-out data"):
        aekit.evaluate(in_memory)
    nothing_held = aekit.train(str(table), label="kind", val_fraction=0.0, **FAST)
    held = held_out_part(nothing_held)
    assert not held.held_out and len(held.data) == 200 and "held no data out" in held.description
    with pytest.raises(aekit.ConfigError, match="held no data out"):
        aekit.evaluate(nothing_held)
