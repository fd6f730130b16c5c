"""Alerts: what watch found on the models, whether the owners heard of it, and acknowledging or snoozing it."""

import pandas as pd
import streamlit as st

from readiness.analysis.alert_views import ALERT_KINDS, KIND_WORDS, alerts_view, email_preview
from readiness.analysis.alerts import MAX_SNOOZE_HOURS, AlertFilter, acknowledge_alert, snooze_alert
from readiness.analysis.records import Action
from readiness.errors import ReadinessError
from shell import (
    EVIDENCE_PAGES,
    allowed,
    current_actor,
    inert,
    require_shell,
    secrets_table,
    selected_model,
    table,
)

SEVERITY_ICONS = {"critical": ":material/error:", "warning": ":material/warning:", "info": ":material/info:"}
WATCH_HINT = (
    "Alerts are recorded by `python -m readiness watch`: each run assesses every model, records what "
    "changed since the previous run (status, critical items, criteria, drift, a stale log, attestations "
    "about to expire) and notifies the channels set in **Settings** (or in the alerts configuration file). "
    "Run it from a scheduler, e.g. every hour with cron:"
)
CRONTAB = "0 * * * *  cd /srv/readiness && .venv/bin/python -m readiness watch >> watch.log 2>&1"

store = require_shell()
st.title("Alerts")
st.caption(
    "What watch found on the models, newest first, and whether the owners heard: each change of status, "
    "each problem that started or ended. Acknowledge a problem to stop its reminders, or snooze them."
)
model = selected_model("No models yet: upload a baseline and live predictions on the Data page.")
headline = st.container()

all_col, kinds_col, open_col = st.columns([1, 3, 1], vertical_alignment="bottom")
every = all_col.toggle(
    "All models",
    value=True,  # on call, the first question is what is wrong anywhere
    key="alerts_all_models",
    help=f"Off: {inert(model.name)} only (the sidebar's model).",
)
kinds = kinds_col.multiselect(
    "Kinds",
    ALERT_KINDS,
    key="alerts_kinds",
    format_func=KIND_WORDS.__getitem__,
    placeholder="Every kind",
)
open_only = open_col.toggle("Open only", key="alerts_open_only", help="Only problems that still last.")

try:
    view = alerts_view(
        store, AlertFilter(None if every else model, tuple(kinds), open_only), secrets_table("alerts")
    )
except ReadinessError as exc:
    st.error(inert(exc))
    st.stop()

with headline:
    scope = "every model" if every else inert(model.name)
    with st.container(horizontal=True, key="alerts_headline"):  # side by side on a phone too
        st.metric("Open problems", view.open_count, border=True, help=f"Among the alerts shown ({scope}).")
        st.metric("Alerts shown", len(view.alerts), border=True)
        st.metric(
            "Channels",
            len(view.channels),
            border=True,
            help="Where notifications go: set in Settings or in the alerts configuration file.",
        )
    for down in view.failing:
        st.error(
            f"**Notifications are not getting through** on {inert(down.channel)}: its latest delivery "
            f"({down.at:%Y-%m-%d %H:%M} UTC) failed: {inert(down.error)}. Check the channel in Settings "
            "(or the alerts configuration file); watch retries failed deliveries on its next runs.",
            icon=":material/notifications_off:",
        )

if not view.alerts:
    if kinds or open_only:
        st.info("No alert matches these filters. Clear them to see every alert.")
    else:
        st.info(
            f"No alerts yet for {'any model' if every else inert(model.name)}. {WATCH_HINT}",
            icon=":material/notifications:",
        )
        st.code(CRONTAB, language="bash")
    st.stop()

table(
    pd.DataFrame(
        [
            {
                "#": a.id,
                "When (UTC)": a.detected_at.strftime("%Y-%m-%d %H:%M"),
                "Model": a.model,
                "What": a.what,
                "State": a.state,
                "Severity": a.severity,
                "Deliveries": a.deliveries,
                "Page": a.link,
            }
            for a in view.alerts
        ],
        columns=["#", "When (UTC)", "Model", "What", "State", "Severity", "Deliveries", "Page"],
    ),
    hide_index=True,
    width="stretch",
    key="alerts_table",
    column_config={
        "#": st.column_config.NumberColumn(width=40),
        "Model": st.column_config.TextColumn(width=70),
        "What": st.column_config.TextColumn(width=215),
        "State": st.column_config.TextColumn(width=95),
        "Deliveries": st.column_config.TextColumn(width=140),
        "Page": st.column_config.LinkColumn(
            "Page",
            width=85,
            display_text=r"^/(\w+)",
            help="Open the page that shows it, for the alert's model",
        ),
    },
)

st.subheader("One alert", anchor=False)
titles = {a.id: f"#{a.id} {a.title}" for a in view.alerts}
chosen = st.selectbox("Alert", list(titles), format_func=titles.__getitem__, key="alert_choice")
line = view.alert(chosen)
assert line is not None  # chosen among the alerts shown

icon = SEVERITY_ICONS.get(line.severity, "")
st.markdown(f"{icon} **{inert(line.title)}**")
st.caption(
    f"{inert(line.model)} · {KIND_WORDS.get(line.kind, inert(line.kind))} {inert(line.event)} · "
    f"{inert(line.severity)} · detected {line.detected_at:%Y-%m-%d %H:%M} UTC · {inert(line.state)}"
)
if line.evidence:
    st.markdown("**Evidence**\n" + "\n".join(f"- {inert(text)}" for text in line.evidence))
else:
    st.caption("No evidence recorded with this change.")
if line.change.page in EVIDENCE_PAGES:
    st.page_link(
        EVIDENCE_PAGES[line.change.page],
        label=f"See it on the {line.change.page} page",
        icon=":material/arrow_forward:",
        query_params={"model": line.model},
    )

done = st.session_state.pop("alerts_done", None)
if done:  # here, where the user clicked
    st.success(inert(done))
actor = current_actor()
may = allowed(Action.ACKNOWLEDGE, line.model)
if not may:
    why = f"You may not {Action.ACKNOWLEDGE.words} on {inert(line.model)}."
elif not line.open:
    why = f"Nothing to stop: this alert is {inert(line.state)}."
elif line.acknowledged:
    why = f"Already {inert(line.state)}: no reminders come."
else:
    why = ""
ack_col, hours_col, snooze_col = st.columns([1, 1, 1], vertical_alignment="bottom")
acknowledge = ack_col.button(
    "Acknowledge",
    key="alert_ack",
    type="primary",
    icon=":material/done:",
    disabled=bool(why),
    help=why or "No more reminders about this problem; it stays open until watch sees it end.",
    width="stretch",
)
hours = hours_col.number_input(
    "Snooze for (hours)",
    min_value=1,
    max_value=MAX_SNOOZE_HOURS,
    value=24,
    step=1,
    key="alert_snooze_hours",
    disabled=bool(why),
)
snooze = snooze_col.button(
    "Snooze",
    key="alert_snooze",
    icon=":material/snooze:",
    disabled=bool(why),
    help=why or "Hold this problem's reminders for the hours given.",
    width="stretch",
)
if acknowledge:
    try:
        acknowledge_alert(store, line.id, actor)
    except ReadinessError as exc:
        st.error(inert(exc))
    else:
        st.session_state["alerts_done"] = (
            f"Acknowledged #{line.id}: {line.title}. No more reminders about it."
        )
        st.rerun()
if snooze:
    try:
        until = snooze_alert(store, line.id, float(hours), actor)
    except ReadinessError as exc:
        st.error(inert(exc))
    else:
        st.session_state["alerts_done"] = (
            f"Snoozed #{line.id} until {until:%Y-%m-%d %H:%M} UTC: no reminders about it until then."
        )
        st.rerun()

deliveries_tab, message_tab = st.tabs(["Deliveries", "Message preview"])
with deliveries_tab:
    sent = view.deliveries_of(line.id)
    if not sent:
        st.caption(f"No delivery recorded for this alert ({inert(line.deliveries)}).")
    else:
        table(
            pd.DataFrame(
                [
                    {
                        "When (UTC)": d.at.strftime("%Y-%m-%d %H:%M"),
                        "Channel": d.channel,
                        "Outcome": "sent" if d.sent else "failed",
                        "Attempts": d.attempts,
                        "Error": d.error,
                        "Reminder": d.reminder,
                        "Digest": d.digest,
                    }
                    for d in sent
                ],
                columns=["When (UTC)", "Channel", "Outcome", "Attempts", "Error", "Reminder", "Digest"],
            ),
            hide_index=True,
            width="stretch",
            key="alert_deliveries",
        )
with message_tab:
    preview = email_preview(view, line)
    st.caption(
        "The email watch sends about this alert on its own (a run with many changes sends one digest)."
    )
    st.code(f"Subject: {preview.subject}\n\n{preview.body}", language=None, wrap_lines=True)
