"""A multiclass model with one probability column per class, uploaded through the Data page in Chromium.

The router's baseline (tests/test_class_probabilities.py) goes in on an empty database with the
proposed mapping unchanged: its three y_pred_proba_* columns are proposed as class probabilities,
named by class, and never become features. A live log and its labels follow; the Performance page
then has a per-class table and the label-free estimate, and the Drift page the model's outputs.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.browser import (
    SLOW_MS,
    choose,
    chromium,
    new_page,
    open_app,
    require_chromium,
    running_app,
    selectbox,
    sidebar_link,
    upload_and_store,
    wait_for_script,
)
from tests.test_class_probabilities import CLASSES, router_frame

pytestmark = pytest.mark.browser

SCREENSHOT = "/tmp/multiclass_data.png"  # the proposed class probabilities at 1280 px, to look at
PROBABILITY_COLUMNS = [f"y_pred_proba_{c}" for c in sorted(CLASSES)]  # proposed in class order


def cell(page, text: str):
    """A cell of a dataframe's accessible copy (the grid itself is a canvas) whose text is exactly ``text``."""
    return page.get_by_role("gridcell", include_hidden=True).filter(
        has_text=re.compile(rf"^{re.escape(text)}$")
    )


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module; each test opens its own context and page."""
    require_chromium()
    with chromium() as running:
        yield running


def test_a_multiclass_log_with_class_probabilities_goes_in_as_proposed_and_is_judged_per_class(
    browser, tmp_path
):
    from playwright.sync_api import expect

    baseline, live = router_frame(600), router_frame(800, seed=2, live=True)
    labels = live[["request_id"]].assign(label=np.random.default_rng(3).choice(CLASSES, len(live)))
    paths = {name: tmp_path / f"router_{name}.csv" for name in ("baseline", "live", "labels")}
    for name, frame in (("baseline", baseline), ("live", live), ("labels", labels)):
        frame.to_csv(paths[name], index=False)

    def proposal_is_shown(main) -> None:
        """The class probabilities proposed by name, each with its class, none of them a feature."""
        probabilities = main.get_by_test_id("stMultiSelect").filter(
            has=page.get_by_test_id("stWidgetLabel").get_by_text(
                "Class probabilities (multiclass)", exact=True
            )
        )
        expect(probabilities).to_have_count(1, timeout=SLOW_MS)
        chosen = probabilities.get_by_role("group", name="Selected values", exact=True).locator("[data-tag]")
        expect(chosen).to_have_text(PROBABILITY_COLUMNS)
        mapped = ", ".join(f"y_pred_proba_{c} → {c}" for c in sorted(CLASSES))
        expect(main.get_by_text(f"Class of each probability column: {mapped}", exact=True)).to_be_visible()
        expect(main.get_by_text("Features: amount, channel", exact=True)).to_be_visible()
        expect(selectbox(page, main, "Task").get_by_role("combobox")).to_have_value("multiclass")
        wait_for_script(page)
        probabilities.scroll_into_view_if_needed()  # the app scrolls inside its own frame: no full_page
        page.screenshot(path=SCREENSHOT)

    with running_app(f"sqlite:///{tmp_path / 'router.db'}") as url, new_page(browser, width=1280) as page:
        open_app(page, url)
        main = page.get_by_test_id("stMain")
        sidebar_link(page, "Data").click()
        expect(main.get_by_text("What are you uploading?")).to_be_visible(timeout=SLOW_MS)
        choose(page, main, "Model", "New model...")
        main.get_by_label("New model name").fill("router")
        main.get_by_label("New model name").press("Enter")
        upload_and_store(
            page,
            "Baseline (reference data)",
            "Baseline file (CSV or Parquet)",
            paths["baseline"],
            "baseline",
            before_confirm=proposal_is_shown,
        )
        expect(main.get_by_text(re.compile(r"Stored 600 baseline row"))).to_be_visible(timeout=SLOW_MS)

        main.get_by_role("button", name="Upload live predictions", exact=True).click()
        expect(main.get_by_role("radio", name="Live predictions", exact=True)).to_be_checked(timeout=SLOW_MS)
        upload_and_store(
            page, "Live predictions", "Live predictions file (CSV or Parquet)", paths["live"], "live"
        )
        expect(main.get_by_text(re.compile(r"Stored 800 live row"))).to_be_visible(timeout=SLOW_MS)

        main.get_by_role("button", name="Upload delayed labels", exact=True).click()
        expect(main.get_by_role("radio", name="Delayed labels", exact=True)).to_be_checked(timeout=SLOW_MS)
        upload_and_store(
            page,
            "Delayed labels",
            "Delayed labels file (request_id, label; CSV or Parquet)",
            paths["labels"],
            "labels",
        )
        expect(main.get_by_text(re.compile(r"Stored 800 label\(s\)"))).to_be_visible(timeout=SLOW_MS)

        open_app(page, f"{url}/performance?model=router")
        expect(main.get_by_role("heading", name="Per class", exact=True)).to_be_visible(timeout=SLOW_MS)
        per_class = main.get_by_test_id("stDataFrame").filter(
            has=page.get_by_role("columnheader", name="ROC AUC (one vs rest)", include_hidden=True)
        )
        expect(per_class).to_have_count(1, timeout=SLOW_MS)
        headers = per_class.get_by_role("columnheader", include_hidden=True)
        for name in (
            "Class",
            "Labelled",
            "Predicted",
            "Precision",
            "Recall",
            "F1",
            "ROC AUC (one vs rest)",
            "Calibration error",
        ):
            expect(headers.filter(has_text=re.compile(rf"^{re.escape(name)}$"))).to_have_count(1)
        labelled = labels["label"].value_counts()
        for cls in CLASSES:  # the grid's accessible copy of the table: one row per class, its label count
            row = per_class.get_by_role("row", include_hidden=True).filter(has=cell(page, cls))
            expect(row).to_have_count(1, timeout=SLOW_MS)
            expect(row.get_by_role("gridcell", include_hidden=True).nth(1)).to_have_text(str(labelled[cls]))

        # the label-free estimate from the class probabilities, beside what the labels measured
        expect(main.get_by_role("heading", name="Estimated without labels", exact=True)).to_be_visible(
            timeout=SLOW_MS
        )
        estimated = main.get_by_test_id("stDataFrame").filter(
            has=page.get_by_role("columnheader", name="Estimate interval", include_hidden=True)
        )
        expect(estimated).to_have_count(1, timeout=SLOW_MS)
        for metric in ("accuracy", "macro_f1", "roc_auc_ovr"):
            expect(estimated.filter(has=cell(page, metric))).to_have_count(1)

        open_app(page, f"{url}/drift?model=router")
        expect(main.get_by_role("heading", name="Model outputs", exact=True)).to_be_visible(timeout=SLOW_MS)
        drift_table = main.get_by_role("tabpanel", name="Drifting now", exact=True).get_by_test_id(
            "stDataFrame"
        )
        for output in (*(f"proba:{c}" for c in CLASSES), "confidence"):  # judged like any other column
            expect(drift_table.filter(has=cell(page, output))).to_have_count(1, timeout=SLOW_MS)
