"""The daily readiness score history: one row per model and UTC day, the latest recorded that day.

Written only by explicit paths (ingestion, the gate, ``python -m readiness record`` from a
scheduler, the demo's backfill), never by looking at a page.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import select

from readiness.core.lazy import lazy_module
from readiness.core.records import Model, utcnow
from readiness.storage import schema as t
from readiness.storage.sql import upsert
from readiness.storage.store import Store

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")


def record_day(
    store: Store,
    model: Model,
    day: date,
    score: float | None,
    status: str,
    sections: Mapping[str, float | None],
) -> None:
    """Store a model's score, status and section percents as its UTC day's, replacing an earlier one that day."""
    with store.begin() as conn:
        upsert(
            conn,
            t.readiness_history,
            {"model_id": model.id, "day": datetime.combine(day, time())},
            {
                "score": score,
                "status": str(status),
                "sections": json.dumps(dict(sections)),
                "computed_at": utcnow(),
            },
        )


def score_history(store: Store, model: Model, sections: tuple[str, ...]) -> pd.DataFrame:
    """The model's recorded scores, oldest first: day, score, status and one column per section."""
    h = t.readiness_history.c
    query = select(h.day, h.score, h.status, h.sections).where(h.model_id == model.id).order_by(h.day)
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    return pd.DataFrame(
        [{"day": r.day, "score": r.score, "status": r.status, **json.loads(r.sections)} for r in rows],
        columns=["day", "score", "status", *sections],
    )
