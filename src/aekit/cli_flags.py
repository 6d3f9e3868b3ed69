"""The ``aekit train`` flags: one row per TrainConfig option, in a table the parser is built from.

Every option has exactly one flag (a test checks), so the CLI, TOML files and Python keywords
fill the same dataclass.
"""

from __future__ import annotations

import argparse

from .config import BACKBONES, DEVICES, MODEL_CHOICES, OPTIMIZERS, SCHEDULES
from .losses import LOSSES
from .nn import ACTIVATIONS, NORMS
from .precision import PRECISIONS
from .scaling import SCALES


def _int_list(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers like 512,128, got {text!r}"
        ) from None


# (option name in TrainConfig, flag, argparse keywords). Defaults stay None so that only flags
# given on the command line override a --config file; TrainConfig holds the real defaults.
TRAIN_FLAGS = [
    (
        "model",
        "--model",
        dict(
            choices=MODEL_CHOICES,
            help="mlp, conv, auto: plain autoencoder with that backbone (auto: conv for images "
            ">= 16x16); vae: variational autoencoder (backbone from --backbone)",
        ),
    ),
    ("backbone", "--backbone", dict(choices=BACKBONES, help="backbone of --model vae")),
    ("beta", "--beta", dict(type=float, metavar="B", help="VAE: weight of the KL term")),
    (
        "kl_warmup",
        "--kl-warmup",
        dict(type=int, metavar="STEPS", help="VAE: raise the KL weight from 0 to beta over STEPS"),
    ),
    (
        "gmm_components",
        "--gmm-components",
        dict(type=int, metavar="N", help="plain AE: mixture components of the code density"),
    ),
    ("code_size", "--code", dict(type=int, metavar="N", help="code (bottleneck) size")),
    (
        "hidden",
        "--hidden",
        dict(
            type=_int_list,
            metavar="SIZES",
            help="MLP layer sizes, e.g. 512,128 (or conv channels per stage)",
        ),
    ),
    (
        "activation",
        "--activation",
        dict(
            choices=tuple(ACTIVATIONS),
            help="default: silu for conv, relu for mlp; none: a linear autoencoder",
        ),
    ),
    ("dropout", "--dropout", dict(type=float, metavar="P")),
    ("norm", "--norm", dict(choices=NORMS, help="default: batch for conv, none for mlp")),
    (
        "loss",
        "--loss",
        dict(
            choices=LOSSES,
            help="reconstruction loss; default: bce for --model vae on data in [0, 1] (unless "
            "--scale standard), else mse",
        ),
    ),
    (
        "scale",
        "--scale",
        dict(choices=SCALES, help="default: minmax for bce and images, else standard"),
    ),
    (
        "epochs",
        "--epochs",
        dict(type=int, metavar="N", help="default: 50, more on small data (at least 5000 steps)"),
    ),
    ("batch_size", "--batch-size", dict(type=int, metavar="N", help="default: 256 mlp, 64 conv")),
    (
        "lr",
        "--lr",
        dict(type=float, metavar="X", help="learning rate; default: 1e-3 mlp, 3e-3 conv"),
    ),
    ("optimizer", "--optimizer", dict(choices=OPTIMIZERS)),
    ("weight_decay", "--weight-decay", dict(type=float, metavar="X")),
    ("schedule", "--schedule", dict(choices=SCHEDULES, help="learning-rate schedule")),
    (
        "val_fraction",
        "--val-fraction",
        dict(type=float, metavar="F", help="share of the data held out for validation"),
    ),
    ("early_stopping", "--early-stopping", dict(action=argparse.BooleanOptionalAction)),
    ("patience", "--patience", dict(type=int, metavar="N", help="epochs without improvement")),
    (
        "time_limit",
        "--time-limit",
        dict(
            type=float,
            metavar="SECONDS",
            help="stop cleanly after this long, keeping the best model",
        ),
    ),
    ("seed", "--seed", dict(type=int, metavar="N")),
    ("device", "--device", dict(choices=DEVICES)),
    (
        "precision",
        "--precision",
        dict(
            choices=PRECISIONS,
            help="bf16 autocast for the forward pass (weights stay fp32); auto: bf16 for conv "
            "nets where the CPU/GPU has native bf16",
        ),
    ),
    (
        "checkpoint_every",
        "--checkpoint-every",
        dict(
            type=int,
            metavar="N",
            help="also write a checkpoint every N optimiser steps (always: every epoch)",
        ),
    ),
    ("clip_grad", "--clip-grad", dict(type=float, metavar="NORM", help="clip the gradient norm")),
    (
        "skip_nonfinite",
        "--skip-nonfinite",
        dict(
            type=int,
            metavar="N",
            help="skip up to N batches with a NaN/Inf loss or gradient instead of stopping",
        ),
    ),
    (
        "noise",
        "--noise",
        dict(
            action="append",
            metavar="SPEC",
            help="denoising: corrupt training inputs with gaussian:SIGMA, saltpepper:P or "
            "mask:P (repeat to combine)",
        ),
    ),
    (
        "sparsity",
        "--sparsity",
        dict(metavar="SPEC", help="sparse code: l1:LAMBDA or kl:RHO:LAMBDA"),
    ),
    (
        "contractive",
        "--contractive",
        dict(type=float, metavar="LAMBDA", help="weight of the encoder's squared Jacobian norm"),
    ),
]
