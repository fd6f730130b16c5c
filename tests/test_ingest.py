"""CSV ingestion end to end, on SQLite and PostgreSQL.

Every bad file is its own test: the error's type, the parts of its message a user needs
(what, where, how to fix), and proof that nothing at all was written.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from factories import (
    baseline_csv,
    binary_frame,
    labels_csv,
    live_csv,
    live_frame,
    table_counts,
    to_csv_bytes,
)

from readiness import ModelSpec, ingest_csv, preview_upload
from readiness.analysis.assessment import score_history
from readiness.analysis.refresh import refresh_model
from readiness.core.mapping import ColumnMapping, parse_mapping_pairs, propose_mapping
from readiness.core.records import utcnow
from readiness.errors import (
    DataValidationError,
    FileFormatError,
    LabelJoinError,
    MappingError,
    ModelConfigError,
    SchemaMismatchError,
    UnknownModelError,
)

BINARY = ModelSpec("binary", "1", owner="risk-team")


def add_baseline(store, model="fraud", task="binary", data=None, **kwargs):
    specs = {"binary": BINARY, "multiclass": ModelSpec("multiclass"), "regression": ModelSpec("regression")}
    spec = specs[task]
    data = baseline_csv(task=task) if data is None else data
    return ingest_csv(store, model, "baseline", data, "baseline.csv", new_model=spec, **kwargs)


def add_live(store, model="fraud", n=100, **kwargs):
    add_baseline(store, model)
    return ingest_csv(store, model, "live", live_csv(n, **kwargs), "live.csv")


def predictions(store, model="fraud"):
    """The model's stored predictions read back (the store reads by a resolved Model)."""
    return store.read_predictions(store.get_model(model))


def baseline_rows(store, model="fraud"):
    """The rows of the model's active baseline read back."""
    return store.read_baseline(store.active_baseline(store.get_model(model).id))


def expect_nothing_written(store, before, error, call):
    """Run call, expect error, and prove every table holds what it held before."""
    with pytest.raises(error) as info:
        call()
    assert table_counts(store) == before
    return str(info.value)


def live_bytes(edit, n=50, **kwargs) -> bytes:
    """A live CSV after edit(frame), which changes the frame in place or returns a new one."""
    frame = live_frame(n, **kwargs)
    edited = edit(frame)
    return to_csv_bytes(frame if edited is None else edited)


def set_cell(frame, row, column, value):
    frame[column] = frame[column].astype(object)
    frame.loc[row, column] = value


# -- bad files for a new model --------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "new.csv is empty"),
        (b" \n\t\n  \r\n", "new.csv is empty"),
        (b"amount,prediction,label\n", "has a header (amount, prediction, label) but no data rows"),
        (b"PK\x03\x04\x00\x00binary", "not text: it has a NUL byte"),
        (b"\x01\x02\x03\x04\x05\x06", "not readable text: character 0x01"),
        (b"amount,prediction,amount\n1,0,2\n", "duplicate column names: 'amount'"),
        (b"amount,,prediction\n1,2,0\n", "header column(s) 2 have no name"),
        (b"amount,prediction\n1,0\n2,1,7\n", "line 3 has 3 field(s) but the header has 2"),
    ],
    ids=[
        "empty",
        "whitespace",
        "header-only",
        "nul-bytes",
        "control-bytes",
        "duplicate-columns",
        "blank-column-name",
        "ragged",
    ],
)
def test_unusable_file(store, data, words):
    before = table_counts(store)
    message = expect_nothing_written(
        store,
        before,
        FileFormatError,
        lambda: ingest_csv(store, "fresh", "baseline", data, "new.csv", new_model=BINARY),
    )
    assert words in message
    assert store.find_model("fresh") is None


def test_file_over_the_size_limit(store, monkeypatch):
    monkeypatch.setenv("READINESS_MAX_UPLOAD_MB", "0.001")
    data = baseline_csv(200)
    before = table_counts(store)
    message = expect_nothing_written(
        store,
        before,
        FileFormatError,
        lambda: ingest_csv(store, "fresh", "baseline", data, "big.csv", new_model=BINARY),
    )
    assert "big.csv is" in message and "over the 0.001 MB limit" in message
    assert "READINESS_MAX_UPLOAD_MB" in message


def test_baseline_without_prediction_column(store):
    data = to_csv_bytes(binary_frame(20).drop(columns="prediction"))
    message = expect_nothing_written(
        store,
        table_counts(store),
        MappingError,
        lambda: ingest_csv(store, "fresh", "baseline", data, "b.csv", new_model=BINARY),
    )
    assert "b.csv has no column for the required 'prediction' of a baseline file" in message
    assert "'amount', 'age', 'region', 'score', 'label'" in message


def test_baseline_with_three_classes_for_a_binary_model(store):
    frame = binary_frame(30)
    frame.loc[4, "label"] = 2
    message = expect_nothing_written(
        store,
        table_counts(store),
        DataValidationError,
        lambda: ingest_csv(store, "fresh", "baseline", to_csv_bytes(frame), "b.csv", new_model=BINARY),
    )
    assert "b.csv has 3 classes ('0', '1', '2') but the model is binary" in message
    assert "choose the multiclass task" in message


def test_baseline_with_non_numeric_labels_for_a_regression_model(store):
    frame = binary_frame(30, task="regression")
    set_cell(frame, 6, "label", "high")
    message = expect_nothing_written(
        store,
        table_counts(store),
        DataValidationError,
        lambda: ingest_csv(
            store, "fresh", "baseline", to_csv_bytes(frame), "b.csv", new_model=ModelSpec("regression")
        ),
    )
    assert "Label column 'label' has 'high' at line 8" in message
    assert "regression model needs numeric labels" in message


def test_baseline_with_a_positive_class_that_never_occurs(store):
    message = expect_nothing_written(
        store,
        table_counts(store),
        DataValidationError,
        lambda: ingest_csv(
            store, "fresh", "baseline", baseline_csv(30), "b.csv", new_model=ModelSpec("binary", "yes")
        ),
    )
    assert "positive class 'yes' does not occur in b.csv" in message


def test_baseline_with_unknown_task(store):
    message = expect_nothing_written(
        store,
        table_counts(store),
        ModelConfigError,
        lambda: ingest_csv(
            store, "fresh", "baseline", baseline_csv(30), "b.csv", new_model=ModelSpec("ranking")
        ),
    )
    assert "Unknown task 'ranking'" in message and "binary, multiclass, regression" in message


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("score", "", "Score column 'score' is empty or NaN at line 5"),
        ("score", "NaN", "Score column 'score' is empty or NaN at line 5"),
        ("score", "inf", "Score column 'score' has an infinite value at line 5 ('inf')"),
        ("score", "-inf", "Score column 'score' has an infinite value at line 5 ('-inf')"),
        ("score", "1.5", "Score column 'score' has '1.5' at line 5, outside [0, 1]"),
        ("score", "-0.01", "Score column 'score' has '-0.01' at line 5, outside [0, 1]"),
        # One bad value among many numbers keeps the column numeric, so the value is reported.
        (
            "amount",
            "abc",
            "Feature 'amount' must be numeric, but line 5 has 'abc' (1 non-numeric value(s) in "
            "all). Fix those values, or mark the column categorical in the mapping.",
        ),
        ("amount", "1e999", "Feature 'amount' has an infinite value at line 5 ('1e999')"),
    ],
    ids=[
        "score-empty",
        "score-nan",
        "score-inf",
        "score-neg-inf",
        "score-above-1",
        "score-below-0",
        "feature-text",
        "feature-inf",
    ],
)
def test_bad_value_in_baseline(store, column, value, words):
    frame = binary_frame(40)
    set_cell(frame, 3, column, value)
    message = expect_nothing_written(
        store,
        table_counts(store),
        DataValidationError,
        lambda: ingest_csv(store, "fresh", "baseline", to_csv_bytes(frame), "b.csv", new_model=BINARY),
    )
    assert words in message


@pytest.mark.parametrize(
    "name", ["../x", "a b", "", "-lead", "x" * 101, 'x"; DROP TABLE models; --', "naïve"]
)
def test_bad_model_name(store, name):
    message = expect_nothing_written(
        store,
        table_counts(store),
        ModelConfigError,
        lambda: ingest_csv(store, name, "baseline", baseline_csv(20), "b.csv", new_model=BINARY),
    )
    assert f"Model name {name!r} is not allowed" in message
    assert "letters, digits" in message


# -- bad live files ---------------------------------------------------------------------------


def test_live_for_an_unknown_model_lists_the_known_ones(store):
    add_baseline(store, "fraud")
    add_baseline(store, "churn")
    message = expect_nothing_written(
        store,
        table_counts(store),
        UnknownModelError,
        lambda: ingest_csv(store, "frod", "live", live_csv(10), "l.csv"),
    )
    assert "No model named 'frod'. Known models: churn, fraud." in message


def test_live_with_no_models_at_all(store):
    message = expect_nothing_written(
        store,
        table_counts(store),
        UnknownModelError,
        lambda: ingest_csv(store, "fraud", "live", live_csv(10), "l.csv"),
    )
    assert "Known models: none yet" in message


def test_live_before_any_baseline(store):
    store.create_model("fraud", "binary", "1")
    message = expect_nothing_written(
        store,
        table_counts(store),
        DataValidationError,
        lambda: ingest_csv(store, "fraud", "live", live_csv(10), "l.csv"),
    )
    assert "Model 'fraud' has no baseline yet" in message
    assert "Upload its baseline" in message


def test_live_without_timestamp_column(store):
    add_baseline(store)
    data = to_csv_bytes(live_frame(10).drop(columns="timestamp"))
    message = expect_nothing_written(
        store,
        table_counts(store),
        MappingError,
        lambda: ingest_csv(store, "fraud", "live", data, "l.csv"),
    )
    assert "l.csv has no column for the required 'timestamp' of a live file" in message
    assert "timestamp=<column>" in message


def test_live_with_unparsable_timestamps(store):
    add_baseline(store)

    def edit(frame):
        frame.loc[6, "timestamp"] = "31/31/2026 25:99"
        frame.loc[9, "timestamp"] = "yesterday"

    message = expect_nothing_written(
        store,
        table_counts(store),
        DataValidationError,
        lambda: ingest_csv(store, "fraud", "live", live_bytes(edit), "l.csv"),
    )
    assert "Timestamp column 'timestamp' has an unreadable time at line 8: '31/31/2026 25:99'" in message
    assert "(2 row(s))" in message and "ISO 8601" in message


def test_live_with_empty_timestamp(store):
    add_baseline(store)
    message = expect_nothing_written(
        store,
        table_counts(store),
        DataValidationError,
        lambda: ingest_csv(
            store, "fraud", "live", live_bytes(lambda f: set_cell(f, 2, "timestamp", "")), "l.csv"
        ),
    )
    assert "Timestamp column 'timestamp' is empty at line 4" in message


def test_live_with_text_in_a_numeric_feature(store):
    add_baseline(store)

    def edit(frame):
        for row in (3, 17, 30):
            set_cell(frame, row, "amount", "abc")

    message = expect_nothing_written(
        store,
        table_counts(store),
        DataValidationError,
        lambda: ingest_csv(store, "fraud", "live", live_bytes(edit), "l.csv"),
    )
    assert "Feature 'amount' must be numeric, but line 5 has 'abc' (3 non-numeric value(s) in all)" in message


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("NaN", "is empty or NaN at line 4"),
        ("", "is empty or NaN at line 4"),
        ("inf", "has an infinite value at line 4 ('inf'). Replace it with a probability in [0, 1]"),
        ("2", "has '2' at line 4, outside [0, 1]"),
        ("-0.5", "has '-0.5' at line 4, outside [0, 1]"),
    ],
    ids=["nan", "empty", "inf", "above-1", "negative"],
)
def test_live_with_a_bad_score(store, value, words):
    add_baseline(store)
    data = live_bytes(lambda f: set_cell(f, 2, "score", value))
    message = expect_nothing_written(
        store,
        table_counts(store),
        DataValidationError,
        lambda: ingest_csv(store, "fraud", "live", data, "l.csv"),
    )
    assert f"Score column 'score' {words}" in message


def test_live_with_a_class_the_binary_model_does_not_know(store):
    add_baseline(store)
    data = live_bytes(lambda f: set_cell(f, 5, "prediction", "maybe"))
    message = expect_nothing_written(
        store,
        table_counts(store),
        DataValidationError,
        lambda: ingest_csv(store, "fraud", "live", data, "l.csv"),
    )
    assert "Prediction column 'prediction' has class 'maybe' at line 7" in message
    assert "known classes: '0', '1'" in message


def test_live_features_that_differ_from_the_baseline(store):
    add_baseline(store)

    def edit(frame):
        return frame.drop(columns="age").assign(device="ios", amount="lots")

    message = expect_nothing_written(
        store,
        table_counts(store),
        SchemaMismatchError,
        lambda: ingest_csv(store, "fraud", "live", live_bytes(edit), "l.csv"),
    )
    assert "The features of l.csv do not match the model's baseline" in message
    assert "missing: 'age'" in message
    assert "extra: 'device'" in message
    assert "type changed: 'amount' (numeric in the baseline, text here)" in message
    assert "mark extra ones 'ignore'" in message


def test_extra_live_column_can_be_ignored_by_the_mapping(store):
    add_baseline(store)
    frame = live_frame(20)
    frame["debug"] = "x"
    mapping = parse_mapping_pairs(
        ["debug=ignore"],
        ColumnMapping(
            roles={
                "timestamp": "timestamp",
                "request_id": "request_id",
                "prediction": "prediction",
                "score": "score",
            }
        ),
    )
    result = ingest_csv(store, "fraud", "live", to_csv_bytes(frame), "l.csv", mapping=mapping)
    assert result.rows_added == 20
    assert "debug" not in predictions(store, "fraud").columns


def test_live_with_duplicate_request_ids(store):
    add_baseline(store)

    def edit(frame):
        frame.loc[8, "request_id"] = "r-2"
        frame.loc[9, "request_id"] = "r-2"

    message = expect_nothing_written(
        store,
        table_counts(store),
        DataValidationError,
        lambda: ingest_csv(store, "fraud", "live", live_bytes(edit), "l.csv"),
    )
    assert "Request id column 'request_id' repeats 'r-2' at line 10 (2 repeat(s))" in message
    assert "remove the duplicate rows" in message


def test_live_with_request_ids_already_stored(store):
    add_live(store, n=30)
    data = live_csv(40, seed=9, start=pd.Timestamp("2026-04-01T00:00:00Z"))  # r-0..r-39 overlaps r-0..r-29
    message = expect_nothing_written(
        store,
        table_counts(store),
        DataValidationError,
        lambda: ingest_csv(store, "fraud", "live", data, "l2.csv"),
    )
    assert (
        "30 request id(s) in this file are already stored for model 'fraud' (first: 'r-0' at line 2)"
        in message
    )
    assert "Upload only new predictions" in message


def test_live_with_a_request_id_too_long_for_the_store(store):
    add_baseline(store)
    data = live_bytes(lambda f: set_cell(f, 3, "request_id", "x" * 201))
    message = expect_nothing_written(
        store,
        table_counts(store),
        DataValidationError,
        lambda: ingest_csv(store, "fraud", "live", data, "l.csv"),
    )
    assert "Request id column 'request_id' has a value of 201 characters at line 5" in message
    assert "at most 200 fit" in message


# -- bad label files --------------------------------------------------------------------------


def test_labels_whose_ids_match_no_prediction(store):
    add_live(store, n=20)
    data = labels_csv(["q-1", "q-2", "q-3"])
    message = expect_nothing_written(
        store,
        table_counts(store),
        LabelJoinError,
        lambda: ingest_csv(store, "fraud", "labels", data, "lab.csv"),
    )
    assert "None of the 3 request ids in lab.csv match a prediction of model 'fraud'" in message
    assert "(first: 'q-1')" in message


@pytest.mark.parametrize(
    ("header", "role"),
    [("id_x,label", "request_id"), ("request_id,verdict,note", "label")],  # two candidates: none proposed
)
def test_labels_without_a_required_column(store, header, role):
    add_live(store, n=5)
    data = f"{header}\nr-1,1{',x' if header.count(',') == 2 else ''}\n".encode()
    message = expect_nothing_written(
        store,
        table_counts(store),
        MappingError,
        lambda: ingest_csv(store, "fraud", "labels", data, "lab.csv"),
    )
    assert f"lab.csv has no column for the required {role!r} of a labels file" in message


def test_labels_with_a_class_the_binary_model_does_not_know(store):
    add_live(store, n=10)
    data = b"request_id,label\nr-1,1\nr-2,fraud\n"
    message = expect_nothing_written(
        store,
        table_counts(store),
        DataValidationError,
        lambda: ingest_csv(store, "fraud", "labels", data, "lab.csv"),
    )
    assert "Label column 'label' has class 'fraud' at line 3" in message


def test_labels_with_non_numeric_values_for_a_regression_model(store):
    add_baseline(store, "price", task="regression")
    ingest_csv(store, "price", "live", live_csv(10, task="regression"), "l.csv")
    data = b"request_id,label\nr-1,10.5\nr-2,n/a-ish\n"
    message = expect_nothing_written(
        store,
        table_counts(store),
        DataValidationError,
        lambda: ingest_csv(store, "price", "labels", data, "lab.csv"),
    )
    assert "Label column 'label' has 'n/a-ish' at line 3" in message
    assert "a regression model needs numeric labels" in message


def test_labels_with_duplicate_request_ids(store):
    add_live(store, n=10)
    data = b"request_id,label\nr-1,1\nr-1,0\n"
    message = expect_nothing_written(
        store,
        table_counts(store),
        DataValidationError,
        lambda: ingest_csv(store, "fraud", "labels", data, "lab.csv"),
    )
    assert "repeats 'r-1' at line 3" in message


def test_labels_with_an_empty_label(store):
    add_live(store, n=10)
    data = b"request_id,label\nr-1,1\nr-2,\n"
    message = expect_nothing_written(
        store,
        table_counts(store),
        DataValidationError,
        lambda: ingest_csv(store, "fraud", "labels", data, "lab.csv"),
    )
    assert "Line 3 of the labels file has an empty request id or label" in message


# -- hostile strings are data -----------------------------------------------------------------


def test_hostile_strings_are_stored_and_read_back_as_data(store):
    hostile = 'x"; DROP TABLE predictions; --'
    texts = ["O'Brien", 'say "hi", ok', "München 🚀", "'; DELETE FROM models; --", "ü\nnewline", "%s %(x)s ?"]
    base = binary_frame(60)
    base[hostile] = np.resize(texts, len(base))
    add_baseline(store, "fraud", data=to_csv_bytes(base))
    live = live_frame(30)
    live[hostile] = np.resize(texts[::-1], len(live))
    live["request_id"] = [f"{t} #{i}" for i, t in enumerate(np.resize(texts, len(live)))]
    result = ingest_csv(store, "fraud", "live", to_csv_bytes(live), "l.csv")
    assert result.rows_added == 30
    back = predictions(store, "fraud")
    assert back[hostile].tolist() == live[hostile].tolist()
    assert back["request_id"].tolist() == live["request_id"].tolist()
    assert baseline_rows(store, "fraud")[hostile].tolist() == base[hostile].tolist()
    assert {s.model.name for s in store.model_stats()} == {"fraud"}
    assert store.count_predictions() == 30
    with pytest.raises(ModelConfigError):
        ingest_csv(
            store, "fraud'; DROP TABLE models; --", "baseline", baseline_csv(10), "b.csv", new_model=BINARY
        )
    assert [m.name for m in store.list_models()] == ["fraud"]


# -- good files -------------------------------------------------------------------------------


@pytest.mark.parametrize("sep", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
def test_baseline_live_and_labels_in_each_delimiter(store, sep):
    base = add_baseline(store, data=baseline_csv(100, sep=sep))
    assert base.rows_added == 100 and base.created_model
    live = ingest_csv(store, "fraud", "live", live_csv(50, sep=sep), "l.csv")
    assert live.rows_added == 50
    labels = to_csv_bytes(pd.DataFrame({"request_id": ["r-1", "r-2"], "label": [1, 0]}), sep=sep)
    assert ingest_csv(store, "fraud", "labels", labels, "lab.csv").rows_added == 2
    assert predictions(store, "fraud")["amount"].tolist() == live_frame(50)["amount"].tolist()


def test_utf8_bom_and_latin1_files(store):
    base = binary_frame(40)
    base["city"] = np.resize(["München", "Köln", "Zürich"], 40)
    add_baseline(store, data=b"\xef\xbb\xbf" + to_csv_bytes(base))
    live = live_frame(12)
    live["city"] = np.resize(["München", "Düsseldorf"], 12)
    ingest_csv(store, "fraud", "live", live.to_csv(index=False).encode("latin-1"), "l.csv")
    back = predictions(store, "fraud")
    assert back["city"].tolist() == live["city"].tolist()
    assert list(baseline_rows(store, "fraud").columns[:4]) == ["amount", "age", "region", "city"]


def test_quoted_fields_with_delimiters_and_newlines(store):
    base = binary_frame(30)
    base["note"] = np.resize(["a, b", "line one\nline two", 'he said "no"'], 30)
    add_baseline(store, data=to_csv_bytes(base))
    assert baseline_rows(store, "fraud")["note"].tolist() == base["note"].tolist()


def test_categorical_codes_keep_their_leading_zeros(store):
    base = binary_frame(30)
    base["zip"] = np.resize(["02134", "10001", "007"], 30)
    mapping = parse_mapping_pairs(["prediction=prediction", "score=score", "label=label", "zip=categorical"])
    add_baseline(store, data=to_csv_bytes(base), mapping=mapping)
    assert store.active_baseline(store.get_model("fraud").id).kind_of("zip") == "categorical"
    assert baseline_rows(store, "fraud")["zip"].tolist() == base["zip"].tolist()


def test_common_column_names_are_mapped_without_help(store):
    names = {"prediction": "y_pred", "score": "y_pred_proba", "label": "y_true"}
    base = binary_frame(80).rename(columns=names)
    result = ingest_csv(store, "fraud", "baseline", to_csv_bytes(base), "b.csv")  # task proposed too
    assert result.created_model
    assert [f.name for f in result.features] == ["amount", "age", "region"]
    model = store.get_model("fraud")
    assert (model.task, model.positive_class) == ("binary", "1")
    live = live_frame(20).rename(
        columns={"timestamp": "ts", "request_id": "id", "prediction": "y_pred", "score": "y_pred_proba"}
    )
    assert ingest_csv(store, "fraud", "live", to_csv_bytes(live), "l.csv").rows_added == 20
    labels = b"id,target\nr-1,1\nr-2,0\n"
    assert ingest_csv(store, "fraud", "labels", labels, "lab.csv").rows_added == 2


def test_cli_style_mapping_pairs(store):
    names = {"prediction": "decision", "label": "chargeback", "score": "p_fraud"}
    base = binary_frame(50).rename(columns=names)
    base["row_note"] = "x"
    pairs = ["decision=prediction", "chargeback=label", "p_fraud=score", "row_note=ignore", "age=categorical"]
    result = ingest_csv(
        store,
        "fraud",
        "baseline",
        to_csv_bytes(base),
        "b.csv",
        mapping=parse_mapping_pairs(pairs),
        new_model=BINARY,
    )
    assert [(f.name, f.kind) for f in result.features] == [
        ("amount", "numeric"),
        ("age", "categorical"),
        ("region", "categorical"),
    ]


def test_preview_proposes_mapping_and_task(store):
    preview = preview_upload(baseline_csv(60, task="multiclass"), "baseline", "b.csv")
    assert preview.n_rows == 60
    assert preview.columns == ["amount", "age", "region", "prediction", "label"]
    assert preview.mapping.roles == {"prediction": "prediction", "label": "label"}
    assert preview.proposed_task == "multiclass"
    assert len(preview.head) == 20
    assert table_counts(store) == dict.fromkeys(table_counts(store), 0)


def test_same_file_twice_adds_nothing_and_says_so(store):
    add_baseline(store)
    data = live_csv(40)
    first = ingest_csv(store, "fraud", "live", data, "live.csv")
    counts = table_counts(store)
    second = ingest_csv(store, "fraud", "live", data, "live-again.csv")
    assert first.rows_added == 40 and not first.already_ingested
    assert second.already_ingested and second.rows_added == 0
    assert second.message == (
        "live-again.csv was already ingested for model 'fraud' (live); no rows were added."
    )
    assert table_counts(store) == counts
    again = add_baseline(store)
    assert again.already_ingested
    assert table_counts(store) == counts


def test_delayed_labels_join_predictions(store):
    add_live(store, n=50)
    result = ingest_csv(store, "fraud", "labels", labels_csv([f"r-{i}" for i in range(20)]), "lab.csv")
    assert (result.rows_added, result.labels_updated, result.labels_unmatched) == (20, 0, 0)
    back = predictions(store, "fraud").set_index("request_id")
    expected = pd.read_csv(io.BytesIO(labels_csv([f"r-{i}" for i in range(20)])), dtype=str)
    assert back.loc[expected["request_id"], "label"].tolist() == expected["label"].tolist()
    assert back["label"].isna().sum() == 30


def test_labels_partly_matching_store_the_matches_and_count_the_rest(store):
    add_live(store, n=10)
    ids = ["r-1", "r-2", "zz-1", "zz-2", "zz-3"]
    result = ingest_csv(store, "fraud", "labels", labels_csv(ids), "lab.csv")
    assert (result.rows_added, result.labels_unmatched) == (2, 3)
    assert "3 matched no prediction" in result.message
    assert len(store.all_delayed_labels(store.get_model("fraud").id)) == 2


def test_corrected_labels_file_replaces_labels(store):
    add_live(store, n=10)
    ingest_csv(store, "fraud", "labels", b"request_id,label\nr-1,1\nr-2,1\nr-3,0\n", "lab.csv")
    result = ingest_csv(store, "fraud", "labels", b"request_id,label\nr-1,0\nr-2,1\n", "lab-fixed.csv")
    assert result.labels_updated == 2
    assert "2 replaced earlier labels" in result.message
    back = predictions(store, "fraud").set_index("request_id")["label"]
    assert back[["r-1", "r-2", "r-3"]].tolist() == ["0", "1", "0"]
    assert len(store.all_delayed_labels(store.get_model("fraud").id)) == 3


@pytest.mark.parametrize("task", ["regression", "multiclass"])
def test_regression_and_multiclass_models(store, task):
    result = add_baseline(store, "m", task=task)
    model = store.get_model("m")
    assert (model.task, model.positive_class) == (task, None)
    baseline = store.active_baseline(model.id)
    assert baseline.classes == (() if task == "regression" else ("bird", "cat", "dog"))
    live = ingest_csv(store, "m", "live", live_csv(30, task=task), "l.csv")
    assert live.rows_added == 30 and result.rows_added == 200
    labels = labels_csv(["r-0", "r-1"], task=task)
    assert ingest_csv(store, "m", "labels", labels, "lab.csv").rows_added == 2
    back = predictions(store, "m")
    if task == "regression":
        assert back["prediction"].astype(float).tolist() == live_frame(30, task=task)["prediction"].tolist()
    else:
        assert set(back["prediction"]) <= {"bird", "cat", "dog"}


def test_multiclass_baseline_with_a_score_column_is_refused(store):
    frame = binary_frame(30, task="multiclass")
    frame["score"] = 0.5
    message = expect_nothing_written(
        store,
        table_counts(store),
        DataValidationError,
        lambda: ingest_csv(
            store, "m", "baseline", to_csv_bytes(frame), "b.csv", new_model=ModelSpec("multiclass")
        ),
    )
    assert "scores (probability of the positive class) only apply to binary models" in message


def test_timestamps_with_offsets_are_stored_in_utc(store):
    add_baseline(store)
    frame = live_frame(3)
    frame["timestamp"] = ["2026-03-01T10:00:00+02:00", "2026-03-01 09:30:00", "2026-03-01T12:00:00Z"]
    result = ingest_csv(store, "fraud", "live", to_csv_bytes(frame), "l.csv")
    assert "2026-03-01 08:00 to 2026-03-01 12:00 UTC" in result.message
    back = predictions(store, "fraud")["timestamp"]
    assert [str(ts) for ts in back] == ["2026-03-01 08:00:00", "2026-03-01 09:30:00", "2026-03-01 12:00:00"]


def test_progress_reports_increasing_fractions_ending_at_one(store):
    calls: list[tuple[float, str]] = []

    def progress(fraction, message):
        calls.append((fraction, message))

    add_baseline(store, progress=progress)
    ingest_csv(store, "fraud", "live", live_csv(20), "l.csv", progress=progress)
    ingest_csv(store, "fraud", "labels", labels_csv(["r-1"]), "lab.csv", progress=progress)
    runs, current = [], []
    for fraction, message in calls:
        assert isinstance(message, str) and message
        current.append(fraction)
        if fraction == 1.0:
            runs.append(current)
            current = []
    assert len(runs) == 3 and not current
    for run in runs:
        assert run == sorted(run) and len(set(run)) == len(run)
        assert all(0 < f <= 1 for f in run)


def test_audit_trail_records_model_creation_and_each_ingestion(store):
    add_baseline(store, actor="ana")
    ingest_csv(store, "fraud", "live", live_csv(10), "l.csv", actor="svc")
    ingest_csv(store, "fraud", "labels", labels_csv(["r-1", "r-9", "nope"]), "lab.csv", actor="bob")
    audit = store.audit_entries(store.get_model("fraud"))
    assert audit["action"].tolist() == ["ingest.labels", "ingest.live", "ingest.baseline", "model.create"]
    assert audit["actor"].tolist() == ["bob", "svc", "ana", "ana"]
    details = audit.set_index("action")["detail"]
    assert details["model.create"] == {"name": "fraud", "task": "binary"}
    assert details["ingest.baseline"]["features"] == ["amount", "age", "region"]
    assert details["ingest.live"] == {"file": "l.csv", "rows": 10}
    assert details["ingest.labels"] == {"file": "lab.csv", "rows": 2, "unmatched": 1}


def test_each_ingestion_refreshes_aggregates_and_records_the_days_score(store):
    add_live(store, n=40)
    model = store.get_model("fraud")
    ingest_csv(store, "fraud", "labels", labels_csv([f"r-{i}" for i in range(10)]), "lab.csv")
    refreshed = refresh_model(store, model)
    assert (refreshed.profiles.rows_profiled, refreshed.performance.days_recomputed) == (0, 0)  # nothing left
    history = score_history(store, model)
    assert len(history) == 1  # one score per UTC day, the latest ingestion's
    assert history["day"][0].date() == utcnow().date()


def test_model_stats_label_coverage(store):
    add_live(store, n=40)
    ingest_csv(store, "fraud", "labels", labels_csv([f"r-{i}" for i in range(10)]), "lab.csv")
    may = pd.Timestamp("2026-05-01T00:00:00Z")
    frame = live_frame(10, seed=3, id_prefix="inline", with_label=True, start=may)
    ingest_csv(store, "fraud", "live", to_csv_bytes(frame), "inline.csv")
    add_baseline(store, "empty-model")
    stats = {s.model.name: s for s in store.model_stats()}
    fraud = stats["fraud"]
    assert (fraud.n_predictions, fraud.n_labelled, fraud.baseline_rows) == (50, 20, 200)
    assert fraud.label_coverage == pytest.approx(0.4)
    assert str(fraud.first_timestamp) == "2026-03-01 00:00:00"
    assert str(fraud.last_timestamp) == "2026-05-01 00:09:00"
    assert stats["empty-model"].n_predictions == 0 and stats["empty-model"].label_coverage is None


def test_new_baseline_replaces_the_active_one(store):
    add_baseline(store)
    frame = binary_frame(30, seed=7)
    frame["device"] = "ios"
    result = ingest_csv(store, "fraud", "baseline", to_csv_bytes(frame), "b2.csv")
    assert not result.created_model and result.rows_added == 30
    baseline = store.active_baseline(store.get_model("fraud").id)
    assert baseline.feature_names == ("amount", "age", "region", "device")
    assert len(baseline_rows(store, "fraud")) == 30
    assert store.count_rows("baselines") == 2


def test_a_labels_files_only_column_besides_the_id_is_its_label(store):
    add_live(store, n=5)
    result = ingest_csv(store, "fraud", "labels", b"request_id,repaid\nr-1,1\nr-2,0\n", "repaid.csv")
    assert result.rows_added == 2


def test_a_baseline_with_timestamps_keeps_them_out_of_the_features(store):
    frame = binary_frame(50)
    frame.insert(
        0, "timestamp", pd.date_range("2018-01-01", periods=50, freq="D").strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    result = ingest_csv(store, "dated", "baseline", to_csv_bytes(frame), "dated.csv")
    assert "timestamp" not in [f.name for f in result.features]
    assert "2018-01-01 00:00 to 2018-02-19 00:00 UTC (the development period)" in result.message
    live = live_frame(5)
    ingest_csv(store, "dated", "live", to_csv_bytes(live), "live.csv")  # the live log needs no extra column


def test_a_baselines_development_period_is_stored_and_named_where_it_is_compared(store):
    from readiness.analysis.drift_overview import drift_overview
    from readiness.analysis.performance_overview import performance_overview

    frame = binary_frame(50)
    frame.insert(0, "timestamp", pd.date_range("2018-01-01", periods=50, freq="D").strftime("%d/%m/%Y"))
    mapping = parse_mapping_pairs(["timestamp=timestamp"], propose_mapping(list(frame.columns), "baseline"))
    mapping = ColumnMapping(mapping.roles, date_format="dayfirst")
    ingest_csv(store, "dated", "baseline", to_csv_bytes(frame), "dated.csv", mapping)
    live = live_frame(60, with_label=True)
    ingest_csv(store, "dated", "live", to_csv_bytes(live), "live.csv")
    model = store.get_model("dated")
    assert store.active_baseline(model.id).period == "1 Jan 2018 to 19 Feb 2018"
    assert performance_overview(store, model).development_period == "1 Jan 2018 to 19 Feb 2018"
    assert drift_overview(store, model).baseline_text == (
        "the baseline (50 rows, development period 1 Jan 2018 to 19 Feb 2018)"
    )
    ingest_csv(store, "undated", "baseline", to_csv_bytes(binary_frame(20)), "plain.csv")
    assert store.active_baseline(store.get_model("undated").id).period == ""
