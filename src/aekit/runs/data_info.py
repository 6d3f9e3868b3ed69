"""What a run was trained on: the record saved as the "data" section of its config.json."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ..data.builtin import split_builtin_name


@dataclass
class DataInfo:
    """The training data of a run, as ``aekit.train`` saw it; ``run_schema.DATA`` checks the
    saved form. The old dict access (``info["n_train"]``, ``info.get("label")``) still works."""

    name: str
    # the absolute path (``recorded_source``; relative in runs saved before) or built-in name to
    # reload the data from; None: in memory
    source: str | None
    val_source: str | None
    label: str | None  # names are compared as strings
    feature_names: list[str] | None  # a table's columns
    # how validation data was made ("split", "given", "none"), so evaluate fits PCA on exactly
    # the training part; None in runs saved before it was recorded
    validation: str | None
    sample_shape: list[int]
    # grey images given as (n, H, W) come back as (n, H, W), not (n, 1, H, W)
    output_shape: list[int] | None
    n_train: int
    n_val: int
    data_min: float
    data_max: float

    @property
    def value_range(self) -> float:
        """data_max - data_min, or 1 when every training value was the same."""
        return (self.data_max - self.data_min) or 1.0

    def to_dict(self) -> dict:
        """The saved form: the fields in order, without "validation" where it was not recorded
        (so an earlier run is saved again as it was)."""
        saved = asdict(self)
        if self.validation is None:
            del saved["validation"]
        return saved

    @classmethod
    def from_dict(cls, saved: dict) -> DataInfo:
        """The record of a saved "data" section (checked by ``run_schema`` first)."""
        return cls(**{"validation": None, **saved})

    def __getitem__(self, key: str):
        if key not in _NAMES or (key == "validation" and self.validation is None):
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default=None):
        try:
            return self[key]
        except KeyError:
            return default


_NAMES = frozenset(field.name for field in fields(DataInfo))


def recorded_source(data) -> str | None:
    """What a run records of where ``data`` came from: a file's absolute path, so the run
    reloads it from any folder; a built-in's name as given; None for in-memory data."""
    if not isinstance(data, str | os.PathLike):
        return None
    path = Path(data).expanduser()
    if not path.exists() and isinstance(data, str) and split_builtin_name(data) is not None:
        return data  # as load_data reads it: a file of that name comes first
    return str(path.resolve())
