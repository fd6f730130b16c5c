"""Appending predictions from a production service: ``readiness.log_predictions``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from readiness.analysis.refresh import refresh_model
from readiness.config import max_upload_bytes, timestamp_range
from readiness.core.mapping import REQUIRED_ROLES, ROLES_BY_KIND, ColumnMapping, proba_class, proba_role
from readiness.core.tablefile import megabytes
from readiness.core.validate import validate_live
from readiness.errors import DataValidationError, StoreError
from readiness.storage.external_store import refuse_raw_rows
from readiness.storage.store import Store

MAX_FIELD_CHARS = 131_072  # what a CSV upload accepts in one field (the csv module's limit)


def log_predictions(
    store: Store | str | None,
    model: str,
    rows: pd.DataFrame | Sequence[Mapping[str, Any]],
    actor: str = "service",
    refresh: bool = True,
) -> int:
    """Validate and append prediction rows for a model in one transaction; return how many.

    Rows use the log contract's names (``timestamp``, ``prediction``, ``score``, ``label``,
    ``request_id``, ``model_version``, ``latency_ms``); every other key is a feature. The
    model's drift profiles and performance aggregates are refreshed afterwards; a service
    logging many small batches can pass ``refresh=False`` and let a scheduled
    ``python -m readiness refresh`` pick the rows up instead.

    >>> log_predictions(store, "fraud", [{"timestamp": "2026-11-01T10:00:00Z",
    ...     "prediction": 0, "score": 0.03, "request_id": "r-1", "amount": 12.5}])  # doctest: +SKIP
    1
    """
    store = store if isinstance(store, Store) else Store.open(store)
    frame = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame.from_records(list(rows))
    if frame.empty:
        return 0
    if "probabilities" in frame.columns:  # multiclass: {"class": probability, ...} per row
        frame = pd.concat(
            [frame.drop(columns="probabilities"), _class_columns(frame["probabilities"])], axis=1
        )
    # Validation works on text cells, as read from a CSV, so both paths share one set of rules.
    text = frame.astype(object).where(frame.notna(), None)
    text = text.map(lambda v: v.isoformat() if hasattr(v, "isoformat") else (None if v is None else str(v)))
    _check_size(text)
    nul = text.map(lambda v: isinstance(v, str) and "\x00" in v).to_numpy()
    if nul.any():  # CSV uploads refuse NUL bytes too; PostgreSQL text cannot hold them
        row, column = (int(i) for i in np.argwhere(nul)[0])
        raise DataValidationError(
            f"Logged row {row + 1} has a NUL character (\\x00) in column {str(frame.columns[column])!r}. "
            "Remove NUL characters from the values before logging them."
        )
    missing = [role for role in REQUIRED_ROLES["live"] if role not in frame.columns]
    if missing:
        raise DataValidationError(
            f"The logged rows have no {' or '.join(map(repr, missing))}; found keys "
            f"{', '.join(map(repr, map(str, frame.columns)))}. Every logged prediction needs "
            "'timestamp' and 'prediction'."
        )
    model_row = store.get_model(model)
    baseline = store.active_baseline(model_row.id)
    if baseline is None:
        raise DataValidationError(
            f"Model {model!r} has no baseline yet; ingest one before logging predictions."
        )
    roles = {r: r for r in ROLES_BY_KIND["live"] if r in frame.columns}
    roles |= {str(c): str(c) for c in frame.columns if proba_class(str(c)) is not None}
    mapping = ColumnMapping(roles=roles)
    valid = validate_live(text, mapping, model_row.task, baseline, "the logged rows", timestamp_range())
    try:
        with store.begin() as conn:
            refuse_raw_rows(conn, model_row)  # its days come from a job over its data lake
            if "request_id" in valid.frame:
                known = store.existing_request_ids(
                    conn, model_row.id, valid.frame["request_id"].dropna().tolist()
                )
                if known:
                    raise DataValidationError(
                        f"{len(known)} request id(s) are already logged for model {model!r} "
                        f"(first: {sorted(known)[0]!r}); request ids must be unique per model."
                    )
            store.append_predictions(conn, model_row, valid.frame, baseline.feature_names, None)
    except StoreError as exc:
        raise StoreError(
            f"The database did not take the {len(valid.frame):,} logged row(s) for model {model!r}: {exc} "
            "Nothing was stored; log the batch again once the database is reachable."
        ) from exc
    if refresh:
        refresh_model(store, model_row)
    return len(valid.frame)


def _check_size(text: pd.DataFrame) -> None:
    """Apply an upload's limits: no field over MAX_FIELD_CHARS, no batch over READINESS_MAX_UPLOAD_MB."""
    lengths = text.map(lambda v: len(v) if isinstance(v, str) else 0)
    long = lengths.to_numpy() > MAX_FIELD_CHARS
    if long.any():
        row, column = (int(i) for i in np.argwhere(long)[0])
        raise DataValidationError(
            f"Logged row {row + 1} has a value of {int(lengths.iat[row, column]):,} characters in column "
            f"{str(text.columns[column])!r}, over the {MAX_FIELD_CHARS // 1024} kB a CSV upload accepts. "
            "A value that long is no feature: shorten it or leave it out."
        )
    total, limit = int(lengths.to_numpy().sum()), max_upload_bytes()
    if total > limit:
        raise DataValidationError(
            f"The logged rows hold about {megabytes(total)} MB of values, over the {megabytes(limit)} MB upload "
            "limit. Log them in smaller batches, or raise READINESS_MAX_UPLOAD_MB."
        )


def _class_columns(values: pd.Series) -> pd.DataFrame:
    """Each row's class probabilities (a dict, or its JSON text) as one ``proba:<class>`` column per class."""
    records = []
    for i, given in enumerate(values):
        value = given
        if isinstance(given, str):
            try:
                value = json.loads(given)
            except ValueError:
                value = None
        if not isinstance(value, Mapping):
            raise DataValidationError(
                f"Logged row {i + 1} has probabilities {str(given)[:60]!r}; give a mapping of each class to its "
                'probability, e.g. {"card": 0.7, "cash": 0.2, "refund": 0.1}.'
            )
        records.append({proba_role(str(k)): v for k, v in value.items()})
    return pd.DataFrame.from_records(records, index=values.index)
