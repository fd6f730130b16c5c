"""What drifts now and since when: runs of drifted windows, partial windows, recoveries."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from readiness.core.drift import ColumnDrift, DriftOptions, DriftReport
from readiness.core.drift_now import (
    WindowDrift,
    default_window,
    drift_now,
    drift_timeline,
    run_length,
    window_profiles,
)
from readiness.core.profiles import build_reference, profile_frame
from readiness.core.records import FeatureSpec

MONDAY = datetime(2026, 9, 7)


def verdict(column: str, state: str) -> ColumnDrift:
    """A column's verdict in one window: "d" drifted, "s" steady, "u" not analyzed."""
    analyzed = state != "u"
    return ColumnDrift(
        column,
        "numeric",
        "ks_chisquare",
        0.2 if analyzed else None,
        1e-9 if state == "d" else 0.5,
        1e-9 if state == "d" else 0.5,
        0.05,
        "p_value",
        state == "d",
        None,
        None,
        1000,
        1000,
        0.0,
        0.0,
    )


def weeks(**states: str) -> list[WindowDrift]:
    """Weekly windows from 7 Sep 2026; ``x="ssdd"`` gives column x's state per week."""
    n = len(next(iter(states.values())))
    timeline = []
    for i in range(n):
        columns = tuple(verdict(name, s[i]) for name, s in states.items())
        report = DriftReport(columns, 0, len(columns), 0.0, False, DriftOptions())
        timeline.append(WindowDrift(MONDAY + timedelta(weeks=i), 1000, report))
    return timeline


def week(i: int) -> datetime:
    return MONDAY + timedelta(weeks=i)


def test_a_run_starts_at_its_first_drifted_window_and_is_listed_first():
    now = drift_now(weeks(a="ssdddd", b="ssssss"), "week", None)
    assert now.drifting == ("a",) and now.columns[0].column == "a"
    assert now["a"].since == week(2) and now["a"].recovered_on is None
    assert now["b"].since is None and not now["b"].drifting
    assert now.start == week(5) and now.end == week(6) and now.complete
    assert now.period == "the week of 12 Oct 2026"


def test_a_steady_window_ends_a_run_and_a_later_one_starts_anew():
    now = drift_now(weeks(a="ddsdd"), "week", None)
    assert now["a"].since == week(3)


def test_recovered_on_is_the_first_steady_window_after_the_last_run():
    now = drift_now(weeks(a="sddssdss"), "week", None)
    assert not now["a"].drifting and now["a"].recovered_on == week(6)
    assert drift_now(weeks(a="ssss"), "week", None)["a"].recovered_on is None


def test_windows_that_could_not_be_analyzed_neither_start_nor_break_a_run():
    now = drift_now(weeks(a="sdudd"), "week", None)
    assert now["a"].since == week(1)
    assert drift_now(weeks(a="udd"), "week", None)["a"].since == week(1)
    assert not drift_now(weeks(a="ddu"), "week", None)["a"].drifting  # now is not analyzed: unknown


def test_now_is_the_latest_complete_window():
    timeline = weeks(a="ssdds")  # the last week is still running
    now = drift_now(timeline, "week", week(4) + timedelta(days=3))
    assert now.start == week(3) and now.complete and now.drifting == ("a",)
    assert now["a"].since == week(2)
    only_partial = drift_now(timeline[:1], "week", week(0) + timedelta(days=2))
    assert not only_partial.complete and only_partial.period == "the week of 7 Sep 2026 (so far)"


def test_a_window_the_log_begins_inside_of_does_not_count():
    """A log starting on a Thursday: its first week holds four weekdays, not a week's mix."""
    now = drift_now(weeks(a="dsss", b="dddd"), "week", None, complete_start=week(0) + timedelta(days=3))
    assert now["a"].recovered_on is None  # the partial week's "drift" was the mix of days
    assert now["b"].since == week(1)


def test_a_run_in_the_only_window_starts_with_the_log_not_before_it():
    """A month window over a log that began on the 22nd: drifting since the 22nd, never since the 1st."""
    start = week(0) + timedelta(days=3)
    now = drift_now(weeks(a="d"), "week", None, complete_start=start)
    assert now["a"].drifting and now["a"].since == start


def test_a_window_with_too_few_rows_is_never_the_verdict_and_breaks_no_run():
    from dataclasses import replace as with_rows

    from readiness.core.drift_now import MIN_WINDOW_ROWS

    timeline = weeks(a="sddsd")
    timeline[3] = with_rows(timeline[3], n_rows=MIN_WINDOW_ROWS - 1)  # one quiet week: a handful of rows
    timeline[4] = with_rows(timeline[4], n_rows=1)  # the log's last week holds one odd row
    now = drift_now(timeline, "week", None)
    assert now.start == week(2) and now.drifting == ("a",)  # judged on the last week with enough rows
    assert now["a"].since == week(1)
    tiny = [with_rows(w, n_rows=2) for w in weeks(a="sd")]
    assert drift_now(tiny, "week", None).start == week(1)  # none is large enough: the newest of the largest


def test_a_finished_log_judges_its_last_window_whatever_the_day():
    from readiness.core.drift_now import complete_end

    timeline = weeks(a="ssd")  # the log ends on the Wednesday of its third week
    end = week(2) + timedelta(days=3)
    assert drift_now(timeline, "week", complete_end(end, end)).start == week(
        1
    )  # a live log: not complete yet
    assert drift_now(timeline, "week", complete_end(end, end, finished=True)).drifting == ("a",)


def test_run_length_in_the_window_unit():
    assert run_length(week(0), week(22), "week") == "22 weeks"
    assert run_length(datetime(2026, 1, 1), datetime(2026, 4, 1), "month") == "3 months"
    assert run_length(datetime(2026, 1, 1), datetime(2026, 1, 2), "day") == "1 day"


def test_no_timeline_means_nothing_is_judged():
    now = drift_now([], "day", None)
    assert now.start is None and now.drifting == () and now.period == "no window"


@settings(max_examples=60, deadline=None)
@given(states=st.text(alphabet="sdu", min_size=1, max_size=30))
def test_since_and_recovered_on_follow_the_states(states):
    """Whatever the sequence: drifting now iff the latest window drifted; since is a drifted window."""
    column = drift_now(weeks(a=states), "week", None)["a"]
    assert column.drifting == (states[-1] == "d")
    if column.drifting:
        first = (column.since - MONDAY).days // 7
        assert states[first] == "d" and "s" not in states[first:]
        assert all(s != "d" for s in states[:first][-1:]) or first == 0
    else:
        assert column.since is None
        if column.recovered_on is not None:
            i = (column.recovered_on - MONDAY).days // 7
            assert states[i] == "s" and "d" in states[:i] and "d" not in states[i:]


def test_timeline_of_day_profiles_merged_into_weeks_finds_the_shift():
    rng = np.random.default_rng(6)  # seed 5 gives a chance alarm (p = 0.047) the week before the shift
    specs = [FeatureSpec("x", "numeric"), FeatureSpec("c", "categorical")]

    def day(shift: float, n: int = 400) -> pd.DataFrame:
        return pd.DataFrame({"x": rng.normal(shift, 1, n), "c": rng.choice(["a", "b"], n, p=[0.7, 0.3])})

    reference = build_reference(day(0.0, 5000), specs)
    start = datetime(2026, 9, 7)
    days = [
        (start + timedelta(days=i), profile_frame(day(0.5 if i >= 21 else 0.0), reference)) for i in range(42)
    ]
    assert default_window(days) == "week"
    windows = window_profiles(days, "week")
    assert [w for w, _ in windows] == [start + timedelta(weeks=i) for i in range(6)]
    now = drift_now(drift_timeline(reference, windows), "week", start + timedelta(days=42))
    assert now.drifting == ("x",) and now["x"].since == start + timedelta(weeks=3)
    assert not now["c"].drifting and now["c"].since is None


@pytest.mark.parametrize(
    ("days", "rows", "expected"), [(14, 600, "day"), (90, 600, "week"), (900, 10, "month")]
)
def test_default_window_prefers_weeks_for_long_logs(days, rows, expected):
    reference = build_reference(pd.DataFrame({"x": np.arange(100.0)}), [FeatureSpec("x", "numeric")])
    profile = profile_frame(pd.DataFrame({"x": np.arange(float(rows))}), reference)
    start = datetime(2026, 1, 1)
    assert default_window([(start + timedelta(days=i), profile) for i in range(days)]) == expected
