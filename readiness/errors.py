"""The one family of errors a user can cause.

Every message says what is wrong, what was found, and how to fix it. Pages catch
``ReadinessError`` only and show it; anything else is a bug and surfaces.
"""

from __future__ import annotations


class ReadinessError(Exception):
    """Base of every error caused by user input (files, names, settings)."""


class FileFormatError(ReadinessError):
    """The uploaded bytes are not a usable CSV (empty, unreadable, too big, bad header)."""


class MappingError(ReadinessError):
    """The column mapping names a column that is missing, or maps two roles to one column."""


class DataValidationError(ReadinessError):
    """A value in the file breaks the log contract (bad timestamp, score, label, number)."""


class SchemaMismatchError(ReadinessError):
    """Live features do not match the model's baseline features."""


class UnknownModelError(ReadinessError):
    """The named model does not exist in the store."""


class ModelConfigError(ReadinessError):
    """A model definition is invalid (bad name, unknown task, missing positive class)."""


class LabelJoinError(ReadinessError):
    """Delayed labels could not be joined to earlier predictions."""
