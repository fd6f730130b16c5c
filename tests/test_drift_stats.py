"""Drift statistics: known answers against scipy, binned versions within their documented bounds."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats
from scipy.spatial import distance

from readiness.core import drift_stats as ds
from readiness.core.profiles import build_reference, profile_frame
from readiness.core.records import FeatureSpec

SETTINGS = settings(max_examples=60, deadline=None)
DISTRIBUTIONS = ("normal", "lognormal", "uniform", "t3", "mixture", "integers", "few_values", "zero_inflated")


def _draw(rng: np.random.Generator, kind: str, n: int, shift: float = 0.0, scale: float = 1.0) -> np.ndarray:
    x = {
        "normal": lambda: rng.normal(size=n),
        "lognormal": lambda: rng.lognormal(0, 1, n),
        "uniform": lambda: rng.uniform(-1, 1, n),
        "t3": lambda: rng.standard_t(3, n),
        "mixture": lambda: np.where(rng.random(n) < 0.3, rng.normal(-3, 0.3, n), rng.normal(2, 1, n)),
        "integers": lambda: rng.poisson(20, n).astype(float),
        "few_values": lambda: rng.integers(0, 4, n).astype(float),
        "zero_inflated": lambda: np.where(rng.random(n) < 0.4, 0.0, rng.exponential(2, n)),
    }[kind]()
    return x * scale + shift


def _binned(ref_values: np.ndarray, cur_values: np.ndarray):
    """Reference from ref_values, both profiles, and the bin bounds the statistics use."""
    spec = [FeatureSpec("x", "numeric")]
    reference = build_reference(pd.DataFrame({"x": ref_values}), spec)
    base = reference.baseline["x"]
    cur = profile_frame(pd.DataFrame({"x": cur_values}), reference)["x"]
    low, high = min(base.minimum, cur.minimum), max(base.maximum, cur.maximum)
    bounds = ds.bin_bounds(reference["x"].edges, low, high)
    return reference["x"], np.array(base.counts), np.array(cur.counts), bounds


samples = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 2**32 - 1),
        "kind": st.sampled_from(DISTRIBUTIONS),
        "n_ref": st.integers(5, 4000),
        "n_cur": st.integers(5, 4000),
        "shift": st.sampled_from([0.0, 0.1, 0.5, 3.0]),
        "scale": st.sampled_from([0.5, 1.0, 1.3]),
    }
)


def _pair(p: dict) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(p["seed"])
    a = _draw(rng, p["kind"], p["n_ref"])
    b = _draw(rng, p["kind"], p["n_cur"], p["shift"], p["scale"])
    if p["kind"] == "few_values":
        b = np.round(b)  # stays discrete
    return a, b


# --------------------------------------------------------------------------- KS


def test_ks_exact_is_scipy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=300), rng.normal(0.2, 1, 500)
    expected = stats.ks_2samp(a, b)
    assert ds.ks_exact(a, b) == ds.StatResult(expected.statistic, expected.pvalue)


@pytest.mark.parametrize("sizes", [(200, 300), (1000, 1000), (5000, 800)])
def test_ks_binned_on_discrete_data_equals_scipy_asymptotic(sizes):
    rng = np.random.default_rng(sum(sizes))
    a = rng.integers(0, 30, sizes[0]).astype(float)
    b = rng.integers(2, 32, sizes[1]).astype(float)
    column, ref, cur, _ = _binned(a, b)
    assert column.discrete  # one bin per value: binned KS is exact here
    expected = stats.ks_2samp(a, b, method="asymp")
    result = ds.ks_binned(ref, cur)
    assert result.statistic == pytest.approx(expected.statistic, abs=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)


@SETTINGS
@given(p=samples)
def test_binned_ks_within_documented_bound(p):
    a, b = _pair(p)
    _, ref, cur, _ = _binned(a, b)
    exact = stats.ks_2samp(a, b, method="asymp").statistic
    binned = ds.ks_binned(ref, cur).statistic
    assert -1e-12 <= exact - binned <= ds.ks_error_bound(ref, cur) + 1e-12


# --------------------------------------------------------------------------- Wasserstein


def test_wasserstein_exact_is_scipy_normed_by_reference_std():
    rng = np.random.default_rng(1)
    a, b = rng.normal(3, 2, 400), rng.normal(4, 2, 600)
    expected = stats.wasserstein_distance(a, b) / np.std(a)
    assert ds.wasserstein_exact(a, b) == pytest.approx(expected, rel=1e-12)


@SETTINGS
@given(p=samples)
def test_binned_wasserstein_within_documented_bound(p):
    a, b = _pair(p)
    column, ref, cur, bounds = _binned(a, b)
    exact = stats.wasserstein_distance(a, b)
    for step in {False, column.discrete}:
        binned = ds.wasserstein_binned(ref, cur, bounds, step=step)
        bound = ds.wasserstein_error_bound(ref, cur, bounds)
        assert abs(exact - binned) <= bound + 1e-9 * (1 + exact)
    std = np.std(a)
    if std > 0:  # the normed version: same bound, same scale
        normed = ds.wasserstein_binned(ref, cur, bounds, std, column.discrete)
        bound = ds.wasserstein_error_bound(ref, cur, bounds, std)
        assert abs(exact / std - normed) <= bound + 1e-9 * (1 + exact / std)


@pytest.mark.parametrize("sizes", [(500, 700), (20_000, 20_000)])
def test_binned_wasserstein_is_exact_on_discrete_data(sizes):
    rng = np.random.default_rng(2)
    a = rng.poisson(5, sizes[0]).astype(float)
    b = rng.poisson(5.5, sizes[1]).astype(float)
    b = b[b <= a.max()]  # inside the baseline's values: the step CDF is then exact
    column, ref, cur, bounds = _binned(a, b)
    assert column.discrete
    assert ds.wasserstein_binned(ref, cur, bounds, step=True) == pytest.approx(
        stats.wasserstein_distance(a, b), rel=1e-9
    )


def test_binned_wasserstein_is_close_on_smooth_data():
    """The bound is a worst case; on smooth data with ~110 bins the error is far smaller."""
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=100_000), rng.normal(0.05, 1.1, 100_000)
    _, ref, cur, bounds = _binned(a, b)
    exact = ds.wasserstein_exact(a, b)
    assert ds.wasserstein_binned(ref, cur, bounds, np.std(a)) == pytest.approx(exact, abs=0.003)


# --------------------------------------------------------------------------- tests on counts


@SETTINGS
@given(table=st.lists(st.tuples(st.integers(0, 80), st.integers(0, 80)), min_size=2, max_size=12))
def test_chi_square_is_scipy_contingency_without_empty_columns(table):
    ref, cur = np.array(table).T
    result = ds.chi_square(ref, cur)
    kept = np.vstack([ref, cur])[:, (ref + cur) > 0]
    if kept.shape[1] < 2 or (kept.sum(axis=1) == 0).any():
        assert result == ds.StatResult(0.0, 1.0)
        return
    expected = stats.chi2_contingency(kept, correction=False)
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-9, abs=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)


def test_chi_square_homogeneity_matches_goodness_of_fit_when_the_reference_is_huge():
    cur = np.array([30, 50, 20])
    ref = np.array([1, 2, 1]) * 10**8  # a reference this large is the expected distribution
    expected = stats.chisquare(cur, cur.sum() * ref / ref.sum())
    assert ds.chi_square(ref, cur).statistic == pytest.approx(expected.statistic, rel=1e-6)


@SETTINGS
@given(n1=st.integers(2, 500), n2=st.integers(2, 500), data=st.data())
def test_z_test_squared_is_the_2x2_chi_square(n1, n2, data):
    h1, h2 = data.draw(st.integers(0, n1)), data.draw(st.integers(0, n2))
    z = ds.z_proportions(h1, n1, h2, n2)
    chi = ds.chi_square([h1, n1 - h1], [h2, n2 - h2])
    assert z.statistic**2 == pytest.approx(chi.statistic, rel=1e-9, abs=1e-9)
    assert z.p_value == pytest.approx(chi.p_value, rel=1e-7, abs=1e-12)


# --------------------------------------------------------------------------- distances


def test_jensen_shannon_is_scipy_with_natural_log():
    p, q = np.array([10, 20, 30, 0]), np.array([5, 25, 10, 10])
    assert ds.jensen_shannon(p, q) == pytest.approx(distance.jensenshannon(p / p.sum(), q / q.sum()))
    assert ds.jensen_shannon([1, 0], [0, 1]) == pytest.approx(math.sqrt(math.log(2)))


def test_psi_kl_hellinger_tvd_known_values():
    p, q = [50, 30, 20, 0], [40, 30, 20, 10]
    ps, qs = np.array([0.5, 0.3, 0.2, ds.EPSILON]), np.array([0.4, 0.3, 0.2, 0.1])
    assert ds.psi(p, q) == pytest.approx(np.sum((qs - ps) * np.log(qs / ps)))
    assert ds.kl_divergence(p, q) == pytest.approx(np.sum(special.rel_entr(ps, qs)))
    assert ds.kl_divergence(q, p) == pytest.approx(np.sum(special.rel_entr(qs, ps)))
    assert ds.hellinger([1, 0], [0, 1]) == 1.0
    root_gap = np.sqrt([0.5, 0.3, 0.2, 0.0]) - np.sqrt(qs)
    assert ds.hellinger(p, q) == pytest.approx(np.sqrt(np.sum(root_gap**2) / 2))
    assert ds.total_variation(p, q) == pytest.approx(0.1)


counts = st.lists(st.integers(0, 1000), min_size=2, max_size=30)


@SETTINGS
@given(a=counts, data=st.data())
def test_symmetric_statistics_are_symmetric(a, data):
    b = data.draw(st.lists(st.integers(0, 1000), min_size=len(a), max_size=len(a)))
    if sum(a) == 0 or sum(b) == 0:
        return
    for f in (ds.jensen_shannon, ds.hellinger, ds.total_variation):
        assert f(a, b) == pytest.approx(f(b, a), abs=1e-12)
    assert ds.ks_binned(a, b).statistic == pytest.approx(ds.ks_binned(b, a).statistic, abs=1e-12)
    bounds = np.cumsum(np.r_[0.0, data.draw(st.lists(st.floats(0, 10), min_size=len(a), max_size=len(a)))])
    assert ds.wasserstein_binned(a, b, bounds) == pytest.approx(ds.wasserstein_binned(b, a, bounds), abs=1e-9)


@SETTINGS
@given(a=counts)
def test_identical_histograms_are_at_distance_zero(a):
    if sum(a) == 0:
        return
    for f in (ds.jensen_shannon, ds.hellinger, ds.total_variation, ds.psi, ds.kl_divergence):
        assert f(a, a) == pytest.approx(0.0, abs=1e-7)
    assert ds.ks_binned(a, a).statistic == 0.0
    assert ds.wasserstein_binned(a, a, np.arange(len(a) + 1.0)) == 0.0
    assert ds.chi_square(a, a).p_value == pytest.approx(1.0)


def test_batched_distances_equal_row_by_row():
    rng = np.random.default_rng(4)
    ref, cur = rng.integers(0, 50, (7, 12)), rng.integers(0, 50, (7, 12))
    bounds = np.cumsum(rng.uniform(0.1, 2, 13))
    batched = {
        "js": ds.jensen_shannon(ref, cur),
        "h": ds.hellinger(ref, cur),
        "tv": ds.total_variation(ref, cur),
        "psi": ds.psi(ref, cur),
        "kl": ds.kl_divergence(ref, cur),
        "w": ds.wasserstein_binned(ref, cur, bounds),
        "ws": ds.wasserstein_binned(ref, cur, bounds, step=True),
    }
    for i in range(7):
        single = {
            "js": ds.jensen_shannon(ref[i], cur[i]),
            "h": ds.hellinger(ref[i], cur[i]),
            "tv": ds.total_variation(ref[i], cur[i]),
            "psi": ds.psi(ref[i], cur[i]),
            "kl": ds.kl_divergence(ref[i], cur[i]),
            "w": ds.wasserstein_binned(ref[i], cur[i], bounds),
            "ws": ds.wasserstein_binned(ref[i], cur[i], bounds, step=True),
        }
        for key, value in single.items():
            assert batched[key][i] == pytest.approx(value, rel=1e-12, abs=1e-15)


# --------------------------------------------------------------------------- raw-value tests


def test_anderson_darling_is_scipy_midrank():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=400), rng.normal(0.3, 1, 300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = stats.anderson_ksamp([a, b], variant="midrank")
    assert ds.anderson_darling(a, b) == ds.StatResult(expected.statistic, expected.pvalue)


def test_cramer_von_mises_is_scipy():
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=400), rng.normal(0.3, 1, 300)
    expected = stats.cramervonmises_2samp(a, b)
    assert ds.cramer_von_mises(a, b) == ds.StatResult(expected.statistic, expected.pvalue)


def test_raw_tests_subsample_large_inputs_with_a_seed():
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=50_000), rng.normal(size=40_000)
    sub_a, sub_b = ds.subsample(a, 5000, 3), ds.subsample(b, 5000, 4)
    assert sub_a.size == 5000 and np.isin(sub_a, a).all()
    assert np.array_equal(sub_a, ds.subsample(a, 5000, 3))  # seeded: repeatable
    expected = stats.cramervonmises_2samp(sub_a, sub_b)
    assert ds.cramer_von_mises(a, b, seed=3).statistic == pytest.approx(expected.statistic)
    assert ds.anderson_darling(a, a).p_value == pytest.approx(0.25)  # scipy caps at 0.25
    assert ds.anderson_darling([1.0, 1.0], [1.0, 1.0]) == ds.StatResult(0.0, 1.0)


# --------------------------------------------------------------------------- multiple testing


@SETTINGS
@given(p=st.lists(st.floats(0, 1), min_size=1, max_size=40))
def test_p_value_corrections(p):
    arr = np.array(p)
    assert np.allclose(ds.adjust_p_values(arr, "bh"), stats.false_discovery_control(arr, method="bh"))
    assert np.allclose(ds.adjust_p_values(arr, "bonferroni"), np.minimum(arr * len(arr), 1))
    assert np.array_equal(ds.adjust_p_values(arr, "none"), arr)
    assert (ds.adjust_p_values(arr, "bh") <= ds.adjust_p_values(arr, "bonferroni") + 1e-15).all()
