"""The VAE family: loss terms, ELBO/IWAE against known answers, save/load, resume."""

import io
import json
import math
import warnings

import numpy as np
import pytest
import torch
from run_edits import reseal
from safetensors.torch import load_file, save_file

import aekit
from aekit.cli import commands as cli
from aekit.data.scaling import ValueRange
from aekit.errors import ConfigError
from aekit.models import VAEConfig, VAENet, make_config
from aekit.models.vae_likelihood import elbo, iwae_log_likelihood, vae_scores
from aekit.runs.folder import WEIGHTS_FILE, read_checkpoint, write_checkpoint
from aekit.training.planning import with_loss
from aekit.training.progress import Progress

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


# -- the decoder's likelihood: defaults, learned scales, known answers --------------------------


def test_loss_defaults_to_bernoulli_for_a_vae_on_unit_data(binary, tmp_path):
    assert make_config().loss is None  # "pick from the data"
    unit = binary.reshape(len(binary), -1)
    wide = unit * 4.0 - 1.0  # [-1, 3]
    cases = [
        (dict(model="vae"), unit, "bce"),
        (dict(backbone="auto"), unit, "mse"),  # the plain autoencoder keeps squared error
        (dict(model="vae"), wide, "mse"),
        (dict(model="vae", scale="standard"), unit, "mse"),  # standard scaling leaves [0, 1]
        (dict(model="vae", loss="mae"), unit, "mae"),  # a loss the user set stays
    ]
    for options, flat, expected in cases:
        assert with_loss(make_config(**options), ValueRange.of(flat)).loss == expected, options
    model = aekit.train(binary[:32], model="vae", out=tmp_path / "run", **FAST)
    assert model.net.config.loss == "bce" and model.train_config.loss == "bce"
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["model_options"]["loss"] == "bce" and saved["net"]["loss"] == "bce"
    assert aekit.load(tmp_path / "run").train_config.loss == "bce"


def _noisy_table(n=64, seed=0):
    """(n, 5): two latent factors plus noise, so a 2-code VAE explains most but not all."""
    rng = np.random.default_rng(seed)
    factors = rng.standard_normal((n, 2))
    mixing = np.array([[1.0, 0.5, 0.0, -1.0, 0.3], [0.0, 1.0, 1.0, 0.5, -0.7]])
    return (factors @ mixing + 0.3 * rng.standard_normal((n, 5))).astype(np.float32)


def test_gaussian_decoder_learns_its_scale_to_the_error():
    x = _noisy_table()
    model = aekit.train(
        x, model="vae", loss="mse", code_size=2, hidden=[16], epochs=150, lr=1e-2,
        batch_size=16, val_fraction=0.0, progress=False,
    )  # fmt: skip
    assert "decoder_log_scale" in dict(model.net.named_parameters())
    sigma = float(model.net.log_scale().detach().exp())
    scaled = model.scale(x)
    squared = [
        np.mean((model.scale(model.decode(model.encode(x, sample=True, seed=s))) - scaled) ** 2)
        for s in range(20)
    ]
    rms_error = float(np.sqrt(np.mean(squared)))
    # the best scale of a Gaussian decoder is the RMS error of decodes of posterior draws; the
    # unit scale of old was far off
    assert sigma < 0.8 and abs(sigma - rms_error) < 0.15 * rms_error, (sigma, rms_error)


def _set_linear(layer, weight, bias):
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(weight, dtype=torch.float32))
        layer.bias.copy_(torch.as_tensor(bias, dtype=torch.float32))


def _set_log_scale(net, value):
    with torch.no_grad():
        net.decoder_log_scale.fill_(value)
    return float(net.log_scale().detach().exp())  # what the net uses, whatever its parametrisation


def test_iwae_is_exact_for_a_linear_gaussian_vae_with_its_true_posterior():
    """p(z) = N(0, I), p(x|z) = N(Wz + b, sigma^2 I) with W's columns orthogonal, and the encoder
    set to the exact posterior, a diagonal Gaussian with nonzero mean and variance below 1:
    every importance weight is p(x) = N(x; b, WW^T + sigma^2 I), so the IWAE estimate equals it
    for any K. A wrong log q(z|x), log p(z) or Gaussian constant would not."""
    d, k = 4, 2
    net = VAENet(
        VAEConfig(
            input_shape=(d,), code_size=k, backbone="mlp", hidden=[d], activation="none",
            loss="mse", output="identity",
        )
    )  # fmt: skip
    sigma = _set_log_scale(net, math.log(0.5))
    w = np.array([[0.8, 0.0], [0.8, 0.0], [0.0, 1.5], [0.0, -1.5]])
    b = np.array([0.5, -1.0, 0.2, 0.0])
    post_var = 1.0 / (1.0 + (w**2).sum(axis=0) / sigma**2)  # (k,): W^T W is diagonal
    a = post_var[:, None] * w.T / sigma**2  # posterior mean = a (x - b)
    encoder_in, encoder_out = net.encoder[1][0], net.encoder[1][-1]
    decoder_in, decoder_out = net.decoder[0][0], net.decoder[0][-1]
    _set_linear(encoder_in, np.eye(d), np.zeros(d))
    _set_linear(
        encoder_out,
        np.vstack([a, np.zeros((k, d))]),
        np.concatenate([-a @ b, np.log(post_var)]),
    )
    _set_linear(decoder_in, np.vstack([np.eye(k), np.zeros((d - k, k))]), np.zeros(d))
    _set_linear(decoder_out, np.hstack([w, np.zeros((d, d - k))]), b)
    x = np.random.default_rng(0).normal(size=(12, d)) * 2.0
    covariance = w @ w.T + sigma**2 * np.eye(d)
    centred = x - b
    exact = -0.5 * (
        np.einsum("nd,de,ne->n", centred, np.linalg.inv(covariance), centred)
        + np.linalg.slogdet(covariance)[1]
        + d * math.log(2 * math.pi)
    )
    xt = torch.from_numpy(x.astype(np.float32))
    mean, logvar = net.posterior(xt)
    assert mean.abs().min() > 0.01 and float(logvar.detach().max()) < -0.5  # non-trivial q
    expected = torch.from_numpy(exact)
    for samples in (1, 7, 50):
        estimate = iwae_log_likelihood(net, xt, samples=samples).double()
        torch.testing.assert_close(estimate, expected, atol=2e-4, rtol=0)


def test_laplace_likelihood_is_exact_when_the_decoder_ignores_the_code(binary):
    """q(z|x) = p(z) and p(x|z) = Laplace(mu, b) per value: every importance weight is p(x)."""
    net = VAENet(VAEConfig(input_shape=(6,), code_size=2, backbone="mlp", hidden=[8], loss="mae"))
    scale = _set_log_scale(net, math.log(0.3))
    mu = np.linspace(-1.0, 1.0, 6)
    _set_linear(net.encoder[1][-1], np.zeros((4, 8)), np.zeros(4))
    _set_linear(net.decoder[0][-1], np.zeros((6, 8)), mu)
    x = np.random.default_rng(1).normal(size=(10, 6))
    exact = (-math.log(2 * scale) - np.abs(x - mu) / scale).sum(axis=1)
    xt = torch.from_numpy(x.astype(np.float32))
    for samples in (1, 7):
        estimate = iwae_log_likelihood(net, xt, samples=samples).double()
        torch.testing.assert_close(estimate, torch.from_numpy(exact), atol=2e-4, rtol=0)
    torch.testing.assert_close(elbo(net, xt).double(), torch.from_numpy(exact), atol=2e-4, rtol=0)


def test_runs_saved_with_a_unit_scale_decoder_still_load_and_score_as_before(tmp_path):
    """A run from before the scale was learned has no decoder_scale field and no tensor for it:
    it loads as the fixed unit-variance Gaussian it was trained as."""
    x = _noisy_table(32)
    model = aekit.train(x, model="vae", loss="mse", out=tmp_path / "run", **FAST)
    config_path, weights_path = tmp_path / "run" / "config.json", tmp_path / "run" / WEIGHTS_FILE
    config = json.loads(config_path.read_text())
    del config["net"]["decoder_scale"]
    config_path.write_text(json.dumps(config))
    weights = load_file(weights_path)
    del weights["decoder_log_scale"]
    save_file(weights, weights_path)
    reseal(tmp_path / "run")  # the files as such a run saved them, listed
    old = aekit.load(tmp_path / "run")
    assert old.net.config.decoder_scale == "unit" and float(old.net.log_scale()) == 0.0
    np.testing.assert_array_equal(old.reconstruct(x), model.reconstruct(x))
    scaled = torch.from_numpy(old.scale(x))
    raw = old.net.decode_raw(old.net.encode(scaled)).detach()
    unit_gaussian = 0.5 * (raw - scaled).pow(2).sum(dim=1) + 2.5 * math.log(2 * math.pi)
    torch.testing.assert_close(old.net.reconstruction_nll(raw, scaled), unit_gaussian)


# -- evaluate: the NLL of every density, in the data's units, with its standard error -----------


@pytest.mark.parametrize("loss", ["mse", "mae"])
def test_evaluate_reports_the_nll_of_continuous_decoders_in_the_data_units(loss):
    """The same model trained on x and on 10 x (standard scaling makes the scaled data equal)
    has NLLs in the data's units that differ by exactly d log 10 nats."""
    x = _noisy_table(64)
    train, test = x[:48], x[48:]
    options = dict(model="vae", loss=loss, val_fraction=0.0, **FAST)
    reports = []
    for factor in (1.0, 10.0):
        model = aekit.train(train * factor, **options)
        reports.append(
            aekit.evaluate(model, test * factor, train_data=train * factor, iw_samples=20)
        )
    small, large = (report.rows["aekit"] for report in reports)
    assert math.isfinite(small["iwae_nll"]) and small["iwae_nll_se"] > 0
    shift = 5 * math.log(10.0)
    assert large["iwae_nll"] - small["iwae_nll"] == pytest.approx(shift, abs=0.05)
    assert large["elbo"] - small["elbo"] == pytest.approx(-shift, abs=0.05)
    assert any("data's own units" in note for note in reports[0].notes)


def test_iwae_nll_uses_a_subset_and_reports_its_standard_error(binary, trained):
    test = torch.from_numpy(binary[80:])  # 16 samples
    scores, notes = vae_scores(trained.net, test, iw_samples=10, iw_images=None)
    log_px = iwae_log_likelihood(trained.net, test, samples=10).double()
    assert scores["iwae_nll"] == pytest.approx(-float(log_px.mean()))
    assert scores["iwae_nll_se"] == pytest.approx(float(log_px.std()) / 4.0)
    assert any("on all test samples" in note for note in notes)
    part, notes = vae_scores(trained.net, test, iw_samples=10, iw_images=5)
    assert any("5 of 16" in note for note in notes)
    assert part["iwae_nll_se"] > 0 and part["iwae_nll"] != scores["iwae_nll"]
    with pytest.raises(ConfigError, match="iw_images"):
        aekit.evaluate(trained, binary[80:], train_data=binary[:80], iw_images=-1)
    # 0: the ELBO only (what training's own evaluation computes), and a note saying so
    quick = aekit.evaluate(trained, binary[80:], train_data=binary[:80], iw_images=0)
    assert "elbo" in quick.rows["aekit"] and "iwae_nll" not in quick.rows["aekit"]
    assert any("no iwae_nll" in note and "aekit evaluate RUN" in note for note in quick.notes)


def test_iwae_progress_is_shown_only_when_asked(binary, trained, capsys):
    calls = []
    test = torch.from_numpy(binary[80:])
    iwae_log_likelihood(trained.net, test, samples=3, progress=lambda *c: calls.append(c))
    assert calls[0] == (0, 16) and calls[-1] == (16, 16)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    stream = io.StringIO()
    live = Progress(stream, live=True)
    live.count("IWAE NLL", 0, 16)
    assert "IWAE NLL: 0/16" in stream.getvalue()
    live.count("IWAE NLL", 16, 16)
    assert stream.getvalue().endswith("\r\033[K")  # the line is cleared at the end
    aekit.evaluate(trained, binary[80:], train_data=binary[:80], iw_samples=2)
    assert capsys.readouterr().err == ""  # library calls are silent by default


def test_cli_evaluate_sets_iw_counts_and_turns_progress_on(monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr(cli, "load", lambda run: None)
    monkeypatch.setattr(cli, "evaluate", lambda model, data, **kw: seen.update(kw) or _Empty())
    cli.main(["evaluate", str(tmp_path), "x.npy", "--iw-samples", "7", "--iw-images", "all"])
    assert seen["iw_samples"] == 7 and seen["iw_images"] is None and seen["progress"] is True
    seen.clear()
    cli.main(["evaluate", str(tmp_path), "x.npy", "--iw-images", "30", "--quiet"])
    assert seen["iw_images"] == 30 and seen["progress"] is False
    assert "iw_samples" not in seen  # the family's default


class _Empty:
    def to_table(self):
        return ""


# -- the old spellings of model: "mlp", "conv", "auto" were the plain autoencoder's backbone --


def test_an_old_model_spelling_warns_and_trains_the_same_net(small_images):
    options = dict(code_size=2, hidden=[8], epochs=1, progress=False)
    with pytest.warns(DeprecationWarning, match="use model='ae', backbone='mlp'"):
        old = aekit.train(small_images, model="mlp", **options)
    new = aekit.train(small_images, model="ae", backbone="mlp", **options)
    assert (old.train_config.model, old.train_config.backbone) == ("ae", "mlp")
    old_state, new_state = old.net.state_dict(), new.net.state_dict()
    assert all(torch.equal(old_state[k], new_state[k]) for k in new_state)


def test_the_cli_notes_an_old_model_spelling(tmp_path, small_images, capsys):
    from aekit.cli.commands import main

    np.save(tmp_path / "x.npy", small_images)
    argv = ["train", str(tmp_path / "x.npy"), "--out", str(tmp_path / "run"), "--quiet"]
    assert main([*argv, "--model", "conv", "--epochs", "1", "--code", "2"]) == 0
    err = capsys.readouterr().err
    assert "model='conv' is deprecated: use model='ae', backbone='conv'" in err


def test_a_toml_old_model_spelling_warns_once(tmp_path, small_images):
    path = tmp_path / "options.toml"
    path.write_text('model = "auto"\nbackbone = "mlp"\n')
    with pytest.warns(DeprecationWarning, match="backbone='mlp'") as caught:
        model = aekit.train(small_images, config=path, code_size=2, epochs=1, progress=False)
    assert len(caught) == 1
    assert (model.train_config.model, model.train_config.backbone) == ("ae", "mlp")


def test_a_saved_run_of_an_old_spelling_loads_and_resumes_without_a_warning(tmp_path, small_images):
    run = tmp_path / "run"
    aekit.train(small_images, out=run, backbone="mlp", code_size=2, epochs=1, progress=False)
    config_path = run / "config.json"
    config = json.loads(config_path.read_text())
    config["model_options"]["model"] = "mlp"
    config_path.write_text(json.dumps(config))
    checkpoint = read_checkpoint(run)
    checkpoint.meta["run"]["train"]["model"] = "mlp"
    write_checkpoint(run, checkpoint)
    reseal(run)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        assert aekit.load(run).train_config.model == "ae"
        resumed = aekit.train(small_images, out=run, resume=True, progress=False)
    assert (resumed.train_config.model, resumed.train_config.backbone) == ("ae", "mlp")
