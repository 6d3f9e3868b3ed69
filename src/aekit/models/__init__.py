"""Autoencoder families: nn.Modules with encode(x), decode(z), loss(x) -> (loss, logs)."""

from .autoencoder import AutoencoderNet, NetConfig
from .vae import VAEConfig, VAENet

MODELS = {"ae": AutoencoderNet, "vae": VAENet}

__all__ = ["MODELS", "AutoencoderNet", "NetConfig", "VAEConfig", "VAENet"]
