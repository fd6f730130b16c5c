"""The deployment gate: pass only when a model's readiness is high enough and nothing critical failed.

``python -m readiness gate --model fraud --min-score 70`` exits 0 when the model may ship,
1 with a one-line reason when it may not, 2 on bad input, and records the score of the day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from readiness.analysis.assessment import Assessment, assess_model
from readiness.core.checklist import status_words
from readiness.core.records import Model
from readiness.errors import ChecklistError
from readiness.storage.store import Store


@dataclass(frozen=True)
class GateResult:
    """Whether the model passes the gate, the one-line reason, and the assessment behind it."""

    passed: bool
    reason: str
    min_score: float
    assessment: Assessment


def gate(
    store: Store, model: Model, min_score: float | None = None, now: datetime | None = None
) -> GateResult:
    """Pass when no critical item failed and the score is at least ``min_score`` (default: the Ready band)."""
    if min_score is not None and (isinstance(min_score, bool) or not 0 <= min_score <= 100):
        raise ChecklistError(
            f"The minimum score is {min_score!r}: use a number from 0 to 100, e.g. --min-score 70."
        )
    assessment = assess_model(store, model, now)
    needed = float(min_score) if min_score is not None else assessment.config.bands.ready
    score = assessment.score
    name = assessment.model.name
    if score.critical_failures:
        first = score.critical_failures[0]
        reason = f"{name}: blocked, critical item failed: {first.item.title}: {first.reason}"
        return GateResult(False, _one_line(reason), needed, assessment)
    if score.score_0_100 is None or score.score_0_100 < needed:
        shown = "no score" if score.score_0_100 is None else f"score {score.score_0_100:.0f} < {needed:g}"
        blockers = "; ".join(
            f"{b.item.title} ({status_words(b)}): {b.reason.rstrip('.')}" for b in score.blockers
        )
        reason = f"{name}: blocked, {shown} ({score.status.label})" + (
            f"; holding it back: {blockers}" if blockers else ""
        )
        return GateResult(False, _one_line(reason), needed, assessment)
    reason = f"{name}: passes, score {score.score_0_100:.0f} >= {needed:g} ({score.status.label})"
    return GateResult(True, reason, needed, assessment)


def _one_line(text: str) -> str:
    return " ".join(text.split())
