"""Real flows in headless Chromium: upload, see the model on Overview, attest on the Checklist.

The tests on the seeded demo also save the README screenshots under docs/screenshots/.
They read the session's demo (conftest.live_demo_path) through one shared server; a test
that writes (a criterion, an attestation) runs its own server on a private copy.
"""

from __future__ import annotations

import itertools
import re

import pytest
from conftest import copy_store

from tests.browser import (
    ARTIFACTS,
    ROOT,
    SLOW_MS,
    choose,
    chromium,
    new_page,
    open_app,
    require_chromium,
    running_app,
    sidebar_link,
    sidebar_model,
    upload_and_store,
    wait_for_script,
)

pytestmark = pytest.mark.browser

DOCS = ROOT / "docs" / "screenshots"
ROLLBACK_TITLE = "Rolling back to the previous model has been rehearsed"
FIRST_START_DEMO_SCALE = 0.03  # the first-start test proves the seeding path, not the demo's volume

BASELINE = (
    "\n".join(
        ["amount,merchant,y_pred,y_pred_proba,y_true"]
        + [
            f"{10 + i * 1.5},{'abc'[i % 3]},{int(i % 4 == 0)},{0.8 if i % 4 == 0 else 0.1},{int(i % 5 == 0)}"
            for i in range(40)
        ]
    )
    + "\n"
)
LIVE = (
    "\n".join(
        ["ts;request_id;amount;merchant;y_pred;y_pred_proba"]
        + [
            f"2026-11-{1 + i % 20:02d}T10:00:00Z;r{i};{12 + i};{'abc'[i % 3]};{int(i % 3 == 0)};{0.7 if i % 3 == 0 else 0.2}"
            for i in range(30)
        ]
    )
    + "\n"
)


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module; each test opens its own context and page."""
    require_chromium()
    with chromium() as running:
        yield running


@pytest.fixture(scope="module")
def demo_app(browser, live_demo_path) -> str:
    """One server on the session's demo (as of today), shared by the tests that only read it."""
    with running_app(f"sqlite:///{live_demo_path}") as url:
        yield url


@pytest.fixture
def demo_copy_url(live_demo_path, tmp_path) -> str:
    """A private copy of the demo for a test that writes to it (the shared demo stays as seeded)."""
    copy_store(live_demo_path, tmp_path, "demo-copy.db").engine.dispose()
    return f"sqlite:///{tmp_path / 'demo-copy.db'}"


def docs_screenshot(page, name: str) -> None:
    """Save a README screenshot of the viewport once the script run is done (call it when content shows)."""
    wait_for_script(page)
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / name))


def test_upload_baseline_and_live_then_see_model_on_overview(browser, tmp_path):
    from playwright.sync_api import expect

    baseline = tmp_path / "churn_baseline.csv"
    baseline.write_text(BASELINE)
    live = tmp_path / "churn_live.csv"
    live.write_text(LIVE)
    with running_app(f"sqlite:///{tmp_path / 'browser.db'}") as url, new_page(browser) as page:
        open_app(page, url)
        main = page.get_by_test_id("stMain")
        expect(main.get_by_text("No models yet")).to_be_visible(timeout=SLOW_MS)
        sidebar_link(page, "Data").click()
        expect(main.get_by_text("What are you uploading?")).to_be_visible(timeout=SLOW_MS)
        choose(page, main, "Model", "New model...")
        main.get_by_label("New model name").fill("churn")
        main.get_by_label("New model name").press("Enter")
        upload_and_store(
            page, "Baseline (reference data)", "Baseline file (CSV or Parquet)", baseline, "baseline"
        )
        expect(sidebar_model(page)).to_have_value("churn", timeout=SLOW_MS)

        upload_and_store(page, "Live predictions", "Live predictions file (CSV or Parquet)", live, "live")
        page.screenshot(path=str(ARTIFACTS / "data-page.png"), full_page=True)

        sidebar_link(page, "Overview").click()
        card = main.get_by_text(re.compile(r"30 predictions from 2026-11-01 to 2026-11-20"))
        expect(card).to_be_visible(timeout=SLOW_MS)
        expect(main.get_by_role("heading", name="churn", exact=True)).to_be_visible(timeout=SLOW_MS)
        expect(page).to_have_url(re.compile(r"model=churn"), timeout=SLOW_MS)
        page.screenshot(path=str(ARTIFACTS / "overview-after-upload.png"), full_page=True)


def test_first_start_answers_at_once_with_the_seeding_progress_then_shows_the_demo(browser, tmp_path):
    from playwright.sync_api import expect

    database = tmp_path / "first-start.db"
    with (
        running_app(f"sqlite:///{database}", auto_demo=True, demo_scale=FIRST_START_DEMO_SCALE) as url,
        new_page(browser) as page,
    ):
        page.goto(f"{url}/checklist?model=credit")  # a deep link, as a shared URL would be
        main = page.get_by_test_id("stMain")
        # the first script run starts the seed in the background and answers with its progress
        expect(main.get_by_test_id("stProgress")).to_be_visible(timeout=SLOW_MS)
        expect(main.get_by_text(re.compile(r"^Seeding the demo: "))).to_be_visible(timeout=SLOW_MS)
        # it follows the seed step by step without a reload
        expect(main.get_by_text(re.compile(r"^Seeding the demo: step \d+ of 21 \("))).to_be_visible(
            timeout=SLOW_MS
        )
        page.screenshot(path=str(ARTIFACTS / "seeding-progress.png"), full_page=True)
        # when the seed is done the page turns, by itself, into the one the link asked for
        expect(main.get_by_role("heading", name=re.compile(r"^credit is "))).to_be_visible(timeout=180_000)
        expect(main.get_by_test_id("stProgress")).to_have_count(0)
        expect(page).to_have_url(re.compile(r"/checklist\?model=credit"), timeout=SLOW_MS)
        sidebar_link(page, "Overview").click()
        for name in ("credit", "demand", "fraud", "ticket-router"):
            expect(main.get_by_role("heading", name=name, exact=True)).to_be_visible(timeout=SLOW_MS)
        models = main.get_by_test_id("stMetric").filter(
            has=page.get_by_test_id("stMetricLabel").get_by_text("Models", exact=True)
        )
        expect(models.get_by_test_id("stMetricValue")).to_have_text("4", timeout=SLOW_MS)
        page.screenshot(path=str(ARTIFACTS / "overview-demo.png"), full_page=True)
    from readiness import Store

    store = Store.open(f"sqlite:///{database}")  # the demo was stored, not only drawn
    try:
        assert sorted(m.name for m in store.list_models()) == ["credit", "demand", "fraud", "ticket-router"]
    finally:
        store.engine.dispose()


def test_drift_page_flags_the_demo_fraud_drift_and_draws_the_heatmap(browser, demo_app):
    from playwright.sync_api import expect

    with new_page(browser) as page:
        open_app(page, f"{demo_app}/drift?model=fraud")  # a deep link, as a shared URL would be
        main = page.get_by_test_id("stMain")
        warning = main.get_by_test_id("stAlert").filter(has_text="Drifting now (the week of")
        expect(warning).to_have_count(1, timeout=SLOW_MS)
        expect(warning).to_contain_text(re.compile(r"device_trust since \d{1,2} \w{3} \d{4} \(\d+ weeks\)"))
        expect(main.get_by_role("tab", name="Drifting now")).to_be_visible(timeout=SLOW_MS)
        docs_screenshot(page, "drift.png")  # the answer first: what drifts now, and since when
        heatmap = main.locator(".js-plotly-plot").filter(has_text="When did drift start?")
        expect(heatmap.locator(".heatmaplayer image")).to_have_count(1, timeout=SLOW_MS)
        heatmap.scroll_into_view_if_needed()
        expect(heatmap.locator(".ytick").filter(has_text="device_trust")).to_have_count(1, timeout=SLOW_MS)
        heatmap.screenshot(path=str(ARTIFACTS / "drift-heatmap.png"))
        page.screenshot(path=str(ARTIFACTS / "drift.png"))
        heatmap.evaluate("e => { e.style.scrollMarginTop = '70px'; e.scrollIntoView({block: 'start'}); }")
        expect(heatmap).to_be_in_viewport(timeout=SLOW_MS)


def test_drift_page_stacks_the_ticket_routers_class_probability_charts_on_a_phone(browser, demo_app):
    from playwright.sync_api import expect

    classes = ("account", "billing", "shipping", "technical")
    with new_page(browser, width=390, height=844) as page:  # a phone held upright
        open_app(page, f"{demo_app}/drift?model=ticket-router")
        main = page.get_by_test_id("stMain")
        plots = main.locator(".js-plotly-plot")
        for cls in classes:
            chart = plots.filter(has_text=f"Probability of {cls}")
            expect(chart).to_have_count(1, timeout=SLOW_MS)
            expect(chart).to_contain_text("probability, baseline vs live: steady")
        boxes = [
            plots.filter(has_text=f"Probability of {cls}").evaluate(
                "e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; }"
            )
            for cls in classes
        ]
        for left, _, width, _ in boxes:
            assert left >= 0 and left + width <= 390 and width >= 300  # the screen's width, never wider
        tops = [top for _, top, _, _ in boxes]
        gaps = [b - a for a, b in itertools.pairwise(tops)]
        assert all(gap >= 250 for gap in gaps), tops  # one chart per row, in class order
        chart = plots.filter(has_text="Probability of account")
        chart.scroll_into_view_if_needed()
        chart.screenshot(path=str(ARTIFACTS / "drift-class-probability-phone.png"))


def test_performance_page_shows_the_demo_fraud_recall_failure(browser, demo_app):
    from playwright.sync_api import expect

    with new_page(browser, height=1100) as page:
        open_app(page, f"{demo_app}/performance?model=fraud")
        main = page.get_by_test_id("stMain")
        title = main.get_by_text(re.compile(r"^recall (>=|≥) 0.75 per week, with at least 50 labels$"))
        expect(title).to_be_visible(timeout=SLOW_MS)
        card = title.locator("xpath=ancestor::*[@data-testid='stVerticalBlock'][1]")
        expect(card).to_contain_text(re.compile(r"fail · 0\.\d+"), timeout=SLOW_MS)
        trend = main.locator(".js-plotly-plot").filter(has_text="recall per week")
        expect(trend).to_contain_text("criterion >= 0.75", timeout=SLOW_MS)
        main.get_by_role("heading", name="Success criteria", exact=True).evaluate(
            "element => element.scrollIntoView({block: 'start'})"
        )
        expect(trend).to_be_in_viewport(timeout=SLOW_MS)
        docs_screenshot(page, "performance.png")


def test_a_criterion_added_on_settings_shows_as_a_card_and_threshold_line(browser, demo_copy_url):
    from playwright.sync_api import expect

    with running_app(demo_copy_url) as url, new_page(browser) as page:
        open_app(page, f"{url}/settings?model=demand")
        main = page.get_by_test_id("stMain")
        form = main.get_by_test_id("stForm")
        expect(form).to_be_visible(timeout=SLOW_MS)
        choose(page, form, "Metric", "rmse (lower is better)")
        choose(page, form, "Comparison", "<=")
        form.get_by_label("Threshold").fill("30")
        form.get_by_role("button", name="Add criterion", exact=True).click()
        expect(main.get_by_text(re.compile(r"Added: rmse (<=|≤) 30"))).to_be_visible(timeout=SLOW_MS)

        sidebar_link(page, "Performance").click()
        page.wait_for_url(re.compile(r"/performance"), timeout=SLOW_MS)
        # the card's title, not the same words in a table cell (Settings' audit trail fades out as Performance runs)
        title = main.get_by_text(re.compile(r"^rmse (<=|≤) 30 per week, with at least 100 labels$")).and_(
            page.locator(":not([role='gridcell'])")
        )
        expect(title).to_be_visible(timeout=SLOW_MS)
        status = title.locator("xpath=ancestor::*[@data-testid='stVerticalBlock'][1]")
        expect(status).to_contain_text(re.compile(r"(pass|fail|insufficient data) · "), timeout=SLOW_MS)
        trend = main.locator(".js-plotly-plot").filter(has_text="rmse per week")
        expect(trend).to_contain_text("criterion <= 30", timeout=SLOW_MS)
        trend.scroll_into_view_if_needed()
        trend.screenshot(path=str(ARTIFACTS / "performance-rmse.png"))
        page.screenshot(path=str(ARTIFACTS / "performance.png"))


def test_overview_puts_the_worst_demo_model_first_and_opens_its_checklist(browser, demo_app):
    from playwright.sync_api import expect

    with new_page(browser, height=1300) as page:
        open_app(page, f"{demo_app}/?model=credit")
        main = page.get_by_test_id("stMain")
        expect(main.get_by_role("heading", name="fraud", exact=True)).to_be_visible(timeout=SLOW_MS)
        cards = main.locator("h3").filter(has_text=re.compile(r"^(fraud|demand|ticket-router|credit)$"))
        # worst first: Not ready, At risk, Ready (credit and ticket-router both at 81: in name order)
        expect(cards).to_have_text(["fraud", "demand", "credit", "ticket-router"], timeout=SLOW_MS)

        def card(name: str):
            """The bordered container of one model's card: the nearest block around its heading."""
            heading = main.get_by_role("heading", name=name, exact=True)
            return heading.locator("xpath=ancestor::*[@data-testid='stVerticalBlock'][1]")

        expect(card("fraud").get_by_test_id("stMetric")).to_contain_text(
            re.compile(r"\d+ / 100\s*Not ready"), timeout=SLOW_MS
        )
        expect(card("fraud")).to_contain_text(
            "The model meets its success criteria (failing)", timeout=SLOW_MS
        )
        expect(card("demand").get_by_test_id("stMetric")).to_contain_text("At risk", timeout=SLOW_MS)
        expect(card("demand")).to_contain_text(f"{ROLLBACK_TITLE} (not attested yet)", timeout=SLOW_MS)
        expect(card("credit").get_by_test_id("stMetric")).to_contain_text("Ready", timeout=SLOW_MS)
        expect(card("ticket-router").get_by_test_id("stMetric")).to_contain_text("Ready", timeout=SLOW_MS)
        expect(main.get_by_test_id("stDataFrame")).to_be_visible(timeout=SLOW_MS)
        docs_screenshot(page, "overview.png")

        # credit is picked in the sidebar: the card's button switches the model
        card("fraud").get_by_role("button", name="Checklist", exact=True).click()
        expect(sidebar_model(page)).to_have_value("fraud", timeout=SLOW_MS)
        expect(page).to_have_url(re.compile(r"/checklist\?model=fraud"), timeout=SLOW_MS)
        gauge = main.locator(".st-key-checklist_score_gauge .js-plotly-plot")
        expect(gauge).to_contain_text("Readiness: Not ready", timeout=SLOW_MS)
        expect(main.get_by_text("A critical check fails")).to_be_visible(timeout=SLOW_MS)
        sections = main.locator(".st-key-checklist_section_gauges")
        expect(sections).to_contain_text("Monitoring", timeout=SLOW_MS)
        docs_screenshot(page, "checklist.png")


def test_attesting_the_rollback_drill_makes_demand_ready(browser, demo_copy_url):
    from playwright.sync_api import expect

    with running_app(demo_copy_url) as url, new_page(browser) as page:
        open_app(page, f"{url}/checklist?model=demand")
        main = page.get_by_test_id("stMain")
        gauge = main.locator(".st-key-checklist_score_gauge .js-plotly-plot")
        expect(gauge).to_contain_text("Readiness: At risk", timeout=SLOW_MS)
        operations = main.get_by_role("heading", name=re.compile(r"^Operations ·"))
        expect(operations).to_contain_text("67%", timeout=SLOW_MS)

        form = main.get_by_test_id("stForm")
        form.scroll_into_view_if_needed()
        choose(page, form, "Item", ROLLBACK_TITLE)
        form.get_by_role("textbox", name="Owner (who attests)", exact=True).fill("R. Diaz")
        evidence = "https://wiki.example.com/ml/demand/rollback-drill"
        form.get_by_role("textbox", name="Evidence link", exact=True).fill(evidence)
        form.get_by_role("button", name="Attest", exact=True).click()

        done = main.get_by_test_id("stAlert").filter(has_text="Attested:")
        expect(done).to_contain_text(f"Attested: {ROLLBACK_TITLE}, by R. Diaz", timeout=SLOW_MS)
        expect(done).to_contain_text("The score is now 75 (Ready).", timeout=SLOW_MS)
        expect(gauge).to_contain_text("Readiness: Ready", timeout=SLOW_MS)
        expect(operations).to_contain_text("75%", timeout=SLOW_MS)
        item = main.get_by_test_id("stExpander").filter(has_text=ROLLBACK_TITLE)
        expect(item).to_contain_text("Attested", timeout=SLOW_MS)
        page.screenshot(path=str(ARTIFACTS / "checklist-attested.png"))
