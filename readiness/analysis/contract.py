"""The machine interface: what every ``--json`` output of ``python -m readiness`` holds.

A contract, documented in docs/json.md with one JSON Schema per command and checked in the
tests: snake_case keys, booleans for verdicts, numbers as numbers (never strings), ISO 8601
dates and times, ``null`` for what is unknown, and statuses as their machine words
(``not_ready``, ``insufficient_data``). Display labels never reach this module.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from readiness.core.checklist import SECTIONS, ItemResult
from readiness.core.criteria import Criterion
from readiness.core.lazy import lazy_module
from readiness.core.metrics import MetricValue
from readiness.core.performance import CriterionTrack
from readiness.core.status import CriterionStatus, ReadinessStatus

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

if TYPE_CHECKING:  # only annotations: `models` and `gate` need not import the Drift and Performance analyses
    from readiness.analysis.assessment import Assessment
    from readiness.analysis.drift_overview import DriftOverview
    from readiness.analysis.gate import GateResult
    from readiness.analysis.overview import ModelOverview, Portfolio
    from readiness.analysis.performance_overview import PerformanceOverview

Json = dict[str, Any]


def number(value: Any) -> float | None:
    """A finite number as a float, anything else (None, NaN, infinity) as None.

    >>> number(0.5), number(float("nan")), number(None)
    (0.5, None, None)
    """
    if value is None or isinstance(value, bool):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def day(moment: date | datetime | None) -> str | None:
    """A date as ``YYYY-MM-DD`` (None stays None)."""
    return None if moment is None else f"{moment:%Y-%m-%d}"


def moment(value: datetime | None) -> str | None:
    """A naive-UTC timestamp as ISO 8601 with a ``Z`` (None stays None)."""
    if value is None:
        return None
    stamp = value if isinstance(value, datetime) else pd.Timestamp(value)  # a datetime needs no pandas
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def metric_json(value: MetricValue | None) -> Json | None:
    """A metric's value, 95% interval, rows and method."""
    if value is None:
        return None
    return {
        "value": number(value.value),
        "lower": number(value.lower),
        "upper": number(value.upper),
        "n": int(value.n),
        "method": value.method,
        "note": value.note,
    }


# --------------------------------------------------------------------------- drift


def drift_json(overview: DriftOverview) -> Json:
    """``drift --json``: what drifts now (the latest complete window), every column with its run and series."""
    report, mv, now = overview.report, overview.multivariate, overview.now
    return {
        "summary": {
            "model": overview.model.name,
            "start": day(overview.start),
            "end": day(overview.last_day),
            "window": overview.window,
            "predictions": int(overview.n_current),
            "now": {
                "start": moment(now.start),
                "end": moment(now.end),
                "period": now.period,
                "complete": bool(now.complete),
                "rows": int(now.n_rows),
            },
            "columns_analyzed": int(now.n_analyzed),
            "columns_drifting": len(now.drifting),
            "drifting": list(now.drifting),
            "dataset_drift": bool(overview.dataset_drifted),
            "dataset_explanation": overview.dataset_text(),
            "rule": report.options.rule,
            "correction": report.options.correction,
            "multivariate": None
            if mv is None
            else {
                "auc": number(mv.auc),
                "drifted": bool(mv.drifted),
                "threshold": number(mv.threshold),
                "top_features": [
                    {"column": name, "importance": number(value)} for name, value in mv.top_features
                ],
                "note": mv.note,
            },
            "range": {
                "columns_drifting": int(report.n_drifted),
                "drifted": list(report.drifted_columns),
                "share_drifting": number(report.share_drifted),
            },
        },
        "columns": [column.to_dict() for column in overview.columns()],
    }


# --------------------------------------------------------------------------- performance


def criterion_json(criterion: Criterion) -> Json:
    """One success criterion as stored (``id`` is null for a task default)."""
    return {
        "id": criterion.id,
        "metric": criterion.metric,
        "comparison": criterion.comparison,
        "threshold": number(criterion.threshold),
        "window": criterion.window,
        "min_labels": int(criterion.min_labels),
        "default": bool(criterion.is_default),
        "text": criterion.text,
    }


def _track_json(track: CriterionTrack) -> Json:
    current = track.current
    return {
        "criterion": criterion_json(track.criterion),
        "status": (current.status if current else CriterionStatus.INSUFFICIENT).value,
        "window": day(track.current_window),
        "value": None
        if current is None
        else {
            "value": number(current.value),
            "lower": number(current.lower),
            "upper": number(current.upper),
            "n": int(current.n),
            "reason": current.reason,
        },
        "last_judged": None
        if track.latest_judged is None
        else {
            "window": day(track.latest_judged[0]),
            "status": track.latest_judged[1].status.value,
            "value": number(track.latest_judged[1].value),
        },
        "history": [
            {"window": day(start), "status": r.status.value, "value": number(r.value)}
            for start, r in track.windows
        ],
    }


def performance_json(overview: PerformanceOverview) -> Json:
    """``performance --json``: criteria with their history, metrics per window, development vs production, versions."""
    return {
        "model": overview.model.name,
        "window": overview.window,
        "start": day(overview.start),
        "end": day(overview.last_day),
        "criteria": [_track_json(track) for track in overview.criteria],
        "windows": [
            {
                "start": day(w.start),
                "complete": bool(w.complete),
                "predictions": int(w.n_rows),
                "labelled": int(w.n_labelled),
                "label_coverage": number(w.label_coverage),
                "label_delay_hours": number(w.label_delay_hours),
                "metrics": {name: metric_json(v) for name, v in w.metrics.items()},
                "estimated": {name: metric_json(v) for name, v in w.estimates.items()},
            }
            for w in overview.windows
        ],
        "development_vs_production": [
            {
                "metric": gap.metric,
                "development": number(gap.development),
                "production": metric_json(gap.production),
                "difference": number(gap.difference),
            }
            for gap in overview.development_vs_production()
        ],
        "versions": [
            {"version": version or None, "metrics": {name: number(v.value) for name, v in values.items()}}
            for version, values in overview.versions.items()
        ],
    }


def criteria_json(criteria: tuple[Criterion, ...]) -> list[Json]:
    """``criteria list --json``: the model's criteria (its task's defaults when it has none of its own)."""
    return [criterion_json(c) for c in criteria]


# --------------------------------------------------------------------------- readiness


def item_json(result: ItemResult) -> Json:
    """One checklist item's result with its evidence and what would make it pass."""
    evidence = result.evidence
    return {
        "key": result.item.key,
        "section": result.item.section,
        "title": result.item.title,
        "kind": result.item.kind,
        "critical": bool(result.item.critical),
        "status": result.status.value,
        "points": number(result.status.points),
        "finding": result.reason,
        "evidence": None
        if evidence is None
        else {
            "figure": evidence.figure,
            "window": evidence.window,
            "page": evidence.page,
            "link": evidence.link,
        },
        "to_pass": result.item.how_to_pass if result.status.holds_back else "",
    }


def _sections(assessment: Assessment) -> Json:
    return {s: number(assessment.section_percent(s)) for s in SECTIONS}


def gate_json(result: GateResult) -> Json:
    """``gate --json`` and ``checklist show --json``: the decision and the full checklist behind it."""
    a = result.assessment
    return {
        "model": a.model.name,
        "passed": bool(result.passed),
        "reason": result.reason,
        "min_score": number(result.min_score),
        "as_of": moment(a.as_of),
        "score": number(a.score.score_0_100),
        "status": a.score.status.value,
        "bands": {"ready": number(a.config.bands.ready), "at_risk": number(a.config.bands.at_risk)},
        "sections": _sections(a),
        "critical_failures": [item_json(r) for r in a.score.critical_failures],
        "blockers": [item_json(r) for r in a.score.blockers],
        "items": [item_json(r) for r in a.results],
    }


def _model_json(m: ModelOverview) -> Json:
    a = m.readiness
    return {
        "model": m.name,
        "task": m.task,
        "owner": m.owner,
        "description": m.description,
        "status": None if a is None else a.score.status.value,
        "score": None if a is None else number(a.score.score_0_100),
        "sections": None if a is None else _sections(a),
        "holding_back": []
        if a is None
        else [{"key": b.item.key, "title": b.item.title, "status": b.status.value} for b in a.score.blockers],
        "drifting_features": [] if a is None else list(a.drifted_features),
        "drifting_outputs": [] if a is None else list(a.drifted_outputs),
        "criteria_status": None if a is None else a.criteria_status.value,
        "criteria_failing": [] if a is None else list(a.criteria_failing),
        "predictions": int(m.n_predictions),
        "first_prediction": moment(m.first_timestamp),
        "last_prediction": moment(m.last_timestamp),
        "label_coverage": number(m.label_coverage),
        "hours_since_last_prediction": number(m.freshness_hours),
        "freshness": m.freshness.value,
        "baseline_rows": int(m.baseline_rows),
        "error": m.error,
    }


def models_json(portfolio: Portfolio) -> list[Json]:
    """``models --json``: every model with its readiness, volume, time range, labels and freshness."""
    return [_model_json(m) for m in portfolio.models]


def history_json(history: pd.DataFrame) -> list[Json]:
    """``checklist history --json``: the recorded score per UTC day, oldest first."""
    return [
        {
            "day": day(pd.Timestamp(row["day"]).to_pydatetime()),
            "score": number(row["score"]),
            "status": ReadinessStatus.parse(row["status"]).value,
            "sections": {s: number(row.get(s)) for s in SECTIONS},
        }
        for row in history.to_dict("records")
    ]
