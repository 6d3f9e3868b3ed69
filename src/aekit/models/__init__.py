"""Autoencoder families: one file each, all keeping the contract of ``family.Family``."""

from .ae import AutoencoderNet, NetConfig
from .family import BackboneConfig, Family
from .vae import VAEConfig, VAENet

# The registry: a family's name (config.json's "model_type") -> its class. A new family is its
# own file in this folder plus its class in this tuple.
MODELS: dict[str, type[Family]] = {cls.family_name: cls for cls in (AutoencoderNet, VAENet)}


__all__ = [
    "MODELS",
    "AutoencoderNet",
    "BackboneConfig",
    "Family",
    "NetConfig",
    "VAEConfig",
    "VAENet",
]
