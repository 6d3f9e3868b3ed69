"""Autoencoder families, one file each (its options, its config, its network and prior), all
keeping the contract of ``family.Family``; the registry in ``registry``; the options of a call,
shared and the family's, made into one checked config in ``options``.

May import: ``aekit.options``, ``aekit.nn``, ``aekit.data``, ``aekit.errors``.
"""

from .ae import AEOptions, AutoencoderNet, NetConfig
from .family import BackboneConfig, Family
from .options import make_config, option_fields
from .registry import MODELS
from .vae import VAEConfig, VAENet, VAEOptions

__all__ = [
    "MODELS",
    "AEOptions",
    "AutoencoderNet",
    "BackboneConfig",
    "Family",
    "NetConfig",
    "VAEConfig",
    "VAENet",
    "VAEOptions",
    "make_config",
    "option_fields",
]
