"""Generation: samples from the VAE prior or the code density, interpolation, the CLI."""

import numpy as np
import pytest
from conftest import blob_images

import aekit
from aekit.cli.commands import main
from aekit.errors import ConfigError
from aekit.models.interpolation import linear_path, spherical_path
from aekit.runs.folder import CODE_DENSITY_FILE

FAST = dict(epochs=3, progress=False, hidden=[16], code_size=3, batch_size=16)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, small_images_module):
    root = tmp_path_factory.mktemp("gen")
    aekit.train(small_images_module, out=root / "vae", model="vae", loss="bce", **FAST)
    aekit.train(small_images_module, out=root / "ae", backbone="mlp", gmm_components=3, **FAST)
    return root


@pytest.fixture(scope="module")
def small_images_module():
    return blob_images(48)


@pytest.mark.parametrize(("family", "sampler"), [("vae", "prior"), ("vae", None), ("ae", None)])
def test_samples_are_decoded_draws_of_the_right_codes(runs, family, sampler):
    model = aekit.load(runs / family)
    samples = model.sample(7, seed=1, sampler=sampler)
    assert samples.shape == (7, 12, 12)
    # decodes of draws from the prior (asked for) or the density fitted on the codes (default)
    if sampler == "prior":
        codes = np.random.default_rng(1).standard_normal((7, model.code_size))
    else:
        codes = model.code_density.sample(7, 1)
    np.testing.assert_allclose(samples, model.decode(codes.astype(np.float32)), atol=1e-6)
    np.testing.assert_array_equal(samples, model.sample(7, seed=1, sampler=sampler))
    assert not np.allclose(samples, model.sample(7, seed=2, sampler=sampler))


def test_code_density_survives_save_and_load(runs, tmp_path, small_images_module):
    assert (runs / "ae" / CODE_DENSITY_FILE).exists()
    assert (runs / "vae" / CODE_DENSITY_FILE).exists()  # every family with vector codes
    model = aekit.train(small_images_module, backbone="mlp", gmm_components=4, **FAST)
    assert len(model.code_density.weights_) == 4
    model.save(tmp_path / "run")
    loaded = aekit.load(tmp_path / "run")
    np.testing.assert_array_equal(loaded.sample(5, seed=0), model.sample(5, seed=0))


def test_code_density_fitted_on_first_use_is_the_one_fitted_on_the_training_codes(
    runs, small_images_module
):
    from aekit.models.priors import CodeDensity

    in_memory = aekit.train(small_images_module, backbone="mlp", gmm_components=3, **FAST)
    # fitted when first needed (training leaves it for later), on the same seeded codes
    expected = CodeDensity.fit(in_memory.encode(small_images_module[_train_rows()]), 3, seed=0)
    np.testing.assert_allclose(in_memory.code_density.means_, expected.means_, rtol=1e-6)
    saved = aekit.load(runs / "ae")  # the run folder got the same density when it was written
    np.testing.assert_allclose(saved.code_density.means_, expected.means_, rtol=1e-5, atol=1e-6)


def _train_rows() -> np.ndarray:
    """The rows aekit.train trains on in ``small_images_module`` (seed 0, 10% validation)."""
    order = np.random.default_rng(0).permutation(48)
    return np.sort(order[5:])


@pytest.mark.parametrize("family", ["vae", "ae"])
def test_interpolation_ends_at_the_reconstructions(runs, family, small_images_module):
    model = aekit.load(runs / family)
    x = small_images_module
    strip = model.interpolate(x[0], x[5], steps=6)
    assert strip.shape == (6, 12, 12)
    ends = model.reconstruct(x[[0, 5]])
    np.testing.assert_allclose(strip[[0, -1]], ends, atol=1e-6)
    with pytest.raises(ConfigError, match="steps"):
        model.interpolate(x[0], x[5], steps=1)


def _angle(u, v):
    return np.arccos(np.clip(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)), -1, 1))


def test_spherical_path_turns_evenly_and_interpolates_the_norm():
    """Codes of norms 2 and 5: the path turns through equal angles per step (a straight line
    turns fastest near the shorter end) while its norm goes linearly from 2 to 5 (a straight
    line's norm dips below that in between)."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(64), rng.standard_normal(64)
    a *= 2.0 / np.linalg.norm(a)
    b *= 5.0 / np.linalg.norm(b)
    path = spherical_path(a, b, 9)
    t = np.linspace(0, 1, 9)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 2.0 + 3.0 * t, rtol=1e-5)
    omega = _angle(a, b)
    np.testing.assert_allclose([_angle(a, z) for z in path], t * omega, atol=1e-5)
    np.testing.assert_allclose([_angle(z, b) for z in path], (1 - t) * omega, atol=1e-5)
    np.testing.assert_array_equal(path[[0, -1]], np.stack([a, b]).astype(np.float32))
    line = linear_path(a, b, 9)  # what the test tells apart: the straight line fails both
    assert np.linalg.norm(line[4]) < 0.9 * 3.5
    assert abs(_angle(a, line[4]) - omega / 2) > 0.1


def test_sampling_a_plain_model_without_density_is_a_clear_error(small_images_module):
    model = aekit.train(small_images_module, backbone="mlp", **FAST)
    model.code_density = None
    with pytest.raises(ConfigError, match="no code density"):
        model.sample(2)


def test_cli_generate_and_interpolate_write_files(runs, tmp_path, small_images_module):
    data = tmp_path / "x.npy"
    np.save(data, small_images_module)
    assert main(["generate", str(runs / "vae"), "-n", "12", "-o", str(tmp_path / "s.png")]) == 0
    assert main(["generate", str(runs / "ae"), "-n", "5", "-o", str(tmp_path / "s.npy")]) == 0
    assert np.load(tmp_path / "s.npy").shape == (5, 12, 12)
    args = ["interpolate", str(runs / "vae"), str(data), "--from", "1", "--to", "2"]
    assert main([*args, "--steps", "4", "-o", str(tmp_path / "i.png")]) == 0
    assert main([*args, "-o", str(tmp_path / "i.npy")]) == 0
    assert np.load(tmp_path / "i.npy").shape == (10, 12, 12)
    assert (tmp_path / "s.png").stat().st_size > 0 and (tmp_path / "i.png").exists()


def test_cli_errors_are_one_line(runs, tmp_path, small_images_module, capsys):
    data = tmp_path / "x.npy"
    np.save(data, small_images_module)
    out = str(tmp_path / "i.npy")
    assert (
        main(["interpolate", str(runs / "ae"), str(data), "--from", "0", "--to", "48", "-o", out])
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--to 48" in err and "48 samples" in err
    vectors = aekit.train(small_images_module.reshape(48, -1), backbone="mlp", **FAST)
    vectors.save(tmp_path / "vec")
    assert main(["generate", str(tmp_path / "vec"), "-o", str(tmp_path / "v.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "PNG needs an image model" in err
    flat = tmp_path / "flat.npy"  # the vector model's own layout: it never reshapes images
    np.save(flat, small_images_module.reshape(48, -1))
    assert main(["encode", str(tmp_path / "vec"), str(flat), "--sample", "-o", out]) == 2
    assert "needs a family whose encoder draws codes" in capsys.readouterr().err


def test_code_density_on_many_codes_finds_the_clusters():
    """More codes than the fit uses: the subsample still recovers a two-cluster density."""
    from aekit.models.priors import MAX_FIT_CODES, CodeDensity

    rng = np.random.default_rng(3)
    n = 3 * MAX_FIT_CODES
    centres = np.array([[-5.0, 0.0, 2.0], [5.0, 1.0, -2.0]])
    which = rng.random(n) < 0.25  # a quarter in the first cluster
    codes = centres[which.astype(int) ^ 1] + 0.5 * rng.standard_normal((n, 3))
    density = CodeDensity.fit(codes, 2, seed=0)
    order = np.argsort(density.means_[:, 0])
    np.testing.assert_allclose(density.means_[order], centres, atol=0.1)
    np.testing.assert_allclose(density.weights_[order], [0.25, 0.75], atol=0.03)
    np.testing.assert_allclose(density.covariances_[order[0]], 0.25 * np.eye(3), atol=0.05)
    again = CodeDensity.fit(codes, 2, seed=0)
    np.testing.assert_array_equal(again.means_, density.means_)
