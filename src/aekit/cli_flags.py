"""The ``aekit train`` flags, derived from the option declarations of TrainConfig (config.py).

Every option has exactly one flag (a test checks), so the CLI, TOML files and Python keywords
fill the same dataclass. Flag defaults stay None so that only flags given on the command line
override a --config file; TrainConfig holds the real defaults, shown in brackets in --help.
"""

from __future__ import annotations

import argparse
from dataclasses import fields

from .config import TrainConfig
from .options import flag_of, shown_default, spec_of


def _int_list(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers like 512,128, got {text!r}"
        ) from None


# What argparse does with each kind of option; a flag for a list of texts repeats.
_KIND_ARGUMENTS = {
    "int": dict(type=int),
    "number": dict(type=float),
    "bool": dict(action=argparse.BooleanOptionalAction),
    "choice": {},
    "text": {},
    "texts": dict(action="append"),
    "sizes": dict(type=_int_list),
}


def add_train_flags(group: argparse._ArgumentGroup) -> list[str]:
    """Add one flag per option to ``group``; returns the option names (the flags' dests)."""
    names = []
    for option in fields(TrainConfig):
        spec = spec_of(option)
        arguments = dict(_KIND_ARGUMENTS[spec.kind])
        if spec.choices:
            # old spellings are still taken (and warned of), but help shows the current ones
            arguments["choices"] = (*spec.choices, *spec.old_choices)
            if spec.old_choices:
                arguments["metavar"] = "{" + ",".join(spec.choices) + "}"
        if spec.metavar:
            arguments["metavar"] = spec.metavar
        help_text = f"{spec.help} [{shown_default(option)}]"
        group.add_argument(
            flag_of(option), dest=option.name, default=None, help=help_text, **arguments
        )
        names.append(option.name)
    return names
