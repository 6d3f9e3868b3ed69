"""The trained model users hold (``autoencoder.Autoencoder``): encode, decode, reconstruct,
sample, save and load; the checks of what it is given (``inputs``), files too large to hold
(``streamed``) and its ONNX export (``onnx_export``).

May import: ``aekit.runs``, ``aekit.models``, ``aekit.options``, ``aekit.nn``, ``aekit.data``,
``aekit.atomic_files``, ``aekit.errors``, ``aekit._version``.
"""

from .autoencoder import Autoencoder

__all__ = ["Autoencoder"]
