"""Success criteria: parsing, task defaults, validation, storage with audit, and judging a window."""

from __future__ import annotations

import math

import pytest

from readiness import ModelSpec, ReadinessError, ingest_csv, log_predictions
from readiness.analysis.settings import (
    AuditEntry,
    add_criterion,
    audit_trail,
    model_criteria,
    remove_criterion,
)
from readiness.core.criteria import (
    DEFAULT_CRITERIA,
    OPERATIONS_METRICS,
    Criterion,
    check_criterion,
    evaluate_criterion,
    logged_defaults,
    parse_criterion,
)
from readiness.core.metrics import METRICS, MetricValue, metrics_for_task
from readiness.core.status import CriterionStatus
from readiness.errors import CriterionError
from readiness.storage.store import Store
from tests.factories import REGIONS, baseline_csv

POSITIVE = {"binary": "1", "multiclass": None, "regression": None}


def with_model(store: Store, name: str = "m", task: str = "binary") -> Store:
    ingest_csv(
        store,
        name,
        "baseline",
        baseline_csv(200, task=task),
        "b.csv",
        new_model=ModelSpec(task, POSITIVE[task]),
    )
    return store


@pytest.fixture
def memory_store() -> Store:
    """A binary model "m" in an in-memory SQLite store."""
    store = with_model(Store.open("sqlite:///:memory:"))
    yield store
    store.engine.dispose()


def actions(store: Store, name: str = "m") -> list[str]:
    return list(store.audit_entries(store.get_model(name))["action"])


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("recall >= 0.8", Criterion(None, "recall", ">=", 0.8, "week", 100)),
        ("latency_p95<=200", Criterion(None, "latency_p95", "<=", 200.0, "week", 0)),
        ("mae <= 12 per day", Criterion(None, "mae", "<=", 12.0, "day", 100)),
        ("recall >= 0.8 weekly min 200", Criterion(None, "recall", ">=", 0.8, "week", 200)),
        ("Recall >= .8 monthly, with at least 50 labels", Criterion(None, "recall", ">=", 0.8, "month", 50)),
        ("latency_p99 <= 1e3 ms daily", Criterion(None, "latency_p99", "<=", 1000.0, "day", 0)),
        (
            "volume >= 500 predictions per day, at least 10 predictions",
            Criterion(None, "volume", ">=", 500.0, "day", 10),
        ),
        ("roc_auc => 0.7 per weeks min 0", Criterion(None, "roc_auc", ">=", 0.7, "week", 0)),
        ("  r2 >= 0.5  ", Criterion(None, "r2", ">=", 0.5, "week", 100)),
    ],
)
def test_parse_reads_the_documented_forms(text, expected):
    assert parse_criterion(text) == expected


def test_parse_uses_window_and_min_labels_only_when_the_text_is_silent():
    assert parse_criterion("recall >= 0.8", window="month", min_labels=5) == Criterion(
        None, "recall", ">=", 0.8, "month", 5
    )
    assert parse_criterion("recall >= 0.8 per day min 7", window="month", min_labels=5) == Criterion(
        None, "recall", ">=", 0.8, "day", 7
    )


@pytest.mark.parametrize("metric", list(METRICS))
def test_text_reads_back_to_the_same_criterion(metric):
    spec = METRICS[metric]
    threshold = 0.25 if metric != "volume" else 300.0
    criterion = Criterion(None, metric, ">=" if spec.direction == "higher" else "<=", threshold, "month", 42)
    assert parse_criterion(criterion.text) == criterion


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("", ["start with a metric name", "recall >= 0.8"]),
        (">= 0.8", ["start with a metric name"]),
        ("recal >= 0.8", ["Unknown metric 'recal'", "Did you mean 'recall'", "roc_auc"]),
        ("recall > 0.8", ["'>'", "'>=' or '<='"]),
        ("recall 0.8", ["'0.8' where the comparison goes"]),
        ("recall >= high", ["'high', not a number"]),
        ("recall >= nan", ["'nan', not a number"]),
        ("recall >= 0.8 per hour", ["Unknown window 'hour'", "day, week, month"]),
        ("recall >= 0.8 fortnightly", ["Cannot read 'fortnightly'", "per day|week|month"]),
        ("recall >= 0.8 min many", ["'many', not a whole number", "min 200"]),
        ("recall >= 0.8 min -3", ["-3", "from 0 to 1,000,000,000"]),
        ("recall <= 0.9", ["higher-is-better", "recall >= 0.90"]),
        ("mae >= 3", ["lower-is-better", "mae <= 3"]),
        ("recall >= 80", ["between 0 and 1", "write 0.8"]),
        ("mae <= -1", ["at least 0"]),
        ("r2 >= 1.5", ["at most 1"]),
    ],
)
def test_parse_errors_name_the_bad_part_and_show_a_fix(text, fragments):
    with pytest.raises(CriterionError) as caught:
        parse_criterion(text)
    assert isinstance(caught.value, ReadinessError)
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_text_says_labels_for_quality_and_predictions_for_operations():
    assert (
        Criterion(None, "recall", ">=", 0.8, "week", 200).text
        == "recall >= 0.80 per week, with at least 200 labels"
    )
    assert (
        Criterion(None, "latency_p95", "<=", 500.0, "day", 20).text
        == "latency_p95 <= 500 ms per day, with at least 20 predictions"
    )
    assert Criterion(None, "invalid_rate", "<=", 0.01, "week", 0).text == "invalid_rate <= 0.01 per week"


def test_passes_follows_the_comparison_and_nan_never_passes():
    at_least = Criterion(None, "recall", ">=", 0.8)
    at_most = Criterion(None, "mae", "<=", 10.0)
    assert at_least.passes(0.8) and not at_least.passes(0.79)
    assert at_most.passes(10.0) and not at_most.passes(10.5)
    assert not at_least.passes(math.nan) and not at_most.passes(math.nan)


# --------------------------------------------------------------------------- defaults


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_defaults_are_valid_for_their_task_and_cover_operations(task):
    defaults = DEFAULT_CRITERIA[task]
    assert 3 <= len(defaults) <= 5
    for criterion in defaults:
        assert criterion.is_default and criterion.id is None
        assert check_criterion(criterion, task) is criterion
    metrics = {c.metric for c in defaults}
    assert {"latency_p95", "invalid_rate"} <= metrics
    assert metrics - set(OPERATIONS_METRICS), "every task has a quality criterion"
    for criterion in defaults:
        assert criterion.min_labels == (0 if criterion.metric in OPERATIONS_METRICS else 100)


def test_operations_metrics_come_from_the_registry():
    assert set(OPERATIONS_METRICS) == {"latency_p50", "latency_p95", "latency_p99", "volume", "invalid_rate"}


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_a_new_model_uses_its_task_defaults_for_what_it_logs(sqlite_store, task):
    with_model(sqlite_store, "new", task)
    model = sqlite_store.get_model("new")
    without_latency = tuple(c for c in DEFAULT_CRITERIA[task] if c.metric != "latency_p95")
    assert model_criteria(sqlite_store, model) == without_latency  # nothing logged with a latency yet
    log_predictions(sqlite_store, "new", [_timed_row(task)])
    assert model_criteria(sqlite_store, model) == DEFAULT_CRITERIA[task]


def _timed_row(task: str) -> dict:
    prediction = {"binary": 1, "multiclass": "cat", "regression": 12.0}[task]
    row = {"timestamp": "2026-11-02T10:00:00Z", "prediction": prediction, "latency_ms": 40.0}
    return {
        **row,
        "amount": 12.5,
        "age": 40,
        "region": REGIONS[0],
        **({"score": 0.9} if task == "binary" else {}),
    }


def test_defaults_include_accuracy_for_binary_models():
    assert [c.metric for c in DEFAULT_CRITERIA["binary"]][:2] == ["roc_auc", "accuracy"]


def test_model_criteria_of_an_unknown_model_names_the_known_ones(memory_store):
    with pytest.raises(ReadinessError, match=r"No model named 'nope'. Known models: m"):
        model_criteria(memory_store, memory_store.get_model("nope"))


# --------------------------------------------------------------------------- store


def test_add_replace_and_remove_are_audited(store):
    with_model(store)
    model = store.get_model("m")
    added = add_criterion(store, model, parse_criterion("recall >= 0.8 min 200"), actor="ana")
    assert added == Criterion(added.id, "recall", ">=", 0.8, "week", 200) and added.id is not None
    assert model_criteria(store, model) == (added,), "the defaults stop applying; they are not copied"

    fpr = add_criterion(store, model, parse_criterion("false_positive_rate <= 0.05 daily"), actor="ana")
    replaced = add_criterion(store, model, parse_criterion("recall >= 0.85 min 300"), actor="bo")
    assert model_criteria(store, model) == (fpr, replaced)
    assert replaced.id != added.id and replaced.threshold == 0.85

    entries = store.audit_entries(model)
    assert list(entries["action"][:4]) == [
        "criterion.add",
        "criterion.remove",
        "criterion.add",
        "criterion.add",
    ]
    assert entries["detail"][1]["reason"] == "replaced" and entries["detail"][1]["id"] == added.id
    assert list(entries["actor"][:2]) == ["bo", "bo"]

    removed = remove_criterion(store, model, fpr.id, actor="cy")
    assert removed == fpr
    assert model_criteria(store, model) == (replaced,)
    assert actions(store)[0] == "criterion.remove"
    assert store.audit_entries(model)["detail"][0]["reason"] == "removed"

    remove_criterion(store, model, replaced.id)
    assert model_criteria(store, model) == logged_defaults(DEFAULT_CRITERIA["binary"], 0), "back on defaults"


def test_same_metric_in_another_window_is_kept_beside(store):
    with_model(store)
    model = store.get_model("m")
    weekly = add_criterion(store, model, parse_criterion("recall >= 0.8 weekly"))
    daily = add_criterion(store, model, parse_criterion("recall >= 0.7 daily"))
    assert model_criteria(store, model) == (weekly, daily)


def test_criteria_belong_to_one_model(store):
    with_model(store, "a")
    with_model(store, "b")
    mine = add_criterion(store, store.get_model("a"), parse_criterion("recall >= 0.8"))
    assert model_criteria(store, store.get_model("b")) == logged_defaults(DEFAULT_CRITERIA["binary"], 0)
    with pytest.raises(CriterionError, match="Model 'b' has no stored criteria"):
        remove_criterion(store, store.get_model("b"), mine.id)
    assert model_criteria(store, store.get_model("a")) == (mine,)


def test_remove_unknown_id_names_the_valid_ones(store):
    with_model(store)
    model = store.get_model("m")
    kept = add_criterion(store, model, parse_criterion("recall >= 0.8"))
    before = actions(store)
    with pytest.raises(CriterionError) as caught:
        remove_criterion(store, model, kept.id + 100)
    message = str(caught.value)
    assert f"no criterion with id {kept.id + 100}" in message and f"{kept.id}: recall >= 0.80" in message
    assert actions(store) == before


def test_remove_on_defaults_explains_there_is_nothing_stored(memory_store):
    with pytest.raises(CriterionError, match="uses the binary task defaults"):
        remove_criterion(memory_store, memory_store.get_model("m"), 1)


@pytest.mark.parametrize(
    ("criterion", "fragments"),
    [
        (Criterion(None, "recal", ">=", 0.8), ["Unknown metric 'recal'", "Did you mean 'recall'"]),
        (Criterion(None, "r2", ">=", 0.5), ["'r2' does not apply to a binary model", "roc_auc", "recall"]),
        (Criterion(None, "recall", "<=", 0.9), ["higher-is-better", "use 'recall >= 0.90'"]),
        (Criterion(None, "recall", ">", 0.9), ["Comparison '>' is not supported"]),
        (Criterion(None, "recall", ">=", 0.8, "hour"), ["Unknown window 'hour'", "day, week, month"]),
        (Criterion(None, "recall", ">=", 0.8, "week", -1), ["-1", "from 0 to 1,000,000,000"]),
        (Criterion(None, "recall", ">=", 0.8, "week", 2.5), ["2.5", "whole number"]),
        (Criterion(None, "recall", ">=", math.inf), ["inf", "finite"]),
        (Criterion(None, "recall", ">=", None), ["threshold for recall is missing"]),
        (Criterion(None, "recall", ">=", "0.8"), ["'0.8', not a number"]),
        (Criterion(None, "recall", ">=", 1.2), ["between 0 and 1"]),
    ],
)
def test_add_refuses_invalid_criteria_and_stores_nothing(memory_store, criterion, fragments):
    model = memory_store.get_model("m")
    before = actions(memory_store)
    with pytest.raises(CriterionError) as caught:
        add_criterion(memory_store, model, criterion)
    for fragment in fragments:
        assert fragment in str(caught.value)
    assert model_criteria(memory_store, model) == logged_defaults(DEFAULT_CRITERIA["binary"], 0)
    assert actions(memory_store) == before


def test_metrics_of_other_tasks_fit_their_own_models(sqlite_store):
    with_model(sqlite_store, "reg", "regression")
    with_model(sqlite_store, "multi", "multiclass")
    regression, multiclass = sqlite_store.get_model("reg"), sqlite_store.get_model("multi")
    assert add_criterion(sqlite_store, regression, parse_criterion("mae <= 12 per day")).metric == "mae"
    assert add_criterion(sqlite_store, multiclass, parse_criterion("macro_f1 >= 0.6")).metric == "macro_f1"
    with pytest.raises(
        CriterionError, match=r"'recall' does not apply to a regression model. Choose one of: mae"
    ):
        add_criterion(sqlite_store, regression, parse_criterion("recall >= 0.8"))


def test_records_for_the_settings_page(memory_store):
    """What the Settings page builds its tables from: the criteria records and the audit trail's entries."""
    model = memory_store.get_model("m")
    defaults = model_criteria(memory_store, model)
    assert len(defaults) == 4 and all(
        c.is_default and c.id is None for c in defaults
    )  # each a "task default"
    added = add_criterion(memory_store, model, parse_criterion("recall >= 0.8"), actor="ana")
    (stored,) = model_criteria(memory_store, model)
    assert stored.id == added.id and stored.text == added.text and not stored.is_default  # "stored"
    remove_criterion(memory_store, model, added.id, actor="ana")
    trail = audit_trail(memory_store, model)
    assert all(isinstance(entry, AuditEntry) for entry in trail)
    assert [entry.action for entry in trail[:2]] == ["criterion.remove", "criterion.add"]
    assert [entry.details for entry in trail[:2]] == [f"{added.text} (removed)", added.text]
    assert trail[0].actor == "ana"
    assert [entry.at for entry in trail] == sorted(
        (entry.at for entry in trail), reverse=True
    )  # newest first


# --------------------------------------------------------------------------- evaluation


RECALL = Criterion(7, "recall", ">=", 0.8, "week", 200)


def value(
    name: str, v: float | None, lower: float | None = None, upper: float | None = None, note: str = ""
) -> MetricValue:
    return MetricValue(name, v, lower, upper, 100, "test", note)


def test_evaluate_pass_and_fail():
    passed = evaluate_criterion(RECALL, value("recall", 0.9, 0.85, 0.94), 400)
    assert (passed.status, passed.value, passed.lower, passed.upper, passed.n) == (
        CriterionStatus.PASS,
        0.9,
        0.85,
        0.94,
        400,
    )
    assert passed.criterion is RECALL and "meets" in passed.reason
    failed = evaluate_criterion(RECALL, value("recall", 0.7, 0.6, 0.78), 400)
    assert failed.status == CriterionStatus.FAIL and "misses" in failed.reason
    lower_better = evaluate_criterion(Criterion(None, "mae", "<=", 10.0), value("mae", 12.0), 50)
    assert lower_better.status == CriterionStatus.FAIL


def test_evaluate_mentions_an_interval_that_straddles_the_threshold():
    result = evaluate_criterion(RECALL, value("recall", 0.82, 0.7, 0.9), 400)
    assert result.status == CriterionStatus.PASS and "interval includes the threshold" in result.reason


def test_evaluate_without_a_value_is_insufficient_data():
    result = evaluate_criterion(RECALL, value("recall", None, note="insufficient data: no positives"), 1000)
    assert result.status == CriterionStatus.INSUFFICIENT and result.value is None
    assert "no positives" in result.reason


def test_too_few_labels_is_never_a_pass():
    result = evaluate_criterion(RECALL, value("recall", 0.99, 0.9, 1.0), 199)
    assert result.status == CriterionStatus.INSUFFICIENT
    assert result.value == 0.99 and result.n == 199
    assert "only 199 labels" in result.reason and "at least 200" in result.reason
    assert evaluate_criterion(RECALL, value("recall", 0.99), 200).status == CriterionStatus.PASS


def test_operations_minimum_counts_predictions():
    latency = Criterion(None, "latency_p95", "<=", 500.0, "day", 50)
    assert evaluate_criterion(latency, value("latency_p95", 120.0), 60).status == CriterionStatus.PASS
    few = evaluate_criterion(latency, value("latency_p95", 120.0), 10)
    assert few.status == CriterionStatus.INSUFFICIENT and "only 10 predictions" in few.reason
    no_minimum = DEFAULT_CRITERIA["binary"][-2]
    assert no_minimum.metric == "latency_p95"
    assert evaluate_criterion(no_minimum, value("latency_p95", 800.0), 0).status == CriterionStatus.FAIL


def test_evaluate_refuses_a_value_of_another_metric():
    with pytest.raises(ValueError, match="'recall' evaluated with a 'precision' value"):
        evaluate_criterion(RECALL, value("precision", 0.9), 400)


def test_every_registered_metric_can_have_a_criterion_for_its_tasks():
    for task in ("binary", "multiclass", "regression"):
        for metric in metrics_for_task(task):
            better = ">=" if METRICS[metric].direction == "higher" else "<="
            check_criterion(Criterion(None, metric, better, 0.5), task)
