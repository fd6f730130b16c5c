"""Checklist: every readiness item of the selected model with its evidence; sign off the attested ones."""

import pandas as pd
import streamlit as st

from readiness.analysis.assessment import Assessment, assess_model, score_history
from readiness.analysis.charts import SECTION_TITLES, score_gauge, score_history_figure, section_gauges
from readiness.analysis.records import (
    DEFAULT_ITEMS,
    DEFAULT_VALIDITY_DAYS,
    SECTIONS,
    Action,
    ItemResult,
    ItemStatus,
    points,
)
from readiness.analysis.settings import attest, mark_applicable, mark_not_applicable, withdraw
from readiness.errors import ReadinessError
from shell import (
    EVIDENCE_PAGES,
    STATUS_STYLE,
    allowed,
    band_colour,
    current_actor,
    inert,
    link,
    require_shell,
    selected_model,
    table,
)

ITEM_STATUS = {  # item status -> (colour, icon)
    ItemStatus.PASS: ("green", ":material/check_circle:"),
    ItemStatus.ATTESTED: ("green", ":material/verified:"),
    ItemStatus.FAIL: ("red", ":material/cancel:"),
    ItemStatus.EXPIRED: ("orange", ":material/event_busy:"),
    ItemStatus.UNKNOWN: ("gray", ":material/help:"),
    ItemStatus.NOT_APPLICABLE: ("gray", ":material/block:"),
}
KINDS = {"automatic": "Automatic: computed from the logs", "attested": "Attested: signed off by a person"}
TITLES = {item.key: item.title for item in DEFAULT_ITEMS}
ATTESTED_ITEMS = [item.key for item in DEFAULT_ITEMS if item.kind == "attested"]

store = require_shell()
st.title("Checklist")
st.caption(
    "Is the model ready for production? Four sections of checks: automatic ones computed from the "
    "logs, attested ones signed off by a person with an evidence link. The score is the weakest "
    "section's."
)
model = selected_model("No models yet: upload a baseline and live predictions on the Data page.")
name = model.name

try:
    assessment = assess_model(store, model)
    history = score_history(store, model)
except ReadinessError as exc:
    st.error(inert(exc))
    st.stop()

score, bands = assessment.score, assessment.config.bands
gauge_col, summary_col = st.columns([2, 3], vertical_alignment="center")
gauge_col.plotly_chart(score_gauge(assessment), key="checklist_score_gauge")
with summary_col:
    colour, icon = STATUS_STYLE[score.status]
    st.subheader(f"{name} is :{colour}[{icon} {score.status.label}]", anchor=False)
    if score.critical_failures:
        failing = "; ".join(r.item.title for r in score.critical_failures)
        st.markdown(
            f":red[**A critical check fails** ({failing}), so the model is Not ready whatever its score.]"
        )
    if score.blockers:
        st.markdown(
            "**Fix first**\n" + "\n".join(f"- **{b.item.title}**: {inert(b.reason)}" for b in score.blockers)
        )
    else:
        st.markdown(":green[:material/thumb_up: Every applicable check passes or is attested.]")
    st.caption(
        f"Points: automatic pass 1, valid attestation ½, anything else 0; a section's score is its "
        f"share of points. Ready from {bands.ready:g}, At risk from {bands.at_risk:g}."
    )
with st.container(horizontal=True, key="checklist_section_gauges"):
    for i, gauge in enumerate(section_gauges(assessment)):
        st.plotly_chart(gauge, width=160, key=f"checklist_section_gauge_{i}")


def show_item(result: ItemResult) -> None:
    """One item: status, title and critical marker; inside, the finding, the evidence and how to pass."""
    item, evidence = result.item, result.evidence
    colour, icon = ITEM_STATUS[result.status]
    words = result.status.label
    if result.status == ItemStatus.UNKNOWN and item.kind == "attested":
        words = "Not attested"
    label = f":{colour}[{icon} **{words}**] · {item.title}"
    if item.critical:
        label += " · :red-badge[critical]"
    with st.expander(label, expanded=result.status in (ItemStatus.FAIL, ItemStatus.EXPIRED)):
        earned = points(result)
        st.caption(f"{KINDS[item.kind]} · " + ("not counted" if earned is None else f"{earned:g} of 1 point"))
        st.markdown(f"**Finding:** {inert(result.reason)}")
        if evidence is not None and evidence.figure:
            window = f" ({evidence.window})" if evidence.window else ""
            st.markdown(f"**Evidence:** {inert(evidence.figure + window)}")
        if evidence is not None and evidence.link:
            st.markdown(f":material/link: Evidence: {link(evidence.link)}")
        elif evidence is not None and evidence.page in EVIDENCE_PAGES and evidence.page != "Checklist":
            st.page_link(
                EVIDENCE_PAGES[evidence.page],
                label=f"See it on the {evidence.page} page",
                icon=":material/arrow_forward:",
                query_params={"model": name},
            )
        if result.status not in (ItemStatus.PASS, ItemStatus.NOT_APPLICABLE):
            st.markdown(f"**To pass:** {item.how_to_pass}")


for section in SECTIONS:
    percent = assessment.section_percent(section)
    shown = "not applicable" if percent is None else f"{percent:.0f}%"
    st.subheader(f"{SECTION_TITLES[section]} · :{band_colour(percent, bands)}[{shown}]", anchor=False)
    for result in assessment.by_section(section):
        show_item(result)


def finish(message: str) -> None:
    """Say what was done after the rerun (the page then shows the new score)."""
    st.session_state["checklist_done"] = message
    st.rerun()


def change(write, message: str) -> None:
    """Run one store change; show what is wrong if the user's input is, else say what was done."""
    try:
        write()
    except ReadinessError as exc:
        st.error(inert(exc))
    else:
        finish(message)


st.subheader("Sign off, withdraw or exclude an item", anchor=False)
done = st.session_state.pop("checklist_done", None)
if done:  # here, where the user clicked, with the new score
    st.success(f"{inert(done)} The score is now {assessment.score_text} ({score.status.label}).")
attest_tab, withdraw_tab, exclude_tab = st.tabs(
    ["Attest an item", "Withdraw an attestation", "Not applicable"]
)
actor = current_actor()
with attest_tab:
    may_attest = allowed(Action.ATTEST, name)
with exclude_tab:
    may_exclude = allowed(Action.NOT_APPLICABLE, name)

with attest_tab, st.form("attest_form"):
    missing = [key for key in ATTESTED_ITEMS if assessment.result(key).status != ItemStatus.ATTESTED]
    item_key = st.selectbox(
        "Item",
        ATTESTED_ITEMS,
        format_func=TITLES.__getitem__,
        key="attest_item",
        index=ATTESTED_ITEMS.index(missing[0]) if missing else 0,
    )
    owner_col, days_col = st.columns([3, 1])
    owner = owner_col.text_input("Owner (who attests)", key="attest_owner", placeholder="e.g. A. Okafor")
    days = days_col.number_input(
        "Valid for (days)", min_value=0, value=DEFAULT_VALIDITY_DAYS, step=1, key="attest_days"
    )
    url = st.text_input(
        "Evidence link",
        key="attest_url",
        placeholder="https://wiki.example.com/...",
        help="The http:// or https:// address of the document that shows it was done.",
    )
    note = st.text_input("Note (optional)", key="attest_note")
    if st.form_submit_button("Attest", type="primary", key="attest_submit", disabled=not may_attest):
        try:
            made = attest(store, model, item_key, owner, url, int(days), note=note, actor=actor)
        except ReadinessError as exc:
            st.error(inert(exc))
        else:
            finish(
                f"Attested: {TITLES[item_key]}, by {made.owner}, valid through {made.expires_at:%Y-%m-%d}."
            )

with withdraw_tab:
    signed = [r.item.key for r in assessment.results if r.status in (ItemStatus.ATTESTED, ItemStatus.EXPIRED)]
    if not signed:
        st.caption("No item of this model is attested.")
    else:
        pick_col, button_col = st.columns([3, 1], vertical_alignment="bottom")
        key = pick_col.selectbox(
            "Attested item", signed, format_func=TITLES.__getitem__, key=f"withdraw_item_{name}"
        )
        if button_col.button("Withdraw", key="withdraw_submit", disabled=not may_attest):
            change(
                lambda: withdraw(store, model, key, actor=actor),
                f"Withdrawn: {TITLES[key]}. It no longer counts as attested.",
            )

with exclude_tab:
    excluded = assessment.config.not_applicable
    st.caption("An item that does not apply leaves the score; it needs a reason, which the checklist shows.")
    pick_col, reason_col, button_col = st.columns([2, 2, 1], vertical_alignment="bottom")
    key = pick_col.selectbox(
        "Item",
        [i.key for i in DEFAULT_ITEMS if i.key not in excluded],
        format_func=TITLES.__getitem__,
        key=f"exclude_item_{name}",
    )
    reason = reason_col.text_input("Why it does not apply", key="exclude_reason")
    critical = key is not None and assessment.result(key).item.critical
    exempt = may_exclude and (not critical or actor.may(Action.CRITICAL_EXEMPTION, name))
    if may_exclude and not exempt:
        st.caption(":material/lock: This item is critical: only an admin may mark it not applicable.")
    if button_col.button("Mark not applicable", key="exclude_submit", disabled=not exempt):
        change(
            lambda: mark_not_applicable(store, model, key, reason, actor=actor),
            f"Not applicable: {TITLES[key]}.",
        )
    if excluded:
        pick_col, button_col = st.columns([4, 1], vertical_alignment="bottom")
        key = pick_col.selectbox(
            "Count it again",
            list(excluded),
            key=f"include_item_{name}",
            format_func=lambda k: f"{TITLES[k]} ({excluded[k]})",
        )
        if button_col.button("Count it again", key="include_submit", disabled=not may_exclude):
            change(
                lambda: mark_applicable(store, model, key, actor=actor),
                f"Counted again: {TITLES[key]}.",
            )

st.subheader("Score over time", anchor=False)
st.plotly_chart(score_history_figure(history, bands), key="checklist_history")


def items_table(assessment: Assessment) -> pd.DataFrame:
    """Every item with its status, points, evidence and what would make it pass."""
    return pd.DataFrame(
        [
            {
                "Section": r.item.section,
                "Item": r.item.title,
                "Key": r.item.key,
                "Kind": r.item.kind,
                "Critical": r.item.critical,
                "Status": r.status.label,
                "Points": points(r),
                "Finding": r.reason,
                "Evidence": r.evidence.figure if r.evidence else "",
                "Window": r.evidence.window if r.evidence else "",
                "Where": r.evidence.page if r.evidence else "",
                "Link": r.evidence.link if r.evidence else "",
                "To pass": ""
                if r.status in (ItemStatus.PASS, ItemStatus.NOT_APPLICABLE)
                else r.item.how_to_pass,
            }
            for r in assessment.results
        ]
    )


with st.expander("Every item as a table"):
    table(
        items_table(assessment),
        hide_index=True,
        width="stretch",
        column_config={
            "Link": st.column_config.LinkColumn(),
            "Points": st.column_config.NumberColumn(format="%g"),
        },
    )
