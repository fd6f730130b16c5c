"""Time windows over a prediction log: which size suits the volume, and where each starts.

Profiles are stored per UTC day; weeks (starting Monday) and months are merges of days.
Hour windows are profiled from raw rows on demand, for short ranges only.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from readiness.core.lazy import lazy_module
from readiness.errors import NoDataError, WindowError

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

WINDOWS = ("hour", "day", "week", "month")
STORED_WINDOW = "day"
MIN_ROWS_PER_WINDOW = 500
MAX_WINDOWS = 120
MAX_HOUR_RANGE = timedelta(days=3)
WEEKS_FROM_DAYS = 28


def check_window(window: str) -> str:
    """Return the window name if known, else raise WindowError listing the choices."""
    if window not in WINDOWS:
        raise WindowError(f"Unknown window {window!r}: choose one of {', '.join(WINDOWS)}.")
    return window


def window_starts(timestamps: pd.Series, window: str) -> pd.Series:
    """The start of the window each timestamp falls in (naive UTC), e.g. Monday 00:00 for weeks.

    >>> ts = pd.Series(pd.to_datetime(["2026-11-04 13:20", "2026-11-30 01:00"]))
    >>> window_starts(ts, "week").dt.strftime("%Y-%m-%d").tolist()
    ['2026-11-02', '2026-11-30']
    """
    check_window(window)
    ts = pd.to_datetime(timestamps)
    if getattr(ts.dt, "tz", None) is not None:
        ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    if window == "hour":
        return ts.dt.floor("h")
    if window == "day":
        return ts.dt.floor("D")
    if window == "week":
        day = ts.dt.floor("D")
        return day - pd.to_timedelta(day.dt.day_of_week, unit="D")
    return ts.dt.to_period("M").dt.start_time


def window_start(moment: datetime, window: str) -> datetime:
    """The start of the window containing one moment.

    >>> window_start(datetime(2026, 11, 22, 15, 5), "month")
    datetime.datetime(2026, 11, 1, 0, 0)
    """
    check_window(window)  # what window_starts computes, in plain Python (no pandas on the assessment's path)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    hour = moment.hour if window == "hour" else 0
    start = datetime(moment.year, moment.month, 1 if window == "month" else moment.day, hour)
    return start - timedelta(days=start.weekday()) if window == "week" else start


def next_window_start(start: datetime, window: str) -> datetime:
    """The start of the window after the one starting at ``start``.

    >>> next_window_start(datetime(2026, 12, 1), "month")
    datetime.datetime(2027, 1, 1, 0, 0)
    """
    check_window(window)
    if window == "hour":
        return start + timedelta(hours=1)
    if window == "day":
        return start + timedelta(days=1)
    if window == "week":
        return start + timedelta(days=7)
    year, month = divmod(start.year * 12 + start.month, 12)  # the next month (pd.offsets.MonthBegin)
    return start.replace(year=year, month=month + 1, day=1)


def choose_window(n_rows: int, first: datetime | None, last: datetime | None, allow_hour: bool = True) -> str:
    """Pick the window size that gives enough rows per window and not too many windows.

    Logs of four weeks or more get weeks when each week holds enough rows: daily windows
    on a log with a weekly rhythm would call every weekend "drift". ``allow_hour=False``
    never picks hours (they are profiled from raw rows, so only on request).

    >>> choose_window(200_000, datetime(2026, 11, 1), datetime(2026, 11, 15))
    'day'
    >>> choose_window(200_000, datetime(2026, 8, 1), datetime(2026, 11, 1))
    'week'
    >>> choose_window(2_000, datetime(2016, 1, 1), datetime(2026, 11, 1))
    'month'
    """
    if n_rows == 0 or first is None or last is None:
        return "day"
    span = max(last - first, timedelta(hours=1))
    days = span / timedelta(days=1)
    weekly = n_rows / max(days / 7, 1)
    if allow_hour and span <= MAX_HOUR_RANGE and n_rows / max(days * 24, 1) >= MIN_ROWS_PER_WINDOW:
        return "hour"
    if days >= WEEKS_FROM_DAYS and days / 7 <= MAX_WINDOWS and weekly >= MIN_ROWS_PER_WINDOW / 5:
        return "week"
    if n_rows / max(days, 1) >= MIN_ROWS_PER_WINDOW and days <= MAX_WINDOWS:
        return "day"
    if days / 7 <= MAX_WINDOWS * 4 and weekly >= MIN_ROWS_PER_WINDOW / 5:
        return "week"
    return "month"


def date_range(
    start: date | datetime | None, end: date | datetime | None
) -> tuple[datetime | None, datetime | None]:
    """[lo, hi) of a range whose dates are inclusive (a datetime is taken as it is; None is open).

    >>> date_range(date(2026, 11, 1), date(2026, 11, 30))
    (datetime.datetime(2026, 11, 1, 0, 0), datetime.datetime(2026, 12, 1, 0, 0))
    """
    lo, hi = _moment(start), _moment(end, days=1)
    if lo is not None and hi is not None and hi <= lo:
        raise NoDataError(
            f"The range ends ({hi - timedelta(days=1):%Y-%m-%d}) before it starts ({lo:%Y-%m-%d}); swap the dates."
        )
    return lo, hi


def _moment(value: date | datetime | None, days: int = 0) -> datetime | None:
    """A datetime or None unchanged; a date as its midnight, ``days`` later."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time()) + timedelta(days=days)
