"""Run folders from elsewhere: every broken file is a ModelFileError naming the file and the field.

One tiny run is trained per module; each test breaks a copy of it in one way and loads it.
"""

import dataclasses
import json
import math
import os
import pickle
import shutil
import stat
import struct

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from run_edits import reseal
from safetensors.torch import load_file, save_file

import aekit
from aekit import ModelFileError
from aekit.models import MODELS, option_fields
from aekit.options.train_config import TrainConfig
from aekit.runs.schema import FORMAT_VERSION, TRAIN, net_table

# values outside [0, 1] and not whole: a table of mixed units, scaled per column (6 offsets)
X = (np.random.default_rng(0).random((40, 6)) * 3 - 1).astype(np.float32)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A run folder of a (40, 6) -> 2 MLP autoencoder with one hidden layer of 4."""
    out = tmp_path_factory.mktemp("trained") / "run"
    aekit.train(X, code_size=2, hidden=[4], epochs=1, progress=False, out=out)
    return out


@pytest.fixture
def run(trained_run, tmp_path):
    """A fresh copy of the trained run, for a test to break."""
    return shutil.copytree(trained_run, tmp_path / "run")


def load_error(folder) -> str:
    reseal(folder)  # the file the test broke is what loading must refuse, not the manifest
    with pytest.raises(ModelFileError) as info:
        aekit.load(folder)
    return str(info.value)


def edit_config(folder, edit) -> None:
    path = folder / "config.json"
    config = json.loads(path.read_text())
    edit(config)
    path.write_text(json.dumps(config))
    reseal(folder)


def edit_weights(folder, edit) -> None:
    path = folder / "model.safetensors"
    weights = load_file(str(path))
    edit(weights)
    save_file(weights, str(path))
    reseal(folder)


def header_end(folder) -> int:
    """Offset where a safetensors file's tensor data starts: 8-byte length, then JSON header."""
    (length,) = struct.unpack("<Q", (folder / "model.safetensors").read_bytes()[:8])
    return 8 + length


# -- the folder itself -------------------------------------------------------------------------
def test_run_folder_that_is_missing_or_a_file(tmp_path):
    assert "does not exist" in load_error(tmp_path / "nowhere")
    (tmp_path / "file").write_text("{}")
    assert f"{tmp_path / 'file'} is not a folder" in load_error(tmp_path / "file")


def test_folder_without_config_is_not_a_run(run):
    (run / "config.json").unlink()
    assert f"{run / 'config.json'} is missing" in load_error(run)


# -- 1. model.safetensors that is not a whole safetensors file ----------------------------------
def cut_at(where):
    def cut(folder):
        path = folder / "model.safetensors"
        data = path.read_bytes()
        path.write_bytes(data[: where(len(data), header_end(folder))])

    return cut


def write_bytes(data: bytes):
    return lambda folder: (folder / "model.safetensors").write_bytes(data)


def make_folder(folder):
    (folder / "model.safetensors").unlink()
    (folder / "model.safetensors").mkdir()


BROKEN_WEIGHTS = {
    "empty": write_bytes(b""),
    "cut_in_length_prefix": cut_at(lambda size, end: 5),
    "cut_after_length_prefix": cut_at(lambda size, end: 8),
    "cut_early_in_header": cut_at(lambda size, end: 30),
    "cut_late_in_header": cut_at(lambda size, end: end - 1),
    "cut_at_data_start": cut_at(lambda size, end: end),
    "cut_inside_data": cut_at(lambda size, end: (end + size) // 2),
    "cut_last_byte": cut_at(lambda size, end: size - 1),
    "random_bytes": write_bytes(np.random.default_rng(1).bytes(900)),
    "huge_header_length": write_bytes(struct.pack("<Q", 2**62) + b"{}"),
    "header_not_json": write_bytes(struct.pack("<Q", 6) + b"{nope}"),
    "folder_in_its_place": make_folder,
    "missing": lambda folder: (folder / "model.safetensors").unlink(),
}


@pytest.mark.parametrize("breaks", BROKEN_WEIGHTS.values(), ids=BROKEN_WEIGHTS.keys())
def test_broken_weights_file(run, breaks):
    breaks(run)
    assert str(run / "model.safetensors") in load_error(run)


# -- 2. config.json: syntax, then structure and types --------------------------------------------
BROKEN_CONFIG_BYTES = {
    "empty": (b"", "not valid JSON"),
    "invalid_json": (b'{"format_version": 1,', "not valid JSON"),
    "not_utf8": (b'{"format_version": 1, "model_type": "\xff"}', "not UTF-8"),
    "a_list": (b"[1, 2]", "JSON object"),
    "a_string": (b'"config"', "JSON object"),
    "deeply_nested": (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
}


@pytest.mark.parametrize(
    "data, problem", BROKEN_CONFIG_BYTES.values(), ids=BROKEN_CONFIG_BYTES.keys()
)
def test_config_that_is_not_a_json_object(run, data, problem):
    (run / "config.json").write_bytes(data)
    message = load_error(run)
    assert str(run / "config.json") in message and problem in message


def test_config_that_is_a_folder(run):
    (run / "config.json").unlink()
    (run / "config.json").mkdir()
    assert str(run / "config.json") in load_error(run)


def set_field(dotted: str, value):
    """An edit that sets config[section][name] (or config[name]) to ``value``."""

    def edit(config):
        *section, name = dotted.split(".")
        (config[section[0]] if section else config)[name] = value

    return edit


def drop_field(dotted: str):
    def edit(config):
        *section, name = dotted.split(".")
        del (config[section[0]] if section else config)[name]

    return edit


# (edit, what the message must name)
BAD_CONFIGS = {
    # missing fields
    "missing_model_type": (drop_field("model_type"), "model_type is missing"),
    "missing_net": (drop_field("net"), "net is missing"),
    "missing_train": (drop_field("train"), "train is missing"),
    "missing_result": (drop_field("result"), "result is missing"),
    "missing_format_version": (drop_field("format_version"), "format_version"),
    "missing_net_code_size": (drop_field("net.code_size"), "net.code_size is missing"),
    "missing_net_activation": (drop_field("net.activation"), "net.activation is missing"),
    "missing_scaler_offset": (drop_field("scaler.offset"), "scaler.offset is missing"),
    "missing_data_min": (drop_field("data.data_min"), "data.data_min is missing"),
    # unknown fields, everywhere
    "unknown_top_level": (set_field("comment", "hi"), "comment is not a field"),
    "unknown_net": (set_field("net.code_sise", 2), "net.code_sise is not a field"),
    "unknown_scaler": (set_field("scaler.median", [0.0]), "scaler.median is not a field"),
    "unknown_train": (set_field("train.momentum", 0.9), "train.momentum is not a field"),
    "unknown_data": (set_field("data.rows", 40), "data.rows is not a field"),
    # wrong types and values
    "code_size_string": (set_field("net.code_size", "32"), "net.code_size must be a positive"),
    "code_size_float": (set_field("net.code_size", 2.0), "net.code_size must be"),
    "code_size_bool": (set_field("net.code_size", True), "net.code_size must be"),
    "code_size_zero": (set_field("net.code_size", 0), "net.code_size must be"),
    "code_size_past_int64": (set_field("net.code_size", 2**70), "net.code_size must be"),
    "hidden_past_int64": (set_field("net.hidden", [2**70]), "net.hidden must be"),
    "hidden_string": (set_field("net.hidden", "128"), "net.hidden must be a list"),
    "hidden_negative": (set_field("net.hidden", [-4]), "net.hidden must be"),
    "input_shape_negative": (set_field("net.input_shape", [-6]), "net.input_shape must be"),
    "input_shape_2d": (set_field("net.input_shape", [2, 3]), "net.input_shape must be"),
    "input_shape_number": (set_field("net.input_shape", 6), "net.input_shape must be"),
    "backbone_unknown": (set_field("net.backbone", "transformer"), "net.backbone must be"),
    "conv_on_vectors": (set_field("net.backbone", "conv"), "net.input_shape must be 3 integers"),
    "decoder_head_unknown": (set_field("net.decoder_head", "bilinear"), "net.decoder_head must"),
    "decoder_head_on_mlp": (
        set_field("net.decoder_head", "shuffle"),
        "net.decoder_head must be null, as net.backbone is 'mlp'",
    ),
    "activation_unknown": (set_field("net.activation", "swish"), "net.activation must be"),
    "dropout_nan": (set_field("net.dropout", math.nan), "net.dropout must be"),
    "dropout_one": (set_field("net.dropout", 1.0), "net.dropout must be"),
    "output_unknown": (set_field("net.output", "softmax"), "net.output must be"),
    "net_a_list": (set_field("net", [6, 2]), "net must be a JSON object"),
    "scaler_kind": (set_field("scaler.kind", "robust"), "scaler.kind must be"),
    "per_feature_string": (set_field("scaler.per_feature", "yes"), "scaler.per_feature must be"),
    "offset_too_short": (set_field("scaler.offset", [0.0] * 5), "scaler.offset must be 6 numbers"),
    "offset_too_long": (set_field("scaler.offset", [0.0] * 7), "scaler.offset must be 6 numbers"),
    "offset_text": (set_field("scaler.offset", ["0"] * 6), "scaler.offset must be"),
    "offset_past_float32": (set_field("scaler.offset", [1e39] * 6), "scaler.offset must be"),
    "spread_zero": (set_field("scaler.spread", [0.0] * 6), "scaler.spread must be"),
    "spread_infinite": (set_field("scaler.spread", [math.inf] * 6), "scaler.spread must be"),
    "output_shape_wrong_size": (set_field("data.output_shape", [7]), "data.output_shape must be"),
    "feature_names_wrong_count": (
        set_field("data.feature_names", ["a", "b"]),
        "data.feature_names must be",
    ),
    "n_train_negative": (set_field("data.n_train", -1), "data.n_train must be"),
    "data_min_text": (set_field("data.data_min", "low"), "data.data_min must be"),
    "result_a_string": (set_field("result", "done"), "result must be"),
    "aekit_version_number": (set_field("aekit_version", 0.1), "aekit_version must be"),
    # training options: TrainConfig.validate's judgement, translated
    "train_epochs_negative": (set_field("train.epochs", -1), "train.epochs must be"),
    "train_lr_text": (set_field("train.lr", "fast"), "train.lr must be"),
    "train_optimizer_unknown": (set_field("train.optimizer", "sgd"), "train.optimizer must be"),
    "hidden_option_string": (
        set_field("model_options.hidden", "128"),
        "model_options.hidden must be",
    ),
    "model_option_under_train": (
        set_field("train.hidden", [4]),
        "train.hidden is not a field aekit knows",
    ),
    "train_early_stopping_int": (set_field("train.early_stopping", 1), "train.early_stopping"),
    "train_seed_huge": (set_field("train.seed", 10**30), "train.seed must be"),
    "train_lr_huge_int": (set_field("train.lr", 10**400), "train.lr must be"),
    "train_a_list": (set_field("train", []), "train must be a JSON object"),
    # which model, which format
    "model_type_unknown": (set_field("model_type", "gan"), "model_type must be one of 'ae', 'vae'"),
    "model_type_null": (set_field("model_type", None), "model_type must be"),
    "format_version_newer": (
        set_field("format_version", FORMAT_VERSION + 1),
        f"format version {FORMAT_VERSION + 1}, newer",
    ),
    "format_version_string": (set_field("format_version", "1"), "format_version must be"),
    "format_version_bool": (set_field("format_version", True), "format_version must be"),
    "format_version_zero": (set_field("format_version", 0), "format_version must be"),
}


@pytest.mark.parametrize("edit, names", BAD_CONFIGS.values(), ids=BAD_CONFIGS.keys())
def test_bad_config_field(run, edit, names):
    edit_config(run, edit)
    message = load_error(run)
    assert message.startswith(str(run / "config.json"))
    assert names in message


def test_bad_value_message_quotes_the_value(run):
    edit_config(run, set_field("net.code_size", "32"))
    assert load_error(run) == (
        f"{run / 'config.json'}: net.code_size must be a positive integer up to 2147483647, "
        'got "32"'
    )


def test_missing_training_options_take_their_defaults(run):
    """Options record how a run was trained; a run saved before an option existed still loads."""
    edit_config(run, drop_field("train.skip_nonfinite"))
    assert aekit.load(run).train_config.skip_nonfinite == TrainConfig().skip_nonfinite


def test_schema_tables_are_read_off_the_declarations():
    """Every field of a family's config says what it may be saved as, and every declared
    option has its row: nothing to add to the schema by hand."""
    for name, family in MODELS.items():
        for field in dataclasses.fields(family.config_class):
            assert "saved" in field.metadata, f"{name}: net.{field.name} has no saved check"
        assert set(net_table(name)) >= {f.name for f in dataclasses.fields(family.config_class)}
    assert set(TRAIN) == {f.name for f in option_fields()}


def test_a_fresh_run_passes_the_schema(run):
    loaded = aekit.load(run)
    assert loaded.encode(X).shape == (40, 2)


# -- 3. tensors that do not fit the network the config describes --------------------------------
def to_half(name):
    def edit(weights):
        weights[name] = weights[name].half()

    return edit


def with_nan(name):
    def edit(weights):
        weights[name] = torch.full_like(weights[name], math.nan)

    return edit


# (edit of config.json or None, edit of the weights or None, strings the message must contain)
MISMATCHES = {
    "code_size_3_weights_for_2": (
        set_field("net.code_size", 3),
        None,
        ["'encoder.1.2.weight'", "(3, 4)", "(2, 4)"],
    ),
    "hidden_5_weights_for_4": (
        set_field("net.hidden", [5]),
        None,
        ["'encoder.1.0.weight'", "(5, 6)", "(4, 6)"],
    ),
    "missing_tensor": (
        None,
        lambda weights: weights.pop("encoder.1.0.bias"),
        ["'encoder.1.0.bias'", "(4,)", "no such tensor"],
    ),
    "extra_tensor": (
        None,
        lambda weights: weights.update({"encoder.9.weight": torch.zeros(3, 3)}),
        ["'encoder.9.weight'", "(3, 3)", "not part of the network"],
    ),
    "renamed_tensor": (
        None,
        lambda weights: weights.update({"encoder.x.weight": weights.pop("encoder.1.0.weight")}),
        ["'encoder.1.0.weight'", "(4, 6)"],
    ),
    "half_precision": (None, to_half("decoder.0.2.weight"), ["'decoder.0.2.weight'", "float16"]),
    "nan_weights": (None, with_nan("encoder.1.2.bias"), ["'encoder.1.2.bias'", "NaN"]),
}


@pytest.mark.parametrize("config_edit, weights_edit, names", MISMATCHES.values(), ids=MISMATCHES)
def test_weights_that_do_not_fit_the_config(run, config_edit, weights_edit, names):
    if config_edit is not None:
        edit_config(run, config_edit)
    if weights_edit is not None:
        edit_weights(run, weights_edit)
    message = load_error(run)
    assert message.startswith(str(run / "model.safetensors"))
    for name in names:
        assert name in message


@pytest.mark.parametrize("hidden", [[2**31 - 1], [2**30, 2**30]])
def test_weights_for_a_huge_network_are_checked_without_allocating_it(run, hidden):
    """Sizes come from an untrusted file: the check runs on the meta device, before any memory."""
    edit_config(run, set_field("net.hidden", hidden))
    assert "'encoder.1.0.weight'" in load_error(run)


def test_network_too_big_for_torch_is_a_model_file_error(run):
    def edit(config):
        config["net"]["input_shape"] = [2**30] * 3  # 2**90 inputs: past torch's int64 sizes
        config["scaler"].update(per_feature=False, offset=[0.0], spread=[1.0])
        config["data"]["output_shape"] = None

    edit_config(run, edit)
    assert f"{run / 'config.json'}: net cannot be built" in load_error(run)


# -- 4. metrics.jsonl ---------------------------------------------------------------------------
BROKEN_METRICS = {
    "invalid_json": (b'{"epoch": 1}\n{"epoch": 2,\n', "line 2 is not valid JSON"),
    "not_an_object": (b'{"epoch": 1}\n[1, 2]\n', "line 2 must be a JSON object"),
    "not_utf8": (b'{"epoch": "\xff"}\n', "UTF-8"),
}


@pytest.mark.parametrize("data, problem", BROKEN_METRICS.values(), ids=BROKEN_METRICS.keys())
def test_broken_metrics_file(run, data, problem):
    (run / "metrics.jsonl").write_bytes(data)
    message = load_error(run)
    assert str(run / "metrics.jsonl") in message and problem in message


def test_metrics_file_that_is_a_folder(run):
    (run / "metrics.jsonl").unlink()
    (run / "metrics.jsonl").mkdir()
    assert str(run / "metrics.jsonl") in load_error(run)


# -- loading never unpickles -------------------------------------------------------------------
def test_loading_never_unpickles(run, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("loading a run must not unpickle")

    for module, name in [(pickle, "loads"), (pickle, "load"), (torch, "load")]:
        monkeypatch.setattr(module, name, refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    loaded = aekit.load(run)
    assert loaded.encode(X).shape == (40, 2)
    assert loaded.history and loaded.net_config.code_size == 2


# -- any damage at all: a ModelFileError or a working model -----------------------------------
SIZES = st.lists(st.integers(1, 2**65), min_size=1, max_size=3)  # may overflow torch's sizes
JSON_VALUES = SIZES | st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=8,
)


def loads_or_model_file_error(folder) -> None:
    """Load ``folder``; a model that loads must also encode and decode."""
    reseal(folder)
    try:
        model = aekit.load(folder)
    except ModelFileError:
        return
    assert model.encode(X[:3]).shape == (3, model.code_size)
    assert model.decode(np.zeros((3, model.code_size))).shape[0] == 3


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_config_edit_loads_or_is_a_model_file_error(trained_run, tmp_path_factory, data):
    folder = shutil.copytree(trained_run, tmp_path_factory.mktemp("fuzz") / "run")
    config = json.loads((folder / "config.json").read_text())
    section = data.draw(st.sampled_from([None, "net", "scaler", "data", "train"]))
    target = config if section is None else config[section]
    name = data.draw(st.sampled_from([*target, "extra"]))
    target[name] = data.draw(JSON_VALUES)
    (folder / "config.json").write_text(json.dumps(config))
    loads_or_model_file_error(folder)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_weights_damage_loads_or_is_a_model_file_error(trained_run, tmp_path_factory, data):
    folder = shutil.copytree(trained_run, tmp_path_factory.mktemp("fuzz") / "run")
    path = folder / "model.safetensors"
    raw = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    keep = data.draw(st.just(len(raw)) | st.integers(0, len(raw)))
    path.write_bytes(bytes(raw[:keep]))
    loads_or_model_file_error(folder)


# -- writing: atomic files get the mode open() gives them, and the folder is synced ------------
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002], ids=oct)
def test_written_files_get_the_mode_open_would_give(tmp_path, umask):
    from aekit.atomic_files import atomic_write_text

    old = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "atomic.txt", "x")
        (tmp_path / "plain.txt").write_text("x")
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "atomic.txt").stat().st_mode)
    assert mode == 0o666 & ~umask == stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)


def test_the_folder_is_synced_after_the_rename(tmp_path, monkeypatch):
    import aekit.atomic_files

    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def recording_fsync(fd):
        kind = "folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        events.append(f"fsync {kind}")
        real_fsync(fd)

    def recording_replace(src, dst):
        events.append("rename")
        real_replace(src, dst)

    monkeypatch.setattr(aekit.atomic_files.os, "fsync", recording_fsync)
    monkeypatch.setattr(aekit.atomic_files.os, "replace", recording_replace)
    aekit.atomic_files.atomic_write_text(tmp_path / "a.txt", "x")
    assert events == ["fsync file", "rename", "fsync folder"]


def test_disk_full_while_saving_weights_is_a_clear_error(trained_run, tmp_path, monkeypatch):
    from safetensors import SafetensorError

    import aekit.runs.folder

    def full_disk(tensors, filename, metadata=None):
        raise SafetensorError("Error while serializing: I/O error: No space left on device")

    model = aekit.load(trained_run)
    monkeypatch.setattr(aekit.runs.folder, "save_file", full_disk)
    with pytest.raises(aekit.AekitError, match="model.safetensors: .*No space left on device"):
        model.save(tmp_path / "copy")
    # no half-written or temporary file: the folder the save made, left empty, is removed
    assert not (tmp_path / "copy").exists()
