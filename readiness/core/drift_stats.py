"""Drift statistics between a reference and a current sample: pure numpy/scipy functions.

The tests the checklist runs on every assessment (binned KS, chi-square, z, Benjamini-Hochberg)
need only numpy, :mod:`math` and :mod:`readiness.core.kolmogorov`; ``scipy.special`` (about
0.25 s to import), ``scipy.stats`` and ``scipy.spatial`` (about 0.5 s) are imported by the
tests and distances that use them.

Binned versions take count vectors over the same bins (last axis; leading axes are batches,
which is how the noise-floor bootstrap evaluates hundreds of resamples at once). Exact
versions take raw values. Where a binned statistic estimates a raw-value statistic its error
is bounded, and the bound is a function here, so callers and tests can check it:

* KS: ``0 <= exact - binned <= max over bins of max(p_ref, p_cur)`` (:func:`ks_error_bound`).
* Wasserstein: ``|exact - binned| <= sum over bins of width * max(p_ref, p_cur)``, divided by
  the norming scale (:func:`wasserstein_error_bound`).

Distances on categories or bins (PSI, Jensen-Shannon, Hellinger, KL, total variation,
chi-square) are defined on the bins themselves: there is no other "exact" value.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from readiness.core.kolmogorov import kstwo_sf

EPSILON = 1e-4  # share given to empty bins by PSI and KL (Evidently's 0.0001)
RAW_SAMPLE = 5000  # AD and CvM subsample each side to at most this many values


@dataclass(frozen=True)
class StatResult:
    """A test statistic and its p-value (None for distances)."""

    statistic: float
    p_value: float | None = None


# --------------------------------------------------------------------------- helpers


def shares(counts: ArrayLike) -> np.ndarray:
    """Counts over the last axis turned into shares (all zeros stay zeros).

    >>> shares([1, 3]).tolist()
    [0.25, 0.75]
    """
    c = np.asarray(counts, dtype=np.float64)
    total = c.sum(axis=-1, keepdims=True)
    return np.divide(c, total, out=np.zeros_like(c), where=total > 0)


def _scalar(value: np.ndarray | float) -> float | np.ndarray:
    return float(value) if np.ndim(value) == 0 else value


def subsample(values: ArrayLike, max_n: int = RAW_SAMPLE, seed: int = 0) -> np.ndarray:
    """At most ``max_n`` values drawn without replacement by a seeded generator."""
    x = np.asarray(values, dtype=np.float64)
    if x.size <= max_n:
        return x
    return np.random.default_rng(seed).choice(x, size=max_n, replace=False)


# --------------------------------------------------------------------------- Kolmogorov-Smirnov


def ks_binned(
    ref_counts: ArrayLike, cur_counts: ArrayLike, n_ref: int | None = None, n_cur: int | None = None
) -> StatResult:
    """Two-sample KS from histograms: the largest CDF gap at the bin edges.

    The p-value is scipy's asymptotic one (``kstwo`` at the effective n = n*m/(n+m)), as in
    ``ks_2samp(method="asymp")``. The binned statistic never exceeds the exact one, and falls
    short by at most :func:`ks_error_bound`, so the p-value errs on the side of no alarm.

    >>> ks_binned([5, 5, 0], [0, 5, 5]).statistic
    0.5
    """
    ref, cur = np.asarray(ref_counts), np.asarray(cur_counts)
    n_ref = int(ref.sum()) if n_ref is None else n_ref
    n_cur = int(cur.sum()) if n_cur is None else n_cur
    d = float(_ks_statistic(shares(ref), shares(cur)))
    return StatResult(d, ks_p_value(d, n_ref, n_cur))


def _ks_statistic(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    return np.abs(np.cumsum(p - q, axis=-1)).max(axis=-1)


def ks_p_value(d: float, n_ref: int, n_cur: int) -> float:
    """Asymptotic two-sided KS p-value with effective n, as scipy's ``ks_2samp`` 'asymp'."""
    m, n = sorted((float(n_ref), float(n_cur)), reverse=True)
    en = max(round(m * n / (m + n)), 1)
    return float(np.clip(kstwo_sf(d, en), 0.0, 1.0))


def ks_error_bound(ref_counts: ArrayLike, cur_counts: ArrayLike) -> float:
    """Largest single-bin share of either side: how far binned KS may fall below exact KS.

    Inside a bin each CDF moves by at most that bin's share, so the gap there can exceed the
    gap at the bin's left edge by at most max(p_ref, p_cur); the gaps at edges are exact.

    >>> ks_error_bound([1, 3], [2, 2])
    0.75
    """
    return float(np.maximum(shares(ref_counts), shares(cur_counts)).max())


def ks_exact(reference: ArrayLike, current: ArrayLike) -> StatResult:
    """scipy's ``ks_2samp`` (exact p-value for small samples, asymptotic beyond)."""
    from scipy import stats

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "exact calculation unsuccessful": asymp used
        result = stats.ks_2samp(reference, current)
    return StatResult(float(result.statistic), float(result.pvalue))


# --------------------------------------------------------------------------- tests on counts


def chi_square(ref_counts: ArrayLike, cur_counts: ArrayLike) -> StatResult:
    """Chi-square test of homogeneity on the 2 x K table, empty columns dropped, no Yates.

    >>> round(chi_square([50, 50], [50, 50]).p_value, 3)
    1.0
    """
    table = np.vstack([np.asarray(ref_counts), np.asarray(cur_counts)]).astype(np.float64)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return StatResult(0.0, 1.0)
    # scipy's chi2_contingency(correction=False), computed directly: its argument checks and
    # nan-policy wrapper cost ten times the arithmetic, and the checklist runs it per column and day
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    statistic = float(((table - expected) ** 2 / expected).sum())
    return StatResult(statistic, chi2_sf(table.shape[1] - 1, statistic))


def chi2_sf(dof: int, x: float) -> float:
    """P(X > x) for X chi-square with ``dof`` (a positive integer) degrees of freedom: scipy's ``chdtrc``.

    For integer degrees of freedom the upper tail is a finite sum (an even ``dof``: a Poisson
    tail; an odd one: ``erfc`` plus such a sum), computed here term by term in logarithms, so
    an upload's closing assessment needs no ``scipy.special``. It agrees with scipy to a
    relative 1e-10 from 1 to 20,000 degrees of freedom (tests/test_kolmogorov.py).

    >>> round(chi2_sf(1, 3.841458820694124), 6), round(chi2_sf(4, 9.487729036781154), 6)
    (0.05, 0.05)
    """
    if dof < 1 or dof != int(dof):
        raise ValueError(f"chi2_sf needs a positive whole number of degrees of freedom; got {dof!r}")
    if math.isnan(x):
        return math.nan
    if x <= 0:
        return 1.0
    if math.isinf(x):
        return 0.0
    half = x / 2
    if half == 0.0:  # x is the smallest subnormal: no mass above it is missing
        return 1.0
    if dof % 2 == 0:  # e^-h * sum of h^i / i! for i < dof/2
        steps = np.log(half / np.arange(1, dof // 2, dtype=np.float64))
        logs = -half + np.concatenate([[0.0], np.cumsum(steps)])
        return float(min(1.0, np.exp(logs).sum()))
    # erfc(sqrt(h)) + e^-h * sum of h^(i - 1/2) / gamma(i + 1/2) for 1 <= i <= (dof - 1)/2
    terms = (dof - 1) // 2
    tail = 0.0
    if terms:
        steps = np.log(half / (np.arange(1, terms, dtype=np.float64) + 0.5))
        logs = -half + 0.5 * math.log(half) - math.lgamma(1.5) + np.concatenate([[0.0], np.cumsum(steps)])
        tail = float(np.exp(logs).sum())
    return min(1.0, math.erfc(math.sqrt(half)) + tail)


MIN_EXPECTED = 5  # cells expected to hold fewer values of the smaller sample are pooled
ORDERED_CELLS = 20  # chi-square on numeric bins: about this many cells of equal baseline mass


def pool_ordered(
    ref_counts: ArrayLike,
    cur_counts: ArrayLike,
    cells: int = ORDERED_CELLS,
    min_expected: float = MIN_EXPECTED,
) -> tuple[np.ndarray, np.ndarray]:
    """Adjacent bins pooled into at most ``cells`` of about equal reference mass, none sparse.

    Each pooled cell is expected (under no change) to hold at least ``min_expected`` values
    of the smaller sample, so the chi-square approximation holds; bins outside the baseline
    range join their neighbours.

    >>> [c.tolist() for c in pool_ordered([0, 10, 10, 10, 10, 0], [1, 9, 10, 10, 11, 2], cells=2)]
    [[20.0, 20.0], [20.0, 23.0]]
    """
    ref, cur = np.asarray(ref_counts, dtype=np.float64), np.asarray(cur_counts, dtype=np.float64)
    p = shares(ref) if ref.sum() > 0 else shares(ref + cur)
    middle = np.cumsum(p) - p / 2
    group = np.minimum((middle * cells).astype(np.int64), cells - 1)
    ref_g = np.bincount(group, ref, cells)
    cur_g = np.bincount(group, cur, cells)
    return _merge_adjacent(ref_g, cur_g, _needed(ref, cur, min_expected))


def pool_rare(
    ref_counts: ArrayLike, cur_counts: ArrayLike, min_expected: float = MIN_EXPECTED
) -> tuple[np.ndarray, np.ndarray]:
    """Categories expected to hold fewer than ``min_expected`` values of the smaller sample, pooled into one.

    >>> [c.tolist() for c in pool_rare([50, 45, 3, 2], [50, 45, 2, 3])]
    [[50.0, 45.0, 5.0], [50.0, 45.0, 5.0]]
    """
    ref, cur = np.asarray(ref_counts, dtype=np.float64), np.asarray(cur_counts, dtype=np.float64)
    need = _needed(ref, cur, min_expected)
    pooled = ref + cur
    small = pooled < need
    if not small.any():
        return ref, cur
    keep = np.flatnonzero(~small)
    rest_r, rest_c = ref[small].sum(), cur[small].sum()
    if rest_r + rest_c < need and keep.size:
        smallest = keep[np.argmin(pooled[keep])]
        rest_r, rest_c = rest_r + ref[smallest], rest_c + cur[smallest]
        keep = keep[keep != smallest]
    return np.append(ref[keep], rest_r), np.append(cur[keep], rest_c)


def _needed(ref: np.ndarray, cur: np.ndarray, min_expected: float) -> float:
    """Pooled count a cell needs so the smaller sample expects ``min_expected`` values in it."""
    smaller = min(ref.sum(), cur.sum())
    return min_expected * (ref.sum() + cur.sum()) / smaller if smaller > 0 else 0.0


def _merge_adjacent(ref: np.ndarray, cur: np.ndarray, need: float) -> tuple[np.ndarray, np.ndarray]:
    out_r: list[float] = []
    out_c: list[float] = []
    acc_r = acc_c = 0.0
    for r, c in zip(ref.tolist(), cur.tolist(), strict=True):
        acc_r, acc_c = acc_r + r, acc_c + c
        if acc_r + acc_c >= need and acc_r + acc_c > 0:
            out_r.append(acc_r)
            out_c.append(acc_c)
            acc_r = acc_c = 0.0
    if acc_r + acc_c > 0:
        if out_r:
            out_r[-1] += acc_r
            out_c[-1] += acc_c
        else:
            out_r, out_c = [acc_r], [acc_c]
    return np.array(out_r), np.array(out_c)


def histogram_quantile(counts: ArrayLike, bounds: ArrayLike, level: float) -> float:
    """The ``level`` quantile of a histogram, linear inside each bin.

    >>> histogram_quantile([1, 1, 2], [0.0, 1.0, 2.0, 4.0], 0.75)
    3.0
    """
    cdf = np.concatenate([[0.0], np.cumsum(shares(counts))])
    return float(np.interp(level, cdf, np.asarray(bounds, dtype=np.float64)))


def z_proportions(ref_hits: int, n_ref: int, cur_hits: int, n_cur: int) -> StatResult:
    """Two-proportion z test (pooled variance), two-sided; the statistic is |z|.

    >>> r = z_proportions(50, 100, 70, 100); round(r.statistic, 3), round(r.p_value, 4)
    (2.887, 0.0039)
    """
    pooled = (ref_hits + cur_hits) / (n_ref + n_cur)
    variance = pooled * (1 - pooled) * (1 / n_ref + 1 / n_cur)
    if variance <= 0:
        return StatResult(0.0, 1.0)
    z = abs(ref_hits / n_ref - cur_hits / n_cur) / math.sqrt(variance)
    return StatResult(float(z), math.erfc(z / math.sqrt(2)))  # 2 * stats.norm.sf(z), without scipy


# --------------------------------------------------------------------------- distances on counts


def psi(ref_counts: ArrayLike, cur_counts: ArrayLike, eps: float = EPSILON) -> float | np.ndarray:
    """Population stability index sum((q - p) * ln(q / p)); empty bins count as share ``eps``.

    The epsilon (1e-4, as Evidently) keeps the index finite when a bin is empty on one side.

    >>> round(psi([50, 50], [60, 40]), 4)
    0.0405
    """
    p, q = _smoothed(ref_counts, eps), _smoothed(cur_counts, eps)
    return _scalar(np.sum((q - p) * np.log(q / p), axis=-1))


def kl_divergence(ref_counts: ArrayLike, cur_counts: ArrayLike, eps: float = EPSILON) -> float | np.ndarray:
    """KL(reference || current) in nats; empty bins count as share ``eps`` (as PSI)."""
    p, q = _smoothed(ref_counts, eps), _smoothed(cur_counts, eps)
    return _scalar(np.sum(p * np.log(p / q), axis=-1))


def _smoothed(counts: ArrayLike, eps: float) -> np.ndarray:
    s = shares(counts)
    return np.where(s == 0, eps, s)


def jensen_shannon(ref_counts: ArrayLike, cur_counts: ArrayLike) -> float | np.ndarray:
    """Jensen-Shannon distance, natural log (scipy ``jensenshannon``, as Evidently); in [0, sqrt(ln 2)].

    >>> round(jensen_shannon([1, 0], [0, 1]) ** 2, 4) == round(math.log(2), 4)
    True
    """
    from scipy.spatial import distance

    p, q = shares(ref_counts), shares(cur_counts)
    return _scalar(distance.jensenshannon(p, q, axis=-1))


def hellinger(ref_counts: ArrayLike, cur_counts: ArrayLike) -> float | np.ndarray:
    """Hellinger distance sqrt(sum((sqrt p - sqrt q)^2) / 2), in [0, 1].

    >>> hellinger([1, 0], [0, 1])
    1.0
    """
    p, q = shares(ref_counts), shares(cur_counts)
    return _scalar(np.sqrt(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2, axis=-1) / 2))


def total_variation(ref_counts: ArrayLike, cur_counts: ArrayLike) -> float | np.ndarray:
    """Total variation distance sum(|p - q|) / 2, in [0, 1].

    >>> total_variation([3, 1], [1, 3])
    0.5
    """
    p, q = shares(ref_counts), shares(cur_counts)
    return _scalar(np.abs(p - q).sum(axis=-1) / 2)


# --------------------------------------------------------------------------- Wasserstein


def wasserstein_binned(
    ref_counts: ArrayLike,
    cur_counts: ArrayLike,
    bounds: ArrayLike,
    scale: float = 1.0,
    step: bool = False,
) -> float | np.ndarray:
    """Wasserstein-1 distance between two histograms, divided by ``scale``.

    ``bounds`` has one entry more than there are bins: bin i spans [bounds[i], bounds[i+1]]
    (outer bins end at the observed min/max). Both CDFs are exact at the bounds; inside a
    bin they are taken linear (``step=False``) or, for ``step=True``, as the bin's mass sitting
    at its left end (exact for discrete data whose values are the left bounds; the two outer
    bins stay linear). The error against the exact distance is at most
    :func:`wasserstein_error_bound`.

    >>> wasserstein_binned([1, 0], [0, 1], [0.0, 1.0, 2.0])
    1.0
    """
    p, q = shares(ref_counts), shares(cur_counts)
    b = np.asarray(bounds, dtype=np.float64)
    width = np.diff(b)
    gap = np.cumsum(p - q, axis=-1)  # CDF gap at the right end of each bin
    left = np.concatenate([np.zeros_like(gap[..., :1]), gap[..., :-1]], axis=-1)
    linear = _linear_area(left, gap)
    if step and width.size > 2:
        inner = np.abs(gap)
        linear = np.concatenate([linear[..., :1], inner[..., 1:-1], linear[..., -1:]], axis=-1)
    return _scalar(np.sum(width * linear, axis=-1) / scale)


def _linear_area(d0: np.ndarray, d1: np.ndarray) -> np.ndarray:
    """Mean of |d| over [0, 1] for d linear from d0 to d1."""
    a0, a1 = np.abs(d0), np.abs(d1)
    same = d0 * d1 >= 0
    total = a0 + a1
    crossing = np.divide(d0 * d0 + d1 * d1, 2 * total, out=np.zeros_like(total), where=total > 0)
    return np.where(same, total / 2, crossing)


def wasserstein_error_bound(
    ref_counts: ArrayLike, cur_counts: ArrayLike, bounds: ArrayLike, scale: float = 1.0
) -> float:
    """Bound on |exact - binned| Wasserstein: sum over bins of width * max(p_ref, p_cur) / scale.

    Inside a bin of width w each true CDF stays between its values at the bin's ends, and so
    do the linear (or step) stand-ins, so the true and assumed CDF gaps differ pointwise by at
    most max(p_ref, p_cur) there (the linear case is in fact within w * (3 max + min) / 4).

    >>> wasserstein_error_bound([1, 1], [2, 0], [0.0, 1.0, 3.0])
    2.0
    """
    width = np.diff(np.asarray(bounds, dtype=np.float64))
    most = np.maximum(shares(ref_counts), shares(cur_counts))
    return float(np.sum(width * most) / scale)


def wasserstein_exact(reference: ArrayLike, current: ArrayLike, scale: float | None = None) -> float:
    """scipy ``wasserstein_distance`` divided by ``scale`` (default: np.std of the reference).

    >>> wasserstein_exact([0.0, 2.0], [1.0, 3.0])
    1.0
    """
    from scipy import stats

    ref = np.asarray(reference, dtype=np.float64)
    norm = float(np.std(ref)) if scale is None else scale
    return float(stats.wasserstein_distance(ref, current) / norm)


# --------------------------------------------------------------------------- raw-value tests


def anderson_darling(
    reference: ArrayLike, current: ArrayLike, max_n: int = RAW_SAMPLE, seed: int = 0
) -> StatResult:
    """k-sample Anderson-Darling (scipy, midrank) on seeded subsamples of at most ``max_n``.

    scipy interpolates the p-value from tables and caps it to [0.001, 0.25].
    """
    from scipy import stats

    x, y = subsample(reference, max_n, seed), subsample(current, max_n, seed + 1)
    if np.unique(np.concatenate([x, y])).size < 2:
        return StatResult(0.0, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "p-value capped/floored"
        try:
            result = stats.anderson_ksamp([x, y], variant="midrank")
        except TypeError:  # scipy < 1.17 has no ``variant``
            result = stats.anderson_ksamp([x, y], midrank=True)
    return StatResult(float(result.statistic), float(result.pvalue))


def cramer_von_mises(
    reference: ArrayLike, current: ArrayLike, max_n: int = RAW_SAMPLE, seed: int = 0
) -> StatResult:
    """Two-sample Cramér-von Mises (scipy) on seeded subsamples of at most ``max_n``."""
    from scipy import stats

    x, y = subsample(reference, max_n, seed), subsample(current, max_n, seed + 1)
    if x.size < 2 or y.size < 2:
        return StatResult(0.0, 1.0)
    result = stats.cramervonmises_2samp(x, y)
    return StatResult(float(result.statistic), float(result.pvalue))


# --------------------------------------------------------------------------- multiple testing


CORRECTIONS = ("bh", "bonferroni", "none")


def adjust_p_values(p_values: ArrayLike, method: str = "bh") -> np.ndarray:
    """Adjust p-values for testing many columns: Benjamini-Hochberg, Bonferroni or none.

    >>> adjust_p_values([0.01, 0.04, 0.03], "bh").round(3).tolist()
    [0.03, 0.04, 0.04]
    >>> adjust_p_values([0.01, 0.04], "bonferroni").tolist()
    [0.02, 0.08]
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.size == 0 or method == "none":
        return p.copy()
    if method == "bonferroni":
        return np.minimum(p * p.size, 1.0)
    if method == "bh":
        return _benjamini_hochberg(p)
    raise ValueError(f"unknown correction {method!r}; choose one of {CORRECTIONS}")


def _benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """scipy's ``stats.false_discovery_control(p, method="bh")`` for one axis, step by step the same."""
    if not np.all(p == np.clip(p, 0.0, 1.0)):
        raise ValueError("`ps` must include only numbers between 0 and 1.")
    if p.size <= 1:
        return p
    order = np.argsort(p)
    ranked = p[order] * (p.size / np.arange(1, p.size + 1, dtype=p.dtype))
    np.minimum.accumulate(ranked[::-1], out=ranked[::-1])
    adjusted = np.empty_like(ranked)
    adjusted[order] = ranked
    return np.clip(adjusted, 0.0, 1.0)


def bin_bounds(edges: ArrayLike, low: float, high: float) -> np.ndarray:
    """Ends of every bin for :func:`wasserstein_binned`: the edges, closed by the observed extremes.

    >>> bin_bounds([0.0, 1.0], -3.0, 0.5).tolist()
    [-3.0, 0.0, 1.0, 1.0]
    """
    e = np.asarray(edges, dtype=np.float64)
    if e.size == 0:
        return np.array([low, high], dtype=np.float64)
    return np.concatenate([[min(low, e[0])], e, [max(high, e[-1])]])
