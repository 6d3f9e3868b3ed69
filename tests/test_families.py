"""Every registered family keeps the contract of ``models.Family``: shapes, a finite loss whose
gradients reach every parameter, save -> load with identical outputs, and it overfits 16 samples.

The families come from the registry, so a new family is tested by registering it.
"""

import json
import math

import numpy as np
import pytest
import torch
from loop_settings import loop_config
from run_edits import reseal

import aekit
from aekit.models import MODELS, BackboneConfig, Family, make_config
from aekit.training.loop import fit

FAMILIES = sorted(MODELS)
BACKBONES = {
    "mlp": BackboneConfig((8,), 3, "mlp", [16], loss="mse"),
    "conv": BackboneConfig(
        (1, 8, 8), 4, "conv", [4, 8], norm="batch", loss="bce", output="sigmoid"
    ),
}


def build(name: str, backbone: str, **settings) -> Family:
    family = MODELS[name]
    config = family.config_for(BACKBONES[backbone], make_config(model=name, **settings))
    torch.manual_seed(0)
    return family(config)


def test_registry_keys_are_the_families_own_names():
    for name, family in MODELS.items():
        assert family.family_name == name and issubclass(family, Family)
        assert issubclass(family.config_class, BackboneConfig)


@pytest.mark.parametrize("backbone", BACKBONES)
@pytest.mark.parametrize("name", FAMILIES)
def test_shapes_finite_loss_and_gradients_everywhere(name, backbone):
    net = build(name, backbone)
    assert isinstance(net.config, net.config_class)
    # a code: code_size numbers, or (the contract allows it) a grid of them, flattened
    shape, k = tuple(net.config.input_shape), math.prod(net.code_shape)
    x = torch.rand(6, *shape)
    assert net.encode(x).shape == (6, k)
    assert net.decode(net.encode(x)).shape == x.shape and net(x).shape == x.shape
    prior = net.code_prior()
    if prior is not None:
        assert prior.sample(5, seed=0).shape == (5, k)
    z_a, z_b = np.zeros(k, np.float32) + 1, np.arange(k, dtype=np.float32)
    if net.vector_codes:
        path = net.interpolation_path(z_a, z_b, 4)
        assert path.shape == (4, k) and np.allclose(path[0], z_a) and np.allclose(path[-1], z_b)
    else:  # no code lies between two grids of indices
        with pytest.raises(aekit.ConfigError, match=net.code_description[:20]):
            net.interpolation_path(z_a, z_b, 4)
    net.train()
    value, logs = net.loss(x)
    assert value.ndim == 0 and torch.isfinite(value) and "reconstruction" in logs
    assert all(torch.isfinite(term) for term in logs.values())
    value.backward()
    # every trained parameter (a VQ-VAE's prior is fitted after training, not by the loss)
    for pname, param in [(n, p) for n, p in net.named_parameters() if p.requires_grad]:
        assert param.grad is not None and param.grad.abs().sum() > 0, f"no gradient reaches {pname}"


@pytest.mark.parametrize("name", FAMILIES)
def test_encode_sample_draws_around_the_codes_or_says_why_not(name):
    net = build(name, "mlp").eval()
    x, eps = torch.rand(5, 8), torch.randn(5, 3)
    try:
        draws = net.encode_sample(x, eps)
    except aekit.ConfigError as exc:
        assert "deterministic" in str(exc)
        return
    assert draws.shape == (5, 3) and torch.isfinite(draws).all()
    assert torch.equal(net.encode_sample(x, torch.zeros_like(eps)), net.encode(x))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Each family trained briefly on 32 small images and saved."""
    from conftest import blob_images

    images = blob_images(32)
    root = tmp_path_factory.mktemp("families")
    options = dict(epochs=2, hidden=[4], code_size=3, batch_size=16, progress=False)
    return {
        name: (aekit.train(images, out=root / name, model=name, backbone="mlp", **options), root)
        for name in FAMILIES
    }, images


@pytest.mark.parametrize("name", FAMILIES)
def test_save_then_load_gives_identical_outputs(trained, name):
    (models, images) = trained
    model, root = models[name]
    loaded = aekit.load(root / name)
    assert type(loaded.net) is MODELS[name] and loaded.model_type == name
    assert loaded.net.config == model.net.config
    np.testing.assert_array_equal(loaded.encode(images), model.encode(images))
    np.testing.assert_array_equal(loaded.reconstruct(images), model.reconstruct(images))
    np.testing.assert_array_equal(loaded.sample(4, seed=2), model.sample(4, seed=2))
    if model.net.vector_codes:  # grids of indices have no path between them
        ends = loaded.interpolate(images[0], images[1], steps=3)
        np.testing.assert_array_equal(ends, model.interpolate(images[0], images[1], steps=3))
    for key, value in model.net.state_dict().items():
        assert torch.equal(loaded.net.state_dict()[key], value), key


def test_a_vae_saved_with_the_autoencoder_fields_still_loads(trained, tmp_path):
    """Runs saved before the VAE's config held only its own fields carry the plain
    autoencoder's penalty and linear-path fields, at their defaults."""
    (models, images) = trained
    model, root = models["vae"]
    config = json.loads((root / "vae" / "config.json").read_text())
    assert "sparsity" not in config["net"] and "linear_path" not in config["net"]
    old_net = dict(config["net"])
    order = list(BackboneConfig.__dataclass_fields__)
    old_net = {name: old_net[name] for name in order}
    old_net.update(sparsity="none", sparsity_weight=0.0, sparsity_target=0.0, contractive=0.0)
    old_net.update(linear_path=False, beta=config["net"]["beta"])
    old_net.update(kl_warmup=config["net"]["kl_warmup"], decoder_scale="learned")
    config["net"] = old_net
    old = tmp_path / "old"
    model.save(old)
    (old / "config.json").write_text(json.dumps(config))
    reseal(old)
    loaded = aekit.load(old)
    assert loaded.net.config == model.net.config
    np.testing.assert_array_equal(loaded.reconstruct(images), model.reconstruct(images))
    np.testing.assert_array_equal(loaded.sample(4, seed=1), model.sample(4, seed=1))


@pytest.mark.parametrize("name", FAMILIES)
def test_each_family_overfits_16_samples(name):
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.uniform(0.0, 1.0, size=(16, 8)).astype(np.float32))
    net = build(name, "mlp")

    def loss_and_error() -> tuple[float, float]:
        net.eval()
        torch.manual_seed(3)  # the same draws of a sampled code before and after
        with torch.no_grad():
            return float(net.loss(x)[0]), float(((net(x) - x) ** 2).mean())

    loss_before, error_before = loss_and_error()
    fit(net, x, None, loop_config(epochs=400, batch_size=16, lr=1e-2, val_fraction=0.0))
    loss_after, error_after = loss_and_error()
    assert error_after < 0.3 * error_before, (error_before, error_after)
    assert loss_after < loss_before - 0.5 * abs(loss_before), (loss_before, loss_after)
