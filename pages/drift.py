"""Drift: which columns moved away from the baseline, since when, and the data quality behind it."""

from datetime import datetime, timedelta

import pandas as pd
import streamlit as st

from readiness.analysis.charts import (
    class_probability_figure,
    distribution_figure,
    drift_heatmap,
    share_drifted_figure,
)
from readiness.analysis.drift_overview import (
    MAX_CLASS_CHARTS,
    METHOD_NAMES,
    METHODS,
    NUMERIC_ONLY,
    DriftOptions,
    drift_overview,
    test_choices,
)
from readiness.errors import ReadinessError
from shell import formula_safe, inert, model_log_range, require_shell, selected_model, table

CORRECTIONS = {"Benjamini-Hochberg": "bh", "Bonferroni": "bonferroni", "None": "none"}
RULES = {"Beyond chance, and big enough to matter": "test", "Fixed cut-offs": "cutoff"}
WINDOWS = ["auto", "hour", "day", "week", "month"]


def _day(moment: datetime | None) -> str:
    """A run's date for the table: "5 Oct 2026", or blank when there is none."""
    return "" if moment is None else f"{moment.day} {moment:%b %Y}"


def _fmt(value: float | None, spec: str) -> str:
    """A number for the technical table; "—" where a test gives none (a distance has no p-value)."""
    return "—" if value is None or value != value else format(value, spec)


store = require_shell()
st.title("Drift")
st.caption(
    "Has the live data moved away from the data the model was built on? Each column is "
    "compared with the baseline; red cells in the heatmap show when a column started to drift."
)
model = selected_model()
span = model_log_range(store, model)

left, middle, right = st.columns([2, 1, 1])
picked = left.date_input(
    "Date range (UTC)",
    value=(span.first_day, span.last_day),
    min_value=span.first_day,
    max_value=span.last_day,
    key=f"drift_range_{model.name}",
)
window = middle.selectbox(
    "Window",
    WINDOWS,
    key="drift_window",
    help=f"'auto' picks by volume (here: {span.suggested_window}). "
    "Hourly windows work for ranges up to three days.",
)
multivariate = right.toggle(
    "Multivariate check",
    value=True,
    key="drift_multivariate",
    help="A classifier tries to tell baseline rows from rows of the latest window; if it can, the "
    "data changed as a whole even where single columns look steady.",
)
start, end = picked if isinstance(picked, tuple) and len(picked) == 2 else (span.first_day, span.last_day)

with st.expander("Tests and thresholds"):
    rule = RULES[
        st.radio(
            "Drift rule",
            list(RULES),
            key="drift_rule",
            help="Default: a column drifts when its change is beyond what sampling alone produces at "
            "the window's size (KS and chi-square tests, corrected across columns) and big enough to "
            "matter (0.05 standard deviations, or 2% of rows changing category). Fixed cut-offs: "
            "normed Wasserstein or Jensen-Shannon distance of at least 0.1, the rule most tools use.",
        )
    ]
    correction = st.selectbox(
        "Correction for testing many columns",
        list(CORRECTIONS),
        key="drift_correction",
        help="Benjamini-Hochberg (default) keeps false alarms rare when many columns are tested at once.",
    )
    calibrated = (
        st.radio(
            "Thresholds",
            ["Defaults", "Calibrated on the baseline"],
            horizontal=True,
            key="drift_thresholds",
            help="Calibrated: for each column, mean + 3 std of the statistic over baseline chunks "
            "the size of a typical window.",
        )
        == "Calibrated on the baseline"
    )
    choices = test_choices(store, model)
    tests = st.data_editor(
        formula_safe(
            pd.DataFrame(
                {
                    "Column": [c.name for c in choices],
                    "Type": [c.kind for c in choices],
                    "Test": ["default"] * len(choices),
                },
                columns=["Column", "Type", "Test"],
            )
        ),
        hide_index=True,
        disabled=["Column", "Type"],
        key=f"drift_tests_{model.name}",
        column_config={
            "Test": st.column_config.SelectboxColumn(
                options=["default", *METHODS],
                required=True,
                help="Numeric-only tests: " + ", ".join(sorted(NUMERIC_ONLY)),
            )
        },
    )
# rows are fixed: the shown names may be formula-safe copies
chosen = zip(choices, tests["Test"], strict=True)
methods = {choice.name: test for choice, test in chosen if test != "default"}

try:
    with st.spinner("Comparing the log with the baseline..."):
        options = DriftOptions(methods=methods, correction=CORRECTIONS[correction], rule=rule)
        overview = drift_overview(
            store,
            model,
            start,
            end,
            None if window == "auto" else window,
            options,
            multivariate=multivariate,
            calibrated=calibrated,
        )
except ReadinessError as exc:
    st.error(inert(exc))
    st.stop()

now = overview.now
rows = overview.columns()
a, b, c = st.columns(3)
a.metric(
    "Drifting now",
    f"{len(now.drifting)} of {now.n_analyzed} columns",
    help=f"In the latest complete {overview.window}: {now.period}, {now.n_rows:,} predictions.",
)
b.metric("Data as a whole", "changed" if overview.dataset_drifted else "steady", help=overview.dataset_text())
c.metric(
    "Predictions in the range",
    f"{overview.n_current:,}",
    help=f"{overview.start:%Y-%m-%d} to {overview.end - timedelta(days=1):%Y-%m-%d}, per {overview.window}",
)
st.caption(inert(overview.dataset_text()))
drifting = [r for r in rows if r.drifting_now]
if drifting:
    st.warning(f"Drifting now ({now.period}): " + inert("; ".join(f"{r.column} {r.run}" for r in drifting)))
recovered = [r for r in rows if not r.drifting_now and r.recovered_on is not None]
if recovered:
    st.info("Recovered: " + inert("; ".join(f"{r.column} {r.run}" for r in recovered)))

now_tab, range_tab, details_tab = st.tabs(["Drifting now", "Whole range vs baseline", "Technical details"])
with now_tab:
    table(
        pd.DataFrame(
            [
                {
                    "Column": r.column,
                    "Now": r.state,
                    "Since": _day(r.since),
                    "Recovered on": _day(r.recovered_on),
                    "What changed": r.explanation,
                    "Quality": "; ".join(r.quality),
                }
                for r in rows
            ],
            columns=["Column", "Now", "Since", "Recovered on", "What changed", "Quality"],
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "Since": st.column_config.TextColumn(
                help="First window of the column's current run of drifted windows."
            ),
            "Recovered on": st.column_config.TextColumn(
                help="First steady window after the column's last drifted run."
            ),
            "What changed": st.column_config.TextColumn(width="large"),
        },
    )
with range_tab:
    st.caption(
        f"The whole range ({overview.start:%d %b %Y} to {overview.end - timedelta(days=1):%d %b %Y}, "
        f"{overview.n_current:,} predictions) merged into one sample and compared with {overview.baseline_text}. "
        "Large samples make small changes detectable, so read this with the per-window view."
    )
    table(
        pd.DataFrame(
            [
                {
                    "Column": col.column,
                    "Over the range": "drift"
                    if col.drifted
                    else ("steady" if col.analyzed else "not analyzed"),
                    "What changed": col.explanation,
                }
                for col in overview.report.columns
            ],
            columns=["Column", "Over the range", "What changed"],
        ),
        hide_index=True,
        width="stretch",
    )
with details_tab:
    st.caption("The latest window's test per column, for data scientists.")
    table(
        pd.DataFrame(
            [
                {
                    "Column": r.column,
                    "Type": r.kind,
                    "Test": METHOD_NAMES.get(r.method, r.method),
                    "Statistic": _fmt(r.statistic, ".4g"),
                    "p-value (adjusted)": _fmt(r.p_value, ".2g"),
                    "Threshold": _fmt(r.threshold, "g"),
                    "Effect": _fmt(r.effect, ".3g"),
                    "Least effect that counts": _fmt(r.effect_threshold, "g"),
                    "Missing": f"{r.missing_share:.1%}",
                    "Note": r.note,
                }
                for r in rows
            ]
        ),
        hide_index=True,
        width="stretch",
    )

names = [r.column for r in rows]
column = st.selectbox("Distribution of", names, key=f"drift_column_{model.name}")
st.plotly_chart(distribution_figure(overview.reference, overview.current, column), key="drift_distribution")

st.plotly_chart(drift_heatmap(overview), key="drift_heatmap")
st.plotly_chart(share_drifted_figure(overview), key="drift_share")

outputs = [name for name in ("score", "prediction", "confidence") if name in names]
if outputs:
    st.subheader("Model outputs")
    for slot, name in zip(st.columns(len(outputs)), outputs, strict=False):
        slot.plotly_chart(
            distribution_figure(overview.reference, overview.current, name), key=f"drift_{name}"
        )
class_outputs = {o.label: o for o in overview.class_outputs()}
if class_outputs:
    st.markdown("**Class probabilities**: each class's probability, baseline vs live")
    charted = list(overview.classes_to_chart())
    if len(class_outputs) > MAX_CLASS_CHARTS:
        charted = st.multiselect(
            "Classes to chart",
            list(class_outputs),
            default=charted,
            key=f"drift_classes_{model.name}",
            help=f"Drifting classes first; at most {MAX_CLASS_CHARTS} are charted until you pick others.",
        )
    else:
        charted = list(class_outputs)  # few classes: all of them, in class order
    for first in range(0, len(charted), 2):  # two per row; a phone stacks them one per row
        for slot, label in zip(st.columns(2), charted[first : first + 2], strict=False):
            slot.plotly_chart(class_probability_figure(overview, label), key=f"drift_proba_{label}")
            slot.caption(inert(class_outputs[label].drift.explanation))

st.subheader("Data quality")
problems = pd.DataFrame(
    [
        {
            "Window": q.window_start,
            "Column": q.column,
            "Rows": q.n_rows,
            "Missing": q.missing_share,
            "Missing (baseline)": q.missing_share_baseline,
            "Outside baseline range": q.out_of_range_share,
            "Unseen categories": q.unseen_share,
            "Problem": "; ".join(q.flags),
        }
        for q in overview.quality.problems
    ]
)
if problems.empty:
    st.success(
        "No quality problems: missing rates, ranges and categories match the baseline in every window."
    )
else:
    table(
        problems,
        hide_index=True,
        width="stretch",
        column_config={
            "Missing": st.column_config.NumberColumn(format="percent"),
            "Missing (baseline)": st.column_config.NumberColumn(format="percent"),
            "Outside baseline range": st.column_config.NumberColumn(format="percent"),
            "Unseen categories": st.column_config.NumberColumn(format="percent"),
        },
    )
