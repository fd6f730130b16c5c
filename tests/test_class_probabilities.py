"""A multiclass model's class probabilities: a role of their own, proposed by name, checked, stored."""

from __future__ import annotations

import json
import sqlite3
import string

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from readiness import ingest_csv
from readiness.analysis.ingest import preview_upload
from readiness.analysis.log import log_predictions
from readiness.cli import main
from readiness.core.mapping import (
    ColumnMapping,
    check_mapping,
    classes_of_probability_columns,
    parse_mapping_pairs,
    probability_roles,
    propose_class_probabilities,
)
from readiness.core.validate import PROBA_SUM_TOLERANCE
from readiness.errors import DataValidationError, MappingError
from readiness.storage import log_blocks
from readiness.storage.store import Store
from tests.factories import START, to_csv_bytes

CLASSES = ("prepaid_card", "refund", "cash_withdrawal")


def router_frame(
    n: int = 120, seed: int = 0, prefix: str = "y_pred_proba_", live: bool = False
) -> pd.DataFrame:
    """A support-ticket router's log: two features, one probability column per class, y_pred (and y_true)."""
    rng = np.random.default_rng(seed)
    proba = rng.dirichlet([2, 1, 1], n).round(4)
    proba[:, -1] = (1 - proba[:, :-1].sum(axis=1)).round(4)  # rows add up to 1 after rounding
    frame = pd.DataFrame(
        {"amount": rng.lognormal(3, 1, n).round(2), "channel": rng.choice(["web", "app"], n)}
    )
    for i, cls in enumerate(CLASSES):
        frame[f"{prefix}{cls}"] = proba[:, i]
    frame["y_pred"] = np.array(CLASSES)[proba.argmax(axis=1)]
    if live:
        frame.insert(
            0, "ts", (START + pd.to_timedelta(np.arange(n) * 60, unit="s")).strftime("%Y-%m-%dT%H:%M:%SZ")
        )
        frame.insert(1, "request_id", [f"t-{seed}-{i}" for i in range(n)])
    else:
        frame["y_true"] = rng.choice(CLASSES, n)
    return frame


def stored_probabilities(store: Store, table: str = "predictions") -> list[dict]:
    """Each stored live row's class probabilities, a row each and then uploaded blocks."""
    with store.engine.connect() as conn:
        rows = [r[0] for r in conn.exec_driver_sql(f"SELECT probabilities FROM {table} ORDER BY id").all()]
        for model in store.list_models():
            rows += log_blocks.block_rows(conn, model.id, columns=["probabilities"])["probabilities"].tolist()
    return [json.loads(r) for r in rows]


# --------------------------------------------------------------------------- proposing by name


def test_the_issue_example_is_proposed_one_column_per_class_and_none_is_a_feature():
    frame = router_frame()
    preview = preview_upload(to_csv_bytes(frame), "baseline", "router.csv")
    assert preview.mapping.class_probabilities == {c: f"y_pred_proba_{c}" for c in sorted(CLASSES)}
    assert preview.mapping.feature_columns(list(frame.columns)) == ["amount", "channel"]
    assert preview.proposed_task == "multiclass"


@pytest.mark.parametrize("prefix", ["p_", "proba_", "prob_", "score_", "model_out_", "P-"])
def test_any_shared_prefix_is_found(prefix):
    frame = router_frame(prefix=prefix)
    columns = list(frame.columns)
    proposed = propose_class_probabilities(columns, CLASSES)
    assert set(proposed) == set(CLASSES)
    assert all(column.startswith(prefix) for column in proposed.values())


def test_a_class_the_sample_never_predicted_still_gets_its_column_and_a_known_prefix_wins():
    columns = ["x", "p_a", "p_b", "p_c", "p_d", "q_a", "q_b", "q_c"]
    assert propose_class_probabilities(columns, ["a", "b", "c"]) == {
        "a": "p_a",
        "b": "p_b",
        "c": "p_c",
        "d": "p_d",
    }


def test_nothing_is_proposed_for_a_binary_model_and_a_class_left_without_a_column_is_reported_not_hidden():
    assert propose_class_probabilities(["p_0", "p_1"], ["0", "1"]) == {}
    assert propose_class_probabilities(["p_a", "x_b", "x"], ["a", "b", "c"]) == {}  # one of three: no pattern
    assert propose_class_probabilities(["p_a", "p_b", "x"], ["a", "b", "c"]) == {"a": "p_a", "b": "p_b"}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.text(string.ascii_lowercase, min_size=2, max_size=8), min_size=3, max_size=6, unique=True),
    st.sampled_from(["y_pred_proba_", "p_", "probability_", "out_"]),
)
def test_a_prefixed_column_per_class_is_always_found(classes, prefix):
    columns = ["feature_one", *(prefix + c for c in classes), "y_pred"]
    proposed = propose_class_probabilities(columns, classes)
    assert {c: proposed[c] for c in classes} == {c: prefix + c for c in classes}


def test_chosen_columns_are_named_by_their_class_past_the_shared_prefix():
    assert classes_of_probability_columns(["out.Gift Card", "out.Cash"]) == {
        "Gift Card": "out.Gift Card",
        "Cash": "out.Cash",
    }
    proposed = ColumnMapping(roles={"proba:Card": "p_card"})
    assert probability_roles(["p_card", "p_wire"], proposed) == {
        "proba:Card": "p_card",
        "proba:wire": "p_wire",
    }


# --------------------------------------------------------------------------- mapping words


def test_the_cli_form_keeps_the_class_as_written_and_refuses_two_columns_for_one_class():
    mapping = parse_mapping_pairs(["a=proba:Prepaid Card", "b=PROBA:refund"])
    assert mapping.class_probabilities == {"Prepaid Card": "a", "refund": "b"}
    with pytest.raises(MappingError, match="Both 'a' and 'b' are mapped to 'proba:refund'"):
        parse_mapping_pairs(["a=proba:refund", "b=proba:refund"])
    with pytest.raises(MappingError, match="Both 'a' and 'b' are mapped to 'score'"):
        parse_mapping_pairs(["a=score", "b=score"])
    with pytest.raises(MappingError, match="names its class"):
        parse_mapping_pairs(["a=proba:"])


def test_class_probabilities_do_not_belong_in_a_labels_file_nor_beside_a_score():
    with pytest.raises(MappingError, match="not a labels file"):
        check_mapping(
            ColumnMapping(roles={"request_id": "id", "label": "y", "proba:a": "p"}),
            ["id", "y", "p"],
            "labels",
            "l.csv",
        )
    with pytest.raises(MappingError, match="maps a score column"):
        check_mapping(
            ColumnMapping(roles={"prediction": "y", "score": "s", "proba:a": "p"}),
            ["y", "s", "p"],
            "baseline",
            "b.csv",
        )


# --------------------------------------------------------------------------- validated and stored


def test_a_baseline_and_a_live_log_store_each_rows_probabilities_exactly(sqlite_store):
    base, live = router_frame(), router_frame(50, seed=1, live=True)
    ingest_csv(sqlite_store, "router", "baseline", to_csv_bytes(base), "b.csv")
    baseline = sqlite_store.active_baseline(sqlite_store.get_model("router").id)
    assert baseline.classes == tuple(sorted(CLASSES)) and baseline.feature_names == ("amount", "channel")
    stored = sqlite_store.read_baseline(baseline)["probabilities"]
    assert [json.loads(text) for text in stored] == [
        {c: row[f"y_pred_proba_{c}"] for c in CLASSES} for _, row in base.iterrows()
    ]
    ingest_csv(sqlite_store, "router", "live", to_csv_bytes(live), "l.csv")
    assert stored_probabilities(sqlite_store) == [
        {c: row[f"y_pred_proba_{c}"] for c in CLASSES} for _, row in live.iterrows()
    ]


def test_the_baseline_classes_include_a_class_with_a_column_but_no_prediction(sqlite_store):
    frame = router_frame()
    frame["p_wire"] = 0.0
    mapping = parse_mapping_pairs(
        [
            *(f"y_pred_proba_{c}=proba:{c}" for c in CLASSES),
            "p_wire=proba:wire",
            "y_pred=prediction",
            "y_true=label",
        ]
    )
    ingest_csv(sqlite_store, "router", "baseline", to_csv_bytes(frame), "b.csv", mapping)
    assert "wire" in sqlite_store.active_baseline(sqlite_store.get_model("router").id).classes


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda f: f.assign(
                y_pred_proba_refund=f["y_pred_proba_refund"].astype(object).where(f.index != 7, "")
            ),
            "is empty at line 9",
        ),
        (
            lambda f: f.assign(y_pred_proba_refund=f["y_pred_proba_refund"].where(f.index != 4, 1.5)),
            "has '1.5' at line 6",
        ),
        (
            lambda f: f.assign(y_pred_proba_refund=f["y_pred_proba_refund"].where(f.index != 4, -0.2)),
            "at line 6",
        ),
        (
            lambda f: f.assign(
                y_pred_proba_refund=f["y_pred_proba_refund"].astype(object).where(f.index != 3, "high")
            ),
            "line 5 has 'high'",
        ),
        (
            lambda f: f.assign(
                y_pred_proba_refund=f["y_pred_proba_refund"] + np.where(f.index == 10, 0.3, 0.0)
            ),
            "at line 12 add up to",
        ),
    ],
)
def test_a_bad_probability_names_its_line_and_stores_nothing(sqlite_store, change, message):
    frame = change(router_frame())
    with pytest.raises(DataValidationError, match=message):
        ingest_csv(sqlite_store, "router", "baseline", to_csv_bytes(frame), "b.csv")
    assert sqlite_store.find_model("router") is None


def test_rounding_within_the_tolerance_passes_and_beyond_it_is_refused(sqlite_store):
    frame = router_frame()
    within = frame.assign(y_pred_proba_refund=frame["y_pred_proba_refund"] + PROBA_SUM_TOLERANCE / 2)
    ingest_csv(sqlite_store, "router", "baseline", to_csv_bytes(within), "b.csv")
    beyond = frame.assign(y_pred_proba_refund=frame["y_pred_proba_refund"] + PROBA_SUM_TOLERANCE * 2)
    with pytest.raises(DataValidationError, match=r"add up to .*not 1 \(within 0.01\)"):
        ingest_csv(sqlite_store, "other", "baseline", to_csv_bytes(beyond), "b.csv")


def test_a_class_without_its_column_or_unknown_to_the_baseline_is_refused(sqlite_store):
    with pytest.raises(DataValidationError, match="none for 'refund'"):
        ingest_csv(
            sqlite_store,
            "router",
            "baseline",
            to_csv_bytes(router_frame().drop(columns="y_pred_proba_refund")),
            "b.csv",
            parse_mapping_pairs(
                [
                    "y_pred_proba_prepaid_card=proba:prepaid_card",
                    "y_pred_proba_cash_withdrawal=proba:cash_withdrawal",
                    "y_pred=prediction",
                    "y_true=label",
                ]
            ),
        )
    ingest_csv(sqlite_store, "router", "baseline", to_csv_bytes(router_frame()), "b.csv")
    live = router_frame(20, seed=3, live=True)
    pairs = ["y_pred_proba_refund=proba:wire", "ts=timestamp", "y_pred=prediction"]
    with pytest.raises(DataValidationError, match="none for 'refund', which is a class of the baseline"):
        ingest_csv(
            sqlite_store,
            "router",
            "live",
            to_csv_bytes(live),
            "l.csv",
            parse_mapping_pairs(pairs, preview_upload(to_csv_bytes(live), "live", "l.csv", CLASSES).mapping),
        )
    assert sqlite_store.count_predictions() == 0


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_only_a_multiclass_model_has_class_probabilities(sqlite_store, task):
    frame = router_frame()
    if task == "binary":
        frame = frame.assign(y_pred=np.where(frame["y_pred"] == "refund", "yes", "no"), y_true="no")
    else:
        frame = frame.assign(y_pred=frame["amount"] * 2, y_true=frame["amount"])
    mapping = parse_mapping_pairs(
        [*(f"y_pred_proba_{c}=proba:{c}" for c in CLASSES), "y_pred=prediction", "y_true=label"]
    )
    with pytest.raises(DataValidationError, match=f"this model is {task}"):
        from readiness.analysis.ingest import ModelSpec

        spec = ModelSpec(task, "yes" if task == "binary" else None)
        ingest_csv(sqlite_store, "m", "baseline", to_csv_bytes(frame), "b.csv", mapping, spec)


def test_log_predictions_takes_a_mapping_or_its_json_and_plain_sql_may_leave_them_null(sqlite_store):
    ingest_csv(sqlite_store, "router", "baseline", to_csv_bytes(router_frame()), "b.csv")
    row = {"timestamp": "2026-11-02T10:00:00Z", "prediction": "refund", "amount": 3.0, "channel": "web"}
    given = {"prepaid_card": 0.1, "refund": 0.7, "cash_withdrawal": 0.2}
    assert log_predictions(sqlite_store, "router", [{**row, "request_id": "a", "probabilities": given}]) == 1
    assert (
        log_predictions(
            sqlite_store, "router", [{**row, "request_id": "b", "probabilities": json.dumps(given)}]
        )
        == 1
    )
    assert stored_probabilities(sqlite_store) == [given, given]
    with pytest.raises(DataValidationError, match="none for 'cash_withdrawal'"):
        log_predictions(
            sqlite_store,
            "router",
            [{**row, "request_id": "c", "probabilities": {"prepaid_card": 0.3, "refund": 0.7}}],
        )
    with pytest.raises(DataValidationError, match="has probabilities 'high'"):
        log_predictions(sqlite_store, "router", [{**row, "request_id": "c", "probabilities": "high"}])
    path = sqlite_store.engine.url.database
    with sqlite3.connect(path) as conn:  # a service's plain insert, no probabilities
        conn.execute(
            "INSERT INTO predictions (model_id, timestamp, request_id, prediction, features) "
            "VALUES ((SELECT id FROM models WHERE name = 'router'), '2026-11-02 11:00:00', 'sql-1', 'refund', '{}')"
        )
    from readiness.analysis.refresh import refresh_model

    refresh_model(sqlite_store, sqlite_store.get_model("router"))
    assert sqlite_store.count_predictions() == 3


def test_the_cli_maps_a_class_probability_with_the_documented_form(sqlite_store, tmp_path, capsys):
    frame = router_frame().rename(columns={"y_pred_proba_refund": "refund_likelihood"})
    path = tmp_path / "router.csv"
    path.write_bytes(to_csv_bytes(frame))
    url = str(sqlite_store.engine.url)
    args = ["--database", url, "ingest", "--model", "router", "--kind", "baseline", str(path)]
    assert main(args) == 2  # refund has no column by name: the error says how to map it
    assert "--map <column>=proba:refund" in capsys.readouterr().err
    assert main([*args, "--map", "refund_likelihood=proba:refund"]) == 0
    assert len(
        sqlite_store.read_baseline(sqlite_store.active_baseline(sqlite_store.get_model("router").id))
    ) == len(frame)
    assert sqlite_store.active_baseline(sqlite_store.get_model("router").id).feature_names == (
        "amount",
        "channel",
    )


def test_a_proposed_probability_column_can_be_kept_a_feature(sqlite_store):
    """A false match (count_a, count_b for classes a, b, c) goes back to being a feature with =numeric."""
    frame = router_frame()
    mapping = parse_mapping_pairs(
        [f"y_pred_proba_{c}=numeric" for c in CLASSES],
        preview_upload(to_csv_bytes(frame), "baseline", "b.csv").mapping,
    )
    assert mapping.class_probabilities == {}
    ingest_csv(sqlite_store, "router", "baseline", to_csv_bytes(frame), "b.csv", mapping)
    names = sqlite_store.active_baseline(sqlite_store.get_model("router").id).feature_names
    assert names == ("amount", "channel", *(f"y_pred_proba_{c}" for c in CLASSES))


# --------------------------------------------------------------------------- multiclass metrics from the aggregates


def _probabilities(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(0, 1, (n, k)) + 1.5 * np.eye(k)[y] * rng.uniform(0, 1)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, p.argmax(axis=1), p


@settings(max_examples=25, deadline=None)
@given(st.integers(60, 600), st.integers(3, 6), st.integers(0, 10_000))
def test_multiclass_metrics_equal_scikit_learns(n, k, seed):
    from sklearn.metrics import precision_recall_fscore_support, roc_auc_score

    from readiness.core.metrics import MulticlassAggregate, class_metrics, compute_metric

    classes = [f"c{i}" for i in range(k)]
    y, yhat, p = _probabilities(n, k, seed)
    labels, predictions = np.array(classes)[y], np.array(classes)[yhat]
    agg = MulticlassAggregate.from_arrays(labels, predictions, classes, p)
    present = sorted(set(labels) | set(predictions))
    for average, ours in (("macro", "macro_precision"), ("macro", "macro_recall")):
        i = 0 if ours == "macro_precision" else 1
        expected = precision_recall_fscore_support(
            labels, predictions, labels=present, average=average, zero_division=0
        )[i]
        assert compute_metric(ours, agg).value == pytest.approx(expected, abs=1e-12)
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predictions, labels=classes, average=None, zero_division=0
    )
    per_class = class_metrics(agg)
    for i, cm in enumerate(per_class):
        assert cm.support == support[i]
        assert (cm.precision.value or 0.0) == pytest.approx(precision[i], abs=1e-12)
        assert (cm.recall.value or 0.0) == pytest.approx(recall[i], abs=1e-12)
        assert (cm.f1.value or 0.0) == pytest.approx(f1[i], abs=1e-12)
    if len(set(labels)) == k and min(np.bincount(y, minlength=k)) >= 2:
        auc = compute_metric("roc_auc_ovr", agg)
        assert auc.value == pytest.approx(
            roc_auc_score(labels, p, multi_class="ovr", labels=classes), abs=2e-3
        )
        assert auc.lower <= auc.value <= auc.upper


def test_per_class_calibration_error_is_each_class_probability_against_its_rate():
    from readiness.core.metrics import CALIBRATION_EDGES, MulticlassAggregate, class_metrics, compute_metric

    y, yhat, p = _probabilities(3000, 3, 7)
    classes = ["a", "b", "c"]
    agg = MulticlassAggregate.from_arrays(np.array(classes)[y], np.array(classes)[yhat], classes, p)
    for c, cm in enumerate(class_metrics(agg)):
        bins = np.searchsorted(CALIBRATION_EDGES[1:-1], p[:, c])
        expected = sum(
            (bins == b).mean() * abs(p[bins == b, c].mean() - (y[bins == b] == c).mean())
            for b in range(10)
            if (bins == b).any()
        )
        assert cm.ece.value == pytest.approx(expected, abs=1e-12)
    macro = compute_metric("macro_ece", agg)
    assert macro.value == pytest.approx(np.mean([cm.ece.value for cm in class_metrics(agg)]))


def test_merging_windows_with_and_without_probabilities_keeps_every_count():
    from readiness.core.metrics import MulticlassAggregate, aggregate_from_dict, class_metrics, merge_all

    y, yhat, p = _probabilities(400, 3, 1)
    classes = ["a", "b", "c"]
    labels, predictions = np.array(classes)[y], np.array(classes)[yhat]
    with_p = MulticlassAggregate.from_arrays(labels[:200], predictions[:200], classes, p[:200])
    without = MulticlassAggregate.from_arrays(labels[200:], predictions[200:], classes)
    whole = MulticlassAggregate.from_arrays(
        labels, predictions, classes, np.vstack([p[:200], np.full((200, 3), np.nan)])
    )
    merged = merge_all([with_p, aggregate_from_dict(without.to_dict())])
    assert merged == whole == aggregate_from_dict(whole.to_dict())
    assert merged.n == 400 and merged.n_with_probabilities == 200
    assert [cm.support for cm in class_metrics(merged)] == list(np.bincount(y, minlength=3))


def test_a_multiclass_models_stored_windows_carry_the_probabilities_of_its_log(sqlite_store):
    from readiness.analysis.performance_overview import development_performance
    from readiness.core.metrics import compute_metric

    ingest_csv(sqlite_store, "router", "baseline", to_csv_bytes(router_frame(400)), "b.csv")
    live = router_frame(300, seed=2, live=True)
    ingest_csv(sqlite_store, "router", "live", to_csv_bytes(live), "l.csv")
    labels = pd.DataFrame(
        {"request_id": live["request_id"], "label": np.random.default_rng(3).choice(CLASSES, 300)}
    )
    ingest_csv(sqlite_store, "router", "labels", to_csv_bytes(labels), "y.csv")
    model = sqlite_store.get_model("router")
    baseline = sqlite_store.active_baseline(model.id)
    from readiness.storage.performance_store import day_records

    records = day_records(sqlite_store, baseline)
    assert sum(r.quality.n_with_probabilities for r in records) == 300
    assert (
        compute_metric("roc_auc_ovr", development_performance(sqlite_store, model, baseline).quality).value
        is not None
    )


# --------------------------------------------------------------------------- drift: outputs, never features


def _shifted(live: pd.DataFrame) -> pd.DataFrame:
    """The same rows with sharper probabilities (a model that became overconfident), features untouched."""
    columns = [f"y_pred_proba_{c}" for c in CLASSES]
    p = live[columns].to_numpy() ** 3
    p = (p / p.sum(axis=1, keepdims=True)).round(4)
    p[:, -1] = (1 - p[:, :-1].sum(axis=1)).round(4)
    return live.assign(**{c: p[:, i] for i, c in enumerate(columns)})


def test_probability_drift_is_output_drift_and_the_features_stay_steady(sqlite_store):
    from readiness.analysis.assessment import assess_model

    ingest_csv(sqlite_store, "router", "baseline", to_csv_bytes(router_frame(2000)), "b.csv")
    ingest_csv(
        sqlite_store, "router", "live", to_csv_bytes(_shifted(router_frame(3000, seed=2, live=True))), "l.csv"
    )
    assessment = assess_model(sqlite_store, sqlite_store.get_model("router"))
    assert assessment.drifted_features == ()
    assert "confidence" in assessment.drifted_outputs
    assert {f"proba:{c}" for c in CLASSES} & set(assessment.drifted_outputs)
    stable = assessment.result("score_distribution_stable")
    assert stable.status == "fail" and "confidence" in stable.reason


def test_probability_outputs_profiled_while_storing_equal_a_refresh_of_the_same_rows(tmp_path):
    from readiness.storage.profile_store import day_profiles

    base = to_csv_bytes(router_frame(500))
    live = router_frame(400, seed=2, live=True)
    stores = [Store.open(f"sqlite:///{tmp_path / name}.db") for name in ("upload", "service")]
    for store in stores:
        ingest_csv(store, "router", "baseline", base, "b.csv")
    ingest_csv(
        stores[0], "router", "live", to_csv_bytes(live), "l.csv"
    )  # profiled in the storing transaction
    columns = [f"y_pred_proba_{c}" for c in CLASSES]
    rows = [
        {
            "timestamp": r.ts,
            "request_id": r.request_id,
            "prediction": r.y_pred,
            "amount": r.amount,
            "channel": r.channel,
            "probabilities": {c: getattr(r, col) for c, col in zip(CLASSES, columns, strict=True)},
        }
        for r in live.itertuples()
    ]
    log_predictions(stores[1], "router", rows)  # stored, then refreshed
    profiles = []
    for store in stores:
        baseline = store.active_baseline(store.get_model("router").id)
        profiles.append([(day, profile.to_dict()) for day, profile in day_profiles(store, baseline)])
    assert profiles[0] == profiles[1]
    assert "confidence" in profiles[0][0][1]["columns"]
