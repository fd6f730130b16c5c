"""Window starts in plain Python agree with the pandas computation they replaced on the assessment's path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from readiness.core.windows import WINDOWS, next_window_start, window_start, window_starts

MOMENTS = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1))
ZONES = st.sampled_from([None, UTC, timezone(timedelta(hours=-7)), timezone(timedelta(hours=5, minutes=30))])


@given(MOMENTS, ZONES, st.sampled_from(WINDOWS))
def test_one_start_equals_the_series_computation(moment, zone, window):
    moment = moment.replace(tzinfo=zone)
    expected = window_starts(pd.Series([moment]), window).iloc[0].to_pydatetime()
    assert window_start(moment, window) == expected
    assert window_start(moment, window).tzinfo is None


@given(MOMENTS)
def test_the_next_month_starts_where_month_begin_says(moment):
    assert (
        next_window_start(moment, "month")
        == (pd.Timestamp(moment) + pd.offsets.MonthBegin(1)).to_pydatetime()
    )
