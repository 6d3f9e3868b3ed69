"""Errors aekit raises on purpose.

Every problem a user can cause (a bad file, a bad option, data that does not fit a model)
raises a subclass of ``AekitError`` with a message that names the file, shape, column or value.
The CLI prints such errors as one line and exits with status 2; anything else is a bug.
"""


class AekitError(Exception):
    """Base class for every error aekit raises about the user's input."""


class DataError(AekitError, ValueError):
    """Input data cannot be read or used: missing file, bad format, NaN, wrong shape, ..."""


class ConfigError(AekitError, ValueError):
    """An option, config file or keyword argument has a bad name or value."""


class ModelFileError(AekitError):
    """A saved run folder is missing, corrupted or does not match its config."""


class AekitDeprecationWarning(DeprecationWarning):
    """An old spelling aekit still takes; the message names the new one. The CLI prints these
    as one-line notes."""


class DistributedError(AekitError):
    """Training on several processes cannot start or go on: no process group could be made,
    the processes disagree (their data, a checkpoint's process count), or one of them was
    lost."""
