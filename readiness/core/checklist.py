"""The readiness checklist and its score: pure functions, no database, no Streamlit.

Four sections (:data:`SECTIONS`) hold automatic checks, computed from the logs, and attested
checks, signed by an owner with a date, an evidence link and an expiry. Points per item: an
automatic pass scores 1, a valid attestation 1/2, a failure, an unknown or an expired
attestation 0; a not-applicable item (which needs a reason) leaves the denominator. A
section's score is its share of points; the readiness score (0-100) is the WEAKEST section's,
because all four matter. Sections with nothing applicable are ignored. Any failed critical
item makes the status "Not ready", whatever the number.

An attestation is valid through its ``expires_at`` date inclusive, and expired from the day
after.

Bands (:class:`Bands`): Ready from 75, At risk from 50, Not ready below. An attested item is
worth half a point, so a section tops out below 100 unless everything in it is automatic:
a section of four automatic and three attested items scores at most 5.5 / 7 = 79%. Every
default section has at least as many automatic items as attested ones, so a model whose
checks all pass and whose attestations are all valid is Ready (each section >= 75%), while
one automatic failure, or two missing attestations in a section, makes it At risk.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlsplit

from readiness.core.status import ItemStatus, ReadinessStatus
from readiness.errors import ChecklistError

SECTIONS = ("data", "model", "operations", "monitoring")
KINDS = ("automatic", "attested")
DEFAULT_VALIDITY_DAYS = 180
MAX_OWNER = 200
MAX_NOTE = 1_000
MAX_URL = 2_000
MAX_BLOCKERS = 2


@dataclass(frozen=True)
class ChecklistItem:
    """One check of the readiness checklist, automatic (from the logs) or attested (signed)."""

    key: str
    section: str
    title: str
    kind: str  # "automatic" or "attested"
    critical: bool = False
    how_to_pass: str = ""

    def __post_init__(self) -> None:
        if self.section not in SECTIONS:
            raise ChecklistError(
                f"Checklist item {self.key!r} has an unknown section {self.section!r}. "
                f"Use one of: {', '.join(SECTIONS)}."
            )
        if self.kind not in KINDS:
            raise ChecklistError(
                f"Checklist item {self.key!r} has an unknown kind {self.kind!r}. "
                f"Use one of: {', '.join(KINDS)}."
            )


def _auto(key: str, section: str, title: str, how: str, critical: bool = False) -> ChecklistItem:
    return ChecklistItem(key, section, title, "automatic", critical, how)


def _att(key: str, section: str, title: str, how: str) -> ChecklistItem:
    return ChecklistItem(key, section, title, "attested", False, how)


DEFAULT_ITEMS: tuple[ChecklistItem, ...] = (
    # data: is what the model sees in production what it was built on?
    _auto(
        "schema_matches_baseline",
        "data",
        "Live features match the baseline's columns and types",
        "Log the same feature columns, with the same types, as the baseline; or upload a new "
        "baseline if the change is intended.",
        critical=True,
    ),
    _auto(
        "missing_within_baseline",
        "data",
        "Missing values are no more frequent than in the baseline",
        "Find the feature whose missing rate rose (Drift page, data quality) and fix the upstream source.",
    ),
    _auto(
        "values_within_domain",
        "data",
        "Feature values stay within the baseline's ranges and categories",
        "Check the out-of-range values and unseen categories on the Drift page and fix or filter them "
        "upstream, or upload a baseline that covers them.",
    ),
    _auto(
        "no_feature_drift",
        "data",
        "No feature has drifted from the baseline",
        "Review the drifted features on the Drift page; retrain or refresh the baseline if the "
        "shift is genuine.",
    ),
    _auto(
        "label_coverage",
        "data",
        "Enough predictions receive labels to measure performance",
        "Upload delayed labels (Data page) for a larger share of predictions.",
    ),
    _att(
        "privacy_review",
        "data",
        "Personal data use has been reviewed",
        "Have the privacy owner review the features and attest with a link to the review.",
    ),
    _att(
        "data_lineage_documented",
        "data",
        "Where each feature comes from is documented",
        "Document each feature's source and transformation and attest with a link to it.",
    ),
    # model: does it do its job, and as well as in development?
    _auto(
        "criteria_met",
        "model",
        "The model meets its success criteria",
        "See the failing criterion on the Performance page; improve the model or revisit the "
        "criterion with its owner.",
        critical=True,
    ),
    _auto(
        "beats_trivial_baseline",
        "model",
        "The model beats a trivial baseline",
        "The model does no better than always predicting the majority class (or the mean): retrain it.",
    ),
    _auto(
        "calibrated",
        "model",
        "Predicted scores match observed rates",
        "Check the calibration chart on the Performance page; recalibrate the scores (or the bias) "
        "on recent labelled data.",
    ),
    _auto(
        "score_distribution_stable",
        "model",
        "The score distribution matches the baseline's",
        "Look at the score (or prediction) drift on the Drift page and find the feature or population "
        "change behind it.",
    ),
    _auto(
        "production_matches_development",
        "model",
        "Production performance matches development",
        "Compare development and production on the Performance page; find what differs (data, "
        "population, labels) and retrain if needed.",
    ),
    _att(
        "model_card",
        "model",
        "A model card describes purpose, data and limits",
        "Write a model card (intended use, training data, limits) and attest with a link to it.",
    ),
    _att(
        "fairness_review",
        "model",
        "Performance across groups has been reviewed",
        "Review performance per segment (Performance page) with the model owner and attest with a link.",
    ),
    _att(
        "reproducible_training",
        "model",
        "Training can be reproduced",
        "Version the training code, data and settings and attest with a link to the run.",
    ),
    # operations: is it served reliably?
    _auto(
        "outputs_valid",
        "operations",
        "Every prediction is a valid output",
        "Find the invalid predictions (missing, score outside 0-1, unknown class) in the log and fix "
        "the service.",
        critical=True,
    ),
    _auto(
        "latency_within_slo",
        "operations",
        "Prediction latency is within its objective",
        "See latency on the Performance page; speed up the service or agree a new objective "
        "(a latency_p95 criterion on Settings).",
    ),
    _auto(
        "log_volume_continuous",
        "operations",
        "Predictions are logged without gaps",
        "Find the days with (almost) no predictions and fix the service or the logging pipeline.",
    ),
    _auto(
        "model_version_recorded",
        "operations",
        "Each prediction records the model version",
        "Log model_version with every prediction (map a version column when uploading).",
    ),
    _att(
        "rollback_drill",
        "operations",
        "Rolling back to the previous model has been rehearsed",
        "Rehearse a rollback and attest with a link to its record.",
    ),
    _att(
        "on_call_runbook",
        "operations",
        "An on-call rota and incident runbook exist",
        "Name who is on call and write a runbook for the model's common failures; attest with a link.",
    ),
    # monitoring: would we notice when it goes wrong?
    _auto(
        "log_fresh",
        "monitoring",
        "The latest logs are recent",
        "Upload the latest prediction logs, or fix the job that sends them.",
    ),
    _auto(
        "criteria_defined",
        "monitoring",
        "The owner has set the model's own success criteria",
        "Set success criteria on the Settings page; task defaults are only a starting point.",
    ),
    _auto(
        "performance_measured",
        "monitoring",
        "Performance is measured on recent windows",
        "Upload labels for recent predictions so every criterion is judged on a recent window.",
    ),
    _auto(
        "no_quality_regression",
        "monitoring",
        "Performance has not fallen against earlier windows",
        "Find when performance fell on the Performance page and investigate the data or model change.",
    ),
    _auto(
        "estimate_agrees",
        "monitoring",
        "The label-free estimate agrees with measured performance",
        "The relation between the model's outputs and its outcomes has changed (concept drift): retrain on "
        "recent labelled data; until then do not rely on the estimate.",
    ),
    _att(
        "alerts_routed",
        "monitoring",
        "Alerts reach a named owner",
        "Route drift and performance alerts to an owner and attest with a link to the routing.",
    ),
    _att(
        "human_oversight",
        "monitoring",
        "A person reviews the model's decisions where needed",
        "Define who reviews which decisions and attest with a link to the procedure.",
    ),
    _att(
        "retraining_plan",
        "monitoring",
        "There is a plan for when and how to retrain",
        "Write the retraining triggers and steps and attest with a link to the plan.",
    ),
)
ITEMS_BY_KEY = {item.key: item for item in DEFAULT_ITEMS}


@dataclass(frozen=True)
class Evidence:
    """The figure behind a result, the time window it covers, and where to see it.

    ``page`` is the app page that shows the figure ("Overview", "Drift", "Performance",
    "Settings", "Checklist"); ``link`` is an attestation's evidence link.
    """

    figure: str
    window: str = ""
    page: str = ""
    link: str = ""


@dataclass(frozen=True)
class Attestation:
    """A signed attested check: owner, date, expiry (valid through it inclusive), evidence link."""

    item_key: str
    owner: str
    attested_at: date
    expires_at: date
    evidence_url: str
    note: str = ""

    def __post_init__(self) -> None:
        if not self.owner.strip():
            raise ChecklistError(
                f"The attestation of {self.item_key!r} has no owner (found {self.owner!r}). "
                "Enter the name of the person who attests it."
            )
        if self.expires_at < self.attested_at:
            raise ChecklistError(
                f"The attestation of {self.item_key!r} expires before it was made "
                f"(attested {self.attested_at.isoformat()}, expires {self.expires_at.isoformat()}). "
                "Set an expiry on or after the attestation date."
            )


def attestation_valid(att: Attestation, today: date) -> bool:
    """True through ``expires_at`` inclusive, False (expired) from the day after.

    >>> att = Attestation("model_card", "Ana", date(2024, 1, 1), date(2024, 6, 29), "https://x")
    >>> attestation_valid(att, date(2024, 6, 29)), attestation_valid(att, date(2024, 6, 30))
    (True, False)
    """
    return today <= att.expires_at


def _item_by_key(key: str, items: Iterable[ChecklistItem]) -> ChecklistItem:
    catalogue = {item.key: item for item in items}
    if key not in catalogue:
        raise ChecklistError(
            f"There is no checklist item {key!r}. Use one of: {', '.join(sorted(catalogue))}."
        )
    return catalogue[key]


MAX_VALIDITY_DAYS = 3650  # ten years: an attestation is re-checked long before, and dates never overflow


def new_attestation(
    item_key: str,
    owner: str,
    evidence_url: str,
    today: date,
    days: int = DEFAULT_VALIDITY_DAYS,
    items: Sequence[ChecklistItem] = DEFAULT_ITEMS,
    note: str = "",
) -> Attestation:
    """Attest ``item_key`` today, valid for ``days`` days (expires ``today + days``).

    >>> new_attestation("model_card", "Ana", "https://wiki/card", date(2024, 1, 1)).expires_at
    datetime.date(2024, 6, 29)
    """
    item = _item_by_key(item_key, items)
    if item.kind != "attested":
        raise ChecklistError(
            f"Checklist item {item_key!r} is {item.kind}, computed from the logs, so it cannot be "
            "attested. Attest one of the attested items instead."
        )
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_VALIDITY_DAYS:
        raise ChecklistError(
            f"The attestation of {item_key!r} has an invalid validity ({days!r} days). Use a whole number "
            f"of days from 0 to {MAX_VALIDITY_DAYS:,} (default {DEFAULT_VALIDITY_DAYS})."
        )
    owner = (owner or "").strip()
    if len(owner) > MAX_OWNER:
        raise ChecklistError(
            f"The owner of the attestation of {item_key!r} is {len(owner)} characters long; "
            f"use at most {MAX_OWNER}."
        )
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ChecklistError(
            f"The note of the attestation of {item_key!r} is {len(note)} characters long; "
            f"use at most {MAX_NOTE}."
        )
    url = check_evidence_url(item_key, evidence_url)
    return Attestation(item_key, owner, today, today + timedelta(days=days), url, note)


def check_evidence_url(item_key: str, url: str) -> str:
    """Return a stripped http(s) evidence link, else raise ChecklistError saying what to enter.

    >>> check_evidence_url("model_card", " https://wiki.example.com/fraud/card ")
    'https://wiki.example.com/fraud/card'
    """
    text = (url or "").strip() if isinstance(url, str) else ""
    parts = urlsplit(text) if text else None
    usable = (
        parts is not None
        and parts.scheme.lower() in ("http", "https")
        and parts.netloc
        and not any(ch.isspace() or ord(ch) < 32 for ch in text)
        and len(text) <= MAX_URL
    )
    if not usable:
        shown = text if len(text) <= 80 else text[:77] + "..."
        raise ChecklistError(
            f"The evidence link of {item_key!r} is {shown!r}, not a web address: enter the http:// or "
            f"https:// link (at most {MAX_URL} characters) of the document that shows it was done."
        )
    return text


@dataclass(frozen=True)
class ItemResult:
    """The outcome of one checklist item, with its evidence and a plain-language reason."""

    item: ChecklistItem
    status: ItemStatus
    evidence: Evidence | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "status", ItemStatus.parse(self.status))
        except ValueError:
            raise ChecklistError(
                f"Checklist item {self.item.key!r} has an unknown status {self.status!r}. "
                f"Use one of: {', '.join(ItemStatus)}."
            ) from None
        if self.status == ItemStatus.NOT_APPLICABLE and not self.reason.strip():
            raise ChecklistError(
                f"Checklist item {self.item.key!r} is marked not applicable without a reason. "
                "Say why it does not apply to this model."
            )


def attested_result(item: ChecklistItem, att: Attestation | None, today: date) -> ItemResult:
    """Turn an attestation (or its absence) into an item result as of ``today``."""
    if att is None:
        return ItemResult(item, ItemStatus.UNKNOWN, None, "Not attested yet.")
    if att.item_key != item.key:
        raise ChecklistError(
            f"The attestation is for {att.item_key!r}, not for {item.key!r}. "
            "Pass the attestation of this item."
        )
    evidence = Evidence(
        figure=f"attested by {att.owner} on {att.attested_at.isoformat()}",
        window=f"valid through {att.expires_at.isoformat()}",
        page="Checklist",
        link=att.evidence_url,
    )
    if attestation_valid(att, today):
        return ItemResult(item, ItemStatus.ATTESTED, evidence, f"Attested by {att.owner}.")
    return ItemResult(
        item, ItemStatus.EXPIRED, evidence, f"Attestation expired on {att.expires_at.isoformat()}."
    )


def status_words(result: ItemResult) -> str:
    """A result's status for people: "failing", "not attested yet", "not judged yet", "attestation expired"...

    >>> status_words(ItemResult(ITEMS_BY_KEY["model_card"], "unknown"))
    'not attested yet'
    """
    if result.status == ItemStatus.UNKNOWN:
        return "not attested yet" if result.item.kind == "attested" else "not judged yet"
    return _WORDS[result.status]


_WORDS = {
    ItemStatus.PASS: "passing",
    ItemStatus.FAIL: "failing",
    ItemStatus.ATTESTED: "attested",
    ItemStatus.EXPIRED: "attestation expired",
    ItemStatus.NOT_APPLICABLE: "not applicable",
}


def points(result: ItemResult) -> float | None:
    """Points of one result: pass 1, attested 0.5, fail/unknown/expired 0, N/A None.

    >>> item = DEFAULT_ITEMS[0]
    >>> points(ItemResult(item, "pass")), points(ItemResult(item, "attested")), points(ItemResult(item, "fail"))
    (1.0, 0.5, 0.0)
    >>> points(ItemResult(item, "not_applicable", reason="no baseline yet")) is None
    True
    """
    return result.status.points


@dataclass(frozen=True)
class Bands:
    """Status bands: score >= ``ready`` is "Ready", >= ``at_risk`` is "At risk", else "Not ready"."""

    ready: float = 75.0
    at_risk: float = 50.0

    def __post_init__(self) -> None:
        for name in ("ready", "at_risk"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
                raise ChecklistError(
                    f"The {name.replace('_', ' ')} band is {value!r}, not a number: "
                    "enter a score between 0 and 100."
                )
        if not 0 <= self.at_risk <= self.ready <= 100:
            raise ChecklistError(
                f"The status bands are out of order (ready {self.ready}, at risk {self.at_risk}). "
                "Use 0 <= at risk <= ready <= 100."
            )


@dataclass(frozen=True)
class SectionScore:
    """A section's points out of its applicable items; ``score`` is None when nothing applies."""

    section: str
    points: float
    applicable: int
    score: float | None


@dataclass(frozen=True)
class ReadinessScore:
    """The weakest section's score (0-100), its status, every section, and what to fix first."""

    score_0_100: float | None
    status: ReadinessStatus
    sections: tuple[SectionScore, ...]
    blockers: tuple[ItemResult, ...]
    critical_failures: tuple[ItemResult, ...]
    bands: Bands = field(default_factory=Bands)


def band_status(score_0_100: float | None, bands: Bands = Bands()) -> ReadinessStatus:
    """Map a 0-100 score to Ready, At risk or Not ready (None is Not ready).

    >>> [band_status(s).label for s in (75.0, 74.9, 50.0, 49.9, None)]
    ['Ready', 'At risk', 'At risk', 'Not ready', 'Not ready']
    """
    if score_0_100 is None:
        return ReadinessStatus.NOT_READY
    if score_0_100 >= bands.ready:
        return ReadinessStatus.READY
    if score_0_100 >= bands.at_risk:
        return ReadinessStatus.AT_RISK
    return ReadinessStatus.NOT_READY


# Failures that say the model or its data changed, most telling first: they lead "fix first"
# ahead of logging gaps (no model version, no latency) whatever the sections' scores.
LEADING_FAILURES = (
    "criteria_met",
    "no_feature_drift",
    "no_quality_regression",
    "production_matches_development",
    "score_distribution_stable",
    "values_within_domain",
    "missing_within_baseline",
    "beats_trivial_baseline",
    "calibrated",
)


def _lead_rank(result: ItemResult) -> int:
    """Where a failed item ranks among the leading failures (after them all when it is not one)."""
    if result.status != ItemStatus.FAIL or result.item.key not in LEADING_FAILURES:
        return len(LEADING_FAILURES)
    return LEADING_FAILURES.index(result.item.key)


def score_checklist(results: Sequence[ItemResult], bands: Bands = Bands()) -> ReadinessScore:
    """Score the checklist: the weakest section decides; a failed critical item means "Not ready".

    >>> data, model, model2 = DEFAULT_ITEMS[1], DEFAULT_ITEMS[8], DEFAULT_ITEMS[9]
    >>> r = score_checklist([ItemResult(data, "pass"), ItemResult(model, "fail"), ItemResult(model2, "pass")])
    >>> r.score_0_100, r.status.label, [b.item.key for b in r.blockers]
    (50.0, 'At risk', ['beats_trivial_baseline'])
    """
    seen: set[str] = set()
    for result in results:
        if result.item.key in seen:
            raise ChecklistError(
                f"Checklist item {result.item.key!r} has more than one result. Pass one result per item."
            )
        seen.add(result.item.key)

    sections: list[SectionScore] = []
    for section in SECTIONS:
        scored = [p for r in results if r.item.section == section and (p := points(r)) is not None]
        total = float(sum(scored))
        sections.append(SectionScore(section, total, len(scored), total / len(scored) if scored else None))

    # Percentages as 100 * points / applicable, so e.g. 4/5 is exactly 80.0 at a band edge.
    percent = {s.section: 100 * s.points / s.applicable for s in sections if s.applicable}
    score = min(percent.values()) if percent else None

    critical_failures = tuple(r for r in results if r.item.critical and r.status == ItemStatus.FAIL)
    status = ReadinessStatus.NOT_READY if critical_failures else band_status(score, bands)

    # Critical failures first, then the other failures, those saying the model or its data changed
    # (LEADING_FAILURES, in that order) before the rest; then what is unknown or expired; within
    # each, the weakest section's first.
    order = {s: i for i, s in enumerate(SECTIONS)}
    holding_back = [(i, r) for i, r in enumerate(results) if r.status.holds_back]
    holding_back.sort(
        key=lambda ir: (
            not (ir[1].item.critical and ir[1].status == ItemStatus.FAIL),
            ir[1].status != ItemStatus.FAIL,
            _lead_rank(ir[1]),
            percent.get(ir[1].item.section, 100.0),
            order[ir[1].item.section],
            ir[0],
        )
    )
    blockers = tuple(r for _, r in holding_back[:MAX_BLOCKERS])

    return ReadinessScore(score, status, tuple(sections), blockers, critical_failures, bands)
