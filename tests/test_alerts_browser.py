"""The Alerts page in headless Chromium: the demo's alert history, acknowledging one, and the README screenshot.

Runs its own server on a private copy of the session's demo (conftest.live_demo_path), since it
writes (an acknowledgement); saves docs/screenshots/alerts.png at a desktop width.
"""

from __future__ import annotations

import re

import pytest
from conftest import copy_store

from readiness.analysis.alert_views import alerts_view
from readiness.analysis.alerts import AlertFilter
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
    wait_for_script,
)

pytestmark = pytest.mark.browser

DOCS = ROOT / "docs" / "screenshots"
LOCAL = "dashboard (local mode)"


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module; each test opens its own context and page."""
    require_chromium()
    with chromium() as running:
        yield running


@pytest.fixture
def demo_copy(live_demo_path, tmp_path):
    """A private copy of the demo as of today (the test acknowledges an alert), and what its history holds."""
    store = copy_store(live_demo_path, tmp_path, "alerts-demo.db")
    try:
        every = alerts_view(store, AlertFilter())
        still_open = alerts_view(store, AlertFilter(open_only=True))
    finally:
        store.engine.dispose()
    assert every.alerts and still_open.alerts, "the demo records an alert history"
    return f"sqlite:///{tmp_path / 'alerts-demo.db'}", every, still_open


def metric(page, main, label: str):
    """The value of the st.metric with this label."""
    box = main.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    )
    return box.get_by_test_id("stMetricValue")


def test_the_alerts_page_shows_the_history_and_acknowledges_an_alert(browser, demo_copy):
    from playwright.sync_api import expect

    url, every, still_open = demo_copy
    with running_app(url) as app, new_page(browser, width=1280, height=1000) as page:
        open_app(page, f"{app}/alerts?model=fraud")
        main = page.get_by_test_id("stMain")
        expect(main.get_by_role("heading", name="Alerts", exact=True)).to_be_visible(timeout=SLOW_MS)
        # it opens on every model's alerts: on call, what is wrong anywhere comes first
        expect(metric(page, main, "Alerts shown")).to_have_text(str(len(every.alerts)), timeout=SLOW_MS)
        expect(main.get_by_test_id("stDataFrame")).to_have_count(1, timeout=SLOW_MS)  # the history
        cells = main.get_by_test_id("stDataFrame").get_by_role("gridcell", include_hidden=True)
        newest = cells.filter(has_text=re.compile(f"^{re.escape(every.alerts[0].what[:40])}"))
        expect(newest).to_have_count(1, timeout=SLOW_MS)  # the grid's accessible copy (long texts cut short)
        wait_for_script(page)
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / "alerts.png"))

        switch = main.get_by_text("All models", exact=True)  # the switch's label: the input is hidden
        switch.click()
        fraud = [a for a in every.alerts if a.model == "fraud"]
        expect(metric(page, main, "Alerts shown")).to_have_text(str(len(fraud)), timeout=SLOW_MS)
        switch.click()
        expect(metric(page, main, "Alerts shown")).to_have_text(str(len(every.alerts)), timeout=SLOW_MS)

        main.get_by_text("Open only", exact=True).click()
        expect(metric(page, main, "Alerts shown")).to_have_text(str(len(still_open.alerts)), timeout=SLOW_MS)
        first = still_open.alerts[0]
        choose(page, main, "Alert", f"#{first.id} {first.title}")
        title = main.get_by_test_id("stMarkdownContainer").get_by_text(first.title, exact=True)
        expect(title).to_be_visible(timeout=SLOW_MS)
        state = main.get_by_test_id("stCaptionContainer").filter(has_text=re.compile(r"detected .* UTC · "))
        expect(state).to_have_count(1, timeout=SLOW_MS)
        expect(state).to_contain_text("· open", timeout=SLOW_MS)

        button = main.get_by_role("button", name="Acknowledge", exact=True)
        expect(button).to_be_enabled(timeout=SLOW_MS)
        button.click()
        done = main.get_by_test_id("stAlert").filter(has_text="Acknowledged #")
        expect(done).to_contain_text(f"Acknowledged #{first.id}: {first.title}", timeout=SLOW_MS)
        expect(state).to_contain_text(f"acknowledged by {LOCAL}", timeout=SLOW_MS)
        expect(button).to_be_disabled(timeout=SLOW_MS)
        page.screenshot(path=str(ARTIFACTS / "alerts-acknowledged.png"), full_page=True)


def test_a_webhook_added_in_settings_leaves_no_trace_of_its_url_in_the_page(browser, demo_copy):
    """AppTest sees the server's widget state only; what the browser keeps in the input is checked here."""
    from playwright.sync_api import expect

    url = demo_copy[0]
    secret = "T0SECRET/B0SECRET/XYZsupersecret"
    with running_app(url) as app, new_page(browser, width=1280, height=1000) as page:
        open_app(page, f"{app}/settings?model=fraud")
        main = page.get_by_test_id("stMain")
        target = main.get_by_role("textbox", name="Webhook URL", exact=True)
        expect(target).to_have_attribute("type", "password", timeout=SLOW_MS)
        target.fill(f"https://hooks.example.com/services/{secret}")
        main.get_by_role("button", name="Add channel", exact=True).click()
        done = main.get_by_test_id("stAlert").filter(has_text="Added the channel")
        expect(done).to_contain_text(
            "Added the channel webhook: https://hooks.example.com/… (secret hidden) for fraud.",
            timeout=SLOW_MS,
        )
        expect(target).to_have_value("", timeout=SLOW_MS)  # emptied, not only masked
        wait_for_script(page)
        assert secret not in page.content()
        page.screenshot(path=str(ARTIFACTS / "settings-alerts.png"))
