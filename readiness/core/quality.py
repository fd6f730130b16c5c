"""Data quality per window against the baseline, computed from profiles alone.

Per column and window: missing rate (against the baseline's plus a margin), share of numeric
values outside the baseline's range, share of categories the baseline never had, and a column
that stopped arriving (all missing where the baseline had values).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from readiness.core.profiles import CategoricalProfile, FrameProfile, NumericProfile, Reference

MISSING_MARGIN = 0.05
OUT_OF_RANGE_LIMIT = 0.01
UNSEEN_LIMIT = 0.01


@dataclass(frozen=True)
class ColumnQuality:
    """Quality of one column in one window, with the flags it raised."""

    window_start: datetime | None
    column: str
    n_rows: int
    missing_share: float
    missing_share_baseline: float
    out_of_range_share: float | None  # numeric only
    unseen_share: float | None  # categorical only
    flags: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when no flag was raised."""
        return not self.flags


@dataclass(frozen=True)
class QualityReport:
    """Quality of every column in every window; flagged rows first via ``problems``."""

    rows: tuple[ColumnQuality, ...]
    missing_margin: float

    @property
    def problems(self) -> tuple[ColumnQuality, ...]:
        """The flagged rows, newest window first."""
        flagged = [r for r in self.rows if r.flags]
        return tuple(sorted(flagged, key=lambda r: (r.window_start or datetime.min, r.column), reverse=True))

    def flags_for(self, column: str) -> tuple[str, ...]:
        """Every distinct flag a column raised in any window."""
        seen: dict[str, None] = {}
        for row in self.rows:
            if row.column == column:
                seen.update(dict.fromkeys(row.flags))
        return tuple(seen)


def column_quality(
    reference: Reference,
    profile: FrameProfile,
    window_start: datetime | None = None,
    missing_margin: float = MISSING_MARGIN,
) -> tuple[ColumnQuality, ...]:
    """Quality of every reference column in one profile (a window, or a merged range)."""
    rows = []
    for name in reference.names:
        base, current = reference.baseline[name], profile[name]
        rows.append(_one(name, base, current, window_start, missing_margin))
    return tuple(rows)


def quality_report(
    reference: Reference,
    windows: Sequence[tuple[datetime, FrameProfile]],
    missing_margin: float = MISSING_MARGIN,
) -> QualityReport:
    """Quality of every column in every window.

    >>> import pandas as pd
    >>> from readiness.core.profiles import build_reference, profile_frame
    >>> from readiness.storage.store import FeatureSpec
    >>> ref = build_reference(pd.DataFrame({"x": [1.0, 2.0, 3.0]}), [FeatureSpec("x", "numeric")])
    >>> window = profile_frame(pd.DataFrame({"x": [2.0, None, 9.0, 1.5]}), ref)
    >>> quality_report(ref, [(datetime(2026, 11, 1), window)]).rows[0].flags
    ('missing 25% (baseline 0%)', '33% outside the baseline range')
    """
    rows = [
        row for start, profile in windows for row in column_quality(reference, profile, start, missing_margin)
    ]
    return QualityReport(tuple(rows), missing_margin)


def _one(
    name: str,
    base: NumericProfile | CategoricalProfile,
    current: NumericProfile | CategoricalProfile,
    window_start: datetime | None,
    margin: float,
) -> ColumnQuality:
    n_rows = current.n + current.missing
    flags: list[str] = []
    if n_rows and current.n == 0 and base.n > 0:
        flags.append("column absent (all missing)")
    elif current.missing_share > base.missing_share + margin:
        flags.append(f"missing {current.missing_share:.0%} (baseline {base.missing_share:.0%})")
    out_of_range = unseen = None
    if isinstance(current, NumericProfile):
        out_of_range = (current.counts[0] + current.counts[-1]) / current.n if current.n else 0.0
        if out_of_range > OUT_OF_RANGE_LIMIT:
            flags.append(f"{out_of_range:.0%} outside the baseline range")
    else:
        unseen_total = sum(count for _, count in current.unseen) + current.unseen_other
        unseen = unseen_total / current.n if current.n else 0.0
        if unseen > UNSEEN_LIMIT:
            examples = ", ".join(repr(value) for value, _ in current.unseen[:3])
            flags.append(
                f"{unseen:.0%} unseen categories ({examples})"
                if examples
                else f"{unseen:.0%} unseen categories"
            )
    return ColumnQuality(
        window_start,
        name,
        n_rows,
        current.missing_share,
        base.missing_share,
        out_of_range,
        unseen,
        tuple(flags),
    )
