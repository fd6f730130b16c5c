"""Column drift: which columns of the current data moved away from the baseline.

The default rule (``rule="test"``, docs/drift.md "Tests") asks two questions of every column:

* is the change beyond what sampling alone produces at these two sample sizes? Numeric
  columns with more than 5 distinct values: KS on the histograms and chi-square on about 20
  bins of equal baseline mass (the smaller p-value, doubled); other columns: chi-square on
  the categories, rare ones pooled. p-values are corrected across columns
  (Benjamini-Hochberg), drift at adjusted p < 0.05;
* is it at least a small practical effect? Numeric: values moved by >= 0.05 standard
  deviations on average (Wasserstein-1 over the baseline std); categorical: >= 2% of rows
  changed category (total variation). So a million rows do not make a 0.02 sd shift news.

The widely used fixed cut-offs stay available as ``rule="cutoff"``: with at most 1000
reference values, KS / z / chi-square at p < 0.05; with more, Wasserstein distance normed by
the reference std (numeric) or Jensen-Shannon distance (categorical) >= 0.1. PSI is always
reported. Every method is selectable and every threshold overridable per column.

Two guards against false alarms of distance methods:

* distances are compared with a *noise floor*: a high quantile of the same distance between
  multinomial resamples of the pooled histogram at the actual sample sizes. A distance only
  counts as drift when it is >= its threshold AND above that floor, so a 200-category column
  at 2k rows is not flagged for sampling noise alone. The quantile is ``noise_quantile``
  (0.99) Bonferroni-adjusted over the distance-judged columns (0.9995 for 20 columns), so
  noise alone flags a whole window about 1% of the time (:func:`floor_level`);
* p-values are corrected across columns (Benjamini-Hochberg by default).

Thresholds can also be calibrated on the baseline itself (:func:`calibrate_thresholds`).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from numbers import Real
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from readiness.core import drift_stats as ds
from readiness.core.drift_methods import (
    AGAINST,
    ALPHA,
    DISTANCE_THRESHOLDS,
    METHOD_NAMES,
    METHODS,
    MIN_EFFECT,
    NEEDS_RAW,
    NUMERIC_ONLY,
    P_VALUE_METHODS,
    RULES,
)
from readiness.core.lazy import lazy_module
from readiness.core.profiles import (
    CategoricalProfile,
    ColumnReference,
    FrameProfile,
    NumericProfile,
    NumericReference,
    Reference,
    build_reference,
    profile_frame,
    subtract,
)
from readiness.core.records import FeatureSpec
from readiness.errors import CalibrationError, DriftOptionsError, SchemaMismatchError

if TYPE_CHECKING:
    import pandas as pd
    from scipy import special
else:
    pd = lazy_module("pandas")
    special = lazy_module("scipy.special")

# --------------------------------------------------------------------------- options and results


def _frozen_map(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


@dataclass(frozen=True)
class DriftOptions:
    """How column drift is judged; the defaults are those of docs/drift.md.

    ``methods``/``thresholds`` override the default test and its threshold per column (the
    threshold is the significance level for p-value tests). ``rule`` is "test" (sampling test
    and a practical effect of at least ``min_effect_numeric`` sd / ``min_effect_categorical``
    share) or "cutoff" (fixed distance cut-offs). ``statistic_thresholds`` (from
    :func:`calibrate_thresholds`) judge a column by its statistic instead, p-value tests too.
    Raw values, when given, are used for exact KS and Wasserstein up to ``raw_cap`` values per
    side, and (subsampled to ``raw_sample``) for Anderson-Darling and Cramér-von Mises.
    """

    methods: Mapping[str, str] = field(default_factory=dict)
    thresholds: Mapping[str, float] = field(default_factory=dict)
    statistic_thresholds: Mapping[str, float] = field(default_factory=dict)
    correction: str = "bh"
    rule: str = "test"
    min_effect_numeric: float = MIN_EFFECT["numeric"]
    min_effect_categorical: float = MIN_EFFECT["categorical"]
    dataset_share: float = 0.5
    small_reference: int = 1000
    noise_floor: bool = True
    noise_reps: int = 200
    noise_quantile: float = 0.99
    raw_cap: int = 10_000
    raw_sample: int = ds.RAW_SAMPLE
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("methods", "thresholds", "statistic_thresholds"):
            object.__setattr__(self, name, _frozen_map(getattr(self, name)))
        self._check()

    def __reduce__(self) -> tuple[Any, ...]:  # mappingproxy cannot be pickled (st.cache_data pickles)
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        plain = {k: dict(v) if isinstance(v, Mapping) else v for k, v in values.items()}
        return (_options_from_dict, (plain,))

    def __hash__(self) -> int:
        values = (getattr(self, f.name) for f in fields(self))
        return hash(tuple(tuple(sorted(v.items())) if isinstance(v, Mapping) else v for v in values))

    def _check(self) -> None:
        unknown = {c: m for c, m in self.methods.items() if m not in METHODS}
        if unknown:
            raise DriftOptionsError(f"Unknown drift method(s) {unknown}: choose one of {', '.join(METHODS)}.")
        if self.rule not in RULES:
            raise DriftOptionsError(f"Unknown drift rule {self.rule!r}: choose one of {', '.join(RULES)}.")
        effects = (self.min_effect_numeric, self.min_effect_categorical)
        if not all(isinstance(e, Real) and math.isfinite(e) and e >= 0 for e in effects):
            raise DriftOptionsError(
                f"Minimum effects must be finite numbers >= 0; found {effects}. Use e.g. 0.05 and 0.02."
            )
        if self.correction not in ds.CORRECTIONS:
            raise DriftOptionsError(
                f"Unknown p-value correction {self.correction!r}: choose one of {', '.join(ds.CORRECTIONS)}."
            )
        bad = {
            c: t
            for c, t in {**self.thresholds, **self.statistic_thresholds}.items()
            if not (isinstance(t, Real) and math.isfinite(t) and t >= 0)
        }
        if bad:
            raise DriftOptionsError(f"Thresholds must be finite numbers >= 0; found {bad}.")
        if not 0 < self.dataset_share <= 1:
            raise DriftOptionsError(
                f"dataset_share must be in (0, 1]; found {self.dataset_share}. Use e.g. 0.5."
            )
        if not 0 < self.noise_quantile < 1 or self.noise_reps < 10:
            raise DriftOptionsError(
                f"The noise floor needs 0 < noise_quantile < 1 and noise_reps >= 10; found "
                f"{self.noise_quantile} and {self.noise_reps}. Use e.g. 0.99 and 200."
            )


def _options_from_dict(values: dict[str, Any]) -> DriftOptions:
    return DriftOptions(**values)


@dataclass(frozen=True)
class ColumnDrift:
    """Drift verdict for one column, with the numbers behind it.

    ``threshold_on`` says what the threshold applies to: "p_value" (drift when ``p_adjusted``
    < threshold) or "statistic" (drift when statistic >= threshold and, for distances, above
    ``noise_floor``). ``statistic`` is None when the column could not be analyzed (see note).
    ``noise_floor`` is only computed for a distance at or past its threshold (below it the
    verdict is "no drift" whatever the floor), so it is None otherwise.
    """

    column: str
    kind: str
    method: str
    statistic: float | None
    p_value: float | None
    p_adjusted: float | None
    threshold: float
    threshold_on: str
    drifted: bool
    psi: float | None
    noise_floor: float | None
    n_reference: int
    n_current: int
    missing_share: float
    missing_share_reference: float
    unseen: tuple[str, ...] = ()
    unseen_share: float = 0.0
    exact: bool = False
    note: str = ""
    effect: float | None = None
    effect_threshold: float | None = None
    explanation: str = ""

    @property
    def analyzed(self) -> bool:
        """Whether a statistic was computed."""
        return self.statistic is not None

    @property
    def severity(self) -> float:
        """How far past its threshold: >= 1 roughly means drift; -1 when not analyzed."""
        if self.statistic is None:
            return -1.0
        if self.threshold_on == "p_value":
            p = self.p_adjusted if self.p_adjusted is not None else self.p_value
            chance = self.threshold / max(p or 0.0, 1e-300)
            if self.effect_threshold and self.effect is not None:
                return min(chance, self.effect / self.effect_threshold)
            return chance
        return self.statistic / self.threshold if self.threshold > 0 else math.inf


@dataclass(frozen=True)
class DriftReport:
    """Column drift results, most severe first, and the dataset verdict."""

    columns: tuple[ColumnDrift, ...]
    n_drifted: int
    n_analyzed: int
    share_drifted: float
    dataset_drifted: bool
    options: DriftOptions

    def __getitem__(self, name: str) -> ColumnDrift:
        for column in self.columns:
            if column.column == name:
                return column
        raise KeyError(name)

    @property
    def drifted_columns(self) -> tuple[str, ...]:
        """Names of the drifted columns, most severe first."""
        return tuple(c.column for c in self.columns if c.drifted)


# --------------------------------------------------------------------------- method choice


def default_method(
    column: ColumnReference, n_reference: int, small_reference: int = 1000, rule: str = "test"
) -> str:
    """The default test for a column under a rule, given how many reference values it has.

    >>> ref = NumericReference("x", (0.0, 1.0, 1.5), True, 2, 0.0)
    >>> default_method(ref, 5000), default_method(ref, 500, rule="cutoff"), default_method(ref, 5000, rule="cutoff")
    ('chisquare', 'z', 'jensenshannon')
    """
    numeric_spread = column.kind == "numeric" and column.n_unique > 5
    if rule == "test":
        return "ks_chisquare" if numeric_spread else "chisquare"
    if n_reference <= small_reference:
        if numeric_spread:
            return "ks"
        return "z" if column.n_unique == 2 else "chisquare"
    return "wasserstein" if numeric_spread else "jensenshannon"


def default_threshold(method: str) -> float:
    """Default threshold: 0.05 significance for p-value tests, else the distance's cut-off.

    >>> default_threshold("ks"), default_threshold("psi")
    (0.05, 0.2)
    """
    return ALPHA if method in P_VALUE_METHODS else DISTANCE_THRESHOLDS[method]


def _check_method(column: ColumnReference, method: str) -> None:
    if method in NUMERIC_ONLY and column.kind != "numeric":
        raise DriftOptionsError(
            f"Method {method!r} needs a numeric column, but {column.name!r} is categorical. "
            "Choose chisquare, jensenshannon, psi, hellinger, kl_div or tvd."
        )
    if method == "z" and column.n_unique > 2:
        raise DriftOptionsError(
            f"Method 'z' compares one proportion, so it needs a binary column; {column.name!r} "
            f"has {column.n_unique} distinct baseline values. Choose chisquare or jensenshannon."
        )


def _check_options(reference: Reference, options: DriftOptions) -> None:
    names = set(reference.names)
    for what, mapping in (
        ("methods", options.methods),
        ("thresholds", options.thresholds),
        ("statistic_thresholds", options.statistic_thresholds),
    ):
        unknown = sorted(set(mapping) - names)
        if unknown:
            raise DriftOptionsError(
                f"Drift {what} name column(s) {unknown} that the baseline does not have; "
                f"its columns are {sorted(names)}. Fix the names or drop those settings."
            )
    for name, method in options.methods.items():
        _check_method(reference[name], method)


# --------------------------------------------------------------------------- one column


@dataclass(frozen=True)
class _Pair:
    """What one column's analysis needs: reference, both profiles, optional raw values."""

    ref: ColumnReference
    base: NumericProfile | CategoricalProfile
    cur: NumericProfile | CategoricalProfile
    raw_base: np.ndarray | None = None
    raw_cur: np.ndarray | None = None

    @property
    def numeric(self) -> bool:
        return isinstance(self.ref, NumericReference)

    def numeric_sides(self) -> tuple[NumericReference, NumericProfile, NumericProfile]:
        """Reference and both profiles of a numeric column (only numeric methods ask)."""
        ref, base, cur = self.ref, self.base, self.cur
        if (
            isinstance(ref, NumericReference)
            and isinstance(base, NumericProfile)
            and isinstance(cur, NumericProfile)
        ):
            return ref, base, cur
        raise TypeError(f"Column {ref.name!r} is {ref.kind}, not numeric with numeric profiles.")

    def vectors(self) -> tuple[np.ndarray, np.ndarray]:
        if self.numeric:
            return np.asarray(self.base.counts, dtype=np.int64), np.asarray(self.cur.counts, dtype=np.int64)
        base, cur = self.base, self.cur
        if isinstance(base, CategoricalProfile) and isinstance(cur, CategoricalProfile):
            return base.vector(), cur.vector()
        raise TypeError(f"Column {self.ref.name!r} is categorical but has numeric profiles.")

    def bounds(self) -> np.ndarray:
        ref, base, cur = self.numeric_sides()
        low = min(base.minimum, cur.minimum)
        high = max(base.maximum, cur.maximum)
        return ds.bin_bounds(ref.edges, low, high)

    def raw_small(self, cap: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Both raw value arrays when each holds at most ``cap`` values, else None."""
        if (
            self.raw_base is not None
            and self.raw_cur is not None
            and self.raw_base.size <= cap
            and self.raw_cur.size <= cap
        ):
            return self.raw_base, self.raw_cur
        return None


def _skip_note(pair: _Pair) -> str:
    if pair.base.n + pair.base.missing == 0:
        return "empty column: the reference has no rows"
    if pair.cur.n + pair.cur.missing == 0:
        return "empty column: the current data has no rows"
    if pair.base.n == 0:
        return "all missing: every reference value is missing"
    if pair.cur.n == 0:
        return "all missing: every current value is missing"
    return ""


def _resolve(pair: _Pair, options: DriftOptions, n_reference: int) -> tuple[str, str]:
    """Method for the column and a note when the column's shape forced a choice."""
    method = options.methods.get(pair.ref.name) or default_method(
        pair.ref, n_reference, options.small_reference, options.rule
    )
    note = "constant column" if pair.ref.n_unique == 1 else ""
    if method == "wasserstein" and not pair.numeric_sides()[1].std > 0:
        method = "jensenshannon"
        note = "constant column: no spread to norm Wasserstein by, used jensenshannon"
    return method, note


def _measure(method: str, pair: _Pair, options: DriftOptions) -> tuple[ds.StatResult | None, bool]:
    """The statistic (and p-value) of one method, and whether it came from raw values."""
    if method in NEEDS_RAW:
        if pair.raw_base is None or pair.raw_cur is None:
            return None, False
        test = ds.anderson_darling if method == "anderson" else ds.cramer_von_mises
        return test(pair.raw_base, pair.raw_cur, options.raw_sample, options.seed), True
    raw = pair.raw_small(options.raw_cap)
    if method == "ks_chisquare":
        ref, cur = pair.vectors()
        ks = ds.ks_exact(*raw) if raw is not None else ds.ks_binned(ref, cur)
        chi = ds.chi_square(*ds.pool_ordered(ref, cur))
        p = min(1.0, 2 * min(_p(ks), _p(chi)))
        return ds.StatResult(ks.statistic, p), raw is not None
    if method == "ks":
        if raw is not None:
            return ds.ks_exact(*raw), True
        ref, cur = pair.vectors()
        return ds.ks_binned(ref, cur), False
    if method == "wasserstein":
        if raw is not None:
            return ds.StatResult(ds.wasserstein_exact(*raw)), True
        return ds.StatResult(float(_distance_fn(method, pair)(*pair.vectors()))), False
    ref, cur = pair.vectors()
    if method == "chisquare":
        pool = ds.pool_rare if not pair.numeric or pair.ref.n_unique <= 5 else ds.pool_ordered
        return ds.chi_square(*pool(ref, cur)), False
    if method == "z":
        first = 1 if pair.numeric else 0  # the reference's first value (bin 0 is the lower outer bin)
        return ds.z_proportions(int(ref[first]), pair.base.n, int(cur[first]), pair.cur.n), False
    return ds.StatResult(float(_distance_fn(method, pair)(ref, cur))), False


def _p(result: ds.StatResult) -> float:
    return 1.0 if result.p_value is None else result.p_value


def _distance_fn(method: str, pair: _Pair) -> Callable[[np.ndarray, np.ndarray], Any]:
    """The distance as a function of two count arrays (batched over leading axes)."""
    if method == "wasserstein":
        ref, base, _ = pair.numeric_sides()
        bounds, scale = pair.bounds(), base.std
        step = bool(ref.discrete)
        return lambda r, c: ds.wasserstein_binned(r, c, bounds, scale, step)
    return {
        "jensenshannon": ds.jensen_shannon,
        "psi": ds.psi,
        "hellinger": ds.hellinger,
        "kl_div": ds.kl_divergence,
        "tvd": ds.total_variation,
    }[method]


def noise_floor(
    distance: Callable[[np.ndarray, np.ndarray], Any],
    ref_counts: np.ndarray,
    cur_counts: np.ndarray,
    reps: int = 200,
    level: float = 0.99,
    seed: int | Sequence[int] = 0,
) -> float:
    """The ``level`` quantile of a distance under no drift, by parametric bootstrap.

    Both samples are redrawn ``reps`` times (multinomial, vectorized) from the pooled
    histogram at their actual sizes. The quantile comes from a scaled chi-square fitted to
    the squared resampled distances (Satterthwaite: matching mean and variance), which reaches
    levels such as 0.9995 that a few hundred resamples cannot resolve directly; it is never
    below the resamples' own 0.99 quantile.

    >>> floor = noise_floor(ds.total_variation, np.array([500, 500]), np.array([500, 500]))
    >>> 0.02 < floor < 0.1
    True
    """
    n_ref, n_cur = int(ref_counts.sum()), int(cur_counts.sum())
    pooled = (ref_counts + cur_counts) / (n_ref + n_cur)
    rng = np.random.default_rng(seed)
    ref = rng.multinomial(n_ref, pooled, size=reps)
    cur = rng.multinomial(n_cur, pooled, size=reps)
    values = np.asarray(distance(ref, cur), dtype=np.float64)
    empirical = float(np.quantile(values, min(level, 0.99)))
    squares = values * values
    mean, var = float(squares.mean()), float(squares.var(ddof=1))
    if not (mean > 0 and var > 0):
        return empirical
    scale, dof = var / (2 * mean), 2 * mean * mean / var
    # 2 * gammaincinv(dof / 2, level) is what stats.chi2.ppf(level, dof) computes, without importing scipy.stats
    return max(math.sqrt(scale * float(2 * special.gammaincinv(dof / 2, level))), empirical)


def floor_level(options: DriftOptions, n_columns: int) -> float:
    """Quantile used for noise floors: ``noise_quantile``, Bonferroni-adjusted over columns.

    With ``correction="none"`` it is ``noise_quantile`` itself; otherwise ``1 - (1 -
    noise_quantile) / n_columns``, so sampling noise alone flags any of the distance-judged
    columns of a window with probability about 1 - noise_quantile.

    >>> floor_level(DriftOptions(), 20)
    0.9995
    """
    if options.correction == "none" or n_columns <= 1:
        return options.noise_quantile
    return 1 - (1 - options.noise_quantile) / n_columns


def _column_seed(options: DriftOptions, name: str) -> list[int]:
    return [options.seed, zlib.crc32(name.encode())]


def _analyze(pair: _Pair, options: DriftOptions, level: float) -> ColumnDrift:
    """Everything about one column except the multiple-testing adjustment."""
    name = pair.ref.name
    skip = _skip_note(pair)
    method, note = _resolve(pair, options, pair.base.n) if not skip else (options.methods.get(name, ""), skip)
    base = dict(
        column=name,
        kind=pair.ref.kind,
        n_reference=pair.base.n,
        n_current=pair.cur.n,
        missing_share=pair.cur.missing_share,
        missing_share_reference=pair.base.missing_share,
        **_unseen(pair),
    )
    calibrated = options.statistic_thresholds.get(name)
    on = "statistic" if calibrated is not None or method in DISTANCE_THRESHOLDS else "p_value"
    threshold = (
        calibrated
        if calibrated is not None
        else options.thresholds.get(name, default_threshold(method) if method else ALPHA)
    )
    result, exact = (None, False) if skip else _measure(method, pair, options)
    if result is None:
        note = note or "needs raw values: pass the reference and current frames"
        return ColumnDrift(
            method=method or "none",
            statistic=None,
            p_value=None,
            p_adjusted=None,
            threshold=threshold,
            threshold_on=on,
            drifted=False,
            psi=None,
            noise_floor=None,
            exact=False,
            note=note,
            **base,
        )
    floor = None
    # The floor can only overturn a statistic at or past its threshold; below it, skip the bootstrap.
    if method in DISTANCE_THRESHOLDS and options.noise_floor and result.statistic >= threshold:
        floor = noise_floor(
            _distance_fn(method, pair),
            *pair.vectors(),
            options.noise_reps,
            level,
            _column_seed(options, name),
        )
    above_floor = floor is None or result.statistic > floor
    drifted = on == "statistic" and result.statistic >= threshold and above_floor
    effect, least = _effect(pair, options) if options.rule == "test" else (None, None)
    if on == "statistic":
        least = None
    return ColumnDrift(
        method=method,
        statistic=result.statistic,
        p_value=result.p_value,
        p_adjusted=None,
        threshold=threshold,
        threshold_on=on,
        drifted=drifted,
        psi=float(ds.psi(*pair.vectors())),
        noise_floor=floor,
        exact=exact,
        note=note,
        effect=effect,
        effect_threshold=least,
        **base,
    )


def _effect(pair: _Pair, options: DriftOptions) -> tuple[float, float]:
    """How big the change is in practice, and the least that counts as drift.

    Numeric columns with spread: Wasserstein-1 over the baseline's standard deviation (how
    many standard deviations values moved on average); others: total variation (share of rows that changed
    category or bin).
    """
    if pair.numeric and pair.ref.n_unique > 5:
        ref, base, _ = pair.numeric_sides()
        if base.std > 0:
            moved = ds.wasserstein_binned(*pair.vectors(), pair.bounds(), base.std, bool(ref.discrete))
            return float(moved), options.min_effect_numeric
    return float(ds.total_variation(*pair.vectors())), options.min_effect_categorical


def explain(c: ColumnDrift) -> str:
    """One plain sentence on why a column drifted or not.

    >>> c = ColumnDrift("x", "numeric", "ks_chisquare", 0.06, 1e-9, 1e-8, 0.05, "p_value", True,
    ...                 0.1, None, 20000, 5000, 0.0, 0.0, effect=0.12, effect_threshold=0.05)
    >>> print(explain(c))
    Drifted: values moved by 0.12 standard deviations on average, more than chance produces with 5,000 rows against the baseline's 20,000 (odds under 1 in a million), and past the 0.05 that counts as a change.
    """
    if c.statistic is None:
        return f"Not analyzed: {c.note or 'no values to compare'}."
    if c.threshold_on == "statistic":
        return _explain_cutoff(c)
    p = c.p_adjusted if c.p_adjusted is not None else c.p_value
    sizes = f"{c.n_current:,} rows against the baseline's {c.n_reference:,}"
    beyond = p is not None and p < c.threshold
    if c.effect is None or c.effect_threshold is None:
        if beyond:
            return f"Drifted: chance alone produces a change this large {_odds(p)} times with {sizes}."
        return f"Steady: within what chance produces with {sizes}."
    moved, least = _effect_words(c)
    if c.drifted:
        return (
            f"Drifted: {moved}, more than chance produces with {sizes} (odds {_odds(p)}), "
            f"and past the {least} that counts as a change."
        )
    if beyond:
        return f"Steady: {moved}; a real change with {sizes}, but under the {least} that counts."
    return f"Steady: {moved}, within what chance produces with {sizes}."


def _effect_words(c: ColumnDrift) -> tuple[str, str]:
    effect, least = c.effect or 0.0, c.effect_threshold or 0.0
    if c.method in NUMERIC_ONLY or (c.kind == "numeric" and c.method not in ("chisquare", "z")):
        return f"values moved by {effect:.2f} standard deviations on average", f"{least:g}"
    return f"{effect:.1%} of rows changed category", f"{least:.0%}"


def _odds(p: float | None) -> str:
    if p is None:
        return "unknown"
    if p <= 1e-6:
        return "under 1 in a million"
    return f"about 1 in {round(1 / p):,}"


def _explain_cutoff(c: ColumnDrift) -> str:
    name = METHOD_NAMES.get(c.method, c.method)
    stat = f"{name} {c.statistic:.3g}"
    if c.drifted:
        floor = f", above the {c.noise_floor:.3g} sampling noise reaches" if c.noise_floor is not None else ""
        return f"Drifted: {stat} is at or past its cut-off {c.threshold:g}{floor}."
    if c.statistic is not None and c.statistic >= c.threshold and c.noise_floor is not None:
        return f"Steady: {stat} reaches its cut-off {c.threshold:g} but not the {c.noise_floor:.3g} that sampling noise alone reaches at these sizes."
    return f"Steady: {stat} is under its cut-off {c.threshold:g}."


def _unseen(pair: _Pair) -> dict[str, Any]:
    if not isinstance(pair.cur, CategoricalProfile):
        return {}
    names = tuple(k for k, _ in sorted(pair.cur.unseen, key=lambda kv: (-kv[1], kv[0])))
    share = pair.cur.unseen_total / pair.cur.n if pair.cur.n else 0.0
    return {"unseen": names, "unseen_share": share}


def _correct(results: list[ColumnDrift], correction: str) -> list[ColumnDrift]:
    """Adjust the p-values that decide verdicts across columns and set those verdicts."""
    tested = [
        (i, r.p_value) for i, r in enumerate(results) if r.threshold_on == "p_value" and r.p_value is not None
    ]
    adjusted = ds.adjust_p_values([p for _, p in tested], correction)
    out = list(results)
    for (i, _), p in zip(tested, adjusted, strict=False):
        r = out[i]
        large = r.effect_threshold is None or (r.effect is not None and r.effect >= r.effect_threshold)
        out[i] = replace(r, p_adjusted=float(p), drifted=bool(p < r.threshold and large))
    return out


# --------------------------------------------------------------------------- the report


def column_drift(
    reference: Reference,
    current: FrameProfile,
    options: DriftOptions = DriftOptions(),
    reference_frame: pd.DataFrame | None = None,
    current_frame: pd.DataFrame | None = None,
) -> DriftReport:
    """Drift of every reference column in ``current``, most severe first.

    Raw frames are optional: with them, exact KS and Wasserstein are used when both sides
    have at most ``options.raw_cap`` values, and Anderson-Darling / Cramér-von Mises become
    possible. An empty, constant or all-missing column is reported with a note and never
    stops the others.

    >>> frame = pd.DataFrame({"x": np.arange(2000.0)})
    >>> ref = build_reference(frame, [FeatureSpec("x", "numeric")])
    >>> report = column_drift(ref, profile_frame(frame + 500, ref))
    >>> report["x"].method, round(report["x"].statistic, 2), report.dataset_drifted
    ('ks_chisquare', 0.25, True)
    """
    _check_profile(reference, current)
    _check_options(reference, options)
    pairs = [
        _Pair(
            column,
            reference.baseline[column.name],
            current[column.name],
            *_raw_pair(
                column,
                reference.baseline[column.name],
                current[column.name],
                reference_frame,
                current_frame,
                options,
            ),
        )
        for column in reference.columns
    ]
    level = floor_level(options, sum(_judged_by_distance(pair, options) for pair in pairs))
    results = [_analyze(pair, options, level) for pair in pairs]
    return _report(_correct(results, options.correction), options)


def _judged_by_distance(pair: _Pair, options: DriftOptions) -> bool:
    return not _skip_note(pair) and _resolve(pair, options, pair.base.n)[0] in DISTANCE_THRESHOLDS


def _report(results: list[ColumnDrift], options: DriftOptions) -> DriftReport:
    results = [replace(r, explanation=explain(r)) for r in results]  # once every verdict is final
    ordered = sorted(results, key=lambda r: (not r.drifted, not r.analyzed, -r.severity, r.column))
    n_analyzed = sum(r.analyzed for r in ordered)
    n_drifted = sum(r.drifted for r in ordered)
    share = n_drifted / n_analyzed if n_analyzed else 0.0
    return DriftReport(
        tuple(ordered),
        n_drifted,
        n_analyzed,
        share,
        bool(n_analyzed and share >= options.dataset_share),
        options,
    )


def _check_profile(reference: Reference, current: FrameProfile) -> None:
    if current.reference_id != reference.fingerprint:
        raise SchemaMismatchError(
            f"The current profile was built against another baseline (reference id "
            f"{current.reference_id}, expected {reference.fingerprint}). Recompute it with "
            "profile_frame(frame, reference) for the active baseline."
        )
    missing = [name for name in reference.names if name not in current.columns]
    if missing:
        raise SchemaMismatchError(
            f"The current profile lacks baseline column(s) {missing}. Profile the current data "
            "with profile_frame(frame, reference)."
        )


def _raw_pair(
    column: ColumnReference,
    base: NumericProfile | CategoricalProfile,
    cur: NumericProfile | CategoricalProfile,
    reference_frame: pd.DataFrame | None,
    current_frame: pd.DataFrame | None,
    options: DriftOptions,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Raw numeric values of both sides, only when a method can use them."""
    if reference_frame is None or current_frame is None or not isinstance(column, NumericReference):
        return None, None
    method = options.methods.get(column.name)
    small = base.n <= options.raw_cap and cur.n <= options.raw_cap
    if not (small or method in NEEDS_RAW):
        return None, None
    return _finite(reference_frame, column.name), _finite(current_frame, column.name)


def _finite(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        raise SchemaMismatchError(
            f"The raw frame lacks column {name!r}. Pass the frames the profiles were built from."
        )
    x = frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
    return x[np.isfinite(x)]


def drift_between_frames(
    reference_frame: pd.DataFrame,
    current_frame: pd.DataFrame,
    columns: Sequence[FeatureSpec],
    options: DriftOptions = DriftOptions(),
) -> DriftReport:
    """Build the reference from one frame, profile the other, and run :func:`column_drift`.

    >>> a = pd.DataFrame({"c": ["x", "y"] * 50})
    >>> report = drift_between_frames(a, a, [FeatureSpec("c", "categorical")])
    >>> report["c"].method, report["c"].drifted
    ('chisquare', False)
    """
    reference = build_reference(reference_frame, columns)
    current = profile_frame(current_frame, reference)
    return column_drift(reference, current, options, reference_frame, current_frame)


# --------------------------------------------------------------------------- calibration


@dataclass(frozen=True)
class CalibratedThreshold:
    """A statistic threshold learned from baseline chunks: mean + k std of the chunk statistics."""

    column: str
    method: str
    mean: float
    std: float
    threshold: float
    n_chunks: int


@dataclass(frozen=True)
class Calibration:
    """Calibrated thresholds for every column that could be measured on the baseline."""

    window: int
    against: str
    k: float
    columns: tuple[CalibratedThreshold, ...]

    def options(self, base: DriftOptions = DriftOptions()) -> DriftOptions:
        """``base`` with the calibrated methods and statistic thresholds set per column."""
        methods = {**base.methods, **{c.column: c.method for c in self.columns}}
        thresholds = {**base.statistic_thresholds, **{c.column: c.threshold for c in self.columns}}
        return replace(base, methods=methods, statistic_thresholds=thresholds)


def calibrate_thresholds(
    reference: Reference,
    reference_frame: pd.DataFrame,
    window: int,
    options: DriftOptions = DriftOptions(),
    against: str = "rest",
    k: float = 3.0,
) -> Calibration:
    """Thresholds from the baseline itself: statistic of each chunk vs the rest (or the full baseline).

    The baseline is cut, in its row order, into consecutive chunks of ``window`` rows (use
    the size of the windows you will monitor); each chunk is compared with the rest of the
    baseline (``against="rest"``) or with all of it (``"full"``) using the method
    column_drift would use; the threshold is mean + k * std (ddof=1) of those statistics.
    """
    chunks = _chunks(reference, reference_frame, window, against)
    _check_options(reference, options)
    stats: dict[str, list[float]] = {name: [] for name in reference.names}
    methods: dict[str, str] = {}
    full = reference.baseline
    for start in chunks:
        part = reference_frame.iloc[start : start + window]
        chunk = profile_frame(part, reference)
        rest = subtract(full, chunk) if against == "rest" else full
        for column in reference.columns:
            pair = _calibration_pair(column, rest, chunk, reference_frame, start, window, against, options)
            if _skip_note(pair):
                continue
            method, _ = _resolve(pair, options, full[column.name].n)
            methods[column.name] = method
            result, _ = _measure(method, pair, options)
            if result is not None:
                stats[column.name].append(result.statistic)
    return Calibration(
        window,
        against,
        k,
        tuple(
            _calibrated(name, methods[name], values, k) for name, values in stats.items() if len(values) >= 2
        ),
    )


def _chunks(reference: Reference, frame: pd.DataFrame, window: int, against: str) -> range:
    if against not in AGAINST:
        raise CalibrationError(f"Unknown comparison {against!r}: choose 'rest' or 'full'.")
    if len(frame) != reference.baseline.n_rows:
        raise CalibrationError(
            f"The frame has {len(frame)} rows but the reference was built from "
            f"{reference.baseline.n_rows}: pass the baseline frame the reference came from."
        )
    n_chunks = len(frame) // window if window > 0 else 0
    if n_chunks < 2:
        raise CalibrationError(
            f"A window of {window} rows cuts the {len(frame)}-row baseline into {n_chunks} chunk(s); "
            f"calibration needs at least 2. Choose a window of at most {len(frame) // 2} rows."
        )
    return range(0, n_chunks * window, window)


def _calibration_pair(
    column: ColumnReference,
    rest: FrameProfile,
    chunk: FrameProfile,
    frame: pd.DataFrame,
    start: int,
    window: int,
    against: str,
    options: DriftOptions,
) -> _Pair:
    base, cur = rest[column.name], chunk[column.name]
    if not isinstance(column, NumericReference):
        return _Pair(column, base, cur)
    method = options.methods.get(column.name)
    if not (method in NEEDS_RAW or (base.n <= options.raw_cap and cur.n <= options.raw_cap)):
        return _Pair(column, base, cur)
    values = frame[column.name].to_numpy(dtype=np.float64, na_value=np.nan)
    part = values[start : start + window]
    other = np.concatenate([values[:start], values[start + window :]]) if against == "rest" else values
    return _Pair(column, base, cur, other[np.isfinite(other)], part[np.isfinite(part)])


def _calibrated(name: str, method: str, values: list[float], k: float) -> CalibratedThreshold:
    arr = np.asarray(values, dtype=np.float64)
    mean, std = float(arr.mean()), float(arr.std(ddof=1))
    return CalibratedThreshold(name, method, mean, std, mean + k * std, len(values))
