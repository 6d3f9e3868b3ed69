"""aekit.train / load / evaluate from Python, on real (small) training runs."""

import json

import numpy as np
import pandas as pd
import pytest

import aekit
from aekit import ConfigError, DataError
from aekit.options.defaults import BACKBONE_DEFAULTS, TIME_LIMITED_CONV

FAST = dict(epochs=100, batch_size=16, lr=1e-2, progress=False)


def test_train_encode_decode_in_original_units(low_rank):
    model = aekit.train(low_rank, code_size=2, hidden=[16], **FAST)
    codes = model.encode(low_rank)
    assert codes.shape == (200, 2) and codes.dtype == np.float32
    recon = model.decode(codes)
    assert recon.shape == low_rank.shape
    np.testing.assert_allclose(model.reconstruct(low_rank), recon, rtol=1e-5, atol=1e-4)
    # in the data's own units (around 100), and far better than predicting the mean
    error = np.mean((recon - low_rank) ** 2)
    baseline = np.mean((low_rank - low_rank.mean(0)) ** 2)
    assert abs(recon.mean() - low_rank.mean()) < 1.0
    assert error < 0.05 * baseline


def test_single_sample_and_image_shapes(small_images):
    model = aekit.train(small_images, code_size=4, backbone="mlp", hidden=[32], **FAST)
    assert model.sample_shape == (1, 12, 12)
    assert model.encode(small_images[0]).shape == (1, 4)
    # results come back shaped like the data went in; flat vectors are refused
    # (tests/test_inputs.py: test_flat_vectors_are_refused_by_an_image_model)
    assert model.decode(np.zeros(4)).shape == (1, 12, 12)
    assert model.reconstruct(small_images).shape == (96, 12, 12)
    with pytest.raises(DataError, match="reshape"):
        model.reconstruct(small_images.reshape(96, -1))


@pytest.mark.parametrize("backbone", ["mlp", "conv"])
def test_save_load_gives_identical_outputs(tmp_path, small_images, backbone):
    model = aekit.train(
        small_images,
        code_size=4,
        backbone=backbone,
        hidden=[8, 16],
        epochs=2,
        progress=False,
        out=tmp_path / "run",
    )
    loaded = aekit.load(tmp_path / "run")
    np.testing.assert_array_equal(loaded.encode(small_images), model.encode(small_images))
    np.testing.assert_array_equal(loaded.reconstruct(small_images), model.reconstruct(small_images))
    assert loaded.history == json.loads(json.dumps(model.history))
    files = {p.name for p in (tmp_path / "run").iterdir()}
    assert {
        "config.json",
        "model.safetensors",
        "metrics.jsonl",
        "loss.png",
        "reconstructions.png",
    } <= files
    assert not [name for name in files if name.endswith(".tmp")]


def test_linear_autoencoder_matches_pca():
    """Without activations an autoencoder learns PCA's subspace: same error within a few %."""
    model = aekit.train(
        "digits",
        code_size=8,
        hidden=[],
        activation="none",
        epochs=150,
        batch_size=64,
        lr=3e-3,
        early_stopping=False,
        progress=False,
    )
    result = aekit.evaluate(model)  # digits:test, PCA fitted on the same training part
    ours, pca = result.rows["aekit"]["mse"], result.rows["pca"]["mse"]
    assert ours <= 1.05 * pca, (ours, pca)
    assert ours >= 0.97 * pca, "a linear map cannot beat PCA by much: something is off"


def test_nonlinear_autoencoder_beats_pca_on_digits():
    model = aekit.train(
        "digits",
        code_size=8,
        hidden=[128, 64],
        epochs=150,
        batch_size=64,
        lr=3e-3,
        patience=30,
        progress=False,
    )
    result = aekit.evaluate(model)
    ours, pca = result.rows["aekit"], result.rows["pca"]
    assert ours["mse"] < 0.85 * pca["mse"], (ours, pca)
    assert ours["probe_accuracy"] > 0.85


def test_dataframe_label_column_is_set_aside(low_rank):
    frame = pd.DataFrame(low_rank, columns=[f"f{i}" for i in range(8)])
    frame["kind"] = np.where(low_rank[:, 0] > np.median(low_rank[:, 0]), "high", "low")
    model = aekit.train(frame, label="kind", code_size=2, **FAST)
    assert model.sample_shape == (8,)
    shuffled = frame[["kind", *reversed(frame.columns[:8].tolist())]]  # columns found by name
    np.testing.assert_allclose(model.encode(shuffled), model.encode(low_rank), rtol=1e-6)
    with pytest.raises(DataError, match="f3"):
        model.encode(frame.drop(columns=["f3"]))


def test_bce_needs_unit_interval(low_rank):
    with pytest.raises(ConfigError, match="minmax"):
        aekit.train(low_rank, loss="bce", scale="none", **FAST)
    with pytest.raises(ConfigError, match="minmax"):
        aekit.train(low_rank, loss="bce", scale="standard", **FAST)
    model = aekit.train(low_rank, loss="bce", code_size=2, **FAST)  # minmax chosen for it
    assert model.scaler.kind == "minmax"
    recon = model.reconstruct(low_rank)
    # in the data's units and close to it (the sigmoid keeps it in range whatever the scaling)
    assert np.mean((recon - low_rank) ** 2) < 0.05 * low_rank.var()


@pytest.mark.parametrize("loss", ["mse", "mae", "bce"])
def test_every_loss_learns(small_images, loss):
    model = aekit.train(small_images, code_size=4, backbone="mlp", hidden=[32], loss=loss, **FAST)
    error = np.mean((model.reconstruct(small_images) - small_images) ** 2)
    assert error < 0.3 * small_images.var(), (loss, error)


def test_wrong_width_is_a_clear_error(low_rank):
    model = aekit.train(low_rank, code_size=2, epochs=1, progress=False)
    with pytest.raises(DataError, match=r"shape \(8,\)"):
        model.encode(np.zeros((3, 5), np.float32))
    with pytest.raises(DataError, match=r"\(n, 2\)"):
        model.decode(np.zeros((3, 5)))


def test_options_from_config_file_and_keywords(tmp_path, low_rank):
    config = tmp_path / "ae.toml"
    config.write_text("[train]\ncode_size = 3\nhidden = [12]\nepochs = 2\n")
    model = aekit.train(low_rank, config=config, epochs=3, progress=False)
    assert model.code_size == 3 and model.net_config.hidden == [12]
    assert len(model.history) == 3  # the keyword wins over the file
    with pytest.raises(ConfigError, match="did you mean 'code_size'"):
        aekit.train(low_rank, code_sise=3)
    config.write_text("code_size = 'big'\n")
    with pytest.raises(ConfigError, match="ae.toml: code_size must be an integer from 1"):
        aekit.train(low_rank, config=config)


def test_existing_run_is_not_overwritten(tmp_path, low_rank):
    aekit.train(low_rank, epochs=1, progress=False, out=tmp_path / "run")
    before = (tmp_path / "run" / "model.safetensors").read_bytes()
    with pytest.raises(ConfigError, match="already holds a run"):
        aekit.train(low_rank, epochs=1, seed=5, progress=False, out=tmp_path / "run")
    assert (tmp_path / "run" / "model.safetensors").read_bytes() == before


def test_bad_data_writes_nothing(tmp_path):
    bad = np.ones((10, 4), np.float32)
    bad[3, 2] = np.nan
    with pytest.raises(DataError):
        aekit.train(bad, progress=False, out=tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_explicit_validation_data(low_rank):
    model = aekit.train(low_rank[:150], val_data=low_rank[150:], code_size=2, **FAST)
    assert model.data_info["n_train"] == 150 and model.data_info["n_val"] == 50
    with pytest.raises(DataError, match="validation data"):
        aekit.train(low_rank, val_data=low_rank[:, :4], progress=False)


@pytest.mark.parametrize(
    "options,message",
    [
        (dict(lr=10**400), "lr must be a finite number"),
        (dict(seed=-1), "seed must be a non-negative integer"),
        (dict(code_size=10**12), "code_size must be an integer from 1"),
        (dict(backbone="conv", hidden=[]), "at least one stage"),
    ],
)
def test_bad_options_are_config_errors(small_images, options, message):
    with pytest.raises(ConfigError, match=message):
        aekit.train(np.pad(small_images, ((0, 0), (2, 2), (2, 2))), progress=False, **options)


def test_values_beyond_float32_after_scaling_are_refused(low_rank):
    tiny_range = (low_rank - 100) * 1e-6  # minmax divides by about 1e-4
    model = aekit.train(tiny_range, scale="minmax", code_size=2, epochs=1, progress=False)
    with pytest.raises(DataError, match="overflows float32"):
        model.encode(np.full((1, 8), 3e38, np.float32))
    with pytest.raises(DataError, match="float32"):
        model.decode(np.full((1, 2), 1e300))
    with pytest.raises(DataError, match="0 rows"):
        model.decode(np.zeros((0, 2)))


def _schedule(model) -> tuple:
    config = model.train_config
    return config.lr, config.schedule, config.warmup


def test_a_conv_run_under_a_time_limit_takes_the_faster_recipe(small_images):
    """Under a time limit the run ends where its schedule does, and the conv backbone takes
    the recipe chosen for that (options/defaults.py); options the user sets stay as set."""
    quick = dict(code_size=3, hidden=[4], epochs=1, progress=False)
    recipe = TIME_LIMITED_CONV["lr"], TIME_LIMITED_CONV["schedule"], TIME_LIMITED_CONV["warmup"]
    assert recipe != (BACKBONE_DEFAULTS["conv"]["lr"], "cosine", 0.0)
    timed = aekit.train(small_images, backbone="conv", time_limit=60, **quick)
    assert _schedule(timed) == recipe
    untimed = aekit.train(small_images, backbone="conv", **quick)
    assert _schedule(untimed) == (BACKBONE_DEFAULTS["conv"]["lr"], "cosine", 0.0)
    chosen = aekit.train(small_images, backbone="conv", time_limit=60, lr=1e-3, **quick)
    assert _schedule(chosen) == (1e-3, *recipe[1:])
    chosen = aekit.train(small_images, backbone="conv", time_limit=60, schedule="cosine", **quick)
    assert _schedule(chosen) == (recipe[0], "cosine", recipe[2])
    table = aekit.train(small_images, backbone="mlp", time_limit=60, **quick)
    assert _schedule(table) == (BACKBONE_DEFAULTS["mlp"]["lr"], "cosine", 0.0)
