"""The VQ-VAE (van den Oord, Vinyals, Kavukcuoglu, "Neural Discrete Representation Learning",
NeurIPS 2017).

The encoder gives a grid of vectors of D = ``code_size`` numbers (the conv backbone: one per
position of its last stage, 7x7 for 28x28 images with the VQ-VAE's two default stages; the MLP:
``positions`` of them); each is replaced by the nearest of ``codebook_size`` codebook vectors
(``codebook.EMACodebook``, learned by moving averages, dead vectors restarted), and the decoder
rebuilds the input from them. A code is the grid of codebook indices, flattened:
(B, P) whole numbers from 0 to K - 1, so what needs codes that are vectors of numbers (the
probe, the code map, code distances, ONNX export, the Gaussian mixture) says so and skips.

The loss per sample: the reconstruction cost summed over the sample's values (the decoder's
log-likelihood up to constants, as the paper's), plus ``commitment`` (the paper's beta, 0.25)
times the squared distance of the encoder's outputs to their codebook vectors, summed, which
keeps the outputs near the codebook; the gradient passes the quantisation unchanged
(straight-through). New samples need a prior over index grids: a small PixelCNN
(``index_prior.IndexPrior``, masked convolutions) fitted after training (``settle``) on the
training data's grids, as the paper does; it is saved with the weights. A run stopped while
the prior is fitted fits it again when resumed (the fit is seeded: the same prior).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError, DataError
from ..nn import ConvGridDecoder, ConvGridEncoder, mlp
from ..nn.conv import stage_sizes
from ..nn.losses import reconstruction_loss
from ..options.declaring import MAX_SIZE, option
from ..options.saved_values import SIZE, not_required, option_value, saved
from ..options.train_config import TrainConfig
from .codebook import EMACodebook
from .family import BackboneConfig, Family
from .index_prior import IndexPrior, IndexSampler

# Conv channels where none are given: the conv preset's first two stages (16, 64), so 28x28
# images give a 7x7 grid (the preset's third stage would leave 4x4, 16 indices: too few to
# rebuild a Fashion-MNIST image)
GRID_CHANNELS = (16, 64)
# The prior's PixelCNN: 32 channels, a masked 3x3 convolution and 4 masked residual blocks
# (it sees 5 rows up, most of a 7x7 grid above a position, a PixelCNN's blind spot aside)
PRIOR_WIDTH, PRIOR_LAYERS = 32, 4
PRIOR_SEED = 0  # the order the prior's fit takes the grids in
ENCODE_BATCH = 1024


@dataclass
class VQVAEOptions:
    """The VQ-VAE's own options: its codebook, its commitment weight and, for the MLP, the
    number of indices in a code."""

    codebook_size: int = option(
        128,
        kind="int",
        low=2,
        high=2**16,
        group="model",
        metavar="K",
        help="codebook vectors: each position of a code holds one of K indices",
    )
    commitment: float = option(
        0.25,
        kind="number",
        low=0.0,
        group="model",
        metavar="BETA",
        help="weight of the commitment term pulling the encoder's outputs to their codebook "
        "vectors (the paper's beta)",
    )
    positions: int = option(
        8,
        kind="int",
        low=1,
        high=MAX_SIZE,
        group="model",
        metavar="N",
        help="mlp backbone: codebook indices in a code (the conv backbone's grid is the image's "
        "size after its stages)",
    )


_OPTIONS = {f.name: f for f in fields(VQVAEOptions)}


@dataclass
class VQVAEConfig(BackboneConfig):
    """The backbone (``code_size``: the depth D of a codebook vector), the codebook, the
    commitment weight, the MLP's positions and the prior's PixelCNN."""

    codebook_size: int = saved(option_value(_OPTIONS["codebook_size"], required=True), default=128)
    commitment: float = saved(option_value(_OPTIONS["commitment"], required=True), default=0.25)
    positions: int = saved(option_value(_OPTIONS["positions"], required=True), default=8)
    prior_width: int = saved(not_required(SIZE), default=PRIOR_WIDTH)
    prior_layers: int = saved(not_required(SIZE), default=PRIOR_LAYERS)


class VQVAENet(Family):
    """encode: (B, *input_shape) -> (B, P) codebook indices (as floats); decode: the reverse."""

    family_name = "vqvae"
    display_name = "VQ-VAE"
    options_class = VQVAEOptions
    config_class = VQVAEConfig
    vector_codes = False
    code_description = "grids of codebook indices (whole numbers from 0 to K - 1)"

    def __init__(self, config: VQVAEConfig):
        super().__init__(config)
        self.codebook = EMACodebook(config.codebook_size, config.code_size)
        grid = self.code_shape if len(self.code_shape) == 2 else (1, *self.code_shape)
        self.prior = IndexPrior(
            grid, config.codebook_size, width=config.prior_width, layers=config.prior_layers
        )
        self._training_rows: Callable[[], torch.Tensor] | None = None

    @classmethod
    def config_for(cls, backbone: BackboneConfig, config: TrainConfig) -> VQVAEConfig:
        own = config.family_options
        shared = BackboneConfig.shared_fields(backbone)
        if backbone.backbone == "conv":
            if own.positions != _OPTIONS["positions"].default:
                raise ConfigError(
                    f"positions={own.positions} sets the indices of an mlp VQ-VAE's code; the "
                    "conv backbone's grid is the image's size after its stages (7x7 for 28x28 "
                    "images and two stages): leave positions out, or change hidden"
                )
            if config.hidden is None:
                shared["hidden"] = list(GRID_CHANNELS)
        return VQVAEConfig(
            **shared,
            codebook_size=own.codebook_size,
            commitment=own.commitment,
            positions=own.positions,
        )

    def build_backbone(self, config: VQVAEConfig) -> tuple[nn.Module, nn.Module]:
        shape, depth = tuple(config.input_shape), config.code_size
        if config.backbone == "conv":
            kwargs = dict(activation=config.activation, norm=config.norm)
            encoder = ConvGridEncoder(shape, config.hidden, depth, **kwargs)
            decoder = ConvGridDecoder(
                shape, config.hidden, depth, head=config.decoder_head, **kwargs
            )
            return encoder, decoder
        sizes = [math.prod(shape), *config.hidden, config.positions * depth]
        kwargs = dict(activation=config.activation, dropout=config.dropout, norm=config.norm)
        encoder = nn.Sequential(nn.Flatten(), mlp(sizes, **kwargs))
        return encoder, nn.Sequential(mlp(sizes[::-1], **kwargs), nn.Unflatten(1, shape))

    @property
    def code_shape(self) -> tuple[int, ...]:
        """(h, w), the conv encoder's grid, or (positions,) for the MLP."""
        config = self.config
        if config.backbone == "conv":
            size = tuple(config.input_shape[1:])
            return tuple(stage_sizes(size, len(config.hidden))[-1])
        return (config.positions,)

    # -- codes -----------------------------------------------------------------------------
    def encoder_outputs(self, x: torch.Tensor) -> torch.Tensor:
        """(B, P, D): the encoder's vector at each position of the grid, in raster order."""
        out = self.encoder(x)
        if self.config.backbone == "conv":  # (B, D, h, w)
            return out.permute(0, 2, 3, 1).reshape(len(x), -1, self.config.code_size)
        return out.reshape(len(x), self.config.positions, self.config.code_size)

    def decode_vectors(self, vectors: torch.Tensor) -> torch.Tensor:
        """The decoder's raw output (B, *input_shape) from codebook vectors (B, P, D)."""
        if self.config.backbone == "conv":
            h, w = self.code_shape
            return self.decoder(vectors.reshape(len(vectors), h, w, -1).permute(0, 3, 1, 2))
        return self.decoder(vectors.reshape(len(vectors), -1))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        z = self.encoder_outputs(x)
        indices = self.codebook.nearest(z.reshape(-1, z.shape[-1]))
        return indices.reshape(len(x), -1).float()

    def decode_raw(self, z: torch.Tensor) -> torch.Tensor:
        return self.decode_vectors(self.codebook.vectors[self._indices(z)])

    def _indices(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes (B, P) as indices, or a DataError where they are not indices of the codebook."""
        size = self.config.codebook_size
        bad = ~torch.isfinite(codes) | (codes != codes.round()) | (codes < 0) | (codes >= size)
        if bool(bad.any()):
            value = float(codes[bad][0])
            raise DataError(
                f"a VQ-VAE's codes are codebook indices, whole numbers from 0 to {size - 1}; "
                f"got {value:g}"
            )
        return codes.long()

    def code_prior(self) -> IndexSampler:
        return IndexSampler(self.prior)

    def prior_description(self) -> str:
        return "its autoregressive prior over the index grids (a PixelCNN)"

    def interpolation_path(self, z_a: np.ndarray, z_b: np.ndarray, steps: int) -> np.ndarray:
        raise ConfigError(
            f"interpolation needs codes that are vectors of numbers; this {self.display_name}'s "
            f"codes are {self.code_description}, and no index lies between two others"
        )

    # -- training --------------------------------------------------------------------------
    def prepare(self, training_rows: Callable[[], torch.Tensor]) -> None:
        """Keep the way to the training rows: the prior is fitted on their grids after
        training (``settle``)."""
        self._training_rows = training_rows

    def settle(self, val_x: torch.Tensor | None, result) -> None:
        """Fit the prior on the training rows' index grids, the codebook fixed."""
        rows, self._training_rows = self._training_rows, None
        if rows is None:
            return
        was_training = self.training
        self.eval()
        device = self.codebook.vectors.device
        with torch.no_grad():
            x = rows()
            grids = [
                self.encode(x[i : i + ENCODE_BATCH].to(device)).long()
                for i in range(0, len(x), ENCODE_BATCH)
            ]
        self.prior.fit(torch.cat(grids), seed=PRIOR_SEED)
        self.train(was_training)

    def loss(
        self, x: torch.Tensor, target: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, dict]:
        """Mean over the batch of the summed reconstruction cost, plus ``commitment`` times
        the summed squared distance of the encoder's outputs to their codebook vectors."""
        target = x if target is None else target
        z = self.encoder_outputs(x)  # (B, P, D)
        _, vectors = self.codebook(z.reshape(-1, z.shape[-1]))
        vectors = vectors.reshape(z.shape)
        commitment = ((z.float() - vectors) ** 2).sum((1, 2))  # the codebook is no parameter
        quantised = z + (vectors - z).detach()  # straight-through
        raw = self.loss_input(self.decode_vectors(quantised))
        cost = reconstruction_loss(self.config.loss, raw, target, per_sample=False)
        cost = cost * target[0].numel()  # summed over a sample's values
        loss = cost + self.config.commitment * commitment.mean()
        return loss, {"reconstruction": cost.detach(), "commitment": commitment.mean().detach()}
