"""aekit: autoencoders as easy as PCA.

>>> import aekit
>>> model = aekit.train("digits", code_size=16, progress=False)
>>> codes = model.encode(x)          # (n, 16)
>>> x_hat = model.decode(codes)      # back in the data's own units
"""

from ._version import __version__
from .api import evaluate, load, report, train
from .errors import AekitError, ConfigError, DataError, ModelFileError
from .sweeps.driver import sweep
from .trained.autoencoder import Autoencoder

__all__ = [
    "__version__",
    "AekitError",
    "Autoencoder",
    "ConfigError",
    "DataError",
    "ModelFileError",
    "evaluate",
    "load",
    "report",
    "sweep",
    "train",
]
