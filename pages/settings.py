"""Settings: success criteria per model, and the audit trail of changes."""

import pandas as pd
import streamlit as st

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
from shell import allowed, current_actor, inert, require_shell, selected_model, table

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
