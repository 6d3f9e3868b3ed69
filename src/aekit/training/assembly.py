"""The pieces ``aekit.train`` puts together around the loop: the scaler fitted on the training
part, the network built for the data, the description of the data a run records, the progress
line it starts with, and the trained model with its code density."""

from __future__ import annotations

import numpy as np
import torch

from ..data import Dataset
from ..data.scaling import Scaler, ValueRange
from ..models import BackboneConfig
from ..models.options import family_of
from ..models.priors import MAX_FIT_CODES
from ..options.train_config import TrainConfig
from ..runs.data_info import DataInfo, recorded_source
from ..trained.autoencoder import Autoencoder
from .distributed import Ranks
from .parts import StreamedPart
from .planning import (
    check_trainable,
    choose_scale,
    net_config_for,
    scale_per_feature,
    with_defaults,
)
from .progress import Progress
from .request import TrainRequest, validation_kind


def fit_scaler(settings: TrainConfig, dataset, train_part, values: ValueRange) -> Scaler:
    return train_part.fit_scaler(
        choose_scale(settings, dataset, values),
        per_feature=scale_per_feature(dataset, train_part.one_unit()),
        names=dataset.feature_names,
    )


def build_net(
    settings: TrainConfig,
    dataset,
    scaler: Scaler,
    values: ValueRange,
    train_part,
    ranks: Ranks,
) -> tuple[TrainConfig, BackboneConfig, torch.nn.Module]:
    """(settings with the defaults that depend on the net, the backbone's config, the net)."""
    net_config = net_config_for(settings, dataset, scaler.kind, values)
    given_batch = settings.batch_size is not None
    settings = with_defaults(settings, net_config.backbone, len(train_part))
    settings = ranks.batch_size_for(settings, given=given_batch)
    check_trainable(settings, net_config, train_part)
    family = family_of(settings)
    torch.manual_seed(settings.seed)
    net = family(family.config_for(net_config, settings))
    return settings, net.config, net


def report_start(reporter: Progress, dataset, net_config, train_part, val_part, ranks) -> None:
    where = f"{len(train_part)} training and {len(val_part) if val_part else 0} validation samples"
    streamed = ", read from disk in chunks" if isinstance(train_part, StreamedPart) else ""
    processes = f" on {ranks.size} processes" if ranks.size > 1 else ""
    reporter.message(
        f"training a {net_config.backbone} autoencoder (code size {net_config.code_size}) "
        f"on {dataset.name}{processes}: {where} of shape {tuple(dataset.sample_shape)}{streamed}"
    )


def describe_data(
    request: TrainRequest,
    dataset: Dataset,
    train_part,
    val_part: Dataset | None,
    values: ValueRange,
) -> DataInfo:
    data, val_data, label = request.data, request.val_data, request.label
    return DataInfo(
        name=dataset.name,
        source=recorded_source(data),
        val_source=recorded_source(val_data),
        label=str(label) if label is not None else None,
        feature_names=dataset.feature_names,
        validation=validation_kind(val_data, val_part),
        sample_shape=list(dataset.sample_shape),
        output_shape=list(np.shape(data)[1:]) if isinstance(data, np.ndarray) else None,
        n_train=len(train_part),
        n_val=len(val_part) if val_part is not None else 0,
        data_min=values.low,
        data_max=values.high,
    )


def make_model(net, scaler, data_info, settings, result, train_part, ranks) -> Autoencoder:
    model = Autoencoder(
        net.cpu(),
        scaler,
        data_info=data_info,
        train_config=settings,
        history=result.history,
        result={
            "best_epoch": result.best_epoch,
            "best_val_loss": result.best_val_loss,
            "stop_reason": result.stop_reason,
            "epochs_run": len(result.history),
            "lr_drops": sum(1 for row in result.history if row.get("lr_drop")),
            "world_size": ranks.size,  # how many processes trained it
        },
    )
    if net.vector_codes:
        # the sampler "mixture" draws codes from a density fitted on at most MAX_FIT_CODES
        # training codes: encode only those samples
        rows = np.random.default_rng(settings.seed).permutation(len(train_part))[:MAX_FIT_CODES]
        model.fit_code_density_on_use(model.encode(train_part.rows(np.sort(rows))))
    return model
