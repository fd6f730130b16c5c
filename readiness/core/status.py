"""The statuses the product judges with, as enums that carry their order and their wording.

Values are the machine words (what JSON output and the store carry, snake_case); ``label`` is
what people read; ``rank`` orders them worst first. Each enum also accepts its label when
read back (``ReadinessStatus.parse("Not ready") is ReadinessStatus.NOT_READY``), so records
written by earlier versions still read.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Self


class _Worded(StrEnum):
    """A status whose members carry a label for people and a rank (0 = worst)."""

    label: str
    rank: int

    def __new__(cls, value: str, label: str, rank: int) -> _Worded:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        member.rank = rank
        return member

    @classmethod
    def _missing_(cls, value: Any) -> _Worded | None:
        for member in cls:
            if isinstance(value, str) and value.strip().lower() in (member.label.lower(), member.value):
                return member
        return None

    @classmethod
    def parse(cls, value: Any) -> Self:
        """The member whose value or label is ``value``; ValueError names the choices otherwise."""
        for member in cls:
            if isinstance(value, str) and value.strip().lower() in (member.label.lower(), member.value):
                return member
        raise ValueError(f"{value!r} is not a {cls.__name__}: use one of {', '.join(m.value for m in cls)}.")


class ReadinessStatus(_Worded):
    """A model's readiness: from its score's band, or Not ready when a critical item fails.

    >>> ReadinessStatus.AT_RISK.label, ReadinessStatus.parse("Ready").rank
    ('At risk', 2)
    """

    NOT_READY = ("not_ready", "Not ready", 0)
    AT_RISK = ("at_risk", "At risk", 1)
    READY = ("ready", "Ready", 2)


class ItemStatus(_Worded):
    """One checklist item's outcome; ``points`` is what it scores (None: not counted)."""

    FAIL = ("fail", "Fail", 0)
    EXPIRED = ("expired", "Expired", 1)
    UNKNOWN = ("unknown", "Unknown", 2)
    ATTESTED = ("attested", "Attested", 3)
    PASS = ("pass", "Pass", 4)
    NOT_APPLICABLE = ("not_applicable", "Not applicable", 5)

    @property
    def points(self) -> float | None:
        """Pass 1, attested 0.5, fail/unknown/expired 0, not applicable None (leaves the denominator).

        >>> ItemStatus.ATTESTED.points, ItemStatus.NOT_APPLICABLE.points
        (0.5, None)
        """
        return _POINTS[self]

    @property
    def holds_back(self) -> bool:
        """True for the statuses that keep a model from its full score (fail, unknown, expired)."""
        return self in (ItemStatus.FAIL, ItemStatus.UNKNOWN, ItemStatus.EXPIRED)


_POINTS = {
    ItemStatus.PASS: 1.0,
    ItemStatus.ATTESTED: 0.5,
    ItemStatus.FAIL: 0.0,
    ItemStatus.UNKNOWN: 0.0,
    ItemStatus.EXPIRED: 0.0,
    ItemStatus.NOT_APPLICABLE: None,
}


class CriterionStatus(_Worded):
    """One window judged against a success criterion: never a pass without enough data.

    >>> CriterionStatus.parse("insufficient data") is CriterionStatus.INSUFFICIENT
    True
    """

    FAIL = ("fail", "fail", 0)
    INSUFFICIENT = ("insufficient_data", "insufficient data", 1)
    PASS = ("pass", "pass", 2)


class CriteriaState(_Worded):
    """A model's success criteria taken together, in its newest judged windows."""

    FAILING = ("failing", "failing", 0)
    INSUFFICIENT = ("insufficient_data", "insufficient data", 1)
    NO_CRITERIA = ("no_criteria", "no criteria", 2)
    MET = ("met", "met", 3)


class Freshness(_Worded):
    """How recent a model's newest prediction is, against the log's own end for a historical log."""

    NO_PREDICTIONS = ("no_predictions", "no predictions yet", 0)
    STALE = ("stale", "stale", 1)
    FRESH = ("fresh", "fresh", 2)
    HISTORICAL = ("historical", "historical log", 3)  # a finished log: judged as of its own end
