"""Every error a user can cause, in one family under :class:`ReadinessError`.

Every message says what is wrong, what was found, and how to fix it. Pages and the command
line catch ``ReadinessError`` only and show its message; anything else is a bug and surfaces.
"""

from __future__ import annotations


def one_line(exc: BaseException) -> str:
    r"""An unexpected error in one line: its type and the first line of its message (a driver's own if wrapped).

    >>> one_line(ValueError("bad value\nmore detail"))
    'ValueError: bad value'
    """
    cause = getattr(exc, "orig", None) or exc
    first = (str(cause).strip().splitlines() or [""])[0][:300]
    return f"{type(cause).__name__}: {first}" if first else type(cause).__name__


class ReadinessError(Exception):
    """Base of every error caused by user input (files, names, settings, ranges)."""


# -- files and the log contract ---------------------------------------------------------


class ConfigError(ReadinessError):
    """A setting read from the environment has a value that cannot be used."""


class RolesConfigError(ConfigError):
    """The roles configuration cannot be read (unknown key, a role name misspelt, an identity with spaces)."""


class AccessDenied(ReadinessError):
    """The actor's role does not allow the change it asked for (checked in the analysis layer, whatever the page showed)."""


class FileFormatError(ReadinessError):
    """The uploaded bytes are not a usable CSV (empty, unreadable, too big, bad header)."""


class MappingError(ReadinessError):
    """The column mapping names a column that is missing, or maps two roles to one column."""


class DataValidationError(ReadinessError):
    """A value in the file breaks the log contract (bad timestamp, score, label, number)."""


class SchemaMismatchError(ReadinessError):
    """Live features do not match the model's baseline features."""


class LabelJoinError(ReadinessError):
    """Delayed labels could not be joined to earlier predictions."""


class ExternalLogError(ReadinessError):
    """A model's log is profiled outside the database (by a Spark job) and in it at once, or the job cannot run."""


# -- models and their settings -----------------------------------------------------------


class UnknownModelError(ReadinessError):
    """The named model does not exist in the store."""


class ModelConfigError(ReadinessError):
    """A model definition is invalid (bad name, unknown task, missing positive class)."""


class CriterionError(ReadinessError):
    """A success criterion cannot be read, does not fit the model, or does not exist."""


class ChecklistError(ReadinessError):
    """A checklist input is invalid: unknown item, N/A without reason, bad attestation."""


# -- analyses ----------------------------------------------------------------------------


class NoDataError(ReadinessError):
    """The model has no baseline, or no predictions in the chosen range."""


class WindowError(ReadinessError):
    """An unknown window size, or a range too long for hourly windows."""


class SegmentError(ReadinessError):
    """The chosen feature cannot be used for segments."""


class DriftOptionsError(ReadinessError):
    """Drift settings that cannot work: unknown method, method unfit for a column, bad threshold."""


class CalibrationError(ReadinessError):
    """Thresholds cannot be calibrated: the baseline is too short for the window, or mismatched."""


class ProfileError(ReadinessError):
    """A profile cannot be built, merged or read back (wrong column type, other baseline)."""


class MetricsError(ReadinessError):
    """An aggregate cannot be built, merged or read back, or a metric name is unknown."""


class EstimationError(ReadinessError):
    """Scores, predictions or stored estimation state cannot be used for estimation."""


class StoreError(ReadinessError):
    """The database refused or could not take a write; nothing of it was stored."""
