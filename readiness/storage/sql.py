"""Small SQL building blocks every storage module shares: the labelled log and one upsert.

A delayed label (``labels``) overrides the label logged with the prediction; that rule is
written once here, in :data:`LABELLED_LOG` and :func:`effective_label`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Result, String, Table, and_, func, insert, type_coerce, update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from readiness.config import plausible_bounds
from readiness.core.lazy import lazy_module
from readiness.storage import schema as t

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

IN_LIST_CHUNK = 5_000  # bounded IN (...) lists, whatever the backend's parameter limit

# Predictions with their delayed labels, if any (joined on model and request id).
LABELLED_LOG = t.predictions.outerjoin(
    t.labels,
    (t.labels.c.model_id == t.predictions.c.model_id) & (t.labels.c.request_id == t.predictions.c.request_id),
)


def effective_label() -> ColumnElement[Any]:
    """The label that counts: the delayed one when it arrived, else the one logged inline."""
    return func.coalesce(t.labels.c.label, t.predictions.c.label)


class utc_day(FunctionElement[str]):  # a SQL function, named as one
    """The UTC day of a stored timestamp as ``YYYY-MM-DD`` text, so rows can be grouped by day in SQL."""

    type = String()
    name = "utc_day"
    inherit_cache = True


@compiles(utc_day, "sqlite")
def _utc_day_sqlite(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 10)"  # stored as 'YYYY-MM-DD HH:MM:SS...'


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM-DD')"


def stored_time(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """A timestamp column as the driver returns it (text on SQLite), to be read by :func:`parse_times`.

    SQLAlchemy turns SQLite's text into datetimes one value at a time: on a read of 200,000
    rows with three time columns that was most of the read.
    """
    return type_coerce(column, String).label(column.name)


def parse_times(values: pd.Series) -> pd.Series:
    """Stored times (SQLite's ISO text or the driver's datetimes) as naive UTC datetimes; missing ones NaT.

    >>> parse_times(pd.Series(["2026-01-02 03:04:05.000000", None])).tolist()
    [Timestamp('2026-01-02 03:04:05'), NaT]
    """
    return pd.to_datetime(values, format="ISO8601", utc=True).dt.tz_localize(None)


def plausible_time(column: ColumnElement[Any]) -> ColumnElement[bool]:
    """The rows whose time is plausible (READINESS_EARLIEST_TIMESTAMP to READINESS_MAX_HOURS_AHEAD past now).

    Uploads refuse other times; this keeps a broken clock's 9999-12-31, inserted with plain SQL,
    out of every analysis, so no stored value can make a model's pages fail.
    """
    earliest, latest = plausible_bounds()
    return column.between(earliest, latest)


def upsert(conn: Connection, table: Table, key: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """Update the row matching ``key`` with ``values``, or insert ``key`` and ``values`` when none does.

    Runs inside the caller's transaction; works on every SQLAlchemy backend.
    """
    condition = and_(*(table.c[name] == value for name, value in key.items()))
    if conn.execute(update(table).where(condition).values(**values)).rowcount == 0:
        conn.execute(insert(table).values(**key, **values))


def chunks(values: Iterable[Any], size: int = IN_LIST_CHUNK) -> Iterator[Sequence[Any]]:
    """Consecutive lists of at most ``size`` values (for IN lists and batched inserts).

    >>> [list(c) for c in chunks(range(5), 2)]
    [[0, 1], [2, 3], [4]]
    """
    pending = list(values)
    for start in range(0, len(pending), size):
        yield pending[start : start + size]


def result_frame(
    result: Result[Any], columns: Sequence[str], as_objects: Collection[str] = ()
) -> pd.DataFrame:
    """A query's rows as a frame with these column names (those in ``as_objects`` as Python objects, untyped).

    The rows go in column by column: pandas does not recognise SQLAlchemy's Row as a tuple, probes
    each for a dtype (an AttributeError raised and caught per row, about 2 s per 200,000 rows),
    and even from plain tuples it builds the frame row-wise (2.5 times slower than from columns,
    which it types the same way). ``as_objects`` is for text the caller parses itself (feature
    JSON): copying it into pandas' Arrow-backed strings and back to Python strings cost a refresh
    about 0.1 s per 100,000 rows.
    """
    rows = result.all()
    names = list(columns)
    if not rows or len(set(names)) != len(names):
        return pd.DataFrame([tuple(row) for row in rows], columns=names)
    data: dict[str, Any] = dict(zip(names, zip(*rows, strict=True), strict=True))
    for name in as_objects:
        if name in data:
            data[name] = pd.Series(data[name], dtype=object)
    return pd.DataFrame(data)
