"""The VAE family: loss terms, ELBO/IWAE against known answers, save/load, resume."""

import math

import numpy as np
import pytest
import torch

import aekit
from aekit.config import make_config
from aekit.errors import ConfigError
from aekit.likelihood import elbo, iwae_log_likelihood
from aekit.models import VAEConfig, VAENet

FAST = dict(epochs=2, progress=False, hidden=[16], code_size=3, batch_size=16)


@pytest.fixture(scope="module")
def binary():
    """(96, 1, 8, 8) binary images: random rectangles, so there is structure to learn."""
    rng = np.random.default_rng(0)
    x = np.zeros((96, 1, 8, 8), dtype=np.float32)
    for image in x:
        top, left = rng.integers(0, 5, size=2)
        image[0, top : top + 4, left : left + 4] = 1.0
    return x


@pytest.fixture(scope="module")
def trained(binary):
    return aekit.train(
        binary[:80],
        model="vae",
        loss="bce",
        code_size=3,
        hidden=[32],
        epochs=40,
        lr=3e-3,
        batch_size=16,
        progress=False,
        val_fraction=0.0,
    )


def test_model_backbone_and_vae_options_are_checked():
    with pytest.raises(ConfigError, match="backbone='conv'"):
        make_config(model="mlp", backbone="conv")
    with pytest.raises(ConfigError, match="beta"):
        make_config(model="vae", beta=0.0)
    with pytest.raises(ConfigError, match="kl_warmup"):
        make_config(model="vae", kl_warmup=-1)
    assert make_config(model="vae", backbone="conv").backbone == "conv"


def test_loss_reports_kl_separately_and_it_is_finite(binary):
    torch.manual_seed(0)
    net = VAENet(
        VAEConfig(
            input_shape=(1, 8, 8),
            code_size=3,
            backbone="mlp",
            hidden=[8],
            loss="bce",
            output="sigmoid",
        )
    )
    loss, logs = net.loss(torch.from_numpy(binary[:16]))
    assert set(logs) == {"reconstruction", "kl"}
    assert torch.isfinite(logs["kl"]) and logs["kl"] >= 0
    # the reconstruction term is a sum over the 64 values: Bernoulli NLL near 64 log 2
    assert 20 < float(logs["reconstruction"]) < 200
    assert math.isclose(
        float(loss.detach()), float(logs["reconstruction"] + logs["kl"]), rel_tol=1e-5
    )


def test_kl_warmup_counts_steps_in_a_buffer():
    net = VAENet(VAEConfig(input_shape=(4,), code_size=2, backbone="mlp", beta=2.0, kl_warmup=4))
    assert "kl_step" in net.state_dict()
    x = torch.rand(8, 4)
    weights = []
    for _ in range(6):
        weights.append(net.kl_weight())
        net.loss(x)
    assert weights == [0.0, 0.5, 1.0, 1.5, 2.0, 2.0]
    assert net.eval().kl_weight() == 2.0  # validation scores the full objective


def test_elbo_rises_with_training(binary, trained):
    test = torch.from_numpy(binary[80:])
    torch.manual_seed(1)
    untrained = VAENet(trained.net.config)
    before = elbo(untrained, test).mean()
    after = elbo(trained.net, test).mean()
    assert after > before + 5.0  # nats per sample; untrained is about -44 (64 log 2)


def test_iwae_is_exact_when_the_decoder_ignores_the_code(binary):
    """q(z|x) = p(z) and p(x|z) = p(x): every importance weight is p(x), for any K."""
    torch.manual_seed(0)
    net = VAENet(
        VAEConfig(
            input_shape=(1, 8, 8),
            code_size=3,
            backbone="mlp",
            hidden=[8],
            loss="bce",
            output="sigmoid",
        )
    )
    encoder_out, decoder_out = net.encoder[1][-1], net.decoder[0][-1]
    bias = torch.linspace(-2, 2, 64)
    with torch.no_grad():
        for layer in (encoder_out, decoder_out):
            layer.weight.zero_()
            layer.bias.zero_()
        decoder_out.bias.copy_(bias)
    x = torch.from_numpy(binary[:10])
    p = torch.sigmoid(bias).double()
    flat = x.flatten(1).double()
    exact = (flat * p.log() + (1 - flat) * (1 - p).log()).sum(dim=1)
    for k in (1, 7, 50):
        estimate = iwae_log_likelihood(net, x, samples=k).double()
        torch.testing.assert_close(estimate, exact, atol=1e-4, rtol=0)
    torch.testing.assert_close(elbo(net, x).double(), exact, atol=1e-4, rtol=0)


def test_iwae_bounds_are_ordered(binary, trained):
    test = torch.from_numpy(binary[80:])
    lower = elbo(trained.net, test).mean()
    iw5 = iwae_log_likelihood(trained.net, test, samples=5).mean()
    iw200 = iwae_log_likelihood(trained.net, test, samples=200).mean()
    assert lower <= iw5 + 0.05 and iw5 <= iw200 + 0.05
    assert iw200 - lower > 0.01  # a real posterior gap, not three equal numbers


def test_evaluate_reports_elbo_and_iwae_nll(binary, trained):
    report = aekit.evaluate(trained, binary[80:], train_data=binary[:80], iw_samples=20)
    scores = report.rows["aekit"]
    assert scores["elbo"] < 0 < scores["iwae_nll"] <= -scores["elbo"] + 0.5
    assert any("K=20" in note for note in report.notes)


def test_encode_is_deterministic_unless_sampling(binary, trained):
    x = binary[80:]
    np.testing.assert_array_equal(trained.encode(x), trained.encode(x))
    first = trained.encode(x, sample=True, seed=3)
    np.testing.assert_array_equal(first, trained.encode(x, sample=True, seed=3))
    assert not np.allclose(first, trained.encode(x, sample=True, seed=4))
    assert not np.allclose(first, trained.encode(x))


@pytest.mark.parametrize("backbone", ["mlp", "conv"])
def test_save_load_round_trips(binary, backbone, tmp_path):
    model = aekit.train(
        binary[:32], model="vae", backbone=backbone, loss="bce", **{**FAST, "hidden": [4]}
    )
    model.save(tmp_path / "run")
    loaded = aekit.load(tmp_path / "run")
    assert loaded.model_type == "vae" and loaded.net.config.backbone == backbone
    np.testing.assert_array_equal(loaded.encode(binary), model.encode(binary))
    np.testing.assert_array_equal(loaded.reconstruct(binary), model.reconstruct(binary))
    assert int(loaded.net.kl_step) == int(model.net.kl_step)


def test_resume_continues_bit_exactly_with_the_warmup(binary, tmp_path):
    options = dict(
        model="vae", loss="bce", schedule="constant", kl_warmup=5, val_fraction=0.0, **FAST
    )
    straight = aekit.train(binary[:48], out=tmp_path / "a", **options)
    aekit.train(binary[:48], out=tmp_path / "b", **{**options, "epochs": 1})
    resumed = aekit.train(binary[:48], out=tmp_path / "b", resume=True, epochs=2, progress=False)
    assert int(resumed.net.kl_step) == int(straight.net.kl_step) == 6
    for name, tensor in straight.net.state_dict().items():
        assert torch.equal(tensor, resumed.net.state_dict()[name]), name
