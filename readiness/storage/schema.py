"""The documented tables of the prediction-log store (SQLAlchemy Core).

Services may insert into ``predictions`` and ``labels`` directly; see docs/log-contract.md.
Timestamps are stored as naive UTC. Features are a JSON object per row.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from readiness.core.records import MAX_MODEL_VERSION, MAX_OWNER, MAX_POSITIVE_CLASS, MAX_REQUEST_ID, TASKS

__all__ = ["TASKS", "metadata"]

metadata = MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for big logs.
RowId = BigInteger().with_variant(Integer(), "sqlite")


models = Table(
    "models",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("task", String(20), nullable=False),
    Column("positive_class", String(MAX_POSITIVE_CLASS)),
    Column("owner", String(MAX_OWNER), nullable=False, default=""),
    Column("description", Text, nullable=False, default=""),
    Column("created_at", DateTime, nullable=False),
)

ingestions = Table(
    "ingestions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("model_id", ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("filename", String(500), nullable=False, default=""),
    Column("content_hash", String(64), nullable=False),
    Column("n_rows", Integer, nullable=False),
    Column("actor", String(200), nullable=False, default=""),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("model_id", "kind", "content_hash", name="uq_ingestion_content"),
)

baselines = Table(
    "baselines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("model_id", ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(500), nullable=False, default=""),
    Column("ingestion_id", ForeignKey("ingestions.id"), nullable=True),
    Column("n_rows", Integer, nullable=False),
    Column("features", JSON, nullable=False),  # [{"name": str, "kind": "numeric"|"categorical"}]
    Column("classes", JSON, nullable=False),  # class labels seen (classification), else []
    Column("period_start", DateTime, nullable=True),  # the development period, when the file had times
    Column("period_end", DateTime, nullable=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime, nullable=False),
)

baseline_rows = Table(
    "baseline_rows",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("baseline_id", ForeignKey("baselines.id", ondelete="CASCADE"), nullable=False),
    Column("prediction", Text),
    Column("score", Float),
    Column("label", Text),
    Column("features", Text, nullable=False),  # JSON object text
    Column("probabilities", Text, nullable=True),  # multiclass: JSON {"class": probability, ...}
    Index("ix_baseline_rows_baseline", "baseline_id"),
)

# Baselines uploaded since blocks exist: their rows as Parquet blocks (readiness.storage.blocks),
# in order of seq. A baseline has rows in baseline_rows (older databases) or blocks here, never both.
baseline_blocks = Table(
    "baseline_blocks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("baseline_id", ForeignKey("baselines.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("n_rows", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    UniqueConstraint("baseline_id", "seq", name="uq_baseline_block"),
)

predictions = Table(
    "predictions",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("model_id", ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("timestamp", DateTime, nullable=False),
    Column("request_id", String(MAX_REQUEST_ID)),
    Column("model_version", String(MAX_MODEL_VERSION)),
    Column("prediction", Text, nullable=False),
    Column("score", Float),
    Column("label", Text),
    Column("latency_ms", Float),
    Column("features", Text, nullable=False),  # JSON object text, e.g. {"amount": 12.5}
    Column("ingestion_id", ForeignKey("ingestions.id"), nullable=True),
    Column("probabilities", Text, nullable=True),  # multiclass: JSON {"class": probability, ...}
    UniqueConstraint("model_id", "request_id", name="uq_prediction_request"),
    Index("ix_predictions_model_time", "model_id", "timestamp"),
    # the profile refresh reads "this model's rows past the watermark" as a range seek
    Index("ix_predictions_model_id", "model_id", "id"),
)

# Live logs uploaded as files: each block of an upload's rows as Parquet (readiness.storage.log_blocks),
# with what readers need to find it without decoding it. Services insert into predictions instead;
# readers of raw rows take both. Request ids are unique per model across both.
prediction_blocks = Table(
    "prediction_blocks",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("model_id", ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("ingestion_id", ForeignKey("ingestions.id"), nullable=True),
    Column("n_rows", Integer, nullable=False),
    Column("n_labelled", Integer, nullable=False),  # rows with an inline label
    Column("first_time", DateTime, nullable=False),
    Column("last_time", DateTime, nullable=False),
    Column("days", Text, nullable=False),  # JSON {"YYYY-MM-DD": rows}
    Column("data", LargeBinary, nullable=False),
    Index("ix_prediction_blocks_model_time", "model_id", "first_time"),
    # a model's blocks in upload order without sorting them: SQLite copied every block's data
    # into a temporary B-tree for ORDER BY id (50 MB and 0.1 s per million rows of a label upload)
    Index("ix_prediction_blocks_model_id", "model_id", "id"),
    sqlite_autoincrement=True,
)

# Delayed labels an upload stored for uploaded (block) predictions: one row per block of a label
# file, the labels as Parquet (request_id, label, received_at, arrived_at). A later block's label of
# an id replaces an earlier block's; a row of ``labels`` (a service's) replaces both.
label_blocks = Table(
    "label_blocks",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("model_id", ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("ingestion_id", ForeignKey("ingestions.id"), nullable=True),
    Column("n_rows", Integer, nullable=False),
    Column("n_new", Integer, nullable=False),  # of those, ids no earlier block labelled
    Column("data", LargeBinary, nullable=False),
    Index("ix_label_blocks_model_id", "model_id", "id"),
    sqlite_autoincrement=True,
)

labels = Table(
    "labels",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("model_id", ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("request_id", String(MAX_REQUEST_ID), nullable=False),
    Column("label", Text, nullable=False),
    Column("received_at", DateTime, nullable=False),  # when the store got it
    Column("arrived_at", DateTime, nullable=True),  # when it became known, where the file stated it
    Column("ingestion_id", ForeignKey("ingestions.id"), nullable=True),
    UniqueConstraint("model_id", "request_id", name="uq_label_request"),
    # the performance refresh reads "this model's labels past the watermark" as a range seek
    Index("ix_labels_model_id", "model_id", "id"),
    # ids must never be reused: the performance refresh finds new and corrected labels by id
    sqlite_autoincrement=True,
)

criteria = Table(
    "criteria",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("model_id", ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("metric", String(50), nullable=False),
    Column("comparison", String(2), nullable=False),  # ">=" or "<="
    Column("threshold", Float, nullable=False),
    Column("window", String(10), nullable=False, default="week"),
    Column("min_labels", Integer, nullable=False, default=0),
    Column("created_at", DateTime, nullable=False),
)

attestations = Table(
    "attestations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("model_id", ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("item", String(100), nullable=False),
    Column("owner", String(200), nullable=False),
    Column("attested_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("evidence_url", Text, nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),
    Index("ix_attestations_model_item", "model_id", "item"),
)

checklist_config = Table(
    "checklist_config",
    metadata,
    Column("model_id", ForeignKey("models.id", ondelete="CASCADE"), primary_key=True),
    Column("data", Text, nullable=False),  # JSON of readiness.checklist_config.ChecklistConfig
    Column("updated_at", DateTime, nullable=False),
)

# One readiness score per model and UTC day (the latest computed that day), for the history chart.
readiness_history = Table(
    "readiness_history",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("model_id", ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("day", DateTime, nullable=False),  # UTC midnight
    Column("score", Float),  # None when nothing applicable could be scored
    Column("status", String(20), nullable=False),
    Column("sections", Text, nullable=False),  # JSON {"data": 85.7, ...} (percent, null when empty)
    Column("computed_at", DateTime, nullable=False),
    UniqueConstraint("model_id", "day", name="uq_readiness_day"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(200), nullable=False, default=""),
    Column("action", String(100), nullable=False),
    Column("model_id", Integer, nullable=True),
    Column("detail", JSON, nullable=False),
    # a model's settings version is its newest audit entry: a range seek, not a scan
    Index("ix_audit_model_id", "model_id", "id"),
)

# -- aggregate-first drift: the baseline's reference bins and per-day profiles ----------

drift_references = Table(
    "drift_references",
    metadata,
    Column("baseline_id", ForeignKey("baselines.id", ondelete="CASCADE"), primary_key=True),
    Column("model_id", ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("data", Text, nullable=False),  # JSON of readiness.profiles.Reference
    Column("created_at", DateTime, nullable=False),
)

profiles = Table(
    "profiles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("model_id", ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("baseline_id", ForeignKey("baselines.id", ondelete="CASCADE"), nullable=False),
    Column("window_start", DateTime, nullable=False),  # UTC day
    Column("n_rows", Integer, nullable=False),
    Column("data", Text, nullable=False),  # JSON of readiness.profiles.FrameProfile
    UniqueConstraint("baseline_id", "window_start", name="uq_profile_window"),
    Index("ix_profiles_model_window", "model_id", "window_start"),
)

profile_state = Table(
    "profile_state",
    metadata,
    Column("model_id", ForeignKey("models.id", ondelete="CASCADE"), primary_key=True),
    Column("baseline_id", Integer, nullable=False),
    Column("watermark", BigInteger, nullable=False),  # highest predictions.id already profiled
    Column("updated_at", DateTime, nullable=False),
)

# Days of a log that never entered this database (a Spark job over a data lake profiled them):
# their rows, labelled rows, first and last time, and a bounded sample of their rows' features
# (JSON list of feature objects) for the checks that need raw rows. The job writes each day's
# profiles and day records with it, for the baseline named here.
external_days = Table(
    "external_days",
    metadata,
    Column("model_id", ForeignKey("models.id", ondelete="CASCADE"), primary_key=True),
    Column("day", DateTime, primary_key=True),  # UTC day
    Column("baseline_id", Integer, nullable=False),
    Column("n_rows", BigInteger, nullable=False),
    Column("n_labelled", BigInteger, nullable=False),
    Column("first_time", DateTime, nullable=False),
    Column("last_time", DateTime, nullable=False),
    Column("sample", Text, nullable=False),
    Column("written_at", DateTime, nullable=False),
)

# -- performance: per model, baseline, UTC day and model version -------------------------

perf_windows = Table(
    "perf_windows",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("model_id", ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("baseline_id", ForeignKey("baselines.id", ondelete="CASCADE"), nullable=False),
    Column("window_start", DateTime, nullable=False),  # UTC day
    Column("model_version", String(100), nullable=False),  # "" when rows carry none
    Column("n_rows", Integer, nullable=False),
    Column("n_labelled", Integer, nullable=False),
    Column("data", Text, nullable=False),  # JSON: quality, operations, label delay, estimate aggregates
    UniqueConstraint("baseline_id", "window_start", "model_version", name="uq_perf_window"),
    Index("ix_perf_model_window", "model_id", "window_start"),
)

perf_state = Table(
    "perf_state",
    metadata,
    Column("model_id", ForeignKey("models.id", ondelete="CASCADE"), primary_key=True),
    Column("baseline_id", Integer, nullable=False),
    Column("prediction_watermark", BigInteger, nullable=False),
    Column("label_watermark", BigInteger, nullable=False),
    Column("calibrator", Text, nullable=False),  # JSON of readiness.estimation.ScoreCalibrator ("" if none)
    Column("updated_at", DateTime, nullable=False),
)

# -- alerts: what watch last saw, the changes it found, and what it delivered ----------

alert_state = Table(
    "alert_state",
    metadata,
    Column("model_id", ForeignKey("models.id", ondelete="CASCADE"), primary_key=True),
    Column("snapshot", Text, nullable=False),  # JSON of readiness.core.alerts.Snapshot
    Column("assessed_at", DateTime, nullable=False),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("model_id", ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(20), nullable=False),  # readiness.core.alerts.KINDS
    Column("key", String(500), nullable=False),  # the column, criterion, item or "status"
    Column("event", String(20), nullable=False),  # started, changed, ended
    Column("title", Text, nullable=False),
    Column("severity", String(20), nullable=False),
    Column("status", String(20), nullable=False),  # the model's status after the change
    Column("score", Float),
    Column("evidence", Text, nullable=False),  # JSON list of lines
    Column("page", String(20), nullable=False),
    Column("problem", Boolean, nullable=False),  # True: something is wrong; False: it ended
    Column("detected_at", DateTime, nullable=False),
    Column("open", Boolean, nullable=False),  # a problem not yet ended
    Column("resolved_at", DateTime, nullable=True),
    Column("last_notified_at", DateTime, nullable=True),
    Column("reminders", Integer, nullable=False, default=0),
    Column("acknowledged_by", String(200), nullable=True),
    Column("acknowledged_at", DateTime, nullable=True),
    Column("snoozed_until", DateTime, nullable=True),
    Column("snoozed_by", String(200), nullable=True),
    Index("ix_alerts_model_id", "model_id", "id"),
)

alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("alert_id", ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(200), nullable=False),  # the channel's name
    Column("channel_kind", String(20), nullable=False),  # webhook, slack, email
    Column("at", DateTime, nullable=False),
    Column("outcome", String(20), nullable=False),  # sent or failed
    Column("attempts", Integer, nullable=False),
    Column("error", Text, nullable=False, default=""),
    Column("reminder", Boolean, nullable=False, default=False),
    Column("digest", Boolean, nullable=False, default=False),
    Index("ix_alert_deliveries_alert", "alert_id"),
)

alert_channels = Table(
    "alert_channels",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("model_id", ForeignKey("models.id", ondelete="CASCADE"), nullable=True),  # None: every model
    Column("kind", String(20), nullable=False),  # webhook, slack, email
    Column("target", Text, nullable=False),  # a URL (a secret: never shown back) or email addresses
    Column("created_by", String(200), nullable=False, default=""),
    Column("created_at", DateTime, nullable=False),
)

alert_settings = Table(
    "alert_settings",
    metadata,
    Column("id", Integer, primary_key=True),  # one row, id 1
    Column("data", Text, nullable=False),  # JSON: reminder hours, digest threshold, quiet hours, app URL
    Column("updated_at", DateTime, nullable=False),
)
