"""A notification as each channel carries it: JSON webhook payload, Slack blocks, an email.

Pure functions of a :class:`~readiness.core.alerts.Notification`. The webhook payload is a
documented contract (docs/alerts.md); Slack gets the same content as blocks; an email has a
plain-text body and a small HTML part. Every text from the store is escaped for where it goes.
"""

from __future__ import annotations

import html
from email.message import EmailMessage
from typing import Any

from readiness.core.alerts import Change, Notification

PAYLOAD_VERSION = 1
MAX_SLACK_TEXT = 2_900  # Slack refuses a section text over 3,000 characters


def change_data(change: Change, link: str, alert_id: int, reminder: bool) -> dict[str, Any]:
    """One change as the webhook payload's object (see docs/alerts.md)."""
    return {
        "alert_id": alert_id,
        "model": change.model,
        "kind": change.kind,
        "key": change.key,
        "event": "reminder" if reminder else change.event,
        "title": change.title,
        "severity": change.severity,
        "problem": change.problem,
        "status": change.status,
        "status_label": change.status_label,
        "score": None if change.score is None else round(change.score, 1),
        "evidence": list(change.evidence),
        "link": link,
    }


def _entries(notification: Notification) -> list[dict[str, Any]]:
    reminders = notification.reminders or (False,) * len(notification.changes)
    return [
        change_data(change, link, alert_id, reminder)
        for change, link, alert_id, reminder in zip(
            notification.changes, notification.links, notification.alert_ids, reminders, strict=True
        )
    ]


def webhook_payload(notification: Notification, sent_at: str) -> dict[str, Any]:
    """The generic webhook's JSON: one alert, or a digest holding several.

    >>> from readiness.core.alerts import Change
    >>> change = Change("fraud", "drift", "amount", "started", "fraud: Drift in amount", "warning", "at_risk", 62.0)
    >>> payload = webhook_payload(Notification((change,), ("http://app/drift?model=fraud",), (7,)), "2026-12-02T14:00:00Z")
    >>> payload["type"], payload["alerts"][0]["model"], payload["alerts"][0]["link"]
    ('readiness.alert', 'fraud', 'http://app/drift?model=fraud')
    """
    return {
        "type": "readiness.digest" if notification.is_digest else "readiness.alert",
        "version": PAYLOAD_VERSION,
        "sent_at": sent_at,
        "summary": notification.subject,
        "alerts": _entries(notification),
    }


def _slack_escape(text: str) -> str:
    """Slack mrkdwn control characters (&, <, >) escaped, so user text cannot make links or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(notification: Notification) -> dict[str, Any]:
    """A Slack incoming-webhook message: a header, then per change its title, status, evidence and a link."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": notification.subject[:150]}}
    ]
    for entry in _entries(notification):
        lines = [f"*{_slack_escape(entry['title'])}*"]
        score = "n/a" if entry["score"] is None else f"{entry['score']:.0f}"
        lines.append(f"Status: {entry['status_label']} ({score}) · {entry['severity']} · {entry['event']}")
        lines += [f"• {_slack_escape(line)}" for line in entry["evidence"]]
        lines.append(f"<{_slack_escape(entry['link'])}|Open in the dashboard>")
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:MAX_SLACK_TEXT]}}
        )
    return {"text": _slack_escape(notification.subject), "blocks": blocks[:50]}


def email_message(notification: Notification, sender: str, recipients: tuple[str, ...]) -> EmailMessage:
    """The email: subject, a plain-text body, and a small HTML part with the same content."""
    message = EmailMessage()
    message["Subject"] = one_line_text(notification.subject)[:200]
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    entries = _entries(notification)
    text_parts, html_parts = [], []
    for entry in entries:
        score = "n/a" if entry["score"] is None else f"{entry['score']:.0f}"
        status = f"Status: {entry['status_label']} ({score}); {entry['severity']}, {entry['event']}"
        text_parts.append(
            "\n".join([entry["title"], status, *(f"  - {line}" for line in entry["evidence"]), entry["link"]])
        )
        evidence = "".join(f"<li>{html.escape(line)}</li>" for line in entry["evidence"])
        html_parts.append(
            f'<div style="margin:0 0 16px 0;padding:8px 12px;border-left:4px solid {_colour(entry)}">'
            f'<p style="margin:0;font-weight:600">{html.escape(entry["title"])}</p>'
            f'<p style="margin:4px 0;color:#555">{html.escape(status)}</p>'
            + (f'<ul style="margin:4px 0">{evidence}</ul>' if evidence else "")
            + f'<p style="margin:4px 0"><a href="{html.escape(entry["link"], quote=True)}">Open in the dashboard</a></p>'
            "</div>"
        )
    footer = "Sent by the readiness dashboard's watch. Acknowledge or snooze on its Alerts page."
    message.set_content("\n\n".join(text_parts) + f"\n\n-- \n{footer}\n")
    message.add_alternative(
        '<html><body style="font-family:sans-serif;font-size:14px">'
        f'<h2 style="font-size:16px">{html.escape(notification.subject)}</h2>'
        + "".join(html_parts)
        + f'<p style="color:#888;font-size:12px">{html.escape(footer)}</p></body></html>',
        subtype="html",
    )
    return message


def one_line_text(text: str) -> str:
    r"""``text`` on one line: every control character (CR, LF, tab...) becomes a space.

    >>> one_line_text("drift in a\r\nb")
    'drift in a  b'
    """
    return "".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in text)


def _colour(entry: dict[str, Any]) -> str:
    if not entry["problem"]:
        return "#2e7d32"
    return {"critical": "#c62828", "warning": "#ef6c00"}.get(entry["severity"], "#1565c0")
