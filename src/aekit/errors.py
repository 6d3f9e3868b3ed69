"""Errors aekit raises, and warnings it gives, on purpose.

Every problem a user can cause (a bad file, a bad option, data that does not fit a model)
raises a subclass of ``AekitError`` with a message that names the file, shape, column or value.
The CLI prints such errors as one line and exits with status 2; anything else is a bug.
"""

import os
import sys
import warnings


class AekitError(Exception):
    """Base class for every error aekit raises about the user's input."""


class DataError(AekitError, ValueError):
    """Input data cannot be read or used: missing file, bad format, NaN, wrong shape, ..."""


class ConfigError(AekitError, ValueError):
    """An option, config file or keyword argument has a bad name or value."""


class ModelFileError(AekitError):
    """A saved run folder is missing, corrupted or does not match its config."""


class AekitWarning(UserWarning):
    """Something aekit did as asked that may not be what was meant (a column that looks like
    a saved index, denoising with a model not trained to denoise); the message says what to
    do. The CLI prints these as one-line warnings."""


class AekitDeprecationWarning(DeprecationWarning):
    """An old spelling aekit still takes; the message names the new one. The CLI prints these
    as one-line notes."""


class DistributedError(AekitError):
    """Training on several processes cannot start or go on: no process group could be made,
    the processes disagree (their data, a checkpoint's process count), or one of them was
    lost."""


def warn(message: str, category: type[Warning] | None = None) -> None:
    """Warn (an ``AekitWarning`` unless ``category`` says otherwise) at the first caller outside
    aekit: the warning then points at the user's line, Python's default filters show it (they
    hide DeprecationWarnings from libraries), and a call repeated on that line warns once."""
    warnings.warn(message, category or AekitWarning, stacklevel=_outside_aekit())


def _outside_aekit() -> int:
    """The stacklevel, for ``warn``'s ``warnings.warn``, of the first frame outside aekit."""
    package = os.path.dirname(__file__) + os.sep
    frame, level = sys._getframe(2), 2
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    return level
