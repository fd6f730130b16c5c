"""The records every layer passes around: a model, its baseline and its features.

Plain frozen dataclasses with no database behind them; the storage layer builds them from
rows, the analyses take them as arguments (a model is resolved once, then passed down).
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from readiness.core.lazy import lazy_module
from readiness.errors import ModelConfigError

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

TASKS = ("binary", "multiclass", "regression")
FEATURE_KINDS = ("numeric", "categorical")
MODEL_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
# Lengths the log contract promises (the storage schema's columns hold exactly these).
MAX_REQUEST_ID = 200
MAX_MODEL_VERSION = 100
MAX_OWNER = 200
MAX_POSITIVE_CLASS = 200


def utcnow() -> datetime:
    """Return the current time as naive UTC, the store's timestamp convention."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Model:
    """A model registered in the store."""

    id: int
    name: str
    task: str
    positive_class: str | None
    owner: str
    description: str
    created_at: datetime


@dataclass(frozen=True)
class FeatureSpec:
    """One baseline feature and whether it is numeric or categorical."""

    name: str
    kind: str  # "numeric" | "categorical"


@dataclass(frozen=True)
class Baseline:
    """The reference data a model's live logs are compared with."""

    id: int
    model_id: int
    name: str
    n_rows: int
    features: tuple[FeatureSpec, ...]
    classes: tuple[str, ...]
    created_at: datetime
    period_start: datetime | None = None  # the development period, when the file had timestamps
    period_end: datetime | None = None

    @property
    def period(self) -> str:
        """The development period in words ("" when the baseline had no timestamps).

        >>> Baseline(1, 1, "b.csv", 9, (), (), datetime(2026, 1, 1), datetime(2018, 1, 1), datetime(2018, 12, 31, 23)).period
        '1 Jan 2018 to 31 Dec 2018'
        """
        if self.period_start is None or self.period_end is None:
            return ""
        first, last = self.period_start, self.period_end
        return f"{first.day} {first:%b %Y} to {last.day} {last:%b %Y}"

    def described(self) -> str:
        """The baseline in a phrase: its rows and, when known, its development period.

        >>> Baseline(1, 1, "b.csv", 3000, (), (), datetime(2026, 1, 1)).described()
        'the baseline (3,000 rows)'
        """
        period = f", development period {self.period}" if self.period else ""
        return f"the baseline ({self.n_rows:,} rows{period})"

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Names of the baseline features, in file order."""
        return tuple(f.name for f in self.features)

    def kind_of(self, name: str) -> str:
        """Return "numeric" or "categorical" for a baseline feature."""
        return next(f.kind for f in self.features if f.name == name)


@dataclass(frozen=True)
class ModelStats:
    """Volume, time range and label coverage of one model's prediction log (``n_labelled`` None: not counted)."""

    model: Model
    n_predictions: int
    n_labelled: int | None
    first_timestamp: datetime | None
    last_timestamp: datetime | None
    baseline_rows: int

    @property
    def label_coverage(self) -> float | None:
        """Share of predictions that have a label (inline or delayed); None without predictions or not counted."""
        if self.n_labelled is None or not self.n_predictions:
            return None
        return self.n_labelled / self.n_predictions


def validate_model_name(name: str) -> str:
    """Return a model name if it is usable in URLs and the CLI, else raise ModelConfigError.

    >>> validate_model_name("fraud-v2")
    'fraud-v2'
    """
    if not MODEL_NAME_PATTERN.fullmatch(name or ""):  # match() lets "$" accept a trailing newline
        raise ModelConfigError(
            f"Model name {name!r} is not allowed: use 1-100 letters, digits, '-', '_' or '.', "
            "starting with a letter or digit (for example 'fraud-v2')."
        )
    return name


def features_to_json(frame: pd.DataFrame) -> list[str]:
    """Serialize each row of a feature frame as a JSON object; missing values become null.

    The text is exactly ``json.dumps`` of each row's dict. Float, integer and text columns (what
    uploads give) are encoded a column at a time, then each row is filled into one template.

    >>> features_to_json(pd.DataFrame({"amount": [1.5, None]}))
    ['{"amount": 1.5}', '{"amount": null}']
    """
    if frame.shape[1] == 0:
        return ["{}"] * len(frame)
    columns = [_json_texts(frame.iloc[:, i]) for i in range(frame.shape[1])]
    if any(texts is None for texts in columns):
        return _rows_to_json(frame)
    template = (
        "{" + ", ".join(json.dumps(str(name)).replace("%", "%%") + ": %s" for name in frame.columns) + "}"
    )
    return [template % row for row in zip(*columns, strict=True)]


def _json_texts(column: pd.Series) -> list[str] | None:
    """Each value of a float, integer or all-text (object or string dtype) column as JSON text (None: another kind, encode by row)."""
    if column.dtype == np.float64:
        values = column.to_numpy()
        missing = np.isnan(values)
        if np.isinf(values).any():
            return None  # refused below, as json.dumps refuses it
        texts = list(map(float.__repr__, values.tolist()))
        for i in np.flatnonzero(missing):
            texts[i] = "null"
        return texts
    if column.dtype == np.int64:
        return list(map(int.__repr__, column.tolist()))
    text = column.dtype == object or isinstance(column.dtype, pd.StringDtype)  # pandas 3 reads text as "str"
    if not text:
        return None
    missing = column.isna().to_numpy()
    distinct = pd.unique(column[~missing])
    if not all(type(value) is str for value in distinct):
        return None
    encoded = {value: json.dumps(value) for value in distinct}
    texts = [encoded.get(value, "null") for value in column.tolist()]
    for i in np.flatnonzero(missing):
        texts[i] = "null"
    return texts


def _rows_to_json(frame: pd.DataFrame) -> list[str]:
    """``json.dumps`` of each row's dict of plain Python values, missing as null; infinities refused."""
    names = [str(name) for name in frame.columns]
    dumps = json.JSONEncoder(allow_nan=False).encode
    return [
        dumps(dict(zip(names, values, strict=True))) for values in zip(*python_columns(frame), strict=True)
    ]


def python_columns(frame: pd.DataFrame) -> list[list[Any]]:
    """Each column's values as plain Python objects (int, float, str, bool, Timestamp), missing ones as None.

    What ``to_dict("records")`` gives per cell, column by column: about four times faster.
    """
    objects = frame.astype(object).where(frame.notna(), None)
    return [objects.iloc[:, i].tolist() for i in range(objects.shape[1])]


def features_from_json(
    texts: Sequence[str], columns: Sequence[str] | None = None, kinds: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Parse JSON feature objects back into a frame, one column per feature.

    With ``kinds`` (feature name to "numeric" or "categorical") the objects are parsed by
    Arrow's JSON reader into those types at once, about four times faster; any object it
    cannot type that way (a number where text was expected, text where a number was, a
    non-standard NaN) sends the whole lot through ``json.loads``, which reads anything.

    >>> features_from_json(['{"a": 1, "c": "x"}', ""], kinds={"a": "numeric", "c": "categorical"}).to_dict("list")
    {'a': [1.0, nan], 'c': ['x', nan]}
    """
    if kinds:
        typed = _typed_from_json(texts, kinds)
        if typed is not None:
            return typed if columns is None else typed.reindex(columns=list(columns))
    frame = pd.DataFrame.from_records([json.loads(text) if text else {} for text in texts])
    if columns is not None:
        frame = frame.reindex(columns=list(columns))
    return frame


def _typed_from_json(texts: Sequence[str], kinds: Mapping[str, str]) -> pd.DataFrame | None:
    """Arrow's parse of one JSON object per text into float64 and text columns, or None when it cannot."""
    import pyarrow as pa
    import pyarrow.json as pa_json

    if not texts:
        return None
    lines = [text or "{}" for text in texts]
    joined = "\n".join(lines)  # searched once in C, not text by text
    if joined.count("\n") != len(lines) - 1 or "\r" in joined:
        return None  # one object per line, or the rows would not line up
    schema = pa.schema(
        [(name, pa.float64() if kind == "numeric" else pa.string()) for name, kind in kinds.items()]
    )
    options = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    try:
        table = pa_json.read_json(io.BytesIO(joined.encode()), parse_options=options)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if table.num_rows != len(lines):
        return None
    return pd.DataFrame(
        {
            name: table.column(name)
            .to_numpy(zero_copy_only=False)
            .astype(np.float64 if kind == "numeric" else object)
            for name, kind in kinds.items()
        }
    )


def canonical_class(value: object) -> str | None:
    """Class labels as text, so 1, 1.0 and "1" are the same class; None for missing.

    >>> canonical_class(1.0), canonical_class(" yes "), canonical_class(float("nan"))
    ('1', 'yes', None)
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    text = str(value).strip()
    if text == "":
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    if math.isfinite(number) and number.is_integer() and text.lstrip("+-").replace(".", "", 1).isdigit():
        return str(int(number))
    return text
