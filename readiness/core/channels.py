"""Where notifications go: webhook, Slack and email channels, checked and shown without their secrets.

A channel's target is a URL (a webhook's or Slack's, which is a secret: anyone holding it can
post) or a list of email addresses. :func:`check_channel` refuses what cannot work;
:attr:`Channel.masked` is the only form a page or the CLI shows of a URL.

>>> Channel("slack-1", "slack", "https://hooks.slack.com/services/T0/B0/XYZsecret").masked
'slack: https://hooks.slack.com/… (secret hidden)'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from readiness.errors import ConfigError

CHANNEL_KINDS = ("webhook", "slack", "email")
EMAIL = re.compile(r"^[^@\s,;<>\"']+@[^@\s,;<>\"']+\.[^@\s,;<>\"']+$")
MAX_TARGET = 2_000


@dataclass(frozen=True)
class Channel:
    """One destination: a name (unique, recorded with each delivery), a kind, a target, and its scope.

    ``model`` None sends every model's notifications; a name sends that model's only.
    """

    name: str
    kind: str
    target: str
    model: str | None = None
    source: str = "settings"  # "settings" (stored, editable) or "file" (the alerts configuration)

    def covers(self, model: str) -> bool:
        """Whether this channel hears about ``model`` (a channel for every model hears them all)."""
        return self.model is None or self.model == model

    @property
    def recipients(self) -> tuple[str, ...]:
        """An email channel's addresses."""
        return tuple(a.strip() for a in re.split(r"[,;\s]+", self.target) if a.strip())

    @property
    def masked(self) -> str:
        """The channel as shown to people: URLs cut to scheme and host, addresses in full."""
        if self.kind == "email":
            return f"email: {', '.join(self.recipients)}"
        parts = urlsplit(self.target)
        return f"{self.kind}: {parts.scheme}://{parts.hostname or ''}{_port(parts.port)}/… (secret hidden)"


def _port(port: int | None) -> str:
    return f":{port}" if port else ""


def check_channel(kind: str, target: str) -> str:
    """The target, trimmed, when a channel of ``kind`` can send to it; ConfigError says why not.

    >>> check_channel("email", " ana@example.com, jo@example.com ")
    'ana@example.com, jo@example.com'
    """
    if kind not in CHANNEL_KINDS:
        raise ConfigError(f"Unknown alert channel kind {kind!r}; use one of {', '.join(CHANNEL_KINDS)}.")
    target = (target or "").strip()
    if not target:
        raise ConfigError(
            f"The {kind} channel has no target; give a URL (webhook, slack) or addresses (email)."
        )
    if len(target) > MAX_TARGET or any(ord(ch) < 32 for ch in target):
        raise ConfigError(
            f"The {kind} channel's target is {len(target)} characters or holds control characters; "
            f"give one URL or address list under {MAX_TARGET} characters on one line."
        )
    if kind == "email":
        bad = [a for a in Channel("", kind, target).recipients if not EMAIL.match(a)]
        if bad:
            raise ConfigError(
                f"{bad[0]!r} is not an email address; list addresses separated by commas, "
                "e.g. ana@example.com, jo@example.com."
            )
        return ", ".join(Channel("", kind, target).recipients)
    parts = urlsplit(target)
    try:
        parts.port  # noqa: B018 (raises ValueError on a port that is not a number from 0 to 65535)
    except ValueError:
        raise ConfigError(
            f"A {kind} channel's URL has a port that is not a number from 1 to 65535; check the URL you pasted."
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"A {kind} channel needs an http(s) URL with a host, found {urlsplit(target).scheme or 'no'} "
            "scheme; paste the incoming-webhook URL your receiver gave you."
        )
    return target


def channels_from_mapping(data: Mapping[str, Any], where: str) -> tuple[Channel, ...]:
    """The ``channels`` list of an ``[alerts]`` table: each with kind, url or to, optional name and models."""
    raw = data.get("channels", [])
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: alerts.channels must be a list of tables ([[alerts.channels]]).")
    out: list[Channel] = []
    for i, entry in enumerate(raw, 1):
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}: channel {i} is {entry!r}, not a table with kind and url (or to).")
        kind = str(entry.get("kind", ""))
        target = entry.get("to") if kind == "email" else entry.get("url")
        if isinstance(target, list):
            target = ", ".join(map(str, target))
        try:
            checked = check_channel(kind, str(target or ""))
        except ConfigError as exc:
            raise ConfigError(f"{where}: channel {i}: {exc}") from None
        name = str(entry.get("name") or f"file-{i}-{kind}")
        models = entry.get("models")
        if models is None:
            out.append(Channel(name, kind, checked, None, "file"))
        elif isinstance(models, list) and models and all(isinstance(m, str) for m in models):
            # one channel per model, each its own name: deliveries and retries are per channel
            out += [
                Channel(name if len(models) == 1 else f"{name} ({m})", kind, checked, m, "file")
                for m in models
            ]
        elif models == []:
            raise ConfigError(
                f"{where}: channel {i}: models is empty, so it would send nothing; list model names, "
                "or leave models out to send every model's alerts."
            )
        else:
            raise ConfigError(
                f"{where}: channel {i}: models must be a list of model names, found {models!r}."
            )
    return tuple(out)


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the mail server: host, port, sender, optional login, STARTTLS or implicit TLS."""

    host: str
    port: int = 587
    sender: str = "readiness@localhost"
    username: str = ""
    password: str = ""
    security: str = "starttls"  # "starttls", "tls" (implicit, port 465) or "none"

    def __post_init__(self) -> None:
        if self.security not in ("starttls", "tls", "none"):
            raise ConfigError(f"SMTP security {self.security!r} is unknown; use starttls, tls or none.")
        if not 0 < self.port < 65536:
            raise ConfigError(
                f"SMTP port {self.port!r} is out of range; use e.g. 587 (starttls) or 465 (tls)."
            )
        if not EMAIL.match(self.sender) and not self.sender.endswith("@localhost"):
            raise ConfigError(
                f"SMTP sender {self.sender!r} is not an email address; set e.g. readiness@example.com."
            )
