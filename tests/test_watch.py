"""``watch`` against real receivers on 127.0.0.1: a webhook/Slack HTTP server and an SMTP server.

Each test starts its receivers on 127.0.0.1 (port 0, so the system picks a free one) and stops
them in the fixture's finalizer; a guard refuses any send to another host. Models are small
generated logs judged as historical (as of the end of their own log), so the clock can travel
with ``now=`` (reminders, quiet hours, retries) without changing what the assessment finds.
Retries do not pause: ``BACKOFF_SECONDS`` is patched to zeros.
"""

from __future__ import annotations

import email
import email.policy
import io
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
import pytest
from aiosmtpd.controller import Controller
from conftest import DEMO_TODAY

from readiness import ingest_csv
from readiness.analysis import delivery
from readiness.analysis.alerts import (
    acknowledge_alert,
    add_channel,
    alert_history,
    set_alert_policy,
    snooze_alert,
    watch,
)
from readiness.analysis.settings import add_criterion, attest, remove_criterion, set_historical, withdraw
from readiness.cli import main
from readiness.config import AlertsConfig, alerts_config
from readiness.core.alerts import AlertPolicy, QuietHours
from readiness.core.channels import Channel, SmtpSettings
from readiness.core.checklist import DEFAULT_ITEMS
from readiness.core.criteria import parse_criterion
from readiness.core.records import Model, utcnow, validate_model_name
from readiness.errors import ModelConfigError
from readiness.storage import alert_store
from readiness.storage.store import Store
from tests.factories import binary_frame, live_frame, to_csv_bytes
from tests.readiness_fixtures import NOW as HEALTHY_NOW

LOOPBACK = "127.0.0.1"
WAIT = 5.0  # seconds: every socket wait in these tests is bounded by this
LOG_START = pd.Timestamp("2026-11-01T00:00:00Z")  # each model's log: 300 rows on this Sunday morning
T0 = datetime(2026, 11, 20, 9)  # a watch time long after the logs (historical: judged as of their end)
APP_URL = "https://readiness.example.com"
SECRET = "s3cr3t-T0KEN-9f8e7d"  # in webhook URLs' paths: must never be shown or stored
HOSTILE = "<script>alert('x')</script> & <b>co</b>"  # a column name: model names cannot hold it
ADMIN = "admin"
ENVIRONMENT = (
    "READINESS_ALERTS_FILE",
    "READINESS_APP_URL",
    "READINESS_ROLES_FILE",
    "READINESS_ACTOR",
    "READINESS_SMTP_HOST",
    "READINESS_SMTP_PORT",
    "READINESS_SMTP_FROM",
    "READINESS_SMTP_USER",
    "READINESS_SMTP_PASSWORD",
    "READINESS_SMTP_SECURITY",
)
PROXIES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


# --------------------------------------------------------------------------- receivers


@dataclass(frozen=True)
class Request:
    """One POST the HTTP receiver got."""

    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    status: int  # what the receiver answered

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


class HttpReceiver:
    """A ThreadingHTTPServer on 127.0.0.1 that records every POST and answers 200, or 500 when told to.

    ``fail_next`` answers 500 to that many next requests; ``fail_always`` to every one.
    """

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.fail_next = 0
        self.fail_always = False
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            timeout = WAIT  # a stuck connection cannot hold a handler thread

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    failing = receiver.fail_always or receiver.fail_next > 0
                    receiver.fail_next = max(receiver.fail_next - 1, 0)
                    status = 500 if failing else 200
                    headers = {name.lower(): value for name, value in self.headers.items()}
                    receiver.requests.append(Request(self.path, headers, body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # quiet test output
                pass

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str = "/hooks/readiness") -> str:
        return f"http://{LOOPBACK}:{self.port}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=WAIT)

    def answered(self, status: int = 200, path: str | None = None) -> list[Request]:
        """The requests answered with ``status`` (to ``path`` when given), in order."""
        with self._lock:
            return [r for r in self.requests if r.status == status and (path is None or r.path == path)]

    def payloads(self, path: str | None = None) -> list[dict[str, Any]]:
        """The JSON bodies of the requests answered 200."""
        return [r.json for r in self.answered(200, path)]

    def alerts(self, path: str | None = None) -> list[dict[str, Any]]:
        """Every alert object delivered (answered 200), across messages."""
        return [a for p in self.payloads(path) for a in p["alerts"]]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()


class _Collector:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


class _AnyPortController(Controller):
    """aiosmtpd's Controller bound to port 0: it learns the chosen port before its self-test connection."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpReceiver:
    """A real SMTP server (aiosmtpd) on 127.0.0.1, no TLS, that collects the messages it accepts."""

    def __init__(self) -> None:
        self.handler = _Collector()
        self.controller = _AnyPortController(self.handler, hostname=LOOPBACK, port=0, ready_timeout=WAIT)
        self.controller.start()

    @property
    def port(self) -> int:
        return int(self.controller.port)

    def stop(self) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[tuple[Any, EmailMessage]]:
        """(envelope, parsed message) of every message accepted, in order."""
        with self.handler.lock:
            envelopes = list(self.handler.envelopes)
        return [
            (e, email.message_from_bytes(e.original_content, policy=email.policy.default)) for e in envelopes
        ]

    @property
    def smtp(self) -> SmtpSettings:
        return SmtpSettings(LOOPBACK, self.port, "readiness@example.com", security="none")


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    server = HttpReceiver()
    yield server
    server.stop()


@pytest.fixture
def second_receiver() -> Iterator[HttpReceiver]:
    server = HttpReceiver()
    yield server
    server.stop()


@pytest.fixture
def mailbox() -> Iterator[SmtpReceiver]:
    server = SmtpReceiver()
    yield server
    server.stop()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound by the system, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


@pytest.fixture(autouse=True)
def fast_and_only_loopback(monkeypatch):
    """No pauses between attempts, short timeouts, no proxy, no outside configuration, and no send off 127.0.0.1."""
    monkeypatch.setattr(delivery, "BACKOFF_SECONDS", (0.0, 0.0, 0.0))
    monkeypatch.setattr(delivery, "TIMEOUT_SECONDS", WAIT)
    for name in (*PROXIES, *ENVIRONMENT):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", f"{LOOPBACK},localhost")
    monkeypatch.setenv("no_proxy", f"{LOOPBACK},localhost")
    real_send = delivery.send_once

    def loopback_only(channel, notification, smtp, now):
        host = (smtp.host if smtp else None) if channel.kind == "email" else urlsplit(channel.target).hostname
        assert host in (LOOPBACK, None), f"a test tried to send to {host!r}"
        return real_send(channel, notification, smtp, now)

    monkeypatch.setattr(delivery, "send_once", loopback_only)


# --------------------------------------------------------------------------- models and configuration


def add_model(
    store: Store,
    name: str,
    drift: tuple[str, ...] = (),
    seed: int = 0,
    amount: str = "amount",
    parquet: bool = False,
) -> Model:
    """A binary model with 300 baseline and 300 live rows, judged as historical; ``drift`` picks columns that drift.

    ``amount`` renames the amount column (e.g. to hostile text); ``parquet`` uploads Parquet
    files instead of CSV. Without drift the first watch gives one change (Not ready when first
    watched); each drifting column adds one.
    """
    baseline = binary_frame(300, seed).rename(columns={"amount": amount})
    live = live_frame(300, seed + 1, start=LOG_START).rename(columns={"amount": amount})
    if "amount" in drift:
        live[amount] = live[amount] * 5 + 100
    if "age" in drift:
        live["age"] = live["age"] + 60
    if "region" in drift:
        live["region"] = "north"
    if parquet:
        ingest_csv(store, name, "baseline", parquet_bytes(baseline), "baseline.parquet")
        ingest_csv(store, name, "live", parquet_bytes(live), "live.parquet")
    else:
        ingest_csv(store, name, "baseline", to_csv_bytes(baseline), "baseline.csv")
        ingest_csv(store, name, "live", to_csv_bytes(live), "live.csv")
    model = store.get_model(name)
    set_historical(store, model, True)
    return model


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def webhook(
    receiver: HttpReceiver, name: str = "hook", model: str | None = None, kind: str = "webhook"
) -> Channel:
    return Channel(name, kind, receiver.url(f"/hooks/{name}/{SECRET}"), model, "file")


def config_with(*channels: Channel, smtp: SmtpSettings | None = None) -> AlertsConfig:
    return AlertsConfig(tuple(channels), smtp, APP_URL)


def set_policy(store: Store, **values: Any) -> None:
    set_alert_policy(store, AlertPolicy(**values), "", ADMIN)


def deliveries(store: Store) -> pd.DataFrame:
    """Every recorded delivery, oldest first (the store lists them newest first)."""
    newest_first = alert_history(store).deliveries
    return newest_first.iloc[::-1].sort_values("at", kind="stable").reset_index(drop=True)


def stored_alert(store: Store, alert_id: int) -> alert_store.StoredAlert:
    with store.engine.connect() as conn:
        found = alert_store.get_alert(conn, alert_id)
    assert found is not None
    return found


def toml_string(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid TOML basic string for these values


def write_alerts_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "alerts.toml"
    path.write_text(f"[alerts]\napp_url = {toml_string(APP_URL)}\n\n{body}", encoding="utf-8")
    return path


def url_of(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


# --------------------------------------------------------------------------- (a) the generic webhook


def test_the_webhook_payload_carries_the_alert_with_its_evidence_and_link(sqlite_store, receiver):
    add_model(sqlite_store, "fraud", drift=("amount",))
    result = watch(sqlite_store, config_with(webhook(receiver)), now=T0)

    assert [(c.kind, c.event) for _, c in result.changes] == [("status", "started"), ("drift", "started")]
    assert len(result.messages) == 2 and not result.failures
    requests = receiver.answered(200)
    assert [r.path for r in requests] == [f"/hooks/hook/{SECRET}"] * 2
    for request in requests:
        assert request.headers["content-type"] == "application/json"
        assert request.headers["user-agent"] == delivery.USER_AGENT
    status, drift = (r.json for r in requests)
    for payload in (status, drift):
        assert payload["type"] == "readiness.alert"
        assert payload["version"] == 1
        assert payload["sent_at"] == "2026-11-20T09:00:00Z"
        assert len(payload["alerts"]) == 1
        assert payload["summary"] == "[readiness] " + payload["alerts"][0]["title"]
    alert = drift["alerts"][0]
    assert alert["alert_id"] == result.changes[1][0]
    assert alert["model"] == "fraud"
    assert (alert["kind"], alert["key"], alert["event"]) == ("drift", "amount", "started")
    assert alert["title"] == "fraud: Drift in amount since 2026-11-01"
    assert (alert["severity"], alert["problem"]) == ("warning", True)
    assert (alert["status"], alert["status_label"]) == ("not_ready", "Not ready")
    assert alert["score"] == pytest.approx(result.changes[1][1].score)
    assert isinstance(alert["evidence"], list) and alert["evidence"]
    assert any(line.startswith("PSI ") for line in alert["evidence"])
    assert "drifting since 2026-11-01 (weekly windows)" in alert["evidence"]
    assert alert["link"] == f"{APP_URL}/drift?model=fraud"
    first = status["alerts"][0]
    assert (first["kind"], first["event"], first["title"]) == (
        "status",
        "started",
        f"fraud is Not ready ({first['score']:.0f}) when first watched",
    )
    assert first["link"] == f"{APP_URL}/checklist?model=fraud"
    # its reasons: what holds the score back, the drift among them
    assert "No feature has drifted from the baseline (failing)" in first["evidence"]


def test_the_link_uses_the_stored_app_url_or_the_default_when_the_configuration_has_none(
    sqlite_store, receiver
):
    add_model(sqlite_store, "fraud")
    set_alert_policy(sqlite_store, AlertPolicy(), "http://dash.internal:8080/", ADMIN)
    watch(sqlite_store, AlertsConfig((webhook(receiver),)), now=T0)
    assert [a["link"] for a in receiver.alerts()] == ["http://dash.internal:8080/checklist?model=fraud"]


# --------------------------------------------------------------------------- (b) Slack


def test_slack_gets_text_and_blocks_with_the_title_and_link_and_user_text_escaped(sqlite_store, receiver):
    add_model(sqlite_store, "fraud", drift=("amount",), amount=HOSTILE)
    result = watch(sqlite_store, config_with(webhook(receiver, "slack", kind="slack")), now=T0)

    assert not result.failures
    requests = receiver.answered(200)
    assert len(requests) == 2
    assert all(r.headers["content-type"] == "application/json" for r in requests)
    drift_title = next(c.title for _, c in result.changes if c.kind == "drift")
    assert drift_title == f"fraud: Drift in {HOSTILE} since 2026-11-01"
    payload = requests[1].json
    assert set(payload) == {"text", "blocks"}
    escaped = "&lt;script&gt;alert('x')&lt;/script&gt; &amp; &lt;b&gt;co&lt;/b&gt;"
    assert payload["text"] == f"[readiness] fraud: Drift in {escaped} since 2026-11-01"
    header, section = payload["blocks"]
    assert header["type"] == "header" and header["text"]["type"] == "plain_text"  # plain text: no markup
    assert header["text"]["text"] == f"[readiness] {drift_title}"[:150]
    assert section["text"]["type"] == "mrkdwn"
    text = section["text"]["text"]
    assert text.startswith(f"*fraud: Drift in {escaped} since 2026-11-01*\n")
    assert f"<{APP_URL}/drift?model=fraud|Open in the dashboard>" in text
    assert "Status: Not ready" in text
    # user text can make no link, mention or markup: no raw < > & from it anywhere in mrkdwn
    link_free = text.replace(f"<{APP_URL}/drift?model=fraud|Open in the dashboard>", "")
    assert "<" not in link_free and ">" not in link_free
    assert "&" not in link_free.replace("&lt;", "").replace("&gt;", "").replace("&amp;", "")
    assert "<" not in payload["text"] and ">" not in payload["text"]


# --------------------------------------------------------------------------- (c) email


def test_model_names_cannot_carry_markup_so_hostile_text_comes_from_a_column_name():
    with pytest.raises(ModelConfigError, match="is not allowed"):
        validate_model_name("<script>alert(1)</script>")
    with pytest.raises(ModelConfigError, match="is not allowed"):
        validate_model_name("fraud&co")


def test_email_is_multipart_with_text_and_escaped_html_to_the_configured_recipients(
    sqlite_store, mailbox, tmp_path, monkeypatch, capsys
):
    add_model(sqlite_store, "fraud", drift=("amount",), amount=HOSTILE)
    alerts_file = write_alerts_file(
        tmp_path,
        '[[alerts.channels]]\nname = "fraud-mail"\nkind = "email"\n'
        'to = ["fraud-team@example.com", "ana@example.com"]\n\n'
        f'[alerts.smtp]\nhost = "{LOOPBACK}"\nport = {mailbox.port}\nsecurity = "none"\n'
        'sender = "readiness@example.com"\n',
    )
    monkeypatch.setenv("READINESS_ALERTS_FILE", str(alerts_file))
    assert main(["--database", url_of(sqlite_store), "watch"]) == 0
    out = capsys.readouterr().out
    assert "email: fraud-team@example.com, ana@example.com: 1 alert(s) sent" in out

    messages = mailbox.messages
    assert len(messages) == 2
    titles = list(alert_history(sqlite_store).alerts.sort_values("id")["title"])
    for (envelope, message), title in zip(messages, titles, strict=True):
        assert envelope.mail_from == "readiness@example.com"
        assert sorted(envelope.rcpt_tos) == ["ana@example.com", "fraud-team@example.com"]
        assert message["From"] == "readiness@example.com"
        assert message["To"] == "fraud-team@example.com, ana@example.com"
        assert title in message["Subject"] and message["Subject"].startswith("[readiness] ")
        assert message.get_content_type() == "multipart/alternative"
        parts = [part.get_content_type() for part in message.iter_parts()]
        assert parts == ["text/plain", "text/html"]

    _, drift_mail = messages[1]
    assert drift_mail["Subject"] == f"[readiness] fraud: Drift in {HOSTILE} since 2026-11-01"
    plain = drift_mail.get_body(("plain",)).get_content()
    html_part = drift_mail.get_body(("html",)).get_content()
    assert f"fraud: Drift in {HOSTILE} since 2026-11-01" in plain  # plain text says it as it is
    assert f"{APP_URL}/drift?model=fraud" in plain
    assert "<script>" not in html_part and "<b>co" not in html_part
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;co&lt;/b&gt;" in html_part
    assert f'<a href="{APP_URL}/drift?model=fraud">Open in the dashboard</a>' in html_part
    assert "Status: Not ready" in html_part and "Status: Not ready" in plain


def test_a_title_with_a_carriage_return_is_mailed_on_one_subject_line(sqlite_store, mailbox):
    add_model(sqlite_store, "fraud", drift=("amount",), amount="amount\rBcc: eve@example.com", parquet=True)
    config = config_with(Channel("mail", "email", "ana@example.com"), smtp=mailbox.smtp)
    result = watch(sqlite_store, config, now=T0)
    assert not result.failures and len(mailbox.messages) == 2
    for envelope, message in mailbox.messages:
        assert envelope.rcpt_tos == ["ana@example.com"] and "\r" not in message["Subject"]


# --------------------------------------------------------------------------- (d) deduplication


def test_a_second_run_with_nothing_changed_sends_nothing(store, receiver):
    add_model(store, "fraud", drift=("amount",))
    config = config_with(webhook(receiver))
    first = watch(store, config, now=T0)
    assert len(first.changes) == 2 and len(receiver.answered(200)) == 2

    for later in (T0, T0 + timedelta(minutes=15), T0 + timedelta(hours=23, minutes=59)):
        again = watch(store, config, now=later)
        assert (again.changes, again.messages, again.reminders) == ((), (), 0)
    assert len(receiver.requests) == 2
    frame = deliveries(store)
    assert list(frame["outcome"]) == ["sent", "sent"] and list(frame["attempts"]) == [1, 1]


# --------------------------------------------------------------------------- (e) reminders


def test_reminders_follow_the_policy_and_stop_on_acknowledge_and_wait_out_a_snooze(store, receiver):
    add_model(store, "fraud", drift=("amount",))
    set_policy(store, remind_hours=2)
    config = config_with(webhook(receiver))
    t0 = utcnow().replace(second=0, microsecond=0)  # snooze counts from the real clock
    first = watch(store, config, now=t0)
    (status_id, _), (drift_id, _) = first.changes
    assert [a["event"] for a in receiver.alerts()] == ["started", "started"]

    before = watch(store, config, now=t0 + timedelta(hours=1, minutes=59))
    assert (before.reminders, before.messages) == (0, ())
    assert len(receiver.requests) == 2

    due = watch(store, config, now=t0 + timedelta(hours=2))
    assert due.changes == () and due.reminders == 2 and len(due.messages) == 2
    reminders = receiver.payloads()[2:]
    assert [p["alerts"][0]["alert_id"] for p in reminders] == [status_id, drift_id]
    assert [p["alerts"][0]["event"] for p in reminders] == ["reminder", "reminder"]
    assert all(p["summary"].startswith("[readiness] Reminder: ") for p in reminders)
    assert stored_alert(store, drift_id).reminders == 1
    assert watch(store, config, now=t0 + timedelta(hours=2, minutes=30)).messages == ()

    acknowledge_alert(store, drift_id, "ana")
    until = snooze_alert(store, status_id, 5, "ana")
    assert t0 + timedelta(hours=5) <= until < t0 + timedelta(hours=5, minutes=10)
    for moment in (t0 + timedelta(hours=4, minutes=30), until - timedelta(minutes=1)):  # both due by then
        snoozed = watch(store, config, now=moment)
        assert (snoozed.reminders, snoozed.messages) == (0, ())
    assert len(receiver.requests) == 4

    after = until + timedelta(minutes=1)
    woken = watch(store, config, now=after)
    assert woken.reminders == 1 and len(woken.messages) == 1
    last = receiver.payloads()[-1]["alerts"]
    assert [(a["alert_id"], a["event"]) for a in last] == [(status_id, "reminder")]
    assert stored_alert(store, status_id).reminders == 2
    assert stored_alert(store, drift_id).reminders == 1  # acknowledged: never again
    assert watch(store, config, now=after + timedelta(hours=1)).messages == ()
    frame = deliveries(store)
    assert list(frame["reminder"]) == [False, False, True, True, True]


def test_reminders_off_and_no_reminder_for_an_ended_problem(sqlite_store, receiver):
    add_model(sqlite_store, "fraud", drift=("amount",))
    set_policy(sqlite_store, remind_hours=0)
    config = config_with(webhook(receiver))
    watch(sqlite_store, config, now=T0)
    later = watch(sqlite_store, config, now=T0 + timedelta(days=3))
    assert (later.reminders, later.messages) == (0, ())
    assert len(receiver.requests) == 2


# --------------------------------------------------------------------------- (f) retries


def test_a_receiver_failing_twice_then_answering_gets_one_delivery_after_three_attempts(
    sqlite_store, receiver
):
    add_model(sqlite_store, "fraud")  # one change: Not ready when first watched
    receiver.fail_next = 2
    result = watch(sqlite_store, config_with(webhook(receiver)), now=T0)

    assert [m.attempts for m in result.messages] == [3] and not result.failures
    assert [r.status for r in receiver.requests] == [500, 500, 200]
    assert len({r.body for r in receiver.requests}) == 1  # the same message each time
    frame = deliveries(sqlite_store)
    assert len(frame) == 1
    assert (frame.loc[0, "outcome"], frame.loc[0, "attempts"], frame.loc[0, "error"]) == ("sent", 3, "")


def test_a_receiver_always_failing_is_recorded_with_the_reason_and_retried_by_a_later_run(store, receiver):
    add_model(store, "fraud")
    channel = webhook(receiver)
    config = config_with(channel)
    receiver.fail_always = True
    result = watch(store, config, now=T0)

    assert len(receiver.requests) == 4  # one try and three retries
    (failure,) = result.failures
    assert failure.attempts == 4
    assert failure.error == "the receiver answered HTTP 500 Internal Server Error"
    assert failure.channel == f"webhook: http://{LOOPBACK}:{receiver.port}/… (secret hidden)"
    frame = deliveries(store)
    assert list(frame["outcome"]) == ["failed"] and list(frame["attempts"]) == [4]
    assert "HTTP 500" in frame.loc[0, "error"] and SECRET not in frame.loc[0, "error"]
    assert SECRET not in "\n".join(result.lines())
    failing = alert_store.latest_failures(store, T0 - timedelta(days=1))  # the Alerts page: the last week
    assert list(failing["channel"]) == [channel.name] and SECRET not in failing.loc[0, "error"]

    receiver.fail_always = False
    receiver.clear()
    retried = watch(store, config, now=T0 + timedelta(hours=1))
    assert retried.changes == () and not retried.failures
    assert [a["alert_id"] for a in receiver.alerts()] == [result.changes[0][0]]
    assert [a["event"] for a in receiver.alerts()] == ["started"]  # the first delivery, not a reminder
    assert list(deliveries(store)["outcome"]) == ["failed", "sent"]
    assert watch(store, config, now=T0 + timedelta(hours=2)).messages == ()
    assert len(receiver.requests) == 1


def test_a_failed_delivery_is_given_up_after_retry_hours_and_a_lasting_problem_comes_back_as_a_reminder(
    sqlite_store, receiver
):
    add_model(sqlite_store, "fraud")
    config = config_with(webhook(receiver))
    receiver.fail_always = True
    watch(sqlite_store, config, now=T0)
    receiver.fail_always = False
    receiver.clear()
    late = watch(sqlite_store, config, now=T0 + timedelta(hours=24, minutes=1))  # default retry_hours 24
    assert [a["event"] for a in receiver.alerts()] == ["reminder"]  # not the stale "started" again
    assert late.reminders == 1


def test_a_shorter_retry_period_set_in_the_policy_is_respected(sqlite_store, receiver):
    add_model(sqlite_store, "fraud")
    set_policy(sqlite_store, retry_hours=1)
    config = config_with(webhook(receiver))
    receiver.fail_always = True
    watch(sqlite_store, config, now=T0)
    receiver.fail_always = False
    receiver.clear()
    late = watch(sqlite_store, config, now=T0 + timedelta(hours=2))
    assert late.messages == () and receiver.requests == []


def test_a_channel_back_after_a_failure_gets_an_alert_once_even_when_its_reminder_is_due(
    sqlite_store, receiver, second_receiver
):
    add_model(sqlite_store, "fraud")
    set_policy(sqlite_store, remind_hours=2)
    config = config_with(webhook(receiver, "up"), webhook(second_receiver, "down"))
    second_receiver.fail_always = True
    watch(sqlite_store, config, now=T0)
    second_receiver.fail_always = False
    second_receiver.clear()
    watch(sqlite_store, config, now=T0 + timedelta(hours=3))
    assert len(second_receiver.alerts()) == 1


def test_an_unreachable_receiver_is_recorded_as_could_not_reach(sqlite_store, closed_port):
    add_model(sqlite_store, "fraud")
    channel = Channel("down", "webhook", f"http://{LOOPBACK}:{closed_port}/hooks/{SECRET}")
    result = watch(sqlite_store, config_with(channel), now=T0)
    (failure,) = result.failures
    assert failure.attempts == 4 and failure.error.startswith("could not reach the receiver")
    error = deliveries(sqlite_store).loc[0, "error"]
    assert error.startswith("could not reach the receiver") and SECRET not in error


def test_an_email_channel_with_a_mail_server_down_fails_with_the_server_named(sqlite_store, closed_port):
    add_model(sqlite_store, "fraud")
    smtp = SmtpSettings(LOOPBACK, closed_port, "readiness@example.com", security="none", password="pw-secret")
    result = watch(sqlite_store, config_with(Channel("mail", "email", "ana@example.com"), smtp=smtp), now=T0)
    (failure,) = result.failures
    assert failure.error.startswith(f"the mail server {LOOPBACK}:{closed_port} refused or failed")
    assert failure.channel == "email: ana@example.com" and "pw-secret" not in failure.error


def test_the_cli_exits_5_naming_the_masked_channel_and_never_the_secret_then_0_once_it_is_back(
    sqlite_store, receiver, tmp_path, monkeypatch, capsys
):
    add_model(sqlite_store, "fraud", drift=("amount",))
    secret_url = receiver.url(f"/hooks/{SECRET}")
    alerts_file = write_alerts_file(
        tmp_path, f'[[alerts.channels]]\nname = "ops"\nkind = "webhook"\nurl = {toml_string(secret_url)}\n'
    )
    monkeypatch.setenv("READINESS_ALERTS_FILE", str(alerts_file))
    database = url_of(sqlite_store)
    masked = f"webhook: http://{LOOPBACK}:{receiver.port}/… (secret hidden)"

    assert main(["--database", database, "alerts", "channels"]) == 0
    listed = capsys.readouterr()
    assert f"ops: {masked}, every model (from file)" in listed.out
    assert SECRET not in listed.out + listed.err

    receiver.fail_always = True
    assert main(["--database", database, "watch"]) == 5
    out, err = capsys.readouterr()
    assert "2 change(s)" in out
    assert out.count(f"{masked}: 1 alert(s) FAILED after 4 attempt(s): the receiver answered HTTP 500") == 2
    assert SECRET not in out + err
    assert SECRET not in " ".join(deliveries(sqlite_store)["error"])
    assert len(receiver.requests) == 8 and all(r.path == f"/hooks/{SECRET}" for r in receiver.requests)

    receiver.fail_always = False
    receiver.clear()
    assert main(["--database", database, "watch"]) == 0
    out, err = capsys.readouterr()
    assert "0 change(s)" in out and out.count(f"{masked}: 1 alert(s) sent") == 2
    assert SECRET not in out + err
    assert len(receiver.payloads()) == 2

    assert main(["--database", database, "alerts", "list"]) == 0
    listing = capsys.readouterr().out
    assert "fraud: Drift in amount since 2026-11-01 (open)" in listing


# --------------------------------------------------------------------------- (g) digest


def test_five_changes_in_one_run_go_as_one_digest_from_a_threshold_of_three(sqlite_store, receiver, mailbox):
    add_model(sqlite_store, "credit", seed=3)  # 1 change: Not ready when first watched
    add_model(sqlite_store, "fraud", drift=("amount", "age", "region"))  # 4: status and three drifts
    set_policy(sqlite_store, digest_from=3)
    config = config_with(
        webhook(receiver),
        webhook(receiver, "slack", kind="slack"),
        Channel("mail", "email", "ana@example.com"),
        smtp=mailbox.smtp,
    )
    result = watch(sqlite_store, config, now=T0)

    assert len(result.changes) == 5
    assert [m.alerts for m in result.messages] == [5, 5, 5] and not result.failures
    (digest,) = receiver.payloads(f"/hooks/hook/{SECRET}")
    assert digest["type"] == "readiness.digest" and digest["version"] == 1
    assert digest["summary"] == "[readiness] 5 changes on 2 model(s): credit, fraud"
    assert [a["alert_id"] for a in digest["alerts"]] == [alert_id for alert_id, _ in result.changes]
    assert {a["model"] for a in digest["alerts"]} == {"credit", "fraud"}
    assert all(a["event"] == "started" for a in digest["alerts"])
    (slack,) = receiver.payloads(f"/hooks/slack/{SECRET}")
    assert len(slack["blocks"]) == 1 + 5
    ((_, message),) = mailbox.messages
    assert message["Subject"] == "[readiness] 5 changes on 2 model(s): credit, fraud"
    assert message.get_body(("plain",)).get_content().count(f"{APP_URL}/") == 5
    assert message.get_body(("html",)).get_content().count("Open in the dashboard") == 5
    frame = deliveries(sqlite_store)
    assert len(frame) == 15 and frame["digest"].all() and (frame["outcome"] == "sent").all()


def test_below_the_digest_threshold_each_change_goes_on_its_own(sqlite_store, receiver):
    add_model(sqlite_store, "fraud", drift=("amount",))
    set_policy(sqlite_store, digest_from=3)
    watch(sqlite_store, config_with(webhook(receiver)), now=T0)
    assert [p["type"] for p in receiver.payloads()] == ["readiness.alert", "readiness.alert"]
    assert not deliveries(sqlite_store)["digest"].any()


# --------------------------------------------------------------------------- (h) quiet hours


def test_quiet_hours_hold_notifications_until_the_first_run_after_them(sqlite_store, receiver):
    add_model(sqlite_store, "fraud", drift=("amount",))
    set_policy(sqlite_store, quiet=QuietHours.parse("22:00-07:00"))
    config = config_with(webhook(receiver))
    night = datetime(2026, 11, 20, 23, 0)

    held = watch(sqlite_store, config, now=night)
    assert len(held.changes) == 2 and held.held == 2 and held.messages == ()
    assert "Quiet hours: 2 notification(s) held until they end." in held.lines()
    still = watch(sqlite_store, config, now=datetime(2026, 11, 21, 6, 59))
    assert still.held == 2 and still.changes == () and still.messages == ()
    assert receiver.requests == []

    morning = watch(sqlite_store, config, now=datetime(2026, 11, 21, 7, 0))
    assert morning.held == 0 and len(morning.messages) == 2 and not morning.failures
    assert [a["event"] for a in receiver.alerts()] == ["started", "started"]
    assert watch(sqlite_store, config, now=datetime(2026, 11, 21, 7, 15)).messages == ()
    assert len(receiver.requests) == 2


# --------------------------------------------------------------------------- (i) per-model channels


def test_a_channel_scoped_to_one_model_never_receives_another_models_alerts(
    sqlite_store, receiver, second_receiver, tmp_path, monkeypatch
):
    alpha = add_model(sqlite_store, "alpha", drift=("amount",))
    beta = add_model(sqlite_store, "beta", drift=("age",), seed=4)
    alerts_file = write_alerts_file(
        tmp_path,
        f'[[alerts.channels]]\nname = "alpha-team"\nkind = "webhook"\nurl = {toml_string(receiver.url("/alpha"))}\n'
        'models = ["alpha"]\n',
    )
    monkeypatch.setenv("READINESS_ALERTS_FILE", str(alerts_file))
    config = alerts_config()
    assert [(c.name, c.model) for c in config.channels] == [("alpha-team", "alpha")]
    beta_channel = add_channel(sqlite_store, "webhook", second_receiver.url("/beta"), beta, ADMIN)
    assert beta_channel.model == "beta"
    set_policy(sqlite_store, remind_hours=1)

    watch(sqlite_store, config, now=T0)
    watch(sqlite_store, config, now=T0 + timedelta(hours=1))  # reminders: the same scoping
    watch(sqlite_store, config, model=beta, now=T0 + timedelta(hours=2))
    watch(sqlite_store, config, model=alpha, now=T0 + timedelta(hours=3))

    alpha_alerts = receiver.alerts("/alpha")
    beta_alerts = second_receiver.alerts("/beta")
    assert {a["model"] for a in alpha_alerts} == {"alpha"}
    assert {a["model"] for a in beta_alerts} == {"beta"}
    assert [a["event"] for a in alpha_alerts] == ["started"] * 2 + ["reminder"] * 4
    assert [a["event"] for a in beta_alerts] == ["started"] * 2 + ["reminder"] * 4
    assert len(receiver.requests) == 6 and len(second_receiver.requests) == 6


def test_a_retry_on_a_channel_listing_several_models_is_sent_once(
    sqlite_store, receiver, tmp_path, monkeypatch
):
    add_model(sqlite_store, "alpha")
    add_model(sqlite_store, "beta", seed=4)
    alerts_file = write_alerts_file(
        tmp_path,
        f'[[alerts.channels]]\nname = "team"\nkind = "webhook"\nurl = {toml_string(receiver.url("/team"))}\n'
        'models = ["alpha", "beta"]\n',
    )
    monkeypatch.setenv("READINESS_ALERTS_FILE", str(alerts_file))
    config = alerts_config()
    receiver.fail_always = True
    first = watch(sqlite_store, config, now=T0)
    assert len(first.failures) == 2
    receiver.fail_always = False
    receiver.clear()
    watch(sqlite_store, config, now=T0 + timedelta(hours=1))
    ids = [a["alert_id"] for a in receiver.alerts()]
    assert sorted(ids) == sorted(alert_id for alert_id, _ in first.changes)  # each once


# --------------------------------------------------------------------------- the demo's history


def test_watching_the_demo_tells_a_new_channel_what_is_open_then_only_what_changes(demo_store, receiver):
    frame = alert_history(demo_store).alerts
    history = set(frame["id"])
    still_open = set(frame[frame["open"].astype(bool) & frame["problem"].astype(bool)]["id"])
    assert len(history) >= 5 and still_open  # what a weekly watch would have recorded, never sent
    config = config_with(webhook(receiver))
    morning = datetime.combine(DEMO_TODAY, time(9))
    first = watch(demo_store, config, now=morning)
    assert first.changes == () and not first.failures  # the backfill's last state is now
    told = receiver.alerts()  # the channel hears once what is open now, as reminders; nothing closed
    assert {a["alert_id"] for a in told} == still_open and {a["event"] for a in told} == {"reminder"}
    assert watch(demo_store, config, now=morning + timedelta(hours=1)).messages == ()  # and not again
    receiver.clear()

    later = watch(demo_store, config, now=morning + timedelta(days=2))  # the logs have gone stale since
    assert len(later.changes) >= 3 and not later.failures
    new = [a["alert_id"] for a in receiver.alerts() if a["event"] != "reminder"]
    assert sorted(new) == sorted(alert_id for alert_id, _ in later.changes)
    assert not set(new) & history
    assert {a["alert_id"] for a in receiver.alerts() if a["event"] == "reminder"} <= still_open
    stale = [a for a in receiver.alerts() if a["kind"] == "stale"]
    assert {a["model"] for a in stale} == {"fraud", "credit", "demand", "ticket-router"}
    assert all(a["link"] == f"{APP_URL}/?model={a['model']}" and a["severity"] == "critical" for a in stale)


# --------------------------------------------------------------------------- (j) a status change end to end


ATTESTED = [item.key for item in DEFAULT_ITEMS if item.kind == "attested"]


def test_a_ready_model_going_not_ready_and_back_and_then_at_risk_is_told_each_time(healthy, receiver):
    model = healthy.get_model("shop")
    for key in ATTESTED:
        attest(
            healthy,
            model,
            key,
            "Ana",
            f"https://wiki.example.com/{key}",
            today=HEALTHY_NOW.date() - timedelta(days=10),
        )
    config = config_with(webhook(receiver))
    ready = watch(healthy, config, now=HEALTHY_NOW)
    assert ready.changes == () and receiver.requests == []  # Ready with nothing wrong: nothing to say

    criterion = add_criterion(healthy, model, parse_criterion("accuracy >= 0.99 per week"), actor="ana")
    worse = watch(healthy, config, now=HEALTHY_NOW + timedelta(hours=1))
    assert [(c.kind, c.event) for _, c in worse.changes] == [("status", "changed"), ("criterion", "started")]
    status, failing = receiver.alerts()
    assert status["title"] == f"shop: Ready -> Not ready ({status['score']:.0f})"
    assert (status["kind"], status["event"], status["severity"], status["problem"]) == (
        "status",
        "changed",
        "critical",
        True,
    )
    assert (status["status"], status["status_label"]) == ("not_ready", "Not ready")
    assert status["evidence"] == ["Criterion failing: accuracy >= 0.99 per week, with at least 100 labels"]
    assert status["link"] == f"{APP_URL}/checklist?model=shop"
    assert failing["title"] == "shop: Criterion failing: accuracy >= 0.99 per week, with at least 100 labels"
    assert failing["link"] == f"{APP_URL}/performance?model=shop"
    assert failing["evidence"] and "accuracy" in failing["evidence"][0]

    remove_criterion(healthy, model, criterion.id, actor="ana")
    receiver.clear()
    better = watch(healthy, config, now=HEALTHY_NOW + timedelta(hours=2))
    assert [(c.kind, c.event) for _, c in better.changes] == [("status", "changed"), ("criterion", "ended")]
    back, met = receiver.alerts()
    assert back["title"] == f"shop: Not ready -> Ready ({back['score']:.0f})"
    assert (back["severity"], back["problem"], back["status"]) == ("info", False, "ready")
    assert (met["event"], met["problem"]) == ("ended", False)
    assert met["title"] == "shop: Criterion met again: accuracy >= 0.99 per week, with at least 100 labels"
    assert not alert_history(healthy).open_count  # both problems closed

    withdraw(healthy, model, "model_card", actor="ana")
    withdraw(healthy, model, "fairness_review", actor="ana")
    receiver.clear()
    watch(healthy, config, now=HEALTHY_NOW + timedelta(hours=3))
    (at_risk,) = receiver.alerts()
    assert at_risk["title"] == f"shop: Ready -> At risk ({at_risk['score']:.0f})"
    assert (at_risk["status"], at_risk["status_label"], at_risk["severity"]) == (
        "at_risk",
        "At risk",
        "warning",
    )
    titles = {item.key: item.title for item in DEFAULT_ITEMS}  # why: the two items no longer attested
    reasons = " ".join(at_risk["evidence"])
    assert titles["model_card"] in reasons and titles["fairness_review"] in reasons


# --------------------------------------------------------------------------- --every


def test_watch_every_period_runs_again_until_interrupted_and_refuses_a_bad_period(
    sqlite_store, receiver, tmp_path, monkeypatch, capsys
):
    """--every 15m: a run, a pause of (about) 15 minutes, another run; Ctrl-C ends it with 0; "5x" is exit 2."""
    from readiness.cli import build_parser
    from readiness.cli_alerts import watch_command

    add_model(sqlite_store, "alpha", drift=("amount",))
    path = write_alerts_file(
        tmp_path, f'[[alerts.channels]]\nkind = "webhook"\nurl = {toml_string(receiver.url("/h"))}\n'
    )
    monkeypatch.setenv("READINESS_ALERTS_FILE", str(path))
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 2:
            raise KeyboardInterrupt

    args = build_parser().parse_args(["--database", url_of(sqlite_store), "watch", "--every", "15m"])
    assert watch_command(args, pause=pause) == 0
    assert len(pauses) == 2 and all(850 < p <= 900 for p in pauses)
    runs = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Watched 1 model")]
    assert len(runs) == 2 and "0 change(s)" in runs[1] and "0 change(s)" not in runs[0]
    first = int(runs[0].split(": ")[1].split(" change")[0])
    assert len(receiver.requests) == first  # one message per change of the first run; the second sent nothing
    for bad in ("5x", "30s", "8d", ""):
        assert main(["--database", url_of(sqlite_store), "watch", "--every", bad]) == 2
        assert "is not a period from 1m to 7d" in capsys.readouterr().err
