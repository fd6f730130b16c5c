"""text_hashes: one uint64 per text, equal for equal texts whatever container they come in."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from readiness.core.texthash import text_hashes

texts = st.lists(st.text(max_size=40), max_size=60)


@given(texts)
def test_equal_texts_hash_alike_in_any_container(values):
    from_list = text_hashes(values)
    assert from_list.dtype == np.uint64 and len(from_list) == len(values)
    np.testing.assert_array_equal(text_hashes(pd.Series(values, dtype="str")), from_list)
    np.testing.assert_array_equal(text_hashes(pa.array(values, type=pa.string())), from_list)
    if len(values) > 2:  # a slice of an Arrow array hashes as its own texts do
        np.testing.assert_array_equal(text_hashes(pa.array(values).slice(1)), from_list[1:])
    half = len(values) // 2  # a Series over several Arrow chunks (a concatenation, a CSV read in blocks)
    chunked = pd.concat([pd.Series(values[:half], dtype="str"), pd.Series(values[half:], dtype="str")])
    np.testing.assert_array_equal(text_hashes(chunked), from_list)
    np.testing.assert_array_equal(
        text_hashes(pa.chunked_array([values[:half], values[half:]], pa.string())), from_list
    )
    for text, hashed in zip(values, from_list, strict=True):
        assert text_hashes([text])[0] == hashed  # a text's hash does not depend on its neighbours


@given(st.lists(st.text(min_size=5, max_size=5), min_size=1, max_size=30))
def test_one_width_takes_the_matrix_path_and_agrees_with_the_general_one(values):
    mixed = text_hashes([*values, "a different width"])
    np.testing.assert_array_equal(text_hashes(values), mixed[:-1])


def test_distinct_ids_of_a_large_log_get_distinct_hashes():
    ids = [f"req-{i}" for i in range(200_000)] + [f"{i:x}" for i in range(200_000)]
    assert len(np.unique(text_hashes(ids))) == len(set(ids))


def test_near_texts_differ():
    a, b, c, d, e = text_hashes(["ab", "ba", "a", "a\x00", ""])
    assert len({a, b, c, d, e}) == 5


def test_missing_values_are_refused_with_their_count():
    with pytest.raises(ValueError, match="2 missing"):
        text_hashes(pa.array(["a", None, None]))
