"""The plain autoencoder of the seed article: encoder -> code -> decoder (MLP or conv).

Its options: code penalties (sparse and contractive autoencoders, ``aekit.models.penalties``),
the linear path started at PCA (an MLP on a table starts as PCA and keeps that start unless
training clearly beats it, ``aekit.models.pca_start``), and the Gaussian mixture fitted on its
training codes to sample from (``aekit.models.priors.CodeDensity``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields

import torch
from torch import nn

from ..nn.losses import reconstruction_loss
from ..options.declaring import option
from ..options.saved_values import BOOL, Field, is_number, not_required, one_of, option_value, saved
from ..options.train_config import TrainConfig
from .family import BackboneConfig, Family
from .pca_start import keep_start_unless_clearly_better
from .penalties import (
    SPARSITY_KINDS,
    closed_form_layers,
    estimated_jacobian_sq_norm,
    exact_jacobian_sq_norm,
    parse_sparsity,
    sparsity_penalty,
)
from .priors import CodeMixtureOptions

LINEAR_PATH_CHOICES = ("auto", "off")


def _sparsity_spec(spec):
    parse_sparsity(spec)  # raises ConfigError naming a bad spec
    return spec


@dataclass
class AEOptions(CodeMixtureOptions):
    """The plain autoencoder's own options (and the code mixture's, inherited)."""

    linear_path: str = option(
        "auto",
        choices=LINEAR_PATH_CHOICES,
        group="model",
        help="a linear path beside the MLP, started at PCA, so training starts from PCA's "
        "solution (auto: where the loss and output allow it; off: the network alone)",
    )
    sparsity: str | None = option(
        None,
        kind="text",
        parse=_sparsity_spec,
        group="model",
        metavar="SPEC",
        auto="none",
        help="sparse code: l1:LAMBDA or kl:RHO:LAMBDA",
    )
    contractive: float = option(
        0.0,
        kind="number",
        low=0.0,
        group="model",
        metavar="LAMBDA",
        help="weight of the encoder's squared Jacobian norm",
    )


_CONTRACTIVE = {f.name: f for f in fields(AEOptions)}["contractive"]


@dataclass
class NetConfig(BackboneConfig):
    """The plain autoencoder's config: the backbone, its code penalties and the linear path;
    saved as JSON beside the weights. The penalties and the path are absent in runs saved
    before they existed: none."""

    # Penalties on the code (see aekit.models.penalties): sparsity "none", "l1" or "kl" with
    # its weight LAMBDA and, for kl, target activation RHO; contractive: weight of
    # ||d code / d x||_F^2. A kl-sparse code is sigmoid(encoder output), so these are part of
    # the model, not training.
    sparsity: str = saved(not_required(one_of(("none", *SPARSITY_KINDS))), default="none")
    sparsity_weight: float = saved(
        Field("a number >= 0", lambda value: is_number(value) and value >= 0, required=False),
        default=0.0,
    )
    sparsity_target: float = saved(
        Field(
            "a number in [0, 1)",
            lambda value: is_number(value) and 0 <= value < 1,
            required=False,
        ),
        default=0.0,
    )
    contractive: float = saved(option_value(_CONTRACTIVE), default=0.0)
    # A linear path beside the MLP (see AutoencoderNet.init_linear_path): code = linear map of x
    # + MLP encoder(x), reconstruction = linear map of the code + MLP decoder(code). Started at
    # PCA's solution with the MLPs' last layers at zero, the untrained network is PCA.
    linear_path: bool = saved(not_required(BOOL), default=False)

    @classmethod
    def saved_problem(cls, net: dict) -> tuple[str, str] | None:
        problem = super().saved_problem(net)
        if problem is None and net.get("linear_path") and net["backbone"] != "mlp":
            return "linear_path", "false: the linear path exists only with the mlp backbone"
        return problem


# Scaled data standardised or min-max scaled lies within a few hundred of its mean; past this,
# float32 cannot carry PCA's start (see ``init_linear_path``).
MAX_CENTRED_FOR_PCA_START = 1e6


class AutoencoderNet(Family):
    """encode: (B, *input_shape) -> (B, code_size); decode: (B, code_size) -> (B, *input_shape).

    It has no prior: sampled codes come from the Gaussian mixture fitted on its training codes
    (``fit_prior``).
    """

    family_name = "ae"
    display_name = "autoencoder"
    options_class = AEOptions
    config_class = NetConfig

    def __init__(self, config: NetConfig):
        super().__init__(config)
        self._start_state: dict[str, torch.Tensor] | None = None
        if config.linear_path:
            if config.backbone != "mlp":
                raise ValueError("the linear path is built for the plain MLP autoencoder only")
            shape = tuple(config.input_shape)
            width = math.prod(shape)
            self.linear_encoder = nn.Linear(width, config.code_size)
            self.linear_decoder = nn.Linear(config.code_size, width)
            self.flat_shape = shape

    @classmethod
    def config_for(cls, backbone: BackboneConfig, config: TrainConfig) -> NetConfig:
        own = config.family_options
        return NetConfig(
            **BackboneConfig.shared_fields(backbone),
            **parse_sparsity(own.sparsity),
            contractive=own.contractive,
            linear_path=_with_linear_path(own, backbone),
        )

    def prepare(self, training_rows: Callable[[], torch.Tensor]) -> None:
        """Start at PCA's solution on the training rows where the config has a linear path."""
        if self.config.linear_path and self.init_linear_path(training_rows()):
            self._start_state = {k: v.clone() for k, v in self.state_dict().items()}

    def settle(self, val_x: torch.Tensor | None, result) -> None:
        """Keep the PCA start unless training clearly beat it on ``val_x``
        (``pca_start.keep_start_unless_clearly_better``); ``result.best_epoch`` becomes 0 when
        the start is kept."""
        start, self._start_state = self._start_state, None
        if start is None or val_x is None or result.best_epoch == 0:
            return  # the loop already restored the best epoch's weights: the start's, at 0
        start_loss = keep_start_unless_clearly_better(self, start, val_x)
        if start_loss is not None:  # the start's is then the run's best validation loss
            result.best_epoch, result.best_val_loss = 0, start_loss

    @property
    def sigmoid_codes(self) -> bool:
        return self.config.sparsity == "kl"

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        z = self.encoder(x)
        if self.config.linear_path:
            z = z + self.linear_encoder(x.flatten(1))
        return torch.sigmoid(z) if self.config.sparsity == "kl" else z

    def decode_raw(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder output before the output activation (logits for BCE)."""
        if self.config.linear_path:
            return self.decoder(z) + self.linear_decoder(z).unflatten(1, self.flat_shape)
        return super().decode_raw(z)

    @torch.no_grad()
    def init_linear_path(self, x: torch.Tensor) -> bool:
        """Start the network at PCA's solution on ``x`` (n, *input_shape), the scaled training
        data: the linear path encodes with the top principal directions and decodes with their
        transpose plus the mean, and the MLPs' last layers start at zero, so the untrained
        network reconstructs exactly as PCA with code_size components does. Each code is a
        principal component divided by its standard deviation (unit variance), a scale that
        suits the decoder MLP it feeds; that changes PCA's codes, not its reconstructions.

        Returns False, leaving the network as built, where scaled values lie more than
        MAX_CENTRED_FOR_PCA_START from their mean (only with scale="none" on extreme data): in
        float32 the start's decoder would cancel such magnitudes to noise and its gradients
        overflow, so it could not train.
        """
        flat = x.flatten(1).double()
        mean = flat.mean(0)
        centred = flat - mean
        if float(centred.abs().max()) > MAX_CENTRED_FOR_PCA_START:
            return False
        covariance = centred.T @ centred / max(len(flat) - 1, 1)
        variances, directions = torch.linalg.eigh(covariance)  # ascending
        # a code wider than the data: all d components, and the extra code units start at 0
        k = min(self.config.code_size, flat.shape[1])
        top = directions[:, -k:].flip(1).T  # (k, d), largest variance first
        std = variances[-k:].flip(0).clamp_min(1e-12 * max(float(variances[-1]), 1e-30)).sqrt()
        # built beside ``x`` (on the CPU after training on a GPU); copy_ moves them to the weights
        encoder_weight = flat.new_zeros(self.linear_encoder.weight.shape)
        decoder_weight = flat.new_zeros(self.linear_decoder.weight.shape)
        encoder_weight[:k] = top / std[:, None]
        decoder_weight[:, :k] = (top * std[:, None]).T
        self.linear_encoder.weight.copy_(encoder_weight)
        self.linear_encoder.bias.copy_(-encoder_weight @ mean)
        self.linear_decoder.weight.copy_(decoder_weight)
        self.linear_decoder.bias.copy_(mean)
        for part in (self.encoder, self.decoder):
            last = [m for m in part.modules() if isinstance(m, nn.Linear)][-1]
            last.weight.zero_()
            last.bias.zero_()
        # the training loop counts this untrained network as epoch 0's candidate
        self.starts_at_baseline = True
        return True

    def loss(
        self, x: torch.Tensor, target: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, dict]:
        """Mean reconstruction loss of the batch ``x`` against ``target`` (default: ``x``)."""
        target = x if target is None else target
        config = self.config
        if config.contractive > 0:
            z, jacobian_sq = self.code_and_jacobian_sq_norm(x)
        else:
            z = self.encode(x)
        raw = self.loss_input(self.decode_raw(z))
        loss = reconstruction_loss(config.loss, raw, target, per_sample=False)
        logs = {"reconstruction": loss.detach()}
        if config.sparsity != "none":
            penalty = sparsity_penalty(z, config.sparsity, config.sparsity_target)
            loss = loss + config.sparsity_weight * penalty
            logs["sparsity"] = penalty.detach()
        if config.contractive > 0:
            penalty = jacobian_sq.mean()
            loss = loss + config.contractive * penalty
            logs["contractive"] = penalty.detach()
        return loss, logs

    def code_and_jacobian_sq_norm(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Codes (B, k) and ||d code / d x||_F^2 per sample (B,): exact for MLP encoders of
        Linear layers and elementwise activations, else an unbiased one-draw estimate."""
        layers = closed_form_layers(self.encoder)
        if layers is not None:
            final = torch.sigmoid if self.config.sparsity == "kl" else None
            return exact_jacobian_sq_norm(layers, x, final)
        return estimated_jacobian_sq_norm(self.encode, x, create_graph=torch.is_grad_enabled())


def _with_linear_path(own: AEOptions, backbone: BackboneConfig) -> bool:
    """The MLP with an unbounded output gets a linear path started at PCA
    (``AutoencoderNet.init_linear_path``): the untrained network is PCA, and model selection on
    validation data, which counts the untrained network as epoch 0, can only improve on it.

    Not for conv (a linear path over every pixel would cost more than the conv net on large
    images), a sigmoid output (PCA is not the solution in logit space), nor with code
    penalties, whose closed forms assume a plain MLP encoder, nor with ``linear_path="off"``
    (a detector wants the network alone: see ``options.defaults.DETECTOR_TABLE``).
    """
    return (
        own.linear_path == "auto"
        and backbone.backbone == "mlp"
        and backbone.output == "identity"
        and backbone.loss in ("mse", "mae")
        and own.sparsity is None
        and own.contractive == 0
    )
