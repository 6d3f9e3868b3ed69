"""Declaring an option once: ``option(...)`` puts its type, range or choices and help on a field.

``TrainConfig`` (``options.train_config``) declares the options every family shares with
``option``, and each family (``aekit.models``) its own; the checks, the ``aekit train`` flags,
the saved-run schema, the scikit-learn parameters and the docs' option reference all read the
declarations through ``spec_of``, so no option is described twice.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import ConfigError

# Far above any real layer, code, batch or image side; keeps torch's size arithmetic clear of
# int64 overflow. Options and saved runs share it, so every run training allows can be loaded.
MAX_SIZE = 2**31 - 1
# Counts without a size limit (seed, steps) stay within what JSON readers and torch hold.
MAX_INT = 2**63 - 1

KINDS = ("int", "number", "bool", "choice", "text", "texts", "sizes")
# what is built, how it is trained, what an evaluation computes
GROUPS = ("model", "training", "evaluation")


@dataclass(frozen=True)
class OptionSpec:
    """What one option may be. ``None`` is allowed exactly when the default is ``None``.

    kind: "int", "number" (int or float), "bool", "choice" (one of ``choices``), "text" or
    "texts" (one or a list of texts; both checked and normalised by ``parse``) or "sizes" (a
    list of sizes, e.g. layer widths).
    auto: what the default means in words where it is decided later (``None`` = "pick from the
    data"), shown by ``--help`` and the option reference.
    group: "model" (what is built) or "training" (how it is trained).
    """

    kind: str
    help: str
    group: str
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    auto: str | None = None
    flag: str | None = None
    metavar: str | None = None
    parse: Callable[[object], object] | None = None
    # deprecated choices still read, rewritten by aekit.models.options; not shown in help
    old_choices: tuple[str, ...] = ()
    # None is allowed beside a default that is not None, meaning what ``auto`` says
    nullable: bool = False


def option(
    default,
    *,
    help: str,
    group: str,
    kind: str | None = None,
    choices: tuple[str, ...] = (),
    **spec,
):
    """A dataclass field with its declaration as metadata; ``kind`` follows from ``choices``
    or a bool default when left out. Lists are given as tuples (dataclass defaults are shared)."""
    if kind is None:
        kind = "choice" if choices else "bool" if isinstance(default, bool) else None
    if kind not in KINDS:
        raise TypeError(f"option kind must be one of {KINDS}, got {kind!r}")
    if group not in GROUPS:
        raise TypeError(f"option group must be one of {GROUPS}, got {group!r}")
    if default is not None and choices and default not in choices:
        raise TypeError(f"default {default!r} is not among the choices {choices}")
    meta = OptionSpec(kind=kind, help=help, group=group, choices=tuple(choices), **spec)
    return field(default=default, metadata={"option": meta})


def share_option(default: float, *, help: str, group: str, metavar: str = "F"):
    """An option that is a share of something, in [0, 1)."""
    return option(
        default,
        kind="number",
        low=0.0,
        high=1.0,
        high_open=True,
        group=group,
        metavar=metavar,
        help=help,
    )


def spec_of(config_field: dataclasses.Field) -> OptionSpec:
    return config_field.metadata["option"]


def flag_of(config_field: dataclasses.Field) -> str:
    """The CLI flag: the declared one, else ``--`` and the name with hyphens."""
    return spec_of(config_field).flag or "--" + config_field.name.replace("_", "-")


def check_value(config_field: dataclasses.Field, value):
    """The value as stored (lists normalised), or ConfigError naming the option, the value and
    what is allowed."""
    spec, name = spec_of(config_field), config_field.name
    if value is None and (config_field.default is None or spec.nullable):
        return None
    if spec.kind == "int":
        check_int(name, value, spec.low, spec.high)
    elif spec.kind == "number":
        check_number(name, value, spec)
    elif spec.kind == "bool" and not isinstance(value, bool):
        raise ConfigError(f"{name} must be true or false, got {value!r}")
    elif spec.kind == "choice" and value not in (*spec.choices, *spec.old_choices):
        raise ConfigError(f"{name} must be one of {', '.join(spec.choices)}; got {value!r}")
    elif spec.kind == "sizes":
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{name} must be a list of sizes, got {value!r}")
        for size in value:
            check_int(f"{name} size", size, 1, MAX_SIZE)
        return [int(size) for size in value]
    elif spec.kind in ("text", "texts"):
        return spec.parse(value)
    return value


def accepts(config_field: dataclasses.Field, value) -> bool:
    try:
        check_value(config_field, value)
    except ConfigError:
        return False
    return True


def describe(config_field: dataclasses.Field) -> str:
    """What the option may be, in words, as error messages say it."""
    spec = spec_of(config_field)
    if spec.kind == "int":
        text = int_range(spec.low, spec.high)
    elif spec.kind == "number":
        text = f"a number in {span(spec)}"
    elif spec.kind == "bool":
        text = "true or false"
    elif spec.kind == "choice":
        text = f"one of {', '.join(map(repr, spec.choices))}"
    elif spec.kind == "sizes":
        text = f"a list of integers from 1 to {MAX_SIZE}"
    else:
        text = f"a spec as {flag_of(config_field)} takes ({spec.help})"
    nullable = config_field.default is None or spec.nullable
    return f"null or {text}" if nullable else text


def shown_default(config_field: dataclasses.Field) -> str:
    """The default as ``--help`` and the option reference show it: ``auto``'s words where it
    is decided later, on/off for switches, numbers as written (1, 0.1, 0.001)."""
    default = config_field.default
    if default is None:
        return spec_of(config_field).auto or "none"
    if isinstance(default, bool):
        return "on" if default else "off"
    if isinstance(default, float):
        return f"{default:g}"
    return str(default)


def int_range(low, high) -> str:
    if high is None or high == MAX_INT:  # the int64 limit, not a size limit
        start = {0: "a non-negative integer", 1: "a positive integer"}.get(
            low, f"an integer >= {low}"
        )
        return f"{start} below 2**63"
    return f"an integer from {low} to {high}"


def check_int(name: str, value, low, high) -> None:
    top = MAX_INT if high is None else high
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= top:
        raise ConfigError(f"{name} must be {int_range(low, high)}, got {value!r}")


def span(spec: OptionSpec) -> str:
    left, right = "(" if spec.low_open else "[", ")" if spec.high_open else "]"
    low = "-inf" if spec.low is None else spec.low
    high = "inf" if spec.high is None else spec.high
    return f"{left}{low}, {high}{right}"


def check_number(name: str, value, spec: OptionSpec) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    try:
        finite = math.isfinite(float(value))
    except OverflowError:  # an int too large for a float
        finite = False
    if not finite:
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    low, high = spec.low, spec.high
    too_low = low is not None and (value <= low if spec.low_open else value < low)
    too_high = high is not None and (value >= high if spec.high_open else value > high)
    if too_low or too_high:
        raise ConfigError(f"{name} must be in {span(spec)}, got {value!r}")
