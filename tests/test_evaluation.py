"""Tests for aekit.evaluation: metrics, the PCA baseline, the probe and the comparison table."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn.decomposition import PCA

import aekit
import aekit.data
from aekit.errors import ConfigError, DataError
from aekit.evaluation import (
    Comparison,
    PCABaseline,
    compare_with_pca,
    probe_accuracy,
    reconstruction_metrics,
)


def _low_rank_data(n: int = 64, d: int = 8, rank: int = 3, seed: int = 0) -> np.ndarray:
    """(n, d) data near a rank-``rank`` subspace, plus a little noise."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, rank)) @ rng.normal(size=(rank, d)) + 0.05 * rng.normal(size=(n, d))


# --- reconstruction_metrics ---------------------------------------------------------------


def test_metrics_match_hand_computed_values() -> None:
    x = np.array([[0.0, 1.0], [0.5, 0.5]])
    r = np.array([[0.1, 0.8], [0.5, 0.3]])
    # errors 0.1, -0.2, 0, -0.2 -> mse (0.01 + 0.04 + 0 + 0.04) / 4, mae 0.5 / 4
    metrics = reconstruction_metrics(x, r, data_range=1.0, with_bce=False)
    assert set(metrics) == {"mse", "mae", "psnr"}
    assert metrics["mse"] == pytest.approx(0.0225)
    assert metrics["mae"] == pytest.approx(0.125)
    assert metrics["psnr"] == pytest.approx(10 * math.log10(1 / 0.0225))


def test_psnr_uses_data_range_and_overall_mse() -> None:
    x = np.zeros((2, 1, 2, 2))
    r = np.full((2, 1, 2, 2), 2.55)  # mse = 6.5025 = (255 / 100) ** 2
    metrics = reconstruction_metrics(x, r, data_range=255.0, with_bce=False)
    assert metrics["psnr"] == pytest.approx(40.0)


def test_exact_reconstruction_has_infinite_psnr() -> None:
    x = np.random.default_rng(0).random((4, 3))
    metrics = reconstruction_metrics(x, x.copy(), data_range=1.0, with_bce=True)
    assert metrics["mse"] == 0.0 and metrics["mae"] == 0.0
    assert metrics["psnr"] == math.inf


def test_bce_hand_computed_and_finite_at_zero_and_one() -> None:
    x = np.array([[1.0, 0.0]])
    r = np.array([[0.8, 0.4]])
    expected = -(math.log(0.8) + math.log(0.6)) / 2
    bce = reconstruction_metrics(x, r, data_range=1.0, with_bce=True)["bce"]
    assert bce == pytest.approx(expected)

    wrong_and_certain = reconstruction_metrics(
        np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]), data_range=1.0, with_bce=True
    )["bce"]
    assert math.isfinite(wrong_and_certain)
    assert wrong_and_certain == pytest.approx(-math.log(1e-7), rel=1e-6)


def test_metrics_reject_mismatched_shapes() -> None:
    with pytest.raises(DataError, match="shape"):
        reconstruction_metrics(np.zeros((2, 3)), np.zeros((3, 2)), data_range=1.0, with_bce=False)


# --- PCABaseline ----------------------------------------------------------------------------


def test_pca_baseline_matches_sklearn() -> None:
    x = _low_rank_data()
    baseline = PCABaseline.fit(x, 3, seed=0)
    reference = PCA(n_components=3).fit(x)
    codes = baseline.encode(x)
    assert codes.shape == (64, 3)
    np.testing.assert_allclose(
        baseline.decode(codes), reference.inverse_transform(reference.transform(x)), atol=1e-8
    )
    np.testing.assert_allclose(baseline.mean_, x.mean(axis=0))


def test_pca_with_all_components_reconstructs_exactly() -> None:
    x = _low_rank_data(n=32, d=8)
    baseline = PCABaseline.fit(x, 8)
    assert baseline.components_.shape == (8, 8)
    np.testing.assert_allclose(baseline.decode(baseline.encode(x)), x, atol=1e-10)


def test_pca_is_deterministic_given_seed_with_randomized_solver() -> None:
    # Large enough that sklearn picks the randomized solver.
    x = np.random.default_rng(1).normal(size=(600, 520))
    a = PCABaseline.fit(x, 5, seed=3)
    b = PCABaseline.fit(x, 5, seed=3)
    np.testing.assert_array_equal(a.components_, b.components_)


def test_pca_too_many_components_is_a_config_error() -> None:
    x = np.zeros((5, 8))
    with pytest.raises(ConfigError, match="at most 5"):
        PCABaseline.fit(x, 6)


def test_pca_encode_checks_width() -> None:
    baseline = PCABaseline.fit(_low_rank_data(), 2)
    with pytest.raises(DataError, match=r"\(n, 8\)"):
        baseline.encode(np.zeros((3, 7)))


# --- probe_accuracy -------------------------------------------------------------------------


def test_probe_is_perfect_on_linearly_separable_codes() -> None:
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(400, 4))
    labels = np.where(codes[:, 0] + codes[:, 1] > 0, "yes", "no")
    accuracy = probe_accuracy(codes[:300], labels[:300], codes[300:], labels[300:])
    assert accuracy >= 0.97


def test_probe_is_near_chance_on_random_labels() -> None:
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(2000, 4))
    labels = rng.integers(0, 2, size=2000)
    accuracy = probe_accuracy(codes[:1000], labels[:1000], codes[1000:], labels[1000:])
    assert 0.4 <= accuracy <= 0.6


def test_probe_subsamples_training_data_and_is_seeded() -> None:
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(500, 3))
    labels = (codes[:, 0] > 0).astype(int)
    a = probe_accuracy(codes[:400], labels[:400], codes[400:], labels[400:], max_train=50, seed=1)
    b = probe_accuracy(codes[:400], labels[:400], codes[400:], labels[400:], max_train=50, seed=1)
    assert a == b
    assert a >= 0.9


def test_probe_with_a_single_class_is_nan() -> None:
    codes = np.random.default_rng(0).normal(size=(20, 2))
    assert math.isnan(probe_accuracy(codes, np.ones(20), codes, np.ones(20)))


# --- compare_with_pca and Comparison ----------------------------------------------------------


def _pca_as_model(x_train: np.ndarray, x_test: np.ndarray, k: int) -> dict:
    """Arguments for compare_with_pca where the "model" is exactly the PCA baseline."""
    pca = PCABaseline.fit(x_train, k, seed=0)
    return {
        "x_train": x_train,
        "x_test": x_test,
        "recon_test": pca.decode(pca.encode(x_test)),
        "codes_train": pca.encode(x_train),
        "codes_test": pca.encode(x_test),
        "code_size": k,
    }


def test_model_equal_to_pca_gives_identical_rows_and_ratio_one() -> None:
    x = _low_rank_data(n=96)
    labels = (x[:, 0] > 0).astype(int)
    comparison = compare_with_pca(
        **_pca_as_model(x[:64], x[64:], 2),
        y_train=labels[:64],
        y_test=labels[64:],
        data_range=float(x.max() - x.min()),
        with_bce=False,
        dataset="toy",
    )
    assert comparison.rows["aekit"].keys() == comparison.rows["pca"].keys()
    for name, value in comparison.rows["aekit"].items():
        assert value == pytest.approx(comparison.rows["pca"][name]), name
    assert "probe_accuracy" in comparison.rows["aekit"]
    assert (comparison.n_train, comparison.n_test, comparison.code_size) == (64, 32, 2)

    table = comparison.to_table()
    assert "toy" in table and "PCA-2" in table
    for name in ("mse", "mae", "psnr", "probe_accuracy"):
        assert name in table
    mse_line = next(line for line in table.splitlines() if line.startswith("mse"))
    assert mse_line.endswith("1.00x")
    assert f"{comparison.rows['aekit']['mse']:.5f}" in mse_line
    psnr_line = next(line for line in table.splitlines() if line.startswith("psnr"))
    assert psnr_line.endswith("+0.00 dB")
    assert "probe" in table.splitlines()[-1]


def test_metrics_are_in_original_units() -> None:
    # The model space is the data scaled by 1/10; metrics must come back in original units.
    x_original = _low_rank_data(n=80)
    x_scaled = x_original / 10
    args = _pca_as_model(x_scaled[:60], x_scaled[60:], 8)  # k = d: PCA is exact
    args["recon_test"] = x_original[60:] + 1.0  # model off by exactly 1 everywhere
    comparison = compare_with_pca(
        **args,
        data_range=1.0,
        with_bce=False,
        dataset="scaled",
        to_original=lambda a: a * 10,
        x_test_original=x_original[60:],
    )
    assert comparison.rows["aekit"]["mse"] == pytest.approx(1.0)
    assert comparison.rows["aekit"]["mae"] == pytest.approx(1.0)
    assert comparison.rows["pca"]["mse"] == pytest.approx(0.0, abs=1e-20)
    assert "probe_accuracy" not in comparison.rows["aekit"]


def test_to_dict_is_json_ready_including_inf() -> None:
    x = np.random.default_rng(0).random((40, 6))
    args = _pca_as_model(x[:30], x[30:], 2)
    args["recon_test"] = x[30:].copy()  # a perfect model: PSNR inf
    comparison = compare_with_pca(**args, data_range=1.0, with_bce=True, dataset="exact")
    data = json.loads(json.dumps(comparison.to_dict(), allow_nan=False))
    assert data["rows"]["aekit"]["psnr"] == "inf"
    assert isinstance(data["rows"]["pca"]["psnr"], float)
    assert isinstance(data["rows"]["aekit"]["bce"], float)
    assert data["code_size"] == 2 and data["dataset"] == "exact"
    psnr_line = next(line for line in comparison.to_table().splitlines() if "psnr" in line)
    assert psnr_line.split()[1] == "inf"
    # read back (evaluation.json), it gives the same comparison and the same table
    again = Comparison.from_dict(data)
    assert again.rows["aekit"]["psnr"] == float("inf")
    assert again.to_table() == comparison.to_table() and again.to_dict() == data


def test_table_shows_ratio_and_difference() -> None:
    comparison = Comparison(
        rows={
            "aekit": {"mse": 0.00612, "mae": 0.02, "psnr": 22.13, "probe_accuracy": 0.95},
            "pca": {"mse": 0.01510, "mae": 0.04, "psnr": 18.21, "probe_accuracy": 0.90},
        },
        n_test=10000,
        n_train=60000,
        code_size=32,
        dataset="mnist",
        notes=["probe trained on 10000 of 60000 training samples"],
    )
    lines = comparison.to_table().splitlines()
    assert "mnist" in lines[0] and "10000" in lines[0] and "32" in lines[0]
    mse_line = next(line for line in lines if line.startswith("mse"))
    assert mse_line.split() == ["mse", "0.00612", "0.01510", "0.41x"]
    psnr_line = next(line for line in lines if line.startswith("psnr"))
    assert psnr_line.split()[-2:] == ["+3.92", "dB"]
    accuracy_line = next(line for line in lines if line.startswith("probe_accuracy"))
    assert accuracy_line.split()[-1] == "+0.0500"
    assert lines[-1] == "probe trained on 10000 of 60000 training samples"
    # Aligned: every metric row puts the ratio/difference column at the same right edge.
    metric_lines = [line for line in lines if line.split()[0] in comparison.rows["aekit"]]
    assert len({len(line) for line in metric_lines}) == 1


def test_compare_rejects_mismatched_shapes() -> None:
    x = _low_rank_data()
    args = _pca_as_model(x[:40], x[40:], 2)
    args["recon_test"] = args["recon_test"][:, :4]
    with pytest.raises(DataError, match="same shape"):
        compare_with_pca(**args, data_range=1.0, with_bce=False, dataset="bad")


def test_evaluate_encodes_the_training_data_only_for_the_probe(low_rank, monkeypatch) -> None:
    """Encoding the training data is much of an evaluation's time, and only the probe uses it."""
    model = aekit.train(low_rank[:150], code_size=2, hidden=[8], epochs=2, progress=False)
    encoded = []
    encode = model.encode
    monkeypatch.setattr(model, "encode", lambda x, **kw: encoded.append(len(x)) or encode(x, **kw))
    result = aekit.evaluate(model, low_rank[150:], train_data=low_rank[:150])
    assert encoded == [50] and "probe_accuracy" not in result.rows["aekit"]
    labels = (low_rank[:, 0] > np.median(low_rank[:, 0])).astype(int)
    labelled = aekit.data.Dataset(x=low_rank, y=labels, name="labelled")
    aekit.evaluate(model, labelled.take(np.arange(150, 200), "test"), train_data=labelled)
    assert encoded[1:] == [50, 200]
