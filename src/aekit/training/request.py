"""What a ``train`` call trains on: its options, resolved from the call, a TOML file and the
run it resumes; its data, loaded and split into training and validation parts.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..data import Columns, Dataset, load_data
from ..data.splitting import split_validation
from ..data.streaming import StreamedFile, streams
from ..errors import ConfigError, DataError
from ..models.options import (
    KEPT_ON_RESUME,
    all_options,
    make_config,
    new_model_spelling,
    option_field,
    saved_config,
)
from ..options.config_file import LABEL_KEY, read_config_file, without_label
from ..options.declaring import spec_of
from ..options.train_config import TrainConfig
from ..runs.training_place import read_resumed_checkpoint
from .checkpoints import Checkpoint, check_run_meta
from .parts import MemoryPart, StreamedPart


@dataclass
class TrainRequest:
    """What to train on and with which options, from the call or the run being resumed."""

    data: object
    label: str | None
    val_data: object
    settings: TrainConfig
    checkpoint: Checkpoint | None  # the run's latest, when resuming


def resolve_request(data, label, val_data, config, out, resume: bool, options) -> TrainRequest:
    """Options (and a label column) from the TOML file, overridden by keywords; resuming, the
    saved run's options and data fill in what the call and the file leave out."""
    file_options = _file_options(config) if config is not None else {}
    file_label = file_options.pop(LABEL_KEY, None)
    label = label if label is not None else file_label
    check_one_validation(val_data, {**file_options, **options})
    checkpoint = None
    if resume:
        if out is None:
            raise ConfigError("resume=True needs out=, the run folder to continue (CLI: --resume)")
        checkpoint = read_resumed_checkpoint(Path(out))
        saved = check_run_meta(checkpoint)
        # a run saved before model named the family: its old spelling is no user's to warn of
        # any format's options (an old model spelling, every family's) as today's
        saved_options = all_options(saved_config(saved["train"]))
        file_options = {**saved_options, **file_options}
        data = data if data is not None else saved["data"]["source"]
        label = label if label is not None else saved["data"]["label"]
        val_data = val_data if val_data is not None else saved["data"]["val_source"]
        if data is None:
            raise ConfigError(f"{out} was trained on in-memory data: pass the same data to resume")
    elif data is None:
        raise ConfigError("name the data to train on")
    settings = make_config(**{**file_options, **options})
    if checkpoint is not None:
        check_kept_on_resume(saved_config(saved_options), settings, out)
    return TrainRequest(data, label, val_data, settings, checkpoint)


def check_kept_on_resume(saved: TrainConfig, settings: TrainConfig, out) -> None:
    """ConfigError naming each option of ``KEPT_ON_RESUME`` that ``settings``, the options a
    run is resumed with, change from ``saved``, the run's, with both values."""
    now, before = all_options(settings), all_options(saved)
    changed = [name for name in KEPT_ON_RESUME if now.get(name) != before.get(name)]
    if changed:
        given = ", ".join(
            f"{name}={now.get(name)!r} (the run's: {_shown(before, name)})" for name in changed
        )
        raise ConfigError(
            f"cannot resume {out} with {given}: a resumed run keeps what it built and how its "
            "data was split (the model options, seed, val_fraction and noise); leave them out, "
            "or train a new run. Training options such as epochs, time_limit and lr_drops may "
            "change"
        )


def _shown(options: dict, name: str) -> str:
    """An option's value as a message shows it; None says when the data picked it."""
    value = options.get(name)
    picked = value is None and spec_of(option_field(name)).auto not in (None, "none")
    return "None, picked from the data" if picked else repr(value)


def _file_options(path) -> dict:
    """The options (and label) of a TOML file, checked alone so that an error names the file;
    an old model spelling warns here, once, and comes back rewritten."""
    options = read_config_file(path)
    try:
        make_config(**without_label(options))
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return new_model_spelling(options)


def check_one_validation(val_data, given: dict) -> None:
    """A val_fraction given beside val_data would be ignored (the given data is the validation
    data, nothing is held out): an error, before anything is read."""
    fraction = given.get("val_fraction")
    if val_data is not None and fraction is not None and fraction != TrainConfig().val_fraction:
        raise ConfigError(
            f"val_fraction={fraction!r} holds out part of the data, but val_data (--val-data) "
            "gives the validation data apart; give one of the two"
        )


@contextlib.contextmanager
def load_and_split(request: TrainRequest) -> Iterator[tuple]:
    """(all the data, its training part, its validation part or None), while training runs:
    a file streamed in chunks (the ``stream`` option) is read from disk, and CSV and Parquet
    through a float32 copy in a temporary folder, removed at the end."""
    data, label, val_data = request.data, request.label, request.val_data
    settings = request.settings
    if streams(data, settings.stream):
        with tempfile.TemporaryDirectory(prefix="aekit-stream-") as workdir:
            fraction = settings.val_fraction if val_data is None else 0.0
            file = StreamedFile.open(
                Path(data).expanduser(),
                label=label,
                val_fraction=fraction,
                seed=settings.seed,
                workdir=Path(workdir),
            )
            val_part = file.validation() if val_data is None else _given_validation(request, file)
            yield file, StreamedPart(file), val_part
        return
    dataset = load_data(data, label=label, default_split="train")
    if val_data is None:
        train_part, val_part = split_validation(dataset, settings.val_fraction, settings.seed)
        yield dataset, MemoryPart(train_part), val_part
        return
    yield dataset, MemoryPart(dataset), _given_validation(request, dataset)


def _given_validation(request: TrainRequest, dataset) -> Dataset:
    """The validation data given apart (``val_data``), matched to the training data."""
    return load_validation(request.val_data, dataset, request.label)


def load_validation(val_data, dataset, label: str | None) -> Dataset:
    """``val_data`` loaded as training reads validation data given apart: a table's columns
    matched by name to ``dataset``'s (its ``label`` column set aside where it has one), its
    samples checked to have ``dataset``'s shape."""
    columns = table_columns(dataset, label)
    # validation takes no labels: a table's label column is set aside where present (Columns),
    # never required; the label key applies to an .npz file, not to an array
    val_label = label if isinstance(val_data, str | Path) and columns is None else None
    val_part = load_data(val_data, label=val_label, default_split="test", columns=columns)
    if val_part.sample_shape != tuple(dataset.sample_shape):
        raise DataError(
            f"validation data {val_part.name} has samples of shape {val_part.sample_shape}, "
            f"training data {dataset.name} has {tuple(dataset.sample_shape)}"
        )
    return val_part


def validation_kind(val_data, val_part: Dataset | None) -> str:
    """How validation data was made: "given" (val_data), "split" (held out) or "none"."""
    if val_data is not None:
        return "given"
    return "split" if val_part is not None else "none"


def table_columns(data: Dataset, label) -> Columns | None:
    """The training table's columns, to match a validation table's by name."""
    if data.feature_names is None:
        return None
    return Columns(data.feature_names, str(label) if label is not None else None)
