"""Samplers: every family with vector codes draws from a Gaussian mixture fitted on its training
codes (the default) and, where it has one, from its own prior; ``sample(sampler=...)`` and
``aekit generate --sampler`` pick."""

import numpy as np
import pytest
from conftest import blob_images

import aekit
from aekit.cli.commands import main
from aekit.runs.folder import CODE_DENSITY_FILE

FAST = dict(epochs=3, progress=False, hidden=[16], code_size=3, batch_size=16, backbone="mlp")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("samplers")
    images = blob_images(48)
    for family in ("ae", "vae", "wae"):
        aekit.train(images, out=root / family, model=family, gmm_components=2, **FAST)
    return root


@pytest.mark.parametrize("family", ["vae", "wae"])
def test_a_family_with_a_prior_samples_the_mixture_by_default_and_its_prior_on_request(
    runs, family
):
    model = aekit.load(runs / family)
    assert (runs / family / CODE_DENSITY_FILE).exists()
    assert len(model.code_density.weights_) == 2
    prior_codes = np.random.default_rng(4).standard_normal((6, 3)).astype(np.float32)
    np.testing.assert_allclose(
        model.sample(6, seed=4, sampler="prior"), model.decode(prior_codes), atol=1e-6
    )
    mixture = model.decode(model.code_density.sample(6, 4))
    np.testing.assert_allclose(model.sample(6, seed=4, sampler="mixture"), mixture, atol=1e-6)
    np.testing.assert_array_equal(
        model.sample(6, seed=4), model.sample(6, seed=4, sampler="mixture")
    )
    assert model.samplers() == ("mixture", "prior")


def test_the_plain_autoencoder_has_no_prior_and_says_what_to_use(runs):
    model = aekit.load(runs / "ae")
    assert model.samplers() == ("mixture",)
    with pytest.raises(aekit.ConfigError, match="no prior of its own.*sampler='mixture'"):
        model.sample(2, sampler="prior")
    with pytest.raises(aekit.ConfigError, match="unknown sampler 'gmm'.*'mixture', 'prior'"):
        model.sample(2, sampler="gmm")


def test_a_run_saved_without_a_code_density_samples_its_prior(runs, tmp_path):
    """Runs of a VAE saved before every family got a mixture have no code_density.json."""
    model = aekit.load(runs / "vae")
    model.code_density = None
    model.save(tmp_path / "old")
    old = aekit.load(tmp_path / "old")
    assert old.samplers() == ("prior",)
    np.testing.assert_array_equal(old.sample(3, seed=1), model.sample(3, seed=1, sampler="prior"))
    with pytest.raises(aekit.ConfigError, match="no code density"):
        old.sample(3, sampler="mixture")


def test_cli_generate_takes_the_sampler(runs, tmp_path, capsys):
    out = tmp_path / "s.npy"
    assert (
        main(["generate", str(runs / "vae"), "-n", "4", "--sampler", "prior", "-o", str(out)]) == 0
    )
    model = aekit.load(runs / "vae")
    np.testing.assert_allclose(np.load(out), model.sample(4, seed=0, sampler="prior"), atol=1e-6)
    assert main(["generate", str(runs / "ae"), "--sampler", "prior", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no prior of its own" in err
