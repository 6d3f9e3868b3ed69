"""Autoencoder families: nn.Modules with encode(x), decode(z), loss(x) -> (loss, logs)."""

from .autoencoder import AutoencoderNet, NetConfig

MODELS = {"ae": AutoencoderNet}

__all__ = ["MODELS", "AutoencoderNet", "NetConfig"]
