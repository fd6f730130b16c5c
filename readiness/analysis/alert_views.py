"""What the Alerts page and the Settings page's alerts section show, in words: records, not tables.

:func:`alerts_view` reads the alerts configuration and :func:`~readiness.analysis.alerts.alert_history`
once and says, per alert, its state ("acknowledged by ana") and what became of its deliveries
("sent to 2 channels", "failed: ..."), with the page that shows it; channels appear only masked.
:func:`alert_settings` is the Settings side: every channel, where it comes from, and the policy.
The rest are pure functions of those records. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pandas as pd

from readiness.analysis.alerts import (
    AlertFilter,
    AlertHistory,
    alert_history,
    alert_policy,
    all_channels,
    link_base,
    link_for,
)
from readiness.config import AlertsConfig, alerts_config
from readiness.core.alert_messages import email_message
from readiness.core.alerts import KIND_WORDS, KINDS, AlertPolicy, Change, Notification, QuietHours
from readiness.core.channels import CHANNEL_KINDS, Channel
from readiness.core.records import utcnow
from readiness.storage.alert_store import change_of
from readiness.storage.store import Store

__all__ = [  # what the pages use from here
    "ALERT_KINDS",
    "CHANNEL_KINDS",
    "KIND_WORDS",
    "AlertLine",
    "AlertSettings",
    "AlertsView",
    "ChannelDown",
    "ChannelLine",
    "DeliveryLine",
    "MessagePreview",
    "alert_lines",
    "alert_settings",
    "alerts_view",
    "delivery_lines",
    "email_preview",
    "failing_channels",
    "new_policy",
    "state_words",
]

ALERT_KINDS = KINDS
DEFAULT_SENDER = "readiness@localhost"


@dataclass(frozen=True)
class AlertLine:
    """One alert as the Alerts page lists it: when, what, its state and deliveries in words, where to see it."""

    id: int
    model: str
    detected_at: datetime
    kind: str
    event: str
    title: str
    what: str  # the title without the model's name in front ("Drift in amount since ..."), beside a Model column
    severity: str
    state: str  # "open", "acknowledged by ana", "snoozed until ...", "resolved", "closed on ..."
    deliveries: str  # "sent to 2 channels", "failed: ...", "not sent: no channel"
    link: str  # the page that shows it, relative to the app: "/drift?model=fraud"
    evidence: tuple[str, ...]
    open: bool
    acknowledged: bool
    change: Change


@dataclass(frozen=True)
class DeliveryLine:
    """One delivery of an alert: when, on which channel (masked), and how it went."""

    alert_id: int
    at: datetime
    channel: str
    kind: str
    sent: bool
    attempts: int
    error: str
    reminder: bool
    digest: bool


@dataclass(frozen=True)
class ChannelDown:
    """A channel whose latest delivery failed: the channel as shown (masked), when, and why."""

    channel: str
    at: datetime
    error: str


@dataclass(frozen=True)
class AlertsView:
    """Everything the Alerts page shows for one filter: alerts newest first, deliveries, failing channels."""

    alerts: tuple[AlertLine, ...]
    deliveries: tuple[DeliveryLine, ...]
    failing: tuple[ChannelDown, ...]
    open_count: int
    channels: tuple[Channel, ...]
    link_base: str  # the app's address that messages link to
    sender: str  # who emails come from

    def alert(self, alert_id: int) -> AlertLine | None:
        """The alert with this id, when shown."""
        return next((a for a in self.alerts if a.id == alert_id), None)

    def deliveries_of(self, alert_id: int) -> tuple[DeliveryLine, ...]:
        """One alert's deliveries, newest first."""
        return tuple(d for d in self.deliveries if d.alert_id == alert_id)


@dataclass(frozen=True)
class MessagePreview:
    """An alert's email as watch would send it on its own: subject and plain-text body."""

    subject: str
    body: str


@dataclass(frozen=True)
class ChannelLine:
    """One channel as Settings lists it: masked, its scope, where it is configured, whether Settings may remove it."""

    channel: Channel
    shown: str
    kind: str
    model: str | None  # None: every model
    source: str  # "Settings" or "configuration file"
    removable: bool


@dataclass(frozen=True)
class AlertSettings:
    """The Settings page's alerts section: channels, the stored policy and app address, and any configured one."""

    channels: tuple[ChannelLine, ...]
    policy: AlertPolicy
    app_url: str  # stored in Settings ("" when not set)
    configured_app_url: str  # from $READINESS_APP_URL or alerts.app_url: it wins over the stored one

    @property
    def quiet_text(self) -> str:
        """The quiet hours as written ("22:00-07:00"), or "" for none."""
        return self.policy.quiet.text if self.policy.quiet else ""


def alerts_view(
    store: Store,
    filters: AlertFilter,
    fallback: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> AlertsView:
    """The Alerts page: the alerts configuration (``fallback``: the secrets' [alerts]), the history filtered, in words."""
    config = alerts_config(fallback)
    history = alert_history(store, config, filters)
    _, stored_url = alert_policy(store)
    deliveries = delivery_lines(history)
    return AlertsView(
        alert_lines(history, deliveries, now or utcnow()),
        deliveries,
        failing_channels(history),
        history.open_count,
        history.channels,
        link_base(config, stored_url),
        config.smtp.sender if config.smtp else DEFAULT_SENDER,
    )


def _time(value: Any) -> datetime | None:
    """A stored time as a naive datetime, None when missing."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return pd.Timestamp(value).to_pydatetime()


def _text(value: Any) -> str:
    """A stored text, "" when missing."""
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def state_words(row: Mapping[str, Any], now: datetime) -> str:
    """An alert's state: open, acknowledged by X, snoozed until when, resolved (good news) or closed."""
    if not row["problem"]:
        return "resolved"
    if not row["open"]:
        closed = _time(row.get("resolved_at"))
        return f"closed on {closed:%Y-%m-%d}" if closed else "closed"
    if _text(row.get("acknowledged_by")):
        return f"acknowledged by {_text(row['acknowledged_by'])}"
    until = _time(row.get("snoozed_until"))
    if until is not None and until > now:
        return f"snoozed until {until:%Y-%m-%d %H:%M} UTC"
    return "open"


def _plural(count: int, word: str) -> str:
    """ "1 channel", "2 channels"."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def _summary(deliveries: list[DeliveryLine], covered: bool, reminders: int) -> str:
    """What became of an alert's messages, in a few words."""
    if not deliveries:
        return "not sent yet" if covered else "not sent: no channel"
    sent = {d.channel for d in deliveries if d.sent}
    failed = [d for d in deliveries if not d.sent and d.channel not in sent]  # newest first
    parts = []
    if sent:
        parts.append(f"sent to {_plural(len(sent), 'channel')}")
    if failed:
        channels = {d.channel for d in failed}
        on = f" on {_plural(len(channels), 'channel')}" if sent or len(channels) > 1 else ""
        parts.append(f"failed{on}: {failed[0].error or 'no reason recorded'}")
    if reminders:
        parts.append(_plural(reminders, "reminder"))
    return ", ".join(parts)


def alert_lines(
    history: AlertHistory, deliveries: tuple[DeliveryLine, ...], now: datetime
) -> tuple[AlertLine, ...]:
    """Every alert of the history in words, newest first (by when it was detected, then by number)."""
    by_alert: dict[int, list[DeliveryLine]] = {}
    for delivery in deliveries:
        by_alert.setdefault(delivery.alert_id, []).append(delivery)
    out = []
    for row in history.alerts.to_dict("records"):
        change = change_of(row, str(row["model"]))
        alert_id = int(row["id"])
        own = by_alert.get(alert_id, [])
        out.append(
            AlertLine(
                alert_id,
                change.model,
                _time(row["detected_at"]) or now,
                change.kind,
                change.event,
                change.title,
                change.title.removeprefix(f"{change.model}: "),
                change.severity,
                state_words(row, now),
                _summary(
                    own, any(c.covers(change.model) for c in history.channels), int(row["reminders"] or 0)
                ),
                link_for("", change),
                change.evidence,
                bool(row["open"]),
                bool(_text(row.get("acknowledged_by"))),
                change,
            )
        )
    return tuple(sorted(out, key=lambda line: (line.detected_at, line.id), reverse=True))


def _shown(channels: tuple[Channel, ...], name: str, kind: str) -> str:
    """A channel by its recorded name, masked; one no longer configured says so (a name holds no secret)."""
    found = next((c for c in channels if c.name == name), None)
    return found.masked if found is not None else f"{kind}: {name} (no longer configured)"


def delivery_lines(history: AlertHistory) -> tuple[DeliveryLine, ...]:
    """The history's deliveries with their channels masked, newest first."""
    return tuple(
        DeliveryLine(
            int(row["alert_id"]),
            _time(row["at"]) or datetime.min,
            _shown(history.channels, str(row["channel"]), str(row["channel_kind"])),
            str(row["channel_kind"]),
            row["outcome"] == "sent",
            int(row["attempts"]),
            _text(row["error"]),
            bool(row["reminder"]),
            bool(row["digest"]),
        )
        for row in history.deliveries.to_dict("records")
    )


def failing_channels(history: AlertHistory) -> tuple[ChannelDown, ...]:
    """Channels whose latest delivery failed, masked, with the error."""
    return tuple(
        ChannelDown(
            _shown(history.channels, str(row["channel"]), str(row["channel_kind"])),
            _time(row["at"]) or datetime.min,
            _text(row["error"]) or "no reason recorded",
        )
        for row in history.failing_channels.to_dict("records")
    )


def email_preview(view: AlertsView, line: AlertLine) -> MessagePreview:
    """The email watch would send about one alert (its first notification, not a digest)."""
    notification = Notification(
        (line.change,), (link_for(view.link_base, line.change),), (line.id,), (False,)
    )
    recipients = tuple(
        address
        for c in view.channels
        if c.kind == "email" and c.covers(line.model)
        for address in c.recipients
    )
    message = email_message(notification, view.sender, recipients)
    body = message.get_body(("plain",))
    text = body.get_content() if body is not None else ""
    return MessagePreview(str(message["Subject"]), text)


def alert_settings(store: Store, fallback: Mapping[str, Any] | None = None) -> AlertSettings:
    """The Settings page's alerts section: every channel (masked), the policy, the app's addresses."""
    config: AlertsConfig = alerts_config(fallback)
    policy, app_url = alert_policy(store)
    lines = tuple(
        ChannelLine(
            channel,
            channel.masked,
            channel.kind,
            channel.model,
            "Settings" if channel.source == "settings" else "configuration file",
            channel.source == "settings",
        )
        for channel in all_channels(store, config)
    )
    return AlertSettings(lines, policy, app_url, config.app_url)


def new_policy(current: AlertPolicy, remind_hours: float, digest_from: int, quiet: str) -> AlertPolicy:
    """The policy with new reminder period, digest threshold and quiet hours ("" for none); ConfigError says what is wrong."""
    text = quiet.strip()
    return replace(
        current,
        remind_hours=float(remind_hours),
        digest_from=int(digest_from),
        quiet=QuietHours.parse(text) if text else None,
    )
