"""Column mapping: proposals from common names, CLI pairs, and the checks before ingestion."""

from __future__ import annotations

import pytest

from readiness.core.mapping import (
    ColumnMapping,
    check_mapping,
    missing_roles,
    normalize_name,
    parse_mapping_pairs,
    propose_mapping,
)
from readiness.errors import MappingError

# -- proposals ------------------------------------------------------------------------------


def test_proposes_roles_from_sklearn_style_names():
    columns = ["ts", "id", "amount", "y_pred", "y_pred_proba", "y_true"]
    mapping = propose_mapping(columns, "live")
    assert mapping.roles == {
        "timestamp": "ts",
        "prediction": "y_pred",
        "score": "y_pred_proba",
        "label": "y_true",
        "request_id": "id",
    }
    assert mapping.feature_columns(columns) == ["amount"]


@pytest.mark.parametrize(
    ("column", "role"),
    [
        ("timestamp", "timestamp"),
        ("Event Time", "timestamp"),
        ("created_at", "timestamp"),
        ("y_hat", "prediction"),
        ("Predicted-Label", "prediction"),
        ("yhat", "prediction"),
        ("probability", "score"),
        ("y_score", "score"),
        ("confidence", "score"),
        ("target", "label"),
        ("Y_True", "label"),
        ("ground truth", "label"),
        ("outcome", "label"),
        ("request_id", "request_id"),
        ("ID", "request_id"),
        ("transaction-id", "request_id"),
        ("version", "model_version"),
        ("latency", "latency_ms"),
        ("duration_ms", "latency_ms"),
    ],
)
def test_proposes_a_role_for_common_names(column, role):
    assert propose_mapping([column, "amount"], "live").column_for(role) == column


def test_unknown_names_are_features():
    mapping = propose_mapping(["amount", "region", "prediction"], "baseline")
    assert mapping.roles == {"prediction": "prediction"}
    assert mapping.feature_columns(["amount", "region", "prediction"]) == ["amount", "region"]


def test_the_exact_contract_name_wins_over_an_alias():
    mapping = propose_mapping(["id", "request_id", "target", "label", "prediction"], "live")
    assert mapping.column_for("request_id") == "request_id"
    assert mapping.column_for("label") == "label"
    assert mapping.feature_columns(["id", "request_id", "target", "label", "prediction"]) == ["id", "target"]


def test_a_baseline_keeps_its_timestamps_as_a_role_not_a_feature():
    mapping = propose_mapping(["timestamp", "y_pred", "x"], "baseline")
    assert mapping.roles == {"timestamp": "timestamp", "prediction": "y_pred"}
    assert mapping.feature_columns(["timestamp", "y_pred", "x"]) == ["x"]


def test_labels_files_map_id_and_target_and_ignore_the_rest():
    mapping = propose_mapping(["id", "target", "note"], "labels")
    assert mapping.roles == {"request_id": "id", "label": "target"}
    assert mapping.ignore == ("note",)


def test_one_column_gets_one_role():
    mapping = propose_mapping(["prediction_score"], "live")
    assert list(mapping.roles.values()).count("prediction_score") <= 1


def test_normalize_name():
    assert normalize_name("  Y-Pred  Proba ") == "y_pred_proba"


def test_unknown_kind():
    with pytest.raises(MappingError, match=r"Unknown file kind 'features': choose one of baseline, live"):
        propose_mapping(["a"], "features")


# -- CLI pairs ------------------------------------------------------------------------------


def test_parse_pairs_sets_roles_ignore_and_feature_kinds():
    mapping = parse_mapping_pairs(
        ["y_hat=prediction", "when=timestamp", "notes=ignore", "zip=categorical", "code=numeric", "p=Score"]
    )
    assert mapping.roles == {"prediction": "y_hat", "timestamp": "when", "score": "p"}
    assert mapping.ignore == ("notes",)
    assert mapping.categorical == ("zip",)
    assert mapping.numeric == ("code",)


def test_parse_pairs_strips_spaces_around_column_and_role():
    assert parse_mapping_pairs([" y_hat = prediction "]).roles == {"prediction": "y_hat"}


def test_parse_pairs_column_may_contain_an_equals_sign():
    assert parse_mapping_pairs(["a=b=label"]).roles == {"label": "a=b"}


def test_parse_pairs_on_top_of_a_proposal_overrides_it():
    base = propose_mapping(["ts", "y_pred", "pred2"], "live")
    mapping = parse_mapping_pairs(["pred2=prediction"], base)
    assert mapping.roles == {"timestamp": "ts", "prediction": "pred2"}


def test_parse_pairs_moving_a_column_to_another_role_clears_the_old_one():
    mapping = parse_mapping_pairs(["x=prediction", "x=label"])
    assert mapping.roles == {"label": "x"}


def test_as_pairs_round_trips():
    mapping = parse_mapping_pairs(["y_hat=prediction", "notes=ignore", "zip=categorical", "code=numeric"])
    assert parse_mapping_pairs(mapping.as_pairs()) == mapping


@pytest.mark.parametrize("pair", ["y_hat", "=prediction", "y_hat=guess", "y_hat:prediction", ""])
def test_unreadable_pair(pair):
    with pytest.raises(MappingError, match=r"Cannot read mapping .*write COLUMN=ROLE where ROLE is one of"):
        parse_mapping_pairs([pair])


def test_with_role_sets_and_clears():
    mapping = ColumnMapping().with_role("prediction", "p")
    assert mapping.roles == {"prediction": "p"}
    assert mapping.with_role("prediction", None).roles == {}


# -- checks ---------------------------------------------------------------------------------


def test_check_accepts_a_complete_mapping():
    check_mapping(propose_mapping(["ts", "y_pred", "x"], "live"), ["ts", "y_pred", "x"], "live", "f.csv")


@pytest.mark.parametrize(
    ("kind", "columns", "role"),
    [
        ("live", ["prediction", "amount"], "timestamp"),
        ("live", ["timestamp", "amount"], "prediction"),
        ("baseline", ["amount", "label"], "prediction"),
        ("labels", ["request_id", "note", "comment"], "label"),  # two candidates: none is proposed
        ("labels", ["label", "note"], "request_id"),
    ],
)
def test_required_role_missing(kind, columns, role):
    mapping = propose_mapping(columns, kind)
    words = rf"f.csv has no column for the required '{role}' of a {kind} file"
    with pytest.raises(MappingError, match=words) as info:
        check_mapping(mapping, columns, kind, "f.csv")
    message = str(info.value)
    assert f"Map one with {role}=<column>" in message
    assert all(repr(c) in message for c in columns)


def test_mapping_names_an_absent_column():
    mapping = parse_mapping_pairs(["y_hat=prediction"])
    words = r"names column\(s\) 'y_hat' that f.csv does not have\. Its columns are: 'pred'"
    with pytest.raises(MappingError, match=words):
        check_mapping(mapping, ["pred"], "baseline", "f.csv")


def test_one_column_mapped_to_two_roles():
    mapping = ColumnMapping(roles={"prediction": "p", "label": "p"})
    with pytest.raises(MappingError, match=r"Column 'p' is mapped to both 'prediction' and 'label'"):
        check_mapping(mapping, ["p"], "baseline", "f.csv")


def test_role_that_does_not_apply_to_the_kind():
    mapping = ColumnMapping(roles={"request_id": "id", "label": "y", "timestamp": "t"})
    with pytest.raises(MappingError, match=r"Role 'timestamp' does not apply to a labels file"):
        check_mapping(mapping, ["id", "y", "t"], "labels", "f.csv")


def test_column_both_categorical_and_numeric():
    mapping = ColumnMapping(roles={"prediction": "p"}, categorical=("zip",), numeric=("zip",))
    with pytest.raises(MappingError, match=r"'zip' are marked both categorical and numeric"):
        check_mapping(mapping, ["p", "zip"], "baseline", "f.csv")


def test_a_labels_files_only_column_besides_the_id_is_proposed_as_its_label():
    assert propose_mapping(["id", "repaid"], "labels").roles == {"request_id": "id", "label": "repaid"}
    assert "label" not in propose_mapping(["id", "repaid", "note"], "labels").roles  # two candidates: ask


def test_two_columns_mapped_to_one_role_are_refused_naming_both():
    with pytest.raises(
        MappingError, match="Both 'p_a' and 'p_b' are mapped to 'score', which takes one column"
    ):
        parse_mapping_pairs(["p_a=score", "p_b=score"])
    assert (
        parse_mapping_pairs(["p_a=score"], propose_mapping(["proba", "p_a"], "live")).roles["score"] == "p_a"
    )


def test_missing_roles_names_what_a_kind_of_file_still_needs():
    assert missing_roles(ColumnMapping(), "labels") == ("request_id", "label")
    assert missing_roles(propose_mapping(["ts", "y_pred"], "live"), "live") == ()


def test_a_labels_files_arrival_time_is_its_own_role_and_the_rest_is_the_label():
    mapping = propose_mapping(["id", "received_at", "repaid"], "labels")
    assert mapping.roles == {"request_id": "id", "label_time": "received_at", "label": "repaid"}
    assert "label_time" not in propose_mapping(["ts", "id", "x", "received_at"], "live").roles
    with pytest.raises(MappingError, match="'label_time' does not apply to a live file"):
        check_mapping(
            ColumnMapping(roles={"timestamp": "t", "prediction": "p", "label_time": "a"}),
            ["t", "p", "a"],
            "live",
            "f.csv",
        )
