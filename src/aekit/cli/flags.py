"""The ``aekit train`` and ``aekit sweep`` flags, derived from the option declarations (the
shared ones and each family's, ``aekit.models.options``), and ``aekit evaluate``'s family flags
from the families' evaluation options.

Every option has exactly one flag (a test checks), so the CLI, TOML files and Python keywords
fill the same dataclass. Flag defaults stay None so that only flags given on the command line
override a --config file; TrainConfig holds the real defaults, shown in brackets in --help.
The sweep's flags take lists of the same values as text, parsed and checked by sweep_grid.py.
"""

from __future__ import annotations

import argparse

from ..models.options import EVALUATION_OWNERS, OWNERS, evaluation_fields, option_fields
from ..options.declaring import flag_of, shown_default, spec_of
from ..sweeps.grid import LIST_KINDS, SWITCH_OFF, SWITCH_ON


def _int_list(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers like 512,128, got {text!r}"
        ) from None


def _switch(text: str) -> bool:
    word = text.strip().lower()
    if word not in (*SWITCH_ON, *SWITCH_OFF):
        raise argparse.ArgumentTypeError(f"expected on or off, got {text!r}")
    return word in SWITCH_ON


# What argparse does with each kind of option; a flag for a list of texts repeats. A switch is
# spelled as in a sweep: --early-stopping on|off, alone "on" (--no-early-stopping: _add_no_flag)
_KIND_ARGUMENTS = {
    "int": dict(type=int),
    "number": dict(type=float),
    "bool": dict(nargs="?", const=True, type=_switch, metavar="on|off"),
    "choice": {},
    "text": {},
    "texts": dict(action="append"),
    "sizes": dict(type=_int_list),
}


def add_train_flags(group: argparse._ArgumentGroup) -> list[str]:
    """Add one flag per option to ``group``; returns the option names (the flags' dests)."""
    names = []
    for option in option_fields():
        spec = spec_of(option)
        arguments = dict(_KIND_ARGUMENTS[spec.kind])
        if spec.choices:
            # old spellings are still taken (and warned of), but help shows the current ones
            arguments["choices"] = (*spec.choices, *spec.old_choices)
            if spec.old_choices:
                arguments["metavar"] = "{" + ",".join(spec.choices) + "}"
        if spec.metavar:
            arguments["metavar"] = spec.metavar
        help_text = f"{_owned(option.name, OWNERS)}{spec.help} [{shown_default(option)}]"
        group.add_argument(
            flag_of(option), dest=option.name, default=None, help=help_text, **arguments
        )
        if spec.kind == "bool":
            _add_no_flag(group, option, action="store_const", const=False)
        names.append(option.name)
    return names


def add_sweep_flags(group: argparse._ArgumentGroup) -> list[str]:
    """Add one flag per option to ``group`` taking the values to sweep, as text: a scalar
    option's comma-separated values (``--code 2,4,8``), or a list option's settings, one per
    argument (``--hidden 128 512,128``); repeating a flag adds values. Returns the names."""
    names = []
    for option in option_fields():
        spec, flag = spec_of(option), flag_of(option)
        metavar = spec.metavar or "VALUE"
        if spec.choices:
            metavar = "{" + ",".join(spec.choices) + "}"
        if spec.kind in LIST_KINDS:
            arguments = dict(nargs="+", action="extend", metavar=metavar)
        elif spec.kind == "bool":
            # --early-stopping alone is "on", as in train; on,off sweeps both
            arguments = dict(nargs="?", const="on", action="append", metavar="on,off")
            _add_no_flag(group, option, action="append_const", const="off")
        else:
            arguments = dict(action="append", metavar=f"{metavar}[,...]")
        help_text = f"{_owned(option.name, OWNERS)}{spec.help} [{shown_default(option)}]"
        group.add_argument(flag, dest=option.name, default=None, help=help_text, **arguments)
        names.append(option.name)
    return names


def _add_no_flag(group: argparse._ArgumentGroup, option, **arguments) -> None:
    """``--no-early-stopping``: short for ``--early-stopping off``, in train and sweep alike
    (``arguments``: how the command keeps the value)."""
    flag = flag_of(option)
    group.add_argument(
        "--no-" + flag.removeprefix("--"),
        dest=option.name,
        help=f"the same as {flag} off",
        **arguments,
    )


def add_evaluation_flags(group: argparse._ArgumentGroup) -> list[str]:
    """Add one flag per family evaluation option to ``group`` (absent from the parsed
    arguments unless given); returns their names."""
    names = []
    for option in evaluation_fields():
        spec = spec_of(option)
        text = f"{_owned(option.name, EVALUATION_OWNERS)}{spec.help} [{shown_default(option)}]"
        group.add_argument(
            flag_of(option),
            dest=option.name,
            type=_value_reader(option),
            default=argparse.SUPPRESS,
            metavar=spec.metavar,
            help=text + (f"; {spec.auto}: None" if spec.nullable else ""),
        )
        names.append(option.name)
    return names


def _value_reader(option):
    """The flag's text as the option's value: a number, or None for a nullable option's word
    for it (``all``)."""
    spec = spec_of(option)
    convert = int if spec.kind == "int" else float

    def read(text: str):
        if spec.nullable and text == spec.auto:
            return None
        try:
            return convert(text)
        except ValueError:
            word = f" or {spec.auto}" if spec.nullable else ""
            raise argparse.ArgumentTypeError(f"expected a number{word}, got {text!r}") from None

    return read


def _owned(name: str, owners: dict[str, tuple[str, ...]]) -> str:
    """``vae: `` before the help of an option some families have, nothing before a shared one."""
    return f"{', '.join(owners[name])}: " if name in owners else ""
