"""The options of a ``train`` call: the shared ones (``aekit.options.train_config``) and the
families' own, each declared in its family's file, made into one checked ``TrainConfig``.

Everything that lists options (the CLI flags, the sweep's grid, the scikit-learn parameters,
the saved-run schema, the README table) reads ``option_fields()``: the shared declarations, with
the registered families as ``model``'s choices, then each family's own.
"""

from __future__ import annotations

import dataclasses
import difflib

from ..errors import AekitDeprecationWarning, ConfigError, warn
from ..options.declaring import check_value, spec_of
from ..options.train_config import BACKBONES, TrainConfig, shared_fields
from .family import Family
from .registry import MODELS

# Before model named the family, "mlp", "conv" and "auto" meant the plain autoencoder with that
# backbone. They are still read, and rewritten (``new_model_spelling``): saved runs silently,
# what a user writes with a DeprecationWarning.
OLD_MODELS = BACKBONES
DEFAULT_FAMILY = TrainConfig.__dataclass_fields__["model"].default


def _model_field() -> dataclasses.Field:
    """``model`` as declared, with the registered families as its choices."""
    declared = TrainConfig.__dataclass_fields__["model"]
    spec = dataclasses.replace(
        spec_of(declared),
        kind="choice",
        parse=None,
        choices=tuple(MODELS),
        old_choices=OLD_MODELS,
        help="; ".join(f"{name}: {family.display_name}" for name, family in MODELS.items()),
    )
    model = dataclasses.field(default=declared.default, metadata={"option": spec})
    model.name = "model"
    return model


def _family_fields() -> dict[str, tuple[str, ...]]:
    """Each option a family declares -> the families that have it (in registry order)."""
    owners: dict[str, list[str]] = {}
    for name, family in MODELS.items():
        for option in dataclasses.fields(family.options_class):
            owners.setdefault(option.name, []).append(name)
    return {option: tuple(names) for option, names in owners.items()}


OWNERS = _family_fields()


def _all_fields() -> tuple[dataclasses.Field, ...]:
    shared = tuple(_model_field() if f.name == "model" else f for f in shared_fields())
    seen: dict[str, dataclasses.Field] = {f.name: f for f in shared}
    for family in MODELS.values():
        for option in dataclasses.fields(family.options_class):
            if option.name in seen and seen[option.name].metadata != option.metadata:
                raise TypeError(  # one declaration per option: families share it by inheriting
                    f"option {option.name!r} is declared twice; declare it once and inherit it"
                )
            seen.setdefault(option.name, option)
    return tuple(seen.values())


_FIELDS = _all_fields()
OPTION_NAMES = tuple(f.name for f in _FIELDS)
# What a resumed run keeps: what it built (the model options, the family's among them), how its
# data was split (seed, val_fraction) and what its validation loss measures (noise), so its
# weights fit and its epochs compare; the other training options (epochs, time_limit,
# lr_drops, batch_size, ...) may change
KEPT_ON_RESUME = (
    *(f.name for f in _FIELDS if spec_of(f).group == "model"),
    "seed",
    "val_fraction",
    "noise",
)


def option_fields() -> tuple[dataclasses.Field, ...]:
    """Every option's declared field: the shared ones (``model`` with the families as its
    choices), then each family's own, once each."""
    return _FIELDS


def option_field(name: str) -> dataclasses.Field:
    return next(f for f in _FIELDS if f.name == name)


def _evaluation_owners() -> dict[str, tuple[str, ...]]:
    owners: dict[str, list[str]] = {}
    for name, family in MODELS.items():
        for option in dataclasses.fields(family.evaluation_options_class):
            owners.setdefault(option.name, []).append(name)
    return {option: tuple(names) for option, names in owners.items()}


EVALUATION_OWNERS = _evaluation_owners()


def evaluation_fields() -> tuple[dataclasses.Field, ...]:
    """Every family's evaluation options (``aekit evaluate``'s flags), once each."""
    seen: dict[str, dataclasses.Field] = {}
    for family in MODELS.values():
        for option in dataclasses.fields(family.evaluation_options_class):
            seen.setdefault(option.name, option)
    return tuple(seen.values())


def evaluation_options(family: type[Family], given: dict):
    """The family's evaluation options (its ``evaluation_options_class``) from ``given``;
    ConfigError for an option of another family's evaluation, or no option at all."""
    own = {f.name: f for f in dataclasses.fields(family.evaluation_options_class)}
    for name, value in given.items():
        if name in own:
            continue
        if name in EVALUATION_OWNERS:
            users = " and ".join(f"model={owner!r}" for owner in EVALUATION_OWNERS[name])
            raise ConfigError(
                f"{name}={value!r} is an evaluation option of {users}; this model "
                f"({family.display_name}, model={family.family_name!r}) has no {name}"
            )
        names = list(EVALUATION_OWNERS)
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown evaluation option {name!r}{hint}")
    options = family.evaluation_options_class(**given)
    for name, option in own.items():
        setattr(options, name, check_value(option, getattr(options, name)))
    return options


def family_of(config: TrainConfig) -> type[Family]:
    return MODELS[config.model]


def make_config(base: TrainConfig | None = None, **options) -> TrainConfig:
    """A checked TrainConfig: ``base`` (or the defaults) overridden by ``options`` (shared and
    family options alike, by name); an old model spelling among ``options`` warns.

    An option of a family other than the chosen one, given a value other than its default, is a
    ConfigError naming the family that uses it (a value it would ignore); so are the options
    the chosen settings would ignore (``check_unused``).
    """
    check_option_names(options)
    warn_old_model_spelling(options)
    values = {**(all_options(base) if base is not None else {}), **options}
    values = new_model_spelling(values)
    model = check_value(_model_field(), values.get("model", DEFAULT_FAMILY))
    family = MODELS[model]
    own_names = {f.name for f in dataclasses.fields(family.options_class)}
    shared = {k: v for k, v in values.items() if k in TrainConfig.__dataclass_fields__}
    own = {k: v for k, v in values.items() if k in own_names}
    for name in set(values) - set(shared) - own_names:
        _reject_foreign(name, values[name], model)
    config = TrainConfig(**{**shared, "model": model}).validate()
    config.family_options = _checked_family_options(family, own)
    check_unused(config)
    family.check_options(config)
    return config


def saved_config(options: dict) -> TrainConfig:
    """The TrainConfig of a saved run's options, as one flat dict (``all_options``' form, or
    an older run's, which held every family's options): the chosen family's are kept, the
    others' dropped (they never applied); no check that options go together, so any run
    saved once loads again. TypeError or ConfigError on a value the declarations refuse."""
    options = new_model_spelling(options)
    model = check_value(_model_field(), options.get("model", DEFAULT_FAMILY))
    family = MODELS[model]
    own = {f.name for f in dataclasses.fields(family.options_class)}
    shared = {k: v for k, v in options.items() if k in TrainConfig.__dataclass_fields__}
    config = TrainConfig(**{**shared, "model": model}).validate()
    config.family_options = _checked_family_options(
        family, {k: v for k, v in options.items() if k in own}
    )
    return config


def all_options(config: TrainConfig) -> dict:
    """The config's options by name, shared and the family's, as one flat dict."""
    return {**config.to_dict(), **family_options_dict(config)}


def family_options_dict(config: TrainConfig) -> dict:
    """The family's own options by name ({} before ``make_config`` filled them)."""
    own = config.family_options
    return dataclasses.asdict(own) if own is not None else {}


def _checked_family_options(family: type[Family], given: dict):
    own = family.options_class(**given)
    for option in dataclasses.fields(own):
        setattr(own, option.name, check_value(option, getattr(own, option.name)))
    return own


def _reject_foreign(name: str, value, model: str) -> None:
    """An option of other families: accepted at its default (the estimators and sweeps pass
    every option), an error otherwise, naming who uses it."""
    option = option_field(name)
    if value == option.default:
        return
    users = " or ".join(f"model={owner!r}" for owner in OWNERS[name])
    # each family named as reports call it: the option may belong to several
    owners = ", ".join(f"model={owner!r} ({MODELS[owner].display_name})" for owner in OWNERS[name])
    raise ConfigError(
        f"{name}={value!r} is an option of {owners}: {spec_of(option).help}; model={model!r} "
        f"({MODELS[model].display_name}) has no {name}: leave it out, or use {users}"
    )


def check_option_names(names) -> None:
    """ConfigError naming the first of ``names`` that is no option, with the closest one."""
    unknown = [name for name in names if name not in OPTION_NAMES]
    if unknown:
        name = unknown[0]
        close = difflib.get_close_matches(name, OPTION_NAMES, n=1)
        hint = (
            f"; did you mean {close[0]!r}?"
            if close
            else f"; valid options: {', '.join(OPTION_NAMES)}"
        )
        raise ConfigError(f"unknown option {name!r}{hint}")


def check_unused(config: TrainConfig) -> None:
    """Shared options the other settings would accept and then ignore are errors, before data
    is read. Dropout with a backbone left to ``auto`` is checked once the data picks it
    (``training.planning.net_config_for``). Saved runs are not checked here, so old ones still
    load."""
    defaults = TrainConfig()
    if not config.early_stopping:
        unused = {
            "patience": config.patience != defaults.patience,
            # no drops agrees with no early stopping (a sweep may pair lr_drops=0 with it)
            "lr_drops": config.lr_drops not in (0, defaults.lr_drops),
        }
        for name in (name for name, given in unused.items() if given):
            raise ConfigError(
                f"{name}={getattr(config, name)!r} is not used with early_stopping=False "
                "(it counts epochs without a better validation loss to stop or drop the "
                "learning rate); leave it out, or turn early stopping on"
            )
    if config.dropout > 0 and config.backbone == "conv":
        raise ConfigError(
            f"dropout={config.dropout:g} is not used by the conv backbone (only MLP layers have "
            "dropout); leave it out, or use the mlp backbone"
        )


def new_model_spelling(options: dict) -> dict:
    """``options`` with an old model spelling ("mlp", "conv", "auto") rewritten as the default
    family and its backbone; ConfigError when ``backbone`` names another one."""
    model = options.get("model")
    if not isinstance(model, str) or model not in OLD_MODELS:
        return options
    backbone = options.get("backbone") or "auto"
    if model != "auto" and backbone not in ("auto", model):
        raise ConfigError(
            f"model={model!r} is the plain autoencoder with the {model} backbone, but "
            f"backbone={backbone!r}; use model={DEFAULT_FAMILY!r}, backbone={backbone!r}"
        )
    new_backbone = backbone if model == "auto" else model
    return {**options, "model": DEFAULT_FAMILY, "backbone": new_backbone}


def warn_old_model_spelling(options: dict) -> None:
    """A DeprecationWarning naming the new spelling where ``options`` use an old one."""
    model = options.get("model")
    if not isinstance(model, str) or model not in OLD_MODELS:
        return
    new = new_model_spelling(options)
    warn(
        f"model={model!r} is deprecated: use model={DEFAULT_FAMILY!r}, "
        f"backbone={new['backbone']!r}",
        AekitDeprecationWarning,
    )
