"""The registry: a family's name (config.json's "model_type", the ``model`` option) -> its class.

A new family is its own file in this folder plus its class in this tuple.
"""

from __future__ import annotations

from .ae import AutoencoderNet
from .family import Family
from .vae import VAENet
from .vqvae import VQVAENet
from .wae import WAENet

MODELS: dict[str, type[Family]] = {
    cls.family_name: cls for cls in (AutoencoderNet, VAENet, WAENet, VQVAENet)
}
