"""Overview: is each model ready for production, and if not, what holds it back? Worst first."""

import pandas as pd
import streamlit as st

from readiness.analysis.overview import ModelOverview, Portfolio, portfolio_overview
from readiness.analysis.records import SECTIONS, CriteriaState, Freshness, ReadinessStatus, status_words
from shell import STATUS_STYLE, band_colour, inert, require_shell, table

LINKS = (
    ("pages/checklist.py", "Checklist", ":material/checklist:"),
    ("pages/drift.py", "Drift", ":material/ssid_chart:"),
    ("pages/performance.py", "Performance", ":material/speed:"),
)

st.title("Model readiness")
st.caption(
    "Is each model ready for, and healthy in, production? A model's score (0-100) is its weakest "
    "checklist section's: data, model, operations and monitoring all have to be in order."
)

portfolio = portfolio_overview(require_shell())

if not portfolio.models:
    st.info(
        "No models yet. Upload a baseline on the **Data** page, or seed the demo with "
        "`python -m readiness demo`."
    )
    st.page_link("pages/data.py", label="Upload data", icon=":material/upload_file:")
    st.stop()

counts = portfolio.status_counts
models_col, ready_col, risk_col, not_ready_col, logged_col, stale_col = st.columns([1, 1, 1, 1, 1.5, 1])
models_col.metric("Models", len(portfolio.models), border=True)
ready_col.metric(
    "Ready",
    counts[ReadinessStatus.READY],
    border=True,
    help="Score in the Ready band and no critical failure.",
)
risk_col.metric("At risk", counts[ReadinessStatus.AT_RISK], border=True)
not_ready_col.metric(
    "Not ready",
    counts[ReadinessStatus.NOT_READY],
    border=True,
    help="Score below the At risk band, or a critical check fails.",
)
logged_col.metric("Predictions logged", f"{portfolio.total_predictions:,}", border=True)
stale_col.metric(
    "Stale models",
    sum(m.freshness == Freshness.STALE for m in portfolio.models),
    border=True,
    help="No prediction logged in the last 24 hours.",
)


def _why(blocker) -> str:
    """ ": the reason" when it says more than the status words ("not attested yet" says it all)."""
    reason = blocker.reason.strip().rstrip(".")
    return f": {inert(blocker.reason)}" if reason and reason.lower() != status_words(blocker).lower() else ""


def card(model: ModelOverview) -> None:
    """One model: status and score, section scores, what holds it back, drift, criteria, volume, links."""
    st.subheader(model.name, anchor=False)
    st.caption(f"{model.task} · owner: {inert(model.owner) or 'unassigned'}")
    if model.error:
        st.error(inert(model.error))
    readiness = model.readiness
    if readiness is not None:
        status = readiness.score.status
        st.metric(
            "Readiness score",
            f"{readiness.score_text} / 100",
            delta=status.label,
            delta_arrow="off",
            delta_color=STATUS_STYLE[status][0],
        )
        badges = []
        for section in SECTIONS:
            percent = readiness.section_percent(section)
            shown = "n/a" if percent is None else f"{percent:.0f}"
            colour = band_colour(percent, readiness.config.bands)
            badges.append(f":{colour}-badge[{section.capitalize()} {shown}]")
        st.markdown(" ".join(badges), help="Section scores, in percent of their points: the weakest decides.")
        if readiness.score.blockers:
            st.markdown(
                "**Holding it back**\n"
                + "\n".join(
                    f"- {b.item.title} ({status_words(b)}){_why(b)}" for b in readiness.score.blockers
                )
            )
        else:
            st.markdown(":green[:material/thumb_up: Nothing is holding it back.]")
        drifting = readiness.drifted_features or readiness.drifted_outputs
        drift_colour = "red" if drifting else "green" if readiness.recent else "gray"
        criteria_colour = {CriteriaState.FAILING: "red", CriteriaState.MET: "green"}.get(
            readiness.criteria_status, "gray"
        )
        st.markdown(
            f":{drift_colour}[:material/ssid_chart: **Drift:** {inert(model.drift_text)}]  \n"
            f":{criteria_colour}[:material/rule: **Criteria:** {inert(model.criteria_text)}]"
        )
    st.caption(inert(model.summary))
    with st.container(horizontal=True, gap="small"):
        for path, label, icon in LINKS:
            # A button, not st.page_link: app.py's sidebar picker keeps the session's model over a
            # link's ?model=, while select_model_next is how a page asks it to switch.
            if st.button(
                label,
                icon=icon,
                type="tertiary",
                key=f"open_{label.lower()}_{model.name}",
                help=f"{model.name} on the {label} page",
            ):
                st.session_state["select_model_next"] = model.name
                st.switch_page(path)


ordered = portfolio.worst_first()
per_row = min(len(ordered), 3)
for row in range(0, len(ordered), per_row):  # a row of columns at a time: on a phone they stack in order
    for slot, model in zip(st.columns(per_row), ordered[row : row + per_row], strict=False):
        with slot.container(border=True):
            card(model)

st.subheader("All models", anchor=False)
section_columns = {
    f"{s.capitalize()} section": st.column_config.ProgressColumn(
        label=s.capitalize(),
        min_value=0,
        max_value=100,
        format="%.0f%%",
        color="blue",
        width=100,
        help=f"The {s} section's score: its share of points, in percent.",
    )
    for s in SECTIONS
}


def portfolio_table(portfolio: Portfolio) -> pd.DataFrame:
    """One row per model, with columns named for people."""

    def readiness_columns(m: ModelOverview) -> dict:
        a = m.readiness
        if a is None:
            return {}
        return {
            "Status": a.score.status.label,
            "Score": a.score.score_0_100,
            **{f"{s.capitalize()} section": a.section_percent(s) for s in SECTIONS},
            "Holding it back": m.holding_back,
            "Drift": m.drift_text,
            "Criteria": m.criteria_text,
        }

    return pd.DataFrame(
        [
            {
                "Model": m.name,
                **readiness_columns(m),
                "Task": m.task,
                "Owner": m.owner,
                "Predictions": m.n_predictions,
                "First prediction": m.first_timestamp,
                "Last prediction": m.last_timestamp,
                "Label coverage": m.label_coverage,
                "Hours since last prediction": m.freshness_hours,
                "Freshness": m.freshness.label,
                "Baseline rows": m.baseline_rows,
            }
            for m in portfolio.models
        ]
    )


table(
    portfolio_table(portfolio),
    hide_index=True,
    width="stretch",
    column_config={
        "Model": st.column_config.TextColumn(pinned=True),
        "Score": st.column_config.ProgressColumn(
            min_value=0,
            max_value=100,
            format="%.0f",
            color="blue",
            width=100,
            help="Readiness score: the weakest section's.",
        ),
        **section_columns,
        "Holding it back": st.column_config.TextColumn(width="large"),
        "Predictions": st.column_config.NumberColumn(format="localized"),
        "First prediction": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        "Last prediction": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        "Label coverage": st.column_config.ProgressColumn(
            min_value=0.0,
            max_value=1.0,
            format="percent",
            color="blue",
            width="small",
            help="Share of predictions whose ground truth has arrived.",
        ),
        "Hours since last prediction": st.column_config.NumberColumn(format="%.1f"),
        "Baseline rows": st.column_config.NumberColumn(format="localized"),
    },
)
