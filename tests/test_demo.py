"""The seeded demo: models, volumes, determinism, the fraud drift story, the ticket router's class
probabilities, late labels, samples."""

from __future__ import annotations

import itertools
import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score
from sqlalchemy import select

from readiness import ingest_csv, preview_upload
from readiness.analysis.demo import (
    DRIFT_RAMP_DAYS,
    DRIFT_START_DAY,
    STEPS_PER_MODEL,
    TICKET_CLASSES,
    DemoModel,
    SeedStep,
    build_fraud,
    build_ticket_router,
    demo_is_needed,
    demo_window,
    seed_demo,
    seed_steps,
    write_samples,
)
from readiness.errors import ModelConfigError
from readiness.storage import schema as t
from readiness.storage.label_blocks import new_per_model
from readiness.storage.log_blocks import block_totals
from readiness.storage.samples import raw_rows
from readiness.storage.store import Store

TODAY = date(2026, 11, 15)  # the shared demo's date and scale (tests/conftest.py: DEMO_TODAY, DEMO_SCALE)
SCALE = 0.4
TINY = 0.03  # for the tests that seed a demo themselves
SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"


@pytest.fixture(scope="module")
def seeded(demo_path) -> Store:
    """The shared demo (seed 7, scale 0.4, as of 2026-11-15): these tests only read it."""
    store = Store.open(f"sqlite:///{demo_path}")
    yield store
    store.engine.dispose()


@pytest.fixture(scope="module")
def tiny_fraud() -> DemoModel:
    """The fraud model built in memory at a tiny scale (nothing stored)."""
    return build_fraud(seed=7, today=TODAY, scale=TINY)


def baseline_of(store: Store, name: str) -> pd.DataFrame:
    return store.read_baseline(store.active_baseline(store.get_model(name).id))


def log_of(store: Store, name: str) -> pd.DataFrame:
    return store.read_predictions(store.get_model(name))


@pytest.fixture(scope="module")
def logs(seeded: Store) -> dict[str, pd.DataFrame]:
    """Each model's log with delayed labels joined and the log week (0 = first 7 days)."""
    start = demo_window(TODAY).start
    frames = {}
    for name in ("fraud", "credit", "demand", "ticket-router"):
        log = log_of(seeded, name)
        day = (log["timestamp"] - pd.Timestamp(start)).dt.total_seconds() / 86_400
        frames[name] = log.assign(day=day, week=(day // 7).astype(int))
    return frames


def criteria_of(store: Store, name: str) -> dict[str, tuple[str, float, int]]:
    model = store.get_model(name)
    c = t.criteria.c
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(c.metric, c.comparison, c.threshold, c.min_labels).where(c.model_id == model.id)
        )
        return {r.metric: (r.comparison, r.threshold, r.min_labels) for r in rows}


def n_labels(store: Store, model_id: int | None = None) -> int:
    """Delayed labels stored, as rows or as blocks (the demo stores them as a label upload does)."""
    models = [model_id] if model_id is not None else [m.id for m in store.list_models()]
    with store.engine.connect() as conn:
        in_blocks = sum(new_per_model(conn, models).values())
    return store.count_rows("labels", model_id) + in_blocks


def label_delays(store: Store, name: str) -> pd.DataFrame:
    """Each delayed label of the model with its prediction's time and how many days later it arrived."""
    model = store.get_model(name)
    labels = store.all_delayed_labels(model.id)
    assert labels is not None
    labels = labels.reset_index()[["request_id", "received_at"]]
    times = log_of(store, name)[["request_id", "timestamp"]]
    frame = labels.merge(times, on="request_id", how="inner", validate="one_to_one")
    assert len(frame) == len(labels)  # every label has its prediction
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    return frame.assign(days=(frame["received_at"] - frame["timestamp"]).dt.total_seconds() / 86_400)


def weekly_binary(log: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for week, g in log[log["label"].notna()].groupby("week"):
        y, p = g["label"] == "1", g["prediction"] == "1"
        rows.append(
            {
                "week": week,
                "n": len(g),
                "positives": int(y.sum()),
                "recall": recall_score(y, p, zero_division=0.0),
                "precision": precision_score(y, p, zero_division=0.0),
                "fpr": float(p[~y].mean()),
                "auc": roc_auc_score(y, g["score"]) if y.nunique() == 2 else np.nan,
            }
        )
    return pd.DataFrame(rows).set_index("week")


# -- models and volume --------------------------------------------------------------------


def test_four_models_with_their_tasks_owners_and_baselines(seeded):
    store = seeded
    models = {m.name: m for m in store.list_models()}
    assert {n: (m.task, m.positive_class, m.owner) for n, m in models.items()} == {
        "credit": ("binary", "1", "Lending Analytics"),
        "demand": ("regression", None, "Supply Chain"),
        "fraud": ("binary", "1", "Payments Risk"),
        "ticket-router": ("multiclass", None, "Customer Support"),
    }
    for stats in store.model_stats():
        assert stats.baseline_rows == 5_000
    fraud_baseline = baseline_of(store, "fraud")
    assert {"device_trust", "merchant_category", "prediction", "score", "label"} <= set(
        fraud_baseline.columns
    )
    assert 0.01 < (fraud_baseline["label"] == "1").mean() < 0.03
    assert store.active_baseline(models["demand"].id).classes == ()
    router = store.active_baseline(models["ticket-router"].id)
    assert router.classes == TICKET_CLASSES == ("account", "billing", "shipping", "technical")
    assert "probabilities" in baseline_of(store, "ticket-router").columns  # outputs, never features
    assert not {"probabilities", "score", *(f"proba:{c}" for c in TICKET_CLASSES)} & set(router.feature_names)


def test_volume_and_summary_match_the_store(seeded, demo_summary, tiny_fraud):
    # about 2,400 predictions a day over 90 days at full scale: over 200,000
    summary = demo_summary  # what seeding the shared demo reported
    assert summary.n_predictions >= 200_000 * SCALE
    assert (summary.start, summary.end) == (demo_window(TODAY).start, demo_window(TODAY).now)
    assert summary.n_predictions == seeded.count_predictions()
    assert summary.n_labels == n_labels(seeded)
    for m in summary.models:
        model = seeded.get_model(m.name)
        assert m.n_predictions == seeded.count_predictions(model.id)
        assert m.n_labels == n_labels(seeded, model.id)
    assert len(summary.lines()) == 5  # one per model and the total
    # the volume scales with ``scale``
    fraud = next(m for m in summary.models if m.name == "fraud")
    assert len(tiny_fraud.log) == pytest.approx(fraud.n_predictions * TINY / SCALE, rel=0.1)


def test_log_covers_the_90_days_up_to_today_with_a_daily_pattern(logs):
    for name, log in logs.items():
        assert log["timestamp"].min() >= pd.Timestamp(TODAY - timedelta(days=90))
        assert log["timestamp"].max() < pd.Timestamp(TODAY)
        assert log["request_id"].is_unique
        assert log["request_id"].str.startswith(f"{name}-").all()
        assert log["model_version"].notna().all()
    hourly = logs["fraud"]["timestamp"].dt.hour.value_counts()
    assert hourly[14] > 4 * hourly[3]  # afternoon traffic far above the small hours


def test_latencies_are_realistic(seeded, logs):
    store = seeded
    for name, log in logs.items():
        median, p95 = np.percentile(log["latency_ms"], [50, 95])
        assert 40 <= median <= 80, name
        assert p95 < 200, name
        assert log["latency_ms"].max() > 2 * p95  # a long right tail
    assert criteria_of(store, "demand")["latency_p95"][:2] == ("<=", 200.0)


def test_seeding_is_deterministic_for_a_seed_and_date(seeded, tiny_fraud):
    """The same seed, date and scale give the same rows; what a seed stores is what the builder makes."""
    again = build_fraud(seed=7, today=TODAY, scale=TINY)
    pd.testing.assert_frame_equal(tiny_fraud.baseline, again.baseline)
    pd.testing.assert_frame_equal(tiny_fraud.log, again.log)
    pd.testing.assert_frame_equal(tiny_fraud.labels, again.labels)
    stored = log_of(seeded, "fraud").head(50)  # the shared demo: seed 7 at SCALE
    built = build_fraud(seed=7, today=TODAY, scale=SCALE).log["score"].head(50)
    assert np.allclose(stored["score"].to_numpy(dtype=float), built.to_numpy(dtype=float))
    other = build_fraud(seed=8, today=TODAY, scale=TINY).log["score"].head(50)
    assert not np.array_equal(other.to_numpy(), tiny_fraud.log["score"].head(50).to_numpy())


def test_seeding_refuses_a_store_that_has_the_demo_models(demo_store):
    assert not demo_is_needed(demo_store)
    before = demo_store.count_predictions()
    with pytest.raises(ModelConfigError, match="already has model"):
        seed_demo(demo_store, today=TODAY, scale=0.01)
    assert demo_store.count_predictions() == before


# -- the fraud drift story ----------------------------------------------------------------


def test_fraud_device_trust_shifts_from_week_6(seeded, logs):
    store = seeded
    log = logs["fraud"]
    before = log.loc[log["day"] < DRIFT_START_DAY, "device_trust"]
    after = log.loc[log["day"] >= DRIFT_START_DAY + DRIFT_RAMP_DAYS, "device_trust"]
    baseline = baseline_of(store, "fraud")["device_trust"]
    assert abs(before.mean() - baseline.mean()) < 0.02
    assert after.mean() - before.mean() > 0.08
    assert (after.mean() - before.mean()) / before.std() > 0.4
    for other in ("amount", "account_age_days"):  # only device_trust drifts
        pre, post = (
            log.loc[log["day"] < DRIFT_START_DAY, other],
            log.loc[log["day"] >= DRIFT_START_DAY, other],
        )
        assert abs(post.median() - pre.median()) / pre.median() < 0.1


def test_fraud_recall_meets_its_criterion_before_week_6_and_fails_after(seeded, logs):
    store = seeded
    criteria = criteria_of(store, "fraud")
    comparison, recall_floor, min_labels = criteria["recall"]
    assert (comparison, recall_floor) == (">=", 0.75)
    assert criteria["false_positive_rate"][:2] == ("<=", 0.05)
    weekly = weekly_binary(logs["fraud"])
    healthy, drifted = weekly.loc[:4], weekly.loc[6:]
    drifted = drifted[drifted["positives"] >= 40]  # the last weeks wait for chargebacks
    assert (healthy["n"] >= min_labels).all()
    assert (healthy["recall"] >= 0.8).all(), healthy
    assert len(drifted) >= 5
    assert (drifted["recall"] < recall_floor).all(), drifted
    assert drifted["recall"].mean() < 0.6
    assert (weekly["fpr"] <= criteria["false_positive_rate"][1]).all()


# -- credit: steady; demand: weekly seasonality -------------------------------------------


def test_credit_stays_healthy_with_a_challenger_in_the_last_30_days(seeded, logs):
    store = seeded
    log = logs["credit"]
    criteria = criteria_of(store, "credit")
    champion = weekly_binary(log[log["model_version"] == "2.3.0"])
    champion = champion[champion["n"] >= criteria["roc_auc"][2]]
    assert len(champion) >= 9
    assert (champion["auc"] >= criteria["roc_auc"][1]).all()
    assert (champion["precision"] >= criteria["precision"][1]).all()
    assert champion["recall"].max() - champion["recall"].min() < 0.15
    assert 0.08 < (log["label"] == "1").sum() / log["label"].notna().sum() < 0.16
    challenger = log["model_version"] == "2.4.0-rc1"
    assert not challenger[log["day"] < 60].any()
    assert 0.17 < challenger[log["day"] >= 60].mean() < 0.23


def test_demand_has_weekly_seasonality_and_meets_its_mae(seeded, logs):
    store = seeded
    log = logs["demand"]
    weekday = log["timestamp"].dt.day_of_week
    assert (log["day_of_week"] == weekday).all()
    by_day = log["label"].astype(float).groupby(weekday).mean()
    assert by_day[5] > 1.4 * by_day[1]  # Saturday well above Tuesday
    assert log["prediction"].astype(float).groupby(weekday).mean().idxmax() == 5
    comparison, mae_limit, _ = criteria_of(store, "demand")["mae"]
    labelled = log[log["label"].notna()]
    error = (labelled["prediction"].astype(float) - labelled["label"].astype(float)).abs()
    weekly_mae = error.groupby(labelled["week"]).mean()
    assert comparison == "<=" and (weekly_mae <= mae_limit).all()


# -- ticket-router: multiclass, class probabilities, healthy ------------------------------


def probabilities_of(frame: pd.DataFrame) -> pd.DataFrame:
    """The stored JSON class probabilities as one column per class."""
    return pd.DataFrame([json.loads(text) for text in frame["probabilities"]], index=frame.index)


def stored_outputs(store: Store, name: str) -> pd.DataFrame:
    """A model's logged predictions with their class probabilities' JSON, oldest first."""
    window = demo_window(TODAY)
    rows = raw_rows(store, store.get_model(name).id, window.start, window.now)
    rows = rows.sort_values("timestamp", kind="stable").reset_index(drop=True)
    return rows[["prediction", "probabilities"]]


def test_ticket_router_logs_each_class_probability_adding_up_to_one_with_the_top_class_predicted(
    seeded, logs
):
    for frame in (baseline_of(seeded, "ticket-router"), stored_outputs(seeded, "ticket-router")):
        proba = probabilities_of(frame)
        assert list(proba.columns) == list(TICKET_CLASSES) and proba.notna().all().all()
        assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-3) and ((proba >= 0) & (proba <= 1)).all().all()
        assert (proba.idxmax(axis=1) == frame["prediction"]).all()
        assert set(frame["prediction"]) == set(TICKET_CLASSES)
    assert set(logs["ticket-router"]["model_version"]) == {"1.2.0"}


def test_ticket_router_meets_its_criteria_every_week_with_a_steady_ticket_mix(seeded, logs):
    criteria = criteria_of(seeded, "ticket-router")
    assert criteria == {"macro_f1": (">=", 0.72, 200), "accuracy": (">=", 0.75, 200)}
    log = logs["ticket-router"]
    labelled = log[log["label"].notna()]
    weekly = pd.DataFrame(
        {
            "n": labelled.groupby("week").size(),
            "macro_f1": labelled.groupby("week").apply(
                lambda g: f1_score(g["label"], g["prediction"], average="macro")
            ),
            "accuracy": labelled.groupby("week").apply(lambda g: accuracy_score(g["label"], g["prediction"])),
        }
    )
    judged = weekly[weekly["n"] >= 200]
    assert len(judged) >= 12  # every week but the last, whose labels are still arriving
    assert (judged["macro_f1"] >= criteria["macro_f1"][1] + 0.04).all(), judged
    assert (judged["accuracy"] >= criteria["accuracy"][1] + 0.04).all(), judged
    baseline = baseline_of(seeded, "ticket-router")
    base_share = baseline["label"].value_counts(normalize=True)
    live_share = labelled.groupby("week")["label"].value_counts(normalize=True).unstack()
    assert (live_share.sub(base_share).abs().max() < 0.06).all()  # no queue grows or shrinks
    for column in ("message_words", "account_age_days"):
        assert abs(log[column].median() / baseline[column].median() - 1) < 0.1


def test_ticket_router_is_deterministic_and_small(tiny_fraud):
    one, two = (build_ticket_router(seed=7, today=TODAY, scale=TINY) for _ in range(2))
    pd.testing.assert_frame_equal(one.log, two.log)
    pd.testing.assert_frame_equal(one.labels, two.labels)
    assert len(one.log) < len(tiny_fraud.log) / 4  # the smallest log: seeding stays quick


# -- delayed labels -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "low", "high", "coverage"),
    [
        ("fraud", 2.0, 20.0, (0.7, 0.9)),
        ("credit", 14.0, 30.0, (0.3, 0.7)),
        ("demand", 1.0, 1.25, (0.95, 1.0)),
        ("ticket-router", 1.0, 10.0, (0.75, 0.85)),
    ],
)
def test_labels_arrive_late_and_only_by_today(seeded, logs, name, low, high, coverage):
    store = seeded
    delays = label_delays(store, name)
    assert (delays["received_at"] > delays["timestamp"]).all()
    assert delays["days"].min() >= low and delays["days"].max() <= high
    assert delays["received_at"].max() <= pd.Timestamp(TODAY)
    log = logs[name]
    share = log["label"].notna().mean()
    assert coverage[0] < share < coverage[1]
    assert log.loc[log["day"] >= 89, "label"].notna().sum() == 0  # nothing has arrived yet for yesterday
    model = store.get_model(name)
    with store.engine.connect() as conn:
        inline = conn.execute(
            select(t.predictions.c.id)
            .where(t.predictions.c.model_id == model.id, t.predictions.c.label.is_not(None))
            .limit(1)
        ).first()
        in_blocks = block_totals(conn).get(model.id)
    # labels come through the labels table only
    assert inline is None and (in_blocks is None or in_blocks.n_labelled == 0)


# -- sample CSVs --------------------------------------------------------------------------


def test_sample_csvs_ingest_cleanly_with_the_proposed_mapping(tmp_path):
    paths = write_samples(tmp_path)
    assert [p.name for p in paths] == ["loan_baseline.csv", "loan_live.csv", "loan_labels.csv"]
    for path in paths:  # the committed samples are what write_samples makes
        assert (SAMPLES / path.name).read_bytes() == path.read_bytes(), path.name
    store = Store.open(f"sqlite:///{tmp_path / 'samples.db'}")
    results = {}
    for path, kind in zip(paths, ("baseline", "live", "labels"), strict=True):
        preview = preview_upload(path.read_bytes(), kind, path.name)
        assert preview.mapping.roles, kind
        results[kind] = ingest_csv(store, "loan", kind, path.read_bytes(), path.name, mapping=preview.mapping)
    assert preview_upload(paths[1].read_bytes(), "live", paths[1].name).table.delimiter == ";"
    assert results["baseline"].created_model and results["baseline"].rows_added == 400
    assert store.get_model("loan").task == "binary" and store.get_model("loan").positive_class == "1"
    assert results["live"].rows_added == 300
    assert results["labels"].rows_added == 200 and results["labels"].labels_unmatched == 0
    log = log_of(store, "loan")
    assert log["label"].notna().sum() == 200
    assert set(log["model_version"]) == {"2.3.0"} and log["latency_ms"].notna().all()


def test_seeding_says_each_step_as_it_goes(tmp_path):
    """The CLI and the app's first start show these steps, numbered, while the demo is seeded."""
    heard: list[SeedStep] = []
    store = Store.open(f"sqlite:///{tmp_path / 'steps.db'}")
    summary = seed_demo(store, today=TODAY, scale=0.01, progress=heard.append)
    assert [step.number for step in heard] == list(range(seed_steps() + 1))
    assert {step.total for step in heard} == {seed_steps()} == {21}
    assert [step.done for step in heard] == [False] * seed_steps() + [True]
    texts = [step.text for step in heard]
    assert texts[0] == "Seeding the demo: 4 models, 90 days of logs" and texts[-1] == "Demo seeded"
    for seeded_model in summary.models:
        name = seeded_model.name
        assert f"{name}: generating the baseline and 90 days of predictions" in texts
        assert (
            f"{name} ({seeded_model.task}): storing {seeded_model.n_predictions:,} predictions and "
            in " ".join(texts)
        )
        assert texts.index(f"{name}: profiling its log for the Drift and Performance pages") < texts.index(
            f"{name}: recording a weekly score history"
        )
    # one model after the other: each is stored, refreshed and given its history before the next is generated
    starts = [
        texts.index(f"{m.name}: generating the baseline and 90 days of predictions") for m in summary.models
    ]
    assert starts == sorted(starts) and all(b - a == STEPS_PER_MODEL for a, b in itertools.pairwise(starts))


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory) -> Store:
    """A demo seeded at a small scale for the tests that rebuild its aggregates (each drops only its own)."""
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('small') / 'demo.db'}")
    seed_demo(store, today=TODAY, scale=0.05)
    yield store
    store.engine.dispose()


def test_the_demo_profiles_its_logs_as_a_refresh_from_the_stored_rows_would(small_demo):
    """The seed profiles each log while storing it; dropping those profiles and refreshing rebuilds the same ones."""
    from factories import same

    from readiness.storage.profile_store import refresh_profiles

    store = small_demo

    def profiles() -> list[dict]:
        with store.engine.connect() as conn:
            rows = conn.execute(select(t.profiles).order_by(t.profiles.c.model_id, t.profiles.c.window_start))
            return [{k: v for k, v in row._mapping.items() if k != "id"} for row in rows]

    seeded = profiles()
    assert seeded and sum(p["n_rows"] for p in seeded) == store.count_predictions()
    with store.begin() as conn:
        conn.execute(t.profiles.delete())
        conn.execute(t.profile_state.delete())
    for model in store.list_models():
        refresh_profiles(store, model)
    same(profiles(), seeded, "profiles")


def test_the_demo_aggregates_performance_as_a_refresh_from_the_stored_rows_would(small_demo):
    """The seed computes each log's day records (labels joined) and fits its estimator while storing it;
    dropping them and refreshing rebuilds the same ones, and a refresh right after the seed finds nothing to do."""
    from factories import same

    from readiness.storage.performance_store import refresh_performance

    store = small_demo

    def stored() -> tuple[list[dict], list[dict]]:
        w, s = t.perf_windows, t.perf_state
        with store.engine.connect() as conn:
            windows = conn.execute(select(w).order_by(w.c.model_id, w.c.window_start, w.c.model_version))
            states = conn.execute(
                select(s.c.model_id, s.c.baseline_id, s.c.calibrator).order_by(s.c.model_id)
            )
            return [{k: v for k, v in r._mapping.items() if k != "id"} for r in windows], [
                dict(r._mapping) for r in states
            ]

    seeded = stored()
    assert seeded[0] and sum(r["n_labelled"] for r in seeded[0]) == n_labels(store)
    assert all(refresh_performance(store, m).days_recomputed == 0 for m in store.list_models())
    with store.begin() as conn:
        conn.execute(t.perf_windows.delete())
        conn.execute(t.perf_state.delete())
    for model in store.list_models():
        assert refresh_performance(store, model).days_recomputed > 0
    same(stored(), seeded, "performance")
