"""Reading options from a TOML file: the one place that format is read."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# Beside the options, a file may name the call's label column: it says how to read the data's
# columns, as the options say how to train. The data itself (and val_data) is named by the call.
LABEL_KEY = "label"


def read_config_file(path: str | Path) -> dict:
    """Options from a TOML file: keys are the option names (``code_size = 32``), plus
    ``label`` (a column name) when the file names one, at the top level or under a ``[train]``
    table; a ``[sweep]`` table is the sweep's and is skipped here. The values are checked
    where they are used (``aekit.models.options.make_config``)."""
    return read_option_table(path, skipped=("sweep",))


def without_label(options: dict) -> dict:
    """The options of a file's keys, its label left out."""
    return {name: value for name, value in options.items() if name != LABEL_KEY}


def read_option_table(
    path: str | Path, tables: tuple[str, ...] = ("train",), skipped: tuple[str, ...] = ()
) -> dict:
    """The TOML file's top-level keys and those of ``tables``, the ``skipped`` tables left out,
    dashes in names read as underscores; a label that is not a text is an error, the options'
    values are not checked.

    A key given in two places (the top level and ``[train]``, or ``code-size`` beside
    ``code_size``) with two values is an error naming both: no place silently wins.
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    for table in skipped:
        data.pop(table, None)
    places = {}
    for table in tables:
        section = data.pop(table, {})
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: [{table}] must be a table of options")
        places[f"under [{table}]"] = section
    places = {"at the top level": data, **places}
    options, where = {}, {}
    for place, section in places.items():
        for key, value in section.items():
            name = key.replace("-", "_")
            if name in options and options[name] != value:
                raise ConfigError(
                    f"{path}: {name} is given twice: {options[name]!r} {where[name]} and "
                    f"{value!r} {place}; keep one"
                )
            options[name], where[name] = value, place
    label = options.get(LABEL_KEY)
    if label is not None and not isinstance(label, str):
        raise ConfigError(f"{path}: label must be a column name (a string), got {label!r}")
    return options
