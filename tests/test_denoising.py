"""Denoising autoencoders: noise specs, seeded corruption, training, resume, CLI, evaluation."""

import warnings

import numpy as np
import pytest
import torch
from conftest import blob_images

import aekit
from aekit.cli.commands import main
from aekit.errors import AekitWarning, ConfigError
from aekit.models import make_config
from aekit.nn.noise import Corruption, corrupt_array, parse_noise
from aekit.options.config_file import read_config_file

FAST = dict(backbone="mlp", code_size=8, hidden=[64], batch_size=16, lr=3e-3, progress=False)


@pytest.mark.parametrize(
    "spec", ["blur:1", "gaussian", "gaussian:x", "gaussian:-1", "mask:1", "saltpepper:0"]
)
def test_bad_noise_spec_is_a_config_error_naming_it(spec):
    with pytest.raises(ConfigError) as info:
        make_config(noise=[spec])
    assert repr(spec) in str(info.value)
    if spec == "blur:1":
        assert "gaussian" in str(info.value) and "saltpepper" in str(info.value)


def test_noise_accepts_a_string_a_list_and_toml(tmp_path):
    assert make_config(noise="gaussian:0.3").noise == ["gaussian:0.3"]
    assert make_config(noise=["gaussian:0.3", "mask:0.25"]).noise == ["gaussian:0.3", "mask:0.25"]
    path = tmp_path / "c.toml"
    path.write_text('noise = ["saltpepper:0.1", "mask:0.5"]\n')
    assert read_config_file(path)["noise"] == ["saltpepper:0.1", "mask:0.5"]
    assert parse_noise(" Mask:0.25 ").kind == "mask"


def test_corruption_is_seeded_and_does_what_it_says():
    x = torch.rand(64, 1, 8, 8)
    before = x.clone()
    both = Corruption(["gaussian:0.3", "mask:0.25"], bounded=True)
    a = both(x, torch.Generator().manual_seed(3))
    b = both(x, torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and torch.equal(x, before)
    assert not torch.equal(a, both(x, torch.Generator().manual_seed(4)))
    assert a.min() >= 0 and a.max() <= 1  # bounded: gaussian noise is clipped

    masked = Corruption(["mask:0.25"], bounded=False)(x, torch.Generator().manual_seed(0))
    assert abs((masked == 0).float().mean().item() - 0.25) < 0.03

    salt = Corruption(["saltpepper:0.2"], bounded=True)(x, torch.Generator().manual_seed(0))
    changed = salt != x
    assert abs(changed.float().mean().item() - 0.2) < 0.03
    assert set(salt[changed].unique().tolist()) == {0.0, 1.0}

    wide = 5 * torch.randn(64, 10)  # unbounded: the batch's min and max stand in
    salty = Corruption(["saltpepper:0.5"], bounded=False)(wide, torch.Generator().manual_seed(0))
    assert set(salty[salty != wide].unique().tolist()) == {wide.min().item(), wide.max().item()}
    gaussian = Corruption(["gaussian:1"], bounded=False)(wide, torch.Generator().manual_seed(0))
    assert gaussian.max() > wide.max() or gaussian.min() < wide.min()  # not clipped

    arrays = [corrupt_array(x.numpy(), ["gaussian:0.3"], bounded=True, seed=1) for _ in range(2)]
    assert np.array_equal(*arrays)


@pytest.fixture(scope="module")
def denoiser(tmp_path_factory, small_images_module):
    out = tmp_path_factory.mktemp("runs") / "denoiser"
    model = aekit.train(small_images_module[:80], noise="gaussian:0.3", epochs=60, out=out, **FAST)
    return model, out


@pytest.fixture(scope="module")
def small_images_module():
    return blob_images(96)


def test_denoiser_beats_the_noisy_input(denoiser, small_images_module):
    model, out = denoiser
    x = small_images_module
    result = aekit.evaluate(model, x[80:], train_data=x[:80], noise=["gaussian:0.3"])
    noisy, ours = result.rows["noisy"]["psnr"], result.rows["aekit"]["denoise_psnr"]
    assert ours > noisy + 4.0, result.to_table()
    assert "denoise_psnr" in result.rows["pca"] and "noisy input" in result.to_table()
    assert (out / "denoising.png").stat().st_size > 0
    assert model.denoise(x[80:]).shape == x[80:].shape


def test_training_with_noise_is_reproducible_and_resumes_bit_exactly(tmp_path, small_images):
    options = dict(FAST, noise=["gaussian:0.2", "mask:0.1"], schedule="constant")
    straight = aekit.train(small_images, epochs=2, out=tmp_path / "a", **options)
    again = aekit.train(small_images, epochs=2, **options)
    aekit.train(small_images, epochs=1, out=tmp_path / "b", **options)
    resumed = aekit.train(small_images, out=tmp_path / "b", resume=True, epochs=2, progress=False)
    for other in (again, resumed):
        for name, tensor in straight.net.state_dict().items():
            assert torch.equal(tensor, other.net.state_dict()[name]), name
    clean = aekit.train(small_images, epochs=2, **dict(options, noise=None))
    assert not torch.equal(
        clean.net.state_dict()["decoder.0.0.weight"],
        straight.net.state_dict()["decoder.0.0.weight"],
    )


def test_cli_denoise(denoiser, small_images_module, tmp_path, capsys):
    _, out = denoiser
    noisy = corrupt_array(small_images_module[80:], ["gaussian:0.3"], bounded=True, seed=0)
    np.save(tmp_path / "noisy.npy", noisy)
    assert (
        main(["denoise", str(out), str(tmp_path / "noisy.npy"), "-o", str(tmp_path / "c.npy")]) == 0
    )
    assert np.load(tmp_path / "c.npy").shape == noisy.shape

    np.save(tmp_path / "bad.npy", np.zeros((4, 7), dtype=np.float32))
    capsys.readouterr()
    code = main(["denoise", str(out), str(tmp_path / "bad.npy"), "-o", str(tmp_path / "d.npy")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("aekit: error:") and err.count("\n") == 1


def test_denoising_with_a_model_trained_without_noise_warns(tmp_path, small_images, capsys):
    out = tmp_path / "plain"
    plain = aekit.train(small_images, epochs=1, out=out, report=False, **FAST)
    with pytest.warns(AekitWarning, match=r"trained without noise.*reconstruct"):
        denoised = plain.denoise(small_images)
    np.testing.assert_array_equal(denoised, plain.reconstruct(small_images))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # measuring how a plain model denoises is no mistake
        aekit.evaluate(plain, small_images[:20], train_data=small_images, noise="gaussian:0.3")
    np.save(tmp_path / "noisy.npy", small_images)
    for stream in ("off", "on"):
        args = [str(out), str(tmp_path / "noisy.npy"), "-o", str(tmp_path / f"{stream}.npy")]
        assert main(["denoise", *args, "--stream", stream, "--quiet"]) == 0
        lines = capsys.readouterr().err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("aekit: warning: "), lines
    np.testing.assert_array_equal(np.load(tmp_path / "on.npy"), denoised)
