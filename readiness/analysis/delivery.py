"""Sending a notification: HTTP POST for webhooks and Slack, SMTP for email, retried with backoff.

:func:`send_with_retries` makes up to ``1 + len(BACKOFF_SECONDS)`` attempts, pausing longer
after each failure, and returns a :class:`Delivery`: how many attempts, and the last error
("" when it was sent). Errors never carry the channel's URL: it is a secret.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime

from readiness.core.alert_messages import email_message, slack_payload, webhook_payload
from readiness.core.alerts import Notification
from readiness.core.channels import Channel, SmtpSettings
from readiness.errors import one_line

BACKOFF_SECONDS = (2.0, 8.0, 30.0)  # pauses between attempts: four attempts over about 40 s
TIMEOUT_SECONDS = 10.0
USER_AGENT = "readiness-watch/1"


@dataclass(frozen=True)
class Delivery:
    """The outcome of sending one message on one channel."""

    attempts: int
    error: str = ""

    @property
    def sent(self) -> bool:
        """True when an attempt succeeded."""
        return not self.error


class DeliveryFailed(Exception):
    """One attempt failed; the message says why, without the channel's secret."""


def _pause(seconds: float) -> None:
    time.sleep(seconds)


def send_with_retries(
    channel: Channel, notification: Notification, smtp: SmtpSettings | None, now: datetime
) -> Delivery:
    """Send on ``channel``, retrying with backoff; the last error when every attempt failed."""
    error = ""
    for attempt, pause in enumerate((*BACKOFF_SECONDS, None), 1):
        try:
            send_once(channel, notification, smtp, now)
            return Delivery(attempt)
        except DeliveryFailed as exc:
            error = str(exc)
        if pause is not None:
            _pause(pause)
    return Delivery(len(BACKOFF_SECONDS) + 1, error or "failed")


def send_once(channel: Channel, notification: Notification, smtp: SmtpSettings | None, now: datetime) -> None:
    """One attempt to send; DeliveryFailed says why it did not go."""
    if channel.kind == "email":
        _send_email(channel, notification, smtp)
        return
    payload = (
        slack_payload(notification)
        if channel.kind == "slack"
        else webhook_payload(notification, now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    )
    _post(channel, json.dumps(payload).encode())


def _post(channel: Channel, body: bytes) -> None:
    request = urllib.request.Request(
        channel.target,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
    )
    try:
        with urllib.request.urlopen(
            request, timeout=TIMEOUT_SECONDS
        ) as response:  # http(s) only: check_channel
            if not 200 <= response.status < 300:
                raise DeliveryFailed(f"the receiver answered HTTP {response.status}")
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"the receiver answered HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryFailed(
            f"could not reach the receiver: {_without(one_line(reason), channel.target)}"
        ) from None


def _send_email(channel: Channel, notification: Notification, smtp: SmtpSettings | None) -> None:
    if smtp is None:
        raise DeliveryFailed(
            "no mail server is configured: set READINESS_SMTP_HOST (or alerts.smtp.host in the alerts file)"
        )
    try:
        message = email_message(notification, smtp.sender, channel.recipients)
    except (ValueError, TypeError) as exc:  # a header the email library cannot write
        raise DeliveryFailed(f"the message could not be written as an email: {one_line(exc)}") from None
    try:
        if smtp.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=TIMEOUT_SECONDS)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if smtp.username:
                client.login(smtp.username, smtp.password)
            client.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        text = _without(one_line(exc), smtp.password) if smtp.password else one_line(exc)
        raise DeliveryFailed(f"the mail server {smtp.host}:{smtp.port} refused or failed: {text}") from None


def _without(text: str, secret: str) -> str:
    """``text`` with ``secret`` cut out (an error message may quote what it was given)."""
    return text.replace(secret, "…") if secret else text
