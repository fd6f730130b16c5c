"""Check a frame of strings against the log contract and turn it into the canonical frame.

Canonical columns: the features (float64 for numeric, strings for categorical), then the
reserved ``timestamp`` (UTC), ``prediction`` and ``label`` (class text, or number text for
regression), ``score``, ``request_id``, ``model_version``, ``latency_ms``.
Every error names the column, the first bad line of the file and the fix.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from readiness.config import TimestampRange
from readiness.core.lazy import lazy_module
from readiness.core.mapping import ColumnMapping
from readiness.core.records import MAX_MODEL_VERSION, MAX_REQUEST_ID, Baseline, FeatureSpec, canonical_class
from readiness.errors import DataValidationError, ModelConfigError, SchemaMismatchError

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

DEFAULT_RANGE = TimestampRange()  # 1990-01-01 to 24 hours ahead (ingestion reads the settings)
NUMERIC_SHARE = 0.9  # a column with at least this share of numbers is numeric with bad values
FIRST_LINE = 2  # data row 0 is line 2 of the file (line 1 is the header)


@dataclass(frozen=True)
class ValidFrame:
    """A validated, canonical frame and what was learned from it."""

    frame: pd.DataFrame
    features: tuple[FeatureSpec, ...]
    classes: tuple[str, ...]


def _line(values: pd.Series, mask: pd.Series) -> tuple[int, object]:
    """File line and value of the first row where mask is true."""
    position = int(np.flatnonzero(mask.to_numpy())[0])
    return _first_row(values) + position + FIRST_LINE, values.iloc[position]


def _first_row(values: pd.Series) -> int:
    """The data-row number of the first value: a block of a file read in blocks starts past 0.

    Blocks of an upload are indexed by their rows' numbers in the file (a RangeIndex from the
    first); any other index (a service's frame) counts from its first row.
    """
    index = values.index
    return int(index.start) if isinstance(index, pd.RangeIndex) and index.step == 1 else 0


def _to_number(values: pd.Series) -> pd.Series:
    """Numbers parsed from text (pandas' rules; NaN where a value is no number)."""
    if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
        fast = _floats(values)
        if fast is not None:
            return fast
        by_distinct = _numbers_of_distinct(values)
        if by_distinct is not None:
            return by_distinct
        values = values.str.strip()
    return pd.to_numeric(values, errors="coerce")


def _numbers_of_distinct(values: pd.Series) -> pd.Series | None:
    """An Arrow-backed column of few distinct texts (a category, say) parsed once per distinct text.

    None when it is not Arrow-backed or most of its texts differ (then parsing each is no dearer).
    """
    import pyarrow.compute as pc

    array = getattr(values.array, "_pa_array", None)
    if array is None:
        return None
    encoded = pc.dictionary_encode(array.combine_chunks() if hasattr(array, "combine_chunks") else array)
    distinct = encoded.dictionary
    if len(distinct) * 4 > len(values):
        return None
    numbers = _to_number(pd.Series(distinct.to_pylist(), dtype=object)).to_numpy(dtype=np.float64)
    codes = encoded.indices.fill_null(len(distinct)).to_numpy(zero_copy_only=False)
    return pd.Series(np.append(numbers, np.nan)[codes], index=values.index)


def _floats(values: pd.Series) -> pd.Series | None:
    """A text column of plain numbers converted in one step (C ``float()``), or None to parse it the slow way.

    ``float()`` also reads digits grouped with "_" ("1_000") and non-ASCII digits ("٣"), which
    pandas does not: such a column goes the slow way, so both ways agree on what is a number.
    Arrow's cast reads neither.
    """
    if isinstance(values.dtype, pd.StringDtype):
        arrow = _arrow_floats(values)
        if arrow is not None:
            return arrow
        cells = values.to_numpy(dtype=object, na_value=np.nan)
    else:
        cells = values.to_numpy(dtype=object)
    if any("_" in cell or not cell.isascii() for cell in cells if type(cell) is str):
        return None
    try:
        numbers = cells.astype(np.float64)
    except (TypeError, ValueError):
        return None
    return pd.Series(numbers, index=values.index)


def _arrow_floats(values: pd.Series) -> pd.Series | None:
    """Arrow's cast of an Arrow-backed text column to float64 (None: not Arrow-backed, or a cell it cannot read).

    Arrow reads fewer spellings than ``float()`` (no spaces, no non-ASCII digits), never more,
    and rounds alike; a column it refuses goes through ``float()``.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    array = getattr(values.array, "_pa_array", None)
    if array is None:
        return None
    try:
        numbers = pc.cast(array, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    # the array is this call's own: a Series over it, not a copy (pandas copies arrays it is given by default)
    return pd.Series(numbers.to_numpy(zero_copy_only=False), index=values.index, dtype=np.float64, copy=False)


def numeric_column(raw: pd.Series, column: str, what: str, parsed: pd.Series | None = None) -> pd.Series:
    """Parse a column as float64; raise DataValidationError on the first non-number or infinity.

    ``parsed``: the column's :func:`parsed_numbers`, when the caller has them already.
    """
    present = raw.notna()
    numbers = (parsed_numbers(raw) if parsed is None else parsed).astype("float64")
    bad = present & numbers.isna()
    if bad.any():
        line, value = _line(raw, bad)
        raise DataValidationError(
            f"{what} {column!r} must be numeric, but line {line} has {value!r} "
            f"({int(bad.sum())} non-numeric value(s) in all). Fix those values"
            + (", or mark the column categorical in the mapping." if what == "Feature" else ".")
        )
    infinite = np.isinf(numbers)
    if infinite.any():
        line, value = _line(raw, infinite)
        fix = (
            "Replace it with a probability in [0, 1]."
            if what == "Score column"
            else "Replace it with a finite number or leave the cell empty."
        )
        raise DataValidationError(
            f"{what} {column!r} has an infinite value at line {line} ({value!r}). {fix}"
        )
    return numbers


def parsed_numbers(raw: pd.Series) -> pd.Series:
    """A column's values as numbers where they read as one (NaN elsewhere), for the checks below to share.

    >>> parsed_numbers(pd.Series(["1.5", "x", None])).tolist()
    [1.5, nan, nan]
    """
    return _to_number(raw)


def looks_numeric(raw: pd.Series, parsed: pd.Series | None = None) -> bool:
    """True when at least 90% of the non-missing values parse as numbers (``parsed``: their parsed_numbers)."""
    present = raw.notna().to_numpy()
    if not present.any():
        return True
    numbers = parsed_numbers(raw) if parsed is None else parsed
    return bool(numbers[present].notna().mean() >= NUMERIC_SHARE)


def infer_features(
    frame: pd.DataFrame,
    columns: Sequence[str],
    mapping: ColumnMapping,
    parsed: Mapping[str, pd.Series] | None = None,
) -> tuple[FeatureSpec, ...]:
    """Decide numeric or categorical per feature: mapping first, else by content (``parsed``: numbers per column)."""
    specs = []
    for column in columns:
        if column in mapping.categorical:
            kind = "categorical"
        elif column in mapping.numeric:
            kind = "numeric"
        else:
            numeric = looks_numeric(frame[column], (parsed or {}).get(column))
            kind = "numeric" if numeric else "categorical"
        specs.append(FeatureSpec(column, kind))
    return tuple(specs)


def typed_features(
    frame: pd.DataFrame, features: Sequence[FeatureSpec], parsed: Mapping[str, pd.Series] | None = None
) -> pd.DataFrame:
    """The feature columns, numeric parsed to float64 and categorical as stripped strings (``parsed``: numbers per column)."""
    out = {}
    for spec in features:
        raw = frame[spec.name]
        if spec.kind == "numeric":
            out[spec.name] = numeric_column(raw, spec.name, "Feature", (parsed or {}).get(spec.name))
        else:
            out[spec.name] = categories(raw)
    return pd.DataFrame(out, index=frame.index, copy=False)  # no 2-D block copied


def categories(raw: pd.Series) -> pd.Series:
    """:func:`category` of every value (missing stays missing), once per distinct text.

    Text (every cell of an upload) goes through its distinct values; other objects (a service's
    1 and True share a hash) go value by value.

    >>> categories(pd.Series([" a", "a ", None, " "], dtype=object)).tolist()
    ['a', 'a', nan, nan]
    """
    if isinstance(raw.dtype, pd.StringDtype) and raw.dtype.storage == "pyarrow":
        return _arrow_categories(raw)
    if pd.api.types.infer_dtype(raw, skipna=True) != "string":
        return raw.map(category, na_action="ignore").astype(object)
    distinct = pd.unique(raw.dropna())
    lookup = dict(zip(distinct, map(category, distinct), strict=True))
    return raw.map(lookup, na_action="ignore").astype(object)


def _arrow_categories(raw: pd.Series) -> pd.Series:
    """:func:`category` of each distinct text of an Arrow-backed column (missing: NaN)."""
    return _map_distinct_texts(raw, category, np.nan)


def _map_distinct_texts(raw: pd.Series, convert: Callable[[str], str | None], missing: object) -> pd.Series:
    """``convert`` of each distinct text of an Arrow-backed column, spread back by its dictionary codes.

    Every row of a value shares one Python string, so a million rows of a few categories cost
    a million pointers, not a million strings. Missing cells, and texts ``convert`` makes None,
    become ``missing``.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(pa.array(raw.array))
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    texts = [convert(value) for value in encoded.dictionary.to_pylist()]
    lookup = np.array([missing if text is None else text for text in texts] + [missing], dtype=object)
    codes = encoded.indices.fill_null(len(texts)).to_numpy(zero_copy_only=False)
    return pd.Series(lookup[codes], index=raw.index, dtype=object, name=raw.name)


def category(value: object) -> str | None:
    """A categorical feature value as stripped text, kept as written ("007" stays "007").

    >>> category(" 007 "), category("München"), category("  ")
    ('007', 'München', None)
    """
    text = str(value).strip()
    return text or None


def scores(raw: pd.Series, column: str) -> pd.Series:
    """Parse scores; every one must be a finite probability in [0, 1]."""
    missing = raw.isna()
    if missing.any():
        line, _ = _line(raw, missing)
        raise DataValidationError(
            f"Score column {column!r} is empty or NaN at line {line} ({int(missing.sum())} row(s)). "
            "Every prediction needs its score; fill them in or unmap the score column."
        )
    values = numeric_column(raw, column, "Score column")
    outside = (values < 0) | (values > 1)
    if outside.any():
        line, value = _line(raw, outside)
        raise DataValidationError(
            f"Score column {column!r} has {value!r} at line {line}, outside [0, 1] "
            f"({int(outside.sum())} row(s)). Scores are probabilities of the positive class; "
            "map a probability column, not a raw margin or logit."
        )
    return values


DATE_FORMATS = {"day first": "dayfirst", "month first": "monthfirst"}
_NUMERIC_DATE = r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})\b"


def timestamps(
    raw: pd.Series,
    column: str,
    date_format: str = "",
    allowed: TimestampRange = DEFAULT_RANGE,
    now: pd.Timestamp | None = None,
    optional: bool = False,
) -> pd.Series:
    """Parse timestamps to UTC (naive ones are taken as UTC) and check they are plausible.

    Empty cells are refused, or left NaT when ``optional``.

    ISO 8601 is read as it is. Dates such as ``13/02/2026`` are read day-first or
    month-first only when the file itself proves which (a first part above 12 means day-first);
    a file where both readings are valid and differ is refused unless ``date_format`` says how
    to read it: "dayfirst", "monthfirst", or a strptime format such as ``%d/%m/%Y %H:%M``.

    >>> timestamps(pd.Series(["13/02/2026", "01/02/2026"]), "ts").dt.strftime("%d %b").tolist()
    ['13 Feb', '01 Feb']
    """
    missing = raw.isna()
    if missing.any() and not optional:
        line, _ = _line(raw, missing)
        raise DataValidationError(
            f"Timestamp column {column!r} is empty at line {line}. Every live prediction needs a time."
        )
    text = raw.astype(str).str.strip()
    if date_format in DATE_FORMATS.values():
        dayfirst = date_format == "dayfirst"
        parsed = pd.to_datetime(text, errors="coerce", utc=True, format="mixed", dayfirst=dayfirst)
        hint = f"Every time must be a date written {'day' if dayfirst else 'month'} first, or ISO 8601."
    elif date_format:
        parsed = pd.to_datetime(text, errors="coerce", utc=True, format=date_format)
        hint = f"Every time must follow the date format {date_format!r}, or choose another format."
    else:
        parsed = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
        hint = "Use ISO 8601, for example 2026-03-01T14:05:00Z."
        if (parsed.isna() & ~missing).any():
            dayfirst = _day_first(text.where(~missing), column)
            parsed = pd.to_datetime(text, errors="coerce", utc=True, format="mixed", dayfirst=dayfirst)
    bad = parsed.isna() & ~missing
    if bad.any():
        line, value = _line(raw, bad)
        raise DataValidationError(
            f"Timestamp column {column!r} has an unreadable time at line {line}: {value!r} "
            f"({int(bad.sum())} row(s)). {hint}"
        )
    _check_range(parsed, raw, column, allowed, now)
    return parsed.astype("datetime64[us, UTC]")


Example = tuple[int, str]  # a file line and the value on it


@dataclass(frozen=True)
class DateOrder:
    """What numeric dates such as 03/04/2026 say about their order: the first date of each kind.

    A file read in blocks combines its blocks' orders, so it is settled as if read whole.
    """

    day_first: Example | None = None  # first part above 12: proves day-first
    month_first: Example | None = None  # second part above 12: proves month-first
    either: Example | None = None  # reads as two different dates

    def combine(self, other: DateOrder) -> DateOrder:
        """The earliest example of each kind in both."""

        def first(a: Example | None, b: Example | None) -> Example | None:
            return b if a is None or (b is not None and b[0] < a[0]) else a

        return DateOrder(
            first(self.day_first, other.day_first),
            first(self.month_first, other.month_first),
            first(self.either, other.either),
        )


def date_order(raw: pd.Series) -> DateOrder:
    """The order evidence in a column of times as written (an empty order when every time is ISO 8601)."""
    text = raw.astype(str).str.strip().where(raw.notna())
    if _years_first(text):  # no time starts as a numeric date does (1 or 2 digits, a separator)
        return DateOrder()
    if not (pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601").isna() & raw.notna()).any():
        return DateOrder()
    parts = text.str.extract(_NUMERIC_DATE)
    found = parts[0].notna()
    first, second = parts.loc[found, 0].astype(int), parts.loc[found, 1].astype(int)
    masks = (
        (first > 12) & (second <= 12),
        (second > 12) & (first <= 12),
        (first != second) & (first <= 12) & (second <= 12),
    )  # both > 12: unreadable

    def example(mask: pd.Series) -> Example | None:
        if not mask.any():
            return None
        label = mask[mask].index[0]
        return _line_of(text, label), str(text[label])

    return DateOrder(*(example(mask) for mask in masks))


def _years_first(text: pd.Series) -> bool:
    """Whether every time (stripped; missing ones aside) starts with a four-digit year and a dash, as ISO 8601 does.

    Such a time never matches a numeric date, so it says nothing of the file's date order; told
    from its first five characters, four times faster than parsing every time of a block.
    """
    present = text.dropna()
    return bool((present.str.slice(0, 4).str.isdigit() & (present.str.slice(4, 5) == "-")).all())


def settle_day_first(order: DateOrder, column: str) -> bool:
    """Whether the file's numeric dates are day-first, as its dates prove; refuse when they cannot tell."""
    if order.day_first and order.month_first:
        (a, va), (b, vb) = order.day_first, order.month_first
        raise DataValidationError(
            f"Timestamp column {column!r} mixes day-first and month-first dates: {va!r} at line "
            f"{a} and {vb!r} at line {b}. Write every date the same way, "
            "preferably ISO 8601 (2026-02-13T14:05:00Z)."
        )
    if order.day_first or order.month_first:
        return order.day_first is not None
    if order.either:
        line, value = order.either
        raise DataValidationError(
            f"Timestamp column {column!r} has dates that read two ways: {value!r} at line {line} is "
            f"{_reading(value, True)} day-first and {_reading(value, False)} month-first, and no date in the file "
            "settles which. Choose the date format (CLI: --date-format dayfirst or monthfirst; "
            "Data page: Date format), or write ISO 8601 (2026-02-01)."
        )
    return False


def _day_first(text: pd.Series, column: str) -> bool:
    """Whether numeric dates such as 03/04/2026 are day-first, as the file proves; refuse when it cannot."""
    return settle_day_first(date_order(text), column)


def _line_of(values: pd.Series, label: object) -> int:
    return _first_row(values) + int(values.index.get_loc(label)) + FIRST_LINE


def _reading(value: str, dayfirst: bool) -> str:
    moment = pd.to_datetime(value, dayfirst=dayfirst, format="mixed")
    return f"{moment.day} {moment:%b %Y}"


def _check_range(
    parsed: pd.Series, raw: pd.Series, column: str, allowed: TimestampRange, now: pd.Timestamp | None
) -> None:
    latest = allowed.latest(now)
    for mask, what in (
        (parsed < allowed.earliest, f"before {allowed.earliest:%Y-%m-%d}"),
        (parsed > latest, f"more than {_hours(allowed.ahead)} ahead of now ({latest:%Y-%m-%d %H:%M} UTC)"),
    ):
        if mask.any():
            line, value = _line(raw, mask)
            raise DataValidationError(
                f"Timestamp column {column!r} has {value!r} at line {line}, {what} ({int(mask.sum())} row(s)). "
                "A time like this is a broken clock or a misread date format; fix those rows or the format."
            )


def _hours(delta: pd.Timedelta) -> str:
    hours = delta / pd.Timedelta(hours=1)
    return f"{hours:g} hour{'' if hours == 1 else 's'}"


def canonical_classes(values: pd.Series) -> pd.Series:
    """:func:`canonical_class` of every value (missing kept missing), worked out once per distinct text.

    Text (every cell of an upload) is mapped through its distinct values, a handful for a
    class column of millions of rows; other objects (a service's ints, floats and bools, where
    1 and True would share a hash) go value by value.

    >>> canonical_classes(pd.Series(["1", "1.0", None, " yes "], dtype=object)).tolist()
    ['1', '1', nan, 'yes']
    """
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        return _map_distinct_texts(values, canonical_class, values.dtype.na_value)
    if pd.api.types.infer_dtype(values, skipna=True) == "string":
        distinct = pd.unique(values.dropna())
        lookup = dict(zip(distinct, map(canonical_class, distinct), strict=True))
        mapped = values.map(lookup, na_action="ignore").astype(object)
        # missing as the value-by-value map gives it
        missing = values.dtype.na_value if isinstance(values.dtype, pd.StringDtype) else np.nan
        return mapped.where(mapped.notna(), missing)
    return values.map(canonical_class, na_action="ignore").astype(object)


def class_column(raw: pd.Series, column: str, task: str, known: Sequence[str] | None, role: str) -> pd.Series:
    """Canonical classes (classification) or numbers as text (regression) for prediction/label."""
    if task == "regression":
        numbers = numeric_column(raw, column, f"{role.capitalize()} column")
        return numbers.map(lambda v: repr(float(v)), na_action="ignore").astype(object)
    classes = canonical_classes(raw)
    if known is not None:
        unknown = classes.notna() & ~classes.isin(list(known))
        if unknown.any():
            line, value = _line(classes, unknown)
            raise DataValidationError(
                f"{role.capitalize()} column {column!r} has class {value!r} at line {line}, which the "
                f"{task} model does not know (known classes: {', '.join(map(repr, known))}). "
                "Check the column mapping, or upload a baseline that includes this class."
            )
    return classes


def check_classes(task: str, positive_class: str | None, classes: Sequence[str], filename: str) -> None:
    """Raise DataValidationError when the classes seen do not fit the model's task."""
    if task == "binary":
        if len(classes) > 2:
            raise DataValidationError(
                f"{filename} has {len(classes)} classes ({', '.join(map(repr, classes[:10]))}) but the model "
                "is binary. Map the right label/prediction columns, or choose the multiclass task."
            )
        if positive_class is not None and classes and positive_class not in classes:
            raise DataValidationError(
                f"The positive class {positive_class!r} does not occur in {filename}; its classes are "
                f"{', '.join(map(repr, classes))}. Set the positive class to one of them."
            )
    if task == "multiclass" and len(classes) < 2 and classes:
        raise DataValidationError(
            f"{filename} has a single class ({classes[0]!r}) for a multiclass model; "
            "a baseline needs at least two classes."
        )


def _labels_as_task(raw: pd.Series, column: str, task: str, known: Sequence[str] | None) -> pd.Series:
    if task == "regression":
        present = raw.dropna()
        if not present.empty and _to_number(present).isna().any():
            line, value = _line(raw, raw.notna() & _to_number(raw).isna())
            raise DataValidationError(
                f"Label column {column!r} has {value!r} at line {line}, but a regression model needs "
                "numeric labels. Check the column mapping or the model's task."
            )
    return class_column(raw, column, task, known, "label")


def reserved_columns(
    frame: pd.DataFrame,
    mapping: ColumnMapping,
    task: str,
    known_classes: Sequence[str] | None,
    allowed: TimestampRange = DEFAULT_RANGE,
) -> pd.DataFrame:
    """Canonical reserved columns that the mapping provides (timestamp, prediction, ...)."""
    out: dict[str, pd.Series] = {}
    col = mapping.column_for
    if timestamp := col("timestamp"):
        out["timestamp"] = timestamps(frame[timestamp], timestamp, mapping.date_format, allowed)
    if prediction := col("prediction"):
        raw = frame[prediction]
        missing = raw.isna()
        if missing.any():
            line, _ = _line(raw, missing)
            raise DataValidationError(
                f"Prediction column {prediction!r} is empty at line {line}; every row needs a prediction."
            )
        out["prediction"] = class_column(raw, prediction, task, known_classes, "prediction")
    if score := col("score"):
        out["score"] = scores(frame[score], score)
    if label := col("label"):
        out["label"] = _labels_as_task(frame[label], label, task, known_classes)
    if request_id := col("request_id"):
        out["request_id"] = request_ids(frame[request_id], request_id)
    if model_version := col("model_version"):
        versions = stripped_text(frame[model_version])
        _check_length(versions, model_version, "Model version column", MAX_MODEL_VERSION)
        out["model_version"] = versions
    if latency_ms := col("latency_ms"):
        latency = numeric_column(frame[latency_ms], latency_ms, "Latency column")
        negative = latency < 0
        if negative.any():
            line, value = _line(frame[latency_ms], negative)
            raise DataValidationError(
                f"Latency column {latency_ms!r} is negative at line {line} ({value!r}); latencies are milliseconds >= 0."
            )
        out["latency_ms"] = latency
    return pd.DataFrame(out, index=frame.index, copy=False)  # no 2-D block copied


def request_ids(raw: pd.Series, column: str) -> pd.Series:
    """Stripped request ids; duplicates within the file are an error."""
    ids = stripped_text(raw)
    if _all_distinct(ids):
        _check_length(ids, column, "Request id column", MAX_REQUEST_ID)
        return ids
    duplicated = ids.notna() & ids.duplicated(keep="first")
    if duplicated.any():
        line, value = _line(ids, duplicated)
        raise DataValidationError(
            f"Request id column {column!r} repeats {value!r} at line {line} ({int(duplicated.sum())} "
            "repeat(s)). Request ids must be unique per model; remove the duplicate rows."
        )
    _check_length(ids, column, "Request id column", MAX_REQUEST_ID)
    return ids


def _all_distinct(ids: pd.Series) -> bool:
    """Whether no id repeats, told by Arrow for text it holds (faster than pandas' duplicated()); False: look closer."""
    arrow = getattr(ids.array, "_pa_array", None)
    if arrow is None:
        return False
    import pyarrow.compute as pc

    missing = arrow.null_count
    return bool(
        len(pc.unique(arrow)) - (1 if missing else 0) == len(ids) - missing
    )  # unique() counts null once


def stripped_text(raw: pd.Series) -> pd.Series:
    """Each value as text without surrounding spaces (missing stays missing); a text column in one step.

    >>> stripped_text(pd.Series([" a ", None, 7], dtype=object)).tolist()
    ['a', nan, '7']
    """
    if isinstance(raw.dtype, pd.StringDtype):
        return raw.str.strip()
    return raw.map(lambda v: str(v).strip(), na_action="ignore")


def _check_length(values: pd.Series, column: str, what: str, limit: int) -> None:
    """Raise DataValidationError for text longer than the store's column holds."""
    lengths = (
        values.str.len() if isinstance(values.dtype, pd.StringDtype) else values.map(len, na_action="ignore")
    )
    long = lengths.fillna(0) > limit
    if long.any():
        line, value = _line(values, long)
        text = str(value)  # values are stripped strings: str() is the identity here
        raise DataValidationError(
            f"{what} {column!r} has a value of {len(text):,} characters at line {line} "
            f"({text[:40]!r}...); at most {limit} fit. Shorten those values or map another column."
        )


def validate_baseline(
    frame: pd.DataFrame,
    mapping: ColumnMapping,
    task: str,
    positive_class: str | None,
    filename: str,
) -> ValidFrame:
    """Validate a baseline file: typed features, classes that fit the task, valid scores."""
    columns = mapping.feature_columns(list(frame.columns))
    parsed = {c: parsed_numbers(frame[c]) for c in columns if c not in mapping.categorical}  # once per column
    features = infer_features(frame, columns, mapping, parsed)
    if not features:
        raise DataValidationError(
            f"{filename} has no feature columns: every column is mapped to a role or ignored. "
            "A baseline needs the model's input features."
        )
    reserved = reserved_columns(frame, mapping, task, None)
    classes: tuple[str, ...] = ()
    if task != "regression":
        seen = (
            pd.concat(
                [
                    reserved.get("prediction", pd.Series(dtype=object)),
                    reserved.get("label", pd.Series(dtype=object)),
                ]
            )
            .dropna()
            .unique()
        )
        classes = tuple(sorted(map(str, seen)))
        check_classes(task, positive_class, classes, filename)
    if "score" in reserved and task != "binary":
        raise DataValidationError(
            f"{filename} maps a score column, but scores (probability of the positive class) only apply to "
            f"binary models and this one is {task}. Unmap the score column or choose the binary task."
        )
    if mapping.class_probabilities:
        mapped = _probability_classes(mapping, task, filename)
        _require_every_class(mapped, classes, filename, "appears in the file's predictions or labels")
        classes = tuple(sorted(set(classes) | set(mapped)))  # a class the sample never predicted still counts
        reserved["probabilities"] = class_probabilities(frame, mapped)
    canonical = pd.concat([typed_features(frame, features, parsed), reserved], axis=1)
    return ValidFrame(canonical, features, classes)


def validate_live(
    frame: pd.DataFrame,
    mapping: ColumnMapping,
    task: str,
    baseline: Baseline,
    filename: str,
    allowed: TimestampRange = DEFAULT_RANGE,
) -> ValidFrame:
    """Validate a live log against the model's baseline features, classes and the contract."""
    columns = mapping.feature_columns(list(frame.columns))
    parsed = {
        f.name: parsed_numbers(frame[f.name])
        for f in baseline.features
        if f.kind == "numeric" and f.name in columns
    }
    check_schema(frame, columns, baseline, filename, parsed)
    known = baseline.classes if task != "regression" else None
    reserved = reserved_columns(frame, mapping, task, known, allowed)
    if "score" in reserved and task != "binary":
        raise DataValidationError(
            f"{filename} maps a score column, but this model is {task}; scores only apply to binary models."
        )
    if mapping.class_probabilities:
        mapped = _probability_classes(mapping, task, filename)
        _require_every_class(mapped, baseline.classes, filename, "is a class of the baseline")
        unknown = [c for c in mapped if c not in baseline.classes]
        if unknown:
            raise DataValidationError(
                f"{filename} maps a probability for class(es) {', '.join(map(repr, unknown))} "
                f"(column {mapped[unknown[0]]!r}), which the baseline does not have; its classes are "
                f"{', '.join(map(repr, baseline.classes))}. Map one column per baseline class, or upload a "
                "baseline with the new class."
            )
        reserved["probabilities"] = class_probabilities(frame, mapped)
    canonical = pd.concat([typed_features(frame, baseline.features, parsed), reserved], axis=1)
    return ValidFrame(canonical, baseline.features, baseline.classes)


def check_schema(
    frame: pd.DataFrame,
    columns: Sequence[str],
    baseline: Baseline,
    filename: str,
    parsed: Mapping[str, pd.Series] | None = None,
) -> None:
    """Raise SchemaMismatchError listing missing, extra and type-changed features (``parsed``: numbers per column)."""
    expected = baseline.feature_names
    missing = [c for c in expected if c not in columns]
    extra = [c for c in columns if c not in expected]
    changed = []
    for spec in baseline.features:
        numeric = spec.kind == "numeric"
        if (
            spec.name in columns
            and numeric
            and not looks_numeric(frame[spec.name], (parsed or {}).get(spec.name))
        ):
            changed.append(f"{spec.name!r} (numeric in the baseline, text here)")
    if missing or extra or changed:
        parts = []
        if missing:
            parts.append(f"missing: {', '.join(map(repr, missing))}")
        if extra:
            parts.append(f"extra: {', '.join(map(repr, extra))}")
        if changed:
            parts.append(f"type changed: {', '.join(changed)}")
        raise SchemaMismatchError(
            f"The features of {filename} do not match the model's baseline ({'; '.join(parts)}). "
            "Rename or add the missing columns, mark extra ones 'ignore' in the mapping, "
            "or upload a new baseline if the model's inputs really changed."
        )


def validate_labels(
    frame: pd.DataFrame,
    mapping: ColumnMapping,
    task: str,
    known: Sequence[str] | None,
    allowed: TimestampRange = DEFAULT_RANGE,
) -> pd.DataFrame:
    """Validate a delayed-labels file: unique request ids, labels that fit the task, and arrival times.

    A mapped ``label_time`` column (when each label became known) gives the ``arrived_at``
    column, naive UTC; an empty cell is an arrival not stated.
    """
    ids = request_ids(frame[mapping.roles["request_id"]], mapping.roles["request_id"])
    raw_labels = frame[mapping.roles["label"]]
    missing = raw_labels.isna() | ids.isna()
    if missing.any():
        line, _ = _line(raw_labels, missing)
        raise DataValidationError(
            f"Line {line} of the labels file has an empty request id or label; every row needs both."
        )
    labels = _labels_as_task(raw_labels, mapping.roles["label"], task, known)
    valid = pd.DataFrame({"request_id": ids, "label": labels})
    column = mapping.column_for("label_time")
    if column is not None:
        arrived = timestamps(frame[column], column, mapping.date_format, allowed, optional=True)
        valid["arrived_at"] = arrived.dt.tz_localize(None)
    return valid


def propose_task(frame: pd.DataFrame, mapping: ColumnMapping) -> tuple[str, str | None]:
    """Guess the task and positive class from the label (or prediction) values.

    Two classes -> binary (positive: 1, true, yes, or the rarer class); a few -> multiclass;
    many numbers -> regression.
    """
    column = mapping.column_for("label") or mapping.column_for("prediction")
    if column is None:
        raise ModelConfigError("Map a prediction or label column so the model's task can be told.")
    values = frame[column].dropna()
    classes = canonical_classes(values).dropna()
    counts = classes.value_counts()
    numeric = looks_numeric(values)
    if len(counts) == 2:
        for preferred in ("1", "true", "True", "yes", "Yes", "positive", "fraud"):
            if preferred in counts.index:
                return "binary", preferred
        return "binary", str(counts.idxmin())
    if numeric and (len(counts) > 20 or not (_to_number(values) % 1 == 0).all()):
        return "regression", None
    return "multiclass", None


PROBA_SUM_TOLERANCE = 0.01  # a row's class probabilities must add up to 1 within this (rounding in files)


def _probability_classes(mapping: ColumnMapping, task: str, filename: str) -> dict[str, str]:
    """Canonical class -> column of the mapped class probabilities; only a multiclass model has them."""
    columns = mapping.class_probabilities
    if task != "multiclass":
        fix = (
            "map the positive class's probability as the score instead"
            if task == "binary"
            else "a regression model has no class probabilities; unmap them"
        )
        raise DataValidationError(
            f"{filename} maps per-class probabilities ({', '.join(map(repr, columns.values()))}), but this "
            f"model is {task}: {fix}."
        )
    out: dict[str, str] = {}
    for cls, column in columns.items():
        key = canonical_class(cls) or ""
        if key in out:
            raise DataValidationError(
                f"{filename} maps both {out[key]!r} and {column!r} to the probability of class {key!r}; "
                "map one column per class."
            )
        out[key] = column
    return out


def _require_every_class(mapped: dict[str, str], classes: Sequence[str], filename: str, why: str) -> None:
    """Each known class needs its probability column: a missing one would skew every per-class figure."""
    missing = [c for c in classes if c not in mapped]
    if missing:
        raise DataValidationError(
            f"{filename} maps class probabilities for {', '.join(map(repr, mapped))} but none for "
            f"{', '.join(map(repr, missing))}, which {why}. Map one column per class, e.g. "
            f"--map <column>=proba:{missing[0]}."
        )


def class_probabilities(frame: pd.DataFrame, mapped: dict[str, str]) -> pd.Series:
    """Each row's class probabilities as JSON text ``{"class": p, ...}``, checked: numbers in [0, 1], summing to 1.

    A row's sum may miss 1 by :data:`PROBA_SUM_TOLERANCE` (files round); a missing value is an error.
    """
    values = {}
    for cls, column in mapped.items():
        raw = frame[column]
        number = numeric_column(raw, column, "Probability column")
        missing = number.isna()
        if missing.any():
            line, _ = _line(raw, missing)
            raise DataValidationError(
                f"Probability column {column!r} (class {cls!r}) is empty at line {line}; every prediction "
                "needs its probability for every class."
            )
        outside = (number < 0) | (number > 1)
        if outside.any():
            line, value = _line(raw, outside)
            raise DataValidationError(
                f"Probability column {column!r} (class {cls!r}) has {value!r} at line {line}; probabilities "
                "are numbers from 0 to 1. Map the model's probabilities, not its logits or percentages."
            )
        values[cls] = number.to_numpy(dtype=float)
    matrix = np.column_stack(list(values.values()))
    sums = matrix.sum(axis=1)
    off = np.abs(sums - 1.0) > PROBA_SUM_TOLERANCE
    if off.any():
        first = int(np.argmax(off))
        line, _ = _line(frame[next(iter(mapped.values()))], pd.Series(off, index=frame.index))
        raise DataValidationError(
            f"The class probabilities at line {line} add up to {sums[first]:.4g}, not 1 (within "
            f"{PROBA_SUM_TOLERANCE}), over {', '.join(map(repr, mapped.values()))}. Map every class's "
            "probability, and only those."
        )
    names = [json.dumps(cls) for cls in values]
    texts = [
        "{" + ", ".join(f"{n}: {v!r}" for n, v in zip(names, row, strict=True)) + "}"
        for row in matrix.tolist()
    ]
    return pd.Series(texts, index=frame.index, dtype=object)
