"""Sparse (L1, KL) and contractive autoencoders: specs, penalties, the Jacobian norm, training."""

import numpy as np
import pytest
import torch

import aekit
from aekit.errors import ConfigError
from aekit.evaluation import near_zero_fraction
from aekit.models import AutoencoderNet, NetConfig, make_config
from aekit.models.penalties import estimated_jacobian_sq_norm, parse_sparsity

FAST = dict(backbone="mlp", code_size=6, hidden=[32], batch_size=32, lr=3e-3, progress=False)


def test_sparsity_specs():
    assert parse_sparsity("l1:0.01") == {
        "sparsity": "l1",
        "sparsity_weight": 0.01,
        "sparsity_target": 0.0,
    }
    assert parse_sparsity("kl:0.05:0.1")["sparsity_target"] == 0.05
    for bad in ("l2:1", "l1", "kl:0.05", "kl:1.5:0.1", "l1:-1", "l1:abc"):
        with pytest.raises(ConfigError, match=repr(bad).replace("(", r"\(")):
            make_config(sparsity=bad)
    with pytest.raises(ConfigError, match="contractive"):
        make_config(contractive=-1.0)


def _exact_norms(encode, x):
    return torch.stack(
        [
            torch.autograd.functional.jacobian(encode, x[i : i + 1]).pow(2).sum()
            for i in range(len(x))
        ]
    )


@pytest.mark.parametrize(
    "hidden,activation,sparsity",
    [([], "relu", "none"), ([16], "relu", "none"), ([16], "gelu", "kl"), ([16, 8], "tanh", "l1")],
)
def test_exact_mlp_jacobian_norm(hidden, activation, sparsity):
    torch.manual_seed(0)
    config = NetConfig(
        input_shape=(10,),
        code_size=4,
        backbone="mlp",
        hidden=hidden,
        activation=activation,
        sparsity=sparsity,
        contractive=1.0,
    )
    net = AutoencoderNet(config)
    x = torch.randn(6, 10)
    _, norms = net.code_and_jacobian_sq_norm(x)
    assert torch.allclose(norms, _exact_norms(net.encode, x), rtol=1e-5, atol=1e-5)


def test_conv_estimate_is_unbiased():
    torch.manual_seed(0)
    config = NetConfig(
        input_shape=(1, 6, 6),
        code_size=3,
        backbone="conv",
        hidden=[2],
        norm="none",
        activation="tanh",
    )
    net = AutoencoderNet(config).eval()
    x = torch.rand(1, 1, 6, 6)
    exact = _exact_norms(net.encode, x)[0]
    _, draws = estimated_jacobian_sq_norm(net.encode, x.repeat(20000, 1, 1, 1), create_graph=False)
    assert abs(draws.mean().item() / exact.item() - 1) < 0.04


def test_loss_reports_penalties_separately():
    config = NetConfig(
        input_shape=(8,),
        code_size=2,
        backbone="mlp",
        hidden=[4],
        sparsity="l1",
        sparsity_weight=0.1,
        contractive=0.1,
    )
    loss, logs = AutoencoderNet(config).loss(torch.randn(5, 8))
    assert set(logs) == {"reconstruction", "sparsity", "contractive"}
    assert torch.isclose(
        loss, logs["reconstruction"] + 0.1 * logs["sparsity"] + 0.1 * logs["contractive"]
    )


def test_sparse_code_is_sparser(small_images):
    """Each sparse model against the same model with a negligible penalty (the same network: a
    plain table model would start at PCA through a linear path, which penalised ones do not
    have), on the same metric: L1 codes, |z| small relative to the codes' RMS; KL codes,
    activations below 0.05."""
    x = small_images.reshape(len(small_images), -1)
    plain = aekit.train(x, epochs=80, sparsity="l1:1e-9", **FAST)
    l1 = aekit.train(x, epochs=80, sparsity="l1:0.1", **FAST)  # measured 0.16 against 0.003
    assert near_zero_fraction(l1.encode(x)) > near_zero_fraction(plain.encode(x)) + 0.1
    plain_sigmoid = aekit.train(x, epochs=40, sparsity="kl:0.05:1e-9", **FAST)
    kl = aekit.train(x, epochs=40, sparsity="kl:0.05:0.5", **FAST)
    assert near_zero_fraction(kl.encode(x), sigmoid_code=True) > (
        near_zero_fraction(plain_sigmoid.encode(x), sigmoid_code=True) + 0.15
    )


def test_contractive_lowers_the_jacobian_norm(small_images, tmp_path):
    x = small_images.reshape(len(small_images), -1)
    # the same network with a negligible penalty (a plain table model has a PCA linear path)
    plain = aekit.train(x, epochs=20, contractive=1e-9, **FAST)
    contractive = aekit.train(x, epochs=20, contractive=0.05, out=tmp_path / "c", **FAST)

    def norm(model):
        _, sq = model.net.code_and_jacobian_sq_norm(torch.from_numpy(model.scale(x)))
        return sq.mean().item()

    assert norm(contractive) < 0.5 * norm(plain)
    loaded = aekit.load(tmp_path / "c")
    assert loaded.net_config == contractive.net_config
    assert np.array_equal(loaded.reconstruct(x), contractive.reconstruct(x))


def test_sparse_model_round_trips(small_images, tmp_path):
    model = aekit.train(small_images, epochs=40, sparsity="kl:0.05:0.5", out=tmp_path / "s", **FAST)
    loaded = aekit.load(tmp_path / "s")
    assert loaded.net_config.sparsity == "kl" and loaded.net_config.sparsity_target == 0.05
    codes = loaded.encode(small_images)
    assert np.array_equal(codes, model.encode(small_images))
    # evaluate measures a KL model's sparsity as a sigmoid code's: activations below 0.05
    row = aekit.evaluate(loaded, small_images, train_data=small_images).rows["aekit"]
    assert row["near_zero_codes"] == near_zero_fraction(codes, sigmoid_code=True)
    assert row["near_zero_codes"] != near_zero_fraction(codes)
