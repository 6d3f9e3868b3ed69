"""What a run's config.json must hold, checked before anything is built.

A run folder may come from anywhere, so ``Autoencoder.load`` trusts nothing in it.
``check_config`` compares each section of the config with a table (which fields exist, which
are required, what each must be), then checks the few facts that tie sections together, such
as the scaler having one offset per input value. The "net" section's table is read off the
family's config dataclass, whose fields say what they may be saved as
(``options.saved_values.saved``), and the options' tables off their declarations: nothing
here repeats a family's fields. Every problem is a ``ModelFileError`` of the form
"<file>: <field> must be <expected>, got <value>".

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
from ..models.options import option_fields, saved_config
from ..options.declaring import spec_of
from ..options.saved_values import (
    BOOL,
    COUNT,
    NUMBER,
    OBJECT,
    SHAPE,
    SIZES,
    TEXT,
    Field,
    check_of,
    is_float32,
    is_int,
    list_of,
    not_required,
    one_of,
    option_value,
    optional,
)
from ..options.train_config import SHARED_NAMES

_SHOWN_CHARS = 60  # a bad value is quoted up to this length in messages
# Format 2 keeps the model options (what is built) apart from the training options; format 1
# kept them all under "train". Format 3 keeps a family's own options with it
# ("family_options"); before, every family's options were saved beside the shared ones.
# Format 4 lists the run's files, their sizes and hashes, in manifest.json, written last of
# all: a folder of format 4 without it, or whose files differ from it, is not a whole run.
# Format 5 saves the conv decoder's last stage ("net.decoder_head"); a run of an earlier format
# lacks it and loads with the head it was built with, the transposed one. An earlier aekit
# refuses a format-5 run by its version instead of building the wrong decoder.
SPLIT_OPTIONS_VERSION = 2
FAMILY_OPTIONS_VERSION = 3
MANIFEST_VERSION = 4
DECODER_HEAD_VERSION = 5
FORMAT_VERSION = DECODER_HEAD_VERSION


@dataclass(frozen=True)
class Rule:
    """A fact tying fields of different sections together, checked once each field is sound."""

    field: str  # dotted path of the field blamed, e.g. "scaler.offset"
    expected: Callable[[dict], str]
    ok: Callable[[dict], bool]


TOP = {
    "format_version": Field(
        f"an integer from 1 to {FORMAT_VERSION}",
        lambda value: is_int(value) and 1 <= value <= FORMAT_VERSION,
    ),
    "aekit_version": TEXT,
    "model_type": one_of(tuple(MODELS)),
    "family_options": OBJECT,
    "net": OBJECT,
    "scaler": OBJECT,
    "data": OBJECT,
    "model_options": OBJECT,
    "train": OBJECT,
    # how training ended (best epoch, stop reason, ...): a record for people, read by nothing
    "result": OBJECT,
}
SCALER = {
    "kind": one_of(SCALES),
    "per_feature": BOOL,
    "offset": Field("a list of finite float32 numbers", list_of(is_float32)),
    # a zero spread would divide by zero; Scaler.fit never writes one
    "spread": Field(
        "a list of positive finite float32 numbers",
        list_of(lambda item: is_float32(item) and np.float32(item) > 0),
    ),
}
DATA = {
    "name": TEXT,
    "source": optional(TEXT),
    "val_source": optional(TEXT),
    "label": optional(TEXT),
    "feature_names": optional(Field("a list of strings", list_of(lambda i: isinstance(i, str)))),
    # how validation data was made (aekit.training.request.validation_kind); absent in older runs
    "validation": not_required(one_of(("split", "given", "none"))),
    "sample_shape": SHAPE,
    "output_shape": optional(SIZES),
    "n_train": COUNT,
    "n_val": COUNT,
    "data_min": NUMBER,
    "data_max": NUMBER,
}

# Every option, shared or a family's, as a flat table: a checkpoint's "run.train", and the
# option sections of runs saved before format 3 (which held every family's options)
TRAIN = {option.name: option_value(option) for option in option_fields()}
_MODEL_OPTIONS = {f.name for f in option_fields() if spec_of(f).group == "model"}


def net_table(model_type: str) -> dict[str, Field]:
    """The "net" section's fields for a family: its config dataclass's, and the fields older
    runs saved that it reads and drops (``legacy_fields``)."""
    config_class = MODELS[model_type].config_class
    table = {f.name: check_of(f) for f in fields(config_class)}
    return {**table, **getattr(config_class, "legacy_fields", {})}


def option_tables(config: dict) -> dict[str, dict[str, Field]]:
    """The option sections of a config of its format version, with their tables."""
    version = config["format_version"]
    if version < SPLIT_OPTIONS_VERSION:
        return {"train": TRAIN}
    family = MODELS[config["model_type"]]
    own = {f.name for f in fields(family.options_class)}
    model = {name: f for name, f in TRAIN.items() if name in _MODEL_OPTIONS}
    training = {name: f for name, f in TRAIN.items() if name not in model}
    if version < FAMILY_OPTIONS_VERSION:
        return {"model_options": model, "train": training}
    shared_model = {name: f for name, f in model.items() if name in SHARED_NAMES}
    return {
        "family_options": {name: f for name, f in TRAIN.items() if name in own},
        "model_options": shared_model,
        "train": training,
    }


def _input_width(c: dict) -> int:
    return math.prod(c["net"]["input_shape"])


def _scaler_width(c: dict) -> int:
    return _input_width(c) if c["scaler"]["per_feature"] else 1


def _scaler_expected(c: dict) -> str:
    if c["scaler"]["per_feature"]:
        return f"{_scaler_width(c)} numbers, one per value of net.input_shape"
    return "1 number, as scaler.per_feature is false"


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
    against its table, the options together (``models.options.saved_config``), the family's
    net fields together (``saved_problem``), then the rules that tie sections together.
    """
    if not isinstance(config, dict):
        raise ModelFileError(f"{path}: the file must hold a JSON object, got {_show(config)}")
    version = config.get("format_version")
    _check_section(config, _top_table(version), "", path)
    sections = {"net": net_table(config["model_type"]), "scaler": SCALER, "data": DATA}
    sections.update(option_tables(config))
    for name, table in sections.items():
        _check_section(config[name], table, f"{name}.", path)
    try:  # what is left: the checks that tie options together (model and backbone)
        saved_config(saved_options(config))
    except (TypeError, ValueError) as exc:  # ConfigError is a ValueError
        raise ModelFileError(f"{path}: options: {exc}") from None
    problem = MODELS[config["model_type"]].config_class.saved_problem(config["net"])
    if problem is not None:
        name, expected = problem
        raise _bad_value(path, f"net.{name}", expected, config["net"][name])
    for rule in RULES:
        if not rule.ok(config):
            section, name = rule.field.split(".")
            raise _bad_value(path, rule.field, rule.expected(config), config[section][name])


def _top_table(version) -> dict[str, Field]:
    """The top-level fields of a config of ``version`` (checked first, by the same table)."""
    if not is_int(version) or version >= FAMILY_OPTIONS_VERSION:
        return TOP
    older = {name: field for name, field in TOP.items() if name != "family_options"}
    if version >= SPLIT_OPTIONS_VERSION:
        return older
    return {name: field for name, field in older.items() if name != "model_options"}


def saved_options(config: dict) -> dict:
    """Every option saved in a run's config.json, as one flat dict, from any format."""
    sections = (config.get("family_options"), config.get("model_options"), config.get("train"))
    return {k: v for section in sections if isinstance(section, dict) for k, v in section.items()}


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
