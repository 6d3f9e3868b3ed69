"""The VQ-VAE: its EMA codebook (moving averages, dead vectors restarted), its loss, its codes
(grids of codebook indices, refused where vectors are needed) and its autoregressive prior."""

import numpy as np
import pytest
import torch
from conftest import blob_images

import aekit
from aekit.cli.commands import main
from aekit.data import load_data
from aekit.models import MODELS, make_config
from aekit.models.codebook import EMACodebook
from aekit.models.index_prior import IndexPrior, IndexSampler
from aekit.models.vqvae import VQVAEConfig, VQVAENet
from aekit.reports.run_pictures import RunPictures


def test_the_codebook_moves_to_its_outputs_means_and_restarts_dead_vectors():
    torch.manual_seed(0)
    codebook = EMACodebook(4, 2).train()
    assert not list(codebook.parameters())  # learned by moving averages, not by gradients
    centres = torch.tensor([[5.0, 0.0], [-5.0, 0.0], [0.0, 5.0], [0.0, -5.0]])
    with torch.enable_grad():
        for _ in range(600):
            batch = centres.repeat(64, 1) + 0.1 * torch.randn(256, 2)
            codebook(batch)
    found = sorted(codebook.vectors.tolist())
    np.testing.assert_allclose(found, sorted(centres.tolist()), atol=0.1)
    # a vector no output reaches any more is restarted where the outputs are
    codebook.vectors[0] = torch.tensor([100.0, 100.0])
    codebook.sums[0] = codebook.vectors[0] * codebook.counts[0]
    with torch.enable_grad():
        for _ in range(600):
            codebook(centres.repeat(64, 1) + 0.1 * torch.randn(256, 2))
    assert codebook.vectors.abs().max() < 6.0
    assert len(set(codebook.nearest(centres).tolist())) == 4
    before = codebook.vectors.clone()
    codebook.eval()
    codebook(torch.randn(256, 2) * 9)  # validation never moves the codebook
    assert torch.equal(codebook.vectors, before)


def _net(**own) -> VQVAENet:
    shared = dict(input_shape=(1, 12, 12), code_size=4, backbone="conv", hidden=[8, 8])
    torch.manual_seed(0)
    return VQVAENet(VQVAEConfig(**shared, loss="bce", output="sigmoid", **own))


def test_the_loss_weighs_the_commitment_by_beta():
    x = torch.from_numpy(blob_images(8)[:, None])
    net = _net().eval()
    assert net.config.commitment == 0.25  # the paper's beta
    loss, logs = net.loss(x)
    assert set(logs) == {"reconstruction", "commitment"}
    total = logs["reconstruction"] + 0.25 * logs["commitment"]
    assert float(loss.detach()) == pytest.approx(float(total), rel=1e-5)
    heavier = _net(commitment=1.0).eval()
    heavier_loss = float(heavier.loss(x)[0].detach())
    assert heavier_loss == pytest.approx(float(total + 0.75 * logs["commitment"]))
    # the prior is fitted after training: the training loss leaves it alone
    assert not any(p.requires_grad for p in net.prior.parameters())


def test_codes_are_grids_of_indices_and_anything_else_is_refused():
    net = _net().eval()
    assert net.code_shape == (3, 3)  # 12 -> 6 -> 3
    codes = net.encode(torch.from_numpy(blob_images(5)[:, None]))
    assert codes.shape == (5, 9) and torch.equal(codes, codes.round())
    assert 0 <= codes.min() and codes.max() < 128
    for bad in (0.5, -1.0, 128.0, float("nan")):
        with pytest.raises(aekit.DataError, match="codebook indices, whole numbers from 0 to 127"):
            net.decode(torch.full((1, 9), bad))


def test_the_conv_grid_is_7x7_for_28x28_images_and_positions_belong_to_the_mlp():
    from aekit.models import BackboneConfig

    backbone = BackboneConfig((1, 28, 28), 16, "conv", [16, 64, 128], norm="batch")
    config = VQVAENet.config_for(backbone, make_config(model="vqvae"))
    assert config.hidden == [16, 64] and VQVAENet(config).code_shape == (7, 7)
    given = VQVAENet.config_for(backbone, make_config(model="vqvae", hidden=[8, 8, 8]))
    assert VQVAENet(given).code_shape == (4, 4)
    with pytest.raises(aekit.ConfigError, match="positions=4 sets the indices of an mlp VQ-VAE"):
        VQVAENet.config_for(backbone, make_config(model="vqvae", positions=4))


def test_the_masked_convolutions_see_only_the_positions_before():
    torch.manual_seed(0)
    prior = IndexPrior((4, 5), 6, width=8, layers=2)
    codes = torch.randint(0, 6, (1, 20))
    for t in (0, 7, 19):
        changed = codes.clone()
        changed[0, t:] = (changed[0, t:] + 1) % 6  # position t and every later one
        before, after = prior.logits(codes).flatten(2), prior.logits(changed).flatten(2)
        torch.testing.assert_close(before[..., : t + 1], after[..., : t + 1])
        if t < 19:
            assert not torch.allclose(before[..., t + 1 :], after[..., t + 1 :])


def test_the_prior_learns_which_grids_occur():
    """Grids that repeat one index (of 4) everywhere: once fitted, the prior draws such grids,
    where drawing each position apart would almost never."""
    torch.manual_seed(0)
    prior = IndexPrior((2, 3), 8, width=32, layers=2)
    codes = torch.arange(4).repeat_interleave(100)[:, None].repeat(1, 6)
    untrained = IndexSampler(prior).sample(200, seed=0)
    assert np.mean((untrained == untrained[:, :1]).all(1)) < 0.1
    assert prior.fit(codes, seed=0) < 0.2 + np.log(4)  # the first index: 1 of 4, then sure
    drawn = IndexSampler(prior).sample(200, seed=0)
    assert drawn.shape == (200, 6) and np.mean(drawn < 4) > 0.97
    assert np.mean((drawn == drawn[:, :1]).all(1)) > 0.9
    np.testing.assert_array_equal(drawn, IndexSampler(prior).sample(200, seed=0))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("vqvae") / "run"
    images = blob_images(64)
    options = dict(backbone="conv", hidden=[8, 8], code_size=4, codebook_size=16, epochs=3)
    model = aekit.train(images, model="vqvae", out=folder, batch_size=16, **options)
    return model, folder, images


def test_a_trained_vqvae_samples_from_its_prior_and_says_what_its_codes_cannot_do(run, tmp_path):
    model, folder, images = run
    assert model.samplers() == ("prior",) and model.code_size == 9
    assert model.sample(5, seed=1).shape == (5, 12, 12)
    np.testing.assert_array_equal(model.sample(5, seed=1), aekit.load(folder).sample(5, seed=1))
    with pytest.raises(aekit.ConfigError, match="grids of codebook indices.*: use sampler='prior'"):
        model.sample(2, sampler="mixture")
    with pytest.raises(aekit.ConfigError, match="ONNX export needs"):
        model.export_onnx(tmp_path / "model.onnx")
    with pytest.raises(aekit.ConfigError, match="interpolation needs codes that are vectors"):
        model.interpolate(images[0], images[1])
    codes = model.encode(images)
    np.testing.assert_allclose(model.decode(codes), model.reconstruct(images), atol=1e-6)


def test_its_evaluation_and_report_leave_out_what_needs_vector_codes(run):
    model, folder, images = run
    comparison = aekit.evaluate(model, images[:20], train_data=images)
    rows = comparison.rows
    assert {"mse", "sample_fd", "sample_precision"} <= set(rows["aekit"])
    assert "near_zero_codes" not in rows["aekit"]
    assert any("PCA-9: as many components as the VQ-VAE's code" in n for n in comparison.notes)
    drawn = RunPictures(folder, data=images[:20]).available()
    assert "samples" in drawn and "reconstructions" in drawn
    assert "codes" not in drawn and "interpolation" not in drawn
    assert (folder / "report.html").exists() and (folder / "samples.png").exists()


def test_cli_generates_and_refuses_to_interpolate_in_one_line(run, tmp_path, capsys):
    model, folder, images = run
    np.save(tmp_path / "x.npy", images)
    assert main(["generate", str(folder), "-n", "3", "-o", str(tmp_path / "s.npy")]) == 0
    assert np.load(tmp_path / "s.npy").shape == (3, 12, 12)
    args = ["interpolate", str(folder), str(tmp_path / "x.npy"), "--from", "0", "--to", "1"]
    assert main([*args, "-o", str(tmp_path / "i.npy")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "interpolation needs codes that are vectors" in err


def test_the_vqvae_is_registered():
    assert MODELS["vqvae"] is VQVAENet


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("vqvae_digits") / "run"
    model = aekit.train("digits", model="vqvae", epochs=30, out=folder, report=False)
    return model, folder, load_data("digits:test")


def test_on_digits_it_learns_uses_its_codebook_and_samples_in_range(digits_run):
    model, folder, test = digits_run
    x = test.x
    error = float(np.mean((model.reconstruct(x) - x) ** 2))
    assert error < 0.7 * float(np.mean((x - x.mean(0)) ** 2))  # the mean image: 0.074
    losses = [row["val_loss"] for row in model.history]
    assert min(losses) < 0.5 * losses[0]
    # perplexity of the indices used on the test digits: most of the 128 vectors in use
    used = np.bincount(model.encode(x).astype(int).ravel(), minlength=128)
    share = used[used > 0] / used.sum()
    assert np.exp(-np.sum(share * np.log(share))) > 48
    samples = model.sample(50, seed=0)
    assert samples.shape == (50, *model.output_shape)
    assert samples.min() >= x.min() and samples.max() <= x.max()
    loaded = aekit.load(folder)
    np.testing.assert_array_equal(loaded.encode(x), model.encode(x))
    np.testing.assert_array_equal(loaded.reconstruct(x), model.reconstruct(x))
    np.testing.assert_array_equal(loaded.sample(7, seed=3), model.sample(7, seed=3))


def test_resume_continues_bit_exactly_and_fits_the_same_prior(tmp_path):
    """The codebook's moving averages are saved with the weights; the prior is fitted after
    the last epoch, so a run stopped earlier and resumed ends with the same one."""
    images = blob_images(48)
    options = dict(
        model="vqvae", backbone="mlp", hidden=[8], code_size=3, codebook_size=8, positions=4,
        batch_size=16, schedule="constant", val_fraction=0.0, progress=False, report=False,
    )  # fmt: skip
    straight = aekit.train(images, out=tmp_path / "a", epochs=2, **options)
    aekit.train(images, out=tmp_path / "b", epochs=1, **options)
    resumed = aekit.train(images, out=tmp_path / "b", resume=True, epochs=2, progress=False)
    for name, tensor in straight.net.state_dict().items():
        assert torch.equal(tensor, resumed.net.state_dict()[name]), name
    np.testing.assert_array_equal(resumed.sample(6, seed=0), straight.sample(6, seed=0))
