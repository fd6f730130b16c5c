"""What the assessment computes without scipy gives what scipy gives.

scipy.stats costs about half a second to import and scipy.special a quarter, so the checklist's
statistics call what scipy's functions call inside (readiness/core/kolmogorov.py is scipy's KS
distribution, copied; Benjamini-Hochberg is scipy's arithmetic) or compute the same quantity
another way (the chi-square tail and the binomial quantile as finite sums, the normal tail by
math.erfc). Equal means equal where the computation is scipy's own, and a relative 1e-10 where
it is another way to the same number; quantiles of counts are equal.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from readiness.core import drift_stats as ds
from readiness.core.kolmogorov import kstwo_sf
from readiness.core.metrics import MetricsError, binomial_quantile

# every branch of scipy's _kolmogn: n up to 140 (Ruben-Gambino, Durbin matrix, Pomeranz, Miller),
# larger n (Durbin matrix, Pelz-Good, 2 * smirnov) and the support's ends; n of 100,000 and more
# take the same branches at up to 0.1 s a value (the Durbin matrix multiplies n factors in Python)
SIZES = (1, 2, 3, 7, 30, 139, 140, 141, 500, 4_000, 20_000)


def _statistics(n: int) -> np.ndarray:
    rng = np.random.default_rng(n)
    cut_offs = np.sqrt(np.array([0.754693, 2.2, 4.0, 18.0, 370.0]) / n)  # the branches' n*d^2 limits
    ends = [0.0, 0.25 / n, 0.5 / n, 1 / n, 1.5 / n, 0.5, 1 - 1e-9, 1.0, 1.5]
    return np.concatenate([rng.uniform(0, 1, 25), rng.uniform(0, 4 / np.sqrt(n), 40), cut_offs, ends])


@pytest.mark.parametrize("n", SIZES)
def test_kstwo_sf_is_scipys(n):
    for d in _statistics(n):
        assert kstwo_sf(float(d), n) == float(stats.kstwo.sf(d, n)), (n, d)


def test_kstwo_sf_outside_the_domain_is_nan_as_scipys():
    assert np.isnan(kstwo_sf(float("nan"), 10)) and np.isnan(stats.kstwo.sf(np.nan, 10))


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5_000), st.integers(1, 5_000), st.floats(0, 1))
def test_binned_ks_p_value_is_scipys_asymptotic(n_ref, n_cur, d):
    m, n = sorted((n_ref, n_cur), reverse=True)
    expected = float(np.clip(stats.kstwo.sf(d, max(round(m * n / (m + n)), 1)), 0.0, 1.0))
    assert ds.ks_p_value(d, n_ref, n_cur) == expected


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 100_000), st.floats(0, 1), st.sampled_from([0.025, 0.5, 0.975]))
def test_binomial_quantile_is_scipys(n, p, level):
    _assert_binomial_quantile_is_scipys(level, n, p)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 5_000_000), st.floats(0, 1), st.floats(0.001, 0.999))
def test_binomial_quantile_is_scipys_at_any_level_and_millions_of_rows(n, p, level):
    _assert_binomial_quantile_is_scipys(level, n, p)


def _assert_binomial_quantile_is_scipys(level: float, n: int, p: float) -> None:
    """Equal to scipy's, except at an exact tie (P(X <= k) == level), where rounding may give k or k + 1 (to both)."""
    ours, theirs = binomial_quantile(level, n, p), float(stats.binom.ppf(level, n, p))
    if abs(ours - theirs) == 1:
        tie = min(ours, theirs)
        assert float(stats.binom.cdf(tie, n, p)) == pytest.approx(level, rel=1e-9), (level, n, p)
    else:
        assert ours == theirs, (level, n, p)


def test_binomial_quantile_at_an_exact_tie_of_few_rows_is_the_smallest_count_reaching_the_level():
    # P(X <= 2) = 1/2 for Binomial(5, 1/2) and P(X = 0) = 1/1000 for Binomial(3, 0.9)
    assert binomial_quantile(0.5, 5, 0.5) == 2.0
    assert binomial_quantile(0.001, 3, 0.9) == 0.0


@pytest.mark.parametrize("bad", [(0.0, 10, 0.5), (1.0, 10, 0.5), (0.5, 0, 0.5), (0.5, 10, 1.5)])
def test_binomial_quantile_names_arguments_outside_its_domain(bad):
    with pytest.raises(MetricsError, match="binomial_quantile needs"):
        binomial_quantile(*bad)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 20_000), st.floats(0, 1e6))
def test_chi_square_tail_is_scipys_chdtrc(dof, x):
    expected = float(special.chdtrc(dof, x))
    assert ds.chi2_sf(dof, x) == pytest.approx(expected, rel=1e-10, abs=1e-300)


def test_chi_square_tail_at_the_ends_of_its_domain():
    assert ds.chi2_sf(3, 0.0) == 1.0 and ds.chi2_sf(3, float("inf")) == 0.0
    assert np.isnan(ds.chi2_sf(3, float("nan")))
    with pytest.raises(ValueError, match="positive whole number"):
        ds.chi2_sf(0, 1.0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=0, max_size=40))
def test_benjamini_hochberg_is_scipys(p):
    arr = np.array(p, dtype=np.float64)
    expected = stats.false_discovery_control(arr, method="bh") if arr.size else arr
    assert np.array_equal(ds.adjust_p_values(arr, "bh"), expected)


def test_benjamini_hochberg_refuses_what_scipy_refuses():
    for bad in ([0.1, float("nan")], [0.5, 1.5]):
        with pytest.raises(ValueError, match="between 0 and 1"):
            stats.false_discovery_control(np.array(bad), method="bh")
        with pytest.raises(ValueError, match="between 0 and 1"):
            ds.adjust_p_values(bad, "bh")


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 500), st.integers(1, 500), st.integers(0, 500), st.integers(1, 500))
def test_z_test_p_value_is_scipys_normal(a, n_a, b, n_b):
    result = ds.z_proportions(min(a, n_a), n_a, min(b, n_b), n_b)
    if result.statistic > 0:
        assert result.p_value == pytest.approx(
            float(2 * stats.norm.sf(result.statistic)), rel=1e-12, abs=1e-300
        )


@settings(max_examples=200, deadline=None)
@given(st.floats(0.01, 500), st.sampled_from([0.5, 0.9, 0.99, 0.999, 0.9995, 0.99999]))
def test_noise_floor_chi_square_quantile_is_scipys(dof, level):
    """readiness.core.drift.noise_floor takes 2 * gammaincinv(dof / 2, level): what stats.chi2.ppf(level, dof) computes."""
    assert float(2 * special.gammaincinv(dof / 2, level)) == float(stats.chi2.ppf(level, dof))
