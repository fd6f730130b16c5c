"""What is worth telling a model's owner: snapshots of its readiness, and the changes between two.

A :class:`Snapshot` is what ``watch`` keeps of a model's assessment: its status, its score and
the problems it has now, each a :class:`Problem` keyed by kind and key (a drifting column, a
failing criterion, a critical item, a stale log, an attestation about to expire). Comparing
two snapshots (:func:`changes_between`) gives one :class:`Change` per thing that started,
changed or ended: that is what a notification says. Pure functions: no database, no network.

>>> before = Snapshot("fraud", "ready", 88.0, ())
>>> drift = Problem("drift", "amount", "Drift in amount since 2026-11-20", ("PSI 0.31",), "Drift", "warning")
>>> after = Snapshot("fraud", "at_risk", 62.0, (drift,))
>>> [(c.kind, c.event) for c in changes_between(before, after)]
[('status', 'changed'), ('drift', 'started')]
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, time

from readiness.core.status import ReadinessStatus
from readiness.errors import ConfigError

KINDS = ("status", "critical_item", "criterion", "drift", "stale", "attestation")
KIND_WORDS = {
    "status": "Readiness status",
    "critical_item": "Critical item",
    "criterion": "Success criterion",
    "drift": "Drift",
    "stale": "Log freshness",
    "attestation": "Attestation",
}
EVENTS = ("started", "changed", "ended", "reminder")
SEVERITIES = ("critical", "warning", "info")
QUIET = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a model now: what, a one-line title, the evidence, where to see it.

    ``state`` tells two versions of the same problem apart (an attestation "expiring", then
    "expired"); a change of state is a change worth hearing about.
    """

    kind: str
    key: str
    title: str
    evidence: tuple[str, ...] = ()
    page: str = "Checklist"
    severity: str = "warning"
    state: str = ""
    ended: str = ""  # the title once it is over, e.g. "Drift in amount ended"

    @property
    def ident(self) -> tuple[str, str]:
        """The problem's identity across snapshots: (kind, key)."""
        return self.kind, self.key


@dataclass(frozen=True)
class Snapshot:
    """What watch keeps of one assessment: status (a ReadinessStatus value), score and problems."""

    model: str
    status: str
    score: float | None
    problems: tuple[Problem, ...] = ()
    as_of: str = ""  # ISO time of the assessment
    blockers: tuple[str, ...] = ()  # what holds the score back, in words (the checklist's blockers)

    def to_json(self) -> str:
        """The snapshot as JSON text, for the store."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Snapshot:
        """Read a snapshot written by :meth:`to_json`."""
        data = json.loads(text)
        problems = tuple(
            Problem(**{**p, "evidence": tuple(p.get("evidence", ()))}) for p in data.get("problems", ())
        )
        return cls(
            data["model"],
            data["status"],
            data.get("score"),
            problems,
            data.get("as_of", ""),
            tuple(data.get("blockers", ())),
        )

    @property
    def status_label(self) -> str:
        """The status as people read it ("At risk")."""
        return ReadinessStatus.parse(self.status).label


@dataclass(frozen=True)
class Change:
    """One change worth a notification: what changed on which model, in words, with its evidence.

    ``problem`` is True when the change starts (or continues) something wrong, False when it
    ends one; ``page`` is the app page that shows it.
    """

    model: str
    kind: str
    key: str
    event: str
    title: str
    severity: str
    status: str
    score: float | None
    evidence: tuple[str, ...] = ()
    page: str = "Checklist"
    problem: bool = True

    @property
    def ident(self) -> tuple[str, str, str]:
        """(model, kind, key): changes with the same ident are about the same thing."""
        return self.model, self.kind, self.key

    @property
    def status_label(self) -> str:
        """The model's status after the change, as people read it."""
        return ReadinessStatus.parse(self.status).label

    @property
    def score_text(self) -> str:
        """The score after the change: "62" or "n/a"."""
        return "n/a" if self.score is None else f"{self.score:.0f}"


def changes_between(previous: Snapshot | None, current: Snapshot) -> tuple[Change, ...]:
    """Every change from ``previous`` to ``current``: status first, then problems started, changed, ended.

    Without a previous snapshot (the first watch of a model), what is wrong now is news: a
    status other than Ready and every current problem come out as started.
    """
    out: list[Change] = []
    if previous is None:
        if current.status != ReadinessStatus.READY.value:
            out.append(_status_change(None, current))
    elif previous.status != current.status:
        out.append(_status_change(previous, current))
    before = {p.ident: p for p in previous.problems} if previous is not None else {}
    now = {p.ident: p for p in current.problems}
    for ident, problem in now.items():
        old = before.get(ident)
        if old is None:
            out.append(_problem_change(current, problem, "started"))
        elif old.state != problem.state:
            out.append(_problem_change(current, problem, "changed"))
    for ident, problem in before.items():
        if ident not in now:
            out.append(_ended(current, problem))
    return tuple(out)


def _status_change(previous: Snapshot | None, current: Snapshot) -> Change:
    label = current.status_label
    score = "n/a" if current.score is None else f"{current.score:.0f}"
    if previous is None:
        title = f"{current.model} is {label} ({score}) when first watched"
    else:
        title = f"{current.model}: {previous.status_label} -> {label} ({score})"
    status = ReadinessStatus.parse(current.status)
    severity = {ReadinessStatus.NOT_READY: "critical", ReadinessStatus.AT_RISK: "warning"}.get(status, "info")
    critical = tuple(p.title for p in current.problems if p.severity == "critical")
    reasons = tuple(dict.fromkeys((*critical, *current.blockers))) or tuple(p.title for p in current.problems)
    return Change(
        current.model,
        "status",
        "status",
        "changed" if previous is not None else "started",
        title,
        severity,
        current.status,
        current.score,
        reasons[:5],
        "Checklist",
        problem=status is not ReadinessStatus.READY,
    )


def _problem_change(current: Snapshot, problem: Problem, event: str) -> Change:
    return Change(
        current.model,
        problem.kind,
        problem.key,
        event,
        f"{current.model}: {problem.title}",
        problem.severity,
        current.status,
        current.score,
        problem.evidence,
        problem.page,
        problem=True,
    )


def _ended(current: Snapshot, problem: Problem) -> Change:
    title = problem.ended or f"{KIND_WORDS.get(problem.kind, problem.kind)} {problem.key}: recovered"
    return Change(
        current.model,
        problem.kind,
        problem.key,
        "ended",
        f"{current.model}: {title}",
        "info",
        current.status,
        current.score,
        (),
        problem.page,
        problem=False,
    )


# --------------------------------------------------------------------------- policy


@dataclass(frozen=True)
class QuietHours:
    """A daily span of UTC hours in which nothing is sent (held until it ends); may wrap midnight.

    >>> quiet = QuietHours.parse("22:00-07:00")
    >>> quiet.contains(datetime(2026, 12, 2, 23, 30)), quiet.contains(datetime(2026, 12, 2, 12, 0))
    (True, False)
    """

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """Read "HH:MM-HH:MM" (UTC); ConfigError names the text otherwise."""
        match = QUIET.match(text or "")
        try:
            if match is None:
                raise ValueError(text)
            return cls(time(int(match[1]), int(match[2])), time(int(match[3]), int(match[4])))
        except ValueError:
            raise ConfigError(
                f"Quiet hours {text!r} are not a span of UTC times (HH:MM-HH:MM, no offset); write e.g. "
                "22:00-07:00, or leave them empty."
            ) from None

    def contains(self, moment: datetime) -> bool:
        """Whether ``moment`` (naive UTC) falls in the quiet span."""
        now = moment.time()
        if self.start <= self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    @property
    def text(self) -> str:
        """The span as written: "22:00-07:00"."""
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class AlertPolicy:
    """How often to speak: remind while a problem lasts, digest when many change, hold in quiet hours.

    ``remind_hours`` 0 turns reminders off; a run with ``digest_from`` or more notifications
    sends one digest per channel instead of one message each.
    """

    remind_hours: float = 24.0
    digest_from: int = 5
    quiet: QuietHours | None = None
    retry_hours: float = 24.0  # a failed delivery is retried by later runs for this long
    expiry_warning_days: int = 7

    def __post_init__(self) -> None:
        if not 0 <= self.remind_hours <= 24 * 365:
            raise ConfigError(
                f"Reminder period {self.remind_hours!r} hours is out of range; use 0 (off) to 8760 hours."
            )
        if not 0 < self.retry_hours <= 24 * 30:
            raise ConfigError(
                f"Retry period {self.retry_hours!r} hours is out of range; use more than 0 and up to 720 hours."
            )
        if not 0 <= self.expiry_warning_days <= 365:
            raise ConfigError(
                f"Attestation warning of {self.expiry_warning_days!r} days is out of range; use 0 to 365 days."
            )
        if not 2 <= self.digest_from <= 10_000:
            raise ConfigError(
                f"Digest threshold {self.digest_from!r} is out of range; use 2 or more notifications in one run."
            )


@dataclass(frozen=True)
class Notification:
    """What one message carries: one change, or a digest of several (``changes`` holds them all)."""

    changes: tuple[Change, ...]
    links: tuple[str, ...]
    alert_ids: tuple[int, ...]
    reminders: tuple[bool, ...] = field(default=())

    @property
    def is_digest(self) -> bool:
        """True when the message carries more than one change."""
        return len(self.changes) > 1

    @property
    def subject(self) -> str:
        """One line for an email subject or a chat headline."""
        if self.is_digest:
            models = sorted({c.model for c in self.changes})
            return f"[readiness] {len(self.changes)} changes on {len(models)} model(s): {', '.join(models)}"
        change = self.changes[0]
        prefix = "Reminder: " if self.reminders and self.reminders[0] else ""
        return f"[readiness] {prefix}{change.title}"


def batch(items: Sequence[Notification], digest_from: int) -> tuple[Notification, ...]:
    """The messages of one run for one channel: each on its own, or one digest from ``digest_from`` on."""
    if len(items) < digest_from:
        return tuple(items)
    return (
        Notification(
            tuple(c for n in items for c in n.changes),
            tuple(link for n in items for link in n.links),
            tuple(i for n in items for i in n.alert_ids),
            tuple(r for n in items for r in (n.reminders or (False,) * len(n.changes))),
        ),
    )
