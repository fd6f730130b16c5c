"""The models table is laid out without pandas, byte for byte as pandas lays it out."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from readiness.cli_table import text_table

TEXT = st.text(alphabet=st.sampled_from(list("ab Z-9:;\t\n\r()%é")), max_size=12)
TIMES = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1))
MOMENTS = st.one_of(
    TIMES,
    TIMES.map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000)),
    TIMES.map(lambda t: t.replace(microsecond=0)),
    TIMES.map(lambda t: t.replace(hour=0, minute=0, second=0, microsecond=0)),
)


@st.composite
def tables(draw) -> list[dict]:
    """Rows like the models table: text, integers, datetimes with missing ones, and sometimes odd values."""
    n = draw(st.integers(1, 5))
    columns = {
        draw(TEXT.filter(bool)): st.one_of(TEXT),
        "Predictions": st.integers(-(10**12), 10**12),
        "Last prediction": st.one_of(st.none(), MOMENTS),
        "Odd": st.one_of(st.none(), st.floats(allow_nan=True), st.booleans(), TEXT),
    }
    names = draw(st.lists(st.sampled_from(sorted(columns)), min_size=1, unique=True))
    return [{name: draw(columns[name]) for name in names} for _ in range(n)]


@given(tables())
def test_the_table_is_what_pandas_prints(rows):
    assert text_table(rows) == pd.DataFrame(rows).to_string(index=False)


def test_the_models_table_without_pandas():
    rows = [
        {
            "Model": "fraud",
            "Score": "38",
            "Predictions": 99952,
            "Last prediction": datetime(2026, 12, 2, 23, 57, 20, 446000),
        },
        {"Model": "ticket-router", "Score": "n/a", "Predictions": 0, "Last prediction": None},
    ]
    assert text_table(rows) == (
        "        Model Score  Predictions         Last prediction\n"
        "        fraud    38        99952 2026-12-02 23:57:20.446\n"
        "ticket-router   n/a            0                     NaT"
    )
