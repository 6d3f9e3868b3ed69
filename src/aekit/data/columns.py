"""Matching a table's columns to a trained model's by name: the one place that does it.

A model trained on a table (CSV, Parquet, DataFrame) saves its feature names. Every later
table (to encode, reconstruct, denoise, evaluate, or validate on) is matched to them by name,
compared as strings, so a file with the same columns in another order gives the same codes,
and ``pd.DataFrame(array)``'s integer labels match the "0", "1", ... saved in config.json.
A table of codes (to decode) is matched the same way to the names ``encode`` writes, z0, z1, ...
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import DataError
from .dataset import Dataset

_SHOWN = 5  # names listed in a message before "..."


@dataclass(frozen=True)
class Columns:
    """The columns a trained model takes from a table.

    Attributes:
        features: the training feature names, in training order.
        label: the run's label column: set aside when a table has it, never required.
    """

    features: list[str]
    label: str | None = None

    def positions(self, names: list[str], source: str) -> list[int]:
        """Where each training feature sits among a table's column ``names``, in training order.

        Raises:
            DataError: a training feature is missing, or a column is neither a training
                feature nor the label; the message names them and ``source``.
        """
        index = {name: i for i, name in enumerate(names)}
        known = set(self.features)
        missing = [name for name in self.features if name not in index]
        extra = [name for name in names if name not in known and name != self.label]
        if missing or extra:
            problems = []
            if missing:
                problems.append(f"missing training column(s) {_listed(missing)}")
            if extra:
                problems.append(
                    f"extra column(s) {_listed(extra)} (drop them, or pass label=<column> if one "
                    "holds the labels)"
                )
            raise DataError(
                f"{source}: {'; '.join(problems)}. The model takes the {len(self.features)} "
                "columns it was trained on, matched by name in any order"
            )
        return [index[name] for name in self.features]

    def select(self, data: Dataset) -> Dataset:
        """``data`` with its features in training order, the label column dropped.

        A Dataset without feature names (from an array or image file) is returned as is:
        it has no names to match, so its columns are taken in order.
        """
        if data.feature_names is None:
            return data
        order = self.positions(data.feature_names, data.name)
        if order == list(range(len(data.feature_names))):
            return data
        return Dataset(
            x=data.x[:, order], y=data.y, name=data.name, feature_names=list(self.features)
        )


CODE_PREFIX = "z"


def code_names(code_size: int) -> list[str]:
    """A code's columns in a table: z0, z1, ... (``encode`` writes them, ``decode`` reads them)."""
    return [f"{CODE_PREFIX}{i}" for i in range(code_size)]


def code_positions(names: list[str], code_size: int, source: str) -> list[int]:
    """Where z0, z1, ... sit among a table of codes' column ``names``, in code order.

    Raises:
        DataError: a code column is missing or another column is there, naming them.
    """
    wanted = code_names(code_size)
    index = {name: i for i, name in enumerate(names)}
    missing = [name for name in wanted if name not in index]
    extra = [name for name in names if name not in set(wanted)]
    if missing or extra:
        problems = [f"missing code column(s) {_listed(missing)}"] if missing else []
        problems += [f"extra column(s) {_listed(extra)}"] if extra else []
        raise DataError(
            f"{source}: {'; '.join(problems)}. A table of codes has the columns {wanted[0]} to "
            f"{wanted[-1]}, as encode writes them, matched by name in any order (an array of "
            "codes is taken in order)"
        )
    return [index[name] for name in wanted]


def _listed(names: list[str]) -> str:
    shown = ", ".join(repr(name) for name in names[:_SHOWN])
    return shown + (f", ... ({len(names)} in all)" if len(names) > _SHOWN else "")
