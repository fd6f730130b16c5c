"""Performance: metrics per window against success criteria, with uncertainty and a label-free estimate."""

import pandas as pd
import streamlit as st

from readiness.analysis.charts import (
    calibration_figure,
    classes_of,
    confusion_matrix_figure,
    coverage_figure,
    latency_figure,
    metric_trend_figure,
    roc_figure,
)
from readiness.analysis.performance_overview import performance_overview, quality_metrics
from readiness.analysis.records import CriterionStatus
from readiness.analysis.segments import segment_features, segment_performance
from readiness.errors import ReadinessError
from shell import inert, model_log_range, require_shell, selected_model, table

STATUS_STYLE = {  # criterion status -> (colour, icon)
    CriterionStatus.PASS: ("green", ":material/check_circle:"),
    CriterionStatus.FAIL: ("red", ":material/cancel:"),
    CriterionStatus.INSUFFICIENT: ("gray", ":material/help:"),
}

store = require_shell()
st.title("Performance")
st.caption(
    "Does the model meet its success criteria in production? Each window is judged on the labels "
    "that have arrived; a window with too few labels is 'insufficient data', never a pass."
)
model = selected_model()
span = model_log_range(store, model)

left, right = st.columns([2, 1])
picked = left.date_input(
    "Date range (UTC)",
    value=(span.first_day, span.last_day),
    min_value=span.first_day,
    max_value=span.last_day,
    key=f"perf_range_{model.name}",
)
window = right.selectbox("Window", ["week", "day", "month"], key="perf_window")
start, end = picked if isinstance(picked, tuple) and len(picked) == 2 else (span.first_day, span.last_day)

try:
    with st.spinner("Computing metrics..."):
        overview = performance_overview(store, model, start, end, window)
except ReadinessError as exc:
    st.error(inert(exc))
    st.stop()

st.subheader("Success criteria")
if any(track.criterion.is_default for track in overview.criteria):
    st.caption("Task defaults in use: set this model's own criteria on the Settings page.")
cards = st.columns(min(len(overview.criteria), 4) or 1)
for i, track in enumerate(overview.criteria):
    result = track.current
    judged = track.latest_judged
    waiting = (result is None or result.status == CriterionStatus.INSUFFICIENT) and judged is not None
    # while the newest window waits for labels, lead with the newest judged one (as the checklist does)
    start_shown, headline = (judged[0], judged[1]) if waiting and judged else (track.current_window, result)
    status = headline.status if headline else CriterionStatus.INSUFFICIENT
    colour, icon = STATUS_STYLE[status]
    with cards[i % len(cards)].container(border=True):
        st.markdown(f"**{track.criterion.text}**")
        value = f"{headline.value:.3f}" if headline and headline.value is not None else "n/a"
        st.markdown(f":{colour}[{icon} **{status.label}**] · {value}")
        if headline and headline.lower is not None:
            st.caption(
                f"95% interval {headline.lower:.3f} to {headline.upper:.3f}; "
                f"{headline.n:,} rows; {overview.window} from {start_shown:%Y-%m-%d}"
            )
        elif headline and headline.reason:
            st.caption(inert(headline.reason))
        if waiting:
            st.caption(
                f"Newest judged {overview.window}. Labels are still arriving for the {overview.window} from "
                f"{track.current_window:%Y-%m-%d}"
                + (f" ({result.reason})." if result and result.reason else ".")
            )

st.subheader("Trends")
thresholds = {track.criterion.metric: track.criterion for track in overview.criteria}
shown = [name for name in thresholds if not name.startswith("latency")]
extra = st.selectbox(
    "Add a metric",
    ["(none)", *[n for n in quality_metrics(overview.model) if n not in shown]],
    key="perf_extra_metric",
)
for name in shown + ([extra] if extra != "(none)" else []):
    criterion = thresholds.get(name)
    st.plotly_chart(
        metric_trend_figure(
            overview,
            name,
            criterion.threshold if criterion else None,
            criterion.comparison if criterion else None,
        ),
        key=f"perf_trend_{name}",
    )

ESTIMATED_FROM = {
    "binary": "the score, calibrated on the baseline's labels",
    "multiclass": "the class probabilities, each calibrated on the baseline's labels",
    "regression": "an error model fitted on the baseline: how wrong a prediction tends to be given its features "
    "and value",
}
estimates = overview.estimate_table()
if not estimates.empty:
    st.subheader("Estimated without labels")
    newest = estimates["window"].iloc[0]
    st.caption(
        f"For the {overview.window} from {newest:%Y-%m-%d}: what the metrics will probably be once its labels "
        f"arrive, estimated from {ESTIMATED_FROM[overview.model.task]}. The interval covers label noise and "
        "the estimator's own error; it assumes the relation between the model's outputs and the outcomes is "
        "the baseline's, so an estimate the labels later contradict points to concept drift."
    )
    if overview.estimator_note:
        st.warning(f"This estimate is less reliable: {inert(overview.estimator_note)}.")

    def _interval(lower: object, upper: object) -> str:
        return f"{lower:.3f} to {upper:.3f}" if pd.notna(lower) and pd.notna(upper) else ""

    table(
        pd.DataFrame(
            {
                "Metric": estimates["metric"],
                "Estimated": estimates["estimate"],
                "Estimate interval": [
                    _interval(lo, hi)
                    for lo, hi in zip(estimates["estimate_lower"], estimates["estimate_upper"], strict=True)
                ],
                "Measured so far": estimates["measured"],
                "Measured interval": [
                    _interval(lo, hi)
                    for lo, hi in zip(estimates["measured_lower"], estimates["measured_upper"], strict=True)
                ],
                "Labelled": estimates["labelled"],
            }
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "Estimated": st.column_config.NumberColumn(format="%.3f"),
            "Measured so far": st.column_config.NumberColumn(format="%.3f"),
            "Labelled": st.column_config.NumberColumn(format="percent"),
        },
    )

st.subheader("Development vs production")
development = (
    f"development data, {overview.development_period}" if overview.development_period else "development data"
)
st.caption(
    f"The same metrics on the baseline ({development}) and on the labelled production log of the range "
    f"({overview.start:%d %b %Y} to {overview.last_day:%d %b %Y})."
)
dev_vs_prod = pd.DataFrame(
    [
        {
            "Metric": gap.metric,
            "Baseline": gap.development,
            "Production": gap.production.value if gap.production else None,
            "Production interval": (
                f"{gap.production.lower:.3g} to {gap.production.upper:.3g}"
                if gap.production and gap.production.lower is not None and gap.production.upper is not None
                else ""
            ),
            "Difference": gap.difference,
        }
        for gap in overview.development_vs_production()
    ]
)
table(
    dev_vs_prod,
    hide_index=True,
    width="stretch",
    column_config={
        "Baseline": st.column_config.NumberColumn(format="%.4f"),
        "Production": st.column_config.NumberColumn(format="%.4f"),
        "Difference": st.column_config.NumberColumn(format="%+.4f"),
    },
)

quality = overview.total.quality
classes = classes_of(overview.model, quality)
if classes:
    a, b = st.columns(2)
    a.plotly_chart(confusion_matrix_figure(quality, classes), key="perf_confusion")
    if overview.model.task == "binary" and quality.n_scored:
        b.plotly_chart(roc_figure(quality), key="perf_roc")
        st.plotly_chart(calibration_figure(quality), key="perf_calibration")

if overview.model.task == "multiclass" and quality.n:
    st.subheader("Per class")
    st.caption(
        "Each class against the rest over the range. ROC AUC and calibration error need the model's "
        "class probabilities in the log (one column per class)."
    )
    table(
        overview.class_table().rename(
            columns={
                "class": "Class",
                "labelled": "Labelled",
                "predicted": "Predicted",
                "precision": "Precision",
                "recall": "Recall",
                "f1": "F1",
                "roc_auc": "ROC AUC (one vs rest)",
                "calibration_error": "Calibration error",
            }
        ),
        hide_index=True,
        width="stretch",
        column_config={
            name: st.column_config.NumberColumn(format="%.3f")
            for name in ("Precision", "Recall", "F1", "ROC AUC (one vs rest)", "Calibration error")
        },
    )

slo = thresholds.get("latency_p95")
if overview.logs_latency:
    st.plotly_chart(latency_figure(overview, slo.threshold if slo else None), key="perf_latency")
else:
    st.info(
        "No serving latency is logged for this model in the range, so there is no latency chart. "
        "Log a latency_ms column (milliseconds per prediction) to see p50, p95 and p99 here."
    )
st.plotly_chart(coverage_figure(overview), key="perf_coverage")

if len(overview.versions) > 1:
    st.subheader("Model versions")
    table(
        pd.DataFrame(
            [
                {"Version": version or "(none)", **{name: v.value for name, v in values.items()}}
                for version, values in overview.versions.items()
            ]
        ),
        hide_index=True,
        width="stretch",
    )

st.subheader("Segments")
features = segment_features(store, model)
segment_by = st.selectbox(
    "Compare metrics per value of",
    ["(choose a feature)", *features],
    key="perf_segment",
    help="Computed from the newest labelled predictions in the range (at most 200,000).",
)
if segment_by != "(choose a feature)":
    try:
        with st.spinner("Computing metrics per segment..."):
            segments = segment_performance(store, model, segment_by, start, end)
    except ReadinessError as exc:
        st.error(inert(exc))
    else:
        if segments.capped:
            st.caption(f"Based on the newest {segments.rows_used:,} labelled predictions in the range.")
        table(
            pd.DataFrame(
                [
                    {
                        "Segment": s.value,
                        "Labelled": s.n_labelled,
                        **{name: v.value for name, v in s.metrics.items()},
                    }
                    for s in segments.segments
                ]
            ),
            hide_index=True,
            width="stretch",
        )
