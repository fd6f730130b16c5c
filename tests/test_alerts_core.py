"""The pure parts of alerts: changes between snapshots, the policy, batching, channels and their configuration.

No database and no network: readiness.core.alerts, readiness.core.channels, the payload
builders, ``link_for`` and ``alerts_config`` reading a TOML file from tmp_path.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from datetime import datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from readiness.analysis.alerts import link_for
from readiness.config import alerts_config
from readiness.core.alert_messages import email_message, slack_payload, webhook_payload
from readiness.core.alerts import (
    EVENTS,
    KINDS,
    SEVERITIES,
    AlertPolicy,
    Change,
    Notification,
    Problem,
    QuietHours,
    Snapshot,
    batch,
    changes_between,
)
from readiness.core.channels import Channel, SmtpSettings, channels_from_mapping, check_channel
from readiness.core.status import ReadinessStatus
from readiness.errors import ConfigError

DRIFT = Problem("drift", "amount", "Drift in amount since 2026-11-02", ("PSI 0.31",), "Drift", "warning")
STALE = Problem(
    "stale",
    "log",
    "The log is stale: 50 h",
    ("50 h",),
    "Overview",
    "critical",
    ended="The log is fresh again",
)
EXPIRING = Problem(
    "attestation",
    "model_card",
    "Attestation expires on 2026-12-05 (in 3 days): Model card",
    ("attested by Ana on 2026-06-08",),
    "Checklist",
    "warning",
    state="expiring",
    ended="Attestation renewed: Model card",
)
EXPIRED = Problem(
    "attestation",
    "model_card",
    "Attestation expired on 2026-12-05: Model card",
    ("attested by Ana on 2026-06-08",),
    "Checklist",
    "warning",
    state="expired",
    ended="Attestation renewed: Model card",
)
CONFIG_ENV = (
    "READINESS_ALERTS_FILE",
    "READINESS_APP_URL",
    "READINESS_SMTP_HOST",
    "READINESS_SMTP_PORT",
    "READINESS_SMTP_FROM",
    "READINESS_SMTP_USER",
    "READINESS_SMTP_PASSWORD",
    "READINESS_SMTP_SECURITY",
)


def snap(
    status: str = "ready", score: float | None = 88.0, *problems: Problem, model: str = "fraud"
) -> Snapshot:
    return Snapshot(model, status, score, tuple(problems), "2026-12-02T09:00:00")


def summary(changes) -> list[tuple[str, str, str]]:
    return [(c.kind, c.key, c.event) for c in changes]


# --------------------------------------------------------------------------- changes_between


def test_a_first_snapshot_of_a_ready_model_with_nothing_wrong_is_no_news():
    assert changes_between(None, snap("ready", 90.0)) == ()


def test_a_first_snapshot_announces_a_status_other_than_ready_and_every_current_problem():
    changes = changes_between(None, snap("not_ready", 38.0, STALE, DRIFT))
    assert summary(changes) == [
        ("status", "status", "started"),
        ("stale", "log", "started"),
        ("drift", "amount", "started"),
    ]
    status = changes[0]
    assert status.title == "fraud is Not ready (38) when first watched"
    assert (status.severity, status.problem, status.status, status.score) == (
        "critical",
        True,
        "not_ready",
        38.0,
    )
    assert status.evidence == (
        "The log is stale: 50 h",
    )  # critical problems are the reasons when there are any
    assert status.page == "Checklist"
    drift = changes[2]
    assert drift.title == "fraud: Drift in amount since 2026-11-02"
    assert (drift.severity, drift.page, drift.evidence, drift.problem) == (
        "warning",
        "Drift",
        ("PSI 0.31",),
        True,
    )
    assert (drift.status, drift.status_label, drift.score_text) == ("not_ready", "Not ready", "38")


def test_a_first_snapshot_without_a_score_says_n_a():
    (change,) = changes_between(None, snap("at_risk", None))
    assert change.title == "fraud is At risk (n/a) when first watched" and change.score_text == "n/a"


@pytest.mark.parametrize(
    ("before", "after", "title", "severity", "problem"),
    [
        ("ready", "at_risk", "fraud: Ready -> At risk (62)", "warning", True),
        ("at_risk", "not_ready", "fraud: At risk -> Not ready (62)", "critical", True),
        ("not_ready", "at_risk", "fraud: Not ready -> At risk (62)", "warning", True),
        ("at_risk", "ready", "fraud: At risk -> Ready (62)", "info", False),
        ("not_ready", "ready", "fraud: Not ready -> Ready (62)", "info", False),
    ],
)
def test_a_status_change_either_way_is_one_change(before, after, title, severity, problem):
    (change,) = changes_between(snap(before, 80.0), snap(after, 62.0))
    assert (change.kind, change.key, change.event) == ("status", "status", "changed")
    assert (change.title, change.severity, change.problem, change.status) == (title, severity, problem, after)


def test_a_status_change_gives_the_problems_as_reasons_critical_first_at_most_five():
    warnings = [Problem("drift", f"c{i}", f"Drift in c{i}") for i in range(7)]
    (change, *_) = changes_between(snap("ready", 90.0), snap("at_risk", 60.0, *warnings))
    assert change.evidence == tuple(f"Drift in c{i}" for i in range(5))
    (change, *_) = changes_between(snap("ready", 90.0), snap("not_ready", 40.0, DRIFT, STALE))
    assert change.evidence == ("The log is stale: 50 h",)


def test_problems_start_change_and_end():
    before = snap("at_risk", 62.0, DRIFT, EXPIRING)
    after = snap("at_risk", 61.0, EXPIRED, STALE)
    changes = changes_between(before, after)
    assert summary(changes) == [
        ("attestation", "model_card", "changed"),
        ("stale", "log", "started"),
        ("drift", "amount", "ended"),
    ]
    changed, started, ended = changes
    assert changed.title == "fraud: Attestation expired on 2026-12-05: Model card" and changed.problem
    assert started.severity == "critical" and started.problem
    assert ended.title == "fraud: Drift amount: recovered"  # no ended title given: the kind and key
    assert (ended.severity, ended.problem, ended.evidence, ended.page) == ("info", False, (), "Drift")
    assert (ended.status, ended.score) == ("at_risk", 61.0)  # the model as it is now
    (renewed,) = changes_between(after, snap("at_risk", 61.0, STALE))
    assert renewed.title == "fraud: Attestation renewed: Model card" and renewed.event == "ended"


def test_an_unchanged_snapshot_gives_nothing_even_when_titles_scores_or_evidence_move():
    before = snap("at_risk", 62.0, DRIFT, EXPIRING)
    moved = Problem("drift", "amount", "Drift in amount since 2026-11-02", ("PSI 0.45",), "Drift", "warning")
    assert changes_between(before, before) == ()
    assert changes_between(before, snap("at_risk", 64.0, moved, EXPIRING)) == ()


TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
PROBLEM = st.builds(
    Problem,
    kind=st.sampled_from(KINDS[1:]),
    key=st.text(max_size=12),
    title=TEXT,
    evidence=st.lists(TEXT, max_size=3).map(tuple),
    page=st.sampled_from(["Checklist", "Drift", "Performance", "Overview"]),
    severity=st.sampled_from(SEVERITIES),
    state=st.sampled_from(["", "expiring", "expired"]),
    ended=TEXT,
)
SNAPSHOT = st.builds(
    Snapshot,
    model=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,20}", fullmatch=True),
    status=st.sampled_from([s.value for s in ReadinessStatus]),
    score=st.none() | st.floats(0, 100, allow_nan=False),
    problems=st.lists(PROBLEM, max_size=6, unique_by=lambda p: p.ident).map(tuple),
    as_of=st.just("2026-12-02T09:00:00") | st.just(""),
)


@given(SNAPSHOT)
def test_a_snapshot_compared_with_itself_gives_nothing(snapshot):
    assert changes_between(snapshot, snapshot) == ()


@given(SNAPSHOT)
def test_a_snapshot_round_trips_through_json(snapshot):
    text = snapshot.to_json()
    assert Snapshot.from_json(text) == snapshot
    assert json.loads(text)["model"] == snapshot.model


@given(SNAPSHOT, SNAPSHOT)
def test_going_there_and_back_ends_every_problem_started_and_restarts_every_one_ended(a, b):
    b = Snapshot(a.model, b.status, b.score, b.problems, b.as_of)
    there, back = changes_between(a, b), changes_between(b, a)

    def idents(changes, event):
        return Counter(c.ident for c in changes if c.event == event and c.kind != "status")

    assert idents(there, "started") == idents(back, "ended")
    assert idents(there, "ended") == idents(back, "started")
    assert idents(there, "changed") == idents(back, "changed")
    assert all(max(n.values(), default=1) == 1 for n in (idents(there, "started"), idents(there, "ended")))
    assert (
        sum(c.kind == "status" for c in there)
        == sum(c.kind == "status" for c in back)
        == (a.status != b.status)
    )
    for change in there:
        assert change.event in EVENTS and change.severity in SEVERITIES
        assert change.problem == (change.event != "ended") or change.kind == "status"
        assert change.title.startswith(a.model)


@given(SNAPSHOT)
def test_a_first_snapshot_announces_each_problem_once(snapshot):
    changes = changes_between(None, snapshot)
    problems = [c for c in changes if c.kind != "status"]
    assert [c.ident[1:] for c in problems] == [p.ident for p in snapshot.problems]
    assert all(c.event == "started" for c in changes)
    assert sum(c.kind == "status" for c in changes) == (snapshot.status != "ready")


# --------------------------------------------------------------------------- quiet hours and the policy


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [
        (time(22, 0), True),
        (time(23, 30), True),
        (time(0, 0), True),
        (time(6, 59, 59), True),
        (time(7, 0), False),
        (time(12, 0), False),
        (time(21, 59, 59), False),
    ],
)
def test_quiet_hours_may_wrap_midnight(moment, quiet):
    span = QuietHours.parse("22:00-07:00")
    assert span.contains(datetime.combine(datetime(2026, 12, 2), moment)) is quiet
    assert span.text == "22:00-07:00"


def test_quiet_hours_within_a_day_and_with_spaces():
    span = QuietHours.parse(" 12:00 - 13:30 ")
    assert span == QuietHours(time(12), time(13, 30)) and span.text == "12:00-13:30"
    assert span.contains(datetime(2026, 12, 2, 12, 45)) and not span.contains(datetime(2026, 12, 2, 13, 30))
    assert not QuietHours.parse("09:00-09:00").contains(datetime(2026, 12, 2, 9))  # an empty span


@pytest.mark.parametrize(
    "text", ["", "22:00", "25:00-07:00", "22:00-07:61", "night", "22:00-07:00-08:00", "22:00–07:00", "-"]
)
def test_quiet_hours_that_are_not_a_span_are_a_config_error_naming_the_text(text):
    with pytest.raises(
        ConfigError,
        match=re.escape("are not a span of UTC times (HH:MM-HH:MM, no offset); write e.g. 22:00-07:00"),
    ) as caught:
        QuietHours.parse(text)
    assert repr(text) in str(caught.value)


@pytest.mark.parametrize("text", ["22:00Z-07:00Z", "22:00+02:00-07:00"])
def test_quiet_hours_with_a_utc_offset_are_refused_or_kept_as_meant(text):
    try:
        span = QuietHours.parse(text)
    except ConfigError:
        return
    assert span.contains(datetime(2026, 12, 2, 23, 0)) is not None
    assert QuietHours.parse(span.text) == span


@pytest.mark.parametrize("hours", [0, 0.5, 24, 24 * 365])
def test_reminder_periods_in_range_are_accepted(hours):
    assert AlertPolicy(remind_hours=hours).remind_hours == hours


@pytest.mark.parametrize("hours", [-1, -0.001, 24 * 365 + 1, math.inf, math.nan])
def test_reminder_periods_out_of_range_are_refused(hours):
    with pytest.raises(ConfigError, match=r"Reminder period .* is out of range; use 0 \(off\) to 8760 hours"):
        AlertPolicy(remind_hours=hours)


@pytest.mark.parametrize("count", [2, 5, 10_000])
def test_digest_thresholds_in_range_are_accepted(count):
    assert AlertPolicy(digest_from=count).digest_from == count


@pytest.mark.parametrize("count", [-1, 0, 1, 10_001])
def test_digest_thresholds_out_of_range_are_refused(count):
    with pytest.raises(ConfigError, match=f"Digest threshold {count} is out of range"):
        AlertPolicy(digest_from=count)


def test_the_default_policy():
    policy = AlertPolicy()
    assert (policy.remind_hours, policy.digest_from, policy.quiet, policy.retry_hours) == (
        24.0,
        5,
        None,
        24.0,
    )


# --------------------------------------------------------------------------- notifications and batches


def change(model: str = "fraud", key: str = "amount", event: str = "started", title: str = "") -> Change:
    return Change(model, "drift", key, event, title or f"{model}: Drift in {key}", "warning", "at_risk", 62.0)


def note(alert_id: int, model: str = "fraud", reminder: bool | None = None) -> Notification:
    reminders = () if reminder is None else (reminder,)
    return Notification(
        (change(model, f"c{alert_id}"),), (f"http://app/drift?model={model}",), (alert_id,), reminders
    )


def test_below_the_threshold_a_batch_is_the_notifications_themselves():
    items = [note(1), note(2, reminder=True)]
    assert batch(items, 3) == tuple(items)
    assert batch([], 2) == ()


def test_from_the_threshold_a_batch_is_one_digest_carrying_everything_in_order():
    items = [note(1), note(2, "credit", reminder=True), note(3, reminder=False)]
    (digest,) = batch(items, 3)
    assert digest.is_digest
    assert digest.alert_ids == (1, 2, 3)
    assert [c.key for c in digest.changes] == ["c1", "c2", "c3"]
    assert digest.links == (
        "http://app/drift?model=fraud",
        "http://app/drift?model=credit",
        "http://app/drift?model=fraud",
    )
    assert digest.reminders == (False, True, False)  # no reminders given counts as not a reminder
    assert digest.subject == "[readiness] 3 changes on 2 model(s): credit, fraud"
    payload = webhook_payload(digest, "2026-12-02T09:00:00Z")
    assert payload["type"] == "readiness.digest"
    assert [a["event"] for a in payload["alerts"]] == ["started", "reminder", "started"]


def test_a_single_notification_subject_says_reminder_when_it_is_one():
    assert note(1).subject == "[readiness] fraud: Drift in c1"
    assert note(1, reminder=True).subject == "[readiness] Reminder: fraud: Drift in c1"
    assert not note(1).is_digest


@given(st.lists(st.integers(1, 10**6), max_size=12, unique=True), st.integers(2, 10))
def test_a_batch_never_loses_or_repeats_an_alert(ids, threshold):
    messages = batch([note(i) for i in ids], threshold)
    assert [i for m in messages for i in m.alert_ids] == ids
    assert len(messages) == (1 if len(ids) >= threshold else len(ids))


def test_payloads_escape_user_text_where_it_goes():
    hostile = "<script>alert(1)</script> & <@U123>"
    message = Notification(
        (change(title=f"fraud: Drift in {hostile}"),), ("http://app/drift?model=fraud",), (9,)
    )
    slack = slack_payload(message)
    assert "<script>" not in slack["text"] and "<@U123>" not in json.dumps(slack["blocks"][1])
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;@U123&gt;" in slack["blocks"][1]["text"]["text"]
    mail = email_message(message, "readiness@example.com", ("ana@example.com",))
    html_part = mail.get_body(("html",)).get_content()
    assert "<script>" not in html_part and "&lt;script&gt;" in html_part
    assert (
        webhook_payload(message, "t")["alerts"][0]["title"] == f"fraud: Drift in {hostile}"
    )  # JSON carries it as is


# --------------------------------------------------------------------------- channels


@pytest.mark.parametrize(
    "target",
    [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "ftp://files.example.com/hook",
        "file:///etc/passwd",
        "data:text/html,<script>alert(1)</script>",
        "mailto:ana@example.com",
        "hooks.slack.com/services/T0/B0/X",
        "//hooks.example.com/x",
        "http://",
        "https:///path-only",
    ],
)
@pytest.mark.parametrize("kind", ["webhook", "slack"])
def test_a_url_channel_needs_an_http_url_with_a_host(kind, target):
    with pytest.raises(ConfigError, match=f"A {kind} channel needs an http\\(s\\) URL"):
        check_channel(kind, target)


@pytest.mark.parametrize("target", ["", "   ", None])
@pytest.mark.parametrize("kind", ["webhook", "slack", "email"])
def test_a_channel_without_a_target_is_refused(kind, target):
    with pytest.raises(ConfigError, match=f"The {kind} channel has no target"):
        check_channel(kind, target)


@pytest.mark.parametrize(
    "target",
    [
        "https://hooks.example.com/x\nhttps://evil.example.com/",
        "https://hooks.example.com/x\ry",
        "https://hooks.example.com/\tx",
        "https://hooks.example.com/\x00",
        "ana@example.com\nBcc: eve@example.com",
        "https://hooks.example.com/" + "x" * 2_000,
    ],
)
def test_a_target_with_control_characters_or_too_long_is_refused(target):
    kind = "email" if "@" in target else "webhook"
    with pytest.raises(
        ConfigError, match="holds control characters; give one URL or address list under 2000"
    ):
        check_channel(kind, target)


@pytest.mark.parametrize(
    "target",
    [
        "ana",
        "ana@",
        "@example.com",
        "ana@example",
        "ana@@example.com",
        "<ana@example.com>",
        "ana@example.com, jo",
        '"ana"@example.com',
        "ana@exa mple.com",
    ],
)
def test_bad_email_addresses_are_refused_naming_the_first(target):
    with pytest.raises(ConfigError, match="is not an email address; list addresses separated by commas"):
        check_channel("email", target)


def test_good_targets_come_back_trimmed_and_addresses_normalised():
    assert check_channel("slack", "  https://hooks.slack.com/services/T0/B0/X  ") == (
        "https://hooks.slack.com/services/T0/B0/X"
    )
    assert (
        check_channel("webhook", "HTTP://Hooks.Example.com:8443/x?y=1")
        == "HTTP://Hooks.Example.com:8443/x?y=1"
    )
    assert check_channel("email", "ana@example.com;jo@example.com  li@example.org") == (
        "ana@example.com, jo@example.com, li@example.org"
    )


def test_an_unknown_channel_kind_is_refused():
    with pytest.raises(
        ConfigError, match="Unknown alert channel kind 'sms'; use one of webhook, slack, email"
    ):
        check_channel("sms", "+15550100")


@pytest.mark.parametrize("target", ["https://hooks.example.com:99999/x", "https://hooks.example.com:abc/x"])
def test_a_url_with_a_bad_port_is_refused(target):
    with pytest.raises(ConfigError):
        check_channel("webhook", target)


SAFE = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", min_size=8, max_size=40)


@given(SAFE, SAFE, st.sampled_from(["webhook", "slack"]), st.sampled_from(["", ":8443", ":80"]))
def test_a_masked_channel_never_shows_the_path_query_or_credentials(path_secret, query_secret, kind, port):
    target = f"https://bot:{query_secret}@hooks.example.com{port}/services/{path_secret}?token={query_secret}#{path_secret}"
    masked = Channel("c", kind, check_channel(kind, target)).masked
    assert masked == f"{kind}: https://hooks.example.com{port}/… (secret hidden)"
    assert path_secret not in masked and query_secret not in masked


def test_a_masked_email_channel_shows_its_addresses():
    channel = Channel("m", "email", "ana@example.com, jo@example.com")
    assert channel.masked == "email: ana@example.com, jo@example.com"
    assert channel.recipients == ("ana@example.com", "jo@example.com")


def test_channels_from_a_mapping_get_names_and_one_channel_per_listed_model():
    channels = channels_from_mapping(
        {
            "channels": [
                {"kind": "slack", "url": "https://hooks.slack.com/services/T0/B0/X"},
                {
                    "name": "ops",
                    "kind": "webhook",
                    "url": "https://ops.example.com/h",
                    "models": ["fraud", "credit"],
                },
                {"kind": "email", "to": ["ana@example.com", "jo@example.com"]},
            ]
        },
        "alerts.toml",
    )
    assert [(c.name, c.kind, c.model, c.source) for c in channels] == [
        ("file-1-slack", "slack", None, "file"),
        ("ops (fraud)", "webhook", "fraud", "file"),
        ("ops (credit)", "webhook", "credit", "file"),
        ("file-3-email", "email", None, "file"),
    ]
    assert channels[3].target == "ana@example.com, jo@example.com"
    assert channels_from_mapping({}, "x") == ()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"channels": {"kind": "slack"}}, "where: alerts.channels must be a list of tables"),
        ({"channels": ["https://x.example.com"]}, "where: channel 1 is 'https://x.example.com', not a table"),
        ({"channels": [{"url": "https://x.example.com"}]}, "where: channel 1: Unknown alert channel kind ''"),
        (
            {
                "channels": [
                    {"kind": "slack", "url": "https://a.example.com/x"},
                    {"kind": "webhook", "url": "javascript:alert(1)"},
                ]
            },
            "where: channel 2: A webhook channel needs an http\\(s\\) URL",
        ),
        (
            {"channels": [{"kind": "webhook", "to": "https://a.example.com"}]},
            "where: channel 1: The webhook channel has no target",
        ),
        (
            {"channels": [{"kind": "email", "url": "ana@example.com"}]},
            "where: channel 1: The email channel has no target",
        ),
        (
            {"channels": [{"kind": "email", "to": ["ana@example.com", "nobody"]}]},
            "where: channel 1: 'nobody' is not an email",
        ),
        (
            {"channels": [{"kind": "slack", "url": "https://a.example.com/x", "models": "fraud"}]},
            "where: channel 1: models must be a list of model names, found 'fraud'",
        ),
        (
            {"channels": [{"kind": "slack", "url": "https://a.example.com/x", "models": ["fraud", 3]}]},
            "where: channel 1: models must be a list of model names",
        ),
    ],
)
def test_bad_channel_tables_are_config_errors_naming_where_and_which(data, message):
    with pytest.raises(ConfigError, match=message):
        channels_from_mapping(data, "where")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"security": "ssl"}, "SMTP security 'ssl' is unknown; use starttls, tls or none"),
        ({"port": 0}, "SMTP port 0 is out of range"),
        ({"port": 65536}, "SMTP port 65536 is out of range"),
        ({"sender": "readiness"}, "SMTP sender 'readiness' is not an email address"),
    ],
)
def test_bad_smtp_settings_are_refused(values, message):
    with pytest.raises(ConfigError, match=message):
        SmtpSettings("smtp.example.com", **values)


# --------------------------------------------------------------------------- alerts_config from a TOML file


@pytest.fixture
def alerts_env(monkeypatch, tmp_path):
    """A clean alerts environment and a writer for $READINESS_ALERTS_FILE."""
    for name in CONFIG_ENV:
        monkeypatch.delenv(name, raising=False)

    def write(text: str) -> str:
        path = tmp_path / "alerts.toml"
        path.write_text(text, encoding="utf-8")
        monkeypatch.setenv("READINESS_ALERTS_FILE", str(path))
        return str(path)

    return write


FULL_FILE = """
[alerts]
app_url = "https://readiness.example.com"

[[alerts.channels]]
name = "ml-oncall"
kind = "slack"
url = "https://hooks.slack.com/services/T000/B000/XXXXXXXX"

[[alerts.channels]]
kind = "email"
to = ["fraud-team@example.com", "ana@example.com"]
models = ["fraud"]

[alerts.smtp]
host = "smtp.example.com"
port = 465
security = "tls"
sender = "readiness@example.com"
username = "readiness"
"""


def test_alerts_config_reads_channels_smtp_and_app_url_from_the_file(alerts_env):
    alerts_env(FULL_FILE)
    config = alerts_config()
    assert [(c.name, c.kind, c.model) for c in config.channels] == [
        ("ml-oncall", "slack", None),
        ("file-2-email", "email", "fraud"),
    ]
    assert config.smtp == SmtpSettings(
        "smtp.example.com", 465, "readiness@example.com", "readiness", "", "tls"
    )
    assert config.app_url == "https://readiness.example.com"


def test_the_environment_takes_precedence_over_the_file(alerts_env, monkeypatch):
    alerts_env(FULL_FILE)
    monkeypatch.setenv("READINESS_SMTP_HOST", "mail.internal")
    monkeypatch.setenv("READINESS_SMTP_PORT", " 2525 ")
    monkeypatch.setenv("READINESS_SMTP_PASSWORD", "pw")
    monkeypatch.setenv("READINESS_SMTP_SECURITY", "NONE")
    monkeypatch.setenv("READINESS_APP_URL", "http://dash.internal:8501")
    config = alerts_config()
    assert config.smtp == SmtpSettings(
        "mail.internal", 2525, "readiness@example.com", "readiness", "pw", "none"
    )
    assert config.app_url == "http://dash.internal:8501"


def test_without_a_file_the_fallback_table_is_read_and_without_either_nothing_is_configured(alerts_env):
    assert alerts_config() == alerts_config({})
    assert alerts_config().channels == () and alerts_config().smtp is None
    fallback = {"channels": [{"kind": "webhook", "url": "https://ops.example.com/h"}]}
    assert [c.name for c in alerts_config(fallback).channels] == ["file-1-webhook"]
    with pytest.raises(ConfigError, match="the \\[alerts\\] secrets: channel 1: A webhook channel needs"):
        alerts_config({"channels": [{"kind": "webhook", "url": "ftp://x"}]})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[alerts\n", "is not valid TOML"),
        ("[roles]\nadmin = []\n", "has no \\[alerts\\] table"),
        ("alerts = 3\n", "has no \\[alerts\\] table"),
        ("[alerts]\nchannels = 3\n", ": alerts.channels must be a list of tables"),
        (
            '[[alerts.channels]]\nkind = "slack"\nurl = "javascript:x"\n',
            ": channel 1: A slack channel needs an http",
        ),
        (
            '[[alerts.channels]]\nkind = "email"\nto = ["ana@example.com"]\n',
            "has an email channel but no mail server",
        ),
        ("[alerts]\nsmtp = 3\n", ": alerts.smtp must be a table"),
    ],
)
def test_a_bad_alerts_file_is_a_config_error_naming_the_variable_and_file(alerts_env, text, message):
    path = alerts_env(text)
    with pytest.raises(ConfigError, match=message) as caught:
        alerts_config()
    assert f"READINESS_ALERTS_FILE={path!r}" in str(caught.value)


def test_an_unreadable_alerts_file_names_the_variable(alerts_env, monkeypatch, tmp_path):
    missing = str(tmp_path / "nowhere.toml")
    monkeypatch.setenv("READINESS_ALERTS_FILE", missing)
    with pytest.raises(ConfigError, match="cannot be read") as caught:
        alerts_config()
    assert f"READINESS_ALERTS_FILE={missing!r}" in str(caught.value)


def test_an_alerts_file_that_is_not_utf8_names_the_variable(alerts_env, tmp_path, monkeypatch):
    path = tmp_path / "latin.toml"
    path.write_bytes(b'[alerts]\napp_url = "http://caf\xe9.example.com"\n')
    monkeypatch.setenv("READINESS_ALERTS_FILE", str(path))
    with pytest.raises(ConfigError, match=r"READINESS_ALERTS_FILE=.* is not valid TOML"):
        alerts_config()


def test_a_bad_smtp_port_or_app_url_names_the_setting_and_the_variable(alerts_env, monkeypatch):
    alerts_env('[alerts]\n[alerts.smtp]\nhost = "smtp.example.com"\nport = "five"\n')
    with pytest.raises(
        ConfigError, match=re.escape("alerts.smtp.port or READINESS_SMTP_PORT) is not a number")
    ):
        alerts_config()
    alerts_env('[alerts]\napp_url = "readiness.example.com"\n')
    with pytest.raises(
        ConfigError, match=re.escape("(READINESS_APP_URL or alerts.app_url) must start with http")
    ):
        alerts_config()
    alerts_env("[alerts]\n")
    monkeypatch.setenv("READINESS_APP_URL", "javascript:alert(1)")
    with pytest.raises(ConfigError, match="READINESS_APP_URL"):
        alerts_config()


@pytest.mark.parametrize(
    ("name", "value"),
    [("READINESS_SMTP_SECURITY", "ssl"), ("READINESS_SMTP_PORT", "70000"), ("READINESS_SMTP_FROM", "me")],
)
def test_a_bad_smtp_variable_is_named_in_the_error(alerts_env, monkeypatch, name, value):
    monkeypatch.setenv("READINESS_SMTP_HOST", "smtp.example.com")
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        alerts_config()


# --------------------------------------------------------------------------- links


@pytest.mark.parametrize(
    ("model", "page", "link"),
    [
        ("fraud", "Drift", "https://app.example.com/drift?model=fraud"),
        ("fraud-v2.1_x", "Performance", "https://app.example.com/performance?model=fraud-v2.1_x"),
        ("fraud & co", "Checklist", "https://app.example.com/checklist?model=fraud%20%26%20co"),
        ("a/b?c=d#e", "Drift", "https://app.example.com/drift?model=a%2Fb%3Fc%3Dd%23e"),
        ("<script>", "Drift", "https://app.example.com/drift?model=%3Cscript%3E"),
        ("café", "Overview", "https://app.example.com/?model=caf%C3%A9"),
        ("fraud", "Nowhere", "https://app.example.com/checklist?model=fraud"),
    ],
)
def test_link_for_quotes_the_model_and_picks_the_page(model, page, link):
    c = Change(model, "drift", "x", "started", "", "warning", "at_risk", 60.0, page=page)
    assert link_for("https://app.example.com", c) == link
    assert link_for("https://app.example.com/", c) == link
