"""Reading options from a TOML file: the one place that format is read."""

from __future__ import annotations

import sys
from pathlib import Path

from .config import make_config, new_model_spelling
from .errors import ConfigError
from .sweep_grid import grid_from_keywords

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def read_config_file(path: str | Path) -> dict:
    """Options from a TOML file: keys are the option names (``code_size = 32``).

    Options may sit at the top level or under a ``[train]`` table; a ``[sweep]`` table is the
    sweep's (``read_sweep_file``) and is skipped here.
    """
    options = read_option_table(path, skipped=("sweep",))
    try:
        make_config(**options)  # warns of an old model spelling, once: returned rewritten
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return new_model_spelling(options)


def read_sweep_file(path: str | Path) -> dict:
    """A sweep's options from a TOML file, as ``aekit.sweep`` takes them: a list of values is
    swept (``code_size = [2, 4, 8]``, ``hidden = [[128], [512, 128]]``), one value is fixed.

    Options may sit at the top level or under a ``[train]`` or ``[sweep]`` table, so one file can
    serve ``aekit train`` and ``aekit sweep``; the values are checked with the sweep's grid.
    """
    options = read_option_table(path, tables=("train", "sweep"))
    try:
        grid_from_keywords(options)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return options


def read_option_table(
    path: str | Path, tables: tuple[str, ...] = ("train",), skipped: tuple[str, ...] = ()
) -> dict:
    """The TOML file's top-level keys merged with those of ``tables`` (later ones win, the
    top level last), the ``skipped`` tables left out, dashes in names read as underscores; the
    values are not checked."""
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
    options = {}
    for table in tables:
        section = data.pop(table, {})
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: [{table}] must be a table of options")
        options.update(section)
    options.update(data)
    return {key.replace("-", "_"): value for key, value in options.items()}
