"""A label no name announces is proposed from its values: the prediction's classes, agreeing beyond chance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from car_loan import car_loan_files
from hypothesis import given, settings
from hypothesis import strategies as st

from readiness.analysis.ingest import propose_upload_mapping
from readiness.core.label_guess import guess_label
from readiness.core.mapping import ColumnMapping

RNG = np.random.default_rng(7)


def binary_file(n: int = 2000) -> pd.DataFrame:
    truth = RNG.integers(0, 2, n)
    prediction = np.where(RNG.random(n) < 0.85, truth, 1 - truth)  # a useful model: 85% right
    return pd.DataFrame(
        {
            "has_guarantor": RNG.integers(0, 2, n),  # the same two values, unrelated
            "churned": truth,
            "y_hat": prediction,
            "amount": RNG.normal(size=n).round(3),
        }
    ).astype(str)


def test_the_column_that_agrees_with_the_prediction_beyond_chance_is_the_label():
    guess = guess_label(binary_file(), ColumnMapping(roles={"prediction": "y_hat"}))
    assert guess is not None and guess.column == "churned"
    assert 0.8 < guess.agreement < 0.9 and 0.45 < guess.chance < 0.55
    assert "equals the prediction on 8" in guess.reason


def test_a_feature_with_the_same_values_at_chance_is_not_proposed():
    frame = binary_file().drop(columns="churned")
    assert guess_label(frame, ColumnMapping(roles={"prediction": "y_hat"})) is None


def test_a_named_label_or_a_regression_prediction_needs_no_guess():
    frame = binary_file()
    assert guess_label(frame, ColumnMapping(roles={"prediction": "y_hat", "label": "has_guarantor"})) is None
    numbers = pd.DataFrame(
        {"forecast": RNG.normal(size=500).astype(str), "sales": RNG.normal(size=500).astype(str)}
    )
    assert guess_label(numbers, ColumnMapping(roles={"prediction": "forecast"})) is None


def test_multiclass_labels_with_missing_cells_are_found():
    classes = np.array(["prepaid", "credit", "debit"])
    truth = RNG.choice(classes, 900)
    prediction = np.where(RNG.random(900) < 0.7, truth, RNG.choice(classes, 900))
    frame = pd.DataFrame({"pred": prediction, "card_type": truth, "region": RNG.choice(classes, 900)})
    frame.loc[::3, "card_type"] = None  # partly labelled
    guess = guess_label(frame, ColumnMapping(roles={"prediction": "pred"}))
    assert guess is not None and guess.column == "card_type"


def test_the_car_loan_baseline_gets_repaid_as_its_label_and_the_live_log_gets_none():
    baseline, live, _ = car_loan_files(baseline_rows=500)
    mapping, guess, score = propose_upload_mapping(baseline.astype(str), "baseline")
    assert mapping.roles == {
        "timestamp": "timestamp",
        "prediction": "y_pred",
        "score": "y_pred_proba",
        "request_id": "id",
        "label": "repaid",
    }
    assert guess is not None and guess.column == "repaid"
    assert score is None  # named y_pred_proba: found by its name
    assert propose_upload_mapping(live.astype(str), "live")[1] is None


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("ab"), st.sampled_from("ab"), st.sampled_from("abc")),
        min_size=1,
        max_size=40,
    )
)
def test_a_guess_is_never_a_mapped_column_and_only_holds_predicted_classes(rows):
    frame = pd.DataFrame(rows, columns=["pred", "x", "y"])
    guess = guess_label(frame, ColumnMapping(roles={"prediction": "pred"}))
    if guess is not None:
        assert guess.column != "pred"
        assert set(frame[guess.column]) <= set(frame["pred"])
        assert guess.agreement - guess.chance >= 0.1


def test_an_id_column_no_alias_names_is_proposed_when_its_values_are_unique():
    labels = pd.DataFrame(
        {"case_id": ["c1", "c2", "c3"], "benign": ["1", "0", "1"], "confirmed_at": ["2026-10-04"] * 3}
    )
    mapping, _, _ = propose_upload_mapping(labels, "labels")
    assert mapping.roles == {"request_id": "case_id", "label_time": "confirmed_at", "label": "benign"}
    live = pd.DataFrame(
        {
            "loanId": ["a", "b", "c"],
            "customer_id": ["x", "x", "y"],
            "ts": ["2026-10-01"] * 3,
            "y_pred": ["1", "0", "1"],
        }
    )
    assert propose_upload_mapping(live, "live")[0].column_for("request_id") == "loanId"  # customer_id repeats
    two = live.assign(order_id=["o1", "o2", "o3"])
    assert propose_upload_mapping(two, "live")[0].column_for("request_id") is None  # two candidates: ask
    assert (
        propose_upload_mapping(live, "baseline")[0].column_for("request_id") is None
    )  # a baseline needs none


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["1", " 1.0", "0", None, "yes", "1"], dtype="str"),  # an upload's Arrow-backed text
        pd.Series(["1", "1.0", "0", None, "0.0"], dtype=object),
        pd.Series([1, True, 1.0, "1", None, float("nan"), 0], dtype=object),  # 1 and True: one dict key
    ],
)
def test_classes_of_distinct_texts_are_what_each_value_gives(values):
    """Mapping each distinct text once gives what mapping every value gave."""
    from readiness.core.label_guess import _classes
    from readiness.core.records import canonical_class

    expected = values.map(canonical_class, na_action="ignore").astype(object)
    pd.testing.assert_series_equal(_classes(values), expected)
