"""Class labels in canonical form: the per-distinct-value path gives what value by value gave (missing alike)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from readiness.core.validate import canonical_class, canonical_classes

CELLS = st.one_of(
    st.none(),
    st.sampled_from(["1", "0", "1.0", " yes ", "", "nan", "007", "True", "-0", "+1", "1e3", "2.5"]),
    st.text(max_size=6),
)


@pytest.mark.parametrize("dtype", [object, "string", "string[pyarrow]", "str"])
@given(cells=st.lists(CELLS, max_size=40), split=st.integers(0, 40))
def test_canonical_classes_equal_the_value_by_value_map(dtype, cells, split):
    # two pieces concatenated: an Arrow-backed column of several chunks, as a file read in blocks
    values = pd.concat([pd.Series(cells[:split], dtype=dtype), pd.Series(cells[split:], dtype=dtype)])
    fast = canonical_classes(values)
    slow = values.map(canonical_class, na_action="ignore").astype(object)
    assert fast.dtype == slow.dtype and fast.index.equals(slow.index)
    assert fast.isna().tolist() == slow.isna().tolist()  # missing in the same places (None or NaN alike)
    assert fast.dropna().tolist() == slow.dropna().tolist()


def test_objects_that_share_a_hash_keep_their_own_class():
    """1 and True hash alike; a service's objects go value by value, so True stays 'True'."""
    assert canonical_classes(pd.Series([1, True, 1.0, None], dtype=object)).tolist()[:3] == ["1", "True", "1"]


SPELLINGS = st.sampled_from(
    [
        "1",
        "-2.5",
        "1e3",
        "1_000",
        "_1",
        "1.0_0",
        " 7 ",
        "inf",
        "-inf",
        "nan",
        "x",
        "",
        "0x10",
        "1,5",
        "+3",
        ".5",
        "٣",
    ]
)


@given(
    st.lists(st.one_of(SPELLINGS, st.none()), max_size=12),
    st.sampled_from(["str", "string[pyarrow]", "object"]),
)
def test_numbers_are_read_as_pandas_reads_them_whatever_the_text_column(cells, dtype):
    """Arrow's cast, float() and pandas agree: "1_000" is no number (float() alone would read it)."""
    from readiness.core.validate import parsed_numbers

    values = pd.Series(cells, dtype=dtype)
    expected = pd.to_numeric(pd.Series(cells, dtype=object).str.strip(), errors="coerce")
    assert parsed_numbers(values).astype("float64").tolist() == pytest.approx(
        expected.astype("float64").tolist(), nan_ok=True
    )
