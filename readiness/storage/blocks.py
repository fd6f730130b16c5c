"""Rows kept as compressed columnar blocks (Parquet bytes in a SQL table) instead of a SQL row each.

A block holds a frame's reserved columns under their own names and each feature under
``f:<name>`` (numeric features as float64, categorical ones as text), so a feature may be
called anything, even ``score``. Stored this way a 100,000-row baseline takes a few MB
instead of a JSON text per row, and is written and read back in a fraction of the time.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd

from readiness.core.records import FeatureSpec

BLOCK_ROWS = 100_000  # rows per block: what one read decodes at most
FEATURE_PREFIX = "f:"
TEXT_COLUMNS = ("prediction", "label", "probabilities")
NUMBER_COLUMNS = ("score",)


def encode_block(frame: pd.DataFrame, features: Sequence[FeatureSpec]) -> bytes:
    """A frame's reserved columns and features as Parquet bytes (zstd).

    >>> from readiness.core.records import FeatureSpec
    >>> frame = pd.DataFrame({"amount": [1.5, None], "prediction": ["1", "0"]})
    >>> decode_block(encode_block(frame, [FeatureSpec("amount", "numeric")]), [FeatureSpec("amount", "numeric")])["amount"].tolist()
    [1.5, nan]
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays, names = [], []
    for spec in features:
        values = frame[spec.name]
        arrays.append(_numbers(values) if spec.kind == "numeric" else _texts(values))
        names.append(FEATURE_PREFIX + spec.name)
    for column in TEXT_COLUMNS:
        if column in frame:
            arrays.append(_texts(frame[column]))
            names.append(column)
    for column in NUMBER_COLUMNS:
        if column in frame:
            arrays.append(_numbers(frame[column]))
            names.append(column)
    sink = io.BytesIO()
    pq.write_table(pa.table(arrays, names=names), sink, compression="zstd")
    return sink.getvalue()


def decode_block(data: bytes, features: Sequence[FeatureSpec], reserved: Sequence[str] = ()) -> pd.DataFrame:
    """The features (typed as their kinds, as Arrow's JSON reader types them), then the reserved columns asked for.

    Reserved columns the block does not hold come back all missing.
    """
    import pyarrow.parquet as pq

    source = pq.ParquetFile(io.BytesIO(data))
    wanted = [FEATURE_PREFIX + f.name for f in features] + list(reserved)
    present = set(source.schema_arrow.names)
    table = source.read(columns=[name for name in wanted if name in present])
    columns: dict[str, object] = {}
    for spec in features:
        name = FEATURE_PREFIX + spec.name
        if name in present:
            columns[spec.name] = _column(table.column(name), spec.kind == "numeric")
        else:
            columns[spec.name] = _absent(source.metadata.num_rows, spec.kind == "numeric")
    for column in reserved:
        numeric = column in NUMBER_COLUMNS
        if column in present:
            columns[column] = _column(table.column(column), numeric)
        else:
            columns[column] = _absent(source.metadata.num_rows, numeric)
    return pd.DataFrame(columns, index=pd.RangeIndex(source.metadata.num_rows))


def _absent(n: int, numeric: bool) -> np.ndarray:
    """A feature the block does not hold: all missing."""
    return np.full(n, np.nan) if numeric else np.full(n, None, dtype=object)


def _column(values: object, numeric: bool) -> np.ndarray:
    array = values.to_numpy(zero_copy_only=False)  # type: ignore[attr-defined]
    return array.astype(np.float64) if numeric else array.astype(object)


def _numbers(values: pd.Series) -> object:
    import pyarrow as pa

    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return pa.array(numbers, type=pa.float64(), from_pandas=True)  # NaN stored as null


def _texts(values: pd.Series) -> object:
    import pyarrow as pa

    missing = values.isna().to_numpy()
    texts = [
        None if gone else (v if type(v) is str else str(v))
        for v, gone in zip(values.tolist(), missing, strict=True)
    ]
    return pa.array(texts, type=pa.string())


def blocks_of(frame: pd.DataFrame, rows: int = BLOCK_ROWS) -> list[pd.DataFrame]:
    """A frame cut into consecutive parts of at most ``rows`` rows (one part for an empty frame).

    >>> [len(part) for part in blocks_of(pd.DataFrame({"a": range(5)}), rows=2)]
    [2, 2, 1]
    """
    if len(frame) <= rows:
        return [frame]
    return [frame.iloc[start : start + rows] for start in range(0, len(frame), rows)]
