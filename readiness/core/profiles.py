"""Mergeable column profiles: the aggregates drift is computed from.

A :class:`Reference` is fixed by the baseline. Per numeric column it holds bin edges (the
baseline's quantiles, denser in the tails, or the baseline's own values when it has at most
``bins`` distinct ones) and the bins are

    (-inf, e[0]), [e[0], e[1]), ..., [e[m-2], e[m-1]), [e[m-1], +inf)

with ``e[0]`` the baseline minimum and ``e[m-1]`` just above the baseline maximum, so the two
outer bins hold only values outside the baseline range. Per categorical column it holds the
baseline's ``top_k`` most frequent categories; the baseline's other categories are pooled
into "other", and values the baseline never had are "unseen".

A profile of a column in one frame (:class:`NumericProfile`, :class:`CategoricalProfile`)
is a few hundred numbers; :func:`merge` is associative and commutative (exactly for every
count, within float rounding for sums) and the empty profile is its identity, so any range
of time windows is answered by merging stored window profiles. ``to_dict``/``from_dict``
turn profiles and references into JSON-ready plain types for a database table.

Missing values (None, NaN and, for numeric columns, +-inf) are counted, never binned.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from readiness.core.lazy import lazy_module
from readiness.core.mapping import proba_class
from readiness.core.probabilities import is_probability_output, output_specs, probability_outputs
from readiness.core.records import Baseline, FeatureSpec, Model, features_from_json
from readiness.errors import ProfileError, SchemaMismatchError

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

DEFAULT_BINS = 100
DEFAULT_TOP_K = 200
MAX_UNSEEN = 200
MAX_RARE = 10_000
TAIL_LEVELS = (0.0005, 0.001, 0.002, 0.005)
KINDS = ("numeric", "categorical")


# --------------------------------------------------------------------------- references


@dataclass(frozen=True)
class NumericReference:
    """Bin edges for one numeric column, fixed by the baseline.

    ``discrete`` means the edges are exactly the baseline's distinct values (each value
    has its own bin); ``shift`` is the baseline median, subtracted before sums are taken so
    that variances stay accurate for large offsets such as epoch seconds.
    """

    name: str
    edges: tuple[float, ...]
    discrete: bool
    n_unique: int
    shift: float
    kind: str = field(default="numeric", init=False)

    @property
    def n_bins(self) -> int:
        """Number of bins including the two open outer bins."""
        return len(self.edges) + 1

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {
            "kind": "numeric",
            "name": self.name,
            "edges": list(self.edges),
            "discrete": self.discrete,
            "n_unique": self.n_unique,
            "shift": self.shift,
        }


@dataclass(frozen=True)
class CategoricalReference:
    """The baseline's top categories for one column, and the rest of its category set.

    ``rare`` lists the baseline's categories beyond the top ones (counted as "other");
    when the baseline had more than ``MAX_RARE`` of them, ``rare_truncated`` is set and every
    value outside the top categories is counted as "other", none as unseen.
    """

    name: str
    categories: tuple[str, ...]
    rare: frozenset[str]
    rare_truncated: bool
    n_unique: int
    kind: str = field(default="categorical", init=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {
            "kind": "categorical",
            "name": self.name,
            "categories": list(self.categories),
            "rare": sorted(self.rare),
            "rare_truncated": self.rare_truncated,
            "n_unique": self.n_unique,
        }


ColumnReference: TypeAlias = NumericReference | CategoricalReference


# --------------------------------------------------------------------------- profiles


@dataclass(frozen=True)
class NumericProfile:
    """Count, missing, min, max, sums and histogram of one numeric column.

    ``sum`` and ``sum_sq`` are of ``value - shift`` (the reference's shift); ``counts`` has
    one entry per reference bin, the outer bins first and last. ``minimum``/``maximum`` are
    +inf/-inf for an empty profile.
    """

    n: int
    missing: int
    minimum: float
    maximum: float
    sum: float
    sum_sq: float
    counts: tuple[int, ...]
    shift: float = 0.0
    kind: str = field(default="numeric", init=False)

    @classmethod
    def empty(cls, n_bins: int, shift: float = 0.0) -> NumericProfile:
        """The identity of merge for a column with ``n_bins`` bins."""
        return cls(0, 0, math.inf, -math.inf, 0.0, 0.0, (0,) * n_bins, shift)

    @property
    def mean(self) -> float:
        """Mean of the non-missing values (nan when there are none)."""
        return self.shift + self.sum / self.n if self.n else math.nan

    @property
    def std(self) -> float:
        """Population standard deviation (ddof=0, like numpy) of the non-missing values."""
        if not self.n:
            return math.nan
        centered = self.sum / self.n
        return math.sqrt(max(self.sum_sq / self.n - centered * centered, 0.0))

    @property
    def missing_share(self) -> float:
        """Share of rows whose value is missing (0 for an empty profile)."""
        total = self.n + self.missing
        return self.missing / total if total else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form; an empty profile's min/max become None."""
        return {
            "kind": "numeric",
            "n": self.n,
            "missing": self.missing,
            "min": self.minimum if self.n else None,
            "max": self.maximum if self.n else None,
            "sum": self.sum,
            "sum_sq": self.sum_sq,
            "counts": list(self.counts),
            "shift": self.shift,
        }


@dataclass(frozen=True)
class CategoricalProfile:
    """Count, missing and category counts of one categorical column.

    ``counts`` is aligned with the reference categories; ``other`` counts the baseline's
    rarer categories; ``unseen`` holds (name, count) for categories the baseline never had,
    sorted by name and limited to the ``MAX_UNSEEN`` smallest names (a rule that keeps
    merging exact); ``unseen_other`` counts the unseen values beyond those.
    """

    n: int
    missing: int
    counts: tuple[int, ...]
    other: int = 0
    unseen: tuple[tuple[str, int], ...] = ()
    unseen_other: int = 0
    kind: str = field(default="categorical", init=False)

    @classmethod
    def empty(cls, n_categories: int) -> CategoricalProfile:
        """The identity of merge for a column with ``n_categories`` reference categories."""
        return cls(0, 0, (0,) * n_categories)

    @property
    def unseen_total(self) -> int:
        """Number of values whose category the baseline never had."""
        return sum(count for _, count in self.unseen) + self.unseen_other

    @property
    def missing_share(self) -> float:
        """Share of rows whose value is missing (0 for an empty profile)."""
        total = self.n + self.missing
        return self.missing / total if total else 0.0

    def vector(self) -> np.ndarray:
        """Counts per reference category, then "other", then all unseen values together."""
        return np.array([*self.counts, self.other, self.unseen_total], dtype=np.int64)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {
            "kind": "categorical",
            "n": self.n,
            "missing": self.missing,
            "counts": list(self.counts),
            "other": self.other,
            "unseen": [[name, count] for name, count in self.unseen],
            "unseen_other": self.unseen_other,
        }


ColumnProfile: TypeAlias = NumericProfile | CategoricalProfile


@dataclass(frozen=True)
class FrameProfile:
    """Per-column profiles of one frame (or merged frames) against one reference."""

    reference_id: str
    n_rows: int
    columns: Mapping[str, ColumnProfile]

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", MappingProxyType(dict(self.columns)))

    def __getitem__(self, name: str) -> ColumnProfile:
        return self.columns[name]

    def __reduce__(self) -> tuple[Any, ...]:  # mappingproxy cannot be pickled (st.cache_data pickles)
        return (FrameProfile, (self.reference_id, self.n_rows, dict(self.columns)))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {
            "reference_id": self.reference_id,
            "n_rows": self.n_rows,
            "columns": {name: p.to_dict() for name, p in self.columns.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FrameProfile:
        """Read back what ``to_dict`` wrote."""
        try:
            columns = {name: profile_from_dict(d) for name, d in data["columns"].items()}
            return cls(str(data["reference_id"]), int(data["n_rows"]), columns)
        except (KeyError, TypeError, AttributeError) as exc:
            raise _bad_dict("frame profile", exc) from exc


@dataclass(frozen=True)
class Reference:
    """Bins and categories fixed by a baseline, with the baseline's own profiles."""

    columns: tuple[ColumnReference, ...]
    baseline: FrameProfile
    fingerprint: str

    def __getitem__(self, name: str) -> ColumnReference:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        """Column names in baseline order."""
        return tuple(c.name for c in self.columns)

    @property
    def specs(self) -> tuple[FeatureSpec, ...]:
        """The columns as FeatureSpecs."""
        return tuple(FeatureSpec(c.name, c.kind) for c in self.columns)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form, baseline profiles included."""
        return {
            "fingerprint": self.fingerprint,
            "columns": [c.to_dict() for c in self.columns],
            "baseline": self.baseline.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reference:
        """Read back what ``to_dict`` wrote; the fingerprint is checked."""
        try:
            columns = tuple(_column_reference_from_dict(d) for d in data["columns"])
            baseline = FrameProfile.from_dict(data["baseline"])
            stored = str(data["fingerprint"])
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise _bad_dict("reference", exc) from exc
        if fingerprint(columns) != stored:
            raise ProfileError(
                "The stored reference does not match its fingerprint: it was edited or "
                "corrupted. Rebuild it from the baseline with build_reference()."
            )
        return cls(columns, baseline, stored)


# --------------------------------------------------------------------------- building


def build_reference(
    frame: pd.DataFrame,
    columns: Sequence[FeatureSpec],
    bins: int = DEFAULT_BINS,
    top_k: int = DEFAULT_TOP_K,
) -> Reference:
    """Fix bins and categories from a baseline frame and profile the baseline with them.

    >>> frame = pd.DataFrame({"x": [1.0, 2.0, 2.0, None], "c": ["a", "b", "a", "a"]})
    >>> ref = build_reference(frame, [FeatureSpec("x", "numeric"), FeatureSpec("c", "categorical")])
    >>> ref["c"].categories, ref.baseline["x"].counts
    (('a', 'b'), (0, 1, 2, 0))
    """
    _check_columns(frame, columns)
    built = [
        _build_numeric(spec.name, frame[spec.name], bins)
        if spec.kind == "numeric"
        else _build_categorical(spec.name, frame[spec.name], top_k)
        for spec in columns
    ]
    refs = tuple(ref for ref, _ in built)
    key = fingerprint(refs)
    baseline = FrameProfile(key, len(frame), {ref.name: profile for ref, profile in built})
    return Reference(refs, baseline, key)


def _build_numeric(name: str, values: pd.Series, bins: int) -> tuple[NumericReference, NumericProfile]:
    x = _as_float(values, name)
    finite = x[np.isfinite(x)]
    ordered = np.sort(finite)
    ref = _numeric_reference(name, ordered, bins)
    return ref, _numeric_from_sorted(ordered, len(x) - len(ordered), ref)


def _build_categorical(
    name: str, values: pd.Series, top_k: int
) -> tuple[CategoricalReference, CategoricalProfile]:
    counts, missing = _series_counts(values, name)
    ref = _categorical_reference(name, counts, top_k)
    return ref, _categorical_from_counts(counts, missing, ref)


def fingerprint(columns: Iterable[ColumnReference]) -> str:
    """A short hash of the bins and categories: profiles only merge under the same one."""
    text = json.dumps([c.to_dict() for c in columns], sort_keys=True, allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def quantile_levels(bins: int = DEFAULT_BINS) -> np.ndarray:
    """Quantile levels of the inner edges: ``bins`` equal steps plus finer tail levels.

    >>> quantile_levels(4).tolist()
    [0.0005, 0.001, 0.002, 0.005, 0.25, 0.5, 0.75, 0.995, 0.998, 0.999, 0.9995]
    """
    body = np.arange(1, bins) / bins
    tails = np.array(TAIL_LEVELS)
    return np.unique(np.concatenate([tails, body, 1.0 - tails]))


def _numeric_reference(name: str, ordered: np.ndarray, bins: int) -> NumericReference:
    if ordered.size == 0:
        return NumericReference(name, (), False, 0, 0.0)
    n_unique = 1 + int(np.count_nonzero(ordered[1:] != ordered[:-1]))
    top = np.nextafter(ordered[-1], np.inf)
    shift = float(ordered[len(ordered) // 2])
    if n_unique <= bins:
        edges = np.append(np.unique(ordered), top)
        return NumericReference(name, _floats(edges), True, n_unique, shift)
    levels = quantile_levels(bins)
    positions = np.clip(np.ceil(levels * len(ordered)).astype(np.int64) - 1, 0, len(ordered) - 1)
    edges = np.unique(np.concatenate([ordered[:1], ordered[positions], [top]]))
    return NumericReference(name, _floats(edges), False, n_unique, shift)


def _categorical_reference(name: str, counts: pd.Series, top_k: int) -> CategoricalReference:
    ordered = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    names = ordered.index.tolist()
    rest = names[top_k:]
    truncated = len(rest) > MAX_RARE
    return CategoricalReference(name, tuple(names[:top_k]), frozenset(rest[:MAX_RARE]), truncated, len(names))


def _floats(values: np.ndarray) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


# --------------------------------------------------------------------------- profiling


def profile_frame(frame: pd.DataFrame, reference: Reference) -> FrameProfile:
    """Profile every reference column of a frame against the reference's bins and categories.

    >>> ref = build_reference(pd.DataFrame({"x": [0.0, 1.0, 2.0]}), [FeatureSpec("x", "numeric")])
    >>> profile_frame(pd.DataFrame({"x": [-5.0, 1.5, None, 9.0]}), ref)["x"].counts
    (1, 0, 1, 0, 1)
    """
    _check_columns(frame, reference.specs)
    return _profile_columns(frame, reference.columns, reference.fingerprint)


def empty_profile(reference: Reference) -> FrameProfile:
    """The profile of a frame without rows: the identity of merge."""
    return FrameProfile(reference.fingerprint, 0, {c.name: _empty_column(c) for c in reference.columns})


def _empty_column(column: ColumnReference) -> ColumnProfile:
    if isinstance(column, NumericReference):
        return NumericProfile.empty(column.n_bins, column.shift)
    return CategoricalProfile.empty(len(column.categories))


def _profile_columns(frame: pd.DataFrame, columns: Sequence[ColumnReference], key: str) -> FrameProfile:
    profiles = {
        c.name: profile_numeric(frame[c.name], c)
        if isinstance(c, NumericReference)
        else profile_categorical(frame[c.name], c)
        for c in columns
    }
    return FrameProfile(key, len(frame), profiles)


def profile_numeric(values: pd.Series | np.ndarray, column: NumericReference) -> NumericProfile:
    """Profile one numeric column against its reference bins."""
    x = _as_float(values, column.name)
    finite = np.isfinite(x)
    if not finite.all():
        x = x[finite]
    missing = len(finite) - len(x)
    if x.size == 0:
        return replace(NumericProfile.empty(column.n_bins, column.shift), missing=missing)
    counts = np.bincount(bin_index(x, np.asarray(column.edges)), minlength=column.n_bins)
    centered = x - column.shift
    return NumericProfile(
        n=int(x.size),
        missing=missing,
        minimum=float(x.min()),
        maximum=float(x.max()),
        sum=float(centered.sum()),
        sum_sq=_sum_sq(centered),
        counts=tuple(counts.tolist()),
        shift=column.shift,
    )


def profile_categorical(values: pd.Series, column: CategoricalReference) -> CategoricalProfile:
    """Profile one categorical column against its reference categories."""
    counts, missing = _series_counts(pd.Series(values), column.name)
    return _categorical_from_counts(counts, missing, column)


def _categorical_from_counts(
    counts: pd.Series, missing: int, column: CategoricalReference
) -> CategoricalProfile:
    names = counts.index
    numbers = counts.to_numpy(dtype=np.int64)
    position = pd.Index(column.categories, dtype=object).get_indexer(names)
    known = position >= 0
    in_top = np.zeros(len(column.categories), dtype=np.int64)
    np.add.at(in_top, position[known], numbers[known])
    rest_names, rest_counts = names[~known], numbers[~known]
    rare = np.ones(len(rest_names), dtype=bool) if column.rare_truncated else rest_names.isin(column.rare)
    unseen = sorted(zip(rest_names[~rare].tolist(), rest_counts[~rare].tolist(), strict=False))
    kept = tuple((str(k), int(v)) for k, v in unseen[:MAX_UNSEEN])
    return CategoricalProfile(
        n=int(numbers.sum()),
        missing=missing,
        counts=tuple(in_top.tolist()),
        other=int(rest_counts[rare].sum()),
        unseen=kept,
        unseen_other=int(sum(v for _, v in unseen[MAX_UNSEEN:])),
    )


def _numeric_from_sorted(ordered: np.ndarray, missing: int, column: NumericReference) -> NumericProfile:
    if ordered.size == 0:
        return replace(NumericProfile.empty(column.n_bins, column.shift), missing=missing)
    below = np.searchsorted(ordered, column.edges, side="left")  # values below each edge
    counts = np.diff(np.concatenate([[0], below, [ordered.size]]))
    centered = ordered - column.shift
    return NumericProfile(
        n=int(ordered.size),
        missing=missing,
        minimum=float(ordered[0]),
        maximum=float(ordered[-1]),
        sum=float(centered.sum()),
        sum_sq=_sum_sq(centered),
        counts=tuple(counts.tolist()),
        shift=column.shift,
    )


def bin_index(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each finite value: 0 below ``edges[0]``, i for ``[edges[i-1], edges[i])``.

    Same result as ``np.searchsorted(edges, x, side="right")``, several times faster for
    large arrays: a lookup table over a uniform grid gives each value a lower bound of its
    bin, and a few vectorized comparisons finish the job.

    >>> bin_index(np.array([-1.0, 0.0, 0.5, 1.0, 7.0]), np.array([0.0, 1.0])).tolist()
    [0, 1, 1, 2, 2]
    """
    if len(edges) <= 8 or x.size < 10_000:
        return np.searchsorted(edges, x, side="right")
    for cells in (8192, 65536):
        table = _known_table(edges.astype(np.float64).tobytes(), cells)
        if table is not None:
            return _lookup_bins(x, edges, cells, *table)
    return np.searchsorted(edges, x, side="right")


@functools.lru_cache(maxsize=256)
def _known_table(edges: bytes, cells: int) -> tuple[np.ndarray, int] | None:
    """:func:`_lookup_table` of edges given as float64 bytes, built once per column's edges (an upload bins every block)."""
    table = _lookup_table(np.frombuffer(edges, dtype=np.float64), cells)
    if table is not None:
        table[0].setflags(write=False)  # shared by every caller
    return table


def _lookup_table(edges: np.ndarray, cells: int, max_steps: int = 4) -> tuple[np.ndarray, int] | None:
    lo, hi = float(edges[0]), float(edges[-1])
    width = (hi - lo) / cells
    if not (width > 0 and math.isfinite(width)):
        return None
    grid = lo + width * np.arange(-2, cells + 3)  # start of cells -2 .. cells+2
    below = np.searchsorted(edges, grid[:-3], side="right")  # bound for cell c uses start of c-1
    above = np.searchsorted(edges, grid[3:], side="right")  # and the end of cell c+1
    above[-1] = len(edges)  # the clipped top cell holds everything above
    steps = int((above - below).max())
    return (below, steps) if steps <= max_steps else None


def _lookup_bins(x: np.ndarray, edges: np.ndarray, cells: int, below: np.ndarray, steps: int) -> np.ndarray:
    lo, hi = float(edges[0]), float(edges[-1])
    with np.errstate(over="ignore", invalid="ignore"):
        cell = np.subtract(x, lo)
        np.multiply(cell, cells / (hi - lo), out=cell)
    np.clip(cell, -1, cells, out=cell)
    index = below[cell.astype(np.intp) + 1]
    padded = np.append(edges, np.inf)
    for _ in range(steps):
        index += x >= padded[index]
    return index


def _sum_sq(centered: np.ndarray) -> float:
    """Sum of squares; beyond float range (values past ~1e154) it is inf, and so is the std."""
    with np.errstate(over="ignore"):
        return float(np.dot(centered, centered))


# --------------------------------------------------------------------------- merging


def merge(a: Any, b: Any) -> Any:
    """Merge two profiles of the same kind (numeric, categorical or frame).

    >>> a = CategoricalProfile(2, 0, (1, 1), unseen=(("z", 1),))
    >>> b = CategoricalProfile(3, 1, (3, 0), other=1)
    >>> merge(a, b) == CategoricalProfile(5, 1, (4, 1), other=1, unseen=(("z", 1),))
    True
    """
    return merge_all([a, b])


def merge_all(profiles: Iterable[Any], start: Any = None) -> Any:
    """Merge any number of profiles of one kind; ``start`` (e.g. an empty profile) is merged in too."""
    items = list(profiles) if start is None else [start, *profiles]
    if not items:
        raise ProfileError(
            "There are no profiles to merge: the chosen range holds no data. "
            "Pick a range with data, or pass start=empty_profile(reference)."
        )
    kinds = {type(p) for p in items}
    if len(kinds) != 1:
        raise ProfileError(f"Cannot merge profiles of different kinds ({sorted(k.__name__ for k in kinds)}).")
    kind = kinds.pop()
    if kind is NumericProfile:
        return _merge_numeric(items)
    if kind is CategoricalProfile:
        return _merge_categorical(items)
    if kind is FrameProfile:
        return _merge_frames(items)
    raise ProfileError(f"Cannot merge objects of type {kind.__name__}: expected profiles.")


def _stack(items: Sequence[Any], what: str) -> np.ndarray:
    lengths = {len(p.counts) for p in items}
    if len(lengths) != 1:
        raise ProfileError(
            f"Cannot merge {what} profiles with different bins ({sorted(lengths)} counts): they were "
            "built against different baselines. Recompute them against the active baseline."
        )
    return np.array([p.counts for p in items], dtype=np.int64).reshape(len(items), -1).sum(axis=0)


def _merge_numeric(items: Sequence[NumericProfile]) -> NumericProfile:
    shifts = {p.shift for p in items}
    if len(shifts) != 1:
        raise ProfileError("Cannot merge numeric profiles built against different baselines (shift differs).")
    return NumericProfile(
        n=sum(p.n for p in items),
        missing=sum(p.missing for p in items),
        minimum=min(p.minimum for p in items),
        maximum=max(p.maximum for p in items),
        sum=math.fsum(p.sum for p in items),
        sum_sq=math.fsum(p.sum_sq for p in items),
        counts=tuple(_stack(items, "numeric").tolist()),
        shift=items[0].shift,
    )


def _merge_categorical(items: Sequence[CategoricalProfile]) -> CategoricalProfile:
    unseen: dict[str, int] = {}
    for p in items:
        for name, count in p.unseen:
            unseen[name] = unseen.get(name, 0) + count
    names = sorted(unseen)
    kept = tuple((name, unseen[name]) for name in names[:MAX_UNSEEN])
    total_unseen = sum(p.unseen_total for p in items)
    return CategoricalProfile(
        n=sum(p.n for p in items),
        missing=sum(p.missing for p in items),
        counts=tuple(_stack(items, "categorical").tolist()),
        other=sum(p.other for p in items),
        unseen=kept,
        unseen_other=total_unseen - sum(count for _, count in kept),
    )


def _merge_frames(items: Sequence[FrameProfile]) -> FrameProfile:
    keys = {p.reference_id for p in items}
    if len(keys) != 1:
        raise ProfileError(
            f"Cannot merge profiles built against different baselines (reference ids {sorted(keys)}). "
            "Recompute the older windows against the active baseline."
        )
    names = list(items[0].columns)
    if any(list(p.columns) != names for p in items):
        raise ProfileError("Cannot merge frame profiles with different columns.")
    columns = {name: merge_all([p.columns[name] for p in items]) for name in names}
    return FrameProfile(items[0].reference_id, sum(p.n_rows for p in items), columns)


def subtract(a: Any, b: Any) -> Any:
    """Profile of the rows of ``a`` that are not in ``b`` (``b`` must be part of ``a``).

    Counts and sums are exact differences; min/max stay those of ``a`` (bounds, not values).

    >>> a = NumericProfile(3, 1, 0.0, 2.0, 3.0, 5.0, (0, 1, 2, 0))
    >>> subtract(a, NumericProfile(1, 0, 1.0, 1.0, 1.0, 1.0, (0, 0, 1, 0))).counts
    (0, 1, 1, 0)
    """
    if isinstance(a, NumericProfile) and isinstance(b, NumericProfile):
        counts = np.subtract(a.counts, b.counts)
        return replace(
            a,
            n=a.n - b.n,
            missing=a.missing - b.missing,
            sum=a.sum - b.sum,
            sum_sq=a.sum_sq - b.sum_sq,
            counts=tuple(counts.tolist()),
        )
    if isinstance(a, CategoricalProfile) and isinstance(b, CategoricalProfile):
        removed = dict(b.unseen)
        unseen = tuple((k, v - removed.get(k, 0)) for k, v in a.unseen if v - removed.get(k, 0) > 0)
        total = a.unseen_total - b.unseen_total
        return CategoricalProfile(
            a.n - b.n,
            a.missing - b.missing,
            tuple(np.subtract(a.counts, b.counts).tolist()),
            a.other - b.other,
            unseen,
            max(total - sum(v for _, v in unseen), 0),
        )
    if isinstance(a, FrameProfile) and isinstance(b, FrameProfile):
        columns = {name: subtract(p, b.columns[name]) for name, p in a.columns.items()}
        return FrameProfile(a.reference_id, a.n_rows - b.n_rows, columns)
    raise ProfileError(f"Cannot subtract {type(b).__name__} from {type(a).__name__}.")


# --------------------------------------------------------------------------- dicts


def profile_from_dict(data: Mapping[str, Any]) -> ColumnProfile:
    """Read back a column profile written by ``to_dict``."""
    try:
        if data["kind"] == "numeric":
            n = int(data["n"])
            return NumericProfile(
                n=n,
                missing=int(data["missing"]),
                minimum=float(data["min"]) if n else math.inf,
                maximum=float(data["max"]) if n else -math.inf,
                sum=float(data["sum"]),
                sum_sq=float(data["sum_sq"]),
                counts=tuple(int(c) for c in data["counts"]),
                shift=float(data.get("shift", 0.0)),
            )
        if data["kind"] == "categorical":
            return CategoricalProfile(
                n=int(data["n"]),
                missing=int(data["missing"]),
                counts=tuple(int(c) for c in data["counts"]),
                other=int(data["other"]),
                unseen=tuple((str(k), int(v)) for k, v in data["unseen"]),
                unseen_other=int(data["unseen_other"]),
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad_dict("column profile", exc) from exc
    raise ProfileError(f"Unknown profile kind {data.get('kind')!r}: expected 'numeric' or 'categorical'.")


def _column_reference_from_dict(data: Mapping[str, Any]) -> ColumnReference:
    if data["kind"] == "numeric":
        return NumericReference(
            str(data["name"]),
            tuple(float(e) for e in data["edges"]),
            bool(data["discrete"]),
            int(data["n_unique"]),
            float(data["shift"]),
        )
    if data["kind"] == "categorical":
        return CategoricalReference(
            str(data["name"]),
            tuple(str(c) for c in data["categories"]),
            frozenset(str(c) for c in data["rare"]),
            bool(data["rare_truncated"]),
            int(data["n_unique"]),
        )
    raise ValueError(f"unknown column kind {data['kind']!r}")


def _bad_dict(what: str, exc: Exception) -> ProfileError:
    return ProfileError(
        f"The stored {what} is malformed ({type(exc).__name__}: {exc}). "
        "Recompute it from raw rows; it must be what to_dict() wrote."
    )


# --------------------------------------------------------------------------- input checks


def _check_columns(frame: pd.DataFrame, columns: Sequence[FeatureSpec]) -> None:
    bad_kinds = [f"{c.name}={c.kind!r}" for c in columns if c.kind not in KINDS]
    if bad_kinds:
        raise ProfileError(
            f"Unknown column kind for {', '.join(bad_kinds)}: each column must be 'numeric' or 'categorical'."
        )
    missing = [c.name for c in columns if c.name not in frame.columns]
    if missing:
        raise SchemaMismatchError(
            f"The frame lacks the baseline column(s) {', '.join(map(repr, missing))}; "
            f"it has {', '.join(map(repr, map(str, frame.columns[:20])))}. "
            "Provide every baseline column (values may be missing) or rebuild the baseline."
        )


def _as_float(values: pd.Series | np.ndarray, name: str) -> np.ndarray:
    try:
        if isinstance(values, pd.Series):
            if values.dtype == np.float64:
                return values.to_numpy()  # a view: no copy, NaN already marks missing
            return values.to_numpy(dtype=np.float64, na_value=np.nan)
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        sample = pd.Series(values).dropna().head(3).tolist()
        raise ProfileError(
            f"Column {name!r} is declared numeric but holds values that are not numbers "
            f"(e.g. {sample!r}). Declare it categorical, or clean the values."
        ) from exc


def _series_counts(values: pd.Series, name: str) -> tuple[pd.Series, int]:
    """Counts per category name (str) of the non-missing values, and the number missing."""
    counts = values.value_counts(dropna=False, sort=False)  # faster than dropna=True + isna()
    absent = np.asarray(pd.isna(counts.index), dtype=bool)
    missing = int(counts.to_numpy()[absent].sum())
    if absent.any():
        counts = counts[~absent]
    if len(counts) and counts.index.inferred_type != "string":
        counts = counts.groupby(counts.index.map(str)).sum()
    counts.index = pd.Index(counts.index, dtype=object)
    return counts, missing


# --------------------------------------------------------------------------- log frames


def reference_columns(
    model: Model, baseline: Baseline, has_score: bool, has_probabilities: bool = False
) -> tuple[FeatureSpec, ...]:
    """The columns drift is computed on: every feature, the prediction, (binary) the score and
    (multiclass with class probabilities) the confidence and each class's probability."""
    prediction_kind = "numeric" if model.task == "regression" else "categorical"
    outputs = [FeatureSpec("prediction", prediction_kind)]
    if model.task == "binary" and has_score:
        outputs.append(FeatureSpec("score", "numeric"))
    if model.task == "multiclass" and has_probabilities:
        outputs += output_specs(baseline.classes)
    taken = {spec.name for spec in outputs}  # an output's name wins over a feature of that name
    return (*(f for f in baseline.features if f.name not in taken), *outputs)


OUTPUT_ROLES = ("prediction", "score")


def with_probability_outputs(frame: pd.DataFrame, specs: Sequence[FeatureSpec]) -> pd.DataFrame:
    """``frame`` with the probability outputs the reference watches, from its ``probabilities`` JSON column."""
    classes = [cls for spec in specs if (cls := proba_class(spec.name)) is not None]
    if not classes:
        return frame
    texts = (
        frame["probabilities"]
        if "probabilities" in frame
        else pd.Series(None, index=frame.index, dtype=object)
    )
    outputs = probability_outputs(texts, classes)
    return pd.concat([frame.drop(columns=list(outputs.columns), errors="ignore"), outputs], axis=1)


def typed_log_frame(raw: pd.DataFrame, columns: tuple[FeatureSpec, ...]) -> pd.DataFrame:
    """Stored text and JSON turned into typed columns (bad values from direct inserts become missing)."""
    out = {}
    for spec in columns:
        values = raw[spec.name] if spec.name in raw else pd.Series(np.nan, index=raw.index)
        if spec.kind == "numeric":  # an upload's validated features are float64 already: not copied again
            out[spec.name] = (
                values
                if values.dtype == np.float64
                else pd.to_numeric(values, errors="coerce").astype("float64")
            )
        elif pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
            out[spec.name] = values.astype(object)  # text already: str() of each value is itself
        else:
            out[spec.name] = values.map(lambda v: str(v), na_action="ignore").astype(object)
    return pd.DataFrame(out, index=raw.index, copy=False)  # no 2-D block copied


def raw_log_frame(raw: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    """Stored prediction rows (``prediction``, ``score`` and JSON ``features``) as a typed frame of the reference columns."""
    outputs = [*OUTPUT_ROLES, *(s.name for s in reference.specs if is_probability_output(s.name))]
    kinds = {spec.name: spec.kind for spec in reference.specs if spec.name not in outputs}
    features = features_from_json(raw["features"].tolist(), kinds=kinds)
    features.index = raw.index
    merged = pd.concat(
        [features.drop(columns=outputs, errors="ignore"), raw[["prediction", "score"]]],
        axis=1,
    )
    if "probabilities" in raw:
        merged["probabilities"] = raw["probabilities"]
    return typed_log_frame(with_probability_outputs(merged, reference.specs), reference.specs)


def baseline_reference(model: Model, baseline: Baseline, frame: pd.DataFrame) -> Reference:
    """The reference bins of a baseline frame (features, prediction, score, label)."""
    has_score = "score" in frame and bool(frame["score"].notna().any())
    has_probabilities = "probabilities" in frame and bool(frame["probabilities"].notna().any())
    columns = reference_columns(model, baseline, has_score, has_probabilities)
    return build_reference(typed_log_frame(with_probability_outputs(frame, columns), columns), columns)
