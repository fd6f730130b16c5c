"""A model's readiness assessment: every checklist item judged from the logs, scored, recorded.

:func:`assess_model` gathers what the automatic checks need from stored aggregates (day
profiles for drift and data quality, day records for performance and operations), a bounded
sample of raw rows for the schema check, the model's criteria, attestations and checklist
configuration, and runs :mod:`readiness.core.checks`. It reads kilobytes, not the log: an
assessment over millions of predictions costs about what one over thousands does.

Periods, as of ``now``: the log's end is the day after its newest prediction before ``now``.
Drift, data quality, schema and latency look at the newest ``recent_days`` up to that end;
performance, volume, output validity and versions at the newest ``lookback_days``; each
criterion is judged in its own calendar windows (complete when they ended before ``now``).

Assessing never writes. The score is recorded once per model and UTC day (the latest that
day wins) by explicit paths only: :func:`record_score` after ingestion, the gate and
``python -m readiness record``, so its history can be charted (:func:`score_history`).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from readiness.analysis.aggregates import stored_profiles, stored_records, stored_reference
from readiness.analysis.cache import cached
from readiness.analysis.performance_overview import development_performance
from readiness.analysis.settings import judged_at, model_criteria
from readiness.core import checks as c
from readiness.core import estimators
from readiness.core.checklist import (
    DEFAULT_ITEMS,
    SECTIONS,
    ChecklistItem,
    Evidence,
    ItemResult,
    ReadinessScore,
    attested_result,
    score_checklist,
    status_words,
)
from readiness.core.checklist_config import ChecklistConfig, Margins
from readiness.core.criteria import Criterion, CriterionResult
from readiness.core.drift_now import (
    DayProfiles,
    DriftNow,
    WindowDrift,
    complete_end,
    default_window,
    drift_now,
    window_drift,
    window_groups,
    window_profiles,
)
from readiness.core.lazy import lazy_module
from readiness.core.metrics import MetricValue
from readiness.core.performance import (
    CriterionTrack,
    DayRecord,
    Merge,
    compute_all,
    group_by_window,
    merge_records,
    track_criterion,
)
from readiness.core.probabilities import is_probability_output
from readiness.core.profiles import CategoricalProfile, FrameProfile, Reference, merge_all
from readiness.core.quality import ColumnQuality, column_quality
from readiness.core.records import Baseline, Model, utcnow
from readiness.core.status import CriteriaState, CriterionStatus, ItemStatus
from readiness.core.windows import window_start
from readiness.errors import ChecklistError
from readiness.storage import history
from readiness.storage.samples import newest_rows, sample_predictions
from readiness.storage.settings import current_attestations, load_config
from readiness.storage.store import Store

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")


@dataclass(frozen=True)
class Assessment:
    """One model's checklist as of a moment: every item's result, the score, and headline facts."""

    model: Model
    as_of: datetime
    results: tuple[ItemResult, ...]
    score: ReadinessScore
    config: ChecklistConfig
    last_prediction: datetime | None
    recent: c.Period | None
    drifted_features: tuple[str, ...]  # baseline features drifting now, the longest-running first
    drifted_outputs: tuple[str, ...]  # "prediction" and/or "score" when they drift
    criteria_failing: tuple[str, ...]
    criteria_status: CriteriaState
    drift: DriftNow | None = None  # every column's state in the latest complete window

    @property
    def judged_as_of(self) -> str:
        """When the checklist was judged, in words: "as of 2026-12-02 04:00 UTC", or a historical log's end."""
        last = self.last_prediction
        if self.config.historical and last is not None:
            return f"as of its log's end, {last.day} {last:%b %Y} (a historical log)"
        return f"as of {self.as_of:%Y-%m-%d %H:%M} UTC"

    @property
    def score_text(self) -> str:
        """The score for people: "72" or "n/a"."""
        return "n/a" if self.score.score_0_100 is None else f"{self.score.score_0_100:.0f}"

    @property
    def freshness_hours(self) -> float | None:
        """Hours from the newest prediction to the assessment (None without predictions)."""
        if self.last_prediction is None:
            return None
        return max((self.as_of - self.last_prediction).total_seconds() / 3600, 0.0)

    def section_percent(self, section: str) -> float | None:
        """A section's score in percent (None when nothing in it applies)."""
        found = next(s for s in self.score.sections if s.section == section)
        return None if found.score is None else 100 * found.points / found.applicable

    def by_section(self, section: str) -> tuple[ItemResult, ...]:
        """The section's items in catalogue order."""
        return tuple(r for r in self.results if r.item.section == section)

    def result(self, key: str) -> ItemResult:
        """One item's result by key."""
        return next(r for r in self.results if r.item.key == key)

    @property
    def headline(self) -> str:
        """One line: status, score and what holds the model back."""
        reasons = "; ".join(f"{b.item.title} ({status_words(b)})" for b in self.score.blockers)
        tail = f": {reasons}" if reasons else ""
        return f"{self.score.status.label} ({self.score_text}){tail}"


def assess_model(store: Store, model: Model, now: datetime | None = None) -> Assessment:
    """Judge every checklist item of one model as of ``now`` (default: this hour) and score it.

    Nothing is written (see :func:`record_score`); the result comes from the one result
    cache, keyed on the model's data version (new rows, labels, refreshes and settings) and
    the hour, so repeating it is a lookup. As of now, it is also kept on disk for the next
    process (:mod:`readiness.analysis.kept`); a backfill's past days are not.
    """
    as_of = now or utcnow().replace(minute=0, second=0, microsecond=0)
    return cached(
        store,
        model,
        "assessment",
        (as_of,),
        lambda: _assess(store, model, as_of, keep=now is None),
        keep=now is None,
    )


def assess_portfolio(store: Store, now: datetime | None = None) -> tuple[Assessment, ...]:
    """Every model's assessment, by name."""
    return tuple(assess_model(store, model, now) for model in store.list_models())


# --------------------------------------------------------------------------- gathering


@dataclass(frozen=True)
class _Facts:
    """What the automatic checks are computed from (all optional: a new model has little)."""

    model: Model
    baseline: Baseline | None
    as_of: datetime
    margins: Margins
    criteria: tuple[Criterion, ...]
    last_prediction: datetime | None
    recent: c.Period | None
    lookback: c.Period | None
    reference: Reference | None
    current: FrameProfile | None
    drift: DriftNow | None
    quality: tuple[ColumnQuality, ...]
    sample: c.SchemaSample | None
    tracks: tuple[CriterionTrack, ...]
    production: DayRecord | None  # lookback period, all versions
    recent_record: DayRecord | None  # recent period
    coverage: tuple[c.Period | None, int, int]
    daily: tuple[tuple[date, int], ...]
    complete_days: c.Period | None
    unversioned: int
    development: DayRecord | None
    primary: CriterionTrack | None  # the first label-based criterion's track
    estimates: tuple[tuple[datetime, CriterionResult, MetricValue | None], ...]


def _assess(store: Store, model: Model, as_of: datetime, keep: bool = False) -> Assessment:
    """``keep``: the label-free facts are kept on disk too (an assessment as of now)."""
    config = load_config(store, model.id)
    moment = judged_at(store, model, as_of, config)
    facts = _gather(
        store, model, store.active_baseline(model.id), moment, config.margins, config.historical, keep
    )
    attestations = current_attestations(store, model.id, as_of.date())  # attestations expire in real time
    results = []
    for item in DEFAULT_ITEMS:
        if item.key in config.critical:
            item = replace(item, critical=config.critical[item.key])
        if item.key in config.not_applicable:
            results.append(
                ItemResult(
                    item,
                    ItemStatus.NOT_APPLICABLE,
                    Evidence("marked not applicable", "", "Checklist"),
                    config.not_applicable[item.key],
                )
            )
        elif item.kind == "attested":
            results.append(attested_result(item, attestations.get(item.key), as_of.date()))
        elif item.key == "log_fresh" and config.historical and facts.last_prediction is not None:
            results.append(_historical_freshness(item, facts.last_prediction))
        else:
            results.append(AUTOMATIC[item.key](item, facts))
    score = score_checklist(results, config.bands)
    failing = tuple(
        tr.criterion.text
        for tr in facts.tracks
        if any(
            r.status == CriterionStatus.FAIL for _, r in tr.judged_windows[-config.margins.criteria_windows :]
        )
    )
    criteria_item = next(r for r in results if r.item.key == "criteria_met")
    status = (
        CriteriaState.NO_CRITERIA
        if not facts.tracks
        else {
            ItemStatus.FAIL: CriteriaState.FAILING,
            ItemStatus.PASS: CriteriaState.MET,
        }.get(criteria_item.status, CriteriaState.INSUFFICIENT)
    )
    drifted = list(facts.drift.drifting) if facts.drift else []
    features = set(_features(facts))
    return Assessment(
        model,
        as_of,
        tuple(results),
        score,
        config,
        facts.last_prediction,
        facts.recent,
        tuple(d for d in drifted if d in features),
        tuple(d for d in drifted if d not in features),
        failing,
        status,
        facts.drift,
    )


def _historical_freshness(item: ChecklistItem, last: datetime) -> ItemResult:
    """A historical log is finished: freshness does not apply, and the result says where the log ends."""
    ends = f"{last.day} {last:%b %Y}"
    return ItemResult(
        item,
        ItemStatus.NOT_APPLICABLE,
        Evidence(f"log ends {ends}", "", "Overview"),
        f"Historical log: it ends {ends} and is judged as of its end; freshness applies to a live service.",
    )


def _gather(
    store: Store,
    model: Model,
    baseline: Baseline | None,
    as_of: datetime,
    margins: Margins,
    finished: bool = False,
    keep: bool = False,
) -> _Facts:
    criteria = model_criteria(store, model)
    last = store.prediction_bounds(model.id, before=as_of)[1]
    unjudged = tuple(CriterionTrack(cr, (), None, None) for cr in criteria)
    empty = _Facts(
        model,
        baseline,
        as_of,
        margins,
        criteria,
        last,
        None,
        None,
        None,
        None,
        None,
        (),
        None,
        unjudged,
        None,
        None,
        (None, 0, 0),
        (),
        None,
        0,
        None,
        _primary_track(criteria, unjudged),
        (),
    )
    if baseline is None or last is None:
        return empty
    end = datetime.combine(last.date(), time()) + timedelta(days=1)
    recent = c.Period(end - timedelta(days=margins.recent_days), end)
    lookback = c.Period(end - timedelta(days=margins.lookback_days), end)

    reference = stored_reference(store, model, baseline)

    def label_free() -> tuple[
        DriftNow | None, c.SchemaSample, FrameProfile | None, tuple[ColumnQuality, ...]
    ]:
        profiles = stored_profiles(store, model, baseline)
        days = [p for d, p in profiles if recent.start <= d < recent.end]
        current = merge_all(days, start=None) if days else None
        drift = _drift_now(
            _window_drifts(store, model, baseline),
            reference,
            [(d, p) for d, p in profiles if d < end],
            end,
            as_of,
            finished,
        )
        quality = (
            column_quality(reference, current, None, margins.missing_margin) if current is not None else ()
        )
        return (
            drift,
            _schema_sample(store, model, baseline, recent, margins.schema_sample_rows),
            current,
            quality,
        )

    # drift, the schema sample and the recent profile never read a label: a label upload reads them back
    key = (baseline.id, as_of, end, finished, recent, margins.schema_sample_rows, margins.missing_margin)
    drift, sample, current, quality = cached(
        store, model, "label_free_facts", key, label_free, keep=keep, reads_labels=False
    )

    windows = {cr.window for cr in criteria}
    aligned = min(window_start(lookback.start, w) for w in windows) if windows else lookback.start
    records = [r for r in stored_records(store, model, baseline) if aligned <= r.day < end]
    merges = _window_merges(store, model, baseline)
    tracks = tuple(
        track_criterion(cr, records, model, baseline, as_of, _known_merge(merges, model, baseline, False))
        for cr in criteria
    )
    in_lookback = [r for r in records if r.day >= lookback.start]
    production = (
        merge_records(in_lookback, model, baseline, lookback.start, estimate=False) if in_lookback else None
    )
    in_recent = [r for r in records if r.day >= recent.start]
    recent_record = (
        merge_records(in_recent, model, baseline, recent.start, estimate=False) if in_recent else None
    )

    grace_end = end - timedelta(days=margins.label_grace_days)
    cover = [r for r in in_lookback if r.day < grace_end]
    coverage_period = c.Period(lookback.start, grace_end) if grace_end > lookback.start else None
    coverage = (coverage_period, sum(r.n_rows for r in cover), sum(r.n_labelled for r in cover))

    first_day = records[0].day if records else lookback.start
    complete_end = min(end, datetime.combine(as_of.date(), time()))
    complete = (
        c.Period(max(lookback.start, first_day), complete_end)
        if complete_end > max(lookback.start, first_day)
        else None
    )
    daily = _daily_volume(in_lookback, complete) if complete is not None else ()
    unversioned = sum(r.n_rows for r in in_lookback if r.version == "")
    primary = _primary_track(criteria, tracks)
    estimates = _estimates(
        records, model, primary, margins.criteria_windows, _known_merge(merges, model, baseline, True)
    )
    return _Facts(
        model,
        baseline,
        as_of,
        margins,
        criteria,
        last,
        recent,
        lookback,
        reference,
        current,
        drift,
        quality,
        sample,
        tracks,
        production,
        recent_record,
        coverage,
        daily,
        complete,
        unversioned,
        development_performance(store, model, baseline),
        primary,
        estimates,
    )


def _daily_volume(records: Sequence[DayRecord], period: c.Period) -> tuple[tuple[date, int], ...]:
    counts: Counter = Counter()
    for r in records:
        counts[r.day.date()] += r.n_rows
    return tuple(
        (period.start.date() + timedelta(days=i), counts.get(period.start.date() + timedelta(days=i), 0))
        for i in range(period.days)
    )


WindowDrifts = dict[tuple[str, datetime, tuple[datetime, ...]], WindowDrift]


def _window_drifts(store: Store, model: Model, baseline: Baseline) -> WindowDrifts:
    """The windows' drift already computed for this baseline and data version, by window size, start and days.

    Assessments as of successive days (a backfilled score history, the hourly Overview) judge
    the same closed windows again; each is computed once. Two sessions filling it at once
    store equal values, as a window's drift depends only on its key within a data version.
    """
    return cached(store, model, "window_drifts", (baseline.id,), dict)


WindowMerges = dict[tuple[datetime, bool, tuple[tuple[datetime, str], ...]], DayRecord]


def _window_merges(store: Store, model: Model, baseline: Baseline) -> WindowMerges:
    """Windows' merged day records already computed for this baseline and data version (as :func:`_window_drifts`)."""
    return cached(store, model, "window_merges", (baseline.id,), dict)


def _known_merge(known: WindowMerges, model: Model, baseline: Baseline, estimate: bool) -> Merge:
    """:func:`merge_records` of a window's day records, from ``known`` when that window was merged before."""

    def merge(group: list[DayRecord], start: datetime) -> DayRecord:
        key = (start, estimate, tuple((r.day, r.version) for r in group))
        found = known.get(key)
        if found is None:
            found = known[key] = merge_records(group, model, baseline, start, estimate=estimate)
        return found

    return merge


def _drift_now(
    known: WindowDrifts,
    reference: Reference,
    days: Sequence[tuple[datetime, FrameProfile]],
    end: datetime,
    as_of: datetime,
    finished: bool = False,
) -> DriftNow | None:
    """The Drift page's default view: default windows over the whole log up to ``end``, judged now."""
    if not days:
        return None
    window = default_window(days)
    timeline = tuple(
        _known_drift(known, reference, window, start, group) for start, group in window_groups(days, window)
    )
    return drift_now(timeline, window, complete_end(end, as_of, finished), days[0][0])


def _known_drift(
    known: WindowDrifts, reference: Reference, window: str, start: datetime, group: DayProfiles
) -> WindowDrift:
    """One window's drift from ``known``, computed and kept there the first time."""
    key = (window, start, tuple(day for day, _ in group))
    found = known.get(key)
    if found is None:
        found = known[key] = window_drift(reference, start, window_profiles(group, window)[0][1])
    return found


def _schema_sample(
    store: Store, model: Model, baseline: Baseline, period: c.Period, n: int
) -> c.SchemaSample:
    """Which keys and value types a bounded random sample of the period's raw rows carries."""
    sampled = sample_predictions(store, model.id, period.start, period.end, n)
    newest = newest_rows(store, model.id, period.start, period.end, n // 3)
    rows = [json.loads(text) if text else {} for text in sampled + newest]
    names = set(baseline.feature_names)
    present: Counter = Counter()
    extra: Counter = Counter()
    for row in rows:
        for key in row:
            (present if key in names else extra)[key] += 1
    values, non_numeric = {}, {}
    for spec in baseline.features:
        column = [v for row in rows if (v := row.get(spec.name)) is not None and v == v]  # not None or NaN
        values[spec.name] = len(column)
        if spec.kind == "numeric":
            non_numeric[spec.name] = _not_numbers(column)
    return c.SchemaSample(len(rows), dict(present), values, non_numeric, dict(extra))


def _not_numbers(values: list) -> int:
    """How many values ``pd.to_numeric`` cannot read: none when all are ints and floats (the usual case)."""
    if all(type(v) in (int, float) for v in values):
        return 0
    return int(pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").isna().sum())


# --------------------------------------------------------------------------- the automatic items


def _features(f: _Facts) -> tuple[str, ...]:
    return f.baseline.feature_names if f.baseline else ()


def _has_scores(f: _Facts) -> bool:
    return f.reference is not None and "score" in f.reference.names


def _estimable(f: _Facts) -> str:
    """Why the model's outputs cannot be estimated without labels ("" when they can)."""
    if f.model.task == "binary" and not _has_scores(f):
        return "The model logs no scores, so performance cannot be estimated without labels."
    names = f.reference.names if f.reference is not None else ()
    if f.model.task == "multiclass" and not any(is_probability_output(n) for n in names):
        return "The model logs no class probabilities, so performance cannot be estimated without labels."
    return ""


def _outputs(f: _Facts) -> tuple[str, ...]:
    """The model outputs drift watches: the score (binary), class probabilities (multiclass), the prediction."""
    names = f.reference.names if f.reference is not None else ()
    probabilities = tuple(n for n in names if is_probability_output(n))
    return (*(("score",) if _has_scores(f) else ()), *probabilities, "prediction")


def _unknown_classes(f: _Facts) -> int:
    if f.current is None or f.model.task == "regression" or f.baseline is None:
        return 0
    profile = f.current["prediction"]
    if not isinstance(profile, CategoricalProfile):
        return 0
    known = set(f.baseline.classes)
    return sum(count for value, count in profile.unseen if value not in known) + (
        profile.unseen_other if known else 0
    )


def _primary_track(criteria: Sequence[Criterion], tracks: Sequence[CriterionTrack]) -> CriterionTrack | None:
    primary = c.primary_criterion(criteria)
    return next((tr for tr in tracks if tr.criterion == primary), None)


def _dev_gap(item: ChecklistItem, f: _Facts) -> ItemResult:
    if f.primary is None:
        return ItemResult(
            item,
            ItemStatus.UNKNOWN,
            Evidence("no label-based criterion", "", "Settings"),
            "No label-based criterion names the metric to compare.",
        )
    metric = f.primary.criterion.metric
    dev = compute_all(f.development, (metric,))[metric] if f.development else None
    prod = compute_all(f.production, (metric,))[metric] if f.production else None
    return c.check_dev_gap(item, metric, dev, prod, f.margins.dev_gap, f.lookback)


def _estimates(
    records: list[DayRecord], model: Model, track: CriterionTrack | None, n_windows: int, merge: Merge
) -> tuple[tuple[datetime, CriterionResult, MetricValue | None], ...]:
    """Measured and label-free estimated primary metric in the criterion's newest judged windows."""
    metric = estimators.estimated_metric(model.task, track.criterion.metric) if track is not None else None
    if track is None or metric is None:
        return ()
    judged = track.judged_windows[-n_windows:]
    if not judged:
        return ()
    groups = group_by_window([r for r in records if r.day >= judged[0][0]], track.criterion.window)
    out = []
    for start, result in judged:
        group = groups.get(start, [])
        if not group:
            continue
        merged = merge(group, start)
        estimate = estimators.estimate(merged.estimate).get(metric) if merged.estimate else None
        if metric != track.criterion.metric:
            value = compute_all(merged, (metric,))[metric]
            result = CriterionResult(
                replace(track.criterion, metric=metric),
                result.status,
                value.value,
                value.lower,
                value.upper,
                value.n,
                result.reason,
            )
        out.append((start, result, estimate))
    return tuple(out)


AUTOMATIC = {
    "schema_matches_baseline": lambda item, f: c.check_schema(
        item, f.sample, {s.name: s.kind for s in f.baseline.features} if f.baseline else {}, f.recent
    ),
    "missing_within_baseline": lambda item, f: c.check_missing(
        item, f.quality, _features(f), f.margins.missing_margin, f.recent
    ),
    "values_within_domain": lambda item, f: c.check_domain(
        item, f.quality, _features(f), f.margins.out_of_range_share, f.margins.unseen_share, f.recent
    ),
    "no_feature_drift": lambda item, f: c.check_feature_drift(item, f.drift, _features(f)),
    "label_coverage": lambda item, f: c.check_label_coverage(
        item, f.coverage[1], f.coverage[2], f.margins.min_label_coverage, f.coverage[0]
    ),
    "criteria_met": lambda item, f: c.check_criteria(item, f.tracks, f.margins.criteria_windows),
    "beats_trivial_baseline": lambda item, f: c.check_trivial_baseline(
        item, f.model.task, f.production.quality if f.production else None, f.lookback
    ),
    "calibrated": lambda item, f: c.check_calibration(
        item,
        f.model.task,
        f.production.quality if f.production else None,
        f.margins.max_ece,
        f.margins.max_bias_share,
        f.lookback,
    ),
    "score_distribution_stable": lambda item, f: c.check_score_stability(item, f.drift, _outputs(f)),
    "production_matches_development": _dev_gap,
    "outputs_valid": lambda item, f: c.check_outputs(
        item,
        f.production.operations if f.production else None,
        _unknown_classes(f),
        f.margins.max_invalid_share,
        f.lookback,
    ),
    "latency_within_slo": lambda item, f: c.check_latency(
        item,
        f.recent_record.operations if f.recent_record else None,
        *c.latency_objective(f.criteria, f.margins.latency_slo_ms),
        f.recent,
    ),
    "log_volume_continuous": lambda item, f: c.check_volume(
        item, f.daily, f.margins.min_day_volume_share, f.complete_days
    ),
    "model_version_recorded": lambda item, f: c.check_versions(
        item, f.production.n_rows if f.production else 0, f.unversioned, f.lookback
    ),
    "log_fresh": lambda item, f: c.check_freshness(
        item, f.last_prediction, f.as_of, f.margins.freshness_hours
    ),
    "criteria_defined": lambda item, f: c.check_criteria_defined(item, f.criteria),
    "performance_measured": lambda item, f: c.check_performance_measured(
        item, f.tracks, f.as_of, f.margins.max_label_age_days
    ),
    "no_quality_regression": lambda item, f: c.check_regression(
        item, f.primary, f.margins.regression_margin, f.margins.regression_windows
    ),
    "estimate_agrees": lambda item, f: c.check_estimate(item, _estimable(f), f.estimates),
}


# --------------------------------------------------------------------------- history


def record_score(store: Store, assessment: Assessment) -> None:
    """Store the assessment's score as its UTC day's (replacing an earlier one that day): an explicit write."""
    sections = {s: assessment.section_percent(s) for s in SECTIONS}
    history.record_day(
        store,
        assessment.model,
        assessment.as_of.date(),
        assessment.score.score_0_100,
        assessment.score.status,
        sections,
    )


def record_scores(store: Store, now: datetime | None = None) -> tuple[Assessment, ...]:
    """Assess every model and record each score as today's (what ``python -m readiness record`` runs)."""
    assessments = assess_portfolio(store, now)
    for assessment in assessments:
        record_score(store, assessment)
    return assessments


def backfill_history(
    store: Store, model: Model, days: int = 90, step: int = 1, today: date | None = None
) -> int:
    """Record the score as of the start of each ``step``-th of the last ``days`` days; return how many.

    Past days are judged on the logs, labels and attestations dated before them, with the
    labels as they stand now (labels that arrived later are included) and today's settings.
    """
    if days < 1 or step < 1:
        raise ChecklistError(
            f"Backfill needs at least 1 day and a step of at least 1; got {days} days, step {step}."
        )
    today = today or utcnow().date()
    first = store.prediction_bounds(model.id)[0]
    if first is None:
        return 0
    recorded = 0
    for back in reversed(range(1, days + 1, step)):  # oldest first, ending yesterday
        day = today - timedelta(days=back)
        if day <= first.date():
            continue
        record_score(store, assess_model(store, model, datetime.combine(day, time())))
        recorded += 1
    return recorded


def score_history(store: Store, model: Model) -> pd.DataFrame:
    """The model's recorded scores, oldest first: day, score, status and one column per section."""
    return history.score_history(store, model, SECTIONS)
