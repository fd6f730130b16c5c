"""profile_days equals profile_frame on each day's rows (sums up to rounding)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from readiness.core import day_profiles
from readiness.core.day_profiles import profile_days
from readiness.core.profiles import build_reference, profile_frame
from readiness.core.records import FeatureSpec

SPECS = [FeatureSpec("x", "numeric"), FeatureSpec("c", "categorical")]


def reference(seed: int = 0):
    rng = np.random.default_rng(seed)
    base = pd.DataFrame(
        {"x": rng.normal(size=2_000), "c": rng.choice(["a", "b", "c", "d"], 2_000, p=[0.5, 0.3, 0.15, 0.05])}
    )
    return build_reference(base, SPECS)


def assert_same_profile(got, want):
    assert got.n_rows == want.n_rows
    for name in want.columns:
        a, b = got[name], want[name]
        assert type(a) is type(b)
        if a.kind == "numeric":
            assert (a.n, a.missing, a.counts, a.minimum, a.maximum) == (
                b.n,
                b.missing,
                b.counts,
                b.minimum,
                b.maximum,
            )
            assert math.isclose(a.sum, b.sum, rel_tol=1e-9, abs_tol=1e-9)
            assert math.isclose(a.sum_sq, b.sum_sq, rel_tol=1e-9, abs_tol=1e-9) or (
                math.isinf(a.sum_sq) and math.isinf(b.sum_sq)
            )
        else:
            assert a == b


numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64), st.sampled_from([0.0, 1.5, -2.0, np.nan])
)
texts = st.one_of(
    st.none(), st.sampled_from(["a", "b", "c", "d", "new", "other", "", "7"]), st.text(max_size=3)
)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), numbers, texts), min_size=1, max_size=60))
def test_each_day_equals_profiling_its_rows_alone(rows):
    ref = reference()
    days = np.array([r[0] for r in rows])
    frame = pd.DataFrame({"x": [r[1] for r in rows], "c": pd.Series([r[2] for r in rows], dtype=object)})
    out = profile_days(frame, ref, days)
    assert list(out) == sorted(set(days.tolist()))
    for day, profile in out.items():
        assert_same_profile(profile, profile_frame(frame[days == day].reset_index(drop=True), ref))


finite = st.one_of(st.floats(-1e6, 1e6), st.sampled_from([0.0, 1.5, -2.0, 3.25]))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), finite, texts), min_size=1, max_size=60))
def test_each_day_equals_profiling_its_rows_alone_when_rows_come_day_after_day(rows):
    """An upload's usual block (rows in time order, every value a number) is summed run by run."""
    rows = sorted(rows, key=lambda r: r[0])
    test_each_day_equals_profiling_its_rows_alone.hypothesis.inner_test(rows)


def test_days_as_datetimes_and_values_that_are_not_text():
    ref = reference()
    stamps = pd.to_datetime(["2026-01-02", "2026-01-01", "2026-01-02"]).to_numpy()
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": pd.Series([1, "1", None], dtype=object)})
    out = profile_days(frame, ref, stamps)
    assert [pd.Timestamp(d) for d in out] == [pd.Timestamp("2026-01-01"), pd.Timestamp("2026-01-02")]
    second = out[list(out)[1]]["c"]
    assert second == profile_frame(frame.iloc[[0, 2]], ref)["c"]  # 1 and "1" are one category, "1"
    assert second.missing == 1


def test_many_distinct_values_are_counted_day_by_day(monkeypatch):
    monkeypatch.setattr(day_profiles, "MAX_COUNT_CELLS", 10)
    ref = reference()
    frame = pd.DataFrame({"x": np.arange(40.0), "c": [f"v{i}" for i in range(40)]})
    days = np.repeat([0, 1, 2, 3], 10)
    for day, profile in profile_days(frame, ref, days).items():
        assert_same_profile(profile, profile_frame(frame[days == day], ref))


@pytest.mark.parametrize("value", [1e200, -1e200])
def test_squares_past_float_range_are_inf_as_one_day_at_a_time(value):
    ref = reference()
    frame = pd.DataFrame({"x": [value, 1.0], "c": ["a", "b"]})
    (profile,) = profile_days(frame, ref, np.array([0, 0])).values()
    assert math.isinf(profile["x"].sum_sq) and math.isinf(profile_frame(frame, ref)["x"].sum_sq)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 400)), min_size=1, max_size=400),
    st.booleans(),
)
def test_each_day_equals_its_rows_alone_with_rare_and_hundreds_of_unseen_categories(rows, truncated):
    """Top categories, rare ones (or a truncated rare list) and more unseen values than a profile keeps by name."""
    from dataclasses import replace

    base = pd.DataFrame({"c": [f"v{i}" for i in range(60) for _ in range(60 - i)]})  # v0 commonest
    ref = build_reference(base, [FeatureSpec("c", "categorical")], top_k=10)
    column = ref["c"]
    assert column.rare and not column.rare_truncated  # v10..v59 are rare
    if truncated:
        ref = replace(ref, columns=(replace(column, rare_truncated=True, rare=()),))
    days = np.array([day for day, _ in rows])
    frame = pd.DataFrame({"c": pd.Series([f"v{v}" if v < 60 else f"new{v}" for _, v in rows], dtype=object)})
    out = profile_days(frame, ref, days)
    for day, profile in out.items():
        assert_same_profile(profile, profile_frame(frame[days == day].reset_index(drop=True), ref))
