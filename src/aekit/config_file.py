"""Reading options from a TOML file: the one place that format is read."""

from __future__ import annotations

import sys
from pathlib import Path

from .config import make_config, new_model_spelling
from .errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def read_config_file(path: str | Path) -> dict:
    """Options from a TOML file: keys are the option names (``code_size = 32``).

    Options may sit at the top level or under a ``[train]`` table.
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    options = dict(data.pop("train", {}))
    options.update(data)
    normalised = {key.replace("-", "_"): value for key, value in options.items()}
    try:
        make_config(**normalised)  # warns of an old model spelling, once: returned rewritten
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return new_model_spelling(normalised)
