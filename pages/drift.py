"""Drift: which columns moved away from the baseline, since when, and the data quality behind it."""

from datetime import timedelta

import pandas as pd
import streamlit as st

from readiness.analysis.charts import distribution_figure, drift_heatmap, share_drifted_figure
from readiness.analysis.drift_overview import (
    METHODS,
    NUMERIC_ONLY,
    DriftOptions,
    drift_overview,
    test_choices,
)
from readiness.errors import ReadinessError
from shell import model_log_range, require_shell, selected_model

CORRECTIONS = {"Benjamini-Hochberg": "bh", "Bonferroni": "bonferroni", "None": "none"}
WINDOWS = ["auto", "hour", "day", "week", "month"]


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
correction = right.selectbox(
    "p-value correction",
    list(CORRECTIONS),
    key="drift_correction",
    help="Corrects p-value tests across columns so a healthy stream raises few alarms.",
)
multivariate = st.toggle(
    "Multivariate check (a classifier tries to tell baseline from live rows)",
    value=True,
    key="drift_multivariate",
)
start, end = picked if isinstance(picked, tuple) and len(picked) == 2 else (span.first_day, span.last_day)

with st.expander("Tests and thresholds"):
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
        pd.DataFrame(
            {
                "Column": [c.name for c in choices],
                "Type": [c.kind for c in choices],
                "Test": ["default"] * len(choices),
            },
            columns=["Column", "Type", "Test"],
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
methods = {row["Column"]: row["Test"] for row in tests.to_dict("records") if row["Test"] != "default"}

try:
    with st.spinner("Comparing the log with the baseline..."):
        options = DriftOptions(methods=methods, correction=CORRECTIONS[correction])
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
    st.error(str(exc))
    st.stop()

report = overview.report
a, b, c, d = st.columns(4)
a.metric("Columns drifting", f"{report.n_drifted} of {report.n_analyzed}")
b.metric(
    "Dataset drift",
    "yes" if report.dataset_drifted else "no",
    help=f"Yes when at least {report.options.dataset_share:.0%} of columns drift.",
)
if overview.multivariate is not None and overview.multivariate.auc == overview.multivariate.auc:
    c.metric(
        "Multivariate AUC",
        f"{overview.multivariate.auc:.3f}",
        delta="drift" if overview.multivariate.drifted else "no drift",
        delta_color="inverse" if overview.multivariate.drifted else "off",
        help=overview.multivariate.note,
    )
d.metric(
    "Predictions compared",
    f"{overview.n_current:,}",
    help=f"{overview.start:%Y-%m-%d} to {overview.end - timedelta(days=1):%Y-%m-%d}, per {overview.window}",
)
if report.drifted_columns:
    st.warning("Drifting: " + ", ".join(report.drifted_columns))
if overview.multivariate is not None and overview.multivariate.top_features:
    st.caption(
        "Columns that best tell live from baseline rows: "
        + ", ".join(f"{name} ({importance:.3f})" for name, importance in overview.multivariate.top_features)
    )

st.subheader("Every column, most severe first")
columns_table = pd.DataFrame(
    [
        {
            "Column": c.column,
            "Type": c.kind,
            "Test": c.test,
            "Statistic": c.statistic,
            "p-value": c.p_value,
            "Threshold": c.threshold,
            "Drift": "drift" if c.drifted else ("ok" if c.analyzed else "not analyzed"),
            "PSI": c.psi,
            "Missing": c.missing_share,
            "Quality": "; ".join(c.quality),
            "Note": c.note,
        }
        for c in overview.columns()
    ]
)
st.dataframe(
    columns_table,
    hide_index=True,
    width="stretch",
    column_config={
        "Statistic": st.column_config.NumberColumn(format="%.4f"),
        "p-value": st.column_config.NumberColumn(format="%.2e"),
        "PSI": st.column_config.NumberColumn(
            format="%.3f", help="Population stability index; > 0.2 is a large shift."
        ),
        "Missing": st.column_config.NumberColumn(format="percent"),
    },
)

names = [col.column for col in report.columns]
column = st.selectbox("Distribution of", names, key=f"drift_column_{model.name}")
st.plotly_chart(distribution_figure(overview.reference, overview.current, column), key="drift_distribution")

st.plotly_chart(drift_heatmap(overview), key="drift_heatmap")
st.plotly_chart(share_drifted_figure(overview), key="drift_share")

outputs = [name for name in ("score", "prediction") if name in names]
if outputs:
    st.subheader("Model outputs")
    for slot, name in zip(st.columns(len(outputs)), outputs, strict=False):
        slot.plotly_chart(
            distribution_figure(overview.reference, overview.current, name), key=f"drift_{name}"
        )

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
    st.dataframe(
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
