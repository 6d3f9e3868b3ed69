"""aekit: autoencoders as easy as PCA.

>>> import aekit
>>> model = aekit.train("digits", code_size=16, progress=False)
>>> codes = model.encode(x)          # (n, 16)
>>> x_hat = model.decode(codes)      # back in the data's own units
"""

__version__ = "0.1.0"

from .api import evaluate, load, train  # noqa: E402
from .errors import AekitError, ConfigError, DataError, ModelFileError  # noqa: E402
from .model import Autoencoder  # noqa: E402

__all__ = [
    "AekitError",
    "Autoencoder",
    "ConfigError",
    "DataError",
    "ModelFileError",
    "evaluate",
    "load",
    "train",
]
