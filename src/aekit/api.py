"""The Python entry points: ``train``, ``load``, ``evaluate``. The CLI calls exactly these."""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path

import numpy as np
import torch

from .building import (
    check_trainable,
    choose_scale,
    net_config_for,
    scale_per_feature,
    with_defaults,
    with_loss,
)
from .checkpoints import CHECKPOINT_FILE, check_run_meta, load_checkpoint
from .code_density import MAX_FIT_CODES
from .config import make_config
from .config_file import read_config_file
from .data import Columns, Dataset, load_data
from .denoising import (
    EVAL_SEED_OFFSET,
    add_code_sparsity,
    add_denoising_rows,
    make_corruption,
    save_denoising_grid,
)
from .errors import ConfigError, DataError
from .evaluation import STANDARDISED_UNITS, Comparison, compare_with_pca, evaluation_space
from .likelihood import DEFAULT_IW_IMAGES, DEFAULT_IW_SAMPLES, vae_scores
from .model import Autoencoder
from .models import MODELS, VAEConfig
from .pca_start import keep_start_unless_clearly_better
from .plots import save_loss_curve, save_reconstruction_grid
from .progress import Progress
from .run_schema import saved_options
from .runs import CONFIG_FILE, write_metrics
from .scaling import Scaler, ValueRange
from .training import finished_reason, fit

log = logging.getLogger(__name__)

MIN_SAMPLES_FOR_VALIDATION = 10


def train(
    data=None,
    *,
    label: str | None = None,
    val_data=None,
    config: str | Path | None = None,
    out: str | Path | None = None,
    overwrite: bool = False,
    resume: bool = False,
    progress: bool = True,
    **options,
) -> Autoencoder:
    """Train an autoencoder on ``data`` and return it.

    data: a path, a built-in name ("digits", "fashion-mnist"), an array (n, d) / (n, H, W) /
    (n, C, H, W), or a DataFrame. ``label`` names a column to set aside (never fed to the model).
    ``val_data`` gives an explicit validation set; otherwise ``val_fraction`` of ``data`` is held
    out. ``config`` is a TOML file of options; keyword ``options`` (see ``TrainConfig``)
    override it.
    With ``out``, the run folder (config, weights, metrics, plots, checkpoint) is written there.
    ``resume=True`` continues the run in ``out`` from its latest checkpoint, with the options
    and data it was started with (options given here override them; ``data`` may be omitted
    when the run was trained on a file or a built-in).
    """
    file_options = read_config_file(config) if config is not None else {}
    checkpoint = None
    if resume:
        if out is None:
            raise ConfigError("resume=True needs out=, the run folder to continue (CLI: --resume)")
        checkpoint = load_checkpoint(out)
        saved = check_run_meta(checkpoint)
        file_options = {**saved["train"], **file_options}
        data = data if data is not None else saved["data"]["source"]
        label = label if label is not None else saved["data"]["label"]
        val_data = val_data if val_data is not None else saved["data"]["val_source"]
        if data is None:
            raise ConfigError(f"{out} was trained on in-memory data: pass the same data to resume")
    elif data is None:
        raise ConfigError("name the data to train on")
    settings = make_config(**{**file_options, **options})
    if checkpoint is not None and _nothing_to_resume(Path(out), checkpoint, settings):
        return load(out)
    dataset = load_data(data, label=label, default_split="train")
    if val_data is not None:
        train_part = dataset
        # the label column applies to a validation file of the same kind, not to an array
        val_label = label if isinstance(val_data, str | Path) else None
        val_part = load_data(
            val_data, label=val_label, default_split="test", columns=_table_columns(dataset, label)
        )
        if val_part.sample_shape != dataset.sample_shape:
            raise DataError(
                f"validation data {val_part.name} has samples of shape {val_part.sample_shape}, "
                f"training data {dataset.name} has {dataset.sample_shape}"
            )
    else:
        train_part, val_part = split_validation(dataset, settings.val_fraction, settings.seed)
    if out is not None and not resume:
        _check_out_folder(Path(out), overwrite)

    flat = train_part.x.reshape(len(train_part), -1)
    values = ValueRange.of(flat)
    settings = with_loss(settings, values)
    scale = choose_scale(settings, dataset, values)
    scaler = Scaler.fit(
        flat,
        scale,
        per_feature=scale_per_feature(dataset, flat, values),
        names=dataset.feature_names,
    )
    net_config = net_config_for(settings, dataset, scale, flat)
    settings = with_defaults(settings, net_config.backbone, len(train_part))
    check_trainable(settings, net_config, train_part)
    family = "vae" if settings.model == "vae" else "ae"
    if family == "vae":
        net_config = VAEConfig(**vars(net_config), beta=settings.beta, kl_warmup=settings.kl_warmup)
    torch.manual_seed(settings.seed)
    net = MODELS[family](net_config)

    def as_tensor(part: Dataset) -> torch.Tensor:
        scaled = scaler.transform(part.x.reshape(len(part), -1))
        return torch.from_numpy(
            np.ascontiguousarray(scaled.reshape(len(part), *net_config.input_shape))
        )

    train_x = as_tensor(train_part)
    val_x = as_tensor(val_part) if val_part is not None else None
    start_state = None
    # the untrained network is PCA (see building.py, pca_start.py) where PCA's start can train
    if net_config.linear_path and net.init_linear_path(train_x):
        start_state = {k: v.clone() for k, v in net.state_dict().items()}
    reporter = Progress() if progress else None
    if reporter:
        where = (
            f"{len(train_part)} training and {len(val_part) if val_part else 0} validation samples"
        )
        reporter.message(
            f"training a {net_config.backbone} autoencoder (code size {net_config.code_size}) "
            f"on {dataset.name}: {where} of shape {dataset.sample_shape}"
        )
    data_info = {
        "name": dataset.name,
        "source": str(data) if isinstance(data, str | Path) else None,
        "val_source": str(val_data) if isinstance(val_data, str | Path) else None,
        "label": str(label) if label is not None else None,  # names are compared as strings
        "feature_names": dataset.feature_names,
        # how validation data was made, so evaluate fits PCA on exactly the training part
        "validation": _validation_kind(val_data, val_part),
        "sample_shape": list(dataset.sample_shape),
        # grey images given as (n, H, W) come back as (n, H, W), not (n, 1, H, W)
        "output_shape": list(np.shape(data)[1:]) if isinstance(data, np.ndarray) else None,
        "n_train": len(train_part),
        "n_val": len(val_part) if val_part is not None else 0,
        "data_min": values.low,
        "data_max": values.high,
    }
    if checkpoint is not None:
        _check_same_data(checkpoint.meta["run"]["data"], data_info, out)
    elif out is not None:
        # an earlier run's checkpoint: if this run died before its first one, --resume would
        # continue the earlier run; its model stays until this run's replaces it
        (Path(out) / CHECKPOINT_FILE).unlink(missing_ok=True)
    result = fit(
        net,
        train_x,
        val_x,
        settings,
        progress=reporter,
        on_epoch=(lambda history: write_metrics(out, history)) if out is not None else None,
        checkpoint_dir=out,
        resume=checkpoint,
        corrupt=make_corruption(settings.noise, net_config),
        checkpoint_meta={"run": {"train": settings.to_dict(), "data": data_info}},
    )
    if start_state is not None and val_part is not None and not settings.noise:
        if result.best_epoch == 0 or keep_start_unless_clearly_better(net, start_state, val_x):
            # PCA it is: fit its scaling and PCA on all the training data, as a baseline would
            everything = np.concatenate([flat, val_part.x.reshape(len(val_part), -1)])
            refit = Scaler.fit(
                everything, scale, per_feature=scaler.per_feature, names=dataset.feature_names
            )
            if net.init_linear_path(torch.from_numpy(refit.transform(everything))):
                scaler = refit
            else:  # the validation rows put PCA out of float32's reach: keep the first start
                net.load_state_dict(start_state)
            result.best_epoch = 0
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
        },
    )
    if family == "ae":
        # a deterministic autoencoder has no prior: sampling draws codes from this density
        # the density is fitted on at most MAX_FIT_CODES codes: encode only those samples
        rows = np.random.default_rng(settings.seed).permutation(len(train_part))[:MAX_FIT_CODES]
        model.fit_code_density_on_use(
            model.encode(train_part.x[np.sort(rows)]), settings.gmm_components, settings.seed
        )
    if out is not None:
        model._save(out, keep={CHECKPOINT_FILE})  # the plots are written again below
        save_loss_curve(Path(out) / "loss.png", result.history)
        if dataset.is_image:
            shown = (val_part or train_part).x[:10]
            save_reconstruction_grid(
                Path(out) / "reconstructions.png",
                _for_display(model, shown),
                _for_display(model, model.reconstruct(shown)),
            )
            if settings.noise:
                save_denoising_grid(
                    Path(out) / "denoising.png", model, shown, settings.noise, seed=settings.seed
                )
    return model


def load(folder: str | Path) -> Autoencoder:
    """Load a saved run folder (``config.json`` + ``model.safetensors``)."""
    return Autoencoder.load(folder)


def evaluate(
    model: Autoencoder,
    test_data=None,
    *,
    train_data=None,
    label: str | None = None,
    iw_samples: int = DEFAULT_IW_SAMPLES,
    iw_images: int | None = DEFAULT_IW_IMAGES,
    noise: str | list[str] | None = None,
    progress: bool = False,
) -> Comparison:
    """Compare ``model`` with PCA at the same code size on held-out ``test_data``.

    A VAE also gets its test ELBO and importance-weighted test NLL (Bernoulli decoders on
    [0, 1] data, Gaussian and Laplace ones in the data's units) with its standard error, from
    ``iw_samples`` draws on each of ``iw_images`` test samples (a seeded random subset; None:
    all), see ``aekit.likelihood``. ``progress=True`` shows a live count on a terminal.

    PCA is fitted on the model's training data (reloaded from where it was trained, with the
    validation part split off again only where training split it off, as
    ``data_info["validation"]`` records; else ``train_data`` as given), with ``code_size``
    components or min(n, d) if fewer (``baseline_size``). Reconstruction metrics are in the
    data's own units for models that scaled all values together (images, one-unit tables), in
    standardised units for models that scaled each column (mixed tables), with PCA fitted in
    the same space; ``Comparison.space`` and a note say which (``evaluation.evaluation_space``).
    Where labels exist, a logistic regression is trained on
    the training codes of each and scored on the test codes. Every model also gets the fraction
    of near-zero code values (``near_zero_codes``, see ``evaluation.near_zero_fraction``).

    With ``noise`` (specs as in training, e.g. ``["gaussian:0.3"]``), the test inputs are also
    corrupted (seeded) and the PSNR of the model's output, of PCA's projection of the noisy
    input and of the noisy input itself are added (``aekit.denoising.add_denoising_rows``).
    """
    info = model.data_info
    if test_data is None:
        test_data = _default_test_source(info)
    test = model.load_input(
        test_data, label=_label_for(model, test_data, label), default_split="test"
    )
    train_part = _training_part(model, train_data, label)
    x_test = model.as_samples(test)
    x_train = model.as_samples(train_part)
    _check_iw_count("iw_samples", iw_samples)
    if iw_images is not None:
        _check_iw_count("iw_images", iw_images)
    codes_test = model.encode(x_test)
    recon_test = model.reconstruct(x_test).reshape(len(x_test), -1)
    space, to_space = evaluation_space(
        model.scaler.per_feature, x_train.reshape(len(x_train), -1).astype(np.float32)
    )
    if to_space is None:  # the data's own units; PCA in the model's (globally) scaled space
        spaces = dict(
            x_train=model.scale(x_train),
            x_test=model.scale(x_test),
            recon_test=recon_test,
            data_range=(info["data_max"] - info["data_min"]) or 1.0,
            with_bce=info["data_min"] >= 0.0 and info["data_max"] <= 1.0,
            to_original=lambda flat: model.scaler.inverse_transform(flat),
            x_test_original=x_test.reshape(len(x_test), -1),
        )
    else:  # standardised units, PCA fitted in them
        train_std = to_space(x_train.reshape(len(x_train), -1).astype(np.float32))
        spaces = dict(
            x_train=train_std,
            x_test=to_space(x_test.reshape(len(x_test), -1).astype(np.float32)),
            recon_test=to_space(recon_test.astype(np.float32)),
            data_range=float(train_std.max() - train_std.min()) or 1.0,
            with_bce=False,
        )
    comparison = compare_with_pca(
        **spaces,
        codes_train=model.encode(x_train),
        codes_test=codes_test,
        y_train=train_part.y,
        y_test=test.y,
        code_size=model.code_size,
        dataset=test.name,
        seed=model.train_config.seed,
    )
    comparison.space = space
    comparison.notes.append(_space_note(space))
    if model.is_vae:
        _add_vae_scores(comparison, model, x_test, iw_samples, iw_images, progress)
    add_code_sparsity(comparison, model, codes_test)
    if noise:
        add_denoising_rows(
            comparison,
            model,
            x_train,
            x_test,
            noise,
            data_range=(info["data_max"] - info["data_min"]) or 1.0,
            seed=model.train_config.seed + EVAL_SEED_OFFSET,
        )
    return comparison


def _check_iw_count(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")


def _add_vae_scores(
    comparison: Comparison,
    model: Autoencoder,
    x_test: np.ndarray,
    iw_samples: int,
    iw_images: int | None,
    progress: bool,
) -> None:
    """The VAE's ELBO and IWAE NLL (``aekit.likelihood.vae_scores``) added to ``comparison``."""
    scaled = torch.from_numpy(model.scale(x_test).reshape(len(x_test), *model.sample_shape))
    reporter = Progress() if progress else None
    counter = (lambda done, total: reporter.count("IWAE NLL", done, total)) if reporter else None
    scores, notes = vae_scores(
        model.net,
        scaled,
        iw_samples=iw_samples,
        iw_images=iw_images,
        seed=model.train_config.seed,
        log_det_scale=_log_det_scale(model),
        progress=counter,
    )
    comparison.rows["aekit"].update(scores)
    comparison.notes.extend(notes)


def _log_det_scale(model: Autoencoder) -> float:
    """Sum over one sample's values of log(spread) of the (affine) scaler: what a density of the
    scaled values loses to the data's units, -log p(x) = -log p(scaled x) + this."""
    spread = np.asarray(model.scaler.spread, dtype=np.float64)
    width = math.prod(model.sample_shape)
    per_value = np.broadcast_to(np.log(spread), (width,)) if len(spread) == 1 else np.log(spread)
    return float(per_value.sum())


def _space_note(space: str) -> str:
    if space == STANDARDISED_UNITS:
        return (
            "MSE, MAE and PSNR in standardised units (each column minus its training mean, "
            "divided by its training std, at least 1/20 of its range): the model scaled each "
            "column apart (a table of mixed units); PCA fitted in the same units"
        )
    return (
        "MSE, MAE and PSNR in the data's own units: the model scaled all values together "
        "(images, or a table of one unit: all values in [0, 1] or whole numbers in [0, 255])"
    )


def split_validation(data: Dataset, fraction: float, seed: int) -> tuple[Dataset, Dataset | None]:
    """Hold out a seeded random ``fraction`` of ``data``; the same seed gives the same split."""
    n_val = int(round(len(data) * fraction))
    if fraction == 0 or n_val < 1 or len(data) < MIN_SAMPLES_FOR_VALIDATION:
        if fraction > 0:
            log.warning("only %d samples: training without a validation split", len(data))
        return data, None
    order = np.random.default_rng(seed).permutation(len(data))
    return _subset(data, order[n_val:], "train"), _subset(data, order[:n_val], "validation")


def _subset(data: Dataset, index: np.ndarray, part: str) -> Dataset:
    return data.take(np.sort(index), f"{data.name} ({part} part)")


def _training_part(model: Autoencoder, train_data, label: str | None) -> Dataset:
    """The data PCA is fitted on: ``train_data`` as given, else exactly the model's training
    part, reloaded from its source and split again only if validation was split off it."""
    info = model.data_info
    if train_data is not None:
        return model.load_input(
            train_data, label=_label_for(model, train_data, label), default_split="train"
        )
    if info.get("source") is None:
        raise ConfigError(
            "this model was trained on in-memory data, so its training data cannot be "
            "reloaded for the PCA baseline; pass train_data= (CLI: --train-data)"
        )
    source = info["source"]
    full = model.load_input(source, label=_label_for(model, source, label), default_split="train")
    if _recorded_validation(info) == "split":
        config = model.train_config
        return split_validation(full, config.val_fraction, config.seed)[0]
    return full


def _validation_kind(val_data, val_part: Dataset | None) -> str:
    """How validation data was made: "given" (val_data), "split" (held out) or "none"."""
    if val_data is not None:
        return "given"
    return "split" if val_part is not None else "none"


def _recorded_validation(info: dict) -> str:
    """How a run's validation data was made; runs saved before it was recorded split their
    data unless val_data was a file."""
    if info.get("validation") is not None:
        return info["validation"]
    return "given" if info.get("val_source") is not None else "split"


def _table_columns(data: Dataset, label) -> Columns | None:
    """The training table's columns, to match a validation table's by name."""
    if data.feature_names is None:
        return None
    return Columns(data.feature_names, str(label) if label is not None else None)


def _label_for(model: Autoencoder, source, label: str | None) -> str | None:
    """The label to read ``source`` with: ``label``, else the run's for a file without named
    columns (an .npz key); tables set the run's label column aside themselves (Columns)."""
    if label is not None or model.columns is not None:
        return label
    return model.data_info.get("label") if isinstance(source, str | Path) else None


def _default_test_source(info: dict) -> str:
    source = info.get("source")
    if source is None or Path(source).exists():
        raise ConfigError(
            "name the held-out data to evaluate on (a file, or a built-in such as digits:test)"
        )
    return source.split(":")[0] + ":test"  # a built-in: its test split


def _check_same_data(saved: dict, now: dict, out) -> None:
    """A resumed run must see the data it started with, or 'bit-identical' means nothing."""
    for key in ("sample_shape", "n_train", "n_val", "data_min", "data_max", "feature_names"):
        if saved.get(key) != now.get(key):
            raise DataError(
                f"cannot resume {out}: the data differs from the data it was started with "
                f"({key} was {saved.get(key)}, is now {now.get(key)})"
            )


def _nothing_to_resume(out: Path, checkpoint, settings) -> bool:
    """True (and says why) when the checkpoint's run is over under ``settings`` and its model
    is saved; a run killed between its last checkpoint and saving its model is finished."""
    reason = finished_reason(checkpoint, settings)
    if reason is None or not (out / CONFIG_FILE).exists():
        return False
    try:
        saved = json.loads((out / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False  # finishing the run rewrites it
    run = checkpoint.meta["run"]
    if not isinstance(saved, dict) or [saved_options(saved), saved.get("data")] != [
        run["train"],
        run["data"],
    ]:
        return False  # the model saved there is another run's: finish this one
    log.warning("%s: %s", out, reason)
    return True


def _check_out_folder(out: Path, overwrite: bool) -> None:
    """Fail before training, not after it, when the results could not be saved."""
    if (out / CONFIG_FILE).exists() and not overwrite:
        raise ConfigError(
            f"{out} already holds a run; choose another folder or pass overwrite=True (--overwrite)"
        )
    if (out / CHECKPOINT_FILE).exists() and not overwrite:
        raise ConfigError(
            f"{out} holds an unfinished run; continue it with resume=True (--resume {out}) "
            "or pass overwrite=True (--overwrite)"
        )
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} exists and is not a folder")
    existing = next(parent for parent in (out, *out.parents) if parent.exists())
    if not existing.is_dir():  # no folder can be made below a file, not even by root
        raise ConfigError(f"cannot write into {out}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK):
        raise ConfigError(f"cannot write into {out}: {existing} is not writable")


def _for_display(model: Autoencoder, x: np.ndarray) -> np.ndarray:
    """Images mapped to [0, 1] by the training data's range, for plotting."""
    low, high = model.data_info["data_min"], model.data_info["data_max"]
    return np.clip((x - low) / max(high - low, 1e-12), 0, 1)
