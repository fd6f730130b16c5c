"""A data scientist's own files through the Data page in Chromium, and what the other pages then say.

A finished car-loan log (tests/car_loan.py) goes in with every role proposed and only Confirm
clicked; Overview, Checklist and Performance must then lead with its drift and agree on its
criteria. Files with ambiguous or impossible dates are refused in the page, and every model
stays listed.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from readiness import Store, ingest_csv
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
    upload_and_store,
    wait_for_script,
)
from tests.car_loan import car_loan_files
from tests.factories import baseline_csv, live_csv, live_frame

pytestmark = pytest.mark.browser

DRIFT_START = "since 27 May 2019"  # the week the loan amounts start to shift (31 May 2019)


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module; each test opens its own context and page."""
    require_chromium()
    with chromium() as running:
        yield running


def bullets(main, heading: str):
    """The list items of the markdown block that starts with ``heading`` (one block on the page)."""
    block = main.get_by_test_id("stMarkdownContainer").filter(has_text=re.compile(rf"^{heading}"))
    return block.locator("li")


def test_a_finished_car_loan_log_uploaded_as_is_leads_with_its_drift(browser, tmp_path):
    from playwright.sync_api import expect

    baseline, live, labels = car_loan_files(baseline_rows=2000, per_day=30)
    paths = {}
    for name, frame in (
        ("loan_baseline.csv", baseline),
        ("loan_live.csv", live),
        ("loan_labels.csv", labels),
    ):
        paths[name] = tmp_path / name
        frame.to_csv(paths[name], index=False)

    def log_has_ended(main) -> None:
        ended = main.get_by_role("checkbox", name=re.compile(r"^This log has ended"))
        expect(ended).to_be_checked(timeout=SLOW_MS)  # offered, and on by default

    with running_app(f"sqlite:///{tmp_path / 'loans.db'}") as url, new_page(browser) as page:
        open_app(page, url)
        main = page.get_by_test_id("stMain")
        sidebar_link(page, "Data").click()
        expect(main.get_by_text("What are you uploading?")).to_be_visible(timeout=SLOW_MS)
        choose(page, main, "Model", "New model...")
        main.get_by_label("New model name").fill("car-loan")
        main.get_by_label("New model name").press("Enter")
        baseline_label = "Baseline file (CSV or Parquet)"
        upload_and_store(
            page, "Baseline (reference data)", baseline_label, paths["loan_baseline.csv"], "baseline"
        )
        expect(main.get_by_text(re.compile(r"\(the development period\)"))).to_be_visible(timeout=SLOW_MS)

        main.get_by_role(
            "button", name="Upload live predictions", exact=True
        ).click()  # the next step offered
        expect(main.get_by_role("radio", name="Live predictions", exact=True)).to_be_checked(timeout=SLOW_MS)
        live_label = "Live predictions file (CSV or Parquet)"
        upload_and_store(
            page, "Live predictions", live_label, paths["loan_live.csv"], "live", before_confirm=log_has_ended
        )
        expect(main.get_by_text(re.compile(r"judged as a historical log"))).to_be_visible(timeout=SLOW_MS)

        main.get_by_role("button", name="Upload delayed labels", exact=True).click()
        labels_label = "Delayed labels file (request_id, label; CSV or Parquet)"
        upload_and_store(page, "Delayed labels", labels_label, paths["loan_labels.csv"], "labels")

        sidebar_link(page, "Overview").click()
        held = bullets(main, "Holding it back")
        expect(held.first).to_contain_text("No feature has drifted from the baseline", timeout=SLOW_MS)
        expect(held.first).to_contain_text(f"loan_amount {DRIFT_START}")
        expect(main.get_by_text(re.compile(r"historical log, ends 27 Oct 2019"))).to_be_visible()
        expect(main.get_by_text(re.compile(r"Criteria: met \(newest judged windows"))).to_be_visible()
        expect(main).not_to_contain_text(re.compile(r"stale|No prediction logged"))
        page.screenshot(path=str(ARTIFACTS / "car-loan-overview.png"), full_page=True)

        sidebar_link(page, "Checklist").click()
        fix_first = bullets(main, "Fix first")
        expect(fix_first.first).to_contain_text("No feature has drifted from the baseline", timeout=SLOW_MS)
        expect(fix_first.first).to_contain_text(f"loan_amount {DRIFT_START}")
        expect(main).not_to_contain_text("No prediction logged")
        criteria_item = main.get_by_test_id("stExpander").filter(
            has_text="The model meets its success criteria"
        )
        expect(criteria_item.locator("summary")).to_contain_text("Pass")
        page.screenshot(path=str(ARTIFACTS / "car-loan-checklist.png"), full_page=True)

        sidebar_link(page, "Performance").click()
        expect(main.get_by_text(re.compile(r"^Success criteria$"))).to_be_visible(timeout=SLOW_MS)
        wait_for_script(page)
        verdicts = main.get_by_text(re.compile(r"\b(pass|fail|insufficient data) · "))
        expect(verdicts).to_have_count(4, timeout=SLOW_MS)  # the defaults for what was logged (no latency)
        expect(main.get_by_text(re.compile(r"\bpass · "))).to_have_count(4)  # as "Criteria: met" said
        page.screenshot(path=str(ARTIFACTS / "car-loan-performance.png"), full_page=True)


def test_ambiguous_and_year_9999_uploads_are_refused_in_the_page_and_every_model_stays_listed(
    browser, tmp_path
):
    from playwright.sync_api import expect

    database = f"sqlite:///{tmp_path / 'dates.db'}"
    store = Store.open(database)
    for name in ("alpha", "beta"):
        ingest_csv(store, name, "baseline", baseline_csv(300), "baseline.csv")
        ingest_csv(store, name, "live", live_csv(40), "live.csv")
    store.engine.dispose()
    ambiguous = live_frame(20, id_prefix="amb")
    ambiguous["timestamp"] = [f"{(i % 12) + 1:02d}/{(i % 11) + 1:02d}/2026 10:{i:02d}" for i in range(20)]
    future = live_frame(20, id_prefix="fut")
    future.loc[5, "timestamp"] = "9999-01-01T00:00:00Z"
    ambiguous.to_csv(tmp_path / "ambiguous.csv", index=False)
    future.to_csv(tmp_path / "future.csv", index=False)

    with running_app(database) as url, new_page(browser) as page:
        open_app(page, f"{url}/data?model=alpha")
        main = page.get_by_test_id("stMain")
        main.get_by_text("Live predictions", exact=True).click()
        uploader = main.get_by_test_id("stFileUploader").filter(has_text="Live predictions file")
        confirm = main.get_by_role("button", name="Confirm mapping and store live", exact=True)

        uploader.locator("input[type=file]").set_input_files(str(tmp_path / "ambiguous.csv"))
        problem = main.get_by_test_id("stAlert").filter(has_text="Before storing:")
        expect(problem).to_contain_text("has dates that read two ways", timeout=SLOW_MS)
        expect(problem).to_contain_text("Choose the date format")
        expect(confirm).to_be_disabled()
        page.screenshot(path=str(ARTIFACTS / "upload-ambiguous.png"), full_page=True)
        choose(page, main, "Date format", "Day first (dayfirst)")  # the page choice the message asks for
        expect(problem).to_have_count(0, timeout=SLOW_MS)
        expect(confirm).to_be_enabled(timeout=SLOW_MS)
        confirm.click()
        expect(main.get_by_text(re.compile(r"Stored 20 live row"))).to_be_visible(timeout=SLOW_MS)

        main.get_by_text("Live predictions", exact=True).click()
        uploader.locator("input[type=file]").set_input_files(str(tmp_path / "future.csv"))
        expect(problem).to_contain_text("'9999-01-01T00:00:00Z' at line 7", timeout=SLOW_MS)
        expect(problem).to_contain_text("more than 24 hours ahead of now")
        expect(confirm).to_be_disabled()
        page.screenshot(path=str(ARTIFACTS / "upload-year-9999.png"), full_page=True)

        sidebar_link(page, "Overview").click()
        for name in ("alpha", "beta"):
            expect(main.get_by_role("heading", name=name, exact=True)).to_be_visible(timeout=SLOW_MS)

    listed = subprocess.run(
        [sys.executable, "-m", "readiness", "--database", database, "models", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    models = {m["model"]: m for m in json.loads(listed.stdout)}
    assert set(models) == {"alpha", "beta"}
    assert (
        models["alpha"]["predictions"] == 60 and models["alpha"]["error"] == ""
    )  # 40 + the 20 read day-first
