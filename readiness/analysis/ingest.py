"""CSV ingestion: read, map, validate, store, in one transaction.

Three kinds of file: ``baseline`` (reference data; creates the model if needed), ``live``
(prediction logs with timestamps) and ``labels`` (delayed ``request_id,label``).
The same bytes uploaded twice add nothing and say so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pandas as pd

from readiness.analysis.assessment import assess_model, record_score
from readiness.analysis.refresh import refresh_model
from readiness.config import max_upload_mb, timestamp_range
from readiness.core.access import Action, Actor, require
from readiness.core.label_guess import LabelGuess, guess_label, id_column
from readiness.core.mapping import (
    REQUIRED_ROLES,
    ROLES_BY_KIND,
    ColumnMapping,
    check_mapping,
    missing_roles,
    propose_mapping,
)
from readiness.core.records import TASKS, Baseline, FeatureSpec, Model, utcnow
from readiness.core.tablefile import TableFile, read_table_bytes
from readiness.core.validate import (
    DATE_FORMATS,
    ValidFrame,
    canonical_class,
    propose_task,
    validate_baseline,
    validate_labels,
    validate_live,
)
from readiness.errors import DataValidationError, LabelJoinError, ModelConfigError
from readiness.storage.settings import load_config, update_config
from readiness.storage.store import Store

__all__ = [  # what the Data page and the CLI use from here
    "DATE_FORMATS",
    "REQUIRED_ROLES",
    "ROLES_BY_KIND",
    "TASKS",
    "ColumnMapping",
    "IngestResult",
    "ModelSpec",
    "UploadPreview",
    "check_upload",
    "ingest_csv",
    "log_has_ended",
    "max_upload_mb",
    "missing_roles",
    "preview_upload",
    "propose_upload_mapping",
]

Progress = Callable[[float, str], object]  # what the callback returns is ignored
PREVIEW_ROWS = 20


@dataclass(frozen=True)
class ModelSpec:
    """What is needed to create a model with its first baseline."""

    task: str
    positive_class: str | None = None
    owner: str = ""
    description: str = ""


@dataclass(frozen=True)
class UploadPreview:
    """What the user sees before confirming: how the file was read and the proposed mapping."""

    table: TableFile
    kind: str
    mapping: ColumnMapping
    head: pd.DataFrame
    proposed_task: str | None
    proposed_positive_class: str | None
    filename: str = "upload.csv"
    label_guess: LabelGuess | None = None  # a label proposed from its values, not its name

    @property
    def columns(self) -> list[str]:
        """The file's columns in order."""
        return list(self.table.frame.columns)

    @property
    def n_rows(self) -> int:
        """Data rows in the file."""
        return len(self.table.frame)


@dataclass(frozen=True)
class IngestResult:
    """What one ingestion stored."""

    model: str
    kind: str
    filename: str
    rows_added: int
    already_ingested: bool
    created_model: bool
    features: tuple[FeatureSpec, ...] = ()
    first_timestamp: datetime | None = None
    last_timestamp: datetime | None = None
    labels_updated: int = 0
    labels_unmatched: int = 0
    historical: bool = False  # this first log had ended, so the model is judged as a historical log

    @property
    def message(self) -> str:
        """One sentence for people: what happened."""
        if self.already_ingested:
            return (
                f"{self.filename} was already ingested for model {self.model!r} "
                f"({self.kind}); no rows were added."
            )
        text = f"Stored {self.rows_added:,} {self.kind} row(s) from {self.filename} for model {self.model!r}"
        if self.created_model:
            text += " (new model)"
        if self.first_timestamp is not None:
            period = " (the development period)" if self.kind == "baseline" else ""
            text += (
                f", {self.first_timestamp:%Y-%m-%d %H:%M} to {self.last_timestamp:%Y-%m-%d %H:%M} UTC{period}"
            )
        if self.kind == "labels":
            text += f"; {self.labels_updated:,} replaced earlier labels, {self.labels_unmatched:,} matched no prediction"
        if self.historical and self.last_timestamp is not None:
            last = self.last_timestamp
            text += (
                f". The log ends {last.day} {last:%b %Y}, so the model is judged as a historical log, as of "
                "its own end (change this in Settings)"
            )
        return text + "."


def propose_upload_mapping(frame: pd.DataFrame, kind: str) -> tuple[ColumnMapping, LabelGuess | None]:
    """The proposed mapping of a file: roles from column names, then a label from its values when no name gave one."""
    mapping = propose_mapping(list(frame.columns), kind)
    if kind != "baseline" and mapping.column_for("request_id") is None:
        found = id_column(frame, mapping)
        if found is not None:
            mapping = propose_mapping(list(frame.columns), kind, request_id=found)
    guess = guess_label(frame, mapping) if kind != "labels" else None
    if guess is not None:
        mapping = mapping.with_role("label", guess.column)
    return mapping, guess


def preview_upload(data: bytes, kind: str, filename: str = "upload.csv") -> UploadPreview:
    """Read an upload and propose a column mapping (and, for a baseline, the task)."""
    table = read_table_bytes(data, filename)
    mapping, guess = propose_upload_mapping(table.frame, kind)
    task = positive = None
    if kind == "baseline" and (mapping.column_for("label") or mapping.column_for("prediction")):
        task, positive = propose_task(table.frame, mapping)
    return UploadPreview(
        table, kind, mapping, table.frame.head(PREVIEW_ROWS), task, positive, filename, guess
    )


def ingest_csv(
    store: Store,
    model: str,
    kind: str,
    data: bytes | TableFile,
    filename: str = "upload.csv",
    mapping: ColumnMapping | None = None,
    new_model: ModelSpec | None = None,
    actor: Actor | str = "",
    progress: Progress | None = None,
    historical: bool | None = None,
) -> IngestResult:
    """Validate and store one file for a model in a single transaction, then refresh its aggregates.

    ``data`` is the file's bytes, or the TableFile a preview already read from them.

    ``historical`` (live files) records whether the model is judged as a finished log, as of its
    own end (True), or as a live service (False); None leaves the setting as it is.

    A baseline for an unknown model creates it (from ``new_model``, or a task proposed from
    the labels). Live and label files need an existing model with a baseline. After the
    rows are stored, the model's profiles and performance aggregates are refreshed and its
    score of the day is recorded.
    """
    who = require(actor, Action.UPLOAD, model)  # before a byte is read: a viewer's upload costs nothing
    existing = store.find_model(model)
    if (
        historical is not None
        and existing is not None
        and load_config(store, existing.id).historical != historical
    ):
        require(who, Action.CONFIGURE, model)  # judging a model as a finished log is its owner's call
    actor = who.name
    report = progress or (lambda _f, _m: None)
    report(0.05, f"Reading {filename}")
    # a preview's table is not read again
    table = data if isinstance(data, TableFile) else read_table_bytes(data, filename)
    mapping = mapping or propose_upload_mapping(table.frame, kind)[0]
    check_mapping(mapping, list(table.frame.columns), kind, filename)
    if existing is not None and store.find_ingestion(existing.id, kind, table.content_hash) is not None:
        report(1.0, "Already ingested")
        return IngestResult(model, kind, filename, 0, True, False)
    if existing is None and kind != "baseline":
        store.get_model(model)  # raises UnknownModelError naming the known models
    report(0.2, "Validating")
    if kind == "baseline":
        return _ingest_baseline(store, model, existing, table, mapping, new_model, filename, actor, report)
    assert existing is not None
    if kind == "live":
        return _ingest_live(store, existing, table, mapping, filename, actor, report, historical)
    return _ingest_labels(store, existing, table, mapping, filename, actor, report)


def check_upload(
    store: Store,
    model: str,
    preview: UploadPreview,
    mapping: ColumnMapping,
    new_model: ModelSpec | None = None,
) -> None:
    """Validate an upload exactly as storing it would, and store nothing; raise the error a store would.

    The Data page calls it before Confirm, so a bad value is named (with its line) while the
    user can still change the mapping or the file.
    """
    table, kind, filename = preview.table, preview.kind, preview.filename
    check_mapping(mapping, list(table.frame.columns), kind, filename)
    existing = store.find_model(model)
    if kind == "baseline":
        task, positive = _baseline_task(existing, new_model, table, mapping)
        validate_baseline(table.frame, mapping, task, positive, filename)
        return
    found = existing or store.get_model(model)  # raises UnknownModelError naming the known models
    if kind == "live":
        _validated_live(store, found, table, mapping, filename)
    else:
        _validated_labels(store, found, table, mapping)


def _baseline_task(
    existing: Model | None, spec: ModelSpec | None, table: TableFile, mapping: ColumnMapping
) -> tuple[str, str | None]:
    """The task and positive class a baseline is validated for: the model's, the new model's, or proposed."""
    if existing is not None:
        task, positive = existing.task, existing.positive_class
    elif spec is not None:
        task, positive = spec.task, spec.positive_class
    else:
        task, positive = propose_task(table.frame, mapping)
    if task not in TASKS:
        raise ModelConfigError(f"Unknown task {task!r}: choose one of {', '.join(TASKS)}.")
    return task, canonical_class(positive) if positive is not None else None


def _validated_live(
    store: Store, model: Model, table: TableFile, mapping: ColumnMapping, filename: str
) -> tuple[Baseline, ValidFrame]:
    """The model's baseline and the live file validated against it."""
    baseline = store.active_baseline(model.id)
    if baseline is None:
        raise DataValidationError(
            f"Model {model.name!r} has no baseline yet. Upload its baseline (reference) CSV first, "
            "so live features can be checked against it."
        )
    return baseline, validate_live(table.frame, mapping, model.task, baseline, filename, timestamp_range())


def _validated_labels(store: Store, model: Model, table: TableFile, mapping: ColumnMapping) -> pd.DataFrame:
    """A labels file validated against the model's task and known classes."""
    baseline = store.active_baseline(model.id)
    known = baseline.classes if baseline is not None and model.task != "regression" else None
    return validate_labels(table.frame, mapping, model.task, known, timestamp_range())


def _ingest_baseline(
    store: Store,
    name: str,
    existing: Model | None,
    table: TableFile,
    mapping: ColumnMapping,
    spec: ModelSpec | None,
    filename: str,
    actor: str,
    report: Progress,
) -> IngestResult:
    task, positive = _baseline_task(existing, spec, table, mapping)
    valid = validate_baseline(table.frame, mapping, task, positive, filename)
    times = valid.frame.get("timestamp")  # the development period, when the baseline has times
    period = None
    if times is not None:
        period = (_naive(times.min()), _naive(times.max()))
    report(0.4, f"Storing {len(valid.frame):,} baseline rows")
    with store.begin() as conn:
        model = existing
        if model is None:
            spec = spec or ModelSpec(task, positive)
            model = store.create_model(name, task, positive, spec.owner, spec.description, actor, conn=conn)
        ingestion_id = store.record_ingestion(
            conn, model.id, "baseline", filename, table.content_hash, len(valid.frame), actor
        )
        store.add_baseline(
            conn, model, valid.frame, valid.features, valid.classes, filename, ingestion_id, period
        )
        store.audit(
            conn,
            "ingest.baseline",
            model.id,
            actor,
            {"file": filename, "rows": len(valid.frame), "features": [f.name for f in valid.features]},
        )
    report(0.8, "Profiling the log against the new baseline")
    _after_storing(store, model)
    report(1.0, "Done")
    return IngestResult(
        name,
        "baseline",
        filename,
        len(valid.frame),
        False,
        existing is None,
        valid.features,
        period[0] if period else None,
        period[1] if period else None,
    )


def _naive(moment: pd.Timestamp) -> datetime:
    """A timestamp as the naive UTC datetime the store keeps."""
    if moment.tzinfo is not None:
        moment = moment.tz_convert("UTC").tz_localize(None)
    return moment.to_pydatetime()


def _ingest_live(
    store: Store,
    model: Model,
    table: TableFile,
    mapping: ColumnMapping,
    filename: str,
    actor: str,
    report: Progress,
    historical: bool | None = None,
) -> IngestResult:
    baseline, valid = _validated_live(store, model, table, mapping, filename)
    report(0.4, f"Storing {len(valid.frame):,} predictions")
    with store.begin() as conn:
        _refuse_known_request_ids(store, conn, model, valid)
        ingestion_id = store.record_ingestion(
            conn, model.id, "live", filename, table.content_hash, len(valid.frame), actor
        )
        store.append_predictions(conn, model, valid.frame, baseline.feature_names, ingestion_id)
        store.audit(conn, "ingest.live", model.id, actor, {"file": filename, "rows": len(valid.frame)})
    ts = valid.frame["timestamp"]
    judged_historical = _judge_as(store, model, historical, actor) if historical is not None else False
    report(0.8, "Profiling for drift and performance")
    _after_storing(store, model)
    report(1.0, "Done")
    return IngestResult(
        model.name,
        "live",
        filename,
        len(valid.frame),
        False,
        False,
        valid.features,
        ts.min().to_pydatetime(),
        ts.max().to_pydatetime(),
        historical=judged_historical,
    )


def _judge_as(store: Store, model: Model, historical: bool, actor: str) -> bool:
    """Record whether the model is judged as a historical log (audited when it changes); return it."""
    if load_config(store, model.id).historical != historical:  # the upload checked the role
        update_config(store, model, lambda c: replace(c, historical=historical), actor or "ingest")
    return historical


def log_has_ended(
    preview: UploadPreview, mapping: ColumnMapping, freshness_hours: float = 36.0
) -> datetime | None:
    """The newest time of a live upload when it is older than the freshness objective (a finished log), else None.

    The Data page then offers to judge the model as a historical log, as of the log's own end.
    """
    column = mapping.column_for("timestamp")
    if preview.kind != "live" or column is None or column not in preview.table.frame:
        return None
    values = pd.to_datetime(preview.table.frame[column], errors="coerce", utc=True, format="mixed")
    newest = values.max()
    if pd.isna(newest):
        return None
    newest = newest.tz_localize(None).to_pydatetime()
    return newest if utcnow() - newest > timedelta(hours=freshness_hours) else None


def _refuse_known_request_ids(store: Store, conn, model: Model, valid: ValidFrame) -> None:
    if "request_id" not in valid.frame:
        return
    ids = valid.frame["request_id"].dropna()
    known = store.existing_request_ids(conn, model.id, ids.tolist())
    if known:
        first = next(i for i in ids if i in known)
        raise DataValidationError(
            f"{len(known):,} request id(s) in this file are already stored for model {model.name!r} "
            f"(first: {first!r}). Upload only new predictions, or remove those rows."
        )


def _ingest_labels(
    store: Store,
    model: Model,
    table: TableFile,
    mapping: ColumnMapping,
    filename: str,
    actor: str,
    report: Progress,
) -> IngestResult:
    frame = _validated_labels(store, model, table, mapping)
    with store.begin() as conn:
        ids = frame["request_id"].tolist()
        matched = store.existing_request_ids(conn, model.id, ids)
        if not matched:
            raise LabelJoinError(
                f"None of the {len(ids):,} request ids in {filename} match a prediction of model "
                f"{model.name!r} (first: {ids[0]!r}). Check that the file belongs to this model and that "
                "its live predictions were uploaded with a request_id column."
            )
        keep = frame[frame["request_id"].isin(matched)]
        report(0.5, f"Storing {len(keep):,} labels")
        ingestion_id = store.record_ingestion(
            conn, model.id, "labels", filename, table.content_hash, len(keep), actor
        )
        replaced = store.replace_labels(conn, model, keep, ingestion_id)
        store.audit(
            conn,
            "ingest.labels",
            model.id,
            actor,
            {"file": filename, "rows": len(keep), "unmatched": len(frame) - len(keep)},
        )
    report(0.8, "Updating performance for the labelled days")
    _after_storing(store, model)
    report(1.0, "Done")
    return IngestResult(
        model.name,
        "labels",
        filename,
        len(keep),
        False,
        False,
        labels_updated=replaced,
        labels_unmatched=len(frame) - len(keep),
    )


def _after_storing(store: Store, model: Model) -> None:
    """Bring the model's aggregates up to date with what was stored, and record its score of the day."""
    refresh_model(store, model)
    record_score(store, assess_model(store, model))
