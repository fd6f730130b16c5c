"""The deployment gate: pass only when a model's readiness is high enough and nothing critical failed.

``python -m readiness gate --model fraud --min-score 70`` exits 0 when the model may ship,
1 with a one-line reason when it may not, 2 on bad input; ``--json`` prints :func:`gate_json`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from readiness.assessment import Assessment, assess_model
from readiness.checklist import SECTIONS, ChecklistError, ItemResult, points, status_words
from readiness.store import Store


@dataclass(frozen=True)
class GateResult:
    """Whether the model passes the gate, the one-line reason, and the assessment behind it."""

    passed: bool
    reason: str
    min_score: float
    assessment: Assessment


def gate(store: Store, model_name: str, min_score: float | None = None, now: datetime | None = None) -> GateResult:
    """Pass when no critical item failed and the score is at least ``min_score`` (default: the Ready band).

    The assessment is recorded in the score history like any other.
    """
    if min_score is not None and (isinstance(min_score, bool) or not 0 <= min_score <= 100):
        raise ChecklistError(f"The minimum score is {min_score!r}: use a number from 0 to 100, e.g. --min-score 70.")
    assessment = assess_model(store, model_name, now)
    needed = float(min_score) if min_score is not None else assessment.config.bands.ready
    score = assessment.score
    name = assessment.model.name
    if score.critical_failures:
        first = score.critical_failures[0]
        reason = f"{name}: blocked, critical item failed: {first.item.title}: {first.reason}"
        return GateResult(False, _one_line(reason), needed, assessment)
    if score.score_0_100 is None or score.score_0_100 < needed:
        shown = "no score" if score.score_0_100 is None else f"score {score.score_0_100:.0f} < {needed:g}"
        blockers = "; ".join(f"{b.item.title} ({status_words(b)}): {b.reason.rstrip('.')}" for b in score.blockers)
        reason = f"{name}: blocked, {shown} ({score.status})" + (f"; holding it back: {blockers}" if blockers else "")
        return GateResult(False, _one_line(reason), needed, assessment)
    reason = f"{name}: passes, score {score.score_0_100:.0f} >= {needed:g} ({score.status})"
    return GateResult(True, reason, needed, assessment)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _item(result: ItemResult) -> dict[str, Any]:
    evidence = result.evidence
    return {
        "key": result.item.key, "section": result.item.section, "title": result.item.title,
        "kind": result.item.kind, "critical": result.item.critical, "status": result.status,
        "points": points(result), "finding": result.reason,
        "evidence": {"figure": evidence.figure, "window": evidence.window, "page": evidence.page,
                     "link": evidence.link} if evidence else None,
        "to_pass": result.item.how_to_pass if result.status in ("fail", "unknown", "expired") else "",
    }


def gate_json(result: GateResult) -> dict[str, Any]:
    """The gate decision and the full checklist behind it, as JSON-ready data."""
    a = result.assessment
    return {
        "model": a.model.name,
        "passed": result.passed,
        "reason": result.reason,
        "min_score": result.min_score,
        "as_of": a.as_of.isoformat(),
        "score": a.score.score_0_100,
        "status": a.score.status,
        "bands": {"ready": a.config.bands.ready, "at_risk": a.config.bands.at_risk},
        "sections": {s: a.section_percent(s) for s in SECTIONS},
        "critical_failures": [_item(r) for r in a.score.critical_failures],
        "blockers": [_item(r) for r in a.score.blockers],
        "items": [_item(r) for r in a.results],
    }
