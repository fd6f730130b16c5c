"""The prediction-log store: opening a database, models, baselines and reading logs back.

Everything goes through SQLAlchemy Core with bound parameters; names from user files are
data, never SQL text. Writers take a connection so a caller can make one transaction.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    CursorResult,
    Engine,
    MetaData,
    String,
    Table,
    bindparam,
    case,
    create_engine,
    event,
    func,
    inspect,
    null,
    select,
    update,
)
from sqlalchemy import text as sql_text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from readiness.config import database_url
from readiness.core.lazy import lazy_module
from readiness.core.records import (
    TASKS,
    Baseline,
    FeatureSpec,
    Model,
    ModelStats,
    features_from_json,
    features_to_json,
    python_columns,
    utcnow,
    validate_model_name,
)
from readiness.errors import ModelConfigError, StoreError, UnknownModelError, one_line
from readiness.storage import label_blocks, log_blocks
from readiness.storage import schema as t
from readiness.storage.blocks import blocks_of, decode_block, encode_block
from readiness.storage.sql import (
    LABELLED_LOG,
    effective_label,
    parse_times,
    plausible_time,
    result_frame,
    stored_time,
)

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

INSERT_CHUNK_ROWS = 20_000
LABEL_UPLOAD_ACTION = "ingest.labels"  # the audit action of a label upload (it changes no label-free result)
LABELS_HELD = 2_000_000  # a refresh reads at most this many delayed labels into memory at once (about 400 MB)
BASELINE_OUTPUTS = ("prediction", "score", "label", "probabilities")
WRITE_LOCK_KEY = 7_342_001  # PostgreSQL advisory lock: write transactions share it, committed_bounds takes it
REFRESH_LOCK_KEY = 7_342_002  # PostgreSQL advisory lock (with a model id): one refresh of a model at a time
# SQLite: one refresh of a model per process at a time, by database URL and model id
_LOCAL_REFRESHES: dict[tuple[str, int], threading.Lock] = {}


SQLITE_BUSY_TIMEOUT_MS = 10_000  # how long SQLite itself waits for another writer, per attempt
BUSY_BACKOFF_SECONDS = (0.5, 1.0, 2.0, 4.0)  # then pauses between further attempts: about a minute in all


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # a service appends while the dashboard reads
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_MS)}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _pause(seconds: float) -> None:
    """Wait between attempts to begin a write (a seam for tests)."""
    time.sleep(seconds)


def make_engine(url: str | None = None) -> Engine:
    """Create an engine for a URL (default: ``$READINESS_DATABASE_URL`` or data/readiness.db)."""
    resolved = make_url(database_url(url))
    if resolved.get_backend_name() == "sqlite":
        if resolved.database and resolved.database != ":memory:":
            Path(resolved.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(resolved, connect_args={"timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(resolved, pool_pre_ping=True)


def _model(row: Any) -> Model:
    return Model(
        id=row.id,
        name=row.name,
        task=row.task,
        positive_class=row.positive_class,
        owner=row.owner or "",
        description=row.description or "",
        created_at=row.created_at,
    )


def _baseline(row: Any) -> Baseline:
    features = tuple(FeatureSpec(f["name"], f["kind"]) for f in row.features)
    return Baseline(
        id=row.id,
        model_id=row.model_id,
        name=row.name,
        n_rows=row.n_rows,
        features=features,
        classes=tuple(row.classes),
        created_at=row.created_at,
        period_start=row.period_start,
        period_end=row.period_end,
    )


@dataclass(frozen=True)
class LabelTargets:
    """What a block of delayed labels meets when labels of block rows are stored as blocks (see LabelIndex)."""

    at: np.ndarray  # each id's position among the model's block rows (-1: no block row has it)
    in_rows: frozenset[str]  # ids a row of predictions has (a service's, or an older version's upload)
    labelled: frozenset[str]  # ids with a delayed label already, in a row of labels or a label block
    labelled_rows: frozenset[str]  # of those, the ones in a row of labels
    labelled_blocks: frozenset[str]  # and the ones in a label block
    labelled_here: frozenset[str]  # ids an earlier block of this upload labelled


class LabelIndex:
    """What a label upload checks each block of labels against, read once: block rows' ids and labelled ids.

    Grown with each block of labels it stores, so a file of many blocks decodes no block twice.
    """

    def __init__(self, store: Store, conn: Connection, model_id: int) -> None:
        self.store, self.model_id = store, model_id
        self.rows = log_blocks.BlockIds(conn, model_id)
        self.labelled: Any = label_blocks.labelled_ids(conn, model_id)  # Arrow strings
        self.has_rows = store.has_rows(conn, model_id)
        lab = t.labels.c
        self.has_label_rows = (
            conn.execute(select(lab.id).where(lab.model_id == model_id).limit(1)).first() is not None
        )
        self.here: list[Any] = []  # Arrow arrays of the ids this upload labelled so far

    def targets(self, conn: Connection, ids: Any) -> LabelTargets:
        """Where these ids' predictions are and which are labelled already (``ids``: Arrow strings, none missing)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        at = self.rows.positions(ids)
        in_rows: set[str] = set()
        if self.has_rows and (at < 0).any():
            missing = ids.filter(pa.array(at < 0)).to_pylist()
            in_rows = self.store._ids_present(conn, t.predictions, self.model_id, missing)
        labelled: set[str] = set()
        if len(self.labelled):
            labelled = set(ids.filter(pc.is_in(ids, value_set=self.labelled)).to_pylist())
        rows: set[str] = set()
        if self.has_label_rows:
            rows = self.store._ids_present(conn, t.labels, self.model_id, ids.to_pylist())
        here: set[str] = set()
        if self.here:
            here = set(ids.filter(pc.is_in(ids, value_set=pa.concat_arrays(self.here))).to_pylist())
        return LabelTargets(
            at,
            frozenset(in_rows),
            frozenset(labelled | rows | here),
            frozenset(rows),
            frozenset(labelled),
            frozenset(here),
        )

    def add(self, ids: Any, in_label_rows: bool) -> None:
        """Count these ids (Arrow strings) in as labelled by this upload (``in_label_rows``: some as rows of labels)."""
        self.here.append(ids)
        self.has_label_rows = self.has_label_rows or in_label_rows


@dataclass(frozen=True)
class DataVersion:
    """Everything an analysis of one model depends on, as numbers that only grow when it changes.

    The active baseline, the newest prediction and label ids (rows a service inserted directly
    count too), the refresh watermarks of the stored aggregates, and the newest audit entry of
    the model (every settings change writes one). Equal versions mean equal results.
    """

    baseline_id: int | None
    prediction_id: int
    label_id: int
    profile_watermark: int
    prediction_watermark: int
    label_watermark: int
    settings: int
    block_id: int = 0  # the newest block of uploaded predictions
    label_block_id: int = 0  # the newest block of uploaded delayed labels
    unlabelled_settings: int = 0  # the newest audit entry of the model that is not a label upload

    def without_labels(self) -> DataVersion:
        """The version of what results that never read a label depend on (drift, the schema sample).

        Labels, the performance aggregates' watermarks and the audit entries of label uploads
        are left out, so a label upload does not make drift be computed again.
        """
        return replace(
            self,
            label_id=0,
            prediction_watermark=0,
            label_watermark=0,
            settings=self.unlabelled_settings,
            label_block_id=0,
        )


def _data_version_query() -> Any:
    """The statement :meth:`Store.data_version` runs, built once (building it took most of each call's time)."""
    model_id: Any = bindparam("model_id")

    def newest(column: Any, model_column: Any) -> Any:
        return select(func.coalesce(func.max(column), 0)).where(model_column == model_id).scalar_subquery()

    def state(column: Any, table: Any) -> Any:
        return (
            select(func.coalesce(func.max(column), -1)).where(table.c.model_id == model_id).scalar_subquery()
        )

    b, a = t.baselines.c, t.audit_log.c
    return select(
        select(func.max(b.id)).where(b.model_id == model_id, b.active.is_(True)).scalar_subquery(),
        newest(t.predictions.c.id, t.predictions.c.model_id),
        newest(t.labels.c.id, t.labels.c.model_id),
        state(t.profile_state.c.watermark, t.profile_state),
        state(t.perf_state.c.prediction_watermark, t.perf_state),
        state(t.perf_state.c.label_watermark, t.perf_state),
        newest(t.audit_log.c.id, t.audit_log.c.model_id),
        newest(t.prediction_blocks.c.id, t.prediction_blocks.c.model_id),
        newest(t.label_blocks.c.id, t.label_blocks.c.model_id),
        select(func.coalesce(func.max(a.id), 0))
        .where(a.model_id == model_id, a.action != LABEL_UPLOAD_ACTION)
        .scalar_subquery(),
    )


_DATA_VERSION = _data_version_query()


class Store:
    """A prediction-log database. Open one with ``Store.open(url)``.

    >>> store = Store.open("sqlite:///:memory:")
    >>> store.create_model("fraud", task="binary", positive_class="1").name
    'fraud'
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # What cached results are keyed on: two stores never share results, whatever their URL.
        self.identity = uuid.uuid4().hex

    @classmethod
    def open(cls, url: str | None = None) -> Store:
        """Open (and if needed create) the store at a URL or the configured default."""
        engine = make_engine(url)
        t.metadata.create_all(engine)
        _add_new_columns(engine)
        for table in t.metadata.sorted_tables:  # indexes added since a database was created
            for index in table.indexes:
                index.create(engine, checkfirst=True)
        return cls(engine)

    @property
    def dialect(self) -> str:
        """The SQL dialect name, e.g. "sqlite" or "postgresql"."""
        return self.engine.dialect.name

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: everything inside commits together or not at all.

        A database error (locked, unreachable, a constraint) becomes a StoreError naming it.
        """
        try:
            with self.engine.connect() as conn:
                self._start_write(conn)
                try:
                    yield conn
                except BaseException:
                    conn.rollback()
                    raise
                conn.commit()
        except SQLAlchemyError as exc:
            raise StoreError(f"{one_line(exc)}.") from exc

    def _start_write(self, conn: Connection) -> None:
        """Take what a write transaction holds from its start: SQLite's write lock, PostgreSQL's shared advisory lock.

        SQLite: ``BEGIN IMMEDIATE``, so reads and writes inside are one transaction and waiting
        for another writer happens here, where it can be retried: SQLite waits its busy timeout,
        then this backs off and tries again, and past the last attempt says the database is busy.
        """
        if self.dialect == "postgresql":  # see committed_bounds: writers share, a refresh waits them out
            conn.execute(select(func.pg_advisory_xact_lock_shared(WRITE_LOCK_KEY)))
            return
        if self.dialect != "sqlite":
            return
        for pause in (*BUSY_BACKOFF_SECONDS, None):
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as exc:
                conn.rollback()
                if "locked" not in str(exc.orig) and "busy" not in str(exc.orig):
                    raise
                if pause is None:
                    raise StoreError(
                        f"The database is busy: another write held it through {len(BUSY_BACKOFF_SECONDS) + 1} "
                        f"attempts over {sum(BUSY_BACKOFF_SECONDS) + SQLITE_BUSY_TIMEOUT_MS / 1000 * (len(BUSY_BACKOFF_SECONDS) + 1):.0f} s "
                        f"({one_line(exc)}). Try again when the other upload or refresh has finished; a team "
                        "writing this much at once may outgrow one SQLite file (see docs/log-contract.md)."
                    ) from None
                _pause(pause)

    # -- models -------------------------------------------------------------------------

    def create_model(
        self,
        name: str,
        task: str,
        positive_class: str | None = None,
        owner: str = "",
        description: str = "",
        actor: str = "",
        conn: Connection | None = None,
    ) -> Model:
        """Register a model; raise ModelConfigError for a bad name/task or an existing name."""
        validate_model_name(name)
        if task not in TASKS:
            raise ModelConfigError(
                f"Unknown task {task!r} for model {name!r}: choose one of {', '.join(TASKS)}."
            )
        if task == "binary" and not positive_class:
            raise ModelConfigError(
                f"Binary model {name!r} needs a positive class (the label value that means "
                "'yes', for example 1 or 'fraud')."
            )
        if task != "binary":
            positive_class = None
        for what, value, column in (
            ("Owner", owner, t.models.c.owner),
            ("Positive class", positive_class, t.models.c.positive_class),
        ):
            if value is not None and len(str(value)) > _length(column):
                raise ModelConfigError(
                    f"{what} of model {name!r} is {len(str(value))} characters long; "
                    f"use at most {_length(column)}."
                )
        with self._conn(conn) as c:
            if self._find(c, name) is not None:
                raise ModelConfigError(
                    f"A model named {name!r} already exists: pick another name or upload to it."
                )
            now = utcnow()
            c.execute(
                t.models.insert().values(
                    name=name,
                    task=task,
                    positive_class=str(positive_class) if positive_class is not None else None,
                    owner=owner,
                    description=description,
                    created_at=now,
                )
            )
            model = self._find(c, name)
            assert model is not None
            self.audit(c, "model.create", model.id, actor, {"name": name, "task": task})
            return model

    def find_model(self, name: str) -> Model | None:
        """Return the model with this name, or None."""
        with self.engine.connect() as c:
            return self._find(c, name)

    def get_model(self, name: str) -> Model:
        """Return the model with this name; raise UnknownModelError naming the known models."""
        model = self.find_model(name)
        if model is None:
            known = ", ".join(m.name for m in self.list_models()) or "none yet"
            raise UnknownModelError(
                f"No model named {name!r}. Known models: {known}. "
                "Upload a baseline to create it, or check the spelling."
            )
        return model

    def list_models(self) -> list[Model]:
        """All models, by name."""
        with self.engine.connect() as c:
            rows = c.execute(select(t.models).order_by(t.models.c.name)).all()
        return [_model(r) for r in rows]

    def is_empty(self) -> bool:
        """True when no model is registered yet."""
        with self.engine.connect() as c:
            return c.execute(select(func.count()).select_from(t.models)).scalar_one() == 0

    @staticmethod
    def _find(c: Connection, name: str) -> Model | None:
        row = c.execute(select(t.models).where(t.models.c.name == name)).first()
        return _model(row) if row is not None else None

    # -- baselines ----------------------------------------------------------------------

    def active_baseline(self, model_id: int, conn: Connection | None = None) -> Baseline | None:
        """The model's active baseline, or None before one is uploaded."""
        query = (
            select(t.baselines)
            .where(t.baselines.c.model_id == model_id, t.baselines.c.active.is_(True))
            .order_by(t.baselines.c.id.desc())
        )
        with self._conn(conn) as c:
            row = c.execute(query).first()
        return _baseline(row) if row is not None else None

    def add_baseline(
        self,
        conn: Connection,
        model: Model,
        frame: pd.DataFrame,
        features: Sequence[FeatureSpec],
        classes: Sequence[str],
        name: str,
        ingestion_id: int | None,
        period: tuple[datetime, datetime] | None = None,
    ) -> int:
        """Store a canonical baseline frame and make it the model's only active baseline.

        ``period`` is the development period (first and last timestamp) when the file had times.
        """
        conn.execute(update(t.baselines).where(t.baselines.c.model_id == model.id).values(active=False))
        baseline_id = _inserted_id(
            conn.execute(
                t.baselines.insert().values(
                    model_id=model.id,
                    name=_fit(name, t.baselines.c.name),
                    ingestion_id=ingestion_id,
                    n_rows=len(frame),
                    features=[{"name": f.name, "kind": f.kind} for f in features],
                    classes=list(classes),
                    active=True,
                    created_at=utcnow(),
                    period_start=period[0] if period else None,
                    period_end=period[1] if period else None,
                )
            )
        )
        rows = [
            {
                "baseline_id": baseline_id,
                "seq": seq,
                "n_rows": len(part),
                "data": encode_block(part, features),
            }
            for seq, part in enumerate(blocks_of(frame))
        ]
        conn.execute(t.baseline_blocks.insert(), rows)
        return int(baseline_id)

    def read_baseline(self, baseline: Baseline) -> pd.DataFrame:
        """A baseline's rows as a frame: features, then prediction, score, label (and class probabilities' JSON when stored)."""
        blocked = self.baseline_blocks(baseline, baseline.features, BASELINE_OUTPUTS)
        if blocked is not None:
            if not blocked["probabilities"].notna().any():
                blocked = blocked.drop(columns="probabilities")
            return blocked
        return self._baseline_rows(baseline)

    def baseline_blocks(
        self, baseline: Baseline, features: Sequence[FeatureSpec], reserved: Sequence[str]
    ) -> pd.DataFrame | None:
        """These features and reserved columns of a baseline stored as blocks, in file order (None: stored as rows)."""
        b = t.baseline_blocks
        query = select(b.c.data).where(b.c.baseline_id == baseline.id).order_by(b.c.seq)
        with self.engine.connect() as c:
            parts = [decode_block(data, features, reserved) for data in c.execute(query).scalars()]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)

    def _baseline_rows(self, baseline: Baseline) -> pd.DataFrame:
        """A baseline stored a row each (databases from before blocks)."""
        query = (
            select(
                t.baseline_rows.c.prediction,
                t.baseline_rows.c.score,
                t.baseline_rows.c.label,
                t.baseline_rows.c.features,
                t.baseline_rows.c.probabilities,
            )
            .where(t.baseline_rows.c.baseline_id == baseline.id)
            .order_by(t.baseline_rows.c.id)
        )
        with self.engine.connect() as c:
            raw = result_frame(
                c.execute(query), ["prediction", "score", "label", "features", "probabilities"]
            )
        if not raw["probabilities"].notna().any():
            raw = raw.drop(columns="probabilities")  # only a multiclass baseline with probabilities has them
        kinds = {f.name: f.kind for f in baseline.features}
        features = features_from_json(raw["features"].tolist(), baseline.feature_names, kinds)
        return pd.concat([features, raw.drop(columns="features")], axis=1)

    # -- predictions and labels ---------------------------------------------------------

    def append_predictions(
        self,
        conn: Connection,
        model: Model,
        frame: pd.DataFrame,
        feature_names: Sequence[str],
        ingestion_id: int | None,
    ) -> int:
        """Insert canonical prediction rows (see ingest) in chunks; return how many."""
        columns = _reserved_columns(frame, log_blocks.LOG_COLUMNS)
        columns["model_id"] = [model.id] * len(frame)
        columns["features"] = features_to_json(frame[list(feature_names)])
        columns["ingestion_id"] = [ingestion_id] * len(frame)
        _insert_columns(conn, t.predictions, columns)
        return len(frame)

    def existing_request_ids(
        self, conn: Connection, model_id: int, ids: Iterable[str], blocks: bool = True
    ) -> set[str]:
        """Which of these request ids already have a prediction for the model (in rows, and in blocks unless told not to)."""
        ids = list(ids)
        found = self._ids_present(conn, t.predictions, model_id, ids)
        return found | log_blocks.ids_in_blocks(conn, model_id, ids) if blocks else found

    def has_rows(self, conn: Connection, model_id: int) -> bool:
        """Whether the model has predictions stored a row each (a service's, or an older version's uploads)."""
        p = t.predictions.c
        return conn.execute(select(p.id).where(p.model_id == model_id).limit(1)).first() is not None

    def labelled_request_ids(self, conn: Connection, model_id: int, ids: Iterable[str]) -> set[str]:
        """Which of these request ids already have a delayed label for the model."""
        return self._ids_present(conn, t.labels, model_id, ids)

    def request_ids_of_ingestion(
        self, conn: Connection, model_id: int, ids: Iterable[str], ingestion_id: int
    ) -> set[str]:
        """Which of these request ids one live ingestion stored already: an earlier block's predictions."""
        p = t.predictions
        ids = list(ids)
        found = self._ids_present(conn, p, model_id, ids, p.c.ingestion_id == ingestion_id)
        return found | log_blocks.ids_in_blocks(conn, model_id, ids, ingestion_id)

    @staticmethod
    def _ids_present(
        conn: Connection, table: Any, model_id: int, ids: Iterable[str], *where: ColumnElement[bool]
    ) -> set[str]:
        """Which ids the table holds for the model: the ids go into a temporary table, then one join.

        An ``IN (...)`` list costs SQLAlchemy about 5 microseconds per id to build; a block of
        100,000 ids was half a second, three times per label block.
        """
        with _id_table(conn, ids) as given:
            return Store._joined(conn, given, table, model_id, *where)

    @staticmethod
    def _joined(
        conn: Connection, given: Table, table: Any, model_id: int, *where: ColumnElement[bool]
    ) -> set[str]:
        """The given ids the table holds for the model."""
        query = (
            select(table.c.request_id)
            .select_from(given.join(table, table.c.request_id == given.c.request_id))
            .where(table.c.model_id == model_id, *where)
        )
        return set(conn.execute(query).scalars())

    def read_predictions(
        self,
        model: Model,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Raw predictions of one model (features expanded, delayed labels joined), oldest first."""
        p = t.predictions
        query = (
            select(
                p.c.timestamp,
                p.c.request_id,
                p.c.model_version,
                p.c.prediction,
                p.c.score,
                effective_label().label("label"),
                p.c.latency_ms,
                p.c.features,
            )
            .select_from(LABELLED_LOG)
            .where(p.c.model_id == model.id, plausible_time(p.c.timestamp))
            .order_by(p.c.timestamp, p.c.id)
        )
        if start is not None:
            query = query.where(p.c.timestamp >= start)
        if end is not None:
            query = query.where(p.c.timestamp < end)
        if limit is not None:
            query = query.limit(limit)
        baseline = self.active_baseline(model.id)
        with self.engine.connect() as c:
            raw = result_frame(c.execute(query), list(query.selected_columns.keys()))
            blocked = self.block_log(c, model.id, start, end, baseline.features if baseline else ())
        names = baseline.feature_names if baseline else None
        features = features_from_json(raw["features"].tolist(), names)
        rows = pd.concat([raw.drop(columns="features"), features], axis=1)
        if blocked.empty:
            return rows
        blocked = blocked[list(rows.columns)]
        if rows.empty:
            merged = blocked
        else:
            rows["timestamp"] = pd.to_datetime(rows["timestamp"])
            merged = pd.concat([rows, blocked], ignore_index=True).sort_values("timestamp", kind="stable")
        merged = merged.reset_index(drop=True)
        return merged if limit is None else merged.head(limit)

    def block_log(
        self,
        conn: Connection,
        model_id: int,
        start: datetime | None = None,
        end: datetime | None = None,
        features: Sequence[FeatureSpec] = (),
        label_times: bool = False,
        known: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """The model's block rows in [start, end) with their effective labels (the delayed one when it arrived).

        Columns: timestamp, request_id, model_version, prediction, score, label, latency_ms,
        probabilities (with ``label_times`` also received_at and arrived_at), then the features.
        """
        rows = log_blocks.block_rows(conn, model_id, start, end, features)
        return self.with_delayed_labels(conn, model_id, rows, features, label_times, known)

    def with_delayed_labels(
        self,
        conn: Connection,
        model_id: int,
        rows: pd.DataFrame,
        features: Sequence[FeatureSpec] = (),
        label_times: bool = False,
        known: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Block rows (as log_blocks reads them) with the delayed label in place of the inline one where it arrived.

        ``known``: the model's delayed labels already read (:meth:`all_delayed_labels`), else they are looked up.
        """
        ordered = [*log_blocks.LOG_COLUMNS, *(f.name for f in features)]
        rows = rows[ordered].copy()
        if label_times:
            rows["received_at"] = pd.Series(pd.NaT, index=rows.index, dtype="datetime64[us]")
            rows["arrived_at"] = pd.Series(pd.NaT, index=rows.index, dtype="datetime64[us]")
        if rows.empty or (known is None and not self._has_labels(conn, model_id)):
            return rows
        if known is None:
            known = _by_request_id(self.delayed_labels(conn, model_id, rows["request_id"].dropna().tolist()))
        if known.empty:
            return rows
        at = known.index.get_indexer(rows["request_id"])
        matched = at >= 0
        if not matched.any():
            return rows
        label = rows["label"].to_numpy(dtype=object, copy=True)
        label[matched] = known["label"].to_numpy(dtype=object)[at[matched]]
        rows["label"] = label
        if label_times:
            for column in ("received_at", "arrived_at"):
                times = rows[column].to_numpy(dtype="datetime64[us]", copy=True)
                times[matched] = known[column].to_numpy(dtype="datetime64[us]")[at[matched]]
                rows[column] = times
        return rows

    def all_delayed_labels(self, model_id: int, conn: Connection | None = None) -> pd.DataFrame | None:
        """Every delayed label of the model, indexed by request id (None when there are too many to hold).

        Rows of ``labels`` and uploaded label blocks; ``conn`` reads inside a transaction that is storing some.
        """
        lab = t.labels.c
        with self._reading(conn) as c:
            n = c.execute(select(func.count()).where(lab.model_id == model_id)).scalar_one()
            if n + label_blocks.count_labels(c, model_id) > LABELS_HELD:
                return None
            query = select(
                lab.request_id, lab.label, stored_time(lab.received_at), stored_time(lab.arrived_at)
            ).where(lab.model_id == model_id)
            found = result_frame(c.execute(query), ["request_id", "label", "received_at", "arrived_at"])
            blocked = label_blocks.block_labels(c, model_id)
        for column in ("received_at", "arrived_at"):
            found[column] = parse_times(found[column])
        return _by_request_id(_rows_over_blocks(found, blocked))

    @staticmethod
    def _has_labels(conn: Connection, model_id: int) -> bool:
        lab = t.labels.c
        return conn.execute(
            select(lab.id).where(lab.model_id == model_id).limit(1)
        ).first() is not None or label_blocks.has_label_blocks(conn, model_id)

    def delayed_labels(
        self, conn: Connection, model_id: int, ids: Iterable[str], blocks: bool = True
    ) -> pd.DataFrame:
        """The delayed labels stored for these request ids: request_id, label, received_at, arrived_at.

        Rows of ``labels`` and, unless told not to, label blocks (which only label predictions stored before them).
        """
        lab = t.labels
        ids = list(ids)
        with _id_table(conn, ids) as given:
            query = (
                select(lab.c.request_id, lab.c.label, lab.c.received_at, lab.c.arrived_at)
                .select_from(given.join(lab, lab.c.request_id == given.c.request_id))
                .where(lab.c.model_id == model_id)
            )
            found = result_frame(conn.execute(query), ["request_id", "label", "received_at", "arrived_at"])
        if not blocks or not label_blocks.has_label_blocks(conn, model_id):
            return found
        for column in ("received_at", "arrived_at"):
            found[column] = parse_times(found[column])
        return _rows_over_blocks(found, label_blocks.block_labels(conn, model_id, ids))

    def replace_labels(
        self,
        conn: Connection,
        model: Model,
        frame: pd.DataFrame,
        ingestion_id: int | None,
        replaced: Iterable[str] | None = None,
    ) -> int:
        """Store delayed labels (``request_id``, ``label``), replacing earlier ones of the same ids; return how many were replaced.

        ``replaced``: the ids among these already labelled, when the caller looked them up (else they are).
        """
        if replaced is None:
            replaced = self.labelled_request_ids(conn, model.id, frame["request_id"].tolist())
        else:
            replaced = set(frame["request_id"].tolist()).intersection(replaced)
        if replaced:
            with _id_table(conn, replaced) as given:
                conn.execute(
                    t.labels.delete().where(
                        t.labels.c.model_id == model.id, t.labels.c.request_id.in_(select(given.c.request_id))
                    )
                )
        self.insert_labels(conn, model.id, frame, ingestion_id)
        return len(replaced)

    def insert_labels(
        self, conn: Connection, model_id: int, frame: pd.DataFrame, ingestion_id: int | None
    ) -> None:
        """Insert delayed labels (``request_id``, ``label``; optionally ``received_at``, default now, and ``arrived_at``)."""
        received = _times(frame, "received_at") if "received_at" in frame else [utcnow()] * len(frame)
        arrived = _times(frame, "arrived_at") if "arrived_at" in frame else [None] * len(frame)
        columns = {
            "model_id": [model_id] * len(frame),
            "request_id": frame["request_id"].tolist(),
            "label": frame["label"].tolist(),
            "received_at": received,
            "arrived_at": arrived,
            "ingestion_id": [ingestion_id] * len(frame),
        }
        _insert_columns(conn, t.labels, columns)

    @staticmethod
    def now() -> datetime:
        """The time the store records as now (naive UTC): when labels are received."""
        return utcnow()

    def store_label_block(
        self,
        conn: Connection,
        model_id: int,
        frame: pd.DataFrame,
        ingestion_id: int,
        targets: LabelTargets,
    ) -> int:
        """Store delayed labels of block rows as one label block (``received_at`` now unless given); return how many replaced earlier ones.

        Rows of ``labels`` for these ids (a service's, or an older version's upload) are deleted,
        so this block's label is the one that counts.
        """
        given_ids = frame["request_id"].tolist() if targets.labelled else []
        rows = targets.labelled_rows.intersection(given_ids)
        if rows:
            with _id_table(conn, rows) as given:
                conn.execute(
                    t.labels.delete().where(
                        t.labels.c.model_id == model_id, t.labels.c.request_id.in_(select(given.c.request_id))
                    )
                )
        if "received_at" not in frame:
            frame = frame.assign(received_at=pd.Timestamp(utcnow()))
        earlier = targets.labelled_blocks.intersection(given_ids)
        label_blocks.append_label_block(conn, model_id, frame, ingestion_id, len(frame) - len(earlier))
        return len(rows | earlier)

    def prediction_bounds(
        self, model_id: int, before: datetime | None = None
    ) -> tuple[datetime | None, datetime | None]:
        """The first and the last prediction timestamp of a model (the last before ``before`` when given)."""
        p = t.predictions
        last: ColumnElement[Any] = func.max(p.c.timestamp)
        if before is not None:
            last = (
                select(func.max(p.c.timestamp))
                .where(p.c.model_id == model_id, p.c.timestamp < before, plausible_time(p.c.timestamp))
                .scalar_subquery()
            )
        with self.engine.connect() as c:
            first, newest = c.execute(
                select(func.min(p.c.timestamp), last).where(
                    p.c.model_id == model_id, plausible_time(p.c.timestamp)
                )
            ).one()
            if log_blocks.block_infos(c, model_id):
                first = _earliest(first, log_blocks.first_time(c, model_id))
                newest = _latest(newest, log_blocks.last_time_before(c, model_id, before))
            outside = self._external_bounds(c, model_id, before)
        return _earliest(first, outside[0]), _latest(newest, outside[1])

    @staticmethod
    def _external_bounds(
        conn: Connection, model_id: int, before: datetime | None
    ) -> tuple[datetime | None, datetime | None]:
        """First and last time of the model's days profiled outside the database (the last before ``before``).

        Only each day's first and last time are known: a day that ``before`` cuts gives its first time.
        """
        e = t.external_days.c
        last: ColumnElement[Any] = func.max(e.last_time)
        if before is not None:
            last = (
                select(func.max(case((e.last_time < before, e.last_time), else_=e.first_time)))
                .where(e.model_id == model_id, e.first_time < before)
                .scalar_subquery()
            )
        first, newest = conn.execute(select(func.min(e.first_time), last).where(e.model_id == model_id)).one()
        return first, newest

    def committed_bounds(self, model_id: int) -> tuple[int | None, int | None]:
        """The highest prediction and label ids of a model that no running write can still fall below.

        PostgreSQL hands out ids when rows are inserted, not when they commit, so a refresh that
        read "rows past the highest id seen" would miss a transaction that committed later with
        lower ids. Every write transaction holds a shared advisory lock; this takes it exclusively
        for a moment, when no write is running, and reads the highest ids: every row at or below
        them is committed (or rolled back), and every later row gets a higher id. A refresh reads
        up to these bounds. SQLite runs one writer at a time, in id order: no bound (None, None).
        """
        if self.dialect != "postgresql":
            return None, None
        p, lab = t.predictions, t.labels
        with self.engine.begin() as conn:
            conn.execute(select(func.pg_advisory_xact_lock(WRITE_LOCK_KEY)))
            rows = conn.execute(select(func.max(p.c.id)).where(p.c.model_id == model_id)).scalar_one()
            labels = conn.execute(select(func.max(lab.c.id)).where(lab.c.model_id == model_id)).scalar_one()
        return int(rows or 0), int(labels or 0)

    def refresh_statistics(self, *tables: str) -> None:
        """After a bulk write, refresh PostgreSQL's planner statistics of these tables (SQLite: nothing to do).

        Right after a million labels arrive, autovacuum has not yet analyzed them; planned on the
        old statistics, the refresh's join of labels and predictions ran for over 17 minutes.
        ANALYZE samples a bounded number of rows, so it takes well under a second whatever the size.
        """
        if self.dialect != "postgresql":
            return
        quote = self.engine.dialect.identifier_preparer.quote
        with self.engine.begin() as conn:
            for name in tables:
                conn.execute(sql_text(f"ANALYZE {quote(t.metadata.tables[name].name)}"))

    @contextmanager
    def refreshing(self, model_id: int) -> Iterator[None]:
        """Run one refresh of the model at a time: across processes on PostgreSQL, across threads on SQLite.

        Two refreshes of a model at once (two page views, a service and a page) would both
        recompute the same days and collide on the stored windows, or merge the same new rows
        into a day another has just recomputed with them.
        """
        if self.dialect != "postgresql":
            key = (self.engine.url.render_as_string(hide_password=False), model_id)
            with _LOCAL_REFRESHES.setdefault(key, threading.Lock()):
                yield
            return
        try:
            with self.engine.connect() as conn:
                conn.execute(select(func.pg_advisory_lock(REFRESH_LOCK_KEY, model_id)))
                conn.commit()  # the lock is the session's: it outlives the transaction
                try:
                    yield
                finally:
                    conn.execute(select(func.pg_advisory_unlock(REFRESH_LOCK_KEY, model_id)))
                    conn.commit()
        except SQLAlchemyError as exc:
            raise StoreError(f"{one_line(exc)}.") from exc

    def count_implausible(self, model_id: int) -> int:
        """Predictions of a model whose time is outside the plausible range (left out of every analysis)."""
        p = t.predictions
        query = select(func.count()).where(p.c.model_id == model_id, ~plausible_time(p.c.timestamp))
        with self.engine.connect() as c:
            return int(c.execute(query).scalar_one())

    def model_stats(self, labels: bool = True) -> list[ModelStats]:
        """Volume, time range, label coverage and baseline size of every model (one query each).

        Counting the labelled predictions joins every prediction to its delayed label: most of
        the cost (0.2 s on the demo's 235k rows). ``labels=False`` skips it (``n_labelled`` is
        None) and reads the rest from the (model, time) index alone.
        """
        p, b = t.predictions, t.baselines
        labelled = func.count(effective_label()) if labels else null()
        log_query = (
            select(
                p.c.model_id, func.count(p.c.id), labelled, func.min(p.c.timestamp), func.max(p.c.timestamp)
            )
            .select_from(LABELLED_LOG if labels else p)
            .where(plausible_time(p.c.timestamp))
            .group_by(p.c.model_id)
        )
        base_query = select(b.c.model_id, b.c.n_rows).where(b.c.active.is_(True))
        with self.engine.connect() as c:
            logs = {r[0]: r[1:] for r in c.execute(log_query)}
            base = {r[0]: r[1] for r in c.execute(base_query)}
            blocks = log_blocks.block_totals(c)
            delayed = self._delayed_on_blocks(c, set(blocks)) if labels else {}
            e = t.external_days.c
            outside = {
                r[0]: r[1:]
                for r in c.execute(
                    select(
                        e.model_id,
                        func.sum(e.n_rows),
                        func.sum(e.n_labelled),
                        func.min(e.first_time),
                        func.max(e.last_time),
                    ).group_by(e.model_id)
                )
            }
        stats = []
        for model in self.list_models():
            n, n_lab, first, last = logs.get(model.id, (0, 0, None, None))
            more = blocks.get(model.id)
            if more is not None:
                n, first, last = n + more.n_rows, _earliest(first, more.first), _latest(last, more.last)
                if labels:
                    n_lab = min(n, (n_lab or 0) + more.n_labelled + delayed.get(model.id, 0))
            if model.id in outside:  # days profiled outside the database (its log has no rows here)
                n_out, lab_out, first_out, last_out = outside[model.id]
                n, first, last = n + int(n_out), _earliest(first, first_out), _latest(last, last_out)
                n_lab = (n_lab or 0) + int(lab_out) if labels else n_lab
            counted = int(n_lab or 0) if labels else None
            stats.append(ModelStats(model, int(n), counted, first, last, int(base.get(model.id, 0))))
        return stats

    @staticmethod
    def _delayed_on_blocks(conn: Connection, model_ids: set[int]) -> dict[int, int]:
        """Delayed labels that match no row of the predictions table, per model: labels of block rows.

        A block row with both an inline and a delayed label counts twice here (label coverage is
        capped at the rows); a label a service stored for an id no prediction has would count too.
        """
        if not model_ids:
            return {}
        p, lab = t.predictions, t.labels
        query = (
            select(lab.c.model_id, func.count())
            .select_from(
                lab.outerjoin(p, (p.c.model_id == lab.c.model_id) & (p.c.request_id == lab.c.request_id))
            )
            .where(p.c.id.is_(None), lab.c.model_id.in_(sorted(model_ids)))
            .group_by(lab.c.model_id)
        )
        counts = Counter({int(m): int(n) for m, n in conn.execute(query)})
        counts.update(label_blocks.new_per_model(conn, model_ids))
        return dict(counts)

    def data_version(self, model: Model) -> DataVersion:
        """The model's :class:`DataVersion`, read in one statement of index seeks."""
        with self.engine.connect() as c:
            row = c.execute(_DATA_VERSION, {"model_id": model.id}).one()
        return DataVersion(row[0], *(int(v) for v in row[1:]))

    # -- ingestion bookkeeping, criteria, audit -----------------------------------------

    def find_ingestion(self, model_id: int, kind: str, content_hash: str) -> Any | None:
        """An earlier ingestion of the same bytes for the same model and kind, if any."""
        query = select(t.ingestions).where(
            t.ingestions.c.model_id == model_id,
            t.ingestions.c.kind == kind,
            t.ingestions.c.content_hash == content_hash,
        )
        with self.engine.connect() as c:
            return c.execute(query).first()

    def record_ingestion(
        self,
        conn: Connection,
        model_id: int,
        kind: str,
        filename: str,
        content_hash: str,
        n_rows: int,
        actor: str,
    ) -> int:
        """Remember an ingested file so the same bytes are not stored twice."""
        result = conn.execute(
            t.ingestions.insert().values(
                model_id=model_id,
                kind=kind,
                filename=_fit(filename, t.ingestions.c.filename),
                content_hash=content_hash,
                n_rows=n_rows,
                actor=_fit(actor, t.ingestions.c.actor),
                created_at=utcnow(),
            )
        )
        return _inserted_id(result)

    def count_ingestion(self, conn: Connection, ingestion_id: int, n_rows: int) -> None:
        """Record how many rows an ingestion stored, once a file read block by block is done."""
        conn.execute(update(t.ingestions).where(t.ingestions.c.id == ingestion_id).values(n_rows=n_rows))

    def audit(self, conn: Connection, action: str, model_id: int | None, actor: str, detail: dict) -> None:
        """Append one entry to the audit trail, inside the caller's transaction."""
        conn.execute(
            t.audit_log.insert().values(
                at=utcnow(),
                actor=_fit(actor, t.audit_log.c.actor),
                action=action,
                model_id=model_id,
                detail=detail,
            )
        )

    def audit_entries(self, model: Model | None = None, limit: int = 200) -> pd.DataFrame:
        """The newest audit entries (at, actor, action, model_id, detail), optionally for one model."""
        a = t.audit_log
        query = (
            select(a.c.at, a.c.actor, a.c.action, a.c.model_id, a.c.detail)
            .order_by(a.c.id.desc())
            .limit(limit)
        )
        if model is not None:
            query = query.where(a.c.model_id == model.id)
        with self.engine.connect() as c:
            return result_frame(c.execute(query), ["at", "actor", "action", "model_id", "detail"])

    def count_predictions(self, model_id: int | None = None) -> int:
        """Stored predictions, a row each or in uploaded blocks, optionally of one model."""
        b = t.prediction_blocks
        query = select(func.coalesce(func.sum(b.c.n_rows), 0))
        if model_id is not None:
            query = query.where(b.c.model_id == model_id)
        with self.engine.connect() as c:
            in_blocks = int(c.execute(query).scalar_one())
        return self.count_rows("predictions", model_id) + in_blocks

    def count_rows(self, table: str, model_id: int | None = None) -> int:
        """Row count of one store table, optionally for one model (for tests and summaries)."""
        tbl = t.metadata.tables[table]
        query = select(func.count()).select_from(tbl)
        if model_id is not None:
            query = query.where(tbl.c.model_id == model_id)
        with self.engine.connect() as c:
            return int(c.execute(query).scalar_one())

    @contextmanager
    def _reading(self, conn: Connection | None) -> Iterator[Connection]:
        """The caller's connection, else a new one to read with."""
        if conn is not None:
            yield conn
        else:
            with self.engine.connect() as c:
                yield c

    @contextmanager
    def _conn(self, conn: Connection | None) -> Iterator[Connection]:
        if conn is not None:
            yield conn
        else:
            with self.engine.begin() as c:
                yield c


def _length(column: ColumnElement[Any]) -> int:
    """The declared length of a ``String(n)`` column."""
    kind = column.type
    if not isinstance(kind, String) or kind.length is None:
        raise TypeError(f"Column {column} is not a String column with a length.")
    return kind.length


def _by_request_id(labels: pd.DataFrame) -> pd.DataFrame:
    """Delayed labels indexed by request id, times as naive datetimes."""
    frame = labels.set_index("request_id")
    for column in ("received_at", "arrived_at"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    return frame


def _rows_over_blocks(rows: pd.DataFrame, blocked: pd.DataFrame) -> pd.DataFrame:
    """Delayed labels from rows of ``labels`` and from label blocks, one per id: a row's where both have one."""
    if blocked.empty:
        return rows
    if rows.empty:
        return blocked
    both = pd.concat([blocked, rows], ignore_index=True)
    return both.drop_duplicates("request_id", keep="last").reset_index(drop=True)


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def _inserted_id(result: CursorResult[Any]) -> int:
    """The primary key of the row a single-row INSERT just added."""
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("The INSERT returned no primary key.")
    return int(key[0])


def _fit(text: str, column: ColumnElement[Any]) -> str:
    """Keep the end of a long file name or actor so it fits its column (PostgreSQL enforces it)."""
    limit = _length(column)
    return text if not text or len(text) <= limit else "..." + text[-(limit - 3) :]


def _reserved_columns(frame: pd.DataFrame, columns: Sequence[str]) -> dict[str, list[Any]]:
    """The reserved columns as lists of plain Python values (NaN/NaT as None; absent columns all None)."""
    present = [c for c in columns if c in frame.columns]
    values = dict(zip(present, python_columns(frame[present]), strict=True))
    if "timestamp" in values:
        values["timestamp"] = [
            None if ts is None else ts.to_pydatetime().replace(tzinfo=None) for ts in values["timestamp"]
        ]
    missing = [None] * len(frame)
    return {column: values.get(column, missing) for column in columns}


def _add_new_columns(engine: Engine) -> None:
    """Add the nullable columns the schema gained since a database was created (e.g. ``labels.arrived_at``)."""
    existing = inspect(engine)
    quote = engine.dialect.identifier_preparer.quote
    for table in t.metadata.sorted_tables:
        present = {column["name"] for column in existing.get_columns(table.name)}
        for column in table.columns:
            if column.name in present or not column.nullable:
                continue
            kind = column.type.compile(dialect=engine.dialect)
            with engine.begin() as conn:  # names come from our own schema, quoted as the dialect does
                conn.execute(
                    sql_text(f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(column.name)} {kind}")
                )


def _times(frame: pd.DataFrame, column: str) -> list[datetime | None]:
    """A time column as naive datetimes, None where missing."""
    return frame[column].to_numpy(dtype="datetime64[us]").tolist()


# Request ids looked up in bulk: filled, joined against, emptied (per connection, never committed with rows).
_GIVEN_IDS = Table(
    "readiness_given_ids",
    MetaData(),
    Column("request_id", String, primary_key=True),
    prefixes=["TEMPORARY"],
)


@contextmanager
def _id_table(conn: Connection, ids: Iterable[str]) -> Iterator[Table]:
    """A temporary table holding these ids (each once) for as long as the block runs."""
    _GIVEN_IDS.create(conn, checkfirst=True)
    conn.execute(_GIVEN_IDS.delete())
    _insert_columns(conn, _GIVEN_IDS, {"request_id": list(dict.fromkeys(ids))})
    try:
        yield _GIVEN_IDS
    finally:
        conn.execute(_GIVEN_IDS.delete())


def _insert_columns(conn: Connection, table: Any, columns: dict[str, list[Any]]) -> None:
    """Insert rows given column by column (lists of one length), in chunks; on SQLite through the driver's executemany."""
    keys = list(columns)
    n = len(columns[keys[0]]) if keys else 0
    if not n:
        return
    if conn.dialect.name == "sqlite" and not _python_defaults_missing(table, keys):
        _sqlite_insert_many(conn, table, columns, n)
        return
    for start in range(0, n, INSERT_CHUNK_ROWS):
        part = [columns[key][start : start + INSERT_CHUNK_ROWS] for key in keys]
        conn.execute(table.insert(), [dict(zip(keys, row, strict=True)) for row in zip(*part, strict=True)])


def _python_defaults_missing(table: Any, keys: Sequence[str]) -> bool:
    """Whether a column the rows leave out has a default SQLAlchemy fills in (the driver would not)."""
    return any(c.name not in keys and c.default is not None for c in table.columns)


def _sqlite_insert_many(conn: Connection, table: Any, columns: dict[str, list[Any]], n: int) -> None:
    """The same INSERT as SQLAlchemy's, values converted by the same column types, run by sqlite3's executemany.

    SQLAlchemy builds and processes parameters row by row: most of an insert's time on SQLite.
    """
    keys = list(columns)
    quote = conn.dialect.identifier_preparer.quote
    processors = [table.c[key].type.dialect_impl(conn.dialect).bind_processor(conn.dialect) for key in keys]
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(key) for key in keys)}) "
        f"VALUES ({', '.join('?' for _ in keys)})"
    )
    for start in range(0, n, INSERT_CHUNK_ROWS):
        part = [columns[key][start : start + INSERT_CHUNK_ROWS] for key in keys]
        for i, process in enumerate(processors):
            if process is not None:
                part[i] = _processed(process, part[i])
        conn.exec_driver_sql(sql, list(zip(*part, strict=True)))


def _processed(process: Any, values: list[Any]) -> list[Any]:
    """Each value through the column type's processor, once per distinct value (a label file's one upload time)."""
    done: dict[Any, Any] = {}
    try:
        return [done[v] if v in done else done.setdefault(v, process(v)) for v in values]
    except TypeError:  # a value that cannot be a key
        return [process(v) for v in values]
