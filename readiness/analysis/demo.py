"""A realistic, deterministic demo database: four models, 90 days of logs, late labels.

``seed_demo`` trains four scikit-learn models on generated data and writes, per model, a
baseline (a holdout of the training data), a live prediction log covering the 90 days up
to ``today`` (daily traffic pattern, request ids, versions, latencies), delayed labels that
arrive days later and only when their arrival time has passed, success criteria, the
attestations its team has signed, and a weekly readiness score history.

- ``fraud`` (binary): the ``device_trust`` feature drifts from week 6 of the log (a device
  fingerprinting change). Labels follow the true, unshifted signal, so the model's recall
  falls from about 0.87 to about 0.5, under its 0.75 criterion: **Not ready** (a failed
  critical item), with drift, a development-production gap and a label-free estimate that
  no longer matches the labels.
- ``credit`` (binary): healthy and steady; a challenger version takes ~20% of the traffic
  in the last 30 days; every attestation signed: **Ready**.
- ``demand`` (regression): weekly seasonality, healthy, but no rollback drill and no on-call
  runbook yet and an expired privacy review: **At risk** (operations is its weakest section).
- ``ticket-router`` (multiclass): routes support tickets to the account, billing, shipping or
  technical queue and logs each class's probability with its prediction; agents confirm the
  queue when a ticket closes, one to a few days later. The ticket mix is steady, so no feature,
  class probability or confidence drifts, and macro F1 (about 0.82) and accuracy (about 0.83)
  clear their 0.72 and 0.75 criteria every week; every attestation signed: **Ready**. It is the
  demo's multiclass model: per-class metrics on the Performance page, class probabilities on
  the Drift page. Its volume is kept small (about 220 tickets a day) so seeding stays quick.

``write_samples`` writes small CSVs with non-canonical column names for trying uploads.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from readiness.analysis.alerts import backfill_alerts
from readiness.analysis.assessment import backfill_history
from readiness.analysis.refresh import refresh_model
from readiness.core.checklist import new_attestation
from readiness.core.checklist_config import ChecklistConfig
from readiness.core.criteria import Criterion
from readiness.core.records import FeatureSpec
from readiness.core.validate import class_probabilities
from readiness.errors import ModelConfigError
from readiness.storage import performance_store, profile_store
from readiness.storage.label_blocks import append_label_block
from readiness.storage.log_blocks import append_block
from readiness.storage.profile_store import store_reference
from readiness.storage.settings import write_attestation, write_config, write_criterion
from readiness.storage.store import Store

LOG_DAYS = 90
DRIFT_START_DAY = 35  # first day of week 6 of the log (days 0-34 are weeks 1-5)
DRIFT_RAMP_DAYS = 2.0  # the device-fingerprinting change rolls out over two days
DRIFT_SHIFT = 0.45  # observed device_trust = true + shift * (1 - true) once rolled out
CHALLENGER_DAYS = 30
CHALLENGER_SHARE = 0.2
TRAIN_ROWS = 20_000
BASELINE_ROWS = 5_000
DEMO_ACTOR = "demo"
DEMO_MODELS = ("fraud", "credit", "demand", "ticket-router")
HISTORY_STEP_DAYS = 7
ALERTS_FROM_DAY = 28  # the demo's watch was switched on four weeks into the log
EVIDENCE_SITE = "https://wiki.example.com/ml"  # example.com: reserved for examples, never a real site
MS_PER_HOUR = 3_600_000
MS_PER_DAY = 24 * MS_PER_HOUR

# Relative traffic per hour of day (UTC), one curve per kind of service.
PAYMENTS_HOURS = np.array(
    [2, 1.5, 1, 1, 1, 1.5, 3, 5, 7, 8, 8, 8.5, 9, 9, 8.5, 8, 8, 8.5, 9, 9, 8, 6, 4, 3], float
)
APPLICATION_HOURS = np.array(
    [0.5, 0.3, 0.2, 0.2, 0.2, 0.4, 1, 3, 6, 8, 9, 9, 8, 8.5, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1], float
)
FORECAST_HOURS = np.array([1, 1, 1, 2, 6, 9, 8, 6, 5, 5, 5, 4, 4, 4, 4, 4, 4, 3, 3, 2, 2, 1, 1, 1], float)
# Relative traffic per weekday, Monday first.
PAYMENTS_WEEK = np.array([0.96, 0.95, 0.97, 1.0, 1.08, 1.12, 0.98])
APPLICATION_WEEK = np.array([1.12, 1.1, 1.08, 1.05, 1.0, 0.8, 0.7])
FLAT_WEEK = np.ones(7)


def _weekly(metric: str, comparison: str, threshold: float, min_labels: int) -> Criterion:
    """One weekly success criterion the demo sets for a model."""
    return Criterion(None, metric, comparison, threshold, "week", min_labels)


@dataclass(frozen=True)
class DemoAttestation:
    """One attested checklist item the demo signs: who, how many days before ``today``, valid how long."""

    item: str
    owner: str
    days_ago: int
    days_valid: int = 180


@dataclass(frozen=True)
class DemoModel:
    """Everything the demo writes for one model, before it is stored."""

    name: str
    task: str
    positive_class: str | None
    owner: str
    description: str
    features: tuple[FeatureSpec, ...]
    classes: tuple[str, ...]
    baseline: pd.DataFrame
    log: pd.DataFrame
    labels: pd.DataFrame  # request_id, label, received_at (naive UTC)
    criteria: tuple[Criterion, ...]
    attestations: tuple[DemoAttestation, ...] = ()
    not_applicable: tuple[tuple[str, str], ...] = ()  # (item key, reason)


@dataclass(frozen=True)
class SeededModel:
    """What was stored for one demo model."""

    name: str
    task: str
    n_baseline: int
    n_predictions: int
    n_labels: int


@dataclass(frozen=True)
class DemoSummary:
    """What ``seed_demo`` stored, per model, and the time span of the logs (naive UTC)."""

    models: tuple[SeededModel, ...]
    start: datetime
    end: datetime

    @property
    def n_predictions(self) -> int:
        """Predictions stored across all models."""
        return sum(m.n_predictions for m in self.models)

    @property
    def n_labels(self) -> int:
        """Delayed labels stored across all models."""
        return sum(m.n_labels for m in self.models)

    def lines(self) -> list[str]:
        """One human-readable line per model plus a total line."""
        rows = [
            f"{m.name} ({m.task}): {m.n_baseline:,} baseline rows, {m.n_predictions:,} predictions, "
            f"{m.n_labels:,} labels"
            for m in self.models
        ]
        span = f"{self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}"
        return [*rows, f"total: {self.n_predictions:,} predictions, {self.n_labels:,} labels, {span} UTC"]


@dataclass(frozen=True)
class LogWindow:
    """The span the demo log covers: ``days`` whole days ending at ``now`` (naive UTC midnight)."""

    start: datetime
    now: datetime
    days: int


Builder = Callable[[int, date | None, float], DemoModel]


# -- public entry points ------------------------------------------------------------------


def demo_is_needed(store: Store) -> bool:
    """True when the store has no model yet, so seeding the demo would not clash."""
    return store.is_empty()


def demo_window(today: date | None = None, days: int = LOG_DAYS) -> LogWindow:
    """The log span: the ``days`` whole UTC days before ``today`` (default: today's UTC date)."""
    day = today or datetime.now(UTC).date()
    now = datetime.combine(day, time())
    return LogWindow(now - timedelta(days=days), now, days)


def build_models(seed: int = 7, today: date | None = None, scale: float = 1.0) -> list[DemoModel]:
    """Generate the four demo models in memory (deterministic for a seed, date and scale)."""
    return [build(seed, today, scale) for build in BUILDERS]


@dataclass(frozen=True)
class SeedStep:
    """One step of seeding the demo, as ``progress`` hears it when the step starts.

    Step 0 announces the seed; steps 1 to ``total`` follow, the last being "Demo seeded".
    """

    number: int
    total: int
    text: str

    @property
    def done(self) -> bool:
        """Whether this is the last step: the demo is seeded."""
        return self.number == self.total

    def __str__(self) -> str:
        return self.text


STEPS_PER_MODEL = 5  # generate, store, refresh, score history, alert history


def seed_steps(n_models: int = len(DEMO_MODELS)) -> int:
    """How many steps seeding ``n_models`` demo models takes, "Demo seeded" included."""
    return n_models * STEPS_PER_MODEL + 1


def seed_demo(
    store: Store,
    seed: int = 7,
    today: date | None = None,
    scale: float = 1.0,
    progress: Callable[[SeedStep], None] | None = None,
) -> DemoSummary:
    """Write the four demo models into an empty store, one after the other; ``progress`` hears each step.

    The next model is generated on a second thread while one is stored, so on two cores its
    generation (mostly scikit-learn and NumPy, which release the GIL) costs no time.

    Each model is stored in one transaction (registration, baseline, log as blocks, labels,
    day profiles, performance aggregates, criteria, checklist), then its score history and
    alert history follow before the next model starts, so a reader sees a model without
    them for seconds at most.

    >>> seed_demo(Store.open("sqlite:///:memory:"), progress=print)  # doctest: +SKIP
    Seeding the demo: 4 models, 90 days of logs
    fraud: generating the baseline and 90 days of predictions
    ...
    """
    clashes = [name for name in DEMO_MODELS if store.find_model(name) is not None]
    if clashes:
        raise ModelConfigError(
            f"The store already has model(s) {', '.join(map(repr, clashes))}, so the demo cannot be "
            "seeded into it. Use an empty database (or another READINESS_DATABASE_URL)."
        )
    today = today or datetime.now(UTC).date()  # one date for every model
    window = demo_window(today)
    total = seed_steps(len(BUILDERS))
    numbers = itertools.count()

    def say(text: str) -> None:
        if progress is not None:
            progress(SeedStep(next(numbers), total, text))

    say(f"Seeding the demo: {len(BUILDERS)} models, {LOG_DAYS} days of logs")
    seeded = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-build") as builder:
        pending = builder.submit(BUILDERS[0], seed, today, scale)
        for i, name in enumerate(DEMO_MODELS):
            say(f"{name}: generating the baseline and {LOG_DAYS} days of predictions")
            generated = pending.result()
            if i + 1 < len(BUILDERS):
                pending = builder.submit(BUILDERS[i + 1], seed, today, scale)
            seeded.append(_seed_model(store, generated, today, say))
    say("Demo seeded")
    return DemoSummary(tuple(seeded), window.start, window.now)


def _seed_model(store: Store, generated: DemoModel, today: date, say: Callable[[str], None]) -> SeededModel:
    """Store one generated model, then its performance aggregates, weekly score history and alert history."""
    name = generated.name
    say(
        f"{name} ({generated.task}): storing {len(generated.log):,} predictions and {len(generated.labels):,} labels"
    )
    seeded = write_model(store, generated, today)
    model = store.get_model(name)
    say(f"{name}: profiling its log for the Drift and Performance pages")
    # the Performance page and the checklist read per-day aggregates: stored with the log, so this
    # refresh finds nothing left to do (it would catch anything the seed had not aggregated)
    refresh_model(store, model)
    say(f"{name}: recording a weekly score history")
    # a weekly score history over the log, so the Checklist page has a trend to show
    backfill_history(store, model, LOG_DAYS, HISTORY_STEP_DAYS, today)
    say(f"{name}: replaying watch for an alert history")
    # what the owner would have heard from a weekly watch switched on four weeks into the log
    backfill_alerts(store, model, LOG_DAYS - ALERTS_FROM_DAY, HISTORY_STEP_DAYS, today, silent_start=True)
    return seeded


def write_model(store: Store, model: DemoModel, today: date | None = None) -> SeededModel:
    """Store one generated model: registration, baseline, log, labels, criteria and checklist, atomically.

    The log is stored as uploads store it, as Parquet blocks (one per week of the log, see
    :func:`_weekly_blocks`), and its day profiles and performance records are computed from the
    rows at hand in the same transaction, the labels joined to them: nothing is read back.
    """
    names = [f.name for f in model.features]
    today = today or datetime.now(UTC).date()
    with store.begin() as conn:
        row = store.create_model(
            model.name,
            model.task,
            model.positive_class,
            model.owner,
            model.description,
            DEMO_ACTOR,
            conn=conn,
        )
        store.add_baseline(conn, row, model.baseline, model.features, model.classes, "demo baseline", None)
        baseline = store.active_baseline(row.id, conn)
        assert baseline is not None
        reference = store_reference(conn, row, baseline, model.baseline)
        profiles = profile_store.start_new_baseline_in_step(conn, row, baseline, reference)
        records = performance_store.start_new_baseline_in_step(conn, row, baseline, model.baseline)
        # as a label upload stores labels of uploaded rows: one Parquet block (a row each took 2 s of the first start)
        append_label_block(conn, row.id, model.labels, None, model.labels["request_id"].nunique())
        labels = model.labels.set_index("request_id")  # joined to their rows as a refresh would join them
        n_predictions = 0
        for block in _weekly_blocks(model.log, today):
            n_predictions += append_block(conn, row.id, block, model.features, None)
            profile_store.profile_in_step(conn, profiles, block, names)
            performance_store.labelled_records_in_step(records, block, labels)
        profile_store.finish_in_step(conn, profiles)
        performance_store.finish_new_baseline_in_step(conn, records)
        for c in model.criteria:
            write_criterion(store, conn, row.id, c, DEMO_ACTOR)
        for a in model.attestations:
            attested = new_attestation(
                a.item,
                a.owner,
                f"{EVIDENCE_SITE}/{model.name}/{a.item.replace('_', '-')}",
                today - timedelta(days=a.days_ago),
                a.days_valid,
            )
            write_attestation(store, conn, row.id, attested, DEMO_ACTOR)
        if model.not_applicable:
            write_config(
                store, conn, row.id, ChecklistConfig(not_applicable=dict(model.not_applicable)), DEMO_ACTOR
            )
        store.audit(
            conn, "demo.seed", row.id, DEMO_ACTOR, {"predictions": n_predictions, "labels": len(model.labels)}
        )
    return SeededModel(model.name, model.task, len(model.baseline), n_predictions, len(model.labels))


# -- shared generators --------------------------------------------------------------------


def _weekly_blocks(log: pd.DataFrame, today: date) -> list[pd.DataFrame]:
    """The log cut into blocks of seven UTC days ending at yesterday's midnight, and yesterday's; rows in their order.

    The weekly score history judges the seven days before each recorded day (yesterday, and
    every seventh day before it): cut at the same midnights, each of its assessments samples
    one block, not two. A day never spans two blocks.
    """
    cut = pd.Timestamp(today, tz="UTC") - pd.Timedelta(days=1)
    week = (pd.to_datetime(log["timestamp"], utc=True) - cut) // pd.Timedelta(days=HISTORY_STEP_DAYS)
    return [part for _, part in log.groupby(week.to_numpy(), sort=True)]


def _single_threaded(build: Builder) -> Builder:
    """Run a builder with one OpenMP/BLAS thread: on a small, busy machine more threads only contend."""

    @functools.wraps(build)
    def wrapper(seed: int = 7, today: date | None = None, scale: float = 1.0) -> DemoModel:
        with threadpool_limits(limits=1):
            return build(seed, today, scale)

    return wrapper


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream])


def arrival_times(
    rng: np.random.Generator, window: LogWindow, per_day: float, hours: np.ndarray, weekdays: np.ndarray
) -> np.ndarray:
    """Sorted prediction times (datetime64[ms], naive UTC) with daily and weekly traffic patterns."""
    first_weekday = window.start.weekday()
    day_factor = weekdays[(first_weekday + np.arange(window.days)) % 7]
    counts = rng.poisson(per_day * day_factor)
    day = np.repeat(np.arange(window.days), counts)
    hour = rng.choice(24, size=len(day), p=hours / hours.sum())
    offset = day * MS_PER_DAY + hour * MS_PER_HOUR + rng.integers(0, MS_PER_HOUR, size=len(day))
    return np.datetime64(window.start, "ms") + np.sort(offset).astype("timedelta64[ms]")


def latencies(
    rng: np.random.Generator, n: int, median_ms: float, sigma: float = 0.45, tail_share: float = 0.01
) -> np.ndarray:
    """Serving latencies: lognormal around a median with a rare slow tail, rounded to 0.1 ms."""
    base = median_ms * rng.lognormal(0.0, sigma, n)
    slow = rng.random(n) < tail_share
    return np.round(np.where(slow, base * rng.uniform(2.0, 6.0, n), base), 1)


def request_ids(prefix: str, n: int) -> np.ndarray:
    """Request ids unique per model, in time order: ``fraud-00000001``, ..."""
    return np.array([f"{prefix}-{i:08d}" for i in range(1, n + 1)], dtype=object)


def delayed_labels(
    rng: np.random.Generator,
    times: np.ndarray,
    ids: np.ndarray,
    truth: np.ndarray,
    share: float,
    delay_days: Callable[[int], np.ndarray],
    now: datetime,
) -> pd.DataFrame:
    """Labels for a share of predictions, each arriving after a delay; only those arrived by ``now``."""
    n = len(times)
    delays = (delay_days(n) * MS_PER_DAY).astype("int64").astype("timedelta64[ms]")
    received = times + delays
    keep = (rng.random(n) < share) & (received <= np.datetime64(now, "ms"))
    frame = pd.DataFrame(
        {
            "request_id": ids[keep],
            "label": truth[keep],
            "received_at": received[keep].astype("datetime64[us]"),
        }
    )
    return frame.sort_values("received_at", kind="stable").reset_index(drop=True)


def _draw(rng: np.random.Generator, options: Sequence[str], probs: np.ndarray, n: int) -> np.ndarray:
    cumulative = np.cumsum(probs) / np.sum(probs)
    index = np.minimum(np.searchsorted(cumulative, rng.random(n)), len(options) - 1)
    return np.asarray(options, dtype=object)[index]


def _draw_by_class(
    rng: np.random.Generator,
    options: Sequence[str],
    probs_if_true: np.ndarray,
    probs_if_false: np.ndarray,
    flag: np.ndarray,
) -> np.ndarray:
    yes = _draw(rng, options, probs_if_true, len(flag))
    no = _draw(rng, options, probs_if_false, len(flag))
    return np.where(flag, yes, no)


def _codes(frame: pd.DataFrame, categories: Mapping[str, Sequence[str]]) -> np.ndarray:
    """A float matrix for tree models: categorical columns as fixed integer codes."""
    columns = []
    for name in frame.columns:
        if name in categories:
            columns.append(pd.Categorical(frame[name], categories=list(categories[name])).codes.astype(float))
        else:
            columns.append(frame[name].to_numpy(dtype=float))
    return np.column_stack(columns)


def _specs(frame: pd.DataFrame, categorical: Collection[str]) -> tuple[FeatureSpec, ...]:
    return tuple(FeatureSpec(c, "categorical" if c in categorical else "numeric") for c in frame.columns)


def _threshold_for_recall(scores: np.ndarray, positive: np.ndarray, recall: float) -> float:
    """The score threshold that flags a share ``recall`` of the positive rows."""
    return float(np.quantile(scores[positive], 1.0 - recall))


def _class_text(flag: np.ndarray) -> np.ndarray:
    return np.where(flag, "1", "0").astype(object)


def _number_text(values: np.ndarray) -> np.ndarray:
    return np.array([repr(float(v)) for v in values], dtype=object)


def _log_frame(
    features: pd.DataFrame,
    times: np.ndarray,
    ids: np.ndarray,
    version: np.ndarray | str,
    prediction: np.ndarray,
    score: np.ndarray | None,
    latency: np.ndarray,
    probabilities: pd.Series | None = None,
) -> pd.DataFrame:
    columns = {
        "timestamp": pd.Series(times).astype("datetime64[us]").dt.tz_localize("UTC"),
        "request_id": ids,
        "model_version": version,
        "prediction": prediction,
    }
    if score is not None:
        columns["score"] = score
    if probabilities is not None:  # multiclass: each row's class probabilities as JSON text
        columns["probabilities"] = probabilities.to_numpy()
    columns["latency_ms"] = latency
    reserved = pd.DataFrame(columns)
    return pd.concat([features.reset_index(drop=True), reserved], axis=1)


def _days_since_start(times: np.ndarray, window: LogWindow) -> np.ndarray:
    return (times - np.datetime64(window.start, "ms")).astype("int64") / MS_PER_DAY


# -- the checklist each demo team has signed ----------------------------------------------
# credit: everything attested (Ready). fraud: half attested, and its recall criterion fails
# after the drift (Not ready). demand: no rollback drill and no on-call runbook yet, and its
# privacy review expired 20 days ago (At risk); human oversight does not apply to it.
# ticket-router: everything attested, the operations items in the last five weeks (Ready since).

CREDIT_ATTESTATIONS = tuple(
    DemoAttestation(item, owner, days)
    for item, owner, days in (
        ("privacy_review", "M. Rossi", 84),
        ("data_lineage_documented", "J. Chen", 80),
        ("model_card", "J. Chen", 75),
        ("fairness_review", "M. Rossi", 70),
        ("reproducible_training", "J. Chen", 75),
        ("rollback_drill", "S. Patel", 45),
        ("on_call_runbook", "S. Patel", 40),
        ("alerts_routed", "S. Patel", 40),
        ("human_oversight", "M. Rossi", 30),
        ("retraining_plan", "J. Chen", 25),
    )
)
FRAUD_ATTESTATIONS = tuple(
    DemoAttestation(item, owner, days)
    for item, owner, days in (
        ("privacy_review", "A. Okafor", 100),
        ("model_card", "A. Okafor", 95),
        ("reproducible_training", "L. Novak", 90),
        ("on_call_runbook", "L. Novak", 60),
        ("alerts_routed", "L. Novak", 60),
    )
)
DEMAND_ATTESTATIONS = (
    DemoAttestation("privacy_review", "K. Berg", 200),  # 180 days valid: expired 20 days ago
    *(
        DemoAttestation(item, owner, days)
        for item, owner, days in (
            ("data_lineage_documented", "K. Berg", 70),
            ("model_card", "T. Silva", 70),
            ("fairness_review", "K. Berg", 65),
            ("reproducible_training", "T. Silva", 60),
            ("alerts_routed", "T. Silva", 50),
            ("retraining_plan", "T. Silva", 35),
        )
    ),
)
TICKET_ATTESTATIONS = tuple(
    DemoAttestation(item, owner, days)
    for item, owner, days in (
        ("privacy_review", "N. Haddad", 60),
        ("data_lineage_documented", "E. Lindqvist", 58),
        ("model_card", "E. Lindqvist", 55),
        ("fairness_review", "N. Haddad", 50),
        ("reproducible_training", "E. Lindqvist", 55),
        ("rollback_drill", "P. Mensah", 35),
        ("on_call_runbook", "P. Mensah", 30),
        ("alerts_routed", "P. Mensah", 30),
        ("human_oversight", "N. Haddad", 28),
        ("retraining_plan", "E. Lindqvist", 20),
    )
)
DEMAND_NOT_APPLICABLE = (
    (
        "human_oversight",
        "Forecasts only feed replenishment orders that planners review "
        "and approve; the model makes no decision on its own.",
    ),
)


# -- fraud: binary, device_trust drifts from week 6 ---------------------------------------

MERCHANTS = ("grocery", "fuel", "restaurants", "apparel", "electronics", "travel", "gaming", "digital_goods")
MERCHANTS_LEGIT = np.array([0.28, 0.14, 0.20, 0.12, 0.08, 0.08, 0.05, 0.05])
MERCHANTS_FRAUD = np.array([0.08, 0.06, 0.06, 0.10, 0.25, 0.15, 0.12, 0.18])
COUNTRIES = ("US", "GB", "DE", "FR", "NL", "ES", "BR", "NG")
COUNTRIES_LEGIT = np.array([0.55, 0.12, 0.10, 0.08, 0.05, 0.05, 0.03, 0.02])
COUNTRIES_FRAUD = np.array([0.40, 0.10, 0.07, 0.06, 0.04, 0.05, 0.13, 0.15])
FRAUD_CATEGORIES = {"merchant_category": MERCHANTS, "country": COUNTRIES}


def fraud_population(
    rng: np.random.Generator,
    hours: np.ndarray,
    trust_shift: np.ndarray | float = 0.0,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Transactions at given hours: features as the model sees them (shifted trust) and true fraud."""
    # Fraud is likelier at night. trust_shift moves only the observed device_trust towards 1;
    # the true trust, which fraud depends on, is unchanged.
    n = len(hours)
    night = (hours < 6) | (hours >= 23)
    fraud = rng.random(n) < np.where(night, 0.045, 0.017)
    true_trust = np.where(fraud, rng.beta(2.2, 4.5, n), rng.beta(6.0, 2.2, n))
    features = pd.DataFrame(
        {
            "amount": np.round(np.where(fraud, rng.lognormal(3.9, 1.1, n), rng.lognormal(3.6, 1.0, n)), 2),
            "account_age_days": np.round(np.where(fraud, rng.exponential(250, n), rng.gamma(2.0, 450, n))),
            "txn_velocity_1h": np.where(fraud, rng.poisson(2.0, n), rng.poisson(1.2, n)).astype(float),
            "device_trust": np.round(true_trust + trust_shift * (1.0 - true_trust), 3),
            "hour": hours.astype(float),
            "card_present": (rng.random(n) < np.where(fraud, 0.30, 0.55)).astype(float),
            "merchant_category": _draw_by_class(rng, MERCHANTS, MERCHANTS_FRAUD, MERCHANTS_LEGIT, fraud),
            "country": _draw_by_class(rng, COUNTRIES, COUNTRIES_FRAUD, COUNTRIES_LEGIT, fraud),
        }
    )
    return features, fraud


def drift_shift(days: np.ndarray) -> np.ndarray:
    """The device_trust shift by (fractional) log day: 0 before week 6, then ramping to DRIFT_SHIFT."""
    return DRIFT_SHIFT * np.clip((days - DRIFT_START_DAY) / DRIFT_RAMP_DAYS, 0.0, 1.0)


def _fit_tree_classifier(
    features: pd.DataFrame, y: np.ndarray, categories: Mapping[str, Sequence[str]], random_state: int
) -> HistGradientBoostingClassifier:
    mask = [c in categories for c in features.columns]
    model = HistGradientBoostingClassifier(
        max_iter=150,
        learning_rate=0.08,
        min_samples_leaf=40,
        l2_regularization=1.0,
        early_stopping=False,
        categorical_features=mask,
        random_state=random_state,
    )
    return model.fit(_codes(features, categories), y)


def _score(
    model: Any, features: pd.DataFrame, categories: Mapping[str, Sequence[str]] | None = None
) -> np.ndarray:
    matrix = _codes(features, categories) if categories is not None else features
    return np.round(model.predict_proba(matrix)[:, 1], 4)


@_single_threaded
def build_fraud(seed: int = 7, today: date | None = None, scale: float = 1.0) -> DemoModel:
    """The fraud model: HGB classifier, ~2% fraud, recall falls under 0.75 after week 6's drift."""
    rng, window = _rng(seed, 1), demo_window(today)
    n = TRAIN_ROWS + BASELINE_ROWS
    features, fraud = fraud_population(rng, rng.choice(24, size=n, p=PAYMENTS_HOURS / PAYMENTS_HOURS.sum()))
    model = _fit_tree_classifier(features[:TRAIN_ROWS], fraud[:TRAIN_ROWS], FRAUD_CATEGORIES, seed)
    base, base_fraud = features[TRAIN_ROWS:].reset_index(drop=True), fraud[TRAIN_ROWS:]
    base_score = _score(model, base, FRAUD_CATEGORIES)
    threshold = _threshold_for_recall(base_score, base_fraud, 0.9)
    baseline = base.assign(
        prediction=_class_text(base_score >= threshold), score=base_score, label=_class_text(base_fraud)
    )

    times = arrival_times(rng, window, 1100 * scale, PAYMENTS_HOURS, PAYMENTS_WEEK)
    hours = (times.astype("int64") // MS_PER_HOUR) % 24
    live, live_fraud = fraud_population(rng, hours, drift_shift(_days_since_start(times, window)))
    score = _score(model, live, FRAUD_CATEGORIES)
    ids = request_ids("fraud", len(times))
    log = _log_frame(
        live, times, ids, "1.4.2", _class_text(score >= threshold), score, latencies(rng, len(times), 42.0)
    )
    labels = delayed_labels(
        rng,
        times,
        ids,
        _class_text(live_fraud),
        0.9,
        lambda k: 2.0 + 18.0 * rng.beta(1.5, 3.0, k),
        window.now,
    )
    criteria = (_weekly("recall", ">=", 0.75, 50), _weekly("false_positive_rate", "<=", 0.05, 50))
    return DemoModel(
        "fraud",
        "binary",
        "1",
        "Payments Risk",
        "Card-transaction fraud classifier (gradient boosting); blocks or reviews flagged payments.",
        _specs(base, FRAUD_CATEGORIES),
        ("0", "1"),
        baseline,
        log,
        labels,
        criteria,
        FRAUD_ATTESTATIONS,
    )


# -- credit: binary, healthy, champion and challenger -------------------------------------

PURPOSES = ("debt_consolidation", "home_improvement", "car", "business", "education", "medical")
PURPOSE_SHARE = np.array([0.38, 0.18, 0.17, 0.10, 0.09, 0.08])
PURPOSE_RISK = np.array([0.1, -0.3, -0.2, 0.6, 0.3, 0.4])
HOMES = ("rent", "mortgage", "own")
HOME_SHARE = np.array([0.42, 0.43, 0.15])
HOME_RISK = np.array([0.25, -0.1, -0.3])
CREDIT_CATEGORIES = {"loan_purpose": PURPOSES, "home_ownership": HOMES}
CREDIT_FLAG_RATE = 0.15  # the lender declines (predicts default for) the riskiest 15%


def credit_population(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Loan applications and whether each defaulted (~12%)."""
    income = np.round(rng.lognormal(np.log(55_000), 0.5, n), -2)
    loan = np.round(rng.lognormal(np.log(15_000), 0.7, n), -1)
    dti = np.round(rng.beta(2.0, 5.0, n) * 0.8, 3)
    score = np.round(np.clip(rng.normal(690, 60, n), 300, 850))
    years = np.round(np.clip(rng.gamma(2.0, 3.0, n), 0, 40), 1)
    accounts = rng.poisson(6, n).astype(float)
    purpose = _draw(rng, PURPOSES, PURPOSE_SHARE, n)
    home = _draw(rng, HOMES, HOME_SHARE, n)
    logit = (
        -2.35
        - 0.014 * (score - 690)
        + 3.5 * (dti - 0.23)
        + 0.6 * np.log(loan / income / 0.27)
        - 0.04 * years
        + 0.03 * (accounts - 6)
        + pd.Series(purpose).map(dict(zip(PURPOSES, PURPOSE_RISK, strict=False))).to_numpy()
        + pd.Series(home).map(dict(zip(HOMES, HOME_RISK, strict=False))).to_numpy()
    )
    default = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
    features = pd.DataFrame(
        {
            "income": income,
            "loan_amount": loan,
            "debt_to_income": dti,
            "credit_score": score,
            "employment_years": years,
            "open_accounts": accounts,
            "loan_purpose": purpose,
            "home_ownership": home,
        }
    )
    return features, default


def _fit_logistic(features: pd.DataFrame, y: np.ndarray, categories: Mapping[str, Sequence[str]]) -> Pipeline:
    numeric = [c for c in features.columns if c not in categories]
    encoder = OneHotEncoder(categories=[list(categories[c]) for c in categories], handle_unknown="ignore")
    columns = ColumnTransformer([("num", StandardScaler(), numeric), ("cat", encoder, list(categories))])
    return make_pipeline(columns, LogisticRegression(max_iter=1000)).fit(features, y)


@_single_threaded
def build_credit(seed: int = 7, today: date | None = None, scale: float = 1.0) -> DemoModel:
    """The credit model: logistic champion 2.3.0, HGB challenger 2.4.0-rc1 on 20% for 30 days."""
    rng, window = _rng(seed, 2), demo_window(today)
    features, default = credit_population(rng, TRAIN_ROWS + BASELINE_ROWS)
    train, train_y = features[:TRAIN_ROWS], default[:TRAIN_ROWS]
    champion = _fit_logistic(train, train_y, CREDIT_CATEGORIES)
    challenger = _fit_tree_classifier(train, train_y, CREDIT_CATEGORIES, seed)
    base, base_y = features[TRAIN_ROWS:].reset_index(drop=True), default[TRAIN_ROWS:]
    base_score = _score(champion, base)
    threshold = float(np.quantile(base_score, 1.0 - CREDIT_FLAG_RATE))
    challenger_threshold = float(
        np.quantile(_score(challenger, base, CREDIT_CATEGORIES), 1.0 - CREDIT_FLAG_RATE)
    )
    baseline = base.assign(
        prediction=_class_text(base_score >= threshold), score=base_score, label=_class_text(base_y)
    )

    times = arrival_times(rng, window, 800 * scale, APPLICATION_HOURS, APPLICATION_WEEK)
    live, live_y = credit_population(rng, len(times))
    in_trial = _days_since_start(times, window) >= window.days - CHALLENGER_DAYS
    on_challenger = in_trial & (rng.random(len(times)) < CHALLENGER_SHARE)
    score = _score(champion, live)
    # the challenger scores its ~6% of the rows only
    score[on_challenger] = _score(challenger, live[on_challenger], CREDIT_CATEGORIES)
    flagged = score >= np.where(on_challenger, challenger_threshold, threshold)
    version = np.where(on_challenger, "2.4.0-rc1", "2.3.0").astype(object)
    latency = np.where(on_challenger, latencies(rng, len(times), 80.0), latencies(rng, len(times), 60.0, 0.4))
    ids = request_ids("credit", len(times))
    log = _log_frame(live, times, ids, version, _class_text(flagged), score, latency)
    labels = delayed_labels(
        rng, times, ids, _class_text(live_y), 0.7, lambda k: rng.uniform(14.0, 30.0, k), window.now
    )
    # 1000 labels a week: about 120 defaults and 150 declines, so recall and precision are judged
    # to within about +-0.08; with 200 a partly labelled week failed recall >= 0.3 on noise alone
    criteria = (
        _weekly("roc_auc", ">=", 0.7, 1000),
        _weekly("precision", ">=", 0.25, 1000),
        _weekly("recall", ">=", 0.3, 1000),
    )
    return DemoModel(
        "credit",
        "binary",
        "1",
        "Lending Analytics",
        "Probability of default for consumer loan applications; declines the riskiest 15%.",
        _specs(base, CREDIT_CATEGORIES),
        ("0", "1"),
        baseline,
        log,
        labels,
        criteria,
        CREDIT_ATTESTATIONS,
    )


# -- demand: regression with weekly seasonality -------------------------------------------

STORES = tuple(f"S{i:02d}" for i in range(1, 13))
STORE_LEVEL = np.array([34, 52, 41, 88, 63, 27, 75, 46, 58, 95, 38, 69], float)
WEEKDAY_EFFECT = np.array([0.85, 0.80, 0.85, 0.95, 1.15, 1.40, 1.10])  # Monday first
DEMAND_CATEGORIES = {"store_id": STORES}


def demand_population(rng: np.random.Generator, weekday: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Store-item forecast requests for the given weekdays (0 = Monday) and the units then sold."""
    n = len(weekday)
    store = rng.integers(0, len(STORES), n)
    promo = (rng.random(n) < 0.15).astype(float)
    temperature = np.round(rng.normal(17.0, 5.0, n), 1)
    price = np.round(rng.normal(5.0, 0.6, n).clip(2.5, 8.0), 2)
    mean = (
        STORE_LEVEL[store]
        * WEEKDAY_EFFECT[weekday]
        * np.where(promo > 0, 1.35, 1.0)
        * (1.0 + 0.012 * (temperature - 17.0))
        * (price / 5.0) ** -1.3
    )
    units = rng.poisson(rng.gamma(12.0, mean / 12.0)).astype(float)
    features = pd.DataFrame(
        {
            "store_id": np.asarray(STORES, dtype=object)[store],
            "day_of_week": weekday.astype(float),
            "promo": promo,
            "temperature": temperature,
            "price": price,
        }
    )
    return features, units


@_single_threaded
def build_demand(seed: int = 7, today: date | None = None, scale: float = 1.0) -> DemoModel:
    """The demand model: HGB regressor of daily units, MAE and p95 latency criteria."""
    rng, window = _rng(seed, 3), demo_window(today)
    n = TRAIN_ROWS + BASELINE_ROWS
    features, units = demand_population(rng, rng.integers(0, 7, n))
    mask = [c in DEMAND_CATEGORIES for c in features.columns]
    model = HistGradientBoostingRegressor(
        max_iter=150,
        learning_rate=0.08,
        early_stopping=False,
        categorical_features=mask,
        random_state=seed,
        loss="poisson",
    )
    model.fit(_codes(features[:TRAIN_ROWS], DEMAND_CATEGORIES), units[:TRAIN_ROWS])
    base, base_units = features[TRAIN_ROWS:].reset_index(drop=True), units[TRAIN_ROWS:]
    base_pred = np.round(model.predict(_codes(base, DEMAND_CATEGORIES)), 1)
    baseline = base.assign(prediction=_number_text(base_pred), label=_number_text(base_units))
    mae_limit = float(math.ceil(np.mean(np.abs(base_pred - base_units)) * 1.15))

    times = arrival_times(rng, window, 500 * scale, FORECAST_HOURS, FLAT_WEEK)
    weekday = pd.DatetimeIndex(times).day_of_week.to_numpy()
    live, live_units = demand_population(rng, weekday)
    pred = np.round(model.predict(_codes(live, DEMAND_CATEGORIES)), 1)
    ids = request_ids("demand", len(times))
    log = _log_frame(live, times, ids, "3.1.0", _number_text(pred), None, latencies(rng, len(times), 75.0))
    labels = delayed_labels(
        rng, times, ids, _number_text(live_units), 1.0, lambda k: 1.0 + rng.uniform(0.0, 0.25, k), window.now
    )
    criteria = (_weekly("mae", "<=", mae_limit, 100), _weekly("latency_p95", "<=", 200.0, 0))
    return DemoModel(
        "demand",
        "regression",
        None,
        "Supply Chain",
        "Next-day unit demand per store and item (gradient boosting, Poisson loss).",
        _specs(base, DEMAND_CATEGORIES),
        (),
        baseline,
        log,
        labels,
        criteria,
        DEMAND_ATTESTATIONS,
        DEMAND_NOT_APPLICABLE,
    )


# -- ticket-router: multiclass with class probabilities, healthy --------------------------

TICKET_CLASSES = ("account", "billing", "shipping", "technical")
TICKET_SHARE = np.array([0.20, 0.30, 0.15, 0.35])
CHANNELS = ("email", "chat", "web_form", "phone")
PLANS = ("free", "pro", "business")
# per class (rows in TICKET_CLASSES order): the channel and the customer's plan a ticket comes with
CHANNEL_BY_CLASS = np.array(
    [[0.30, 0.35, 0.25, 0.10], [0.45, 0.20, 0.25, 0.10], [0.25, 0.45, 0.20, 0.10], [0.35, 0.30, 0.15, 0.20]]
)
PLAN_BY_CLASS = np.array([[0.55, 0.30, 0.15], [0.25, 0.45, 0.30], [0.40, 0.40, 0.20], [0.35, 0.35, 0.30]])
# per class: the first keyword the text scan spots (a login, a payment, an order, an error code, or none)
KEYWORDS = ("login", "payment", "order", "error_code", "none")
KEYWORD_BY_CLASS = np.array(
    [
        [0.72, 0.05, 0.02, 0.06, 0.15],
        [0.03, 0.76, 0.07, 0.02, 0.12],
        [0.02, 0.07, 0.80, 0.01, 0.10],
        [0.08, 0.02, 0.03, 0.70, 0.17],
    ]
)
WORDS_MEDIAN = np.array([60.0, 75.0, 50.0, 120.0])
ATTACHMENTS_MEAN = np.array([0.2, 0.6, 0.3, 0.9])
TICKET_CATEGORIES = {"channel": CHANNELS, "plan": PLANS, "keyword": KEYWORDS}
TICKET_TRAIN_ROWS = 8_000  # a linear model on six columns needs few rows; keeps the seed quick


def _draw_per_row(rng: np.random.Generator, options: Sequence[str], probs: np.ndarray) -> np.ndarray:
    """One option per row, row i drawn with the probabilities ``probs[i]``."""
    index = (rng.random(len(probs))[:, None] > np.cumsum(probs, axis=1)[:, :-1]).sum(axis=1)
    return np.asarray(options, dtype=object)[index]


def ticket_population(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Support tickets as the router sees them (channel, plan, first keyword, length...) and their true queue."""
    kind = np.minimum(np.searchsorted(np.cumsum(TICKET_SHARE), rng.random(n)), len(TICKET_CLASSES) - 1)
    columns: dict[str, np.ndarray] = {
        "channel": _draw_per_row(rng, CHANNELS, CHANNEL_BY_CLASS[kind]),
        "plan": _draw_per_row(rng, PLANS, PLAN_BY_CLASS[kind]),
        "keyword": _draw_per_row(rng, KEYWORDS, KEYWORD_BY_CLASS[kind]),
        "message_words": np.round(WORDS_MEDIAN[kind] * rng.lognormal(0.0, 0.6, n)),
        "attachments": rng.poisson(ATTACHMENTS_MEAN[kind]).astype(float),
        "account_age_days": np.round(rng.gamma(1.5, np.where(kind == 0, 200.0, 420.0))),
    }
    return pd.DataFrame(columns), np.asarray(TICKET_CLASSES, dtype=object)[kind]


def class_probabilities_of(model: Pipeline, features: pd.DataFrame) -> tuple[np.ndarray, pd.Series]:
    """The predicted class and the class probabilities as stored (JSON text, rounded, adding up to 1)."""
    proba = np.round(model.predict_proba(features), 4)
    proba[:, -1] = np.clip(np.round(1.0 - proba[:, :-1].sum(axis=1), 4), 0.0, 1.0)
    classes = [str(c) for c in model.classes_]
    texts = class_probabilities(pd.DataFrame(proba, columns=classes), {c: c for c in classes})
    return np.asarray(classes, dtype=object)[proba.argmax(axis=1)], texts


@_single_threaded
def build_ticket_router(seed: int = 7, today: date | None = None, scale: float = 1.0) -> DemoModel:
    """The ticket router: logistic regression over four queues, class probabilities logged, healthy and steady."""
    rng, window = _rng(seed, 4), demo_window(today)
    features, queue = ticket_population(rng, TICKET_TRAIN_ROWS + BASELINE_ROWS)
    model = _fit_logistic(features[:TICKET_TRAIN_ROWS], queue[:TICKET_TRAIN_ROWS], TICKET_CATEGORIES)
    base = features[TICKET_TRAIN_ROWS:].reset_index(drop=True)
    base_prediction, base_probabilities = class_probabilities_of(model, base)
    baseline = base.assign(
        prediction=base_prediction,
        label=queue[TICKET_TRAIN_ROWS:],
        probabilities=base_probabilities.to_numpy(),
    )

    times = arrival_times(rng, window, 220 * scale, APPLICATION_HOURS, APPLICATION_WEEK)
    live, live_queue = ticket_population(rng, len(times))
    prediction, probabilities = class_probabilities_of(model, live)
    ids = request_ids("ticket-router", len(times))
    log = _log_frame(
        live, times, ids, "1.2.0", prediction, None, latencies(rng, len(times), 45.0), probabilities
    )
    # an agent confirms (or corrects) the queue when the ticket closes, one to a few days later
    labels = delayed_labels(
        rng, times, ids, live_queue, 0.85, lambda k: 1.0 + np.minimum(rng.gamma(2.0, 1.0, k), 9.0), window.now
    )
    criteria = (_weekly("macro_f1", ">=", 0.72, 200), _weekly("accuracy", ">=", 0.75, 200))
    return DemoModel(
        "ticket-router",
        "multiclass",
        None,
        "Customer Support",
        "Routes each support ticket to the account, billing, shipping or technical queue (logistic regression).",
        _specs(base, TICKET_CATEGORIES),
        TICKET_CLASSES,
        baseline,
        log,
        labels,
        criteria,
        TICKET_ATTESTATIONS,
    )


BUILDERS: tuple[Builder, ...] = (build_fraud, build_credit, build_demand, build_ticket_router)


# -- sample CSVs for the upload flow ------------------------------------------------------

SAMPLE_START = datetime(2026, 3, 2)


def write_samples(folder: Path, seed: int = 11) -> list[Path]:
    """Write small loan CSVs with non-canonical column names (baseline, live, labels); return paths."""
    rng = _rng(seed, 99)
    features, default = credit_population(rng, 3_000 + 400 + 300)
    model = _fit_logistic(features[:3_000], default[:3_000], CREDIT_CATEGORIES)
    base, live = features[3_000:3_400].reset_index(drop=True), features[3_400:].reset_index(drop=True)
    base_y, live_y = default[3_000:3_400], default[3_400:]
    base_score, live_score = _score(model, base), _score(model, live)
    threshold = float(np.quantile(base_score, 1.0 - CREDIT_FLAG_RATE))
    folder.mkdir(parents=True, exist_ok=True)
    baseline = base.assign(
        y_pred=(base_score >= threshold).astype(int), y_pred_proba=base_score, y_true=base_y.astype(int)
    )
    paths = [_write_csv(baseline, folder / "loan_baseline.csv", ",")]
    offsets = np.sort(rng.integers(0, 3 * MS_PER_DAY, len(live))).astype("timedelta64[ms]")
    stamps = pd.DatetimeIndex(np.datetime64(SAMPLE_START, "ms") + offsets).strftime("%Y-%m-%dT%H:%M:%SZ")
    ids = np.array([f"loan-{i:05d}" for i in range(1, len(live) + 1)])
    live_frame = pd.concat([pd.DataFrame({"ts": stamps, "request_id": ids}), live], axis=1).assign(
        y_pred=(live_score >= threshold).astype(int),
        y_pred_proba=live_score,
        version="2.3.0",
        latency=latencies(rng, len(live), 60.0, 0.4),
    )
    paths.append(_write_csv(live_frame, folder / "loan_live.csv", ";"))
    labelled = np.sort(rng.choice(len(live), size=200, replace=False))
    labels = pd.DataFrame({"request_id": ids[labelled], "y_true": live_y[labelled].astype(int)})
    paths.append(_write_csv(labels, folder / "loan_labels.csv", ","))
    return paths


def _write_csv(frame: pd.DataFrame, path: Path, sep: str) -> Path:
    whole = {
        c: frame[c].astype("int64") for c in frame.select_dtypes("float").columns if (frame[c] % 1 == 0).all()
    }
    frame.assign(**whole).to_csv(path, sep=sep, index=False, lineterminator="\n")
    return path
