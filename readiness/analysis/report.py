"""A one-page, self-contained HTML readiness report: one model, or every model on one page.

The page works offline and prints: CSS is inline, plotly.js is inlined once per file (the
first chart carries it, the others reuse it), and nothing is fetched from the network. Every
string that comes from data (names, owners, descriptions, findings, evidence links, notes,
feature names) is HTML-escaped; an evidence link becomes a link only when it is http(s).

Each part of a model's report is built on its own: a model without a baseline, predictions
or labels still gets a report, which says what is missing where the part would be.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from readiness.analysis import charts
from readiness.analysis.assessment import Assessment, assess_model, score_history
from readiness.analysis.cache import cached, cached_for_store
from readiness.analysis.drift_overview import run_text
from readiness.analysis.overview import ModelOverview, portfolio_overview
from readiness.analysis.performance_overview import PerformanceOverview, performance_overview
from readiness.analysis.settings import model_criteria
from readiness.core.checklist import SECTIONS, Bands, ItemResult
from readiness.core.checks import primary_criterion
from readiness.core.drift_now import ColumnNow, DriftNow
from readiness.core.performance import CriterionTrack
from readiness.core.records import Model, utcnow
from readiness.core.status import CriterionStatus, ItemStatus, ReadinessStatus
from readiness.core.windows import window_start
from readiness.errors import ReadinessError
from readiness.storage.settings import current_attestations
from readiness.storage.store import Store

TREND_WEEKS = 8
DRIFT_ROWS = 8
PLOT_CONFIG = {"displayModeBar": False, "responsive": True}

T = TypeVar("T")


# --------------------------------------------------------------------------- public API


def model_report_html(store: Store, model: Model, now: datetime | None = None) -> str:
    """One model's readiness report as one self-contained HTML page (built once per data version and hour)."""
    generated, as_of = _moments(now)
    return cached(
        store, model, "model_report", (as_of,), lambda: _model_report(store, model, generated, as_of)
    )


def _model_report(store: Store, model: Model, generated: datetime, as_of: datetime) -> str:
    title = f"Readiness report: {model.name}"
    assessment, problem = _attempt(lambda: assess_model(store, model, as_of))
    if assessment is None:
        return _page(title, [_model_header(store, model, generated, None), _missing("Readiness", problem)])
    performance, performance_problem = _performance(store, assessment)
    parts = [
        _model_header(store, model, generated, assessment),
        _verdict(assessment),
        _holding_back(assessment),
        _open_items(store, assessment),
        _criteria_section(store, assessment, performance, performance_problem),
        _charts_section(store, assessment, performance, performance_problem),
        _passing_items(store, assessment),
        _how_it_works(assessment.config.bands),
    ]
    return _page(title, parts)


def portfolio_report_html(store: Store, now: datetime | None = None) -> str:
    """Every model's readiness on one self-contained HTML page (built once per data version and hour)."""
    generated, as_of = _moments(now)
    return cached_for_store(
        store, "portfolio_report", (as_of,), lambda: _portfolio_report(store, generated, as_of)
    )


def _portfolio_report(store: Store, generated: datetime, as_of: datetime) -> str:
    rows = _portfolio_rows(store, as_of)
    bands = {r.readiness.config.bands for r in rows if r.readiness is not None}
    parts = [
        _portfolio_header(rows, generated),
        _portfolio_table(rows),
        *(_portfolio_model(r) for r in rows),
        _how_it_works(bands.pop() if len(bands) == 1 else Bands(), per_model=len(bands) > 1),
    ]
    return _page("Readiness report: all models", parts)


def report_filename(model_name: str | None, day: date) -> str:
    """e.g. 'readiness-fraud-2026-12-01.html' / 'readiness-portfolio-2026-12-01.html'.

    >>> report_filename("fraud", date(2026, 12, 1)), report_filename(None, date(2026, 12, 1))
    ('readiness-fraud-2026-12-01.html', 'readiness-portfolio-2026-12-01.html')
    >>> report_filename("../x y", date(2026, 12, 1))
    'readiness-x-y-2026-12-01.html'
    """
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", model_name or "portfolio").strip("-.") or "model"
    return f"readiness-{name}-{day:%Y-%m-%d}.html"


# --------------------------------------------------------------------------- gathering


def _moments(now: datetime | None) -> tuple[datetime, datetime]:
    """The generation time and the assessment's moment (this hour by default), naive UTC."""
    if now is not None and now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    generated = now or utcnow()
    return generated, now or generated.replace(minute=0, second=0, microsecond=0)


def _attempt(build: Callable[[], T]) -> tuple[T | None, str]:
    """The value, or None and the message of the user-caused error that prevented it."""
    try:
        return build(), ""
    except ReadinessError as error:
        return None, str(error)


def _no_log_text(store: Store, assessment: Assessment) -> str:
    """Why there is no log period to look at: no baseline, or no predictions yet."""
    model = assessment.model
    if store.active_baseline(model.id) is None:
        return f"Model {model.name!r} has no baseline yet: upload one on the Data page first."
    return (
        f"Model {model.name!r} has no predictions before {assessment.as_of:%Y-%m-%d %H:%M} UTC: "
        "upload a prediction log on the Data page."
    )


def _performance(store: Store, assessment: Assessment) -> tuple[PerformanceOverview | None, str]:
    """Weekly performance over the newest weeks of the log, or why there is none."""
    if assessment.recent is None:
        return None, _no_log_text(store, assessment)
    end = assessment.recent.end
    start = window_start(end - timedelta(weeks=TREND_WEEKS), "week")
    return _attempt(
        lambda: performance_overview(store, assessment.model, start, end, "week", now=assessment.as_of)
    )


def _history(store: Store, assessment: Assessment) -> pd.DataFrame:
    """Recorded daily scores before the assessment's day, then the assessment itself as the newest point."""
    history = score_history(store, assessment.model)
    day = datetime.combine(assessment.as_of.date(), time())
    current = {
        "day": day,
        "score": assessment.score.score_0_100,
        "status": assessment.score.status.value,
        **{s: assessment.section_percent(s) for s in SECTIONS},
    }
    earlier = history[history["day"] < day].to_dict("records")
    return pd.DataFrame([*earlier, current], columns=list(history.columns))


@dataclass(frozen=True)
class PortfolioRow:
    """One model in the portfolio report: its overview, assessment, and why it could not be assessed."""

    overview: ModelOverview
    problem: str = ""

    @property
    def readiness(self) -> Assessment | None:
        """The model's assessment (None when it could not be assessed)."""
        return self.overview.readiness

    @property
    def rank(self) -> tuple:
        """Sort key, worst first: unassessed, Not ready, At risk, Ready; then lowest score; then name."""
        if self.readiness is None:
            return (-1, -1.0, self.overview.name)
        score = self.readiness.score
        return (
            score.status.rank,
            -1.0 if score.score_0_100 is None else score.score_0_100,
            self.overview.name,
        )


def _portfolio_rows(store: Store, as_of: datetime) -> tuple[PortfolioRow, ...]:
    """Every model's overview with its assessment (not recorded), worst first."""
    rows = []
    for overview in portfolio_overview(store, as_of, readiness=False).models:
        assessment, problem = _attempt(functools.partial(assess_model, store, overview.model, as_of))
        rows.append(PortfolioRow(replace(overview, readiness=assessment), problem))
    return tuple(sorted(rows, key=lambda r: r.rank))


# --------------------------------------------------------------------------- HTML helpers


def _e(value: object) -> str:
    """Data as HTML text: every <, >, &, and quote escaped."""
    return html.escape("" if value is None else str(value), quote=True)


def _link(url: str, text: str | None = None) -> str:
    """An http(s) link as an escaped <a href>; anything else as plain escaped text.

    >>> _link("https://wiki.example.com/a?b=1&c=2")
    '<a href="https://wiki.example.com/a?b=1&amp;c=2">https://wiki.example.com/a?b=1&amp;c=2</a>'
    >>> _link("javascript:alert(1)")
    'javascript:alert(1)'
    >>> _link('https://x.example.com/"><b>', "evidence")
    '<a href="https://x.example.com/&quot;&gt;&lt;b&gt;">evidence</a>'
    """
    shown = _e(text if text is not None else url)
    if url.strip().lower().startswith(("http://", "https://")):
        return f'<a href="{_e(url.strip())}">{shown}</a>'
    return shown


def _slug(text: str) -> str:
    """A CSS class fragment: "Not ready" -> "not-ready"."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _badge(assessment: Assessment | None, big: bool = False) -> str:
    """The status and score as a coloured badge: "Not ready · 38"."""
    if assessment is None:
        return '<span class="badge st-none">Not assessed</span>'
    status = assessment.score.status.label
    size = " big" if big else ""
    return f'<span class="badge st-{_slug(status)}{size}">{_e(status)} · {_e(assessment.score_text)}</span>'


def _pill(status: ItemStatus) -> str:
    """An item's status as a small coloured label."""
    return f'<span class="pill s-{_slug(status.value)}">{_e(status.label)}</span>'


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], css: str = "") -> str:
    """A table from header texts (escaped here) and rows of cells that are already HTML."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _missing(what: str, problem: str) -> str:
    """A note saying a part of the report is missing, and why."""
    return f'<p class="missing"><strong>{_e(what)}: not available.</strong> {_e(problem)}</p>'


def _and(words: Sequence[str]) -> str:
    """Words as a list for people.

    >>> _and(["Data"]), _and(["Data", "Model"]), _and(["Data", "Model", "Monitoring"])
    ('Data', 'Data and Model', 'Data, Model and Monitoring')
    """
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _num(value: object) -> str:
    """A number for people: 0.250, 15.53, 1,754; "n/a" when missing."""
    if value is None or (isinstance(value, float) and value != value):
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _e(value)
    number = float(value)
    if abs(number) < 10:
        return f"{number:.3f}"
    return f"{number:,.4g}" if abs(number) < 1000 else f"{number:,.0f}"


def _percent(value: float | None) -> str:
    """A section score in percent, "n/a" when nothing in the section applies."""
    return "n/a" if value is None else f"{value:.0f}%"


def _section_title(section: str) -> str:
    """ "operations" -> "Operations"."""
    return charts.SECTION_TITLES.get(section, section.capitalize())


def _figure_html(figure: go.Figure, number: int) -> str:
    """A plotly figure as a div with a stable id; only the page's first figure (0) carries plotly.js."""
    height = f"{figure.layout.height or 420}px"
    return pio.to_html(
        figure,
        full_html=False,
        include_plotlyjs=number == 0,
        config=PLOT_CONFIG,
        default_width="100%",
        default_height=height,
        div_id=f"chart-{number}",
    )


def _page(title: str, parts: Sequence[str]) -> str:
    """The whole page: head with inline CSS, then the parts in order."""
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(parts)
        + "\n</main>\n</body>\n</html>\n"
    )


# --------------------------------------------------------------------------- model report parts


def _model_header(store: Store, model: Model, generated: datetime, assessment: Assessment | None) -> str:
    """Title, generation time, data period and what the model is."""
    positive = f" (positive class {model.positive_class})" if model.positive_class else ""
    facts = [
        ("Task", model.task + positive),
        ("Owner", model.owner or "not set"),
        ("Description", model.description or "none"),
        ("Data", _data_period(store, model)),
        ("Checked", _checked_periods(assessment) if assessment else "not assessed"),
    ]
    rows = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts)
    return (
        f"<header><h1>Readiness report: {_e(model.name)}</h1>"
        f'<p class="meta">Generated {generated:%Y-%m-%d %H:%M} UTC'
        + (f" · assessed {assessment.judged_as_of}" if assessment else "")
        + f'</p><dl class="facts">{rows}</dl></header>'
    )


def _data_period(store: Store, model: Model) -> str:
    """The logged predictions in words: count, first and last day, label coverage, baseline."""
    stats = next(s for s in store.model_stats() if s.model.id == model.id)
    baseline = f"baseline of {stats.baseline_rows:,} rows" if stats.baseline_rows else "no baseline yet"
    if not stats.n_predictions:
        return f"No predictions logged yet; {baseline}."
    coverage = f"{stats.label_coverage:.0%}" if stats.label_coverage is not None else "n/a"
    return (
        f"{stats.n_predictions:,} predictions from {stats.first_timestamp:%Y-%m-%d} to "
        f"{stats.last_timestamp:%Y-%m-%d} (UTC); labels for {coverage}; {baseline}."
    )


def _checked_periods(assessment: Assessment) -> str:
    """Which days the checks looked at."""
    if assessment.recent is None:
        return "nothing yet: no logged predictions to check"
    margins = assessment.config.margins
    end = assessment.recent.end - timedelta(days=1)
    drift = f"drift in {assessment.drift.period}; " if assessment.drift is not None else ""
    return (
        f"{drift}data quality and latency on {assessment.recent.text}; performance, volume and outputs "
        f"on the {margins.lookback_days} days to {end:%Y-%m-%d}"
    )


def _weakest(assessment: Assessment) -> list[str]:
    """The sections whose score is the readiness score."""
    percents = {s: assessment.section_percent(s) for s in SECTIONS}
    scored = {s: p for s, p in percents.items() if p is not None}
    low = min(scored.values(), default=None)
    return [s for s, p in scored.items() if p == low]


def _verdict(assessment: Assessment) -> str:
    """The big badge with the section scores beside it, and why the status is what it is."""
    weakest = _weakest(assessment)
    rows = []
    for s in assessment.score.sections:
        mark = " (weakest)" if s.section in weakest else ""
        points = f"{s.points:g} of {s.applicable} points" if s.applicable else "nothing applies"
        percent = _percent(assessment.section_percent(s.section))
        rows.append([f"{_e(_section_title(s.section))}{mark}", percent, _e(points)])
    return (
        f'<section class="verdict"><div class="verdict-badge">{_badge(assessment, big=True)}'
        f'<p class="why">{_e(_status_reason(assessment, weakest))}</p></div>'
        f'<div class="verdict-sections">{_table(["Section", "Score", "Points"], rows, "sections")}</div>'
        "</section>"
    )


def _status_reason(assessment: Assessment, weakest: list[str]) -> str:
    """One or two sentences: where the score comes from and why the status follows."""
    score, bands = assessment.score, assessment.config.bands
    if score.score_0_100 is None:
        return "No checklist item applies yet, so there is no score."
    names = _and([_section_title(s) for s in weakest]) if len(weakest) < len(SECTIONS) else "every section"
    text = (
        f"The score is the weakest section's: {names} at {score.score_0_100:.0f}%, because all four matter."
    )
    if score.critical_failures:
        failed = "; ".join(r.item.title for r in score.critical_failures)
        return f"{text} A critical item fails ({failed}), so the model is Not ready whatever the score."
    band = (
        f"from {bands.ready:g}"
        if score.status == ReadinessStatus.READY
        else f"from {bands.at_risk:g} to under {bands.ready:g}"
        if score.status == ReadinessStatus.AT_RISK
        else f"under {bands.at_risk:g}"
    )
    return f"{text} {score.status.label} is the band {band}."


def _holding_back(assessment: Assessment) -> str:
    """The critical failures and the one or two items holding the model back, with what would fix them."""
    score = assessment.score
    first = {r.item.key: r for r in (*score.critical_failures, *score.blockers)}
    if not first:
        return (
            '<section class="first"><h2>What holds it back</h2>'
            "<p>Nothing: every applicable item passes or is attested.</p></section>"
        )
    cards = "".join(_item_card(r) for r in first.values())
    return f'<section class="first"><h2>What holds it back</h2>{cards}</section>'


def _item_card(result: ItemResult) -> str:
    """One item to fix: title, status, finding, evidence and what would make it pass."""
    critical = '<span class="pill s-critical">Critical</span> ' if result.item.critical else ""
    return (
        f'<div class="card"><h3>{critical}{_pill(result.status)} {_e(result.item.title)}</h3>'
        f"<p><strong>Finding:</strong> {_e(result.reason)}</p>"
        f"<p><strong>Evidence:</strong> {_evidence(result)}</p>"
        f"<p><strong>To pass:</strong> {_e(result.item.how_to_pass)}</p></div>"
    )


def _evidence(result: ItemResult) -> str:
    """The evidence figure, its window and where the app shows it, in one line."""
    ev = result.evidence
    if ev is None:
        return "none recorded"
    parts = [_e(ev.figure)] if ev.figure else []
    if ev.window:
        parts.append(f"window: {_e(ev.window)}")
    if ev.page:
        parts.append(f"shown on the {_e(ev.page)} page")
    if ev.link:
        parts.append(f"link: {_link(ev.link)}")
    return "; ".join(parts) or "none recorded"


def _open_items(store: Store, assessment: Assessment) -> str:
    """Every failing, unknown or expired item with its finding, evidence, window, page and fix."""
    notes = _notes(store, assessment)
    rows = [
        [
            _e(_section_title(r.item.section)),
            _e(r.item.title) + (' <span class="pill s-critical">Critical</span>' if r.item.critical else ""),
            _pill(r.status),
            _e(r.reason) + notes.get(r.item.key, ""),
            _e(r.evidence.figure) if r.evidence else "",
            _e(r.evidence.window) if r.evidence else "",
            _where(r),
            _e(r.item.how_to_pass),
        ]
        for r in assessment.results
        if r.status.holds_back
    ]
    if not rows:
        return (
            "<section><h2>Items not passing (0)</h2>"
            "<p>None: every applicable item passes or is attested.</p></section>"
        )
    headers = [
        "Section",
        "Item",
        "Status",
        "Finding",
        "Evidence",
        "Window",
        "Where in the app",
        "What would make it pass",
    ]
    return (
        f"<section><h2>Items not passing ({len(rows)})</h2>"
        "<p>Failures, unknowns (not enough data, or not attested yet) and expired attestations "
        "all score 0.</p>"
        f"{_table(headers, rows, 'items')}</section>"
    )


def _where(result: ItemResult) -> str:
    """The app page that shows an item's evidence, and its evidence link."""
    ev = result.evidence
    if ev is None:
        return "Checklist page"
    page = f"{_e(ev.page)} page" if ev.page else ""
    link = _link(ev.link) if ev.link else ""
    return "<br>".join(p for p in (page, link) if p)


def _notes(store: Store, assessment: Assessment) -> dict[str, str]:
    """Attestation notes by item key, as escaped HTML to append to a finding."""
    found = current_attestations(store, assessment.model.id, assessment.as_of.date())
    return {
        key: f'<br><span class="note">Note: {_e(att.note)}</span>' for key, att in found.items() if att.note
    }


def _criteria_section(
    store: Store, assessment: Assessment, performance: PerformanceOverview | None, problem: str
) -> str:
    """The success criteria with their status in the newest complete window (or why they are not judged)."""
    if performance is None:
        criteria, _ = _attempt(lambda: model_criteria(store, assessment.model))
        listed = "".join(
            f"<li>{_e(c.text)}{' (task default)' if c.is_default else ''}</li>" for c in criteria or ()
        )
        return (
            f"<section><h2>Success criteria</h2>{_missing('Criteria status', problem)}"
            + (f"<ul>{listed}</ul>" if listed else "")
            + "</section>"
        )
    rows = [_criterion_cells(track) for track in performance.criteria]
    headers = ["Criterion", "Status", "Week from", "Value [95% interval]", "Rows", "Last judged"]
    return (
        f'<section><h2>Success criteria</h2><p>Status in the newest complete week; "last judged" is '
        f"the newest week with enough labels (labels arrive late). Checklist verdict on the criteria: "
        f"{_e(assessment.criteria_status.label)}.</p>{_table(headers, rows, 'criteria')}</section>"
    )


def _criterion_cells(track: CriterionTrack) -> list[str]:
    """One criterion's row: text, current status, window, value with interval, rows, last judged."""
    current, judged = track.current, track.latest_judged
    status = current.status if current else CriterionStatus.INSUFFICIENT
    return [
        _e(track.criterion.text) + (" (task default)" if track.criterion.is_default else ""),
        _pill_text(status.label),
        _e(f"{track.current_window:%Y-%m-%d}" if track.current_window else ""),
        _value_interval(current.value, current.lower, current.upper) if current else "n/a",
        f"{current.n if current else 0:,}",
        _e(f"{judged[1].status.label} ({judged[0]:%Y-%m-%d})" if judged else ""),
    ]


def _pill_text(status: str) -> str:
    """A status in words ("pass", "insufficient data", "drift") as a coloured label."""
    return f'<span class="pill s-{_slug(status)}">{_e(status)}</span>'


def _value_interval(value: object, lower: object, upper: object) -> str:
    """ "0.250 [0.127, 0.434]", or "n/a"."""
    if value is None or value != value:
        return "n/a"
    if lower is None or upper is None or lower != lower or upper != upper:
        return _num(value)
    return f"{_num(value)} [{_num(lower)}, {_num(upper)}]"


# --------------------------------------------------------------------------- charts


@dataclass(frozen=True)
class Chart:
    """One chart of the report: a figure with a caption, or a note saying why it is missing."""

    title: str
    figure: go.Figure | None
    note: str = ""
    wide: bool = True


def _charts_section(
    store: Store, assessment: Assessment, performance: PerformanceOverview | None, problem: str
) -> str:
    """The key charts (plotly.js inlined with the first) and the drift table."""
    bands = assessment.config.bands
    chart_list = [
        Chart("Readiness score", charts.score_gauge(assessment), wide=False),
        Chart("Section scores (the weakest decides)", charts.section_gauges_grid(assessment), wide=False),
        Chart(
            "Score history",
            charts.score_history_figure(_history(store, assessment), bands),
            "Recorded daily scores; the newest point is this report's assessment.",
        ),
        _trend_chart(performance, problem),
    ]
    return (
        f'<section class="charts"><h2>Key charts</h2><div class="grid">{_render_charts(chart_list)}</div>'
        f"{_drift_section(store, assessment)}</section>"
    )


def _render_charts(chart_list: Sequence[Chart]) -> str:
    """Each chart as a figure block; plotly.js goes with the first figure only."""
    out, drawn = [], 0
    for chart in chart_list:
        css = "chart wide" if chart.wide else "chart"
        if chart.figure is None:
            missing = _missing(chart.title, chart.note)
            out.append(f'<div class="{css}"><h3>{_e(chart.title)}</h3>{missing}</div>')
            continue
        caption = f'<p class="caption">{_e(chart.note)}</p>' if chart.note else ""
        out.append(
            f'<div class="{css}"><h3>{_e(chart.title)}</h3>{_figure_html(chart.figure, drawn)}{caption}</div>'
        )
        drawn += 1
    return "".join(out)


def _trend_chart(performance: PerformanceOverview | None, problem: str) -> Chart:
    """The primary criterion's metric per week against its threshold."""
    title = "Primary metric per week"
    if performance is None:
        return Chart(title, None, problem)
    primary = primary_criterion([track.criterion for track in performance.criteria])
    if primary is None:
        return Chart(
            title,
            None,
            "No success criterion needs labels, so there is no quality metric to "
            "follow: set one on the Settings page.",
        )
    figure = charts.metric_trend_figure(performance, primary.metric, primary.threshold, primary.comparison)
    return Chart(
        f"Primary metric: {primary.metric}",
        figure,
        f"Criterion: {primary.text}. Weeks from {performance.start:%Y-%m-%d}; the band is the 95% interval.",
    )


def _drift_section(store: Store, assessment: Assessment) -> str:
    """What drifts in the latest complete window and since when, as on the Drift page and the checklist."""
    now = assessment.drift
    if now is None or now.start is None:
        return f"<h3>Drift now</h3>{_missing('Drift', _no_log_text(store, assessment))}"
    shown = now.columns[:DRIFT_ROWS]
    rows = [_drift_cells(column, now) for column in shown]
    headers = ["Column", "Now", "Since / recovered", "What changed"]
    return (
        f"<h3>Drift now ({_e(now.period)})</h3><p>{len(now.drifting)} of {now.n_analyzed} columns drift "
        f"against the baseline ({now.n_rows:,} predictions in the window); the {len(rows)} most "
        f"relevant are shown (all on the Drift page).</p>{_table(headers, rows, 'drift')}"
    )


def _drift_cells(c: ColumnNow, now: DriftNow) -> list[str]:
    """One column's row of the drift table."""
    verdict = "drift" if c.drifting else ("ok" if c.analyzed else "not analyzed")
    return [_e(c.column), _pill_text(verdict), _e(run_text(c, now)), _e(c.explanation)]


# --------------------------------------------------------------------------- passing items and footer


def _passing_items(store: Store, assessment: Assessment) -> str:
    """Passing, attested and not-applicable items, compactly, per section."""
    notes = _notes(store, assessment)
    blocks = []
    for section in SECTIONS:
        done = [r for r in assessment.by_section(section) if not r.status.holds_back]
        if not done:
            continue
        items = "".join(
            f"<li>{_pill(r.status)} {_e(r.item.title)}{_passing_detail(r)}{notes.get(r.item.key, '')}</li>"
            for r in done
        )
        blocks.append(f'<h3>{_e(_section_title(section))}</h3><ul class="compact">{items}</ul>')
    if not blocks:
        return "<section><h2>Passing items</h2><p>None yet.</p></section>"
    return f'<section class="passing"><h2>Passing items</h2>{"".join(blocks)}</section>'


def _passing_detail(result: ItemResult) -> str:
    """A short tail for a passing item: who attested it and until when, or why it does not apply."""
    ev = result.evidence
    if result.status == ItemStatus.NOT_APPLICABLE:
        return f" — {_e(result.reason)}"
    if result.status == ItemStatus.ATTESTED and ev is not None:
        link = f", {_link(ev.link, 'evidence')}" if ev.link else ""
        return f" — {_e(ev.figure)}, {_e(ev.window)}{link}"
    return f" — {_e(ev.figure)}" if ev is not None and ev.figure else ""


def _how_it_works(bands: Bands, per_model: bool = False) -> str:
    """The footer: how points, sections, the score and the status are computed."""
    own = " (defaults; some models set their own)" if per_model else ""
    return (
        "<footer><h2>How the score works</h2><ul>"
        "<li>Each checklist item scores points: an automatic check that passes 1, a valid attestation 1/2, "
        "a failure, an unknown (not enough data, or not attested) or an expired attestation 0.</li>"
        "<li>Items marked not applicable (with a reason) leave the denominator.</li>"
        "<li>A section's score is its share of points; there are four sections: data, model, operations "
        "and monitoring.</li>"
        "<li>The readiness score (0-100) is the <strong>weakest section's</strong>, because all four "
        "matter.</li>"
        f"<li>Bands{own}: Ready from {bands.ready:g}, At risk from {bands.at_risk:g}, Not ready below "
        f"{bands.at_risk:g}.</li>"
        "<li>Any failed critical item makes the model Not ready, whatever the score.</li>"
        "</ul></footer>"
    )


# --------------------------------------------------------------------------- portfolio parts


def _portfolio_header(rows: Sequence[PortfolioRow], generated: datetime) -> str:
    """Title, generation time, status counts and the overall data period."""
    counts = dict.fromkeys(sorted(ReadinessStatus, key=lambda s: s.rank), 0)
    for r in rows:
        if r.readiness is not None:
            counts[r.readiness.score.status] += 1
    firsts = [r.overview.first_timestamp for r in rows if r.overview.first_timestamp is not None]
    lasts = [r.overview.last_timestamp for r in rows if r.overview.last_timestamp is not None]
    period = (
        f"predictions from {min(firsts):%Y-%m-%d} to {max(lasts):%Y-%m-%d} (UTC)"
        if firsts
        else "no predictions logged yet"
    )
    summary = ", ".join(f"{n} {status.label}" for status, n in counts.items())
    models = f"{len(rows)} model{'' if len(rows) == 1 else 's'}"
    return (
        f'<header><h1>Readiness report: all models</h1><p class="meta">Generated '
        f"{generated:%Y-%m-%d %H:%M} UTC · {models}: {_e(summary)} · {_e(period)}</p></header>"
    )


def _portfolio_table(rows: Sequence[PortfolioRow]) -> str:
    """One row per model, worst status first."""
    if not rows:
        return "<section><p>No models yet: upload a baseline on the Data page to create one.</p></section>"
    headers = [
        "Model",
        "Status",
        "Score",
        *(_section_title(s) for s in SECTIONS),
        "Holding it back",
        "Drift",
        "Criteria",
        "Freshness",
        "Predictions",
    ]
    table = _table(headers, (_portfolio_cells(r) for r in rows), "portfolio")
    return f"<section><h2>Models, worst first</h2>{table}</section>"


def _portfolio_cells(row: PortfolioRow) -> list[str]:
    """The cells of one model's row."""
    ov, a = row.overview, row.readiness
    name = f'<a href="#model-{_e(ov.name)}">{_e(ov.name)}</a>'
    sections = [_percent(a.section_percent(s)) if a else "n/a" for s in SECTIONS]
    hours = f" ({ov.freshness_hours:,.1f} h)" if ov.freshness_hours is not None else ""
    coverage = f"; labels {ov.label_coverage:.0%}" if ov.label_coverage is not None else ""
    return [
        name,
        _badge(a),
        _e(a.score_text if a else "n/a"),
        *sections,
        _e(ov.holding_back or ("none" if a else row.problem)),
        _e(ov.drift_text),
        _e(ov.criteria_text),
        _e(ov.freshness.label + hours),
        _e(f"{ov.n_predictions:,}{coverage}"),
    ]


def _portfolio_model(row: PortfolioRow) -> str:
    """A compact section per model: status, what it is, critical failures and blockers."""
    ov, a = row.overview, row.readiness
    head = (
        f'<section class="model" id="model-{_e(ov.name)}"><h2>{_e(ov.name)} {_badge(a)}</h2>'
        f'<p class="meta">{_e(ov.task)} · owner {_e(ov.owner or "not set")} · {_e(ov.summary)}</p>'
        f"<p>{_e(ov.description)}</p>"
    )
    if a is None:
        return head + _missing("Readiness", row.problem) + "</section>"
    critical = "".join(f"<li>{_e(r.item.title)}: {_e(r.reason)}</li>" for r in a.score.critical_failures)
    blockers = "".join(
        f"<li>{_pill(r.status)} {_e(r.item.title)}: {_e(r.reason)} <em>To pass:</em> "
        f"{_e(r.item.how_to_pass)}</li>"
        for r in a.score.blockers
    )
    return (
        head
        + f"<p>{_e(_status_reason(a, _weakest(a)))}</p>"
        + (f"<h3>Critical failures</h3><ul>{critical}</ul>" if critical else "")
        + (f"<h3>Holding it back</h3><ul>{blockers}</ul>" if blockers else "<p>Nothing holds it back.</p>")
        + "</section>"
    )


CSS = """
:root { --ready: #2ca02c; --risk: #e6a100; --not: #b2182b; --muted: #6b6b6b; --line: #dddddd; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f7f9; color: #1d1d1f;
       font: 15px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 40px; background: #ffffff; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 28px 0 10px; border-bottom: 2px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 16px; margin: 16px 0 6px; }
.meta { color: var(--muted); margin: 0 0 12px; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0 0; }
.facts dt { font-weight: 600; color: var(--muted); }
.facts dd { margin: 0; }
.verdict { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; margin-top: 20px;
           padding: 16px; border: 1px solid var(--line); border-radius: 8px; }
.verdict-badge { flex: 1 1 320px; }
.verdict-sections { flex: 1 1 360px; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 999px; color: #ffffff; font-weight: 700;
         white-space: nowrap; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.badge.big { font-size: 34px; padding: 8px 22px; border-radius: 12px; }
.st-ready { background: var(--ready); } .st-at-risk { background: var(--risk); color: #1d1d1f; }
.st-not-ready { background: var(--not); } .st-none { background: var(--muted); }
.why { margin: 12px 0 0; }
.pill { display: inline-block; padding: 0 7px; border-radius: 4px; font-size: 12px; font-weight: 600;
        border: 1px solid currentColor; white-space: nowrap; }
.s-pass, .s-ok, .s-attested { color: #1e7b1e; }
.s-fail, .s-drift, .s-critical, .s-expired { color: var(--not); }
.s-unknown, .s-insufficient-data, .s-not-applicable, .s-not-analyzed { color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 13.5px; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #f0f2f5; font-weight: 600; }
table.sections td:nth-child(2) { font-weight: 700; }
.card { border: 1px solid var(--line); border-left: 5px solid var(--not); border-radius: 6px;
        padding: 8px 14px; margin: 8px 0; }
.card h3 { margin: 4px 0 6px; } .card p { margin: 4px 0; }
.note { color: var(--muted); font-style: italic; }
.missing { background: #fff6e0; border: 1px solid #f0d68a; border-radius: 6px; padding: 8px 12px; }
.grid { display: grid; grid-template-columns: 1fr 2fr; gap: 12px 20px; }
.chart { min-width: 0; } .chart.wide { grid-column: 1 / -1; }
.caption { color: var(--muted); font-size: 13px; margin: 2px 0 8px; }
ul.compact { margin: 4px 0 10px; padding-left: 20px; } ul.compact li { margin: 2px 0; }
section.model { border-top: 1px solid var(--line); }
footer { margin-top: 32px; color: #333333; font-size: 14px; }
a { color: #1f5fa8; }
@media (max-width: 800px) { .grid { grid-template-columns: 1fr; } }
@page { size: A4; margin: 12mm; }
@media print {
  body { background: #ffffff; font-size: 11pt; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  .card, .chart, tr, .verdict { break-inside: avoid; }
  .grid { grid-template-columns: 1fr 2fr; }
  a { color: inherit; }
  td a[href^="http"]::after { content: " (" attr(href) ")"; font-size: 9pt; word-break: break-all; }
}
"""
