"""CSV ingestion: read, map, validate, store, in one transaction.

Three kinds of file: ``baseline`` (reference data; creates the model if needed), ``live``
(prediction logs with timestamps) and ``labels`` (delayed ``request_id,label``).
The same bytes uploaded twice add nothing and say so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from readiness.analysis.assessment import assess_model, record_score
from readiness.analysis.refresh import refresh_model
from readiness.config import max_upload_mb, timestamp_range
from readiness.core import tablefile
from readiness.core.access import Action, Actor, require
from readiness.core.label_guess import MAX_CLASSES, LabelGuess, guess_label, id_column
from readiness.core.mapping import (
    PROBA_KINDS,
    REQUIRED_ROLES,
    ROLES_BY_KIND,
    ColumnMapping,
    check_mapping,
    missing_roles,
    proba_role,
    probability_roles,
    propose_class_probabilities,
    propose_mapping,
)
from readiness.core.memory import release_free_memory
from readiness.core.prefetch import prefetched
from readiness.core.records import TASKS, Baseline, FeatureSpec, Model, utcnow
from readiness.core.score_guess import ScoreGuess, guess_score
from readiness.core.tablefile import TableChunk, TableFile, TableSource, megabytes, open_table
from readiness.core.texthash import text_hashes
from readiness.core.validate import (
    DATE_FORMATS,
    FIRST_LINE,
    DateOrder,
    ValidFrame,
    canonical_class,
    date_order,
    propose_task,
    settle_day_first,
    validate_baseline,
    validate_labels,
    validate_live,
)
from readiness.errors import DataValidationError, LabelJoinError, ModelConfigError
from readiness.storage import log_blocks, performance_store
from readiness.storage.blocks import arrow_texts, encode_block
from readiness.storage.external_store import is_external, refuse_raw_rows
from readiness.storage.log_blocks import append_block
from readiness.storage.profile_store import finish_in_step, profile_in_step, start_in_step, store_reference
from readiness.storage.settings import load_config, update_config
from readiness.storage.store import LABEL_UPLOAD_ACTION, LabelIndex, LabelTargets, Store

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
    "megabytes",
    "missing_roles",
    "model_classes",
    "model_positive_class",
    "open_upload",
    "preview_upload",
    "probability_roles",
    "propose_upload_mapping",
]

Progress = Callable[[float, str], object]  # what the callback returns is ignored
PREVIEW_ROWS = 20
Upload = bytes | Path | TableFile | TableSource  # bytes in memory, a file on disk, or what a preview read


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

    source: TableSource
    kind: str
    mapping: ColumnMapping
    head: pd.DataFrame
    proposed_task: str | None
    proposed_positive_class: str | None
    filename: str = "upload.csv"
    label_guess: LabelGuess | None = None  # a label proposed from its values, not its name
    score_guess: ScoreGuess | None = None  # a score proposed from its values, not its name

    @property
    def table(self) -> TableFile:
        """The rows read for the preview: the whole file, or its first block when ``complete`` is False."""
        return self.source.head

    @property
    def complete(self) -> bool:
        """Whether the preview read every row (a large file is read block by block when stored)."""
        return self.source.complete

    @property
    def columns(self) -> list[str]:
        """The file's columns in order."""
        return list(self.table.frame.columns)

    @property
    def n_rows(self) -> int:
        """Data rows read for the preview (every row of the file when ``complete``)."""
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
        what = "label(s)" if self.kind == "labels" else f"{self.kind} row(s)"
        text = f"Stored {self.rows_added:,} {what} from {self.filename} for model {self.model!r}"
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


def propose_upload_mapping(
    frame: pd.DataFrame,
    kind: str,
    known_classes: Sequence[str] = (),
    positive_class: str | None = None,
    task: str | None = None,
) -> tuple[ColumnMapping, LabelGuess | None, ScoreGuess | None]:
    """The proposed mapping of a file: roles from column names, then a label and a score from their values when no name gave them.

    ``known_classes`` (a multiclass model's baseline classes) help find one probability column per class;
    ``positive_class`` (a binary model's) says whose probability a score is: a baseline without
    one (or ``task``) takes the task and positive class proposed from its own values.
    """
    mapping = propose_mapping(list(frame.columns), kind)
    if kind != "baseline" and mapping.column_for("request_id") is None:
        found = id_column(frame, mapping)
        if found is not None:
            mapping = propose_mapping(list(frame.columns), kind, request_id=found)
    guess = guess_label(frame, mapping) if kind != "labels" else None
    if guess is not None:
        mapping = mapping.with_role("label", guess.column)
    if kind in PROBA_KINDS:
        mapping = _with_class_probabilities(frame, mapping, known_classes)
    score = None
    if kind in PROBA_KINDS and mapping.column_for("prediction") is not None and task in (None, "binary"):
        if kind == "baseline" and positive_class is None:
            proposed, positive_class = propose_task(frame, mapping)
            positive_class = positive_class if (task or proposed) == "binary" else None
        score = guess_score(frame, mapping, positive_class)
        if score is not None:
            mapping = mapping.with_role("score", score.column)
    return mapping, guess, score


def _with_class_probabilities(
    frame: pd.DataFrame, mapping: ColumnMapping, known: Sequence[str]
) -> ColumnMapping:
    """The mapping with one ``proba:<class>`` role per column that names a class seen in the predictions or labels."""
    seen: set[str] = set(known)
    for role in ("prediction", "label"):
        column = mapping.column_for(role)
        if column is not None:
            values = frame[column].dropna()
            seen |= {c for c in (canonical_class(v) for v in values.unique()[:MAX_CLASSES]) if c}
    taken = set(mapping.roles.values())
    proposed = propose_class_probabilities([c for c in frame.columns if c not in taken], sorted(seen))
    for cls, column in proposed.items():
        mapping = mapping.with_role(proba_role(cls), column)
    return mapping


def model_classes(store: Store, model: str | None) -> tuple[str, ...]:
    """The classes of a model's active baseline (empty for a new model, a regression or no baseline)."""
    found = store.find_model(model) if model else None
    baseline = store.active_baseline(found.id) if found is not None else None
    return (
        tuple(baseline.classes)
        if baseline is not None and found is not None and found.task != "regression"
        else ()
    )


def model_positive_class(store: Store, model: str | None) -> str | None:
    """A binary model's positive class (None for a new model or another task)."""
    found = store.find_model(model) if model else None
    return found.positive_class if found is not None and found.task == "binary" else None


def preview_upload(
    data: bytes | Path,
    kind: str,
    filename: str = "upload.csv",
    known_classes: Sequence[str] = (),
    positive_class: str | None = None,
) -> UploadPreview:
    """Read an upload's first block (all of a small file) and propose a column mapping (and, for a baseline, the task).

    ``known_classes``: the target model's classes (see :func:`model_classes`), for its probability
    columns; ``positive_class``: a binary model's (:func:`model_positive_class`), for its score.
    """
    source = open_upload(data, kind, filename)
    table = source.head
    mapping, guess, score = propose_upload_mapping(table.frame, kind, known_classes, positive_class)
    task = positive = None
    if kind == "baseline" and (mapping.column_for("label") or mapping.column_for("prediction")):
        task, positive = propose_task(table.frame, mapping)
    return UploadPreview(
        source, kind, mapping, table.frame.head(PREVIEW_ROWS), task, positive, filename, guess, score
    )


def open_upload(data: Upload, kind: str, filename: str = "upload.csv") -> TableSource:
    """An upload as a source to read block by block; a baseline is read whole (it is judged whole).

    A table read already is one block; a source a preview opened is used as it is.
    """
    if isinstance(data, TableSource):
        source = data
    elif isinstance(data, TableFile):
        source = TableSource.of(data, filename)
    else:
        source = open_table(data, filename, block_bytes=tablefile.BLOCK_BYTES)
    if kind == "baseline" and not source.complete:
        return TableSource.of(source.whole(), filename)  # its features' kinds and classes come from every row
    return source


def ingest_csv(
    store: Store,
    model: str,
    kind: str,
    data: Upload,
    filename: str = "upload.csv",
    mapping: ColumnMapping | None = None,
    new_model: ModelSpec | None = None,
    actor: Actor | str = "",
    progress: Progress | None = None,
    historical: bool | None = None,
) -> IngestResult:
    """Validate and store one file for a model in a single transaction, then refresh its aggregates.

    ``data`` is the file's bytes, a file on disk, or what a preview already read from them. Live
    and label files are read, validated and stored block by block, so memory stays bounded
    whatever the file's size; a bad row anywhere stores nothing and its line is named.

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
    source = open_upload(data, kind, filename)  # a preview's first block is not read again
    table = source.head
    if mapping is None:
        given = new_model if kind == "baseline" and existing is None else None  # a new model's own task
        mapping = propose_upload_mapping(
            table.frame,
            kind,
            model_classes(store, model),
            given.positive_class if given is not None else model_positive_class(store, model),
            given.task if given is not None else None,
        )[0]
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
        return _ingest_live(store, existing, source, mapping, filename, actor, report, historical)
    return _ingest_labels(store, existing, source, mapping, filename, actor, report)


def lake_refusal(store: Store, model_name: str, kind: str) -> str | None:
    """Why live logs or labels cannot be uploaded for this model (its log is profiled in its data lake), else None."""
    model = store.find_model(model_name) if model_name else None
    if model is None or kind == "baseline":
        return None
    with store.engine.connect() as conn:
        if not is_external(conn, model.id):
            return None
    what = "Live predictions" if kind == "live" else "Delayed labels"
    return (
        f"{what} of {model.name} are not uploaded here: a Spark job profiles its log where it lives, in its data "
        "lake (python -m readiness spark-profile, see docs/scale.md). Add the file to the lake and run the job "
        "again; a new baseline can still be uploaded here."
    )


def check_upload(
    store: Store,
    model: str,
    preview: UploadPreview,
    mapping: ColumnMapping,
    new_model: ModelSpec | None = None,
) -> None:
    """Validate an upload exactly as storing it would, and store nothing; raise the error a store would.

    The Data page calls it before Confirm, so a bad value is named (with its line) while the
    user can still change the mapping or the file. A large live or labels file is checked on
    the rows the preview read; storing checks every row, and stores nothing if one is bad.
    """
    table, kind, filename = preview.table, preview.kind, preview.filename
    check_mapping(mapping, list(table.frame.columns), kind, filename)
    existing = store.find_model(model)
    if kind == "baseline":
        task, positive = _baseline_task(existing, new_model, table, mapping)
        validate_baseline(table.frame, mapping, task, positive, filename)
        return
    found = existing or store.get_model(model)  # raises UnknownModelError naming the known models
    with store.engine.connect() as conn:
        refuse_raw_rows(conn, found)
    head = TableChunk(table.frame, 0.0, preview.complete)
    # dates the first block cannot settle are settled by the whole file, as storing does
    mapping = _settle_date_format(
        preview.source, mapping, head, "timestamp" if kind == "live" else "label_time"
    )
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
    baseline = _live_baseline(store, model)
    return baseline, validate_live(table.frame, mapping, model.task, baseline, filename, timestamp_range())


def _live_baseline(store: Store, model: Model) -> Baseline:
    """The baseline live rows are checked against; refuse a model that has none."""
    baseline = store.active_baseline(model.id)
    if baseline is None:
        raise DataValidationError(
            f"Model {model.name!r} has no baseline yet. Upload its baseline (reference) CSV first, "
            "so live features can be checked against it."
        )
    return baseline


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
        stored = store.active_baseline(model.id, conn)
        assert stored is not None
        store_reference(conn, model, stored, valid.frame)  # while the rows are at hand
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
    source: TableSource,
    mapping: ColumnMapping,
    filename: str,
    actor: str,
    report: Progress,
    historical: bool | None = None,
) -> IngestResult:
    baseline = _live_baseline(store, model)
    allowed = timestamp_range()
    stored, first, last = 0, None, None
    # one transaction, which merges the rows' aggregates into the stored days while no refresh runs
    with store.refreshing(model.id), store.begin() as conn, ThreadPoolExecutor(1) as encoder:
        refuse_raw_rows(conn, model)  # its days come from a job over its data lake
        ingestion_id = store.record_ingestion(
            conn, model.id, "live", filename, source.head.content_hash, 0, actor
        )
        # the rows are stored as blocks: their profiles and day records are computed here, from the frame
        step = start_in_step(store, conn, model, baseline, blocks=True)
        known = log_blocks.KnownIds(conn, model.id)  # the request ids stored so far, checked block by block
        records = performance_store.start_in_step(store, conn, model, baseline, blocks=True)
        for chunk in prefetched(source.chunks()):  # the next block is parsed while this one is stored
            mapping = _settle_date_format(source, mapping, chunk, "timestamp")
            valid = validate_live(chunk.frame, mapping, model.task, baseline, filename, allowed)
            hashed = _refuse_known_request_ids(store, conn, model, valid, ingestion_id, known)
            # Parquet encoding releases the GIL: it runs beside the profiling, on the other core
            encoded = encoder.submit(encode_block, valid.frame.copy(deep=False), baseline.features)
            known.add_hashes(hashed)
            if step is not None:
                profile_in_step(conn, step, valid.frame, baseline.feature_names)
            if records is not None:
                performance_store.records_in_step(store, conn, records, valid.frame)
            append_block(conn, model.id, valid.frame, baseline.features, ingestion_id, encoded.result())
            stored += len(valid.frame)
            times = valid.frame["timestamp"]
            first = times.min() if first is None else min(first, times.min())
            last = times.max() if last is None else max(last, times.max())
            report(0.2 + 0.55 * chunk.done, f"Stored {stored:,} predictions")
            del valid, hashed, times, chunk  # before the next block is read
            release_free_memory()  # resident size stays that of one block, whatever the file's size
        if step is not None:
            finish_in_step(conn, step)
        if records is not None:
            performance_store.finish_in_step(conn, records)
        store.count_ingestion(conn, ingestion_id, stored)
        store.audit(conn, "ingest.live", model.id, actor, {"file": filename, "rows": stored})
    judged_historical = _judge_as(store, model, historical, actor) if historical is not None else False
    store.refresh_statistics("predictions")  # the refresh's queries are planned on the new rows
    report(0.8, "Profiling for drift and performance")
    _after_storing(store, model)
    report(1.0, "Done")
    assert first is not None and last is not None  # a source has at least one row
    return IngestResult(
        model.name,
        "live",
        filename,
        stored,
        False,
        False,
        baseline.features,
        first.to_pydatetime(),
        last.to_pydatetime(),
        historical=judged_historical,
    )


def _settle_date_format(
    source: TableSource, mapping: ColumnMapping, chunk: TableChunk, role: str
) -> ColumnMapping:
    """The mapping with the file's date order settled from all of it, once a block has numeric dates to read.

    A file read whole settles day-first against month-first from every date in it; a file read
    in blocks must too, so the first block that needs it has the whole file's dates looked at.
    """
    column = mapping.column_for(role)
    if (
        mapping.date_format
        or column is None
        or source.complete
        or date_order(chunk.frame[column]) == DateOrder()
    ):
        return mapping
    order = DateOrder()
    for block in source.chunks():
        order = order.combine(date_order(block.frame[column]))
    return replace(mapping, date_format="dayfirst" if settle_day_first(order, column) else "monthfirst")


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
    A file larger than the preview is read block by block for its newest time.
    """
    column = mapping.column_for("timestamp")
    if preview.kind != "live" or column is None or column not in preview.table.frame:
        return None
    newest = max((_newest(chunk.frame[column]) for chunk in preview.source.chunks()), default=pd.NaT)
    if pd.isna(newest):
        return None
    newest = newest.tz_localize(None).to_pydatetime()
    return newest if utcnow() - newest > timedelta(hours=freshness_hours) else None


def _newest(values: pd.Series) -> pd.Timestamp:
    """The latest readable time in a column of times as written (NaT when none reads)."""
    latest = pd.to_datetime(values, errors="coerce", utc=True, format="mixed").max()
    return pd.NaT if pd.isna(latest) else latest


def _refuse_known_request_ids(
    store: Store, conn, model: Model, valid: ValidFrame, ingestion_id: int, blocks: log_blocks.KnownIds
) -> np.ndarray:
    """Refuse request ids already stored for the model, by another upload or an earlier block of this one; return the block's id hashes."""
    if "request_id" not in valid.frame:
        return np.empty(0, dtype=np.uint64)
    ids = valid.frame["request_id"].dropna()
    given = ids.tolist()
    # once, from Arrow's buffers: checked against the stored ids here, added to them after storing
    hashed = text_hashes(ids)
    known = blocks.known(conn, given, hashed)
    if store.has_rows(conn, model.id):  # a service's rows, or an older version's uploads
        known |= store.existing_request_ids(conn, model.id, given, blocks=False)
    if not known:
        return hashed
    label = next(i for i, value in ids.items() if value in known)
    first = ids[label]
    line = _row_line(label)
    if store.request_ids_of_ingestion(conn, model.id, [first], ingestion_id):
        raise DataValidationError(
            f"Request id {first!r} at line {line} repeats an earlier line of this file. "
            "Request ids must be unique per model; remove the duplicate rows."
        )
    raise DataValidationError(
        f"{len(known):,} request id(s) in this file are already stored for model {model.name!r} "
        f"(first: {first!r} at line {line}). Upload only new predictions, or remove those rows."
    )


def _row_line(label: object) -> int:
    """The file line of a row of a block (blocks are indexed by their rows' numbers in the file)."""
    return int(label) + FIRST_LINE if isinstance(label, (int, np.integer)) else FIRST_LINE


def _ingest_labels(
    store: Store,
    model: Model,
    source: TableSource,
    mapping: ColumnMapping,
    filename: str,
    actor: str,
    report: Progress,
) -> IngestResult:
    baseline = store.active_baseline(model.id)
    known = baseline.classes if baseline is not None and model.task != "regression" else None
    allowed = timestamp_range()
    read = kept = replaced = 0
    first_id = None
    in_rows = False  # labels of a service's rows were stored as rows of labels
    # one transaction, which merges the labels into the stored days while no refresh runs
    with store.refreshing(model.id), store.begin() as conn:
        refuse_raw_rows(conn, model)  # its labels are joined by the job over its data lake
        ingestion_id = store.record_ingestion(
            conn, model.id, "labels", filename, source.head.content_hash, 0, actor
        )
        index = LabelIndex(store, conn, model.id)  # the block rows' ids and the labelled ids, read once
        step = performance_store.start_label_step(conn, model, baseline) if baseline is not None else None
        for chunk in source.chunks():
            mapping = _settle_date_format(source, mapping, chunk, "label_time")
            frame = validate_labels(chunk.frame, mapping, model.task, known, allowed)
            ids = arrow_texts(frame["request_id"])
            found = index.targets(conn, ids)
            _refuse_repeated_labels(frame, found.labelled_here, mapping.roles["request_id"])
            stored, n_replaced, as_rows = _store_labels(store, conn, model, frame, found, ingestion_id, step)
            index.add(ids, as_rows)
            if step is not None and step.held >= performance_store.LABELS_IN_STEP:
                performance_store.finish_label_step(store, conn, step, index.rows)  # memory stays bounded
            in_rows = in_rows or as_rows
            first_id = first_id if first_id is not None else frame["request_id"].iloc[0]
            read, kept, replaced = read + len(frame), kept + stored, replaced + n_replaced
            report(0.2 + 0.55 * chunk.done, f"Stored {kept:,} labels")
        if not kept:
            raise LabelJoinError(
                f"None of the {read:,} request ids in {filename} match a prediction of model "
                f"{model.name!r} (first: {first_id!r}). Check that the file belongs to this model and that "
                "its live predictions were uploaded with a request_id column."
            )
        if step is not None:
            report(0.78, "Updating performance for the labelled rows")
            performance_store.finish_label_step(store, conn, step, index.rows)
        store.count_ingestion(conn, ingestion_id, kept)
        store.audit(
            conn,
            LABEL_UPLOAD_ACTION,
            model.id,
            actor,
            {"file": filename, "rows": kept, "unmatched": read - kept},
        )
    if in_rows:
        store.refresh_statistics("labels")  # the refresh's join is planned on the new labels
    report(0.8, "Updating performance for the labelled days")
    _after_storing(store, model)
    report(1.0, "Done")
    return IngestResult(
        model.name,
        "labels",
        filename,
        kept,
        False,
        False,
        labels_updated=replaced,
        labels_unmatched=read - kept,
    )


def _store_labels(
    store: Store,
    conn,
    model: Model,
    frame: pd.DataFrame,
    found: LabelTargets,
    ingestion_id: int,
    step: performance_store.LabelStep | None,
) -> tuple[int, int, bool]:
    """Store a block of labels: of block rows as a label block (merged into the step), of a service's rows as rows.

    Returns how many were stored, how many replaced earlier labels, and whether any went to rows of labels.
    """
    in_block = found.at >= 0
    in_rows = ~in_block
    if len(found.in_rows) < in_rows.sum():  # some ids match no prediction: isin() is slow on a set
        in_rows &= np.array([v in found.in_rows for v in frame["request_id"].tolist()], dtype=bool)
    rows, blocked, replaced = frame[in_rows], frame[in_block], 0
    if len(rows):
        replaced += store.replace_labels(conn, model, rows, ingestion_id, replaced=found.labelled)
    if len(blocked):
        blocked = blocked.assign(received_at=pd.Timestamp(store.now()))
        replaced += store.store_label_block(conn, model.id, blocked, ingestion_id, found)
        if step is not None:
            relabelled = np.zeros(len(blocked), dtype=bool)
            if found.labelled:
                relabelled = np.array(
                    [v in found.labelled for v in blocked["request_id"].tolist()], dtype=bool
                )
            performance_store.labels_in_step(step, found.at[in_block], blocked, relabelled)
    return len(rows) + len(blocked), replaced, bool(len(rows))


def _refuse_repeated_labels(frame: pd.DataFrame, repeated: frozenset[str], column: str) -> None:
    """Refuse request ids an earlier block of this file labelled already (a block refuses its own repeats)."""
    if repeated:
        ids = frame["request_id"]
        label = next(i for i, value in ids.items() if value in repeated)
        raise DataValidationError(
            f"Request id column {column!r} repeats {ids[label]!r} at line {_row_line(label)} "
            f"({len(repeated):,} repeat(s) of earlier lines). Request ids must be unique per model; remove the "
            "duplicate rows."
        )


def _after_storing(store: Store, model: Model) -> None:
    """Bring the model's aggregates up to date with what was stored, and record its score of the day."""
    refresh_model(store, model)
    record_score(store, assess_model(store, model))
