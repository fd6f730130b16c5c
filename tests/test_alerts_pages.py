"""The Alerts page and the Settings page's alerts section through Streamlit's AppTest (app.py, then switch_page).

The demo's alert history (conftest.demo_path: seeded as of 2026-11-15, so its alerts are fixed)
is what most tests read; a test that acknowledges, snoozes or adds a channel works on a copy.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from readiness import Store, ingest_csv
from readiness.analysis.alerts import add_channel, alert_history
from readiness.analysis.settings import audit_trail
from readiness.core.alerts import Change
from readiness.core.channels import Channel
from readiness.core.records import utcnow
from readiness.storage import alert_store
from tests import test_pages
from tests.test_pages_access import AUTH, ROLES

# The page tests' fixtures: app.py run as st.navigation; a store with model "fraud" (no alerts).
db_url, fraud_store, navigation_only = test_pages.db_url, test_pages.fraud_store, test_pages.navigation_only
EVIL, HOSTILE, no_markup_from, rendered_text = (
    test_pages.EVIL,
    test_pages.HOSTILE,
    test_pages.no_markup_from,
    test_pages.rendered_text,
)

ROOT = Path(__file__).resolve().parent.parent
LOCAL = "dashboard (local mode)"
SECRET = "T0SECRET/B0SECRET/XYZsupersecret"
HOOK = f"https://hooks.example.com/services/{SECRET}"
MASKED_HOOK = "webhook: https://hooks.example.com/… (secret hidden)"
ERROR = "the receiver answered HTTP 404 Not Found"


@pytest.fixture
def demo_db(demo_store, tmp_path, monkeypatch) -> Store:
    """A private copy of the fixed-date demo (tmp_path/demo.db), which the app opens."""
    monkeypatch.setenv("READINESS_DATABASE_URL", f"sqlite:///{tmp_path / 'demo.db'}")
    monkeypatch.setenv("READINESS_AUTO_DEMO", "0")
    return demo_store


def alerts_page(model: str = "fraud", secrets: dict | None = None, every: bool = False) -> AppTest:
    """The app on ``model``, switched to the Alerts page (``secrets`` go to st.secrets), showing that
    model's alerts only unless ``every`` (the page opens on every model's)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in (secrets or {}).items():
        at.secrets[key] = value
    at.query_params["model"] = model
    at.run()
    at.switch_page("pages/alerts.py").run()
    if not every:
        at.toggle(key="alerts_all_models").set_value(False).run()
    assert not at.exception, at.exception
    return at


def settings_page(model: str = "fraud", secrets: dict | None = None) -> AppTest:
    at = alerts_page(model, secrets)
    at.switch_page("pages/settings.py").run()
    assert not at.exception, at.exception
    return at


def signed_in(email: str, page: str) -> AppTest:
    """The app with a provider and the roles of test_pages_access, as ``email``, on ``page`` of model fraud."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.secrets["auth"] = AUTH
    at.secrets["roles"] = ROLES
    at.user = {"is_logged_in": True, "email": email, "sub": email}
    at.query_params["model"] = "fraud"
    at.run()
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    """The one table on the page with this column."""
    (found,) = [f.value for f in at.dataframe if column in f.value.columns]
    return found


def history(at: AppTest) -> pd.DataFrame:
    """The Alerts page's history table."""
    return frame_with(at, "Deliveries")


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def everything_shown(at: AppTest) -> str:
    """Every text the page renders, every table's cells and every input's value, as one string."""
    texts = rendered_text(at)
    texts += [e.value for kind in (at.title, at.subheader, at.code) for e in kind]
    texts += [f"{m.label} {m.value}" for m in at.metric]
    texts += [frame.value.to_csv() for frame in at.dataframe]
    texts += [str(box.value) for box in at.text_input]
    texts += [" ".join(map(str, box.options)) for box in [*at.selectbox, *at.radio]]
    return "\n".join(texts)


def alert_row(store: Store, alert_id: int) -> pd.Series:
    frame = alert_store.alert_frame(store)
    return frame.set_index("id").loc[alert_id]


def alert_id(store: Store, model: str, text: str) -> int:
    """The newest alert of ``model`` whose title holds ``text``."""
    frame = alert_store.alert_frame(store)
    found = frame[(frame["model"] == model) & frame["title"].str.contains(text, regex=False)]
    assert len(found), (model, text, list(frame["title"]))
    return int(found["id"].iloc[0])


def fail_delivery(store: Store, alert: int, channel: Channel, error: str = ERROR) -> None:
    """Record that a message about ``alert`` failed on ``channel`` (as a watch run would)."""
    with store.begin() as conn:
        alert_store.record_delivery(conn, [(alert, False)], channel, utcnow(), error, 4)


# --------------------------------------------------------------------------- reading the history


def test_the_alerts_page_lists_every_models_alerts_or_the_sidebar_models_newest_first_with_links(demo_db):
    at = alerts_page("fraud", every=True)
    assert [t.value for t in at.title] == ["Alerts"]
    assert at.toggle(key="alerts_all_models").value is True  # on call: what is wrong anywhere, first
    assert set(history(at)["Model"]) == {"fraud", "credit", "demand", "ticket-router"}
    at.toggle(key="alerts_all_models").set_value(False).run()
    table = history(at)
    expected = alert_history(demo_db).alerts
    fraud = expected[expected["model"] == "fraud"]
    assert set(table["Model"]) == {"fraud"} and len(table) == len(fraud)
    assert metrics(at) == {
        "Open problems": str(int(fraud["open"].sum())),
        "Alerts shown": str(len(fraud)),
        "Channels": "0",
    }
    assert list(table["When (UTC)"]) == sorted(table["When (UTC)"], reverse=True)
    drift = table[table["What"] == "Drift in device_trust since 2026-09-21"]
    assert list(drift["Page"]) == ["/drift?model=fraud"] and list(drift["State"]) == ["open"]
    criterion = table[table["What"].str.startswith("Criterion failing: recall")]
    assert list(criterion["Page"]) == ["/performance?model=fraud"]
    assert set(table["Deliveries"]) == {"not sent: no channel"}  # the demo has no channel
    assert {"resolved", "open"} <= set(table["State"])
    assert any(s.startswith("closed on ") for s in table["State"])
    assert not at.error and not at.warning

    at.toggle(key="alerts_all_models").set_value(True).run()
    table = history(at)
    assert set(table["Model"]) == {"fraud", "credit", "demand", "ticket-router"} and len(table) == len(
        expected
    )
    changes = set(zip(table["Model"], table["What"], strict=True))
    assert {("credit", "At risk -> Ready (75)"), ("ticket-router", "At risk -> Ready (75)")} <= changes


def test_the_detail_shows_evidence_and_the_email_it_would_send(demo_db):
    at = alerts_page("fraud")
    chosen = alert_id(demo_db, "fraud", "Drift in device_trust")
    at.selectbox(key="alert_choice").set_value(chosen).run()
    assert "**fraud: Drift in device\\_trust since 2026-09-21**" in at.markdown[0].value
    evidence = [m.value for m in at.markdown if m.value.startswith("**Evidence**")]
    assert evidence and "drifting since 2026-09-21 (weekly windows)" in evidence[0]
    (email,) = [c.value for c in at.code]
    assert email.startswith("Subject: [readiness] fraud: Drift in device_trust since 2026-09-21\n")
    assert "http://localhost:8501/drift?model=fraud" in email  # no address set: the default
    assert "Acknowledge or snooze on its Alerts page." in email
    assert "No delivery recorded for this alert (not sent: no channel)." in [c.value for c in at.caption]


def test_filters_by_kind_and_open_problems(demo_db):
    at = alerts_page("fraud")
    at.multiselect(key="alerts_kinds").set_value(["drift"]).run()
    table = history(at)
    assert len(table) and all(what.startswith("Drift in ") for what in table["What"])
    assert "resolved" in set(table["State"])  # "Drift in country ended"
    at.toggle(key="alerts_open_only").set_value(True).run()
    table = history(at)
    assert len(table) and set(table["State"]) == {"open"}
    assert metrics(at)["Open problems"] == metrics(at)["Alerts shown"] == str(len(table))
    at.multiselect(key="alerts_kinds").set_value(["stale"]).run()
    assert not at.dataframe
    assert "No alert matches these filters" in at.info[0].value


def test_without_alerts_the_page_says_how_watch_records_them(fraud_store):
    at = alerts_page("fraud")
    assert metrics(at) == {"Open problems": "0", "Alerts shown": "0", "Channels": "0"}
    assert "python -m readiness watch" in at.info[0].value and "**Settings**" in at.info[0].value
    assert "cron" in at.info[0].value
    assert "-m readiness watch" in at.code[0].value and at.code[0].value.startswith("0 * * * *")
    assert not at.dataframe and not at.button


# --------------------------------------------------------------------------- acknowledging and snoozing


def test_acknowledging_records_who_and_an_audit_entry(demo_db):
    at = alerts_page("fraud")
    chosen = alert_id(demo_db, "fraud", "Drift in device_trust")
    at.selectbox(key="alert_choice").set_value(chosen).run()
    assert not at.button(key="alert_ack").disabled
    at.button(key="alert_ack").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.success[0].value.startswith(f"Acknowledged \\#{chosen}: fraud: Drift in device\\_trust")
    row = alert_row(demo_db, chosen)
    assert row["acknowledged_by"] == LOCAL and bool(row["open"])
    entry = audit_trail(demo_db, demo_db.get_model("fraud"))[0]
    assert (entry.action, entry.actor) == ("alert.acknowledge", LOCAL) and f"alert={chosen}" in entry.details
    table = history(at).set_index("#")
    assert table.loc[chosen, "State"] == f"acknowledged by {LOCAL}"
    assert at.button(key="alert_ack").disabled  # nothing more to acknowledge
    assert "Already acknowledged" in at.button(key="alert_ack").help


def test_snoozing_holds_the_reminders_for_the_hours_given(demo_db):
    at = alerts_page("fraud")
    chosen = alert_id(demo_db, "fraud", "Criterion failing")
    at.selectbox(key="alert_choice").set_value(chosen).run()
    at.number_input(key="alert_snooze_hours").set_value(48)
    before = utcnow()
    at.button(key="alert_snooze").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.success[0].value.startswith(f"Snoozed \\#{chosen} until ")
    row = alert_row(demo_db, chosen)
    until = pd.Timestamp(row["snoozed_until"]).to_pydatetime()
    assert before + timedelta(hours=47, minutes=59) <= until <= utcnow() + timedelta(hours=48)
    assert row["snoozed_by"] == LOCAL and not row["acknowledged_by"]
    entry = audit_trail(demo_db, demo_db.get_model("fraud"))[0]
    assert entry.action == "alert.snooze" and entry.actor == LOCAL
    assert history(at).set_index("#").loc[chosen, "State"] == f"snoozed until {until:%Y-%m-%d %H:%M} UTC"


def test_a_closed_or_resolved_alert_cannot_be_acknowledged(demo_db):
    at = alerts_page("fraud")
    chosen = alert_id(demo_db, "fraud", "Drift in country ended")
    at.selectbox(key="alert_choice").set_value(chosen).run()
    assert at.button(key="alert_ack").disabled and at.button(key="alert_snooze").disabled
    assert at.button(key="alert_ack").help == "Nothing to stop: this alert is resolved."


def test_a_viewer_sees_the_buttons_disabled_and_writes_nothing(demo_db):
    before = alert_store.alert_frame(demo_db)
    audited = len(audit_trail(demo_db, None))
    at = signed_in("vic@example.com", "alerts")
    assert len(history(at)) and not at.error
    assert at.button(key="alert_ack").disabled and at.button(key="alert_snooze").disabled
    assert at.number_input(key="alert_snooze_hours").disabled
    assert any("to acknowledge or snooze alerts you need the editor role" in c.value for c in at.caption), [
        c.value for c in at.caption
    ]
    at.toggle(key="alerts_all_models").set_value(True).run()
    assert at.button(key="alert_ack").disabled
    pd.testing.assert_frame_equal(alert_store.alert_frame(demo_db), before)
    assert len(audit_trail(demo_db, None)) == audited


def test_an_editor_acknowledges_and_is_named(demo_db):
    at = signed_in("eve@example.com", "alerts")
    table = history(at)
    chosen = int(table[table["State"] == "open"]["#"].iloc[0])
    at.selectbox(key="alert_choice").set_value(chosen).run()
    at.button(key="alert_ack").click().run()
    assert not at.error, [e.value for e in at.error]
    assert alert_row(demo_db, chosen)["acknowledged_by"] == "eve@example.com"
    assert audit_trail(demo_db, None)[0].actor == "eve@example.com"


# --------------------------------------------------------------------------- channels


def test_a_failing_channel_is_named_masked_with_its_error(demo_db):
    fraud = demo_db.get_model("fraud")
    channel = add_channel(demo_db, "webhook", HOOK, fraud, "ana")
    chosen = alert_id(demo_db, "fraud", "Drift in device_trust")
    fail_delivery(demo_db, chosen, channel)
    at = alerts_page("fraud")
    (error,) = at.error
    assert "Notifications are not getting through" in error.value
    assert MASKED_HOOK in error.value and ERROR in error.value
    assert history(at).set_index("#").loc[chosen, "Deliveries"] == f"failed: {ERROR}"
    others = history(at).set_index("#").drop(index=chosen)["Deliveries"]
    assert set(others) == {"not sent yet"}  # a channel covers fraud now; watch has not run since
    at.selectbox(key="alert_choice").set_value(chosen).run()
    deliveries = frame_with(at, "Outcome")
    assert list(deliveries["Channel"]) == [MASKED_HOOK] and list(deliveries["Outcome"]) == ["failed"]
    assert list(deliveries["Error"]) == [ERROR] and list(deliveries["Attempts"]) == [4]
    assert SECRET not in everything_shown(at)

    with demo_db.begin() as conn:  # it works again: the latest delivery was sent, the error goes
        alert_store.record_delivery(conn, [(chosen, False)], channel, utcnow() + timedelta(minutes=1), "", 1)
    at.run()
    assert not at.error
    assert history(at).set_index("#").loc[chosen, "Deliveries"] == "sent to 1 channel"


def test_settings_adds_a_webhook_and_never_shows_its_secret(demo_db):
    at = settings_page("fraud")
    assert "Alerts" in [s.value for s in at.subheader]
    assert (
        at.text_input(key="channel_target_webhook").proto.type
        == at.text_input(key="channel_target_webhook").proto.PASSWORD
    )
    at.text_input(key="channel_target_webhook").input(HOOK)
    at.button(key="channel_add").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.success[0].value == f"Added the channel {MASKED_HOOK} for fraud."
    assert at.text_input(key="channel_target_webhook").value == ""  # the input let go of the secret
    (stored,) = alert_store.stored_channels(demo_db)
    assert stored.target == HOOK and stored.model == "fraud"
    channels = frame_with(at, "Set in")
    assert channels.to_dict("records") == [
        {"Channel": MASKED_HOOK, "Alerts of": "this model", "Set in": "Settings"}
    ]
    assert audit_trail(demo_db, demo_db.get_model("fraud"))[0].action == "alert.channel.add"
    assert SECRET not in everything_shown(at)
    for page in ("pages/alerts.py", "pages/settings.py"):
        at.switch_page(page).run()
        assert not at.exception
        assert SECRET not in everything_shown(at), page
    assert metrics(at.switch_page("pages/alerts.py").run())["Channels"] == "1"


def test_settings_adds_an_email_channel_for_every_model_and_removes_it(demo_db):
    at = settings_page("fraud")
    at.selectbox(key="channel_kind").set_value("email").run()
    assert (
        at.text_input(key="channel_target_email").proto.type
        == at.text_input(key="channel_target_email").proto.DEFAULT
    )  # addresses are not secrets
    at.radio(key="channel_scope").set_value("every model").run()
    at.text_input(key="channel_target_email").input("ana@example.com, jo@example.com")
    at.button(key="channel_add").click().run()
    assert not at.error, [e.value for e in at.error]
    channels = frame_with(at, "Set in")
    assert channels.to_dict("records") == [
        {
            "Channel": "email: ana@example.com, jo@example.com",
            "Alerts of": "every model",
            "Set in": "Settings",
        }
    ]
    (stored,) = alert_store.stored_channels(demo_db)
    assert stored.model is None
    at.button(key="channel_remove").click().run()
    assert not at.error and at.success[0].value.startswith("Removed the channel email: ana@example.com")
    assert alert_store.stored_channels(demo_db) == ()
    assert audit_trail(demo_db, None)[0].action == "alert.channel.remove"


@pytest.mark.parametrize(
    ("kind", "target", "message"),
    [
        ("webhook", "ftp://hooks.example.com/x", "needs an http(s) URL"),
        ("webhook", "  ", "has no target"),
        ("email", "ana@example", "is not an email address"),
    ],
)
def test_settings_refuses_a_channel_that_cannot_work_and_stores_nothing(demo_db, kind, target, message):
    at = settings_page("fraud")
    at.selectbox(key="channel_kind").set_value(kind).run()
    at.text_input(key=f"channel_target_{kind}").input(target)
    at.button(key="channel_add").click().run()
    assert not at.exception and message in at.error[0].value
    assert alert_store.stored_channels(demo_db) == ()


def test_settings_saves_the_policy_and_explains_a_bad_quiet_span(demo_db):
    from readiness.analysis.alerts import alert_policy

    at = settings_page("fraud")
    at.number_input(key="policy_remind_hours").set_value(12)
    at.number_input(key="policy_digest_from").set_value(3)
    at.text_input(key="policy_quiet").input("22:00-07:00")
    at.text_input(key="policy_app_url").input("https://readiness.example.com")
    at.button(key="policy_save").click().run()
    assert not at.error, [e.value for e in at.error]
    policy, url = alert_policy(demo_db)
    assert (policy.remind_hours, policy.digest_from, policy.quiet.text, url) == (
        12.0,
        3,
        "22:00-07:00",
        "https://readiness.example.com",
    )
    assert audit_trail(demo_db, None)[0].action == "alert.policy"
    at.text_input(key="policy_quiet").input("after dinner")
    at.button(key="policy_save").click().run()
    assert "are not a span of UTC times" in at.error[0].value
    assert alert_policy(demo_db)[0].quiet.text == "22:00-07:00"
    at.switch_page("pages/alerts.py").run()
    at.toggle(key="alerts_all_models").set_value(False).run()
    assert re.search(
        r"\nhttps://readiness\.example\.com/\w+\?model=fraud\n", at.code[0].value
    )  # links use it


def test_channels_from_the_secrets_alerts_table_are_listed_masked_and_not_removable(demo_db):
    secrets = {
        "alerts": {"channels": [{"kind": "slack", "url": f"https://hooks.slack.com/services/{SECRET}"}]}
    }
    at = settings_page("fraud", secrets)
    channels = frame_with(at, "Set in")
    assert channels.to_dict("records") == [
        {
            "Channel": "slack: https://hooks.slack.com/… (secret hidden)",
            "Alerts of": "every model",
            "Set in": "configuration file",
        }
    ]
    assert not [
        s for s in at.selectbox if s.key == "channel_remove_choice"
    ]  # only Settings channels are removable
    assert SECRET not in everything_shown(at)
    at.switch_page("pages/alerts.py").run()
    assert metrics(at)["Channels"] == "1" and set(history(at)["Deliveries"]) == {"not sent yet"}
    assert SECRET not in everything_shown(at)


def test_a_broken_alerts_table_in_the_secrets_is_named_in_an_error(demo_db):
    at = alerts_page("fraud", {"alerts": {"channels": [{"kind": "pager", "url": "https://x.example.com"}]}})
    assert "Unknown alert channel kind 'pager'" in at.error[0].value and not at.dataframe
    at.switch_page("pages/settings.py").run()
    assert not at.exception
    assert any("Unknown alert channel kind" in e.value for e in at.error)
    assert at.dataframe[-1].value.columns[0] == "When (UTC)"  # the audit trail still shows


def test_who_may_configure_channels_and_the_policy(demo_db):
    at = signed_in("vic@example.com", "settings")
    assert at.button(key="channel_add").disabled and at.button(key="policy_save").disabled
    assert any("to configure alert channels you need the owner role" in c.value for c in at.caption)

    at = signed_in("olu@example.com", "settings")  # owner of fraud: its channels, not every model's
    assert not at.button(key="channel_add").disabled and at.button(key="policy_save").disabled
    at.radio(key="channel_scope").set_value("every model").run()
    assert at.button(key="channel_add").disabled
    assert any("Only an admin may add a channel for every model" in c.value for c in at.caption)
    at.radio(key="channel_scope").set_value("this model").run()
    at.text_input(key="channel_target_webhook").input(HOOK)
    at.button(key="channel_add").click().run()
    assert not at.error, [e.value for e in at.error]
    assert audit_trail(demo_db, None)[0].actor == "olu@example.com"

    at = signed_in("ana@example.com", "settings")  # admin
    assert not at.button(key="policy_save").disabled
    at.radio(key="channel_scope").set_value("every model").run()
    assert not at.button(key="channel_add").disabled


# --------------------------------------------------------------------------- hostile text, and looking never writes


def test_hostile_titles_evidence_and_channel_names_stay_inert(fraud_store):
    ingest_csv(fraud_store, "my_hot_model", "baseline", test_pages.BASELINE, "base.csv")
    model = fraud_store.get_model("my_hot_model")
    change = Change(
        model.name,
        "drift",
        HOSTILE,
        "started",
        f"{model.name}: {HOSTILE}",
        "warning",
        "at_risk",
        60.0,
        (HOSTILE, f"<script>alert(1)</script> {HOSTILE}"),
        "Drift",
    )
    with fraud_store.begin() as conn:
        hostile_id = alert_store.add_alert(conn, model.id, change, datetime(2026, 11, 2, 9))
    fail_delivery(
        fraud_store, hostile_id, Channel(f"[name]({EVIL})", "webhook", "https://x.example.com"), HOSTILE
    )
    at = alerts_page("my_hot_model")
    assert len(history(at)) == 1 and history(at)["What"].iloc[0] == HOSTILE  # data, not markup
    texts = rendered_text(at)
    no_markup_from(texts)
    assert any("my\\_hot\\_model" in t for t in texts)
    assert any(f"\\[name\\]({EVIL}) (no longer configured)" in t for t in texts)  # the channel's name, inert
    assert not [t for t in texts if re.search(r"(?<!\\)<script", t)]
    assert at.selectbox(key="alert_choice").options == [f"#{hostile_id} my_hot_model: {HOSTILE}"]
    at.switch_page("pages/settings.py").run()
    no_markup_from(rendered_text(at))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_looking_at_the_alerts_page_writes_nothing(demo_path, tmp_path, monkeypatch):
    path = tmp_path / "demo.db"
    shutil.copyfile(demo_path, path)
    before = _digest(path)
    monkeypatch.setenv("READINESS_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("READINESS_AUTO_DEMO", "0")
    at = alerts_page("demand")
    at.toggle(key="alerts_all_models").set_value(True).run()
    for chosen in at.selectbox(key="alert_choice").options[:3]:
        at.selectbox(key="alert_choice").set_value(int(chosen.split()[0][1:])).run()
        assert not at.exception
    at.switch_page("pages/settings.py").run()
    assert not at.exception
    assert _digest(path) == before
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0


def test_deliveries_and_states_in_words(fraud_store):
    from readiness.analysis.alert_views import alerts_view
    from readiness.analysis.alerts import AlertFilter, acknowledge_alert, snooze_alert

    fraud = fraud_store.get_model("fraud")
    first = add_channel(fraud_store, "webhook", HOOK, fraud, "ana")
    second = add_channel(fraud_store, "email", "ana@example.com", None, "ana")
    made = datetime(2026, 11, 2, 9)
    ids = []
    with fraud_store.begin() as conn:
        for key in ("a", "b", "c", "d"):
            change = Change(
                "fraud", "drift", key, "started", f"fraud: Drift in {key}", "warning", "at_risk", 60.0
            )
            ids.append(alert_store.add_alert(conn, fraud.id, change, made))
    both, half, failed, quiet = ids
    with fraud_store.begin() as conn:
        for reminder, at in ((False, made), (True, made + timedelta(hours=25))):  # counted once per run
            for channel in (first, second):
                alert_store.record_delivery(conn, [(both, reminder)], channel, at, "", 1)
        alert_store.record_delivery(conn, [(half, False)], first, made, "", 1)
        alert_store.record_delivery(conn, [(half, False)], second, made, "no mail server is configured", 4)
        alert_store.record_delivery(conn, [(failed, False)], first, made, ERROR, 4)
    acknowledge_alert(fraud_store, half, "ana")
    until = snooze_alert(fraud_store, failed, 2, "ana")
    view = alerts_view(fraud_store, AlertFilter(fraud))
    words = {a.id: (a.deliveries, a.state) for a in view.alerts}
    assert words[both] == ("sent to 2 channels, 1 reminder", "open")
    assert words[half] == (
        "sent to 1 channel, failed on 1 channel: no mail server is configured",
        "acknowledged by ana",
    )
    assert words[failed] == (f"failed: {ERROR}", f"snoozed until {until:%Y-%m-%d %H:%M} UTC")
    assert words[quiet] == ("not sent yet", "open")
    later = alerts_view(fraud_store, AlertFilter(fraud), now=until + timedelta(minutes=1))
    assert later.alert(failed).state == "open"  # the snooze is over
    assert [d.channel for d in view.deliveries_of(half)] == ["email: ana@example.com", MASKED_HOOK]
