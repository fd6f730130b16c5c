"""Where the store lives and the limits that protect it, read from the environment."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from readiness.core.access import RolePolicy, policy_from_mapping
from readiness.core.channels import Channel, SmtpSettings, channels_from_mapping
from readiness.core.lazy import lazy_module
from readiness.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy_module("pandas")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = PROJECT_ROOT / "data" / "readiness.db"
DATABASE_URL_ENV = "READINESS_DATABASE_URL"
MAX_UPLOAD_MB_ENV = "READINESS_MAX_UPLOAD_MB"
DEFAULT_MAX_UPLOAD_MB = 500


def database_url(explicit: str | None = None) -> str:
    """Return the database URL: the explicit one, else ``$READINESS_DATABASE_URL``, else the demo file.

    >>> database_url("sqlite:///:memory:")
    'sqlite:///:memory:'
    """
    if explicit:
        return explicit
    from_env = os.environ.get(DATABASE_URL_ENV, "").strip()
    if from_env:
        return from_env
    return f"sqlite:///{DEFAULT_DB_PATH}"


def _upload_megabytes() -> float:
    raw = os.environ.get(MAX_UPLOAD_MB_ENV, "").strip()
    try:
        megabytes = float(raw) if raw else float(DEFAULT_MAX_UPLOAD_MB)
    except ValueError:
        megabytes = -1.0
    if not 0 < megabytes < 10**9:  # NaN, zero, negative and infinity alike
        raise ConfigError(f"{MAX_UPLOAD_MB_ENV}={raw!r} is not a positive number of megabytes; use e.g. 500.")
    return megabytes


def max_upload_mb() -> int:
    """The largest file accepted for ingestion in whole MB, for the upload widget (at least 1).

    ``$READINESS_MAX_UPLOAD_MB``, default 500: a million-row log of 15 features (about 250 MB)
    fits with room to spare.
    """
    return max(int(_upload_megabytes()), 1)


def max_upload_bytes() -> int:
    """Return the largest file size accepted for ingestion, in bytes (``$READINESS_MAX_UPLOAD_MB``)."""
    return int(_upload_megabytes() * 1024 * 1024)


DEFAULT_EARLIEST = "1990-01-01"
DEFAULT_AHEAD_HOURS = 24


def _earliest() -> pd.Timestamp:
    """The default earliest time, built when first needed (importing this module needs no pandas)."""
    return pd.Timestamp(DEFAULT_EARLIEST, tz="UTC")


def _ahead() -> pd.Timedelta:
    """The default time allowed ahead of now, built when first needed."""
    return pd.Timedelta(hours=DEFAULT_AHEAD_HOURS)


@dataclass(frozen=True)
class TimestampRange:
    """The times a prediction may carry: from ``earliest`` to ``ahead`` past the moment of upload.

    A log stamped 1970-01-01 or 9999-12-31 is a broken clock or a misread format, not a
    prediction; refusing it at the door keeps every later read of the model working.
    """

    earliest: pd.Timestamp = field(default_factory=_earliest)
    ahead: pd.Timedelta = field(default_factory=_ahead)

    def latest(self, now: pd.Timestamp | None = None) -> pd.Timestamp:
        """The latest acceptable time, as of ``now`` (default: the current time)."""
        return (now if now is not None else pd.Timestamp.now(tz="UTC")) + self.ahead


EARLIEST_ENV = "READINESS_EARLIEST_TIMESTAMP"
AHEAD_HOURS_ENV = "READINESS_MAX_HOURS_AHEAD"


def timestamp_range() -> TimestampRange:
    """The plausible prediction times: ``$READINESS_EARLIEST_TIMESTAMP`` (default 1990-01-01) to
    ``$READINESS_MAX_HOURS_AHEAD`` hours (default 24) past now.

    A value that cannot be read raises ConfigError naming the variable.
    """
    earliest_text = os.environ.get(EARLIEST_ENV, "").strip()
    ahead_text = os.environ.get(AHEAD_HOURS_ENV, "").strip()
    try:
        earliest = pd.Timestamp(earliest_text, tz="UTC") if earliest_text else _earliest()
        ahead = pd.Timedelta(hours=float(ahead_text)) if ahead_text else _ahead()
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"Cannot read {EARLIEST_ENV}={earliest_text!r} / {AHEAD_HOURS_ENV}={ahead_text!r}: {exc}. "
            "Use a date such as 1990-01-01 and a number of hours such as 24."
        ) from exc
    return TimestampRange(earliest, ahead)


def plausible_bounds() -> tuple[datetime, datetime]:
    """:func:`timestamp_range` as naive UTC datetimes, from now: what SQL compares stored times with.

    With neither variable set, the defaults need no pandas (the CLI's reading commands do not import it).
    """
    if not (os.environ.get(EARLIEST_ENV, "").strip() or os.environ.get(AHEAD_HOURS_ENV, "").strip()):
        now = datetime.now(UTC).replace(tzinfo=None)
        return datetime.fromisoformat(DEFAULT_EARLIEST), now + timedelta(hours=DEFAULT_AHEAD_HOURS)
    allowed = timestamp_range()
    earliest = allowed.earliest.tz_convert("UTC").tz_localize(None).to_pydatetime()
    return earliest, allowed.latest().tz_convert("UTC").tz_localize(None).to_pydatetime()


CACHE_DIR_ENV = "READINESS_CACHE_DIR"


def cache_dir() -> Path | None:
    """Where assessments are kept between processes: ``$READINESS_CACHE_DIR``, else the user's cache folder.

    The default is ``$XDG_CACHE_HOME/readiness``, else ``~/.cache/readiness``; ``off`` keeps
    nothing (see :mod:`readiness.analysis.kept`).
    """
    value = os.environ.get(CACHE_DIR_ENV, "").strip()
    if value.lower() == "off":
        return None
    if value:
        return Path(value).expanduser()
    home = os.environ.get("XDG_CACHE_HOME", "").strip()
    try:
        return (Path(home) if home else Path.home() / ".cache") / "readiness"
    except (KeyError, RuntimeError):  # no home folder on this machine (a bare container): keep nothing
        return None


ROLES_FILE_ENV = "READINESS_ROLES_FILE"


def roles_policy(fallback: Mapping[str, Any] | None = None) -> RolePolicy | None:
    """Who has which role: the ``[roles]`` table of ``$READINESS_ROLES_FILE``, else ``fallback``, else None.

    The app passes its Streamlit secrets' ``[roles]`` table as ``fallback``; the CLI has only
    the file. None means no roles are configured.
    """
    path_text = os.environ.get(ROLES_FILE_ENV, "").strip()
    if not path_text:
        return policy_from_mapping(fallback) if fallback is not None else None
    roles = _toml_table(
        ROLES_FILE_ENV, path_text, "roles", 'add one, e.g. [roles] then admin = ["ana@example.com"]'
    )
    return policy_from_mapping(roles)


def _toml_table(env: str, path_text: str, table: str, hint: str) -> dict[str, Any]:
    """The ``[table]`` of the TOML file ``$env`` names; ConfigError names the variable when it cannot be had."""
    try:
        data = tomllib.loads(Path(path_text).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"{env}={path_text!r} cannot be read ({exc.strerror or exc}); point it at a TOML file "
            f"with a [{table}] table, or unset it."
        ) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{env}={path_text!r} is not valid TOML: {exc}. Fix the file.") from exc
    found = data.get(table)
    if not isinstance(found, dict):
        raise ConfigError(f"{env}={path_text!r} has no [{table}] table; {hint}.")
    return found


AUTO_DEMO_ENV = "READINESS_AUTO_DEMO"


def check_settings() -> None:
    """Read every setting from the environment once, at start; raise ConfigError naming the first bad one.

    The app and the CLI call this before anything else, so a typo stops them with one line
    instead of failing on the first upload or page that reads the setting.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(database_url())
    except ArgumentError as exc:
        raise ConfigError(
            f"{DATABASE_URL_ENV}={os.environ.get(DATABASE_URL_ENV, '')!r} is not a database URL ({exc}); "
            "use e.g. sqlite:///data/readiness.db or postgresql+psycopg://user@host/db."
        ) from None
    _upload_megabytes()
    if os.environ.get(EARLIEST_ENV, "").strip() or os.environ.get(AHEAD_HOURS_ENV, "").strip():
        timestamp_range()  # unset, the defaults hold (and pandas is not imported to build them)
    roles_policy()
    auto_demo()
    alerts_config()


def auto_demo() -> bool:
    """Whether the app seeds the demo into an empty database: ``$READINESS_AUTO_DEMO`` 1 (default) or 0."""
    value = os.environ.get(AUTO_DEMO_ENV, "").strip()
    if value not in ("", "0", "1"):
        raise ConfigError(
            f"{AUTO_DEMO_ENV}={value!r} is not 0 or 1; use 0 to start without seeding the demo."
        )
    return value != "0"


ALERTS_FILE_ENV = "READINESS_ALERTS_FILE"
SMTP_ENV = {
    "host": "READINESS_SMTP_HOST",
    "port": "READINESS_SMTP_PORT",
    "sender": "READINESS_SMTP_FROM",
    "username": "READINESS_SMTP_USER",
    "password": "READINESS_SMTP_PASSWORD",
    "security": "READINESS_SMTP_SECURITY",
}
APP_URL_ENV = "READINESS_APP_URL"


@dataclass(frozen=True)
class AlertsConfig:
    """What watch needs from configuration: channels from the file, the mail server, the app's address."""

    channels: tuple[Channel, ...] = ()
    smtp: SmtpSettings | None = None
    app_url: str = ""


def alerts_config(fallback: Mapping[str, Any] | None = None) -> AlertsConfig:
    """Channels, mail server and app address: ``$READINESS_ALERTS_FILE``'s ``[alerts]`` (else ``fallback``),
    with ``$READINESS_SMTP_*`` and ``$READINESS_APP_URL`` taking precedence over the file.

    The app passes its Streamlit secrets' ``[alerts]`` table as ``fallback``. Secrets (webhook
    URLs, the SMTP password) live here or in the environment, and are never shown back.
    """
    path_text = os.environ.get(ALERTS_FILE_ENV, "").strip()
    where = f"{ALERTS_FILE_ENV}={path_text!r}" if path_text else "the [alerts] secrets"
    table: Mapping[str, Any] = (
        _toml_table(
            ALERTS_FILE_ENV, path_text, "alerts", "add [[alerts.channels]] entries (see docs/alerts.md)"
        )
        if path_text
        else (fallback or {})
    )
    channels = channels_from_mapping(table, where)
    smtp_table = table.get("smtp") or {}
    if not isinstance(smtp_table, Mapping):
        raise ConfigError(
            f"{where}: alerts.smtp must be a table with host, port, sender, username, password."
        )
    values = {key: smtp_table[key] for key in SMTP_ENV if key in smtp_table}
    values |= {
        key: os.environ[env].strip() for key, env in SMTP_ENV.items() if os.environ.get(env, "").strip()
    }
    smtp = None
    if values.get("host"):
        try:
            port = int(values.get("port", 587))
        except (TypeError, ValueError):
            raise ConfigError(
                f"SMTP port {values.get('port')!r} (alerts.smtp.port or {SMTP_ENV['port']}) is not a number; use e.g. 587."
            ) from None
        try:
            smtp = SmtpSettings(
                host=str(values["host"]),
                port=port,
                sender=str(values.get("sender", "readiness@localhost")),
                username=str(values.get("username", "")),
                password=str(values.get("password", "")),
                security=str(values.get("security", "starttls")).lower(),
            )
        except ConfigError as exc:
            raise ConfigError(
                f"{exc} (set in {where}'s [alerts.smtp] or in {', '.join(SMTP_ENV[k] for k in ('port', 'sender', 'security'))})"
            ) from None
    elif any(c.kind == "email" for c in channels):
        raise ConfigError(
            f"{where} has an email channel but no mail server: set alerts.smtp.host (or {SMTP_ENV['host']})."
        )
    app_url = os.environ.get(APP_URL_ENV, "").strip() or str(table.get("app_url", "")).strip()
    if app_url and not app_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"The app's address {app_url!r} ({APP_URL_ENV} or alerts.app_url) must start with http(s)://."
        )
    return AlertsConfig(channels, smtp, app_url)
