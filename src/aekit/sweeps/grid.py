"""The grid of a sweep: which training options take which values, from CLI text or keywords.

Every option TrainConfig declares can be swept; how its values are spelled follows its kind
(``options.py``), so no option is listed here. On the command line a scalar option takes
comma-separated values (``--code 2,4,8``, ``--lr 1e-3,3e-3``); an option whose one value is a
list (``--hidden``, ``--noise``) takes space-separated settings, commas building the list
inside each (``--hidden 128 512,128``: [128] and [512, 128]). In Python a list of values is
swept (``code_size=[2, 4]``; for list options a list of lists, ``hidden=[[128], [512, 128]]``).
An option with one value is fixed for every run. Every value and every combination is checked
here, before anything trains.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from ..errors import AekitError, ConfigError
from ..models.options import check_option_names, make_config, option_fields
from ..options.config_file import read_option_table, without_label
from ..options.declaring import check_value, flag_of, spec_of

_FIELDS = {option.name: option for option in option_fields()}
# kinds whose one value is itself a list
LIST_KINDS = ("sizes", "texts")
# a switch's words, in a sweep's lists and in aekit train's one value alike
SWITCH_ON, SWITCH_OFF = ("on", "true", "yes"), ("off", "false", "no")
# characters kept in run folder names; others (":" of a noise spec, "/") become "_"
_UNSAFE = re.compile(r"[^A-Za-z0-9._+=,-]")


@dataclass(frozen=True)
class Grid:
    """The options a sweep sets: ``swept`` (two or more values each) and ``fixed`` (one).

    Both map option names to values as TrainConfig stores them, in TrainConfig's order.
    Options in neither keep their defaults.
    """

    swept: dict[str, list]
    fixed: dict[str, object]

    def settings(self) -> list[dict]:
        """Every combination of the swept values, as ``{option: value}`` (fixed ones apart)."""
        names = list(self.swept)
        return [
            dict(zip(names, values, strict=True))
            for values in itertools.product(*self.swept.values())
        ]

    def options(self, setting: dict) -> dict:
        """The keywords of ``aekit.train`` for one run: the fixed options and ``setting``."""
        return {**self.fixed, **setting}

    def folder_name(self, setting: dict) -> str:
        """The run folder's name: ``code=8,hidden=512-128,loss=mse`` (``run`` with nothing
        swept); readable, and the same for the same setting in every sweep."""
        if not setting:
            return "run"
        parts = [f"{_short(name)}={value_text(name, value)}" for name, value in setting.items()]
        return _UNSAFE.sub("_", ",".join(part.replace(",", "-") for part in parts))

    def label(self, setting: dict) -> str:
        """``code=8 hidden=512,128``: the setting as a person reads it."""
        return " ".join(
            f"{_short(name)}={value_text(name, value)}" for name, value in setting.items()
        )

    def choices(self, name: str) -> dict[str, object]:
        """A swept option's values by their text (the search's categorical choices)."""
        return {value_text(name, value): value for value in self.swept[name]}

    def keywords(self) -> dict:
        """``aekit.sweep``'s keywords for this grid (each swept option's list of values)."""
        return {**self.fixed, **self.swept}

    def to_dict(self) -> dict:
        return {"swept": self.swept, "fixed": self.fixed}

    @classmethod
    def from_dict(cls, saved: dict) -> Grid:
        """A grid saved by ``to_dict`` (in a sweep folder's record)."""
        return cls(dict(saved["swept"]), dict(saved["fixed"]))


def grid_from_keywords(options: dict) -> Grid:
    """The grid of ``aekit.sweep``'s keywords: a list of values is swept, one value fixed."""
    check_option_names(options)
    return _make_grid({name: _as_values(name, value) for name, value in options.items()})


def read_sweep_file(path) -> dict:
    """A sweep's options from a TOML file, as ``aekit.sweep`` takes them: a list of values is
    swept (``code_size = [2, 4, 8]``, ``hidden = [[128], [512, 128]]``), one value is fixed.

    Options (and ``label``, as for ``aekit train``) may sit at the top level or under a
    ``[train]`` or ``[sweep]`` table, so one file can serve ``aekit train`` and ``aekit sweep``;
    the values are checked with the sweep's grid.
    """
    options = read_option_table(path, tables=("train", "sweep"))
    try:
        grid_from_keywords(without_label(options))
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return options


def grid_from_texts(texts: dict[str, list[str]]) -> Grid:
    """The grid of ``aekit sweep``'s flags: each option's arguments as typed (a flag given
    twice adds its values)."""
    check_option_names(texts)
    return _make_grid(
        {name: [v for text in given for v in _parse(name, text)] for name, given in texts.items()}
    )


def value_text(name: str, value) -> str:
    """A value as the command line spells it: ``512,128``, ``on``, ``0.001``, ``none``."""
    kind = option_kind(name)
    if value is None:
        return "none"
    if kind in LIST_KINDS:
        return ",".join(str(item) for item in value)
    if kind == "bool":
        return "on" if value else "off"
    if kind == "number":
        return repr(float(value))
    return str(value)


def option_kind(name: str) -> str:
    return spec_of(_FIELDS[name]).kind


def _short(name: str) -> str:
    """The option's flag without dashes (``code``, ``batch-size``): what a user typed."""
    return flag_of(_FIELDS[name]).removeprefix("--")


def _as_values(name: str, value) -> list:
    """A keyword's values: a list of them (for a list option, a list of lists) or one value."""
    if spec_of(_FIELDS[name]).kind in LIST_KINDS:
        swept = isinstance(value, list | tuple) and all(
            item is None or isinstance(item, list | tuple) for item in value
        )
    else:
        swept = isinstance(value, list | tuple)
    return list(value) if swept else [value]


def _parse(name: str, text: str) -> list:
    """One command-line argument of option ``name`` as a list of values: a scalar option's
    comma-separated values, or one setting of a list option (commas inside it)."""
    option = _FIELDS[name]
    flag, kind = flag_of(option), spec_of(option).kind
    if kind in LIST_KINDS:
        parts = [part.strip() for part in text.split(",") if part.strip()]
        if text.strip().lower() == "none" and option.default is None:
            return [None]
        if not parts:
            raise ConfigError(f"{flag}: {text!r} holds no value")
        return [[_scalar(flag, "int", part) for part in parts] if kind == "sizes" else parts]
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise ConfigError(f"{flag}: {text!r} holds no value")
    # "none" is the default of an option that is off or picked from the data (a choice
    # option's own "none", a linear activation or no normalisation, stays a choice)
    none_allowed = option.default is None and kind != "choice"
    return [None if none_allowed and p.lower() == "none" else _scalar(flag, kind, p) for p in parts]


def _scalar(flag: str, kind: str, text: str):
    try:
        if kind == "int":
            return int(text)
        if kind == "number":
            return float(text)
    except ValueError:
        what = "an integer" if kind == "int" else "a number"
        raise ConfigError(f"{flag}: {text!r} is not {what}") from None
    if kind == "bool":
        if text.lower() not in (*SWITCH_ON, *SWITCH_OFF):
            raise ConfigError(f"{flag}: {text!r} is not on or off")
        return text.lower() in SWITCH_ON
    return text


def _make_grid(values_by_name: dict[str, list]) -> Grid:
    """Check every value with its option's own rule, then every combination as ``aekit.train``
    would, so that a bad one fails before the first run trains."""
    swept, fixed = {}, {}
    for name in _FIELDS:  # the declarations' order, whatever order they came in
        if name not in values_by_name:
            continue
        values = [_checked(name, value) for value in values_by_name[name]]
        if not values:
            raise ConfigError(f"{name}: give at least one value to sweep")
        texts = [value_text(name, value) for value in values]
        repeated = next((text for text in texts if texts.count(text) > 1), None)
        if repeated is not None:
            raise ConfigError(f"{name} lists {repeated} twice")
        if len(values) == 1:
            fixed[name] = values[0]
        else:
            swept[name] = values
    grid = Grid(swept, fixed)
    for setting in grid.settings():
        try:
            make_config(**grid.options(setting))
        except AekitError as exc:
            raise ConfigError(f"the run {grid.label(setting)}: {exc}") from None
    return grid


def _checked(name: str, value):
    """The value as TrainConfig stores it (numbers as floats, so 1 and 1.0 are one setting)."""
    option = _FIELDS[name]
    value = check_value(option, value)
    if spec_of(option).kind == "number" and value is not None:
        return float(value)
    if isinstance(value, tuple):
        return list(value)
    return value
