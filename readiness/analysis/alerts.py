"""Alerts: ``watch`` assesses models, records what changed since last time, and tells the owners.

One run (:func:`watch`): every model (or one) is assessed as of now; its
:class:`~readiness.core.alerts.Snapshot` is compared with the one stored by the previous run;
each change is recorded as an alert (the change and the new snapshot in one transaction).
Then the messages go out, per channel: each new alert once, a reminder for a problem that
lasts past the reminder period (unless acknowledged or snoozed), failed deliveries again
(for ``retry_hours``), one digest instead when a run has many, nothing in quiet hours (held
for the next run after them). Every delivery is recorded, sent or failed with its reason.

The Alerts page reads :func:`alert_history` and acts through :func:`acknowledge_alert` and
:func:`snooze_alert`; Settings manages channels and the policy. Each change is audited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from urllib.parse import quote

import pandas as pd

from readiness.analysis.assessment import Assessment, assess_model
from readiness.analysis.delivery import Delivery, send_with_retries
from readiness.config import AlertsConfig
from readiness.core.access import Action, Actor, as_actor, require
from readiness.core.alerts import AlertPolicy, Change, Notification, Problem, Snapshot, batch, changes_between
from readiness.core.channels import Channel, SmtpSettings, check_channel
from readiness.core.checklist import ItemResult, status_words
from readiness.core.drift import explain
from readiness.core.records import Model, utcnow
from readiness.core.status import ItemStatus
from readiness.errors import ConfigError
from readiness.storage import alert_store as db
from readiness.storage.settings import current_attestations
from readiness.storage.store import Store

DEFAULT_APP_URL = "http://localhost:8501"
PAGE_PATHS = {
    "Overview": "",
    "Checklist": "checklist",
    "Drift": "drift",
    "Performance": "performance",
    "Data": "data",
    "Settings": "settings",
    "Report": "report",
    "Alerts": "alerts",
}
MAX_SNOOZE_HOURS = 24 * 90
WINDOW_WORDS = {"hour": "hourly", "day": "daily", "week": "weekly", "month": "monthly"}
DEFAULT_POLICY = AlertPolicy()
NO_CONFIG = AlertsConfig()  # no file: channels from Settings only, no mail server

Sender = Callable[[Channel, Notification, SmtpSettings | None, datetime], Delivery]


# --------------------------------------------------------------------------- what is wrong now


def snapshot_of(store: Store, assessment: Assessment, policy: AlertPolicy = DEFAULT_POLICY) -> Snapshot:
    """What watch keeps of an assessment: status, score, and every problem worth an alert."""
    problems: list[Problem] = []
    criteria = assessment.result("criteria_met")
    for result in assessment.results:
        if result is criteria and assessment.criteria_failing:
            continue  # each failing criterion is its own alert, which says more
        if result.item.key == "log_fresh" and result.status == ItemStatus.FAIL:
            problems.append(
                Problem(
                    "stale",
                    "log",
                    "The log is stale: " + _evidence_text(result),
                    _evidence(result),
                    "Overview",
                    "critical",
                    ended="The log is fresh again",
                )
            )
        elif result.item.critical and result.status == ItemStatus.FAIL:
            problems.append(
                Problem(
                    "critical_item",
                    result.item.key,
                    f"Critical item failing: {result.item.title}",
                    _evidence(result),
                    result.evidence.page if result.evidence and result.evidence.page else "Checklist",
                    "critical",
                    ended=f"Critical item passes again: {result.item.title}",
                )
            )
    for text in assessment.criteria_failing:
        problems.append(
            Problem(
                "criterion",
                text,
                f"Criterion failing: {text}",
                _evidence(criteria),
                "Performance",
                "critical",
                ended=f"Criterion met again: {text}",
            )
        )
    problems += _drift_problems(assessment)
    problems += _attestation_problems(store, assessment, policy.expiry_warning_days)
    blockers = tuple(
        f"{b.item.title} ({status_words(b)})"
        for b in assessment.score.blockers
        if not (b.item.key == "criteria_met" and assessment.criteria_failing)  # each criterion says more
    )
    return Snapshot(
        assessment.model.name,
        assessment.score.status.value,
        assessment.score.score_0_100,
        tuple(problems),
        assessment.as_of.isoformat(),
        blockers,
    )


def _evidence(result: ItemResult) -> tuple[str, ...]:
    """An item's figure (with its window) and its reason: the lines a notification carries."""
    evidence = result.evidence
    lines = []
    if evidence is not None and evidence.figure:
        lines.append(evidence.figure + (f" ({evidence.window})" if evidence.window else ""))
    if result.reason:
        lines.append(result.reason)
    return tuple(lines)


def _evidence_text(result: ItemResult) -> str:
    return result.evidence.figure if result.evidence is not None and result.evidence.figure else result.reason


def _drift_problems(assessment: Assessment) -> list[Problem]:
    drift = assessment.drift
    if drift is None:
        return []
    out = []
    for column in drift.columns:
        if not column.drifting:
            continue
        since = f" since {column.since:%Y-%m-%d}" if column.since else ""
        lines = []
        latest = column.latest
        if latest is not None:
            lines.append(f"Latest {drift.window}: {explain(latest)}")
            if latest.psi is not None:
                lines.append(f"PSI {latest.psi:.2f}")
        if column.since:
            lines.append(
                f"drifting since {column.since:%Y-%m-%d} ({WINDOW_WORDS.get(drift.window, drift.window)} windows)"
            )
        is_output = column.column in assessment.drifted_outputs
        out.append(
            Problem(
                "drift",
                column.column,
                f"Drift in {'output ' if is_output else ''}{column.column}{since}",
                tuple(lines),
                "Drift",
                "warning",
                ended=f"Drift in {column.column} ended",
            )
        )
    return out


def _attestation_problems(store: Store, assessment: Assessment, warn_days: int) -> list[Problem]:
    today = assessment.as_of.date()
    skip = set(assessment.config.not_applicable)
    titles = {r.item.key: r.item.title for r in assessment.results}
    out = []
    for key, attestation in sorted(current_attestations(store, assessment.model.id, today).items()):
        if key in skip or key not in titles:
            continue
        left = (attestation.expires_at - today).days
        if left > warn_days:
            continue
        expired = left < 0
        when = f"expired on {attestation.expires_at}" if expired else f"expires on {attestation.expires_at}"
        if not expired:
            when += " (today)" if left == 0 else f" (in {left} day{'s' if left > 1 else ''})"
        out.append(
            Problem(
                "attestation",
                key,
                f"Attestation {when}: {titles[key]}",
                (
                    f"attested by {attestation.owner} on {attestation.attested_at}",
                    "renew it on the Checklist page",
                ),
                "Checklist",
                "warning",
                state="expired" if expired else "expiring",
                ended=f"Attestation renewed: {titles[key]}",
            )
        )
    return out


# --------------------------------------------------------------------------- one watch run


@dataclass(frozen=True)
class SentMessage:
    """One message on one channel: which channel (masked), how many alerts, and the outcome."""

    channel: str
    alerts: int
    attempts: int
    error: str = ""


@dataclass(frozen=True)
class WatchResult:
    """What one run found and sent."""

    as_of: datetime
    models: tuple[str, ...]
    changes: tuple[tuple[int, Change], ...]
    messages: tuple[SentMessage, ...] = ()
    reminders: int = 0
    held: int = 0  # notifications held for quiet hours
    channels: int = 0

    @property
    def failures(self) -> tuple[SentMessage, ...]:
        """Messages no attempt could deliver."""
        return tuple(m for m in self.messages if m.error)

    def lines(self) -> list[str]:
        """The run in words, for the CLI."""
        out = [
            f"Watched {len(self.models)} model(s) as of {self.as_of:%Y-%m-%d %H:%M} UTC: "
            f"{len(self.changes)} change(s), {self.reminders} reminder(s) due."
        ]
        out += [f"  #{alert_id} {change.title}" for alert_id, change in self.changes]
        if self.held:
            out.append(f"Quiet hours: {self.held} notification(s) held until they end.")
        if not self.channels:
            out.append(
                "No alert channel is configured: alerts are recorded, nothing is sent (see docs/alerts.md)."
            )
        for m in self.messages:
            outcome = f"FAILED after {m.attempts} attempt(s): {m.error}" if m.error else "sent"
            out.append(f"  {m.channel}: {m.alerts} alert(s) {outcome}")
        return out


def all_channels(store: Store, config: AlertsConfig) -> tuple[Channel, ...]:
    """Every channel: those of the alerts configuration, then those added in Settings."""
    return config.channels + db.stored_channels(store)


def watch(
    store: Store,
    config: AlertsConfig = NO_CONFIG,
    *,
    model: Model | None = None,
    now: datetime | None = None,
    send: Sender | None = None,
) -> WatchResult:
    """Assess, record every change since the last run, and deliver what is due (see the module docstring)."""
    now = now or utcnow()
    policy, stored_url = db.load_policy(store)
    models = [model] if model is not None else store.list_models()
    found: list[tuple[int, Change]] = []
    for each in models:
        assessment = assess_model(store, each, now.replace(minute=0, second=0, microsecond=0))
        snapshot = snapshot_of(store, assessment, policy)
        with store.begin() as conn:
            changes = changes_between(db.last_snapshot(conn, each.id), snapshot)
            found += [(db.add_alert(conn, each.id, change, now), change) for change in changes]
            db.save_snapshot(conn, each.id, snapshot, now)
    channels = all_channels(store, config)
    names = {m.name for m in models}
    with store.engine.connect() as conn:
        since = now - timedelta(hours=policy.retry_hours)
        new = [a for a in db.undelivered(conn, since) if a.change.model in names]
        retry = [(a, c) for a, c in db.failed_deliveries(conn, since) if a.change.model in names]
        due = (
            [
                a
                for a in db.due_reminders(conn, now, now - timedelta(hours=policy.remind_hours))
                if a.change.model in names
            ]
            if policy.remind_hours > 0
            else []
        )
    result = WatchResult(now, tuple(sorted(names)), tuple(found), reminders=len(due), channels=len(channels))
    if policy.quiet is not None and policy.quiet.contains(now):
        return replace(result, held=len({a.id for a in new} | {a.id for a, _ in retry} | {a.id for a in due}))
    base = link_base(config, stored_url)
    messages = []
    for channel in channels:
        # one message per alert and channel in a run: its first delivery (or a retry of it) before a reminder
        first = {a.id: a for a in new if channel.covers(a.change.model)}
        first |= {a.id: a for a, name in retry if name == channel.name and channel.covers(a.change.model)}
        again = {a.id: a for a in due if channel.covers(a.change.model) and a.id not in first}
        notes = [
            Notification((a.change,), (link_for(base, a.change),), (a.id,), (reminder,))
            for reminder, group in ((False, first), (True, again))
            for _, a in sorted(group.items())
        ]
        for message in batch(notes, policy.digest_from):
            delivery = (send or send_with_retries)(channel, message, config.smtp, now)
            with store.begin() as conn:
                entries = list(zip(message.alert_ids, message.reminders, strict=True))
                db.record_delivery(conn, entries, channel, now, delivery.error, delivery.attempts)
            messages.append(
                SentMessage(channel.masked, len(message.changes), delivery.attempts, delivery.error)
            )
    return replace(result, messages=tuple(messages))


def link_base(config: AlertsConfig, stored_url: str) -> str:
    """Where links in messages point: the configured app address, else the one set in Settings, else the default."""
    return (config.app_url or stored_url or DEFAULT_APP_URL).rstrip("/")


def link_for(base: str, change: Change) -> str:
    """The address of the page that shows a change, for the model it is about.

    >>> from readiness.core.alerts import Change
    >>> link_for("https://app.example.com", Change("fraud & co", "drift", "amount", "started", "", "warning", "at_risk", 60.0, page="Drift"))
    'https://app.example.com/drift?model=fraud%20%26%20co'
    """
    path = PAGE_PATHS.get(change.page, "checklist")
    return f"{base.rstrip('/')}/{path}?model={quote(change.model, safe='')}"


# --------------------------------------------------------------------------- the Alerts page


@dataclass(frozen=True)
class AlertFilter:
    """What the Alerts page shows: one model or all, some kinds, only open problems, newest first."""

    model: Model | None = None
    kinds: tuple[str, ...] = ()
    open_only: bool = False
    limit: int = 500


ALL_ALERTS = AlertFilter()


@dataclass(frozen=True)
class AlertHistory:
    """Alerts (newest first), their deliveries, and channels whose latest delivery failed."""

    alerts: pd.DataFrame
    deliveries: pd.DataFrame
    failing_channels: pd.DataFrame
    channels: tuple[Channel, ...] = field(default=())

    @property
    def open_count(self) -> int:
        """Problems still open."""
        return int(self.alerts["open"].sum()) if len(self.alerts) else 0


def alert_history(
    store: Store, config: AlertsConfig = NO_CONFIG, filters: AlertFilter = ALL_ALERTS
) -> AlertHistory:
    """The Alerts page's content: alerts filtered, their deliveries, and failing channels of the last week."""
    model_id = filters.model.id if filters.model else None
    frame = db.alert_frame(store, model_id, filters.limit, filters.kinds, filters.open_only)
    deliveries = db.delivery_frame(store, [int(i) for i in frame["id"]])
    failing = db.latest_failures(store, utcnow() - timedelta(days=7))
    return AlertHistory(frame, deliveries, failing, all_channels(store, config))


def _alert_for_change(store: Store, alert_id: int, actor: Actor | str, action: Action) -> db.StoredAlert:
    with store.engine.connect() as conn:
        found = db.get_alert(conn, alert_id)
    if found is None:
        raise ConfigError(
            f"There is no alert #{alert_id}; see the Alerts page or `python -m readiness alerts list`."
        )
    require(actor, action, found.change.model)
    return found


def acknowledge_alert(store: Store, alert_id: int, actor: Actor | str) -> db.StoredAlert:
    """Acknowledge an alert (no more reminders about it), audited with who did it."""
    found = _alert_for_change(store, alert_id, actor, Action.ACKNOWLEDGE)
    name = as_actor(actor).name
    with store.begin() as conn:
        db.acknowledge(conn, alert_id, name, utcnow())
        store.audit(
            conn, "alert.acknowledge", found.model_id, name, {"alert": alert_id, "title": found.change.title}
        )
    return found


def snooze_alert(store: Store, alert_id: int, hours: float, actor: Actor | str) -> datetime:
    """Hold an alert's reminders for ``hours``; return until when (audited)."""
    if not 0 < hours <= MAX_SNOOZE_HOURS:
        raise ConfigError(
            f"Snooze for {hours!r} hours is out of range; snooze for 1 hour to {MAX_SNOOZE_HOURS} hours."
        )
    found = _alert_for_change(store, alert_id, actor, Action.ACKNOWLEDGE)
    name = as_actor(actor).name
    until = utcnow().replace(microsecond=0) + timedelta(hours=hours)
    with store.begin() as conn:
        db.snooze(conn, alert_id, name, until)
        store.audit(
            conn,
            "alert.snooze",
            found.model_id,
            name,
            {"alert": alert_id, "title": found.change.title, "until": until.isoformat()},
        )
    return until


# --------------------------------------------------------------------------- Settings: channels and policy


def add_channel(store: Store, kind: str, target: str, model: Model | None, actor: Actor | str) -> Channel:
    """Store a channel for one model (its owner may) or every model (admins); audited without the target."""
    require(actor, Action.ALERT_CHANNELS, model.name if model else None)
    checked = check_channel(kind, target)
    name = as_actor(actor).name
    with store.begin() as conn:
        channel_id = db.insert_channel(conn, model.id if model else None, kind, checked, name, utcnow())
        channel = Channel(f"channel-{channel_id}", kind, checked, model.name if model else None)
        db.audit_channel(store, conn, "alert.channel.add", model.id if model else None, name, channel)
    return channel


def remove_channel(store: Store, channel: Channel, actor: Actor | str) -> None:
    """Remove a channel added in Settings (audited)."""
    if channel.source != "settings" or not channel.name.startswith("channel-"):
        raise ConfigError(f"{channel.masked} comes from the alerts configuration file; remove it there.")
    require(actor, Action.ALERT_CHANNELS, channel.model)
    name = as_actor(actor).name
    model = store.find_model(channel.model) if channel.model else None
    with store.begin() as conn:
        db.delete_channel(conn, int(channel.name.removeprefix("channel-")))
        db.audit_channel(store, conn, "alert.channel.remove", model.id if model else None, name, channel)


def alert_policy(store: Store) -> tuple[AlertPolicy, str]:
    """The stored alert policy and the app's address for links."""
    return db.load_policy(store)


def set_alert_policy(store: Store, policy: AlertPolicy, app_url: str, actor: Actor | str) -> None:
    """Store how often watch speaks and where its links point (admins; audited)."""
    require(actor, Action.ALERT_CHANNELS, None)
    app_url = app_url.strip()
    if app_url and not app_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"The app's address {app_url!r} must start with http:// or https://, e.g. https://readiness.example.com."
        )
    name = as_actor(actor).name
    with store.begin() as conn:
        data = db.save_policy(conn, policy, app_url, utcnow())
        store.audit(conn, "alert.policy", None, name, data)


def backfill_alerts(
    store: Store,
    model: Model,
    days: int,
    step: int = 1,
    today: date | None = None,
    *,
    silent_start: bool = False,
) -> int:
    """Replay watch at the start of every ``step``-th of the last ``days`` days, recording each change then.

    What the owner would have received had watch run that often: alerts dated the day they
    would have been found, nothing sent. With ``silent_start`` the first replayed state is
    only kept (watch switched on then), not announced. The last replayed state becomes the one
    the next real ``watch`` compares with. Returns how many alerts were recorded.
    """
    today = today or utcnow().date()
    first = store.prediction_bounds(model.id)[0]
    if first is None:
        return 0
    previous = None
    recorded = 0
    with store.engine.connect() as conn:
        previous = db.last_snapshot(conn, model.id)
    for back in reversed(range(1, days + 1, step)):
        moment = datetime.combine(today - timedelta(days=back), time())
        if moment.date() <= first.date():
            continue
        snapshot = snapshot_of(store, assess_model(store, model, moment))
        with store.begin() as conn:
            changes = () if silent_start and previous is None else changes_between(previous, snapshot)
            for change in changes:
                db.add_alert(conn, model.id, change, moment)
                recorded += 1
            db.save_snapshot(conn, model.id, snapshot, moment)
        previous = snapshot
    return recorded
