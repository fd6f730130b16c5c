"""Real flows in headless Chromium: upload, see the model on Overview, attest on the Checklist.

The tests on the seeded demo also save the README screenshots under docs/screenshots/.
"""

from __future__ import annotations

import re
import sqlite3

import pytest

from tests.browser import ARTIFACTS, ROOT, chromium_page, require_chromium, running_app

pytestmark = pytest.mark.browser

DOCS = ROOT / "docs" / "screenshots"
ROLLBACK_TITLE = "Rolling back to the previous model has been rehearsed"

BASELINE = "\n".join(
    ["amount,merchant,y_pred,y_pred_proba,y_true"]
    + [f"{10 + i * 1.5},{'abc'[i % 3]},{int(i % 4 == 0)},{0.8 if i % 4 == 0 else 0.1},{int(i % 5 == 0)}"
       for i in range(40)]
) + "\n"
LIVE = "\n".join(
    ["ts;request_id;amount;merchant;y_pred;y_pred_proba"]
    + [f"2026-11-{1 + i % 20:02d}T10:00:00Z;r{i};{12 + i};{'abc'[i % 3]};{int(i % 3 == 0)};{0.7 if i % 3 == 0 else 0.2}"
       for i in range(30)]
) + "\n"


@pytest.fixture(scope="module")
def browser_ready():
    require_chromium()


def docs_screenshot(page, name: str) -> None:
    """Save a README screenshot of what the viewport shows now (call it once the content is visible)."""
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / name))


def choose(page, scope, label: str, option: str) -> None:
    """Pick an option in a Streamlit selectbox found by its label."""
    scope.get_by_test_id("stSelectbox").filter(has_text=label).click()
    page.get_by_role("option", name=option, exact=True).click()


def upload_and_store(page, kind_label: str, uploader_label: str, path, kind: str) -> None:
    main = page.get_by_test_id("stMain")
    main.get_by_text(kind_label, exact=True).click()
    uploader = main.get_by_test_id("stFileUploader").filter(has_text=uploader_label)
    uploader.locator("input[type=file]").set_input_files(str(path))
    button = main.get_by_role("button", name=f"Confirm mapping and store {kind}")
    try:
        button.wait_for()
    finally:
        page.screenshot(path=str(ARTIFACTS / f"upload-{kind}.png"), full_page=True)
    button.click()
    main.get_by_text(re.compile(rf"Stored \d+ {kind} row")).wait_for()


def test_upload_baseline_and_live_then_see_model_on_overview(browser_ready, tmp_path):
    baseline = tmp_path / "churn_baseline.csv"
    baseline.write_text(BASELINE)
    live = tmp_path / "churn_live.csv"
    live.write_text(LIVE)
    with running_app(f"sqlite:///{tmp_path / 'browser.db'}") as url, chromium_page() as page:
        page.goto(url)
        page.get_by_text("No models yet").first.wait_for()
        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Data").click()
        main = page.get_by_test_id("stMain")
        main.get_by_text("What are you uploading?").wait_for()
        choose(page, main, "Model", "New model...")
        main.get_by_label("New model name").fill("churn")
        main.get_by_label("New model name").press("Enter")
        upload_and_store(page, "Baseline (reference data)", "Baseline CSV", baseline, "baseline")
        from playwright.sync_api import expect

        expect(page.get_by_test_id("stSidebar").get_by_role("combobox", name="Model")).to_have_value("churn")

        upload_and_store(page, "Live predictions", "Live predictions CSV", live, "live")
        page.screenshot(path=str(ARTIFACTS / "data-page.png"), full_page=True)

        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Overview").click()
        card = main.get_by_text(re.compile(r"30 predictions from 2026-11-01 to 2026-11-20"))
        card.wait_for()
        expect(main.get_by_role("heading", name="churn")).to_be_visible()
        expect(page).to_have_url(re.compile(r"model=churn"))
        page.screenshot(path=str(ARTIFACTS / "overview-after-upload.png"), full_page=True)


def test_first_start_on_an_empty_database_seeds_and_shows_the_demo(browser_ready, tmp_path):
    from playwright.sync_api import expect

    with running_app(f"sqlite:///{tmp_path / 'first-start.db'}", auto_demo=True) as url, chromium_page() as page:
        page.goto(url)
        main = page.get_by_test_id("stMain")
        main.get_by_role("heading", name="fraud").wait_for(timeout=120_000)  # seeding takes ~10-20 s
        for name in ("credit", "demand", "fraud"):
            expect(main.get_by_role("heading", name=name)).to_be_visible()
        expect(main.get_by_test_id("stMetric").first).to_contain_text("3")
        page.screenshot(path=str(ARTIFACTS / "overview-demo.png"), full_page=True)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> str:
    """The seeded demo, once per module (about 15 s)."""
    from readiness import Store
    from readiness.analysis.demo import seed_demo

    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    seed_demo(Store.open(url))
    return url


def test_drift_page_flags_the_demo_fraud_drift_and_draws_the_heatmap(browser_ready, demo_db):
    from playwright.sync_api import expect

    with running_app(demo_db) as url, chromium_page() as page:
        page.goto(f"{url}/drift?model=fraud")  # a deep link, as a shared URL would be
        main = page.get_by_test_id("stMain")
        main.get_by_text("Every column, most severe first").wait_for(timeout=60_000)
        expect(main.get_by_test_id("stAlert").filter(has_text="Drifting:")).to_contain_text("device_trust")
        heatmap = main.locator(".js-plotly-plot").filter(has_text="When did drift start?")
        heatmap.scroll_into_view_if_needed()
        expect(heatmap.locator(".heatmaplayer image")).to_have_count(1)
        expect(heatmap.locator(".ytick").filter(has_text="device_trust")).to_have_count(1)
        heatmap.screenshot(path=str(ARTIFACTS / "drift-heatmap.png"))
        page.screenshot(path=str(ARTIFACTS / "drift.png"))
        heatmap.evaluate("e => { e.style.scrollMarginTop = '70px'; e.scrollIntoView({block: 'start'}); }")
        expect(heatmap).to_be_in_viewport()
        docs_screenshot(page, "drift.png")


def test_performance_page_shows_the_demo_fraud_recall_failure(browser_ready, demo_db):
    from playwright.sync_api import expect

    with running_app(demo_db) as url, chromium_page(height=1100) as page:
        page.goto(f"{url}/performance?model=fraud")
        main = page.get_by_test_id("stMain")
        title = main.get_by_text(re.compile(r"^recall (>=|≥) 0.75 per week, with at least 50 labels$"))
        title.wait_for(timeout=60_000)
        card = title.locator("xpath=ancestor::*[@data-testid='stVerticalBlock'][1]")
        expect(card).to_contain_text(re.compile(r"fail · 0\.\d+"))
        trend = main.locator(".js-plotly-plot").filter(has_text="recall per week")
        expect(trend).to_contain_text("criterion >= 0.75")
        main.get_by_role("heading", name="Success criteria").evaluate(
            "element => element.scrollIntoView({block: 'start'})")
        expect(trend).to_be_in_viewport()
        docs_screenshot(page, "performance.png")


def test_a_criterion_added_on_settings_shows_as_a_card_and_threshold_line(browser_ready, demo_db):
    from playwright.sync_api import expect

    with running_app(demo_db) as url, chromium_page() as page:
        page.goto(f"{url}/settings?model=demand")
        main = page.get_by_test_id("stMain")
        form = main.get_by_test_id("stForm")
        form.wait_for(timeout=60_000)
        choose(page, form, "Metric", "rmse (lower is better)")
        choose(page, form, "Comparison", "<=")
        form.get_by_label("Threshold").fill("30")
        form.get_by_role("button", name="Add criterion").click()
        expect(main.get_by_text(re.compile(r"Added: rmse (<=|≤) 30"))).to_be_visible()

        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Performance").click()
        title = main.get_by_text(re.compile(r"^rmse (<=|≤) 30 per week, with at least 100 labels$"))
        title.wait_for(timeout=60_000)
        status = title.locator("xpath=ancestor::*[@data-testid='stVerticalBlock'][1]")
        expect(status).to_contain_text(re.compile(r"(pass|fail|insufficient data) · "))
        trend = main.locator(".js-plotly-plot").filter(has_text="rmse per week")
        trend.scroll_into_view_if_needed()
        expect(trend).to_contain_text("criterion <= 30")
        trend.screenshot(path=str(ARTIFACTS / "performance-rmse.png"))
        page.screenshot(path=str(ARTIFACTS / "performance.png"))


def test_overview_puts_the_worst_demo_model_first_and_opens_its_checklist(browser_ready, demo_db):
    from playwright.sync_api import expect

    with running_app(demo_db) as url, chromium_page(height=1300) as page:
        page.goto(f"{url}/?model=credit")
        main = page.get_by_test_id("stMain")
        main.get_by_role("heading", name="fraud").wait_for(timeout=60_000)
        cards = main.locator("h3").filter(has_text=re.compile(r"^(fraud|demand|credit)$"))
        expect(cards).to_have_text(["fraud", "demand", "credit"])  # Not ready, At risk, Ready

        def card(name: str):
            heading = page.get_by_role("heading", name=name, exact=True)  # `has` is relative to each block
            return main.get_by_test_id("stVerticalBlock").filter(has=heading).last

        expect(card("fraud").get_by_test_id("stMetric")).to_contain_text(re.compile(r"\d+ / 100\s*Not ready"))
        expect(card("fraud")).to_contain_text("The model meets its success criteria (failing)")
        expect(card("demand").get_by_test_id("stMetric")).to_contain_text("At risk")
        expect(card("demand")).to_contain_text(f"{ROLLBACK_TITLE} (not attested yet)")
        expect(card("credit").get_by_test_id("stMetric")).to_contain_text("Ready")
        expect(main.get_by_test_id("stDataFrame")).to_be_visible()
        docs_screenshot(page, "overview.png")

        card("fraud").get_by_role("button", name="Checklist").click()  # credit is picked in the sidebar
        expect(page.get_by_test_id("stSidebar").get_by_role("combobox", name="Model")).to_have_value("fraud")
        expect(page).to_have_url(re.compile(r"/checklist\?model=fraud"))
        gauge = main.locator(".js-plotly-plot").filter(has_text="Readiness:")
        expect(gauge).to_contain_text("Readiness: Not ready", timeout=60_000)
        expect(main.get_by_text("A critical check fails")).to_be_visible()
        expect(main.locator(".js-plotly-plot").nth(1)).to_contain_text("Monitoring")  # the section gauges
        docs_screenshot(page, "checklist.png")


def test_attesting_the_rollback_drill_makes_demand_ready(browser_ready, demo_db, tmp_path):
    from playwright.sync_api import expect

    copy = tmp_path / "demo-copy.db"  # this test signs an attestation: keep the shared demo as seeded
    with sqlite3.connect(demo_db.removeprefix("sqlite:///")) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    with running_app(f"sqlite:///{copy}") as url, chromium_page() as page:
        page.goto(f"{url}/checklist?model=demand")
        main = page.get_by_test_id("stMain")
        gauge = main.locator(".js-plotly-plot").filter(has_text="Readiness:")
        expect(gauge).to_contain_text("Readiness: At risk", timeout=60_000)
        operations = main.get_by_role("heading", name=re.compile(r"^Operations ·"))
        expect(operations).to_contain_text("67%")

        form = main.get_by_test_id("stForm")
        form.scroll_into_view_if_needed()
        choose(page, form, "Item", ROLLBACK_TITLE)
        form.get_by_role("textbox", name="Owner (who attests)").fill("R. Diaz")
        evidence = "https://wiki.example.com/ml/demand/rollback-drill"
        form.get_by_role("textbox", name="Evidence link").fill(evidence)
        form.get_by_role("button", name="Attest").click()

        done = main.get_by_test_id("stAlert").filter(has_text="Attested:")
        expect(done).to_contain_text(f"Attested: {ROLLBACK_TITLE}, by R. Diaz")
        expect(done).to_contain_text("The score is now 75 (Ready).")
        expect(gauge).to_contain_text("Readiness: Ready")
        expect(operations).to_contain_text("75%")
        expect(main.get_by_test_id("stExpander").filter(has_text=ROLLBACK_TITLE)).to_contain_text("Attested")
        page.screenshot(path=str(ARTIFACTS / "checklist-attested.png"))
