"""Row records as stored: feature JSON built column by column equals json.dumps of each row."""

from __future__ import annotations

import json

import pandas as pd

import readiness.core.records as records
from readiness.core.records import features_to_json


def test_text_columns_of_pandas_string_dtypes_are_encoded_column_wise_as_json_dumps_would(monkeypatch):
    """pandas 3 reads text as the "str" dtype: it takes the column-wise path, not the row-by-row fallback."""
    frame = pd.DataFrame(
        {
            "city": pd.array(["Zürich ✓", None, 'say "hi"'], dtype="str"),
            "plan": pd.array(["pro", "free", None], dtype="string"),
            "amount": [1.5, None, 3.0],
        }
    )
    expected = [
        json.dumps({"city": "Zürich ✓", "plan": "pro", "amount": 1.5}),
        json.dumps({"city": None, "plan": "free", "amount": None}),
        json.dumps({"city": 'say "hi"', "plan": None, "amount": 3.0}),
    ]

    def refused(_frame: pd.DataFrame) -> list[str]:
        raise AssertionError("encoded row by row")

    monkeypatch.setattr(records, "_rows_to_json", refused)
    assert features_to_json(frame) == expected
