"""config.json saves the conv decoder's last stage (format 5), keeps a family's own options with
the family (format 3), the shared model options apart from the training options (format 2);
runs saved in format 4 (a conv decoder with the transposed head, not named), format 2 (every
family's options among the model options) and format 1 (every option under "train") still load
and resume."""

import dataclasses
import json
import shutil

import numpy as np
import pytest
from run_edits import reseal

import aekit
from aekit.models import MODELS, option_fields
from aekit.options.declaring import spec_of
from aekit.options.train_config import SHARED_NAMES
from aekit.runs.schema import (
    DECODER_HEAD_VERSION,
    FAMILY_OPTIONS_VERSION,
    FORMAT_VERSION,
    SPLIT_OPTIONS_VERSION,
)
from aekit.training import assembly

X = np.random.default_rng(0).normal(size=(40, 6)).astype(np.float32)
MODEL_OPTIONS = {f.name for f in option_fields() if spec_of(f).group == "model"}


@pytest.fixture(scope="module", params=sorted(MODELS))
def trained_run(request, tmp_path_factory):
    out = tmp_path_factory.mktemp("trained") / "run"
    options = dict(code_size=2, hidden=[4], epochs=2, checkpoint_every=1, progress=False)
    aekit.train(X, model=request.param, out=out, **options)
    return out


@pytest.fixture
def run(trained_run, tmp_path):
    return shutil.copytree(trained_run, tmp_path / "run")


def read_config(folder) -> dict:
    return json.loads((folder / "config.json").read_text())


def as_format_2(folder) -> None:
    """Rewrite the run's config.json as aekit wrote it before format 3: every family's options,
    at their defaults but the run's family's, among the model options."""
    config = read_config(folder)
    config["format_version"] = FAMILY_OPTIONS_VERSION - 1
    defaults = {f.name: f.default for f in option_fields() if f.name not in SHARED_NAMES}
    config["model_options"].update(defaults | config.pop("family_options"))
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "manifest.json").unlink()  # written from format 4 on


def as_format_1(folder) -> None:
    """Rewrite the run's config.json as aekit wrote it before format 2."""
    as_format_2(folder)
    config = read_config(folder)
    config["format_version"] = SPLIT_OPTIONS_VERSION - 1
    config["train"] = {**config.pop("model_options"), **config["train"]}
    (folder / "config.json").write_text(json.dumps(config))


def test_options_are_saved_by_owner(run):
    config = read_config(run)
    family = MODELS[config["model_type"]]
    own = {f.name for f in dataclasses.fields(family.options_class)}
    assert set(config["family_options"]) == own
    assert set(config["model_options"]) == (MODEL_OPTIONS & set(SHARED_NAMES))
    assert set(config["train"]) == set(SHARED_NAMES) - MODEL_OPTIONS
    # the options as the user gave them, for --resume; "net" holds what was built from them
    assert config["model_options"]["hidden"] == [4] and config["model_options"]["norm"] is None
    assert config["net"]["norm"] == "none"


@pytest.mark.parametrize("rewrite", [as_format_2, as_format_1])
def test_an_older_run_loads_with_the_same_options(run, rewrite):
    new = aekit.load(run)
    rewrite(run)
    old = aekit.load(run)
    assert old.train_config == new.train_config
    np.testing.assert_array_equal(old.encode(X), new.encode(X))


def test_a_format_1_run_has_no_model_options_section(run):
    as_format_1(run)
    config = read_config(run)
    config["model_options"] = {}
    (run / "config.json").write_text(json.dumps(config))
    with pytest.raises(aekit.ModelFileError, match="model_options is not a field aekit knows"):
        aekit.load(run)


def test_a_format_2_run_has_no_family_options_section(run):
    as_format_2(run)
    config = read_config(run)
    config["family_options"] = {}
    (run / "config.json").write_text(json.dumps(config))
    with pytest.raises(aekit.ModelFileError, match="family_options is not a field aekit knows"):
        aekit.load(run)


@pytest.mark.parametrize("rewrite", [None, as_format_2, as_format_1])
def test_a_finished_run_resumes_to_itself(run, rewrite):
    """--resume compares the options saved in config.json with the checkpoint's: in any
    format a finished run is reported finished instead of trained again."""
    if rewrite is not None:
        rewrite(run)
    written = (run / "config.json").stat().st_mtime_ns
    model = aekit.train(X, out=run, resume=True, progress=False)
    assert (run / "config.json").stat().st_mtime_ns == written  # not trained and saved again
    assert model.train_config.hidden == [4]


@pytest.mark.parametrize("rewrite", [as_format_2, as_format_1])
def test_an_older_run_resumes_for_more_epochs(run, rewrite):
    """A run saved in an older format goes on training, and is saved in today's."""
    rewrite(run)
    model = aekit.train(X, out=run, resume=True, epochs=3, progress=False)
    assert model.result["epochs_run"] == 3
    assert read_config(run)["format_version"] == FORMAT_VERSION


IMAGES = np.random.default_rng(1).random((24, 1, 8, 8)).astype(np.float32)
CONV = dict(backbone="conv", hidden=[4, 8], code_size=3, epochs=2, progress=False)


def test_a_conv_run_names_its_decoder_head_and_a_table_run_none(tmp_path):
    aekit.train(IMAGES, out=tmp_path / "conv", **CONV)
    aekit.train(X, out=tmp_path / "mlp", code_size=2, hidden=[4], epochs=1, progress=False)
    assert read_config(tmp_path / "conv")["net"]["decoder_head"] == "shuffle"
    assert read_config(tmp_path / "mlp")["net"]["decoder_head"] is None


@pytest.mark.parametrize("model", ["ae", "vae", "vqvae"])
def test_a_conv_run_saved_before_format_5_loads_with_the_transposed_head(
    model, tmp_path, monkeypatch
):
    """Before format 5 every conv decoder ended in a transposed convolution and config.json
    did not say so; such a run loads with that head and its own weights."""
    build = assembly.net_config_for
    monkeypatch.setattr(
        assembly,
        "net_config_for",
        lambda *args: dataclasses.replace(build(*args), decoder_head="transposed"),
    )
    run = tmp_path / "run"
    aekit.train(IMAGES, model=model, out=run, **CONV)
    saved = aekit.load(run)
    config = read_config(run)
    del config["net"]["decoder_head"]
    config["format_version"] = DECODER_HEAD_VERSION - 1
    (run / "config.json").write_text(json.dumps(config))
    reseal(run)
    old = aekit.load(run)
    assert old.net.config.decoder_head == "transposed"
    np.testing.assert_array_equal(old.reconstruct(IMAGES), saved.reconstruct(IMAGES))


def test_a_conv_run_without_a_decoder_head_is_refused(tmp_path):
    """A format-5 conv run names its head; a null one is not read as the transposed head."""
    run = tmp_path / "run"
    aekit.train(IMAGES, out=run, **CONV)
    config = read_config(run)
    config["net"]["decoder_head"] = None
    (run / "config.json").write_text(json.dumps(config))
    reseal(run)
    with pytest.raises(aekit.ModelFileError, match="net.decoder_head must be one of"):
        aekit.load(run)


def test_a_table_run_saved_before_format_5_saves_again_as_format_5(tmp_path):
    """A run of format 4 has no net.decoder_head; an MLP's loads as None, so saving it again
    writes a run that loads."""
    old = tmp_path / "old"
    aekit.train(X, out=old, code_size=2, hidden=[4], epochs=1, progress=False)
    config = read_config(old)
    del config["net"]["decoder_head"]
    config["format_version"] = DECODER_HEAD_VERSION - 1
    (old / "config.json").write_text(json.dumps(config))
    reseal(old)
    model = aekit.load(old)
    assert model.net.config.decoder_head is None
    model.save(tmp_path / "copy")
    assert read_config(tmp_path / "copy")["net"]["decoder_head"] is None
    np.testing.assert_array_equal(aekit.load(tmp_path / "copy").encode(X), model.encode(X))
