"""What is drifting now, and since when: each column's run of drifted windows.

Every page, the checklist, the report and the CLI answer "is this column drifting?" from
:func:`drift_now`: the column's verdict in the latest *complete* window of a timeline (a
window whose end has passed and that the log covers), the first window of its current run
of drifted windows ("since"), and, when the run ended, the first steady window after it
("recovered on"). A window where the column could not be analyzed, or with fewer than
``MIN_WINDOW_ROWS`` rows, neither starts nor breaks a run. The default timeline is :func:`default_window` windows over the whole log, so the
Drift page opened without a range and the readiness checklist judge the same windows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from readiness.core.drift import ColumnDrift, DriftOptions, DriftReport, column_drift
from readiness.core.profiles import FrameProfile, Reference, merge_all
from readiness.core.windows import choose_window, next_window_start, window_start

TIMELINE_NOISE_REPS = 50  # distance methods only: a coarser noise floor keeps 120 windows fast
# A window with fewer rows says too little to be judged (one odd row would "drift"): it is
# never the window a verdict comes from, and it neither starts nor breaks a run.
MIN_WINDOW_ROWS = 30

DRIFT, STEADY, UNKNOWN = "drift", "steady", "unknown"


@dataclass(frozen=True)
class WindowDrift:
    """Column drift of one window against the baseline."""

    start: datetime
    n_rows: int
    report: DriftReport


@dataclass(frozen=True)
class ColumnNow:
    """One column's state in the latest complete window and the run it belongs to."""

    column: str
    kind: str
    drifting: bool
    since: datetime | None  # first window of the current drifted run
    recovered_on: datetime | None  # first steady window after the last run, when not drifting now
    latest: ColumnDrift | None  # the verdict in the latest complete window
    states: tuple[str, ...]  # per window of the timeline: "drift", "steady" or "unknown"

    @property
    def analyzed(self) -> bool:
        """Whether the latest complete window could judge this column."""
        return self.latest is not None and self.latest.analyzed

    @property
    def explanation(self) -> str:
        """The latest window's verdict in one sentence."""
        return self.latest.explanation if self.latest is not None else "No data in the latest window."


@dataclass(frozen=True)
class DriftNow:
    """Every column's drift state in the latest complete window of a timeline.

    ``complete`` is False when no window of the timeline had ended yet, so the latest
    (partial) one was judged.
    """

    window: str
    start: datetime | None
    end: datetime | None
    complete: bool
    n_rows: int
    columns: tuple[ColumnNow, ...]
    starts: tuple[datetime, ...]

    def __getitem__(self, name: str) -> ColumnNow:
        for column in self.columns:
            if column.column == name:
                return column
        raise KeyError(name)

    @property
    def drifting(self) -> tuple[str, ...]:
        """Columns drifting now, the longest-running first."""
        return tuple(c.column for c in self.columns if c.drifting)

    @property
    def n_analyzed(self) -> int:
        """Columns the latest window could judge."""
        return sum(c.analyzed for c in self.columns)

    @property
    def period(self) -> str:
        """The latest window in words, e.g. "the week of 24 Nov 2026"."""
        if self.start is None:
            return "no window"
        text = window_label(self.start, self.window)
        return text if self.complete else f"{text} (so far)"


def window_label(start: datetime, window: str) -> str:
    """A window in words.

    >>> window_label(datetime(2026, 11, 23), "week"), window_label(datetime(2026, 11, 1), "month")
    ('the week of 23 Nov 2026', 'Nov 2026')
    """
    if window == "month":
        return f"{start:%b %Y}"
    if window == "week":
        return f"the week of {day_label(start)}"
    if window == "hour":
        return f"{day_label(start)} {start:%H}:00"
    return day_label(start)


def day_label(moment: datetime) -> str:
    """A date as "1 Apr 2019" (no leading zero).

    >>> day_label(datetime(2019, 4, 1))
    '1 Apr 2019'
    """
    return f"{moment.day} {moment:%b %Y}"


def run_length(since: datetime, end: datetime, window: str) -> str:
    """How long a run from ``since`` to ``end`` lasted, in the window's unit.

    >>> run_length(datetime(2019, 4, 1), datetime(2019, 9, 2), "week")
    '22 weeks'
    """
    days = max((end - since).days, 1)
    if window == "month":
        count, unit = max(round(days / 30.44), 1), "month"
    elif window == "week":
        count, unit = max(round(days / 7), 1), "week"
    elif window == "hour":
        count, unit = max(round((end - since) / timedelta(hours=1)), 1), "hour"
    else:
        count, unit = days, "day"
    return f"{count} {unit}{'' if count == 1 else 's'}"


def default_window(days: Sequence[tuple[datetime, FrameProfile]]) -> str:
    """The window size for a log's day profiles when nobody chose one (never hours)."""
    if not days:
        return "day"
    return choose_window(
        sum(p.n_rows for _, p in days), days[0][0], days[-1][0] + timedelta(days=1), allow_hour=False
    )


DayProfiles = tuple[tuple[datetime, FrameProfile], ...]


def window_groups(
    days: Sequence[tuple[datetime, FrameProfile]], window: str
) -> list[tuple[datetime, DayProfiles]]:
    """Day profiles grouped by the window (day, week or month) they fall in, in order, not yet merged."""
    if window == "day":
        return [(day, ((day, profile),)) for day, profile in days]
    groups: dict[datetime, list[tuple[datetime, FrameProfile]]] = {}
    for day in days:
        groups.setdefault(window_start(day[0], window), []).append(day)
    return [(start, tuple(group)) for start, group in groups.items()]


def window_profiles(
    days: Sequence[tuple[datetime, FrameProfile]], window: str
) -> list[tuple[datetime, FrameProfile]]:
    """Day profiles merged into the windows (day, week or month) they fall in, in order."""
    if window == "day":
        return list(days)
    return [(start, merge_all(p for _, p in group)) for start, group in window_groups(days, window)]


def drift_timeline(
    reference: Reference,
    windows: Sequence[tuple[datetime, FrameProfile]],
    options: DriftOptions = DriftOptions(),
) -> tuple[WindowDrift, ...]:
    """Column drift of every window against the baseline."""
    return tuple(window_drift(reference, s, p, options) for s, p in windows)


def window_drift(
    reference: Reference, start: datetime, profile: FrameProfile, options: DriftOptions = DriftOptions()
) -> WindowDrift:
    """Column drift of one window of a timeline against the baseline (a coarser noise floor for distances)."""
    opts = replace(options, noise_reps=min(options.noise_reps, TIMELINE_NOISE_REPS))
    return WindowDrift(start, profile.n_rows, column_drift(reference, profile, opts))


def complete_end(log_end: datetime, as_of: datetime, finished: bool = False) -> datetime | None:
    """Data is complete up to the end of the log or the start of ``as_of``'s day, whichever is earlier.

    A finished (historical) log gets no more rows, so every window it has is complete (None).

    >>> complete_end(datetime(2019, 9, 5), datetime(2026, 12, 2, 14))
    datetime.datetime(2019, 9, 5, 0, 0)
    >>> complete_end(datetime(2019, 9, 5), datetime(2019, 9, 4, 14), finished=True) is None
    True
    """
    if finished:
        return None
    return min(log_end, datetime.combine(as_of.date(), datetime.min.time()))


def drift_now(
    timeline: Sequence[WindowDrift],
    window: str,
    complete_end: datetime | None,
    complete_start: datetime | None = None,
) -> DriftNow:
    """Each column's state in the latest window ending by ``complete_end``, with its run.

    ``complete_end`` is when the data is complete up to: the end of the log's last day, or
    the start of today for a log still being written, whichever is earlier (None: every
    window counts as complete). A window starting before ``complete_start`` (a week or month
    the log or the range begins inside of) compares a different mix of days with the
    baseline, so it neither starts nor breaks a run.
    """
    if not timeline:
        return DriftNow(window, None, None, False, 0, (), ())
    ends = [next_window_start(w.start, window) for w in timeline]
    complete = [i for i, end in enumerate(ends) if complete_end is None or end <= complete_end]
    small = {i for i, w in enumerate(timeline) if w.n_rows < MIN_WINDOW_ROWS}  # too few rows to judge
    judged = [i for i in complete if i not in small]
    if judged:
        latest = judged[-1]
    else:  # no window is both complete and large enough: the largest one, complete ones first
        latest = max(complete or range(len(timeline)), key=lambda i: (timeline[i].n_rows, i))
    partial = {i for i, w in enumerate(timeline) if complete_start is not None and w.start < complete_start}
    partial |= small
    names = [c.column for c in timeline[latest].report.columns]
    columns = [_column_now(name, timeline, latest, partial - {latest}) for name in names]
    if (
        complete_start is not None
    ):  # a run in a window the log begins inside of starts with the log, not before it
        columns = [
            replace(c, since=complete_start) if c.since is not None and c.since < complete_start else c
            for c in columns
        ]
    order = sorted(columns, key=lambda c: (not c.drifting, c.since or datetime.max, -_severity(c), c.column))
    return DriftNow(
        window,
        timeline[latest].start,
        ends[latest],
        bool(complete),
        timeline[latest].n_rows,
        tuple(order),
        tuple(w.start for w in timeline),
    )


def _severity(column: ColumnNow) -> float:
    return column.latest.severity if column.latest is not None else -1.0


def _state(report: DriftReport, name: str) -> tuple[str, ColumnDrift | None]:
    try:
        c = report[name]
    except KeyError:
        return UNKNOWN, None
    if not c.analyzed:
        return UNKNOWN, c
    return (DRIFT if c.drifted else STEADY), c


def _column_now(name: str, timeline: Sequence[WindowDrift], latest: int, partial: set[int]) -> ColumnNow:
    judged = []
    for i, w in enumerate(timeline):
        state, verdict = _state(w.report, name)
        judged.append((UNKNOWN if i in partial else state, verdict))
    states = tuple(state for state, _ in judged)
    verdict = judged[latest][1]
    kind = next((c.kind for _, c in judged if c is not None), "")
    starts = [w.start for w in timeline]
    drifting = states[latest] == DRIFT
    since = recovered = None
    if drifting:
        first = latest
        for i in range(latest, -1, -1):
            if states[i] == STEADY:
                break
            if states[i] == DRIFT:
                first = i
        since = starts[first]
    else:
        last_drift = next((i for i in range(latest, -1, -1) if states[i] == DRIFT), None)
        if last_drift is not None:
            recovered = next(
                (starts[i] for i in range(last_drift + 1, latest + 1) if states[i] == STEADY), None
            )
    return ColumnNow(name, kind, drifting, since, recovered, verdict, states)
