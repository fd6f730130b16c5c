"""Rows printed as ``pandas.DataFrame(rows).to_string(index=False)`` prints them, without importing pandas.

``python -m readiness models`` prints one table; importing pandas to print it cost about a third
of a second, more than the rest of the command once its assessments are kept. Columns of
text, integers and naive datetimes (with missing ones) are laid out here exactly as pandas
lays them out (``tests/test_cli_table.py`` compares the two); anything else is handed to pandas.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

ESCAPES = str.maketrans({"\t": "\\t", "\r": "\\r", "\n": "\\n"})  # what pandas prints for them


def text_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """The rows (dicts with the same keys, in order) as a right-aligned text table without an index."""
    names = list(rows[0]) if rows else []
    headers = _trim_front([name.translate(ESCAPES) for name in names])
    columns = [
        _column(header, [row[name] for row in rows]) for header, name in zip(headers, names, strict=True)
    ]
    laid_out = [column for column in columns if column is not None]
    if not rows or len(laid_out) < len(columns) or any(list(row) != names for row in rows):
        import pandas as pd

        return pd.DataFrame(list(rows)).to_string(index=False)
    aligned = [[text.rjust(max(map(len, column))) for text in column] for column in laid_out]
    return "\n".join(" ".join(line) for line in zip(*aligned, strict=True))


def _trim_front(headers: list[str]) -> list[str]:
    """Leading spaces taken off every header alike, while every header has one (as pandas does)."""
    while headers and all(h.startswith(" ") for h in headers):
        headers = [h[1:] for h in headers]
    return headers


def _column(name: str, values: list[Any]) -> list[str] | None:
    """The header and the values as pandas writes them, or None when pandas must write them."""
    if all(isinstance(v, str) for v in values):
        return [name, *(v.translate(ESCAPES) for v in values)]
    if all(type(v) is int for v in values):  # numbers get a space before their header, for a sign
        return [f" {name}", *(f"{v:d}" for v in values)]
    times = [v for v in values if v is not None]
    if times and all(type(v) is datetime and v.tzinfo is None for v in times):
        return [name, *_datetimes(values, times)]
    return None


def _datetimes(values: list[datetime | None], times: list[datetime]) -> list[str]:
    """Every value at the finest precision any of them needs: dates, seconds, milliseconds or microseconds."""
    if all(t.hour == t.minute == t.second == t.microsecond == 0 for t in times):
        return ["NaT" if v is None else f"{v:%Y-%m-%d}" for v in values]
    if any(t.microsecond % 1000 for t in times):
        digits = 6
    elif any(t.microsecond for t in times):
        digits = 3
    else:
        digits = 0
    return ["NaT" if v is None else _timestamp(v, digits) for v in values]


def _timestamp(value: datetime, digits: int) -> str:
    text = f"{value.year}-{value:%m-%d %H:%M:%S}"
    return f"{text}.{value.microsecond:06d}"[: len(text) + 1 + digits] if digits else text
