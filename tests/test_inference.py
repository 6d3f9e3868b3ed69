"""Inference a batch at a time (``aekit.trained.batches``): the outputs of the bare network, to
the bit, whatever the batches; overflow reported for all of them; read-only arrays taken as
they are."""

import warnings

import numpy as np
import pytest
import torch

import aekit
import aekit.trained.batches
from aekit import DataError
from aekit.errors import AekitWarning
from aekit.sklearn import AutoencoderAnomalyDetector
from aekit.trained.batches import BatchOutputs

BATCH = 64  # inference batches of 64 rows: 200 rows make three whole ones and a part


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(aekit.trained.batches, "INFERENCE_BATCH", BATCH)
    monkeypatch.setattr(aekit.trained.batches, "ERROR_ROWS", 24)  # 64 = 24 + 24 + 16


def bare(fn, *tensors: torch.Tensor) -> torch.Tensor:
    """``fn`` over the inference batches, in the simplest way: what aekit must give."""
    with torch.no_grad():
        return torch.cat(
            [fn(*(t[i : i + BATCH] for t in tensors)) for i in range(0, len(tensors[0]), BATCH)]
        )


def bare_outputs(model, x: np.ndarray) -> dict[str, np.ndarray]:
    """Each inference method's output computed from the bare network, as aekit defines it."""
    net = model.net.eval()
    flat = x.reshape(len(x), -1)
    scaled = torch.from_numpy(model.scaler.transform(flat)).reshape(len(x), *model.sample_shape)
    codes = bare(net.encode, scaled).reshape(len(x), -1)
    rebuilt = bare(net, scaled).reshape(len(x), -1).numpy()
    errors = np.mean((scaled.reshape(len(x), -1).numpy().astype(np.float64) - rebuilt) ** 2, 1)
    decoded = bare(net.decode, codes).reshape(len(x), -1).numpy()
    return {
        "encode": codes.numpy(),
        "reconstruct": model.scaler.inverse_transform(rebuilt).reshape(x.shape),
        "anomaly_scores": errors,
        "decode": model.scaler.inverse_transform(decoded).reshape(len(x), *model.output_shape),
    }


@pytest.mark.parametrize(
    "options",
    [
        dict(hidden=[16]),  # per-column standard scaling, the PCA start's linear path
        dict(hidden=[16], scale="none"),  # nothing to scale: the input is not copied
        dict(model="vae", hidden=[16]),
    ],
)
def test_outputs_are_the_bare_networks_to_the_bit(small_batches, low_rank, options):
    model = aekit.train(low_rank, code_size=2, epochs=2, progress=False, **options)
    want = bare_outputs(model, low_rank)
    np.testing.assert_array_equal(model.encode(low_rank), want["encode"])
    np.testing.assert_array_equal(model.reconstruct(low_rank), want["reconstruct"])
    np.testing.assert_array_equal(model.anomaly_scores(low_rank), want["anomaly_scores"])
    np.testing.assert_array_equal(model.decode(want["encode"]), want["decode"])
    codes, errors = model.codes_and_anomaly_scores(low_rank)
    np.testing.assert_array_equal(codes, want["encode"])
    np.testing.assert_array_equal(errors, want["anomaly_scores"])
    assert model.encode(low_rank).dtype == np.float32
    assert model.anomaly_scores(low_rank).dtype == np.float64


def test_conv_outputs_are_the_bare_networks_to_the_bit(small_batches, small_images):
    images = np.concatenate([small_images, small_images[::-1], small_images[:8]])  # 200
    model = aekit.train(images, code_size=4, backbone="conv", epochs=1, progress=False)
    want = bare_outputs(model, images)
    np.testing.assert_array_equal(model.encode(images), want["encode"])
    np.testing.assert_array_equal(model.reconstruct(images), want["reconstruct"])
    np.testing.assert_array_equal(model.anomaly_scores(images), want["anomaly_scores"])


def test_posterior_draws_are_the_bare_networks_to_the_bit(small_batches, low_rank):
    model = aekit.train(low_rank, model="vae", code_size=2, epochs=2, progress=False)
    scaled = torch.from_numpy(model.scaler.transform(low_rank))
    eps = np.random.default_rng(5).standard_normal((len(low_rank), 2)).astype(np.float32)
    want = bare(model.net.encode_sample, scaled, torch.from_numpy(eps)).numpy()
    np.testing.assert_array_equal(model.encode(low_rank, sample=True, seed=5), want)


def test_detector_scores_are_the_models_errors(small_batches, low_rank):
    detector = AutoencoderAnomalyDetector(
        code_size=2, epochs=2, anomaly_score="reconstruction", random_state=0
    ).fit(low_rank)
    want = detector.model_.anomaly_scores(low_rank)
    np.testing.assert_array_equal(detector.score_samples(low_rank.astype(np.float64)), -want)


def in_unit_interval(x: np.ndarray) -> np.ndarray:
    """``x`` mapped onto [0, 1], both ends reached: a table read as one unit."""
    return ((x - x.min()) / (x.max() - x.min())).astype(np.float32)


# (data, options, the scaler they give: kind, per column, identity)
SCALER_CASES = {
    "standard per column": ("low_rank", dict(scale="standard"), ("standard", True, False)),
    "minmax per column": ("low_rank", dict(scale="minmax"), ("minmax", True, False)),
    "none": ("low_rank", dict(scale="none"), ("none", True, True)),
    "standard, one unit": ("unit", dict(scale="standard"), ("standard", False, False)),
    "minmax of [0, 1]": ("unit", dict(scale="minmax"), ("minmax", False, True)),
    "standard images": (
        "images",
        dict(backbone="conv", scale="standard"),
        ("standard", False, False),
    ),
    "minmax images": ("images", dict(backbone="conv", scale="minmax"), ("minmax", False, False)),
}


@pytest.mark.parametrize("case", SCALER_CASES)
def test_outputs_in_original_units_are_the_scaled_outputs_unscaled(
    small_batches, low_rank, small_images, case
):
    # reconstruct, denoise and decode against net output * spread + offset in float64
    data, options, scaler = SCALER_CASES[case]
    x = {"low_rank": low_rank, "unit": in_unit_interval(low_rank), "images": small_images}[data]
    model = aekit.train(x, code_size=2, epochs=1, progress=False, **options)
    s = model.scaler
    assert (s.kind, s.per_feature, s.is_identity) == scaler
    scaled = torch.from_numpy(model.scale(x)).reshape(len(x), *model.sample_shape)
    with torch.no_grad():
        codes = model.net.encode(scaled)
        outputs = {"reconstruct": model.net(scaled), "decode": model.net.decode(codes)}
    for method, out in outputs.items():
        flat = out.reshape(len(x), -1).numpy().astype(np.float64)
        want = (flat * s.spread.astype(np.float64) + s.offset.astype(np.float64)).reshape(x.shape)
        got = model.reconstruct(x) if method == "reconstruct" else model.decode(codes.numpy())
        assert got.shape == x.shape and got.dtype == np.float32, method
        # float32 rounding of the largest value, no more
        np.testing.assert_allclose(
            got, want, rtol=0, atol=1e-6 * np.abs(want).max(), err_msg=method
        )
    with pytest.warns(AekitWarning, match="trained without noise"):
        np.testing.assert_array_equal(model.denoise(x), model.reconstruct(x))


def test_overflow_is_reported_for_all_batches_at_once():
    outputs = BatchOutputs(200)
    for start, bad_row in ((0, None), (64, 10), (128, 3)):
        out = torch.zeros(64, 4)
        if bad_row is not None:
            out[bad_row, 1] = torch.inf if start == 64 else torch.nan
        outputs.put(slice(start, start + 64), outputs.checked(slice(start, start + 64), out))
    with pytest.raises(DataError, match=r"overflows for 2 sample\(s\) \(first: row 74\)"):
        outputs.result()


def test_read_only_arrays_are_taken_without_a_warning(low_rank):
    # a memory-mapped .npy file is read-only: torch warns when such an array becomes a tensor
    model = aekit.train(low_rank, code_size=2, epochs=1, progress=False)
    frozen = low_rank.copy()
    frozen.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        codes = model.encode(frozen)
        rebuilt = model.reconstruct(frozen)
    np.testing.assert_array_equal(codes, model.encode(low_rank))
    np.testing.assert_array_equal(rebuilt, model.reconstruct(low_rank))
