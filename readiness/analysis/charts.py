"""Plotly figures built from analysis results (no streamlit here).

Every chart has a title and axis labels a product owner understands. Each figure is built once
per analysis result (:func:`readiness.analysis.cache.remembered`), so a warm page view only
serializes it.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from readiness.analysis.assessment import Assessment
from readiness.analysis.cache import remembered
from readiness.analysis.drift_overview import DriftOverview
from readiness.analysis.performance_overview import PerformanceOverview
from readiness.core import metrics as m
from readiness.core.checklist import Bands, band_status
from readiness.core.drift_stats import bin_bounds, histogram_quantile
from readiness.core.profiles import (
    CategoricalProfile,
    CategoricalReference,
    FrameProfile,
    NumericProfile,
    NumericReference,
    Reference,
)
from readiness.core.records import Model
from readiness.core.status import ReadinessStatus
from readiness.errors import SchemaMismatchError

BASELINE_COLOR = "#4c78a8"
LIVE_COLOR = "#f58518"
MAX_CATEGORIES = 20
MAX_BARS = 40
PROBABILITY_GRID = np.linspace(0.0, 1.0, MAX_BARS + 1)  # one bar per 0.025 of probability


@remembered
def distribution_figure(reference: Reference, current: FrameProfile, column: str) -> go.Figure:
    """Baseline vs live distribution of one column: a histogram (numeric) or bars (categorical)."""
    figure = _distribution(reference, current, column)
    categorical = figure.layout.xaxis.type == "category"
    figure.update_layout(
        title=f"{column}: baseline vs live distribution",
        # side by side for categories (overlaid, the opaque live bars hid every baseline bar they topped)
        barmode="group" if categorical else "overlay",
        legend={"orientation": "h", "y": -0.2},
        margin={"t": 60, "b": 40},
    )
    return figure


@remembered
def class_probability_figure(overview: DriftOverview, label: str) -> go.Figure:
    """One class's probability, baseline vs live over the range on a fixed 0-1 axis, titled with its drift now.

    Every class shares the axis and the bars, so a grid of them compares at a glance; the
    figures are small enough to stack one per row on a phone.
    """
    output = next((o for o in overview.class_outputs() if o.label == label), None)
    if output is None:
        known = ", ".join(repr(o.label) for o in overview.class_outputs()) or "none"
        raise SchemaMismatchError(
            f"Model {overview.model.name!r} logs no probability for class {label!r}; classes with "
            f"probabilities: {known}. Pick one of those."
        )
    figure = _distribution(overview.reference, overview.current, output.drift.column, PROBABILITY_GRID)
    verdict = f"drifting {output.drift.run}" if output.drift.drifting_now else output.drift.state
    shown = html.escape(label)  # a class is user text; plotly reads tags in titles
    figure.update_layout(
        title={"text": f"{shown}<br><sup>probability, baseline vs live: {verdict}</sup>"},
        barmode="overlay",
        height=320,
        legend={"orientation": "h", "y": -0.3},
        margin={"t": 70, "b": 40, "l": 50, "r": 20},
    )
    figure.update_xaxes(title_text=f"Probability of {shown}")
    if (
        figure.layout.xaxis.type != "category"
    ):  # a baseline with few distinct values is drawn as bars per value
        figure.update_xaxes(range=[0, 1])
    return figure


def _distribution(
    reference: Reference, current: FrameProfile, column: str, grid: np.ndarray | None = None
) -> go.Figure:
    """The untitled baseline vs live figure of one column (``grid``: fixed bar edges for a numeric one)."""
    base, live = reference.baseline[column], current[column]
    ref = reference[column]
    if (
        isinstance(ref, NumericReference)
        and isinstance(base, NumericProfile)
        and isinstance(live, NumericProfile)
    ):
        figure = _numeric_distribution(ref, base, live, grid)
    elif (
        isinstance(ref, CategoricalReference)
        and isinstance(base, CategoricalProfile)
        and isinstance(live, CategoricalProfile)
    ):
        figure = _categorical_distribution(ref.categories, base, live)
    else:
        raise SchemaMismatchError(
            f"Column {column!r} is {ref.kind} in the baseline but its profiles are {base.kind} and "
            f"{live.kind}. Recompute the current profile against the active baseline."
        )
    return figure


def _shares(counts: tuple[int, ...] | list[int]) -> np.ndarray:
    values = np.asarray(counts, dtype=float)
    total = values.sum()
    return values / total if total else values


def _numeric_distribution(
    ref: NumericReference, base: NumericProfile, live: NumericProfile, grid: np.ndarray | None = None
) -> go.Figure:
    edges = np.asarray(ref.edges, dtype=float)
    base_share, live_share = _shares(base.counts), _shares(live.counts)
    figure = go.Figure()
    if ref.discrete or len(edges) < 3:
        labels = [f"< {edges[0]:g}", *[f"{e:g}" for e in edges]]
        for name, share, color in (
            ("Baseline", base_share, BASELINE_COLOR),
            ("Live", live_share, LIVE_COLOR),
        ):
            figure.add_bar(
                x=labels,
                y=share[:-1] if len(share) > len(labels) else share,
                name=name,
                marker_color=color,
                opacity=0.6,
            )
        figure.update_xaxes(title_text="Value", type="category")
        figure.update_yaxes(title_text="Share of rows", tickformat=".0%")
        return figure
    grid = even_grid(ref, base, live) if grid is None else grid
    for name, profile, color in (("Baseline", base, BASELINE_COLOR), ("Live", live, LIVE_COLOR)):
        bounds = profile_bounds(ref, profile)
        share = rebin(_shares(profile.counts), bounds, grid)
        figure.add_bar(
            x=(grid[:-1] + grid[1:]) / 2,
            y=share,
            width=np.diff(grid),
            name=name,
            marker_color=color,
            opacity=0.55,
            hovertemplate="%{x:.4g}: %{y:.1%} of rows<extra>" + name + "</extra>",
        )
    outside = live_share[0] + live_share[-1]
    subtitle = f"{outside:.1%} of live values fall outside the baseline range" if outside >= 0.001 else ""
    figure.update_xaxes(title_text="Value" + (f" ({subtitle})" if subtitle else ""))
    figure.update_yaxes(title_text="Share of rows", tickformat=".0%", rangemode="tozero")
    return figure


def even_grid(
    ref: NumericReference, base: NumericProfile, live: NumericProfile, bars: int = MAX_BARS
) -> np.ndarray:
    """Edges of ``bars`` equal-width bars over where 99% of both sides' values lie.

    Quantile bins are narrow where values crowd (a score near 0), so drawing them as they are
    gives density spikes that hide every other bar; equal widths keep the chart readable.
    """
    ends = []
    for profile in (base, live):
        if profile.n:
            bounds = profile_bounds(ref, profile)
            ends += [histogram_quantile(profile.counts, bounds, q) for q in (0.005, 0.995)]
    low, high = (min(ends), max(ends)) if ends else (0.0, 1.0)
    if not high > low:
        low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, bars + 1)


def profile_bounds(ref: NumericReference, profile: NumericProfile) -> np.ndarray:
    """Where each of a profile's bins really spans, the outer bins closed by the profile's min and max.

    When every value lies beyond the baseline's range, the outer bin starts at the profile's
    own minimum (or ends at its maximum), not at the baseline's edge.
    """
    bounds = bin_bounds(ref.edges, profile.minimum, profile.maximum)
    if len(bounds) > 2 and profile.n:
        bounds[-2] = max(bounds[-2], min(profile.minimum, bounds[-1]))
        bounds[1] = min(bounds[1], max(profile.maximum, bounds[0]))
    return bounds


def rebin(shares: np.ndarray, bounds: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Shares over bins [bounds[i], bounds[i+1]] moved onto the grid's bars (uniform inside a bin).

    Values beyond the grid go to the first or last bar, so the bars always hold every row.

    >>> rebin(np.array([0.5, 0.5]), np.array([0.0, 1.0, 2.0]), np.array([0.0, 0.5, 2.0])).tolist()
    [0.25, 0.75]
    """
    lo, width = bounds[:-1], np.diff(bounds)
    inner = grid[1:-1, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        part = np.where(width > 0, np.clip((inner - lo) / width, 0.0, 1.0), (inner >= lo).astype(float))
    below = np.concatenate([[0.0], part @ shares, [shares.sum()]])
    return np.clip(np.diff(below), 0.0, None)


def _categorical_distribution(
    categories: tuple[str, ...], base: CategoricalProfile, live: CategoricalProfile
) -> go.Figure:
    base_total = max(base.n, 1)
    live_total = max(live.n, 1)
    order = np.argsort(-np.asarray(base.counts))[:MAX_CATEGORIES]
    labels = [categories[i] for i in order]
    base_values = [base.counts[i] / base_total for i in order]
    live_values = [live.counts[i] / live_total for i in order]
    shown_base, shown_live = sum(base_values), sum(live_values)
    unseen = (sum(c for _, c in live.unseen) + live.unseen_other) / live_total
    labels += ["(other baseline categories)", "(unseen in baseline)"]
    base_values += [max(1 - shown_base, 0.0), 0.0]
    live_values += [max(1 - shown_live - unseen, 0.0), unseen]
    figure = go.Figure()
    figure.add_bar(x=labels, y=base_values, name="Baseline", marker_color=BASELINE_COLOR)
    figure.add_bar(x=labels, y=live_values, name="Live", marker_color=LIVE_COLOR)
    figure.update_layout(barmode="group")
    figure.update_xaxes(title_text="Category", type="category")
    figure.update_yaxes(title_text="Share of rows", tickformat=".0%")
    return figure


@remembered
def drift_heatmap(overview: DriftOverview) -> go.Figure:
    """Columns x windows, coloured by statistic over its drift bar (threshold or noise floor)."""
    matrix = overview.severity_matrix()
    z = matrix.to_numpy(dtype=float)
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=[start for start in matrix.columns],
            y=list(matrix.index),
            zmin=0.0,
            zmax=3.0,
            colorscale=[[0.0, "#f7f7f7"], [0.32, "#fddbc7"], [0.334, "#f4a582"], [1.0, "#b2182b"]],
            colorbar={
                "title": {"text": "statistic ÷<br>drift bar"},
                "tickvals": [0, 1, 2, 3],
                "ticktext": ["0", "1 (drift)", "2", "≥3"],
            },
            hovertemplate="%{y}<br>window %{x}<br>%{z:.2f} × the drift bar<extra></extra>",
        )
    )
    figure.update_layout(
        title=f"When did drift start? Drift per {overview.window} (red: past the threshold)",
        height=max(300, 28 * len(matrix.index) + 140),
        margin={"t": 60},
    )
    figure.update_xaxes(title_text=f"{overview.window.capitalize()} (UTC)")
    figure.update_yaxes(title_text="Column", autorange="reversed")
    return figure


@remembered
def share_drifted_figure(overview: DriftOverview) -> go.Figure:
    """Share of drifted columns per window, against the dataset-drift share."""
    starts = [w.start for w in overview.windows]
    shares = [w.report.share_drifted for w in overview.windows]
    figure = go.Figure(
        go.Scatter(
            x=starts, y=shares, mode="lines+markers", name="Drifted columns", line={"color": LIVE_COLOR}
        )
    )
    figure.add_hline(
        y=overview.report.options.dataset_share,
        line_dash="dash",
        line_color="#b2182b",
        annotation_text="dataset drift",
    )
    figure.update_layout(title=f"Share of columns drifting per {overview.window}")
    figure.update_xaxes(title_text=f"{overview.window.capitalize()} (UTC)")
    figure.update_yaxes(title_text="Share of columns", tickformat=".0%", range=[0, 1])
    return figure


# -- performance ---------------------------------------------------------------------------

PASS_COLOR = "#2ca02c"
FAIL_COLOR = "#b2182b"
MUTED = "#9e9e9e"


@remembered
def metric_trend_figure(
    overview: PerformanceOverview, metric: str, threshold: float | None = None, comparison: str | None = None
) -> go.Figure:
    """A metric per window with its 95% band, the criterion's threshold and the label-free estimate."""
    series = overview.metric_series(metric)
    measured = series[series["value"].notna()]
    usable = measured[~measured["provisional"]]
    early = measured[measured["provisional"]]
    figure = go.Figure()
    figure.add_scatter(
        x=list(usable["start"]) + list(usable["start"])[::-1],
        y=list(usable["upper"]) + list(usable["lower"])[::-1],
        fill="toself",
        fillcolor="rgba(76,120,168,0.18)",
        line={"width": 0},
        name="95% interval",
        hoverinfo="skip",
    )
    figure.add_scatter(
        x=usable["start"],
        y=usable["value"],
        mode="lines+markers",
        name="Measured (labels)",
        line={"color": BASELINE_COLOR},
        customdata=usable["n"],
        hovertemplate="%{x|%Y-%m-%d}: %{y:.3f} (n=%{customdata})<extra></extra>",
    )
    if not early.empty:
        figure.add_scatter(
            x=early["start"],
            y=early["value"],
            mode="markers",
            name="Provisional (labels still arriving)",
            marker={"symbol": "circle-open", "color": BASELINE_COLOR, "size": 9, "opacity": 0.6},
            customdata=list(zip(early["labelled"], early["predictions"], strict=True)),
            hovertemplate="%{x|%Y-%m-%d}: %{y:.3f}, provisional: %{customdata[0]:,} of "
            "%{customdata[1]:,} predictions labelled so far<extra></extra>",
        )
    missing = series[series["value"].isna()]
    if not missing.empty:
        figure.add_scatter(
            x=missing["start"],
            y=[threshold if threshold is not None else 0] * len(missing),
            mode="markers",
            name="Insufficient data",
            marker={"symbol": "x", "color": MUTED, "size": 9},
        )
    estimated = series[series["estimate"].notna()]
    if not estimated.empty:
        value = pd.to_numeric(estimated["estimate"])
        estimated = estimated.assign(  # a point estimate without an interval gets a zero-length bar
            estimate=value,
            estimate_lower=pd.to_numeric(estimated["estimate_lower"]).fillna(value),
            estimate_upper=pd.to_numeric(estimated["estimate_upper"]).fillna(value),
        )
        figure.add_scatter(
            x=estimated["start"],
            y=estimated["estimate"],
            mode="lines+markers",
            name="Estimated (no labels needed)",
            line={"color": LIVE_COLOR, "dash": "dash"},
            marker={"size": 5},
            error_y={
                "type": "data",
                "array": (estimated["estimate_upper"] - estimated["estimate"]).tolist(),
                "arrayminus": (estimated["estimate"] - estimated["estimate_lower"]).tolist(),
                "color": LIVE_COLOR,
                "thickness": 1,
                "width": 3,
            },
            customdata=estimated[["estimate_lower", "estimate_upper"]].to_numpy(),
            hovertemplate="%{x|%Y-%m-%d}: estimated %{y:.3f} (95% interval %{customdata[0]:.3f} to "
            "%{customdata[1]:.3f})<extra></extra>",
        )
    if threshold is not None:
        figure.add_hline(
            y=threshold,
            line_dash="dot",
            line_color=FAIL_COLOR,
            annotation_text=f"criterion {comparison or ''} {threshold:g}",
        )
    figure.update_layout(title=f"{metric} per {overview.window}", legend={"orientation": "h", "y": -0.25})
    figure.update_xaxes(title_text=f"{overview.window.capitalize()} (UTC)")
    figure.update_yaxes(title_text=metric)
    return figure


def classes_of(model: Model, quality: object) -> tuple[str, ...]:
    """The class labels a confusion matrix of this aggregate shows; () for regression."""
    if isinstance(quality, m.BinaryAggregate):
        positive = model.positive_class or "1"
        return (f"negative (not {positive})", f"positive ({positive})")
    if isinstance(quality, m.MulticlassAggregate):
        return tuple(quality.classes)
    return ()


@remembered
def confusion_matrix_figure(
    aggregate: m.BinaryAggregate | m.MulticlassAggregate, labels: tuple[str, ...]
) -> go.Figure:
    """Counts of predicted vs actual classes over the range."""
    if isinstance(aggregate, m.BinaryAggregate):
        z = [[aggregate.tn, aggregate.fp], [aggregate.fn, aggregate.tp]]
    else:
        z = [list(row) for row in aggregate.matrix]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=list(labels),
            y=list(labels),
            colorscale="Blues",
            showscale=False,
            text=z,
            texttemplate="%{text:,}",
            hovertemplate="actual %{y}, predicted %{x}: %{z:,}<extra></extra>",
        )
    )
    figure.update_layout(title="Confusion matrix (labelled predictions in the range)")
    figure.update_xaxes(title_text="Predicted class", type="category")
    figure.update_yaxes(title_text="Actual class", type="category", autorange="reversed")
    return figure


@remembered
def roc_figure(aggregate: m.BinaryAggregate) -> go.Figure:
    """ROC curve from the score histograms per label, with the diagonal of a random model."""
    positives = np.asarray(aggregate.positive_hist, dtype=float)[::-1].cumsum()
    negatives = np.asarray(aggregate.negative_hist, dtype=float)[::-1].cumsum()
    tpr = np.concatenate([[0.0], positives / positives[-1]]) if positives[-1] else np.array([0.0])
    fpr = np.concatenate([[0.0], negatives / negatives[-1]]) if negatives[-1] else np.array([0.0])
    figure = go.Figure()
    if len(tpr) == len(fpr) and len(tpr) > 1:
        figure.add_scatter(x=fpr, y=tpr, mode="lines", name="Model", line={"color": BASELINE_COLOR})
    figure.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="Random", line={"dash": "dot", "color": MUTED})
    figure.update_layout(title="ROC curve (labelled predictions in the range)")
    figure.update_xaxes(title_text="False positive rate", range=[0, 1])
    figure.update_yaxes(title_text="True positive rate (recall)", range=[0, 1])
    return figure


@remembered
def calibration_figure(aggregate: m.BinaryAggregate) -> go.Figure:
    """Mean score vs observed positive rate per score bin; a calibrated model follows the diagonal."""
    curve = m.calibration_curve(aggregate)
    figure = go.Figure()
    figure.add_scatter(
        x=[0, 1], y=[0, 1], mode="lines", name="Perfectly calibrated", line={"dash": "dot", "color": MUTED}
    )
    figure.add_scatter(
        x=curve.mean_score,
        y=curve.positive_rate,
        mode="lines+markers",
        name="Model",
        customdata=curve.count,
        hovertemplate="score %{x:.2f}: %{y:.1%} positive (n=%{customdata})<extra></extra>",
        line={"color": BASELINE_COLOR},
    )
    figure.update_layout(title="Calibration: predicted probability vs observed rate")
    figure.update_xaxes(title_text="Mean predicted probability", range=[0, 1])
    figure.update_yaxes(title_text="Observed share of positives", range=[0, 1], tickformat=".0%")
    return figure


@remembered
def latency_figure(overview: PerformanceOverview, slo_ms: float | None = None) -> go.Figure:
    """p50 / p95 / p99 serving latency per window against the latency objective."""
    figure = go.Figure()
    for name, dash in (("latency_p50", "dot"), ("latency_p95", "solid"), ("latency_p99", "dash")):
        series = overview.metric_series(name)
        figure.add_scatter(
            x=series["start"],
            y=series["value"],
            mode="lines+markers",
            name=name.replace("latency_", ""),
            line={"dash": dash},
        )
    if slo_ms is not None:
        figure.add_hline(
            y=slo_ms, line_dash="dot", line_color=FAIL_COLOR, annotation_text=f"objective {slo_ms:g} ms"
        )
    figure.update_layout(title=f"Serving latency per {overview.window}")
    figure.update_xaxes(title_text=f"{overview.window.capitalize()} (UTC)")
    figure.update_yaxes(title_text="Latency (ms)")
    return figure


@remembered
def coverage_figure(overview: PerformanceOverview) -> go.Figure:
    """Share of predictions with a label per window, and the median label delay."""
    table = overview.coverage_table()
    figure = go.Figure()
    figure.add_bar(x=table["start"], y=table["coverage"], name="Label coverage", marker_color=BASELINE_COLOR)
    if overview.label_delay_known:
        figure.add_scatter(
            x=table["start"],
            y=table["delay_hours"] / 24,
            mode="lines+markers",
            name="Median label delay (days)",
            yaxis="y2",
            line={"color": LIVE_COLOR},
        )
    title = f"Labels: coverage and delay per {overview.window}"
    if not overview.label_delay_known:  # the labels of a finished log arrived by upload: no real delay
        title = f"Labels: coverage per {overview.window} (label delay unknown for a historical log)"
    figure.update_layout(
        title=title,
        yaxis={"title": {"text": "Share of predictions labelled"}, "tickformat": ".0%", "range": [0, 1]},
        yaxis2={
            "title": {"text": "Median delay (days)"},
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
        },
        legend={"orientation": "h", "y": -0.25},
    )
    figure.update_xaxes(title_text=f"{overview.window.capitalize()} (UTC)")
    return figure


# -- readiness -----------------------------------------------------------------------------

STATUS_COLORS = {
    ReadinessStatus.READY: "#2ca02c",
    ReadinessStatus.AT_RISK: "#e6a100",
    ReadinessStatus.NOT_READY: "#b2182b",
}
SECTION_TITLES = {"data": "Data", "model": "Model", "operations": "Operations", "monitoring": "Monitoring"}


def _band_steps(bands: Bands) -> list[dict]:
    return [
        {"range": [0, bands.at_risk], "color": "#f6d5d5"},
        {"range": [bands.at_risk, bands.ready], "color": "#fbeccb"},
        {"range": [bands.ready, 100], "color": "#d9efd9"},
    ]


@remembered
def score_gauge(assessment: Assessment) -> go.Figure:
    """The readiness score (the weakest section's) on a 0-100 gauge banded Not ready / At risk / Ready."""
    score, bands = assessment.score, assessment.config.bands
    value = score.score_0_100 if score.score_0_100 is not None else 0.0
    figure = go.Figure(
        go.Indicator(
            mode="gauge+number",
            value=value,
            number={"suffix": "", "valueformat": ".0f"},
            title={"text": f"Readiness: <b>{score.status.label}</b>"},
            gauge={
                "axis": {"range": [0, 100], "tickvals": [0, bands.at_risk, bands.ready, 100]},
                "bar": {"color": STATUS_COLORS[score.status], "thickness": 0.3},
                "steps": _band_steps(bands),
            },
        )
    )
    figure.update_layout(height=260, margin={"t": 60, "b": 10, "l": 30, "r": 30})
    return figure


@remembered
def section_gauges(assessment: Assessment) -> tuple[go.Figure, ...]:
    """One small gauge per section (share of points in percent), in section order; the weakest decides the score.

    Separate figures, so a narrow screen wraps them onto rows instead of squeezing four titles
    into one line.
    """
    return tuple(_section_gauge(assessment, section.section) for section in assessment.score.sections)


def section_gauges_grid(assessment: Assessment) -> go.Figure:
    """The section gauges as one figure, two by two, readable at any width (for the report)."""
    figure = go.Figure()
    for i, gauge in enumerate(section_gauges(assessment)):
        row, column = divmod(i, 2)
        trace = gauge.data[0]
        trace.domain = {
            "x": [column / 2 + 0.05, (column + 1) / 2 - 0.05],
            "y": [0.5 - row / 2 + 0.04, 1 - row / 2 - 0.12],
        }
        figure.add_trace(trace)
    figure.update_layout(height=340, margin={"t": 30, "b": 10, "l": 25, "r": 25})
    return figure


def _section_gauge(assessment: Assessment, section: str) -> go.Figure:
    bands = assessment.config.bands
    weakest = min(
        (s for s in assessment.score.sections if s.score is not None),
        key=lambda s: s.score if s.score is not None else math.inf,
        default=None,
    )
    percent = assessment.section_percent(section)
    title = SECTION_TITLES[section] + (
        " (weakest)" if weakest is not None and weakest.section == section else ""
    )
    color = MUTED if percent is None else STATUS_COLORS[band_status(percent, bands)]
    figure = go.Figure(
        go.Indicator(
            mode="gauge+number",
            value=percent if percent is not None else 0.0,
            number={"suffix": "%", "valueformat": ".0f"},
            title={"text": title, "font": {"size": 14}},
            gauge={
                "axis": {
                    "range": [0, 100],
                    "tickvals": [bands.at_risk, bands.ready],
                    "tickfont": {"size": 10},
                },
                "bar": {"color": color, "thickness": 0.3},
                "steps": _band_steps(bands),
            },
        )
    )
    figure.update_layout(height=170, margin={"t": 40, "b": 10, "l": 25, "r": 25})
    return figure


@remembered
def score_history_figure(history: pd.DataFrame, bands: Bands | None = None) -> go.Figure:
    """The recorded readiness score per day with its sections, over the status bands."""
    bands = bands or Bands()
    figure = go.Figure()
    for low, high, status in (
        (0, bands.at_risk, ReadinessStatus.NOT_READY),
        (bands.at_risk, bands.ready, ReadinessStatus.AT_RISK),
        (bands.ready, 100, ReadinessStatus.READY),
    ):
        figure.add_hrect(
            y0=low,
            y1=high,
            fillcolor=STATUS_COLORS[status],
            opacity=0.10,
            line_width=0,
            layer="below",
            annotation_text=status.label,
            annotation_position="top left",
        )
    for section, title in SECTION_TITLES.items():
        if section in history:
            figure.add_scatter(
                x=history["day"],
                y=history[section],
                mode="lines",
                name=title,
                line={"width": 1, "dash": "dot"},
                opacity=0.7,
            )
    figure.add_scatter(
        x=history["day"],
        y=history["score"],
        mode="lines+markers",
        name="Readiness score",
        line={"color": "#222222", "width": 3},
        customdata=history["status"].map(lambda v: ReadinessStatus.parse(v).label),
        hovertemplate="%{x|%Y-%m-%d}: %{y:.0f} (%{customdata})<extra></extra>",
    )
    figure.update_layout(
        title="Readiness score over time (the weakest section's)",
        height=380,
        plot_bgcolor="white",
        legend={"orientation": "h", "y": -0.25},
        margin={"t": 60},
    )
    figure.update_xaxes(title_text="Day (UTC)")
    figure.update_yaxes(title_text="Score (0-100)", range=[0, 100], gridcolor="#eeeeee")
    return figure
