"""Backbones: encoder/decoder pairs the autoencoder models are built from."""

from .conv import ConvDecoder, ConvEncoder
from .mlp import ACTIVATIONS, NORMS, make_activation, mlp

__all__ = ["ACTIVATIONS", "NORMS", "ConvDecoder", "ConvEncoder", "make_activation", "mlp"]
