"""What a value saved in a run's JSON files may be, in words and as a test.

The run folder's schema (``aekit.runs.schema``) checks config.json section by section with these;
a family's config dataclass (``aekit.models``) puts one on each of its fields with ``saved``, so
the schema of its "net" section is read off the dataclass, never written out twice.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .declaring import MAX_SIZE, accepts, describe

_FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class Field:
    """One field of a saved section: what it must be, in words and as a test."""

    expected: str
    ok: Callable[[object], bool]
    required: bool = True


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # JSON true is not a size


def is_number(value: object) -> bool:
    return is_int(value) or (isinstance(value, float) and math.isfinite(value))


def is_float32(value: object) -> bool:
    """A finite number that stays finite as float32, which is what the scaler computes in."""
    return is_number(value) and abs(value) <= _FLOAT32_MAX


def list_of(test: Callable[[object], bool]) -> Callable[[object], bool]:
    return lambda value: isinstance(value, list) and all(test(item) for item in value)


def one_of(choices: tuple[str, ...]) -> Field:
    return Field(
        f"one of {', '.join(map(repr, choices))}",
        lambda value: isinstance(value, str) and value in choices,
    )


def optional(field: Field) -> Field:
    """The same field, allowed to be null."""
    return Field(f"null or {field.expected}", lambda value: value is None or field.ok(value))


def not_required(field: Field) -> Field:
    """The same field, allowed to be missing (a run saved before it existed)."""
    return dataclasses.replace(field, required=False)


def is_size(value: object) -> bool:
    return is_int(value) and 1 <= value <= MAX_SIZE


is_sizes = list_of(is_size)

SIZE = Field(f"a positive integer up to {MAX_SIZE}", is_size)
SIZES = Field(f"a list of integers from 1 to {MAX_SIZE}", is_sizes)
COUNT = Field("an integer >= 0", lambda value: is_int(value) and value >= 0)
NUMBER = Field("a finite number", is_number)
TEXT = Field("a string", lambda value: isinstance(value, str))
BOOL = Field("true or false", lambda value: isinstance(value, bool))
OBJECT = Field("a JSON object", lambda value: isinstance(value, dict))
SHAPE = Field(
    f"a list of 1 (d) or 3 (C, H, W) integers from 1 to {MAX_SIZE}",
    lambda value: is_sizes(value) and len(value) in (1, 3),
)


def option_value(option: dataclasses.Field, *, required: bool = False) -> Field:
    """An option as its declaration allows it. Options may be missing by default, and then get
    their defaults: a run saved before an option existed must still load."""
    return Field(describe(option), lambda value: accepts(option, value), required=required)


def saved(check: Field, **field_arguments) -> dataclasses.Field:
    """A dataclass field of a saved config, with what its saved value may be (``check``)."""
    return dataclasses.field(metadata={"saved": check}, **field_arguments)


def check_of(config_field: dataclasses.Field) -> Field:
    """What a config dataclass field's saved value may be (its ``saved`` check)."""
    return config_field.metadata["saved"]
