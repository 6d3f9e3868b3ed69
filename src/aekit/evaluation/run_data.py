"""A run's own data, reloaded from the source its config.json records: the training part PCA is
fitted on, and the held-out part that ``evaluate``, the pictures and the report use.

Held out means: a built-in's test split; for a file, the validation part training split off
(the same seed and fraction give the same rows) or the validation file it was given. A run
trained on in-memory data records no source, so its data must be passed in. Runs record a
file's absolute path; runs saved before recorded the path as given, which may be relative to
a folder other than the current one (``unfound_data``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..data import Dataset
from ..data.builtin import split_builtin_name
from ..data.splitting import split_order, split_validation
from ..errors import ConfigError, DataError
from ..runs.data_info import DataInfo

if TYPE_CHECKING:  # model.py does not import this module
    from ..trained.autoencoder import Autoencoder


@dataclass
class HeldOut:
    """Data to show a run's results on, with what it is in words (the report prints it).

    ``held_out`` is False for training data (a run that held nothing out): pictures may be
    drawn on it, but it is never evaluated on. ``rows``: each sample's row in the source the
    description names, where they are not simply 0, 1, 2, ... (the validation part of a file).
    """

    data: Dataset
    description: str
    held_out: bool = True
    rows: np.ndarray | None = None


def held_out_part(model: Autoencoder, label: str | None = None) -> HeldOut | None:
    """The run's held-out data (see the module), or its training data, marked so, where it held
    none out; None where the run records no source to reload (in-memory data)."""
    info, config = model.data_info, model.train_config
    source = info.source
    if source is None:
        return None
    if is_builtin(source):
        name = source.split(":")[0] + ":test"
        return HeldOut(model.load_input(name), f"{name}, the built-in's test split")
    validation = recorded_validation(info)
    if validation == "given":
        if info.val_source is None:
            return None  # the validation data was given in memory
        data = model.load_input(
            _found(info.val_source),
            label=label_for(model, info.val_source, label),
            default_split="test",
        )
        return HeldOut(data, f"{info.val_source}, the validation data training was given")
    full = model.load_input(_found(source), label=label_for(model, source, label))
    part = split_validation(full, config.val_fraction, config.seed)[1]
    if validation == "split" and part is not None:
        return HeldOut(
            part,
            f"validation data: the {len(part)} samples of {source} that training held out "
            f"(val_fraction {config.val_fraction:g}, seed {config.seed}); they chose the best "
            "epoch, so figures on them read a little better than on unseen data",
            rows=np.sort(split_order(len(full), config.seed)[: len(part)]),
        )
    return HeldOut(full, f"training data: {source} (the run held no data out)", held_out=False)


def training_part(
    model: Autoencoder, train_data, label: str | None, needed_for: str = "the PCA baseline"
) -> Dataset:
    """The data PCA is fitted on: ``train_data`` as given, else exactly the model's training
    part, reloaded from its source and split again only if validation was split off it;
    ``needed_for`` says why in the error where it cannot be reloaded."""
    info = model.data_info
    if train_data is not None:
        return model.load_input(
            train_data, label=label_for(model, train_data, label), default_split="train"
        )
    if info.source is None:
        raise ConfigError(
            "this model was trained on in-memory data, so its training data cannot be "
            f"reloaded for {needed_for}; pass train_data= (CLI: --train-data)"
        )
    source = _found(info.source)
    full = model.load_input(source, label=label_for(model, source, label), default_split="train")
    if recorded_validation(info) == "split":
        config = model.train_config
        return split_validation(full, config.val_fraction, config.seed)[0]
    return full


def unfound_data(model: Autoencoder) -> str | None:
    """The recorded file ``held_out_part`` reloads the run's data from, where it is not found
    from here (a relative path read from another folder, or a file moved away); else None."""
    info = model.data_info
    source = info.val_source if recorded_validation(info) == "given" else info.source
    if source is None or _is_found(source):
        return None
    return source


def _found(source: str) -> str:
    """``source``, or a DataError saying that the run's data file is not found and what to do."""
    if _is_found(source):
        return source
    if Path(source).expanduser().is_absolute():
        why = "moved or deleted since training"
    else:  # as runs saved by earlier aekit versions recorded it
        why = "a path relative to the folder the run was trained from: run aekit from there"
    raise DataError(
        f"{source!r}: the run's data file is not found from {Path.cwd()} ({why}); or give the "
        "data: aekit evaluate RUN DATA --train-data FILE, aekit report RUN --data FILE "
        "(Python: test_data=, train_data=, data=)"
    )


def _is_found(source: str) -> bool:
    return split_builtin_name(source) is not None or Path(source).expanduser().exists()


def recorded_validation(info: DataInfo) -> str:
    """How a run's validation data was made; runs saved before it was recorded split their
    data unless val_data was a file."""
    if info.validation is not None:
        return info.validation
    return "given" if info.val_source is not None else "split"


def label_for(model: Autoencoder, source, label: str | None) -> str | None:
    """The label to read ``source`` with: ``label``, else the run's for a file without named
    columns (an .npz key); tables set the run's label column aside themselves (Columns)."""
    if label is not None or model.columns is not None:
        return label
    return model.data_info.label if isinstance(source, str | Path) else None


def is_builtin(source: str) -> bool:
    """A built-in's name (``digits``, ``fashion-mnist:train``), not a file of that name."""
    return split_builtin_name(source) is not None and not Path(source).exists()
