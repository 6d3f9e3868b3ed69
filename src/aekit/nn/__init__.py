"""Building blocks in torch: the backbones (MLP and conv encoder/decoder pairs) every family is
built from, the reconstruction losses and likelihoods (``losses``), and the corruptions of a
denoising autoencoder (``noise``).

May import: ``aekit.errors``.
"""

from .conv import DECODER_HEADS, ConvDecoder, ConvEncoder, ConvGridDecoder, ConvGridEncoder
from .mlp import ACTIVATIONS, NORMS, make_activation, mlp

__all__ = [
    "ACTIVATIONS",
    "DECODER_HEADS",
    "NORMS",
    "ConvDecoder",
    "ConvEncoder",
    "ConvGridDecoder",
    "ConvGridEncoder",
    "make_activation",
    "mlp",
]
