"""Tables with default options: never worse than PCA, and measured in a space the report names."""

import json

import numpy as np
import pytest
import torch
from run_edits import reseal
from sklearn.datasets import load_digits, load_wine
from test_report import _Page

import aekit
from aekit import ModelFileError
from aekit.data import load_data
from aekit.data.scaling import SPREAD_FLOOR, Scaler, one_unit
from aekit.data.splitting import split_validation
from aekit.evaluation import PCABaseline
from aekit.models import AutoencoderNet, NetConfig


def sparse_pixels(n: int, seed: int = 0) -> np.ndarray:
    """(n, 256) digits (8x8, in [0, 1]) at random offsets on a 16x16 canvas, as a table: most
    columns are 0 in nearly every row, so their training std is tiny but not zero."""
    digits = load_digits().data.reshape(-1, 8, 8) / 16.0
    rng = np.random.default_rng(seed)
    canvas = np.zeros((n, 16, 16), dtype=np.float32)
    for i in range(n):
        row, col = rng.integers(0, 9, size=2)
        canvas[i, row : row + 8, col : col + 8] = digits[rng.integers(len(digits))]
    return canvas.reshape(n, -1)


def curve_table(n: int, seed: int = 0) -> np.ndarray:
    """(n, 6) points near a 1-d curve, each column in its own unit (thousands to hundredths)."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(-2, 2, size=n)
    columns = [1000 * np.sin(t), 0.01 * np.cos(2 * t), t**2, 50 * t, np.sin(3 * t), 5 * t**3]
    x = np.stack(columns, axis=1)
    return (x + 0.01 * x.std(0) * rng.normal(size=x.shape)).astype(np.float32)


def pca_mse(train: np.ndarray, test: np.ndarray, k: int) -> float:
    pca = PCABaseline.fit(train, k)
    return float(np.mean((pca.decode(pca.encode(test)) - test) ** 2))


def test_sparse_pixel_table_beats_pca_in_its_own_units():
    # per-column standard scaling sent held-out values of near-constant pixels into the
    # hundreds and the model ended far above PCA; scaled as one unit it ends below
    x = sparse_pixels(300)
    train, test = x[:240], x[240:]
    model = aekit.train(train, code_size=8, progress=False)
    mse = float(np.mean((model.reconstruct(test) - test) ** 2))
    assert mse < 0.95 * pca_mse(train, test, 8)
    assert not model.scaler.per_feature


def test_mixed_table_beats_pca_in_standardised_units():
    x = curve_table(400)
    train, test = x[:320], x[320:]
    model = aekit.train(train, progress=False)  # default code size: max(2, 6 // 4) = 2
    report = aekit.evaluate(model, test, train_data=train)
    assert report.space == "standardised units"
    assert report.rows["aekit"]["mse"] < 0.8 * report.rows["pca"]["mse"]
    # the same figures by hand: each column divided by its training std, PCA fitted there
    mean, std = train.mean(0), train.std(0)
    standardise = lambda a: (a - mean) / std  # noqa: E731
    by_hand = np.mean((standardise(model.reconstruct(test)) - standardise(test)) ** 2)
    assert by_hand == pytest.approx(report.rows["aekit"]["mse"], rel=1e-3)
    assert pca_mse(standardise(train), standardise(test), 2) == pytest.approx(
        report.rows["pca"]["mse"], rel=1e-3
    )


def test_untrained_network_with_linear_path_is_pca():
    x = torch.from_numpy(curve_table(200))
    x = (x - x.mean(0)) / x.std(0)
    config = NetConfig((6,), 2, "mlp", [16], linear_path=True)
    torch.manual_seed(0)
    net = AutoencoderNet(config)
    net.init_linear_path(x)
    net.eval()
    with torch.no_grad():
        recon = net(x).numpy()
    pca = PCABaseline.fit(x.numpy(), 2)
    expected = pca.decode(pca.encode(x.numpy()))
    np.testing.assert_allclose(recon, expected, atol=1e-4)
    assert net.starts_at_baseline


def test_on_noise_the_default_keeps_pca_fitted_on_its_training_part():
    # nothing to learn: no epoch beats the PCA start clearly on validation data, so the model
    # is PCA fitted on the rows it trained on (the validation rows stay held out)
    rng = np.random.default_rng(0)
    train = (rng.normal(size=(120, 8)) * [1, 10, 100, 1, 1, 5, 2, 3]).astype(np.float32)
    test = (rng.normal(size=(60, 8)) * [1, 10, 100, 1, 1, 5, 2, 3]).astype(np.float32)
    model = aekit.train(train, progress=False)
    assert model.result["best_epoch"] == 0
    config = model.train_config
    trained_on = split_validation(load_data(train), config.val_fraction, config.seed)[0]
    report = aekit.evaluate(model, test, train_data=trained_on.x)
    assert report.rows["aekit"]["mse"] == pytest.approx(report.rows["pca"]["mse"], rel=1e-4)


def test_a_model_kept_at_its_pca_start_ties_pca_on_the_rows_it_held_out(tmp_path):
    """The PCA start and its scaler are fitted on the training part only, so the validation rows
    the default evaluation scores on are held out from every part of the model, and PCA is
    fitted on the same training part: a model that is PCA reports 1.00x, everywhere."""
    path = tmp_path / "wine.csv"
    load_wine(as_frame=True).frame.drop(columns="target").to_csv(path, index=False)
    model = aekit.train(path, epochs=2, out=tmp_path / "run", progress=False)
    assert model.result["best_epoch"] == 0  # no epoch beat the start: the model is PCA
    evaluation = aekit.evaluate(model)
    assert (evaluation.n_train, evaluation.n_test) == (160, 18)
    rows = evaluation.rows
    assert rows["aekit"]["mse"] == pytest.approx(rows["pca"]["mse"], rel=1e-5)
    stored = json.loads((tmp_path / "run" / "evaluation.json").read_text())["rows"]
    assert stored["aekit"]["mse"] == pytest.approx(stored["pca"]["mse"], rel=1e-5)
    shown = _Page((tmp_path / "run" / "report.html").read_text()).evaluation["mse"]
    assert float(shown[0]) == pytest.approx(float(shown[1]), rel=1e-5)


def test_a_kept_start_reports_its_own_validation_loss():
    """An epoch a little better than the PCA start on validation data, but not clearly, is
    discarded: the run then reports the start's validation loss, not that epoch's."""
    x = load_wine().data.astype(np.float32)
    model = aekit.train(x, epochs=20, seed=2, progress=False)  # seed 2: an epoch beats the start
    assert model.result["best_epoch"] == 0
    validation = split_validation(load_data(x), 0.1, 2)[1].x
    error = np.mean((model.scale(validation) - model.scale(model.reconstruct(validation))) ** 2)
    assert model.result["best_val_loss"] == pytest.approx(error, rel=1e-4)
    assert min(row["val_loss"] for row in model.history) < model.result["best_val_loss"]


def test_evaluate_names_the_space_it_measured_in():
    one_unit_table = sparse_pixels(60)
    model = aekit.train(one_unit_table, code_size=4, epochs=2, progress=False)
    report = aekit.evaluate(model, one_unit_table, train_data=one_unit_table)
    assert report.space == "data units"
    assert report.to_dict()["space"] == "data units"
    assert "data's own units" in report.to_table()

    mixed = curve_table(60)
    model = aekit.train(mixed, epochs=2, progress=False)
    report = aekit.evaluate(model, mixed, train_data=mixed)
    assert report.to_dict()["space"] == "standardised units"
    assert "errors in standardised units" in report.to_table()


def test_one_unit_rule():
    assert one_unit(np.array([[0.0, 0.5], [1.0, 0.0]]))
    assert one_unit(np.array([[0.0, 17.0], [255.0, 3.0]]))  # whole numbers in [0, 255]
    assert not one_unit(np.array([[0.0, 1.5], [1.0, 0.0]]))  # a fraction above 1
    assert not one_unit(np.array([[0.0, 256.0], [1.0, 0.0]]))
    assert not one_unit(np.array([[-1.0, 0.5], [1.0, 0.0]]))


def test_near_constant_column_spread_is_floored_at_a_fraction_of_its_range():
    x = np.zeros((2000, 2), dtype=np.float32)
    x[:, 0] = np.random.default_rng(0).normal(size=2000) + 3.0
    x[7, 1] = 4.0  # a rare value: std 0.089, range 4
    scaler = Scaler.fit(x, "standard", per_feature=True)
    assert scaler.spread[1] == pytest.approx(SPREAD_FLOOR * 4.0)
    assert scaler.spread[0] == pytest.approx(x[:, 0].std(), rel=1e-4)  # ordinary: its std
    assert np.abs(scaler.transform(x)).max() <= 1 / SPREAD_FLOOR


def test_run_with_linear_path_saves_and_reloads(tmp_path):
    x = curve_table(80)
    model = aekit.train(x, epochs=3, progress=False, out=tmp_path / "run")
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["net"]["linear_path"] is True
    again = aekit.load(tmp_path / "run")
    np.testing.assert_array_equal(again.encode(x), model.encode(x))
    np.testing.assert_array_equal(again.reconstruct(x), model.reconstruct(x))


def test_linear_path_on_conv_is_a_model_file_error(tmp_path):
    images = sparse_pixels(40).reshape(40, 1, 16, 16)
    aekit.train(images, backbone="conv", hidden=[4], epochs=1, progress=False, out=tmp_path / "r")
    path = tmp_path / "r" / "config.json"
    config = json.loads(path.read_text())
    config["net"]["linear_path"] = True
    path.write_text(json.dumps(config))
    reseal(tmp_path / "r")  # the config is what loading must refuse, not the manifest
    with pytest.raises(ModelFileError, match="net.linear_path"):
        aekit.load(tmp_path / "r")


def test_a_pca_start_out_of_float32_reach_is_not_counted_as_epoch_zero():
    """A 1e30 value leaves the linear path unstarted (random): it must not be kept as 'PCA'."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4)).astype(np.float32)
    x[5] = 1e30
    model = aekit.train(x, scale="none", code_size=2, hidden=[8], epochs=3, batch_size=32,
                        skip_nonfinite=30, progress=False)  # fmt: skip
    assert model.net.config.linear_path and not model.net.starts_at_baseline
    assert model.result["best_epoch"] >= 1
