"""The one-page HTML readiness report: content, ordering, offline-ness and escaping."""

from __future__ import annotations

import html
import re
from datetime import date, datetime

import numpy as np
import pytest

from readiness.analysis.assessment import assess_model, score_history
from readiness.analysis.ingest import ModelSpec, ingest_csv
from readiness.analysis.report import model_report_html, portfolio_report_html, report_filename
from readiness.analysis.settings import attest
from readiness.cli import main
from readiness.core.status import ItemStatus, ReadinessStatus
from readiness.errors import ReadinessError, UnknownModelError
from readiness.storage.store import Store

TODAY = date(2026, 11, 15)
NOW = datetime(2026, 11, 15, 9)
EXPECTED_STATUS = {
    "fraud": ReadinessStatus.NOT_READY,
    "credit": ReadinessStatus.READY,
    "demand": ReadinessStatus.AT_RISK,
    "ticket-router": ReadinessStatus.READY,
}
OPEN = (ItemStatus.FAIL, ItemStatus.UNKNOWN, ItemStatus.EXPIRED)
EVIDENCE_SITE = "https://wiki.example.com/ml/"
PLOTLY_BANNER = "* plotly.js v"


@pytest.fixture(scope="module")
def demo(demo_path) -> Store:
    """The shared seeded demo (four models, 90 days of logs) as of 2026-11-15."""
    store = Store.open(f"sqlite:///{demo_path}")
    yield store
    store.engine.dispose()


@pytest.fixture(scope="module")
def reports(demo) -> dict[str, str]:
    """Each demo model's report, and the portfolio report under the key None."""
    pages = {name: model_report_html(demo, demo.get_model(name), now=NOW) for name in EXPECTED_STATUS}
    pages[None] = portfolio_report_html(demo, now=NOW)
    return pages


def without_plotly_js(page: str) -> str:
    """The page with the inlined plotly.js bundle cut out (the library names map tile servers)."""
    at = page.find(PLOTLY_BANNER)
    if at < 0:
        return page
    start = page.rfind("<script>", 0, at)
    end = page.index("</script>", at) + len("</script>")
    return page[:start] + page[end:]


def section(page: str, heading: str) -> str:
    """The HTML from an <h2> heading to the next one."""
    start = page.index(f"<h2>{heading}")
    following = page.find("<h2>", start + 4)
    return page[start : following if following > 0 else len(page)]


def badge(status: ReadinessStatus | str, score: str) -> str:
    """The status badge's text as the page carries it (the status in words)."""
    return f"{getattr(status, 'label', status)} · {score}"


def assessed(store: Store, name: str):
    """The model's assessment as of the report's moment."""
    return assess_model(store, store.get_model(name), NOW)


# --------------------------------------------------------------------------- each model


@pytest.mark.parametrize("name", list(EXPECTED_STATUS))
def test_model_report_shows_title_status_and_score(demo, reports, name):
    page = reports[name]
    expected = assessed(demo, name)
    assert expected.score.status == EXPECTED_STATUS[name]
    assert f"<title>Readiness report: {name}</title>" in page
    assert f"<h1>Readiness report: {name}</h1>" in page
    assert f'big">{badge(EXPECTED_STATUS[name], expected.score_text)}</span>' in page
    assert "Generated 2026-11-15 09:00 UTC" in page
    assert "predictions from 2026-08-17 to 2026-11-14 (UTC)" in page
    assert html.escape(expected.model.owner) in page and html.escape(expected.model.description) in page
    assert "The score is the weakest section" in page


@pytest.mark.parametrize("name", list(EXPECTED_STATUS))
def test_every_open_item_is_listed_with_its_finding_and_how_to_pass(demo, reports, name):
    open_items = section(reports[name], "Items not passing")
    results = assessed(demo, name).results
    failing = [r for r in results if r.status in OPEN]
    assert f"Items not passing ({len(failing)})" in open_items
    for result in failing:
        assert html.escape(result.item.title) in open_items
        assert html.escape(result.reason) in open_items
        assert html.escape(result.item.how_to_pass) in open_items
        if result.evidence is not None:
            assert html.escape(result.evidence.figure) in open_items
    passing = [r for r in results if r.status not in OPEN]
    for result in passing:
        assert html.escape(result.item.title) not in open_items
        assert html.escape(result.item.title) in section(reports[name], "Passing items")


def test_ticket_router_report_is_ready_on_its_multiclass_criteria(demo, reports):
    page = reports["ticket-router"]
    assert "<dt>Task</dt><dd>multiclass</dd>" in page
    assert "Nothing: every applicable item passes or is attested." in section(page, "What holds it back")
    criteria = section(page, "Success criteria")
    assert "Checklist verdict on the criteria: met." in criteria
    for text in ("macro_f1 &gt;= 0.72 per week", "accuracy &gt;= 0.75 per week"):
        assert text in criteria
    assert "fail" not in re.sub(r"<[^>]+>", " ", criteria).split()


def test_fraud_report_leads_with_its_critical_failure(demo, reports):
    page = reports["fraud"]
    first = section(page, "What holds it back")
    criteria = assessed(demo, "fraud").result("criteria_met")
    assert criteria.status == ItemStatus.FAIL and criteria.item.critical
    assert "Critical" in first and html.escape(criteria.item.title) in first
    assert html.escape(criteria.item.how_to_pass) in first
    assert "recall &gt;= 0.75" in first
    assert page.index("What holds it back") < page.index("Items not passing") < page.index("Success criteria")
    assert "A critical item fails" in page and "Not ready whatever the score" in page


def test_demand_report_names_its_missing_attestations(demo, reports):
    first = section(reports["demand"], "What holds it back")
    assessment = assessed(demo, "demand")
    for key in ("rollback_drill", "on_call_runbook"):
        item = assessment.result(key)
        assert item.status == ItemStatus.UNKNOWN
        assert html.escape(item.item.title) in first and html.escape(item.item.how_to_pass) in first
    expired = section(reports["demand"], "Items not passing")
    assert "Expired" in expired and "Attestation expired on" in expired
    assert "Operations at 67%" in reports["demand"]


def test_credit_report_has_nothing_holding_it_back(reports):
    first = section(reports["credit"], "What holds it back")
    assert "Nothing: every applicable item passes or is attested." in first
    assert "<h2>Items not passing (0)</h2><p>None:" in reports["credit"]


def test_success_criteria_table(reports):
    criteria = section(reports["fraud"], "Success criteria")
    assert "<table" in criteria
    row = r"<tr><td>recall &gt;= 0.75 per week, with at least 50 labels</td>(.*?)</tr>"
    recall = re.search(row, criteria)
    assert recall is not None and "fail" in recall.group(1) and "0.250 [" in recall.group(1)
    assert "false_positive_rate &lt;= 0.05 per week" in criteria
    assert "mae &lt;= 19 per week" in section(reports["demand"], "Success criteria")


def test_key_charts_and_drift_table(reports):
    charts = section(reports["fraud"], "Key charts")
    for title in ("Readiness score", "Section scores", "Score history", "Primary metric: recall"):
        assert title in charts
    assert "Criterion: recall &gt;= 0.75 per week" in charts
    drift = charts[charts.index("Drift now") :]
    assert "the week of 2 Nov 2026" in drift  # the latest week complete on Sunday 15 Nov at 09:00
    assert drift.index("<td>device_trust</td>") < drift.index("<td>amount</td>")  # drifting first
    assert re.search(
        r"<td>device_trust</td><td>.*?drift.*?</td><td>since \d+ \w+ 2026 \(\d+ weeks\)</td>", drift
    )


@pytest.mark.parametrize("name", list(EXPECTED_STATUS))
def test_plotly_is_inlined_once_and_nothing_is_fetched(reports, name):
    page = reports[name]
    assert page.count(PLOTLY_BANNER) == 1
    assert page.count("Plotly.newPlot(") == 4
    rest = without_plotly_js(page)
    assert PLOTLY_BANNER not in rest and "Plotly.newPlot(" in rest
    assert not re.search(r"<script[^>]*\ssrc\s*=", page, re.I)
    assert not re.search(r"<(link|img|iframe)\b", page, re.I)
    assert not re.search(r'src="https?:', rest, re.I)
    assert not re.search(r"cdn|@import|url\(", rest, re.I)
    links = re.findall(r'href="(http[^"]*)"', rest, re.I)
    assert all(link.startswith(EVIDENCE_SITE) for link in links)
    assert "@media print" in page


def test_report_does_not_record_a_score(demo, reports):
    fraud = demo.get_model("fraud")
    before = score_history(demo, fraud)
    model_report_html(demo, fraud, now=datetime(2026, 11, 16, 9))
    portfolio_report_html(demo, now=datetime(2026, 11, 16, 9))
    assert score_history(demo, fraud).equals(before)


def test_same_inputs_give_the_same_page(demo, reports):
    assert model_report_html(demo, demo.get_model("demand"), now=NOW) == reports["demand"]


# --------------------------------------------------------------------------- portfolio


def test_portfolio_lists_every_model_worst_first(demo, reports):
    page = reports[None]
    assert "<title>Readiness report: all models</title>" in page
    table = section(page, "Models, worst first")
    # worst first; credit and ticket-router are both Ready at 81, in name order
    order = [table.index(f'href="#model-{name}"') for name in ("fraud", "demand", "credit", "ticket-router")]
    assert order == sorted(order)
    for name, status in EXPECTED_STATUS.items():
        assessment = assessed(demo, name)
        assert f">{badge(status, assessment.score_text)}</span>" in table
        assert f'id="model-{name}"' in page
    assert "failing: recall &gt;= 0.75" in table and "device_trust" in table
    assert "4 models: 1 Not ready, 1 At risk, 2 Ready" in page
    demand = page[page.index('id="model-demand"') : page.index('id="model-ticket-router"')]
    assert "Holding it back" in demand and "Rolling back to the previous model has been rehearsed" in demand
    assert not re.search(r"<script[^>]*\ssrc\s*=|<link\b|<img\b|cdn", page, re.I)


def test_portfolio_of_an_empty_store(sqlite_store):
    page = portfolio_report_html(sqlite_store, now=NOW)
    assert "0 models" in page and "No models yet" in page


# --------------------------------------------------------------------------- hostile and missing data


def _csv(header: str, rows: list[str]) -> bytes:
    """CSV bytes from a header line and data lines."""
    return "\n".join([header, *rows]).encode()


def _hostile_model(store: Store) -> None:
    """A model whose owner, description, feature name, attestation link and note are hostile strings."""
    rng = np.random.default_rng(0)
    scores = rng.random(300)
    kinds = rng.choice(["a", "b"], size=300)
    rows = [
        f"{rng.normal():.3f},{k},{int(p > 0.5)},{p:.3f},{int(rng.random() < p)}"
        for k, p in zip(kinds, scores, strict=True)
    ]
    spec = ModelSpec("binary", "1", owner='"&<>', description="<script>alert(1)</script>")
    ingest_csv(
        store,
        "evil",
        "baseline",
        _csv("amount,<i>x</i>,prediction,score,label", rows),
        "b.csv",
        new_model=spec,
    )
    live = [
        f"2026-11-{10 + i % 4:02d}T10:00:00Z,{rng.normal():.3f},{k},{int(p > 0.5)},{p:.3f}"
        for i, (k, p) in enumerate(zip(kinds, scores, strict=True))
    ]
    ingest_csv(store, "evil", "live", _csv("timestamp,amount,<i>x</i>,prediction,score", live), "l.csv")
    attest(
        store,
        store.get_model("evil"),
        "model_card",
        "<b>Ann</b>",
        'https://wiki.example.com/card"onmouseover="alert(1)',
        today=date(2026, 11, 1),
        note="<img src=x onerror=alert(1)>",
    )


def test_hostile_strings_are_escaped(sqlite_store):
    _hostile_model(sqlite_store)
    evil = sqlite_store.get_model("evil")
    pages = (model_report_html(sqlite_store, evil, now=NOW), portfolio_report_html(sqlite_store, now=NOW))
    for page in pages:
        rest = without_plotly_js(page)
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rest
        assert "&quot;&amp;&lt;&gt;" in rest
        assert "<b>Ann</b>" not in rest and "<i>x</i>" not in rest and "<img" not in rest
    model_page = without_plotly_js(model_report_html(sqlite_store, evil, now=NOW))
    assert "&lt;i&gt;x&lt;/i&gt;" in model_page  # the feature, in the drift table
    assert "&lt;b&gt;Ann&lt;/b&gt;" in model_page and "&lt;img src=x onerror=alert(1)&gt;" in model_page
    assert 'href="https://wiki.example.com/card&quot;onmouseover=&quot;alert(1)"' in model_page
    assert 'onmouseover="' not in model_page


def test_model_without_baseline_still_gets_a_report(sqlite_store):
    newbie = sqlite_store.create_model("newbie", "binary", "yes", owner="Ana", description="Not built yet.")
    page = model_report_html(sqlite_store, newbie, now=NOW)
    assert "<title>Readiness report: newbie</title>" in page
    assert f'big">{badge(ReadinessStatus.NOT_READY, "0")}</span>' in page
    assert "No predictions logged yet; no baseline yet." in page
    missing = "has no baseline yet: upload one on the Data page first."
    assert page.count(missing) >= 3  # criteria, trend, drift
    assert "roc_auc &gt;= 0.70 per week, with at least 100 labels (task default)" in page
    assert "How the score works" in page and page.count(PLOTLY_BANNER) == 1


def test_model_without_predictions_says_so(sqlite_store):
    rows = [f"{i},{i % 2},0.{i % 9 + 1},{i % 2}" for i in range(50)]
    ingest_csv(
        sqlite_store,
        "quiet",
        "baseline",
        _csv("amount,prediction,score,label", rows),
        "b.csv",
        new_model=ModelSpec("binary", "1"),
    )
    page = model_report_html(sqlite_store, sqlite_store.get_model("quiet"), now=NOW)
    assert "No predictions logged yet; baseline of 50 rows." in page
    assert "has no predictions before 2026-11-15 09:00 UTC" in page
    portfolio = portfolio_report_html(sqlite_store, now=NOW)
    assert 'id="model-quiet"' in portfolio and "no predictions yet" in portfolio


def test_unknown_model_is_a_readiness_error(sqlite_store, tmp_path, capsys):
    with pytest.raises(UnknownModelError, match="No model named 'ghost'") as raised:
        model_report_html(sqlite_store, sqlite_store.get_model("ghost"), now=NOW)  # resolved before reporting
    assert isinstance(raised.value, ReadinessError)
    url = sqlite_store.engine.url.render_as_string(hide_password=False)
    assert main(["--database", url, "report", "--model", "ghost", "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: No model named 'ghost'") and err.count("\n") == 1
    assert not (tmp_path / "r.html").exists()


def test_report_filename():
    assert report_filename("fraud", date(2026, 12, 1)) == "readiness-fraud-2026-12-01.html"
    assert report_filename(None, date(2026, 12, 1)) == "readiness-portfolio-2026-12-01.html"
    assert report_filename("fraud-v2.1", date(2026, 1, 5)) == "readiness-fraud-v2.1-2026-01-05.html"
