"""Inputs reaching a trained model, and the checks that run before training (issue 8).

Tables are matched to the training columns by name, images must have the training layout,
options a model would ignore are refused, and what would fail after training fails before it.
"""

import json

import numpy as np
import pandas as pd
import pytest
import torch

import aekit
from aekit import ConfigError, DataError
from aekit import api as api_module
from aekit.cli.commands import main
from aekit.data import load_data
from aekit.evaluation import model_evaluation
from aekit.models import MODELS, NetConfig, make_config

FAST = dict(epochs=3, batch_size=16, lr=1e-2, progress=False)
NAMES = [f"f{i}" for i in range(8)]


@pytest.fixture
def frame(low_rank):
    """The low-rank table with named columns and a text label column in the middle."""
    table = pd.DataFrame(low_rank, columns=NAMES)
    table.insert(3, "kind", np.where(low_rank[:, 0] > np.median(low_rank[:, 0]), "a", "b"))
    return table


@pytest.fixture
def csv_pair(tmp_path, frame):
    """The table as a CSV, and the same table with its columns in another order."""
    original, shuffled = tmp_path / "table.csv", tmp_path / "shuffled.csv"
    frame.to_csv(original, index=False)
    frame[["f5", "f0", "kind", *reversed(NAMES[1:5]), "f7", "f6"]].to_csv(shuffled, index=False)
    return original, shuffled


def _never_trains(monkeypatch):
    """Make any call of the training loop fail the test: checks must come before it."""

    def fit(*args, **kwargs):
        raise AssertionError("training started before the error was found")

    monkeypatch.setattr(api_module, "fit", fit)


# -- 1. columns are matched by name ----------------------------------------------------------
def test_csv_columns_are_matched_by_name(csv_pair):
    original, shuffled = csv_pair
    model = aekit.train(original, label="kind", code_size=2, **FAST)
    expected = model.encode(original)
    # a path, a loaded Dataset (what the CLI passes) and a DataFrame all find columns by name
    np.testing.assert_array_equal(model.encode(shuffled), expected)
    np.testing.assert_array_equal(model.encode(load_data(shuffled, label="kind")), expected)
    np.testing.assert_array_equal(
        model.reconstruct(pd.read_csv(shuffled)), model.reconstruct(original)
    )


def test_missing_and_extra_columns_are_named(csv_pair, frame, tmp_path):
    original, _ = csv_pair
    model = aekit.train(original, label="kind", code_size=2, **FAST)
    with pytest.raises(DataError, match="f3") as missing:
        model.encode(frame.drop(columns=["f3"]))
    assert "missing" in str(missing.value)
    with pytest.raises(DataError, match="extra") as extra:
        model.encode(frame.assign(surplus=1.0))
    assert "surplus" in str(extra.value)
    renamed = tmp_path / "renamed.csv"
    frame.rename(columns={"f6": "g6"}).to_csv(renamed, index=False)
    with pytest.raises(DataError, match="f6") as both:
        model.encode(renamed)
    assert "g6" in str(both.value) and str(renamed) in str(both.value)


def test_evaluate_matches_test_columns_by_name(csv_pair):
    original, shuffled = csv_pair
    model = aekit.train(original, label="kind", code_size=2, **FAST)
    same = aekit.evaluate(model, original, train_data=original).rows["aekit"]
    moved = aekit.evaluate(model, shuffled, train_data=shuffled).rows["aekit"]
    assert moved == pytest.approx(same)


def test_validation_columns_are_matched_by_name(csv_pair):
    original, shuffled = csv_pair
    options = dict(label="kind", code_size=2, seed=1, **FAST)
    reference = aekit.train(original, val_data=original, **options)
    moved = aekit.train(original, val_data=shuffled, **options)
    assert [e["val_loss"] for e in moved.history] == [e["val_loss"] for e in reference.history]


def test_cli_encodes_a_csv_with_columns_in_another_order(tmp_path, csv_pair):
    original, shuffled = csv_pair
    run = tmp_path / "run"
    assert main(["train", str(original), "--label", "kind", "--out", str(run), "--epochs", "2",
                 "--quiet"]) == 0  # fmt: skip
    codes = {}
    for name, source in (("original", original), ("shuffled", shuffled)):
        # the run's label column is set aside without --label
        assert main(["encode", str(run), str(source), "-o", str(tmp_path / f"{name}.npy")]) == 0
        codes[name] = np.load(tmp_path / f"{name}.npy")
    np.testing.assert_array_equal(codes["shuffled"], codes["original"])


def test_cli_names_a_missing_column(tmp_path, csv_pair, frame, capsys):
    original, _ = csv_pair
    run = tmp_path / "run"
    assert main(["train", str(original), "--label", "kind", "--out", str(run), "--epochs", "1",
                 "--quiet"]) == 0  # fmt: skip
    narrow = tmp_path / "narrow.csv"
    frame.drop(columns=["f2"]).to_csv(narrow, index=False)
    assert main(["reconstruct", str(run), str(narrow), "-o", str(tmp_path / "r.npy")]) == 2
    err = capsys.readouterr().err
    assert "f2" in err and "Traceback" not in err
    assert not (tmp_path / "r.npy").exists()


# -- 2. integer column labels ----------------------------------------------------------------
def test_dataframe_with_integer_columns_end_to_end(tmp_path, low_rank):
    table = pd.DataFrame(low_rank)  # columns 0..7, integers
    model = aekit.train(table, code_size=2, **FAST)
    codes = model.encode(table)
    np.testing.assert_array_equal(codes, model.encode(low_rank))
    np.testing.assert_array_equal(model.encode(table[list(reversed(table.columns))]), codes)
    model.save(tmp_path / "run")
    loaded = aekit.load(tmp_path / "run")
    np.testing.assert_array_equal(loaded.encode(table), codes)


def test_integer_label_column_round_trips(tmp_path, low_rank):
    table = pd.DataFrame(low_rank)
    table[8] = (low_rank[:, 0] > np.median(low_rank[:, 0])).astype(int)
    model = aekit.train(table, label=8, code_size=2, **FAST)
    assert model.sample_shape == (8,)
    model.save(tmp_path / "run")
    loaded = aekit.load(tmp_path / "run")
    np.testing.assert_array_equal(loaded.encode(table), model.encode(low_rank))


# -- 3. image layouts ------------------------------------------------------------------------
def test_channels_last_images_are_refused_with_the_transpose(small_images):
    rgb_last = np.repeat(small_images[..., None], 3, axis=-1)  # (96, 12, 12, 3)
    with pytest.raises(DataError, match=r"\(96, 12, 12, 3\)") as info:
        aekit.train(rgb_last, **FAST)
    assert "transpose(0, 3, 1, 2)" in str(info.value)
    # the transposed array trains as 3-channel images
    model = aekit.train(rgb_last.transpose(0, 3, 1, 2), backbone="mlp", hidden=[16], **FAST)
    assert model.sample_shape == (3, 12, 12)
    with pytest.raises(DataError, match="transpose"):
        model.encode(rgb_last)


def test_channel_first_shapes_that_look_ambiguous_are_kept(small_images):
    # axis 1 holds 3 values: channels first, even though the last axis is small too
    x = np.ascontiguousarray(np.repeat(small_images[:, None, :, :3], 3, axis=1))
    assert load_data(x).sample_shape == (3, 12, 3)


def test_images_of_another_layout_are_not_reshaped(small_images):
    wide = np.ascontiguousarray(small_images[:, :, :8])  # (96, 12, 8)
    model = aekit.train(wide, backbone="mlp", hidden=[16], code_size=2, **FAST)
    assert model.sample_shape == (1, 12, 8)
    tall = np.ascontiguousarray(wide.transpose(0, 2, 1))  # (96, 8, 12): same size, other layout
    for method in (model.encode, model.reconstruct, model.denoise):
        with pytest.raises(DataError, match=r"\(1, 8, 12\)") as info:
            method(tall)
        assert "(1, 12, 8)" in str(info.value)


def test_flat_vectors_are_refused_by_an_image_model(small_images):
    model = aekit.train(small_images, backbone="mlp", hidden=[16], code_size=2, **FAST)
    with pytest.raises(DataError, match=r"\(144,\)") as info:
        model.encode(small_images.reshape(96, -1))
    assert "(1, 12, 12)" in str(info.value) and "reshape" in str(info.value)
    # the two image forms it accepts: the training array's (n, H, W) and (n, 1, H, W)
    codes = model.encode(small_images)
    np.testing.assert_array_equal(model.encode(small_images[:, None]), codes)
    assert model.reconstruct(small_images[:, None]).shape == (96, 1, 12, 12)
    assert model.reconstruct(small_images).shape == (96, 12, 12)


# -- 4. options that would be ignored ----------------------------------------------------------
@pytest.mark.parametrize(
    "options,name",
    [
        (dict(model="vae", sparsity="l1:0.01"), "sparsity"),
        (dict(model="vae", contractive=0.1), "contractive"),
        (dict(backbone="conv", dropout=0.2), "dropout"),
        (dict(model="vae", backbone="conv", dropout=0.2), "dropout"),
        (dict(early_stopping=False, patience=3), "patience"),
        (dict(early_stopping=False, lr_drops=1), "lr_drops"),
    ],
)
def test_ignored_options_are_refused_before_reading_data(tmp_path, options, name):
    with pytest.raises(ConfigError, match=name):
        aekit.train(tmp_path / "no-such-file.npy", **options)


def test_no_learning_rate_drops_agree_with_no_early_stopping():
    assert make_config(early_stopping=False, lr_drops=0).lr_drops == 0


def test_dropout_with_the_automatic_conv_backbone_is_refused(monkeypatch):
    _never_trains(monkeypatch)
    images = np.random.default_rng(0).random((20, 16, 16), dtype=np.float32)
    with pytest.raises(ConfigError, match="dropout"):
        aekit.train(images, dropout=0.2, **FAST)


def test_contractive_penalty_is_exact_with_dropout():
    config = NetConfig(
        input_shape=(6,), code_size=3, backbone="mlp", hidden=[5, 4], activation="tanh",
        dropout=0.3, norm="none", loss="mse", output="identity", contractive=1.0,
    )  # fmt: skip
    torch.manual_seed(0)
    net = MODELS["ae"](config).train()
    x = torch.randn(4, 6)
    torch.manual_seed(1)
    code, norms = net.code_and_jacobian_sq_norm(x)
    torch.manual_seed(1)  # the same dropout masks
    jacobian = torch.autograd.functional.jacobian(net.encode, x)  # (4, 3, 4, 6)
    blocks = jacobian[torch.arange(4), :, torch.arange(4)]  # each sample's own (3, 6)
    torch.manual_seed(1)
    np.testing.assert_allclose(code.detach(), net.encode(x).detach(), rtol=1e-6)
    np.testing.assert_allclose(norms.detach(), blocks.pow(2).sum(dim=(1, 2)), rtol=1e-5)


# -- 5. failures that training would only meet at its end -------------------------------------
def test_one_sample_is_refused_before_training(monkeypatch, low_rank):
    _never_trains(monkeypatch)
    with pytest.raises(DataError, match="2 training samples"):
        aekit.train(low_rank[:1], **FAST)


def test_batch_norm_with_batches_of_one_is_refused_before_training(monkeypatch, low_rank):
    _never_trains(monkeypatch)
    with pytest.raises(ConfigError, match="batch_size"):
        aekit.train(low_rank, norm="batch", batch_size=1, epochs=1, progress=False)


def test_code_as_wide_as_the_data_is_compared_with_pca(low_rank):
    model = aekit.train(low_rank, code_size=10, hidden=[16], **FAST)  # code 10 > d = 8
    report = aekit.evaluate(model, low_rank[:40], train_data=low_rank)
    assert report.rows["pca"]["mse"] < 1e-6 * np.var(low_rank)  # 8 components: lossless
    assert any("8 components" in note for note in report.notes)


# -- 6. statistics beyond float32 --------------------------------------------------------------
def test_spread_beyond_float32_is_refused_naming_the_column(monkeypatch, low_rank):
    _never_trains(monkeypatch)
    table = pd.DataFrame(low_rank, columns=NAMES)
    # minmax: a spread of 6e38; standard: a mean of 1.5e38, 4.5e38 from the smallest value
    table["huge"] = np.where(np.arange(200) % 4, 3e38, -3e38).astype(np.float32)
    with pytest.raises(DataError, match="huge"):
        aekit.train(table, scale="minmax", **FAST)
    with pytest.raises(DataError, match="huge"):
        aekit.train(table, scale="standard", **FAST)
    with pytest.raises(DataError, match="column 8"):
        aekit.train(table.to_numpy(), scale="minmax", **FAST)


def test_large_but_representable_spread_saves_and_loads(tmp_path, low_rank):
    wide = low_rank.astype(np.float64) * 1e36  # spread about 1e38: finite in float32
    model = aekit.train(wide.astype(np.float32), scale="minmax", code_size=2, **FAST)
    model.save(tmp_path / "run")
    loaded = aekit.load(tmp_path / "run")
    np.testing.assert_array_equal(loaded.encode(wide), model.encode(wide))


# -- 7. PCA is fitted on the model's own training data ----------------------------------------
def _capture_pca_training_data(monkeypatch) -> list:
    seen = []
    original = model_evaluation.compare_with_pca

    def compare(*, x_train, **kwargs):
        seen.append(np.array(x_train))
        return original(x_train=x_train, **kwargs)

    monkeypatch.setattr(model_evaluation, "compare_with_pca", compare)
    return seen


def test_pca_sees_the_whole_file_when_validation_data_was_in_memory(
    tmp_path, low_rank, monkeypatch
):
    path = tmp_path / "train.npy"
    np.save(path, low_rank[:150])
    model = aekit.train(path, val_data=low_rank[150:], code_size=2, **FAST)
    assert model.data_info["n_train"] == 150
    seen = _capture_pca_training_data(monkeypatch)
    aekit.evaluate(model, low_rank[150:])
    assert len(seen[0]) == 150  # not the 135 of a re-split
    model.save(tmp_path / "run")
    aekit.evaluate(aekit.load(tmp_path / "run"), low_rank[150:])
    assert len(seen[1]) == 150
    assert json.loads((tmp_path / "run" / "config.json").read_text())["data"]["validation"] == (
        "given"
    )


def test_pca_sees_the_split_training_part(tmp_path, low_rank, monkeypatch):
    path = tmp_path / "train.npy"
    np.save(path, low_rank)
    model = aekit.train(path, code_size=2, val_fraction=0.2, **FAST)
    assert model.data_info["validation"] == "split"
    seen = _capture_pca_training_data(monkeypatch)
    aekit.evaluate(model, low_rank[:20])
    assert len(seen[0]) == model.data_info["n_train"] == 160
