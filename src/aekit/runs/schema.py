"""What a run's config.json and model.safetensors must hold, checked before anything is built.

A run folder may come from anywhere, so ``Autoencoder.load`` trusts nothing in it.
``check_config`` compares each section of the config with a table below (which fields exist,
which are required, what each must be), then checks the few facts that tie sections together,
such as the scaler having one offset per input value. ``check_weights`` compares the tensors of
model.safetensors with those of the network the config describes. Every problem is a
``ModelFileError`` of the form "<file>: <field> must be <expected>, got <value>".

Unknown fields are rejected everywhere, the top level included: a field this aekit does not
know means the file was written by something else (or edited by hand), and ignoring it would
load a model that may not be what the file describes. Newer formats bump ``format_version``.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from ..data.scaling import SCALES
from ..errors import ModelFileError
from ..models import MODELS
from ..nn import ACTIVATIONS, NORMS
from ..nn.losses import LOSSES
from ..options.declaring import MAX_SIZE, accepts, describe
from ..options.train_config import MODEL_OPTIONS, TRAINING_OPTIONS, TrainConfig
from .folder import FORMAT_VERSION

# The values of NetConfig.backbone and NetConfig.output (see models/autoencoder.py); a saved
# net never has config.BACKBONES' "auto", which train() resolves before building it.
NET_BACKBONES = ("mlp", "conv")
NET_OUTPUTS = ("identity", "sigmoid", "clamp")
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_SHOWN_CHARS = 60  # a bad value is quoted up to this length in messages


@dataclass(frozen=True)
class Field:
    """One field of a config section: what it must be, in words and as a test."""

    expected: str
    ok: Callable[[object], bool]
    required: bool = True


@dataclass(frozen=True)
class Rule:
    """A fact tying fields of different sections together, checked once each field is sound."""

    field: str  # dotted path of the field blamed, e.g. "scaler.offset"
    expected: Callable[[dict], str]
    ok: Callable[[dict], bool]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # JSON true is not a size


def _is_number(value: object) -> bool:
    return _is_int(value) or (isinstance(value, float) and math.isfinite(value))


def _is_float32(value: object) -> bool:
    """A finite number that stays finite as float32, which is what the scaler computes in."""
    return _is_number(value) and abs(value) <= _FLOAT32_MAX


def _list_of(test: Callable[[object], bool]) -> Callable[[object], bool]:
    return lambda value: isinstance(value, list) and all(test(item) for item in value)


def _one_of(choices: tuple[str, ...]) -> Field:
    return Field(
        f"one of {', '.join(map(repr, choices))}",
        lambda value: isinstance(value, str) and value in choices,
    )


def _optional(field: Field) -> Field:
    """The same field, allowed to be null."""
    return Field(f"null or {field.expected}", lambda value: value is None or field.ok(value))


def _is_size(value: object) -> bool:
    return _is_int(value) and 1 <= value <= MAX_SIZE


_sizes = _list_of(_is_size)

SIZE = Field(f"a positive integer up to {MAX_SIZE}", _is_size)
COUNT = Field("an integer >= 0", lambda value: _is_int(value) and value >= 0)
NUMBER = Field("a finite number", _is_number)
TEXT = Field("a string", lambda value: isinstance(value, str))
OBJECT = Field("a JSON object", lambda value: isinstance(value, dict))
SHAPE = Field(
    f"a list of 1 (d) or 3 (C, H, W) integers from 1 to {MAX_SIZE}",
    lambda value: _sizes(value) and len(value) in (1, 3),
)


def _option_field(option, *, required: bool = False) -> Field:
    """An option as its declaration (config.py) allows it. Training options may be missing, and
    then get their defaults: they record how the model was trained, not what it computes, and a
    run saved before an option existed must still load."""
    return Field(describe(option), lambda value: accepts(option, value), required=required)


OPTIONS = {option.name: option for option in fields(TrainConfig)}

TOP = {
    "format_version": Field(
        f"an integer from 1 to {FORMAT_VERSION}",
        lambda value: _is_int(value) and 1 <= value <= FORMAT_VERSION,
    ),
    "aekit_version": TEXT,
    "model_type": _one_of(tuple(MODELS)),
    "net": OBJECT,
    "scaler": OBJECT,
    "data": OBJECT,
    "model_options": OBJECT,
    "train": OBJECT,
    # how training ended (best epoch, stop reason, ...): a record for people, read by nothing
    "result": OBJECT,
}
NET = {
    "input_shape": SHAPE,
    "code_size": SIZE,
    "backbone": _one_of(NET_BACKBONES),
    "hidden": Field(f"a list of integers from 1 to {MAX_SIZE}", _sizes),
    "activation": _one_of(tuple(ACTIVATIONS)),
    "dropout": _option_field(OPTIONS["dropout"], required=True),
    "norm": _one_of(NORMS),
    "loss": _one_of(LOSSES),
    "output": _one_of(NET_OUTPUTS),
    # code penalties (aekit.models.penalties); absent in runs saved before they existed: no penalty
    "sparsity": Field(
        "one of 'none', 'l1', 'kl'",
        lambda value: value in ("none", "l1", "kl"),
        required=False,
    ),
    "sparsity_weight": Field(
        "a number >= 0", lambda value: _is_number(value) and value >= 0, required=False
    ),
    "sparsity_target": Field(
        "a number in [0, 1)", lambda value: _is_number(value) and 0 <= value < 1, required=False
    ),
    "contractive": _option_field(OPTIONS["contractive"]),
    # the linear path started at PCA (models/autoencoder.py); absent before it existed: none
    "linear_path": Field("true or false", lambda value: isinstance(value, bool), required=False),
}
SCALER = {
    "kind": _one_of(SCALES),
    "per_feature": Field("true or false", lambda value: isinstance(value, bool)),
    "offset": Field("a list of finite float32 numbers", _list_of(_is_float32)),
    # a zero spread would divide by zero; Scaler.fit never writes one
    "spread": Field(
        "a list of positive finite float32 numbers",
        _list_of(lambda item: _is_float32(item) and np.float32(item) > 0),
    ),
}
DATA = {
    "name": TEXT,
    "source": _optional(TEXT),
    "val_source": _optional(TEXT),
    "label": _optional(TEXT),
    "feature_names": _optional(Field("a list of strings", _list_of(lambda i: isinstance(i, str)))),
    # how validation data was made (aekit.training.request.validation_kind); absent in older runs
    "validation": Field(
        "one of 'split', 'given', 'none'",
        lambda value: value in ("split", "given", "none"),
        required=False,
    ),
    "sample_shape": SHAPE,
    "output_shape": _optional(Field(f"a list of integers from 1 to {MAX_SIZE}", _sizes)),
    "n_train": COUNT,
    "n_val": COUNT,
    "data_min": NUMBER,
    "data_max": NUMBER,
}

TRAIN = {name: _option_field(option) for name, option in OPTIONS.items()}
# Format 2 keeps the model options (what is built) apart from the training options; format 1
# kept them all under "train", as a checkpoint's metadata still does.
SPLIT_OPTIONS_VERSION = 2
TOP_BEFORE_SPLIT = {name: field for name, field in TOP.items() if name != "model_options"}
MODEL_OPTIONS_TABLE = {name: TRAIN[name] for name in MODEL_OPTIONS}
TRAINING_OPTIONS_TABLE = {name: TRAIN[name] for name in TRAINING_OPTIONS}
# The "net" section per model_type: a VAE's (models/vae.py VAEConfig) adds the KL weighting.
VAE_NET = {
    **NET,
    # the KL weighting as the options declare it, so every run they allow can be loaded
    "beta": _option_field(OPTIONS["beta"], required=True),
    "kl_warmup": _option_field(OPTIONS["kl_warmup"], required=True),
    # absent in runs saved before the decoder's scale was learned: unit scale (VAEConfig)
    "decoder_scale": Field(
        "one of 'learned', 'unit'", lambda value: value in ("learned", "unit"), required=False
    ),
}
NET_TABLES = {"ae": NET, "vae": VAE_NET}


def _input_width(c: dict) -> int:
    return math.prod(c["net"]["input_shape"])


def _scaler_width(c: dict) -> int:
    return _input_width(c) if c["scaler"]["per_feature"] else 1


def _scaler_expected(c: dict) -> str:
    if c["scaler"]["per_feature"]:
        return f"{_scaler_width(c)} numbers, one per value of net.input_shape"
    return "1 number, as scaler.per_feature is false"


def _is_conv(c: dict) -> bool:
    return c["net"]["backbone"] == "conv"


def _names_fit(c: dict) -> bool:
    names = c["data"]["feature_names"]
    return names is None or (len(c["net"]["input_shape"]) == 1 and len(names) == _input_width(c))


def _output_fits(c: dict) -> bool:
    shape = c["data"]["output_shape"]
    return shape is None or math.prod(shape) == _input_width(c)


RULES = (
    Rule(
        "scaler.offset", _scaler_expected, lambda c: len(c["scaler"]["offset"]) == _scaler_width(c)
    ),
    Rule(
        "scaler.spread", _scaler_expected, lambda c: len(c["scaler"]["spread"]) == _scaler_width(c)
    ),
    Rule(
        "net.input_shape",
        lambda c: "3 integers (C, H, W), as net.backbone is 'conv'",
        lambda c: not _is_conv(c) or len(c["net"]["input_shape"]) == 3,
    ),
    Rule(
        "net.hidden",
        lambda c: "at least one channel count, as net.backbone is 'conv'",
        lambda c: not _is_conv(c) or len(c["net"]["hidden"]) > 0,
    ),
    Rule(
        "net.linear_path",
        lambda c: "false: the linear path exists only in a plain autoencoder with the mlp backbone",
        lambda c: (
            not c["net"].get("linear_path")
            or (c["net"]["backbone"] == "mlp" and MODELS[c["model_type"]].takes_linear_path)
        ),
    ),
    Rule(
        "data.output_shape",
        lambda c: f"null or a shape of {_input_width(c)} values in all, like net.input_shape",
        _output_fits,
    ),
    Rule(
        "data.feature_names",
        lambda c: f"null or {_input_width(c)} names, one per value of net.input_shape",
        _names_fit,
    ),
)


def check_config(config: object, path: str | Path) -> None:
    """Raise ModelFileError naming ``path`` and the field unless ``config`` is a sound run config.

    config: the parsed config.json, of any format version this aekit reads. Checks every section
    against its table, the options together with ``TrainConfig.validate``, then the rules that
    tie sections together.
    """
    if not isinstance(config, dict):
        raise ModelFileError(f"{path}: the file must hold a JSON object, got {_show(config)}")
    split = _splits_options(config)
    _check_section(config, TOP if split else TOP_BEFORE_SPLIT, "", path)
    sections = {"net": NET_TABLES[config["model_type"]], "scaler": SCALER, "data": DATA}
    if split:
        sections.update(model_options=MODEL_OPTIONS_TABLE, train=TRAINING_OPTIONS_TABLE)
    else:
        sections.update(train=TRAIN)
    for name, table in sections.items():
        _check_section(config[name], table, f"{name}.", path)
    try:  # what is left: the checks that tie options together (model and backbone)
        TrainConfig(**saved_options(config)).validate()
    except (TypeError, ValueError) as exc:  # ConfigError is a ValueError
        raise ModelFileError(f"{path}: {'model_options' if split else 'train'}.{exc}") from None
    for rule in RULES:
        if not rule.ok(config):
            section, name = rule.field.split(".")
            raise _bad_value(path, rule.field, rule.expected(config), config[section][name])


def saved_options(config: dict) -> dict:
    """Every option saved in a run's config.json, as one dict, from either format."""
    sections = (config.get("model_options"), config.get("train"))
    return {k: v for section in sections if isinstance(section, dict) for k, v in section.items()}


def _splits_options(config: dict) -> bool:
    version = config.get("format_version")
    return _is_int(version) and version >= SPLIT_OPTIONS_VERSION


def check_fields(section: object, table: dict[str, Field], name: str, path: str | Path) -> None:
    """Raise ModelFileError unless ``section`` is a JSON object whose fields fit ``table``;
    messages name ``path`` and the field as "<name>.<field>". For files other than config.json
    (a checkpoint's metadata)."""
    if not isinstance(section, dict):
        raise _bad_value(path, name, "a JSON object", section)
    _check_section(section, table, f"{name}.", path)


def _check_section(section: dict, table: dict[str, Field], prefix: str, path: str | Path) -> None:
    for name in section:
        if name not in table:
            close = difflib.get_close_matches(str(name), list(table), n=1)
            hint = f"did you mean {prefix}{close[0]}?" if close else f"known: {', '.join(table)}"
            raise ModelFileError(f"{path}: {prefix}{name} is not a field aekit knows; {hint}")
    for name, field in table.items():
        if name not in section:
            if field.required:
                raise ModelFileError(
                    f"{path}: {prefix}{name} is missing; it must be {field.expected}"
                )
        elif not field.ok(section[name]):
            raise _bad_value(path, prefix + name, field.expected, section[name])


def _bad_value(path: str | Path, field: str, expected: str, value: object) -> ModelFileError:
    return ModelFileError(f"{path}: {field} must be {expected}, got {_show(value)}")


def _show(value: object) -> str:
    """The value as it looks in the JSON file, cut short; long lists with their length."""
    text = json.dumps(value)
    if len(text) > _SHOWN_CHARS:
        text = text[: _SHOWN_CHARS - 3] + "..."
    if isinstance(value, list) and len(value) > 3:  # too many to count at a glance
        text += f" ({len(value)} items)"
    return text
