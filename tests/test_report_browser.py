"""The fraud model's HTML report opened from disk in headless Chromium: it renders offline and reads right."""

from __future__ import annotations

import struct
from datetime import datetime

import pytest

from readiness.analysis.assessment import assess_model
from readiness.analysis.report import model_report_html, report_filename
from readiness.storage.store import Store
from tests.browser import ARTIFACTS, chromium_page, require_chromium

pytestmark = pytest.mark.browser

NOW = datetime(2026, 11, 15, 9)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def fraud_report(tmp_path_factory, demo_path) -> tuple[str, str]:
    """The fraud report written to a file (as a user would save it), and the expected badge text."""
    require_chromium()
    folder = tmp_path_factory.mktemp("report-browser")
    store = Store.open(f"sqlite:///{demo_path}")
    try:
        fraud = store.get_model("fraud")
        assessment = assess_model(store, fraud, NOW)
        path = folder / report_filename("fraud", NOW.date())
        path.write_text(model_report_html(store, fraud, now=NOW), encoding="utf-8")
    finally:
        store.engine.dispose()
    return path.as_uri(), f"{assessment.score.status.label} · {assessment.score_text}"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_fraud_report_renders_offline_with_its_charts(fraud_report):
    from playwright.sync_api import expect

    url, badge = fraud_report
    assert url.startswith("file://")
    shot = ARTIFACTS / "report-fraud.png"
    ARTIFACTS.mkdir(exist_ok=True)
    shot.unlink(missing_ok=True)
    with chromium_page() as page:
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url)
        page.wait_for_selector(".js-plotly-plot .main-svg")
        expect(page.locator(".js-plotly-plot")).to_have_count(4)
        for chart in page.locator(".js-plotly-plot").all():
            expect(chart.locator(".main-svg").first).to_be_attached()
        expect(page).to_have_title("Readiness report: fraud")
        expect(page.get_by_role("heading", level=1)).to_have_text("Readiness report: fraud")
        expect(page.locator(".badge.big")).to_have_text(badge)
        expect(page.locator(".badge.big")).to_be_visible()
        expect(page.get_by_text("A critical item fails")).to_be_visible()
        expect(page.get_by_role("heading", name="What holds it back")).to_be_visible()
        page.screenshot(path=str(shot), full_page=True)
    assert badge.startswith("Not ready · ")
    assert not errors
    assert all(r.startswith(("file://", "data:", "blob:", "about:")) for r in requests), requests
    data = shot.read_bytes()
    width, height = png_size(data)
    assert len(data) > 20_000 and width >= 1000 and height > 2000
