"""Settings: success criteria per model, where alerts go and how often, and the audit trail of changes."""

import pandas as pd
import streamlit as st

from readiness.analysis.alert_views import CHANNEL_KINDS, ChannelLine, alert_settings, new_policy
from readiness.analysis.alerts import add_channel, remove_channel, set_alert_policy
from readiness.analysis.records import Action
from readiness.analysis.settings import (
    COMPARISONS,
    CRITERION_WINDOWS,
    DEFAULT_MIN_LABELS,
    METRICS,
    add_criterion,
    audit_trail,
    checklist_config,
    metrics_for_task,
    model_criteria,
    new_criterion,
    remove_criterion,
    set_historical,
)
from readiness.errors import ReadinessError
from shell import allowed, current_actor, inert, link, require_shell, secrets_table, selected_model, table

CHANNEL_TARGETS = {  # kind -> (label of the target input, placeholder, help)
    "webhook": (
        "Webhook URL",
        "https://hooks.example.com/...",
        "Receives a JSON POST per alert (or per digest). The URL is a secret: it is stored, never shown back.",
    ),
    "slack": (
        "Slack incoming-webhook URL",
        "https://hooks.slack.com/services/...",
        "From the Slack app's Incoming Webhooks page. The URL is a secret: it is stored, never shown back.",
    ),
    "email": (
        "Email addresses",
        "ana@example.com, jo@example.com",
        "Separated by commas. Sending needs a mail server (READINESS_SMTP_HOST or the alerts file).",
    ),
}

store = require_shell()
st.title("Settings")
st.caption(
    "Success criteria decide pass or fail on the Performance page: each is judged per window, and a "
    "window with fewer labels than its minimum is 'insufficient data', never a pass."
)
model = selected_model(
    "No models yet: upload a baseline on the Data page, then set its success criteria here."
)
name = model.name

done = st.session_state.pop("settings_done", None)
if done:
    st.success(inert(done))

criteria = model_criteria(store, model)

st.subheader(f"Success criteria of {name}")
if criteria and criteria[0].is_default:
    st.caption(
        f"Task defaults in use ({model.task}): add a criterion to replace them. Defaults are not "
        "copied, so add every criterion the model should keep."
    )
table(
    pd.DataFrame(
        [
            {
                "ID": c.id,
                "Criterion": c.text,
                "Metric": c.metric,
                "Comparison": c.comparison,
                "Threshold": c.threshold,
                "Window": c.window,
                "Min labels": c.min_labels,
                "Source": "task default" if c.is_default else "stored",
            }
            for c in criteria
        ],
        columns=["ID", "Criterion", "Metric", "Comparison", "Threshold", "Window", "Min labels", "Source"],
    ),
    hide_index=True,
)

actor = current_actor()
may_set = allowed(Action.SET_CRITERIA, name)
with st.form("criterion_form"):
    st.markdown("**Add a criterion**")
    metric_col, comparison_col, threshold_col = st.columns([2, 1, 1])
    metric = metric_col.selectbox(
        "Metric",
        metrics_for_task(model.task),
        key="criterion_metric",
        format_func=lambda n: f"{n} ({METRICS[n].direction} is better)",
    )
    comparison = comparison_col.selectbox(
        "Comparison",
        COMPARISONS,
        key="criterion_comparison",
        help="Use >= for higher-is-better metrics, <= for lower-is-better.",
    )
    threshold = threshold_col.number_input(
        "Threshold", value=None, step=0.01, format="%g", placeholder="e.g. 0.8", key="criterion_threshold"
    )
    window_col, labels_col = st.columns(2)
    window = window_col.selectbox(
        "Window", CRITERION_WINDOWS, index=CRITERION_WINDOWS.index("week"), key="criterion_window"
    )
    min_labels = labels_col.number_input(
        "Minimum labels per window",
        min_value=0,
        value=DEFAULT_MIN_LABELS,
        step=1,
        key="criterion_min_labels",
        help="Operations metrics (latency, volume, invalid rate) count "
        "predictions instead; 0 judges every window.",
    )
    submitted = st.form_submit_button("Add criterion", key="criterion_add", disabled=not may_set)

if submitted:
    try:
        criterion = new_criterion(metric, comparison, threshold, window, int(min_labels), model.task)
        added = add_criterion(store, model, criterion, actor=actor)
    except ReadinessError as exc:
        st.error(inert(exc))
    else:
        st.session_state["settings_done"] = f"Added: {added.text}"
        st.rerun()

stored = [c for c in criteria if not c.is_default]
if stored:
    remove_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
    texts = {c.id: c.text for c in stored if c.id is not None}  # stored criteria all have an id
    chosen = remove_col.selectbox(
        "Remove a criterion", list(texts), format_func=texts.__getitem__, key="criterion_remove_choice"
    )
    if button_col.button("Remove", key="criterion_remove", disabled=not may_set):
        try:
            removed = remove_criterion(store, model, chosen, actor=actor)
        except ReadinessError as exc:
            st.error(inert(exc))
        else:
            st.session_state["settings_done"] = f"Removed: {removed.text}"
            st.rerun()

st.subheader("How the log is judged")
config = checklist_config(store, model)
historical = st.toggle(
    "Historical log",
    value=config.historical,
    key=f"historical_{name}",
    help="A finished log (an archive, a backtest) is judged as of its own end: windows, drift and "
    "criteria up to its last day, and freshness does not apply. A live service is judged as of now.",
    disabled=not allowed(Action.CONFIGURE, name),
)
if historical != config.historical:
    try:
        set_historical(store, model, historical, actor=actor)
    except ReadinessError as exc:
        st.error(inert(exc))
    else:
        st.session_state["settings_done"] = (
            "Judged as a historical log, as of its end."
            if historical
            else "Judged as a live service, as of now."
        )
        st.rerun()


def scope_words(channel: ChannelLine) -> str:
    """Which models a channel hears about, from this page's model's point of view."""
    if channel.model is None:
        return "every model"
    return "this model" if channel.model == name else f"model {channel.model}"


def add_channel_from(kind: str, target_key: str, every: bool) -> None:
    """The Add channel button's callback: store the channel, and empty the input either way.

    A callback runs before the page, so it may set the input's value: a URL is a secret, and
    the browser should not keep showing it (nor the session keep it) once it is stored.
    """
    target = st.session_state.get(target_key, "")
    st.session_state[target_key] = ""
    try:
        added = add_channel(store, kind, target, None if every else model, actor)
    except ReadinessError as exc:
        st.session_state["channel_refused"] = str(exc)
    else:
        scope = "every model" if every else name
        st.session_state["alert_settings_done"] = f"Added the channel {added.masked} for {scope}."


def alerts_section() -> None:
    """Where watch sends alerts (channels, masked) and how often (the policy); each control for who may use it."""
    try:
        alerting = alert_settings(store, secrets_table("alerts"))
    except ReadinessError as exc:  # an alerts configuration that cannot be read
        st.error(inert(exc))
        return
    done = st.session_state.pop("alert_settings_done", None)
    if done:  # here, by the controls used, not at the top of the page
        st.success(inert(done))
    may_every = actor.may(Action.ALERT_CHANNELS, None)
    only_admin = ":material/lock: Only an admin may {}."
    channels_tab, policy_tab = st.tabs(["Channels", "When to notify"])
    with channels_tab:
        if alerting.channels:
            table(
                pd.DataFrame(
                    [
                        {"Channel": c.shown, "Alerts of": scope_words(c), "Set in": c.source}
                        for c in alerting.channels
                    ],
                    columns=["Channel", "Alerts of", "Set in"],
                ),
                hide_index=True,
                width="stretch",
                key="alert_channels",
            )
            st.caption("Web addresses are secrets (anyone holding one can post): only their host is shown.")
        else:
            st.caption(
                "No channel yet: watch records alerts (see the Alerts page) but sends nothing. Add one here, "
                "or in the alerts configuration file."
            )
        kind_col, scope_col = st.columns(2)
        kind = kind_col.selectbox("Kind", CHANNEL_KINDS, key="channel_kind")
        every = (
            scope_col.radio(
                "Alerts of",
                ["this model", "every model"],
                key="channel_scope",
                horizontal=True,
                format_func=lambda s: f"this model ({inert(name)})" if s == "this model" else s,
            )
            == "every model"
        )
        may_add = allowed(Action.ALERT_CHANNELS, name)
        if may_add and every and not may_every:
            st.caption(only_admin.format("add a channel for every model"))
        label, placeholder, help_text = CHANNEL_TARGETS[kind]
        target_key = f"channel_target_{kind}"
        with st.container(border=True):  # widgets, not st.form: the page's one form is the criterion's
            st.text_input(
                label,
                key=target_key,
                type="default" if kind == "email" else "password",
                placeholder=placeholder,
                help=help_text,
            )
            st.button(
                "Add channel",
                key="channel_add",
                disabled=not may_add or (every and not may_every),
                on_click=add_channel_from,
                args=(kind, target_key, every),
            )
        refused = st.session_state.pop("channel_refused", None)
        if refused:
            st.error(inert(refused))

        removable = {c.channel.name: c for c in alerting.channels if c.removable}
        if removable:
            pick_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
            chosen = removable[
                pick_col.selectbox(
                    "Remove a channel added here",
                    list(removable),
                    format_func=lambda n: f"{removable[n].shown} ({scope_words(removable[n])})",
                    key="channel_remove_choice",
                )
            ]
            may_remove = actor.may(Action.ALERT_CHANNELS, chosen.model)
            if button_col.button(
                "Remove",
                key="channel_remove",
                disabled=not may_remove,
                help=None if may_remove else f"You may not {Action.ALERT_CHANNELS.words} of this scope.",
                width="stretch",
            ):
                try:
                    remove_channel(store, chosen.channel, actor)
                except ReadinessError as exc:
                    st.error(inert(exc))
                else:
                    st.session_state["alert_settings_done"] = f"Removed the channel {chosen.shown}."
                    st.rerun()

    with policy_tab:
        policy = alerting.policy
        if not may_every:
            st.caption(only_admin.format("change when watch notifies"))
        with st.container(border=True):
            hours_col, digest_col = st.columns(2)
            remind_hours = hours_col.number_input(
                "Remind every (hours)",
                min_value=0.0,
                max_value=8760.0,
                value=float(policy.remind_hours),
                step=1.0,
                format="%g",
                key="policy_remind_hours",
                help="While a problem lasts, unacknowledged and not snoozed, watch reminds the channels "
                "this often. 0 turns reminders off.",
            )
            digest_from = digest_col.number_input(
                "Digest from (notifications in one run)",
                min_value=2,
                max_value=10_000,
                value=int(policy.digest_from),
                step=1,
                key="policy_digest_from",
                help="A run with this many notifications or more sends one digest per channel instead.",
            )
            quiet_col, url_col = st.columns(2)
            quiet = quiet_col.text_input(
                "Quiet hours (UTC)",
                value=alerting.quiet_text,
                placeholder="22:00-07:00",
                key="policy_quiet",
                help="Nothing is sent in this span (held until it ends). Leave empty for none.",
            )
            app_url = url_col.text_input(
                "App address (links in messages)",
                value=alerting.app_url,
                placeholder="https://readiness.example.com",
                key="policy_app_url",
                help="Where the links in messages point. Empty: http://localhost:8501.",
            )
            if alerting.configured_app_url:
                st.caption(
                    f"The configuration sets the address ({link(alerting.configured_app_url)}): "
                    "it takes precedence over this one."
                )
            saved = st.button("Save", key="policy_save", disabled=not may_every)
        if saved:
            try:
                chosen_policy = new_policy(policy, remind_hours, int(digest_from), quiet)
                set_alert_policy(store, chosen_policy, app_url, actor)
            except ReadinessError as exc:
                st.error(inert(exc))
            else:
                quiet_words = chosen_policy.quiet.text if chosen_policy.quiet else "none"
                st.session_state["alert_settings_done"] = (
                    f"Saved: reminders every {chosen_policy.remind_hours:g} hours (0: off), a digest from "
                    f"{chosen_policy.digest_from} notifications, quiet hours {quiet_words}."
                )
                st.rerun()


st.subheader("Alerts")
st.caption(
    "`python -m readiness watch` records what changes on the models (see the Alerts page) and "
    "tells these channels: the owners of a model for its own, admins for every model."
)
alerts_section()

st.subheader("Audit trail")
scope = st.radio("Changes to", ["This model", "Every model"], horizontal=True, key="audit_scope")
every = scope == "Every model"
st.caption(
    ("Every change to every model" if every else "Every change to this model")
    + ": uploads, criteria, attestations and settings, who made them, newest first (the last 200)."
)
trail = audit_trail(store, None if every else model)
table(
    pd.DataFrame(
        {
            "When (UTC)": [e.at.strftime("%Y-%m-%d %H:%M:%S") for e in trail],
            "Model": [e.model for e in trail],
            "Who": [e.actor or "(unknown)" for e in trail],
            "Action": [e.action for e in trail],
            "Details": [e.details for e in trail],
        },
        columns=["When (UTC)", "Model", "Who", "Action", "Details"],
    ).drop(columns=[] if every else ["Model"]),
    hide_index=True,
)
