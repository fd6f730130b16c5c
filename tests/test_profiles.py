"""Mergeable column profiles: bins, categories, missing values, merging, dict round trips."""

from __future__ import annotations

import itertools
import json
import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from readiness.core import profiles
from readiness.core.profiles import (
    CategoricalProfile,
    FrameProfile,
    NumericProfile,
    ProfileError,
    Reference,
    bin_index,
    build_reference,
    empty_profile,
    merge,
    merge_all,
    profile_frame,
    profile_from_dict,
    subtract,
)
from readiness.core.records import FeatureSpec
from readiness.errors import ReadinessError, SchemaMismatchError

NUM = FeatureSpec("x", "numeric")
CAT = FeatureSpec("c", "categorical")
SETTINGS = settings(max_examples=40, deadline=None)


def _frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    x[rng.random(n) < 0.1] = np.nan
    c = np.array(["a", "b", "c", "d"], dtype=object)[rng.integers(0, 4, n)]
    c[rng.random(n) < 0.05] = None
    return pd.DataFrame({"x": x, "c": c})


# --------------------------------------------------------------------------- references


def test_numeric_edges_are_quantiles_with_empty_outer_bins():
    frame = _frame(20_000)
    ref = build_reference(frame, [NUM, CAT])
    edges = np.array(ref["x"].edges)
    values = frame["x"].dropna().to_numpy()
    assert np.all(np.diff(edges) > 0)
    assert edges[0] == values.min() and edges[-1] == np.nextafter(values.max(), np.inf)
    assert 100 <= ref["x"].n_bins <= 112  # about 100 bins, finer in the tails
    counts = ref.baseline["x"].counts
    assert counts[0] == 0 and counts[-1] == 0  # outer bins hold only values outside the baseline range
    assert sum(counts) == len(values)
    levels = profiles.quantile_levels()
    assert len(edges) == len(levels) + 2  # min, one edge per level, just above max
    assert np.array_equal(edges[1:-1], np.quantile(values, levels, method="inverted_cdf"))


def test_baseline_profile_equals_profiling_the_baseline_again():
    frame = _frame(5000, seed=3)
    ref = build_reference(frame, [NUM, CAT])
    again = profile_frame(frame, ref)
    assert again.columns["x"].counts == ref.baseline["x"].counts
    assert again.columns["x"].sum == pytest.approx(ref.baseline["x"].sum, abs=1e-9)
    assert again.columns["c"] == ref.baseline["c"]
    assert again.n_rows == ref.baseline.n_rows == 5000


def test_few_distinct_values_get_one_bin_each():
    frame = pd.DataFrame({"x": [0.0, 1.0, 1.0, 2.0, 2.0, 2.0]})
    ref = build_reference(frame, [NUM])
    assert ref["x"].discrete and ref["x"].n_unique == 3
    assert ref.baseline["x"].counts == (0, 1, 2, 3, 0)
    current = profile_frame(pd.DataFrame({"x": [-1.0, 0.0, 0.5, 2.0, 2.5]}), ref)["x"]
    assert current.counts == (1, 2, 0, 1, 1)  # 0.5 shares the bin of 0.0; 2.5 is above the range


def test_categories_top_k_other_and_unseen():
    frame = pd.DataFrame({"c": ["a"] * 5 + ["b"] * 3 + ["c"] * 2 + ["d"]})
    ref = build_reference(frame, [CAT], top_k=2)
    assert ref["c"].categories == ("a", "b")
    assert ref["c"].rare == frozenset({"c", "d"}) and ref["c"].n_unique == 4
    assert ref.baseline["c"] == CategoricalProfile(11, 0, (5, 3), other=3)
    current = profile_frame(pd.DataFrame({"c": ["a", "d", "new", "new", "z", None]}), ref)["c"]
    assert current == CategoricalProfile(5, 1, (1, 0), other=1, unseen=(("new", 2), ("z", 1)))
    assert current.vector().tolist() == [1, 0, 1, 3]


def test_categories_ties_break_by_name():
    frame = pd.DataFrame({"c": ["b", "a", "c", "c"]})
    assert build_reference(frame, [CAT])["c"].categories == ("c", "a", "b")


def test_too_many_rare_categories_count_as_other(monkeypatch):
    monkeypatch.setattr(profiles, "MAX_RARE", 2)
    frame = pd.DataFrame({"c": ["a", "a", "b", "c", "d", "e"]})
    ref = build_reference(frame, [CAT], top_k=1)
    assert ref["c"].rare_truncated
    current = profile_frame(pd.DataFrame({"c": ["a", "e", "never"]}), ref)["c"]
    assert current.other == 2 and current.unseen_total == 0


def test_non_string_categories_become_strings():
    frame = pd.DataFrame({"c": pd.Series([1, 2, 2, "2", None], dtype=object)})
    ref = build_reference(frame, [CAT])
    assert ref["c"].categories == ("2", "1")
    assert ref.baseline["c"] == CategoricalProfile(4, 1, (3, 1))


# --------------------------------------------------------------------------- profiling


def test_missing_values_are_counted_never_binned():
    ref = build_reference(pd.DataFrame({"x": [0.0, 1.0, 2.0], "c": ["a", "b", "a"]}), [NUM, CAT])
    frame = pd.DataFrame({"x": [np.nan, np.inf, -np.inf, 1.0], "c": [None, np.nan, "a", "b"]})
    prof = profile_frame(frame, ref)
    assert prof["x"].n == 1 and prof["x"].missing == 3 and sum(prof["x"].counts) == 1
    assert prof["c"].n == 2 and prof["c"].missing == 2
    assert prof["x"].missing_share == 0.75


@pytest.mark.parametrize("dtype", ["float64", "Float64", "float32", "Int64"])
def test_numeric_dtypes(dtype):
    ref = build_reference(pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]}), [NUM])
    values = pd.Series([1, None, 3, 2], dtype=dtype)
    prof = profile_frame(pd.DataFrame({"x": values}), ref)["x"]
    assert (prof.n, prof.missing, prof.minimum, prof.maximum) == (3, 1, 1.0, 3.0)
    assert prof.mean == pytest.approx(2.0)


@pytest.mark.parametrize("dtype", [object, "str", "category"])
def test_categorical_dtypes(dtype):
    ref = build_reference(pd.DataFrame({"c": ["a", "b", "b"]}), [CAT])
    values = pd.Series(["b", None, "a", "q"], dtype=dtype)
    prof = profile_frame(pd.DataFrame({"c": values}), ref)["c"]
    assert prof == CategoricalProfile(3, 1, (1, 1), unseen=(("q", 1),))


@pytest.mark.parametrize(
    "values",
    [[], [None] * 4, [7.0] * 4],
    ids=["empty", "all-missing", "constant"],
)
def test_empty_all_missing_and_constant_baselines(values):
    frame = pd.DataFrame({"x": pd.Series(values, dtype="float64"), "c": pd.Series(values, dtype=object)})
    ref = build_reference(frame, [NUM, CAT])
    assert ref.baseline["x"].n == ref.baseline["c"].n == (4 if values and values[0] else 0)
    prof = profile_frame(_frame(100), ref)
    assert sum(prof["x"].counts) == prof["x"].n == 100 - prof["x"].missing
    assert prof["c"].n == prof["c"].unseen_total + prof["c"].other + sum(prof["c"].counts)
    if values and values[0]:
        assert ref["x"].discrete and ref["x"].n_unique == 1 and ref.baseline["x"].std == 0.0
        assert ref["c"].categories == ("7.0",)


def test_profiling_a_frame_without_rows():
    ref = build_reference(_frame(100), [NUM, CAT])
    assert profile_frame(_frame(100).iloc[:0], ref) == empty_profile(ref)


def test_std_survives_a_large_offset():
    rng = np.random.default_rng(0)
    x = 1.7e9 + rng.normal(size=10_000)  # epoch seconds, spread of one second
    ref = build_reference(pd.DataFrame({"x": x}), [NUM])
    assert ref.baseline["x"].std == pytest.approx(np.std(x), rel=1e-6)
    assert ref.baseline["x"].mean == pytest.approx(np.mean(x), rel=1e-12)


def test_one_million_rows_profile_like_numpy():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.standard_t(3, 1_000_000)})
    ref = build_reference(frame.iloc[:50_000], [NUM])
    prof = profile_frame(frame, ref)["x"]
    edges = np.array(ref["x"].edges)
    index = np.searchsorted(edges, frame["x"].to_numpy(), side="right")
    expected = np.bincount(index, minlength=len(edges) + 1)
    assert prof.counts == tuple(expected.tolist())
    assert prof.minimum == frame["x"].min() and prof.maximum == frame["x"].max()


# --------------------------------------------------------------------------- fast binning


edge_arrays = hnp.arrays(
    np.float64, st.integers(9, 60), elements=st.floats(-1e6, 1e6, allow_nan=False, width=64), unique=True
).map(np.sort)


@SETTINGS
@given(edges=edge_arrays, seed=st.integers(0, 2**32 - 1), spread=st.sampled_from([1e-3, 1.0, 1e3, 1e7]))
def test_bin_index_matches_searchsorted(edges, seed, spread):
    rng = np.random.default_rng(seed)
    x = np.concatenate(
        [
            rng.normal(np.median(edges), spread, 20_000),
            edges,
            np.nextafter(edges, np.inf),
            np.nextafter(edges, -np.inf),
            rng.choice(edges, 2000) + rng.normal(0, 1e-9, 2000),
        ]
    )
    assert np.array_equal(bin_index(x, edges), np.searchsorted(edges, x, side="right"))


def test_bin_index_falls_back_for_crowded_edges():
    edges = np.concatenate([np.linspace(0, 1e-6, 50), [1e12]])  # 50 edges in one lookup cell
    x = np.random.default_rng(0).uniform(-1, 2e-6, 50_000)
    assert np.array_equal(bin_index(x, edges), np.searchsorted(edges, x, side="right"))


# --------------------------------------------------------------------------- merging


def _split_frames(seed: int, n: int, cuts: list[int]) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    rng = np.random.default_rng(seed)
    x = rng.lognormal(0, 1, n)
    x[rng.random(n) < 0.1] = np.nan
    names = np.array([f"v{i}" for i in range(30)], dtype=object)
    c = names[rng.integers(0, 30, n)]
    c[rng.random(n) < 0.1] = None
    frame = pd.DataFrame({"x": x, "c": c})
    bounds = sorted({0, n, *[min(k, n) for k in cuts]})
    return frame, [frame.iloc[a:b] for a, b in itertools.pairwise(bounds)]


@SETTINGS
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(0, 3000),
    cuts=st.lists(st.integers(0, 3000), max_size=5),
    order_seed=st.integers(0, 1000),
)
def test_merging_in_any_order_equals_profiling_the_union(seed, n, cuts, order_seed):
    base = _frame(400, seed=seed)  # categories a-d: v0..v29 are all unseen
    ref = build_reference(base, [NUM, CAT], bins=20, top_k=2)
    frame, parts = _split_frames(seed, n, cuts)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(profiles, "MAX_UNSEEN", 5)  # merging must drop unseen names, and stay exact
        union = profile_frame(frame, ref)
        pieces = [profile_frame(p, ref) for p in parts]
        np.random.default_rng(order_seed).shuffle(pieces)
        merged = merge_all(pieces, start=empty_profile(ref))
    for name in ("x", "c"):
        a, b = merged[name], union[name]
        if isinstance(a, NumericProfile):
            for key in ("n", "missing", "counts", "minimum", "maximum"):
                assert getattr(a, key) == getattr(b, key)
            assert a.sum == pytest.approx(b.sum, rel=1e-9, abs=1e-9)
            assert a.sum_sq == pytest.approx(b.sum_sq, rel=1e-9, abs=1e-9)
        else:
            assert a == b  # exact, including which unseen names are kept
    assert merged.n_rows == union.n_rows == n


cat_profiles = st.builds(
    lambda counts, other, unseen, extra: CategoricalProfile(
        sum(counts) + other + sum(unseen.values()) + extra,
        0,
        tuple(counts),
        other,
        tuple(sorted(unseen.items())[:3]),
        sum(v for _, v in sorted(unseen.items())[3:]) + extra,
    ),
    st.lists(st.integers(0, 50), min_size=3, max_size=3),
    st.integers(0, 9),
    st.dictionaries(st.sampled_from(list("pqrstu")), st.integers(1, 9), max_size=3),
    st.just(0),
)


@SETTINGS
@given(a=cat_profiles, b=cat_profiles, c=cat_profiles)
def test_categorical_merge_is_associative_and_commutative(a, b, c):
    assert merge(a, b) == merge(b, a)
    assert merge(merge(a, b), c) == merge(a, merge(b, c))
    assert merge(a, CategoricalProfile.empty(3)) == a


num_profiles = st.builds(
    lambda counts, missing, lo, span, s, s2: NumericProfile(
        sum(counts), missing, lo, lo + span, s, s2, tuple(counts)
    ),
    st.lists(st.integers(0, 50), min_size=4, max_size=4),
    st.integers(0, 5),
    st.floats(-100, 100),
    st.floats(0, 100),
    st.floats(-1e3, 1e3),
    st.floats(0, 1e3),
)


@SETTINGS
@given(a=num_profiles, b=num_profiles, c=num_profiles)
def test_numeric_merge_is_associative_and_commutative(a, b, c):
    ab_c, a_bc = merge(merge(a, b), c), merge(a, merge(b, c))
    for key in ("counts", "n", "minimum", "maximum"):
        assert getattr(ab_c, key) == getattr(a_bc, key)
    assert ab_c.sum == pytest.approx(a_bc.sum, abs=1e-9)
    assert ab_c.sum_sq == pytest.approx(a_bc.sum_sq, abs=1e-9)
    assert merge(a, b) == merge(b, a)
    assert merge(a, NumericProfile.empty(4)) == a


def test_subtract_undoes_merge():
    ref = build_reference(_frame(1000), [NUM, CAT])
    a, b = profile_frame(_frame(300, 1), ref), profile_frame(_frame(200, 2), ref)
    back = subtract(merge(a, b), b)
    assert back["c"] == a["c"]
    assert back["x"].counts == a["x"].counts and back["x"].sum == pytest.approx(a["x"].sum)


def test_merge_refuses_mixed_baselines_and_empty_input():
    ref1 = build_reference(_frame(500, 1), [NUM, CAT])
    ref2 = build_reference(_frame(500, 2), [NUM, CAT])
    with pytest.raises(ProfileError, match="different baselines"):
        merge(profile_frame(_frame(10), ref1), profile_frame(_frame(10), ref2))
    with pytest.raises(ProfileError, match="no profiles"):
        merge_all([])
    assert merge_all([], start=empty_profile(ref1)) == empty_profile(ref1)
    with pytest.raises(ProfileError, match="different kinds"):
        merge(ref1.baseline["x"], ref1.baseline["c"])


# --------------------------------------------------------------------------- dicts


def test_profiles_and_references_round_trip_through_json():
    frame = _frame(3000)
    ref = build_reference(frame, [NUM, CAT])
    current = profile_frame(pd.DataFrame({"x": [1e9, np.nan], "c": ["zz", None]}), ref)
    for prof in (ref.baseline, current, empty_profile(ref)):
        text = json.dumps(prof.to_dict(), allow_nan=False)
        assert FrameProfile.from_dict(json.loads(text)) == prof
    back = Reference.from_dict(json.loads(json.dumps(ref.to_dict(), allow_nan=False)))
    assert back == ref and back.fingerprint == ref.fingerprint
    assert profile_from_dict(current["c"].to_dict()) == current["c"]


def test_profiles_and_references_pickle():
    """Streamlit's st.cache_data pickles what it caches."""
    ref = build_reference(_frame(500), [NUM, CAT])
    assert pickle.loads(pickle.dumps(ref)) == ref
    assert pickle.loads(pickle.dumps(ref.baseline)) == ref.baseline


def test_tampered_or_malformed_dicts_are_refused():
    ref = build_reference(_frame(300), [NUM, CAT])
    data = ref.to_dict()
    data["columns"][0]["edges"][3] += 1.0
    with pytest.raises(ProfileError, match="fingerprint"):
        Reference.from_dict(data)
    with pytest.raises(ProfileError, match="malformed"):
        profile_from_dict({"kind": "numeric", "n": 1})
    with pytest.raises(ProfileError, match="Unknown profile kind"):
        profile_from_dict({"kind": "text"})


# --------------------------------------------------------------------------- user errors


def test_missing_column_and_bad_kind_and_non_numbers():
    frame = _frame(100)
    with pytest.raises(SchemaMismatchError, match="'nope'"):
        build_reference(frame, [FeatureSpec("nope", "numeric")])
    with pytest.raises(ProfileError, match="'numeric' or 'categorical'"):
        build_reference(frame, [FeatureSpec("x", "text")])
    with pytest.raises(ProfileError, match="declared numeric"):
        build_reference(frame, [FeatureSpec("c", "numeric")])
    ref = build_reference(frame, [NUM, CAT])
    with pytest.raises(ReadinessError, match="lacks the baseline column"):
        profile_frame(frame[["x"]], ref)
