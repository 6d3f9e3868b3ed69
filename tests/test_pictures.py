"""A run's pictures come from its folder's files: the same PNGs whoever draws them, on the run's
held-out data, for images and tables, and for runs trained on in-memory data."""

import numpy as np
import pandas as pd
import pytest
from conftest import blob_images

import aekit
from aekit.evaluation.run_data import held_out_part
from aekit.reports.drawing import png_bytes
from aekit.reports.run_pictures import RunPictures

TINY = dict(code_size=3, hidden=[16], epochs=2, progress=False)
IMAGE_PICTURES = {"loss", "codes", "reconstructions", "samples", "interpolation", "denoising"}


@pytest.fixture(scope="module")
def image_run(tmp_path_factory):
    """A run on a .npz of labelled 12x12 images, trained with noise (so it has every picture)."""
    folder = tmp_path_factory.mktemp("images")
    data = folder / "blobs.npz"
    x = blob_images(120)
    np.savez(data, x=x, y=(x[:, :6].sum(axis=(1, 2)) > x[:, 6:].sum(axis=(1, 2))).astype(int))
    aekit.train(str(data), out=folder / "run", noise="gaussian:0.2", val_fraction=0.25, **TINY)
    return folder / "run"


@pytest.fixture(scope="module")
def table_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("table")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(80, 5)) * [1, 10, 100, 1, 1], columns=list("abcde"))
    frame["kind"] = np.where(frame["a"] > 0, "up", "down")
    frame.to_csv(folder / "table.csv", index=False)
    aekit.train(str(folder / "table.csv"), label="kind", out=folder / "run", **TINY)
    return folder / "run"


def test_training_draws_the_pictures_from_the_folder(image_run):
    written = {path.name for path in image_run.iterdir()}
    assert {f"{name}.png" for name in IMAGE_PICTURES} <= written
    assert "feature_errors.png" not in written and "report.html" in written
    pictures = RunPictures(image_run)
    assert set(pictures.available()) == IMAGE_PICTURES
    # drawn again from the folder, every picture is the PNG training wrote, byte for byte
    for name, draw in pictures.available().items():
        assert png_bytes(draw()) == (image_run / f"{name}.png").read_bytes(), name


def test_the_code_map_shows_the_held_out_codes_by_label(image_run):
    pictures = RunPictures(image_run)
    held = held_out_part(pictures.model)
    assert len(held.data) == 30  # a quarter of 120 held out
    ax = pictures.code_map().axes[0]
    points = np.concatenate([c.get_offsets() for c in ax.collections])
    assert len(points) == 30
    assert sorted(c.get_label() for c in ax.collections) == ["0", "1"]  # the .npz's labels
    assert "PC 1" in ax.get_xlabel()  # three numbers per code: its principal components


def test_a_two_number_code_is_mapped_as_it_is(tmp_path):
    x = blob_images(60)
    np.save(tmp_path / "blobs.npy", x)
    run = tmp_path / "run"
    model = aekit.train(str(tmp_path / "blobs.npy"), out=run, **{**TINY, "code_size": 2})
    held = held_out_part(model).data.x
    ax = RunPictures(run).code_map().axes[0]
    np.testing.assert_allclose(ax.collections[0].get_offsets(), model.encode(held), rtol=1e-6)
    assert ax.get_xlabel() == "code 0"


def test_tables_get_per_feature_errors_in_the_scaled_space(table_run):
    pictures = RunPictures(table_run)
    assert set(pictures.available()) == {"loss", "codes", "feature_errors"}
    written = {path.name for path in table_run.iterdir()}
    assert "feature_errors.png" in written and "reconstructions.png" not in written
    model, x = pictures.model, held_out_part(pictures.model).data.x
    expected = np.mean((model.scale(model.reconstruct(x)) - model.scale(x)) ** 2, axis=0)
    ax = pictures.feature_errors().axes[0]
    shown = {
        t.get_text(): bar.get_width()
        for t, bar in zip(ax.get_yticklabels(), ax.patches, strict=True)
    }
    assert shown == pytest.approx(dict(zip("abcde", expected, strict=True)))
    with pytest.raises(aekit.ConfigError, match="grey or RGB images"):
        pictures.reconstructions()


def test_a_run_on_in_memory_data_draws_what_needs_no_data(tmp_path):
    x = blob_images(60)
    aekit.train(x, out=tmp_path / "run", **TINY)
    pictures = RunPictures(tmp_path / "run")
    assert set(pictures.available()) == {"loss", "samples"}
    with pytest.raises(aekit.ConfigError, match="in-memory data.*data="):
        pictures.code_map()
    # training drew its held-out part (it had it at hand), and data= draws any data
    assert (tmp_path / "run" / "codes.png").exists()
    given = RunPictures(tmp_path / "run", data=x[:20])
    assert len(given.code_map().axes[0].collections[0].get_offsets()) == 20
    assert {"codes", "reconstructions", "interpolation"} <= set(given.available())
