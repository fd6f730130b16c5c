"""Every page through Streamlit's AppTest: the entrypoint, then switch_page."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import copy_store, sealed
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from readiness import ModelSpec, Store, ingest_csv
from readiness.core.checklist import DEFAULT_ITEMS
from readiness.core.status import ItemStatus
from readiness.storage.settings import current_attestations, load_config
from tests.factories import baseline_csv, live_csv

ROOT = Path(__file__).resolve().parent.parent
BASELINE = (
    b"amount,country,y_pred,y_pred_proba,y_true\n"
    b"1.5,DE,1,0.9,1\n2.5,FR,0,0.1,0\n3.0,DE,0,0.2,1\n4.0,IT,0,0.3,0\n"
)
LIVE = (
    b"ts,request_id,amount,country,y_pred,y_pred_proba\n"
    b"2026-11-01T10:00:00Z,r1,1.5,DE,1,0.8\n2026-11-02T11:00:00Z,r2,2.0,FR,0,0.3\n"
)


@pytest.fixture(autouse=True)
def navigation_only(monkeypatch):
    """Make AppTest treat app.py as the st.navigation app it is.

    AppTest builds a fresh PagesManager before every run, which sees our pages/ folder and
    switches to the legacy folder-based runner: from the second run on it executes the page
    file alone, skipping app.py. A real server drops that flag once app.py calls
    st.navigation, so tests do the same.
    """
    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture
def db_url(tmp_path, monkeypatch) -> str:
    """An empty SQLite store for the app, with the demo auto-seed switched off."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("READINESS_DATABASE_URL", url)
    monkeypatch.setenv("READINESS_AUTO_DEMO", "0")
    return url


@pytest.fixture
def fraud_store(db_url) -> Store:
    """A store holding one binary model with a baseline and two live predictions."""
    store = Store.open(db_url)
    ingest_csv(store, "fraud", "baseline", BASELINE, "base.csv")
    ingest_csv(store, "fraud", "live", LIVE, "live.csv")
    return store


def shown(markdown: str) -> str:
    """Markdown source as a reader sees it: the escapes that keep user text inert removed."""
    return re.sub(r"\\([\\`*_\[\]<$#|~])", r"\1", markdown)


def app(query: str = "") -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    if query:
        at.query_params["model"] = query
    return at.run()


def test_overview_empty_store_invites_an_upload(db_url):
    at = app()
    assert not at.exception
    assert "No models yet" in at.info[0].value


def test_overview_lists_models_with_volume_and_coverage(fraud_store):
    at = app()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["Model"]) == ["fraud"]
    assert table.loc[0, "Predictions"] == 2
    assert table.loc[0, "Task"] == "binary"
    headline = [(m.label, m.value) for m in at.metric][:6]
    assert [label for label, _ in headline] == [
        "Models",
        "Ready",
        "At risk",
        "Not ready",
        "Predictions logged",
        "Stale models",
    ]
    assert headline[0][1] == "1" and headline[4][1] == "2"
    assert sum(int(value) for _, value in headline[1:4]) == 1  # the one model has exactly one status
    assert table.loc[0, "Status"] in {"Ready", "At risk", "Not ready"}


def test_model_picker_reads_and_writes_the_url(fraud_store):
    ingest_csv(fraud_store, "credit", "baseline", BASELINE, "credit.csv")
    at = app(query="fraud")
    assert at.sidebar.selectbox(key="model").value == "fraud"
    at.sidebar.selectbox(key="model").set_value("credit").run()
    assert at.query_params["model"] == ["credit"] or at.query_params["model"] == "credit"
    at.switch_page("pages/data.py").run()
    assert at.sidebar.selectbox(key="model").value == "credit"


def test_a_link_to_another_model_switches_the_picker(fraud_store):
    """st.page_link(..., query_params={"model": ...}) changes the URL mid-session: the picker follows it."""
    ingest_csv(fraud_store, "credit", "baseline", BASELINE, "credit.csv")
    at = app(query="fraud")
    at.query_params["model"] = "credit"
    at.switch_page("pages/checklist.py").run()
    assert at.sidebar.selectbox(key="model").value == "credit"
    at.switch_page("pages/overview.py").run()  # the URL now says credit, as the picker wrote it
    assert at.sidebar.selectbox(key="model").value == "credit"


def test_data_page_uploads_a_baseline_for_a_new_model(db_url):
    at = app()
    at.switch_page("pages/data.py").run()
    assert not at.exception
    at.selectbox(key="upload_model_baseline").set_value("New model...").run()
    at.text_input(key="new_model_name").set_value("churn").run()
    at.file_uploader(key="upload_file_baseline").upload("base.csv", BASELINE, "text/csv").run()
    assert not at.error, [e.value for e in at.error]
    # the proposed mapping found the prediction, score and label columns
    assert any(s.value == "y_pred" for s in at.selectbox if s.label.startswith("Prediction"))
    assert at.selectbox(key="new_model_task").value == "binary"
    at.button[0].click().run()
    assert not at.exception
    assert "Stored 4 baseline row(s)" in at.success[0].value
    assert at.sidebar.selectbox(key="model").value == "churn"
    assert Store.open(db_url).get_model("churn").positive_class == "1"


def test_data_page_stores_a_parquet_baseline(db_url):
    import io

    frame = pd.read_csv(io.BytesIO(BASELINE))
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    at = app()
    at.switch_page("pages/data.py").run()
    at.selectbox(key="upload_model_baseline").set_value("New model...").run()
    at.text_input(key="new_model_name").set_value("churn-pq").run()
    at.file_uploader(key="upload_file_baseline").upload(
        "base.parquet", buffer.getvalue(), "application/octet-stream"
    ).run()
    assert not at.error, [e.value for e in at.error]
    assert any("(Parquet)" in c.value for c in at.caption)
    at.button[0].click().run()
    assert "Stored 4 baseline row(s) from base.parquet" in at.success[0].value


def test_data_page_proposes_a_labels_files_arrival_time_and_stores_it(fraud_store):
    at = app(query="fraud")
    at.switch_page("pages/data.py").run()
    at.radio(key="upload_kind").set_value("Delayed labels").run()
    labels = b"request_id,outcome,labelled_at\nr1,1,2026-11-05T08:00:00Z\nr2,0,2026-11-06T09:30:00Z\n"
    at.file_uploader(key="upload_file_labels").upload("labels.csv", labels, "text/csv").run()
    arrival = next(s for s in at.selectbox if s.label.startswith("Label arrival time"))
    assert arrival.value == "labelled_at"
    assert next(s for s in at.selectbox if s.label.startswith("Label (ground truth)")).value == "outcome"
    at.button[0].click().run()
    assert "Stored 2 label(s)" in at.success[0].value, [e.value for e in at.error]
    assert "Stored 2 label(s)" in at.toast[0].value  # also where the user scrolled to Confirm
    stored = fraud_store.all_delayed_labels(fraud_store.get_model("fraud").id)  # label rows and label blocks
    arrived = stored.loc[["r1", "r2"], "arrived_at"]
    assert [str(a)[:16] for a in arrived] == ["2026-11-05 08:00", "2026-11-06 09:30"]


def test_data_page_shows_a_validation_error_and_stores_nothing(fraud_store):
    at = app(query="fraud")
    at.switch_page("pages/data.py").run()
    at.radio(key="upload_kind").set_value("Live predictions").run()
    bad = LIVE.replace(b"2026-11-02T11:00:00Z", b"yesterday-ish")
    at.file_uploader(key="upload_file_live").upload("bad.csv", bad, "text/csv").run()
    assert at.error[0].value.startswith("Before storing:")  # checked at preview, before Confirm
    assert "unreadable time at line 3" in at.error[0].value
    assert at.button[0].disabled
    assert fraud_store.count_predictions() == 2


def test_data_page_stores_a_file_of_many_blocks_and_names_a_bad_row_past_the_preview(
    fraud_store, monkeypatch
):
    monkeypatch.setattr("readiness.core.tablefile.BLOCK_BYTES", 2_048)  # blocks of about 50 rows
    rows = [
        f"2026-11-03T{i // 60 % 24:02d}:{i % 60:02d}:00Z,b{i},{i % 7 + 0.5},DE,{i % 2},0.{i % 9 + 1}"
        for i in range(600)
    ]
    good = ("ts,request_id,amount,country,y_pred,y_pred_proba\n" + "\n".join(rows) + "\n").encode()
    bad = good.replace(b",b598,3.5,", b",b598,lots,")  # row 598: line 600, far past the preview's block
    assert bad != good
    at = app(query="fraud")
    at.switch_page("pages/data.py").run()
    at.radio(key="upload_kind").set_value("Live predictions").run()
    at.file_uploader(key="upload_file_live").upload("bad.csv", bad, "text/csv").run()
    assert "Read the first" in " ".join(c.value for c in at.caption)
    assert not at.error  # the preview's block is fine
    at.button[0].click().run()
    assert "Feature 'amount' must be numeric, but line 600 has 'lots'" in at.error[0].value
    assert fraud_store.count_predictions() == 2
    at.file_uploader(key="upload_file_live").upload("good.csv", good, "text/csv").run()
    at.button[0].click().run()
    assert "Stored 600 live row(s) from good.csv" in at.success[0].value, [e.value for e in at.error]
    assert fraud_store.count_predictions() == 602


def test_data_page_reports_an_unreadable_file(fraud_store):
    at = app(query="fraud")
    at.switch_page("pages/data.py").run()
    at.file_uploader(key="upload_file_baseline").upload("x.csv", b"\x00\x01\x02garbage", "text/csv").run()
    assert "not text" in at.error[0].value


def drift_table(at: AppTest):
    """The Drift page's per-column table (the test editor is a dataframe element too)."""
    return next(frame.value for frame in at.dataframe if "Since" in frame.value.columns)


def details_table(at: AppTest):
    """The Drift page's technical table: test, statistic and p-value per column."""
    return next(frame.value for frame in at.dataframe if "p-value (adjusted)" in frame.value.columns)


@pytest.fixture(scope="module")
def drift_template(tmp_path_factory) -> Path:
    """The drifting store, built once for this module; the Drift page only reads it."""
    from tests.drift_fixtures import drifting_store

    path = tmp_path_factory.mktemp("drift") / "drift.db"
    sealed(drifting_store(f"sqlite:///{path}"))
    return path


@pytest.fixture
def drift_db(drift_template, monkeypatch) -> str:
    url = f"sqlite:///{drift_template}"
    monkeypatch.setenv("READINESS_DATABASE_URL", url)
    monkeypatch.setenv("READINESS_AUTO_DEMO", "0")
    return url


def test_drift_page_flags_the_shifted_column_and_draws_the_charts(drift_db):
    at = app(query="shop")
    at.switch_page("pages/drift.py").run()
    assert not at.exception, at.exception
    assert [m.value for m in at.metric][:2] == ["1 of 5 columns", "changed"]
    assert any(
        "1 of 5 columns drift on their own in the week of 12 Oct 2026, and a classifier tells live rows"
        in c.value
        for c in at.caption
    )
    assert at.warning[0].value == "Drifting now (the week of 12 Oct 2026): amount since 5 Oct 2026 (2 weeks)"
    table = drift_table(at)
    assert table.loc[0, "Column"] == "amount" and table.loc[0, "Now"] == "drifting"
    assert table.loc[0, "Since"] == "5 Oct 2026" and table.loc[0, "Recovered on"] == ""
    assert "None" not in table.to_string()
    assert table.loc[0, "What changed"].startswith("Drifted: values moved by")
    assert (table["Now"][1:] == "steady").all()
    details = details_table(at)
    assert "None" not in details.to_string() and "nan" not in details.to_string()
    titles = [chart.proto.spec for chart in at.get("plotly_chart")]
    assert any("amount: baseline vs live distribution" in spec for spec in titles)
    assert any("When did drift start?" in spec for spec in titles)
    assert any("score: baseline vs live distribution" in spec for spec in titles)
    assert not any(chart.key.startswith("drift_proba_") for chart in at.get("plotly_chart"))  # binary: none


def test_drift_page_column_picker_and_window_change_the_analysis(drift_db):
    at = app(query="shop")
    at.switch_page("pages/drift.py").run()
    at.selectbox(key="drift_column_shop").set_value("region").run()
    specs = [chart.proto.spec for chart in at.get("plotly_chart")]
    assert any("region: baseline vs live distribution" in spec for spec in specs)
    at.selectbox(key="drift_window").set_value("week").run()
    assert not at.exception
    assert any("Drift per week" in chart.proto.spec for chart in at.get("plotly_chart"))


def test_drift_page_shows_an_error_for_an_hourly_window_over_a_long_range(drift_db):
    at = app(query="shop")
    at.switch_page("pages/drift.py").run()
    at.selectbox(key="drift_window").set_value("hour").run()
    assert "at most 3 days" in at.error[0].value


def test_drift_page_without_live_rows_says_what_to_upload(fraud_store):
    ingest_csv(fraud_store, "quiet", "baseline", BASELINE, "quiet.csv")
    at = app(query="quiet")
    at.switch_page("pages/drift.py").run()
    assert not at.exception
    assert "no live predictions yet" in at.info[0].value


def test_drift_page_can_calibrate_thresholds_on_the_baseline(drift_db):
    at = app(query="shop")
    at.switch_page("pages/drift.py").run()
    default_threshold = details_table(at).loc[0, "Threshold"]
    at.radio(key="drift_thresholds").set_value("Calibrated on the baseline").run()
    assert not at.exception
    table = drift_table(at)
    assert table.loc[0, "Column"] == "amount" and table.loc[0, "Now"] == "drifting"
    assert details_table(at).loc[0, "Threshold"] != default_threshold


def test_drift_page_can_use_the_fixed_cut_offs(drift_db):
    at = app(query="shop")
    at.switch_page("pages/drift.py").run()
    at.radio(key="drift_rule").set_value("Fixed cut-offs").run()
    assert not at.exception
    assert details_table(at).loc[0, "Test"] == "normed Wasserstein distance"
    assert drift_table(at).loc[0, "Now"] == "drifting"


def class_charts(at: AppTest) -> dict[str, dict]:
    """The Drift page's class probability charts: class -> plotly spec, in page order."""
    import json

    prefix = "drift_proba_"
    return {
        chart.key[len(prefix) :]: json.loads(chart.proto.spec)
        for chart in at.get("plotly_chart")
        if chart.key.startswith(prefix)
    }


def test_drift_page_charts_each_class_probability_of_the_demo_ticket_router(shared_demo):
    at = app(query="ticket-router")
    at.switch_page("pages/drift.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    keys = [chart.key for chart in at.get("plotly_chart")]
    assert {"drift_prediction", "drift_confidence"} <= set(keys) and "drift_score" not in keys
    charts = class_charts(at)
    assert list(charts) == ["account", "billing", "shipping", "technical"]  # every class, in class order
    for cls, spec in charts.items():
        assert spec["layout"]["title"]["text"] == f"{cls}<br><sup>probability, baseline vs live: steady</sup>"
        assert spec["layout"]["xaxis"]["title"]["text"] == f"Probability of {cls}"
        assert spec["layout"]["xaxis"]["range"] == [0, 1]
        assert [trace["name"] for trace in spec["data"]] == ["Baseline", "Live"]
    verdicts = [c.value for c in at.caption if c.value.startswith(("Steady: ", "Drifted: "))]
    table = drift_table(at).set_index("Column")
    expected = [table.loc[f"proba:{cls}", "What changed"] for cls in charts]
    assert [v for v in verdicts if v in expected] == expected  # each chart's verdict, as the table says it
    assert not any(m.label == "Classes to chart" for m in at.multiselect)  # four classes: no picker


@pytest.fixture(scope="module")
def many_classes_template(tmp_path_factory) -> Path:
    """Ten classes; from day 10 half of c09's probability moves to c07, so only those two drift."""
    from tests.drift_fixtures import class_probability_store

    path = tmp_path_factory.mktemp("classes") / "classes.db"
    sealed(
        class_probability_store(f"sqlite:///{path}", tuple(f"c{i:02d}" for i in range(10)), ("c07", "c09"))
    )
    return path


def test_drift_page_with_many_classes_charts_the_drifting_ones_first_and_lets_you_pick(
    many_classes_template, monkeypatch
):
    monkeypatch.setenv("READINESS_DATABASE_URL", f"sqlite:///{many_classes_template}")
    monkeypatch.setenv("READINESS_AUTO_DEMO", "0")
    at = app(query="router")
    at.switch_page("pages/drift.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    picker = at.multiselect(key="drift_classes_router")
    assert picker.options == [f"c{i:02d}" for i in range(10)]
    assert picker.value == ["c07", "c09", "c00", "c01", "c02", "c03", "c04", "c05"]
    charts = class_charts(at)
    assert list(charts) == picker.value  # eight charts, the drifting classes first
    for cls in ("c07", "c09"):
        assert "probability, baseline vs live: drifting since " in charts[cls]["layout"]["title"]["text"]
    assert charts["c00"]["layout"]["title"]["text"].endswith("steady</sup>")
    picker.set_value(["c08", "c07"]).run()
    assert not at.exception
    assert list(class_charts(at)) == ["c08", "c07"]


def settings(query: str = "fraud") -> AppTest:
    at = app(query=query)
    at.switch_page("pages/settings.py").run()
    assert not at.exception, at.exception
    return at


def add_through_the_form(at: AppTest, metric: str, comparison: str, threshold: float) -> AppTest:
    at.selectbox(key="criterion_metric").set_value(metric)
    at.selectbox(key="criterion_comparison").set_value(comparison)
    at.number_input(key="criterion_threshold").set_value(threshold)
    at.number_input(key="criterion_min_labels").set_value(200)
    return at.button(key="criterion_add").click().run()


def test_settings_page_without_models_says_where_to_start(db_url):
    at = settings(query="")
    assert "No models yet" in at.info[0].value


def test_settings_page_shows_task_defaults_for_a_fresh_model(fraud_store):
    at = settings()
    table = at.dataframe[0].value
    assert set(table["Source"]) == {"task default"}
    assert "roc_auc >= 0.70 per week, with at least 100 labels" in list(table["Criterion"])
    assert any("Task defaults in use" in c.value for c in at.caption)
    options = at.selectbox(key="criterion_metric").options
    assert "recall (higher is better)" in options and not any(o.startswith("r2") for o in options)
    assert "model.create" in list(at.dataframe[1].value["Action"])


def test_settings_page_adds_and_removes_a_criterion(fraud_store):
    at = add_through_the_form(settings(), "recall", ">=", 0.8)
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Added: recall >= 0.80 per week, with at least 200 labels" in at.success[0].value
    table = at.dataframe[0].value
    assert list(table["Criterion"]) == ["recall >= 0.80 per week, with at least 200 labels"]
    assert not any("Task defaults in use" in c.value for c in at.caption)
    trail = at.dataframe[1].value
    assert trail.loc[0, "Action"] == "criterion.add" and trail.loc[0, "Who"] == "dashboard (local mode)"

    at.button(key="criterion_remove").click().run()
    assert not at.exception and not at.error
    assert "Removed: recall >= 0.80" in at.success[0].value
    assert set(at.dataframe[0].value["Source"]) == {"task default"}
    assert at.dataframe[1].value.loc[0, "Action"] == "criterion.remove"
    assert not [b for b in at.button if b.key == "criterion_remove"]


@pytest.mark.parametrize(
    ("metric", "comparison", "threshold", "fragment"),
    [
        ("recall", "<=", 0.8, "higher-is-better"),
        ("recall", ">=", 80.0, "between 0 and 1"),
    ],
)
def test_settings_page_shows_an_error_and_stores_nothing(
    fraud_store, metric, comparison, threshold, fragment
):
    at = add_through_the_form(settings(), metric, comparison, threshold)
    assert not at.exception
    assert fragment in at.error[0].value
    assert set(at.dataframe[0].value["Source"]) == {"task default"}
    assert fraud_store.count_rows("criteria") == 0


def test_settings_page_asks_for_a_threshold(fraud_store):
    at = settings()
    at.button(key="criterion_add").click().run()
    assert "The threshold for accuracy is missing" in at.error[0].value


@pytest.fixture
def shared_demo(live_demo_path, monkeypatch) -> str:
    """The session's demo as of today (conftest.live_demo_path), for tests whose pages only read it."""
    url = f"sqlite:///{live_demo_path}"
    monkeypatch.setenv("READINESS_DATABASE_URL", url)
    monkeypatch.setenv("READINESS_AUTO_DEMO", "0")
    return url


@pytest.fixture
def demo(live_demo_path, tmp_path, monkeypatch) -> Store:
    """A private copy of the demo as of today, for tests that attest, withdraw or mark items."""
    store = copy_store(live_demo_path, tmp_path, "demo.db")
    monkeypatch.setenv("READINESS_DATABASE_URL", f"sqlite:///{tmp_path / 'demo.db'}")
    monkeypatch.setenv("READINESS_AUTO_DEMO", "0")
    yield store
    store.engine.dispose()


def chart_texts(at: AppTest) -> list[str]:
    """Title and annotation texts of every plotly chart on the page."""
    import json

    texts = []
    for chart in at.get("plotly_chart"):
        layout = json.loads(chart.proto.spec).get("layout", {})
        title = layout.get("title", {})
        notes = " | ".join(a.get("text", "") for a in layout.get("annotations", []))
        names = " | ".join(
            trace.get("name", "") or "" for trace in json.loads(chart.proto.spec).get("data", [])
        )
        texts.append(f"{title.get('text', '') if isinstance(title, dict) else title} || {notes} || {names}")
    return texts


def test_performance_page_shows_the_fraud_recall_failure(shared_demo):
    at = app(query="fraud")
    at.switch_page("pages/performance.py").run()
    assert not at.exception, at.exception
    cards = [m.value for m in at.markdown]
    assert any("recall ≥ 0.75 per week" in text or "recall >= 0.75 per week" in text for text in cards)
    assert any("**fail**" in text for text in cards)
    specs = chart_texts(at)
    assert any("recall per week" in spec and "criterion >= 0.75" in spec for spec in specs)
    assert any("Estimated (no labels needed)" in spec for spec in specs)
    assert any("Confusion matrix" in spec for spec in specs)
    assert any("Labels: coverage and delay" in spec for spec in specs)
    gap = next(frame.value for frame in at.dataframe if "Difference" in frame.value.columns).set_index(
        "Metric"
    )
    assert gap.loc["recall", "Difference"] < -0.1


def test_performance_page_for_regression_and_versions(shared_demo):
    at = app(query="demand")
    at.switch_page("pages/performance.py").run()
    assert not at.exception
    specs = chart_texts(at)
    assert any("mae per week" in spec and "Estimated (no labels needed)" in spec for spec in specs)
    assert any("objective 200 ms" in spec for spec in specs)
    estimated = next(frame.value for frame in at.dataframe if "Estimated" in frame.value.columns)
    assert list(estimated["Metric"]) == ["mae", "rmse"]  # direct loss estimation, without labels
    assert (estimated["Estimated"] > 0).all() and estimated["Estimate interval"].str.contains(" to ").all()
    assert any("an error model fitted on the baseline" in c.value for c in at.caption)
    at = app(query="credit")
    at.switch_page("pages/performance.py").run()
    assert not at.exception
    versions = next(frame.value for frame in at.dataframe if "Version" in frame.value.columns)
    assert set(versions["Version"]) == {"2.3.0", "2.4.0-rc1"}
    assert any("Labels are still arriving for the week from" in c.value for c in at.caption)
    assert not any(
        "insufficient data" in m.value.lower() for m in at.markdown if "·" in m.value
    )  # Ready: no grey lead


def test_performance_page_judges_the_demo_ticket_router_per_class(shared_demo):
    at = app(query="ticket-router")
    at.switch_page("pages/performance.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    cards = [m.value for m in at.markdown]  # each criterion's card: its text, then its status and value
    for criterion in ("macro_f1 >= 0.72 per week", "accuracy >= 0.75 per week"):
        title = next(i for i, text in enumerate(cards) if criterion in text)
        assert "**pass**" in cards[title + 1], cards[title + 1]
    assert not any("**fail**" in text for text in cards)
    specs = chart_texts(at)
    assert any("macro_f1 per week" in spec and "criterion >= 0.72" in spec for spec in specs)
    assert any("Confusion matrix" in spec for spec in specs)
    per_class = next(d.value for d in at.dataframe if "ROC AUC (one vs rest)" in d.value.columns)
    assert list(per_class["Class"]) == ["account", "billing", "shipping", "technical"]
    assert (per_class["Labelled"] > 0).all() and per_class["ROC AUC (one vs rest)"].min() > 0.8


def test_performance_page_metric_picker_and_month_window(shared_demo):
    at = app(query="fraud")
    at.switch_page("pages/performance.py").run()
    at.selectbox(key="perf_extra_metric").set_value("roc_auc").run()
    at.selectbox(key="perf_window").set_value("month").run()
    assert not at.exception
    assert any("roc_auc per month" in spec for spec in chart_texts(at))


def test_performance_page_segments_by_a_categorical_feature(shared_demo):
    at = app(query="fraud")
    at.switch_page("pages/performance.py").run()
    at.selectbox(key="perf_segment").set_value("merchant_category").run()
    assert not at.exception
    segments = next(frame.value for frame in at.dataframe if "Segment" in frame.value.columns)
    assert "grocery" in set(segments["Segment"]) and (segments["Labelled"] > 0).all()


# -- Overview, Checklist and Report on readiness -------------------------------------------

ROLLBACK = "rollback_drill"
ROLLBACK_TITLE = "Rolling back to the previous model has been rehearsed"


def readiness_cards(at: AppTest) -> list[tuple[str, str, str]]:
    """(model, score, status) of each Overview card, top to bottom."""
    names = [h.value for h in at.subheader if h.value != "All models"]
    scores = [(m.value, m.delta) for m in at.metric if m.label == "Readiness score"]
    return [(name, score, status) for name, (score, status) in zip(names, scores, strict=True)]


def gauge_title(at: AppTest) -> str:
    """The readiness gauge's title on the Checklist page, e.g. 'Readiness: <b>At risk</b>'."""
    import json

    gauge = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if '"indicator"' in c.proto.spec)
    return gauge["data"][0]["title"]["text"]


def item_label(at: AppTest, title: str) -> str:
    """The Checklist page's expander label of one item (status, title, critical marker)."""
    return next(e.label for e in at.expander if f" · {title}" in e.label)


def checklist(query: str) -> AppTest:
    at = app(query=query)
    at.switch_page("pages/checklist.py").run()
    assert not at.exception, at.exception
    return at


def test_overview_puts_the_worst_model_first_with_status_score_and_reasons(shared_demo):
    at = app()
    assert not at.exception, at.exception
    assert [(m.label, m.value) for m in at.metric][:4] == [
        ("Models", "4"),
        ("Ready", "2"),
        ("At risk", "1"),
        ("Not ready", "1"),
    ]
    cards = readiness_cards(at)
    assert [(name, status) for name, _, status in cards] == [
        ("fraud", "Not ready"),
        ("demand", "At risk"),
        ("credit", "Ready"),  # credit and ticket-router are both Ready at 81: in name order
        ("ticket-router", "Ready"),
    ]
    assert {name: score for name, score, _ in cards}["demand"] == "67 / 100"
    texts = [shown(m.value) for m in at.markdown]
    assert any(
        f"- {ROLLBACK_TITLE} (not attested yet)\n" in text for text in texts
    )  # no ": Not attested yet."
    assert any(  # a failure says why, with the drift's start
        "- No feature has drifted from the baseline (failing): 1 of 8 features drifting" in text
        for text in texts
    )
    assert any(
        ":red[:material/ssid_chart: **Drift:** " in text and "drifting: device_trust" in text
        for text in texts
    )
    assert any("Criteria:** failing: recall" in text for text in texts)
    assert any("Nothing is holding it back" in text for text in texts)
    table = at.dataframe[0].value.set_index("Model")
    assert table.loc["fraud", "Status"] == "Not ready" and table.loc["credit", "Status"] == "Ready"
    assert (
        table.loc["ticket-router", "Status"] == "Ready" and table.loc["ticket-router", "Task"] == "multiclass"
    )
    assert table.loc["demand", "Operations section"] == pytest.approx(200 / 3)
    assert ROLLBACK_TITLE in table.loc["demand", "Holding it back"]


def test_overview_card_links_open_that_models_pages(shared_demo):
    at = app(query="credit")
    assert {b.key for b in at.button} >= {
        f"open_{page}_{name}"
        for page in ("checklist", "drift", "performance")
        for name in ("fraud", "demand", "credit", "ticket-router")
    }
    at.button(key="open_checklist_demand").click().run()
    assert not at.exception, at.exception
    assert at.sidebar.selectbox(key="model").value == "demand"
    assert at.title[0].value == "Checklist" and "At risk" in gauge_title(at)
    at = app(query="credit")
    at.button(key="open_drift_fraud").click().run()
    assert at.sidebar.selectbox(key="model").value == "fraud" and at.title[0].value == "Drift"


def test_checklist_page_shows_gauges_every_item_and_the_evidence(shared_demo):
    at = checklist("fraud")
    assert gauge_title(at) == "Readiness: <b>Not ready</b>"
    keys = [chart.key for chart in at.get("plotly_chart")]
    assert keys == [  # score gauge, one gauge per section (they wrap on a phone), score history
        "checklist_score_gauge",
        *(f"checklist_section_gauge_{i}" for i in range(4)),
        "checklist_history",
    ]
    assert any(
        "A critical check fails" in m.value and "The model meets its success criteria" in m.value
        for m in at.markdown
    )
    labels = [e.label for e in at.expander if " · " in e.label]
    assert len(labels) == len(DEFAULT_ITEMS)
    assert all(any(f" · {item.title}" in label for label in labels) for item in DEFAULT_ITEMS)
    assert "**Fail**" in item_label(at, "The model meets its success criteria")
    assert "critical" in item_label(at, "The model meets its success criteria")
    assert "**Pass**" in item_label(at, "Every prediction is a valid output")
    assert "**Attested**" in item_label(at, "A model card describes purpose, data and limits")
    assert "**Not attested**" in item_label(at, ROLLBACK_TITLE)
    texts = [shown(m.value) for m in at.markdown]
    assert any(text.startswith("**Evidence:** device_trust: Drifted: values moved by") for text in texts)
    evidence = "https://wiki.example.com/ml/fraud/model-card"
    assert any(f"Evidence: [{evidence}]({evidence})" in text for text in texts)  # the URL itself is shown
    assert any(text.startswith("**To pass:** Review the drifted features") for text in texts)
    assert at.subheader[0].value == "fraud is :red[:material/cancel: Not ready]"
    sections = [s.value for s in at.subheader][1:5]
    assert [s.split(" · ")[0] for s in sections] == ["Data", "Model", "Operations", "Monitoring"]
    assert all(re.fullmatch(r"\w+ · :(green|orange|red)\[\d+%\]", s) for s in sections), sections
    items = at.dataframe[-1].value
    assert len(items) == len(DEFAULT_ITEMS)
    assert items.set_index("Key").loc["criteria_met", "Status"] == ItemStatus.FAIL.label


def attest_through_the_form(at: AppTest, item: str, owner: str, url: str, days: int = 180) -> AppTest:
    at.selectbox(key="attest_item").set_value(item)
    at.text_input(key="attest_owner").input(owner)
    at.text_input(key="attest_url").input(url)
    at.number_input(key="attest_days").set_value(days)
    at.text_input(key="attest_note").input("Drill on the staging cluster.")
    return at.button(key="attest_submit").click().run()


def test_attesting_through_the_form_stores_it_and_lifts_the_score(demo):
    demand = demo.get_model("demand")
    before = len(current_attestations(demo, demand.id))
    at = checklist("demand")
    assert gauge_title(at) == "Readiness: <b>At risk</b>"
    assert at.selectbox(key="attest_item").value == "privacy_review"  # the first item still to sign off
    at = attest_through_the_form(at, ROLLBACK, "R. Diaz", "https://wiki.example.com/ml/demand/rollback-drill")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.success[0].value.startswith(f"Attested: {ROLLBACK_TITLE}, by R. Diaz, valid through ")
    assert at.success[0].value.endswith("The score is now 75 (Ready).")
    stored = current_attestations(demo, demand.id)
    assert len(stored) == before + 1
    assert stored[ROLLBACK].owner == "R. Diaz" and stored[ROLLBACK].note == "Drill on the staging cluster."
    assert (stored[ROLLBACK].expires_at - stored[ROLLBACK].attested_at).days == 180
    assert gauge_title(at) == "Readiness: <b>Ready</b>"
    assert "Operations · :green[75%]" in [s.value for s in at.subheader]
    assert "**Attested**" in item_label(at, ROLLBACK_TITLE)


@pytest.mark.parametrize(
    "url", ["wiki.example.com/rollback", "javascript:alert(1)", "https://exa mple.com/x", ""]
)
def test_attesting_with_a_bad_evidence_link_shows_an_error_and_stores_nothing(fraud_store, url):
    at = attest_through_the_form(checklist("fraud"), ROLLBACK, "R. Diaz", url)
    assert not at.exception
    assert "not a web address" in at.error[0].value
    assert not at.success
    assert fraud_store.count_rows("attestations") == 0
    assert "**Not attested**" in item_label(at, ROLLBACK_TITLE)


def test_attesting_without_an_owner_shows_an_error(fraud_store):
    at = attest_through_the_form(checklist("fraud"), ROLLBACK, "  ", "https://wiki.example.com/drill")
    assert "has no owner" in at.error[0].value
    assert fraud_store.count_rows("attestations") == 0


def test_withdrawing_an_attestation(fraud_store):
    at = attest_through_the_form(checklist("fraud"), "model_card", "Ana", "https://wiki.example.com/card")
    assert "**Attested**" in item_label(at, "A model card describes purpose, data and limits")
    options = at.selectbox(key="withdraw_item_fraud").options
    assert options == ["A model card describes purpose, data and limits"]
    at.button(key="withdraw_submit").click().run()
    assert not at.exception and not at.error
    assert at.success[0].value.startswith("Withdrawn: A model card")
    assert fraud_store.count_rows("attestations") == 0
    assert "**Not attested**" in item_label(at, "A model card describes purpose, data and limits")
    assert not [b for b in at.button if b.key == "withdraw_submit"]


def test_marking_an_item_not_applicable_needs_a_reason_and_can_be_undone(fraud_store):
    model_id = fraud_store.get_model("fraud").id
    title = "Performance across groups has been reviewed"
    at = checklist("fraud")
    at.selectbox(key="exclude_item_fraud").set_value("fairness_review")
    at.button(key="exclude_submit").click().run()
    assert "without a reason" in at.error[0].value
    assert dict(load_config(fraud_store, model_id).not_applicable) == {}
    assert "**Not attested**" in item_label(at, title)

    at.text_input(key="exclude_reason").input("Decisions do not differ by customer group.")
    at.button(key="exclude_submit").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.success[0].value.startswith(f"Not applicable: {title}. The score is now ")
    assert dict(load_config(fraud_store, model_id).not_applicable) == {
        "fairness_review": "Decisions do not differ by customer group."
    }
    assert "**Not applicable**" in item_label(at, title)
    assert any(m.value == "**Finding:** Decisions do not differ by customer group." for m in at.markdown)
    assert "fairness_review" not in at.selectbox(key="exclude_item_fraud").options

    at.button(key="include_submit").click().run()
    assert not at.exception and not at.error
    assert at.success[0].value.startswith(f"Counted again: {title}. The score is now ")
    assert dict(load_config(fraud_store, model_id).not_applicable) == {}
    assert "**Not attested**" in item_label(at, title)


def test_checklist_and_report_pages_without_models_say_where_to_start(db_url):
    for page in ("pages/checklist.py", "pages/report.py"):
        at = app()
        at.switch_page(page).run()
        assert not at.exception
        assert "No models yet" in at.info[0].value


def test_report_page_offers_the_model_and_portfolio_reports(fraud_store):
    at = app(query="fraud")
    at.switch_page("pages/report.py").run()
    assert not at.exception, at.exception
    assert not at.error
    downloads = at.get("download_button")
    assert [d.proto.label for d in downloads] == [
        "Download the report of fraud",
        "Download the portfolio report",
    ]
    # each button serves its file: stored up front (a URL) or generated on click (a deferred file id)
    assert all(d.proto.url or d.proto.deferred_file_id for d in downloads)
    today = datetime.now(UTC).date()
    assert any(f"readiness-fraud-{today:%Y-%m-%d}.html" in c.value for c in at.caption)
    assert "python -m readiness report --model fraud --out" in at.code[0].value
    assert "python -m readiness report --all" in at.code[0].value
    assert at.get("iframe")


def test_an_unknown_model_in_the_link_is_named_in_a_warning(fraud_store):
    at = app(query="no-such-model")
    assert not at.exception
    assert (
        "There is no model named 'no-such-model'" in at.warning[0].value
        and "showing 'fraud'" in at.warning[0].value
    )
    assert at.query_params["model"] == ["fraud"] or at.query_params["model"] == "fraud"


def test_the_uploader_promises_the_limit_ingestion_enforces(db_url, monkeypatch):
    monkeypatch.setenv("READINESS_MAX_UPLOAD_MB", "3")
    at = app()
    at.switch_page("pages/data.py").run()
    assert at.file_uploader(key="upload_file_baseline").proto.max_upload_size_mb == 3
    monkeypatch.delenv("READINESS_MAX_UPLOAD_MB")
    at = app()
    at.switch_page("pages/data.py").run()
    assert at.file_uploader(key="upload_file_baseline").proto.max_upload_size_mb == 500  # a 1M-row log fits


def test_a_live_upload_with_dates_that_read_two_ways_asks_for_the_format(fraud_store):
    ambiguous = (
        b"ts,request_id,amount,country,y_pred,y_pred_proba\n"
        b"03/11/2026 10:00,r3,1.5,DE,1,0.8\n04/11/2026 11:00,r4,2.0,FR,0,0.3\n"
    )
    at = app(query="fraud")
    at.switch_page("pages/data.py").run()
    at.radio(key="upload_kind").set_value("Live predictions").run()
    at.file_uploader(key="upload_file_live").upload("ambiguous.csv", ambiguous, "text/csv").run()
    assert "read two ways" in at.error[0].value and "Date format" in at.error[0].value
    assert at.button[0].disabled and fraud_store.count_predictions() == 2
    date_format = next(s for s in at.selectbox if s.label == "Date format")
    date_format.set_value("Day first (dayfirst)").run()
    at.button[0].click().run()
    assert not at.error, [e.value for e in at.error]
    assert fraud_store.count_predictions() == 4


def test_performance_page_says_so_when_no_latency_is_logged(drift_db):
    at = app(query="shop")  # the drifting fixture logs no latency
    at.switch_page("pages/performance.py").run()
    assert not at.exception, at.exception
    assert any("No serving latency is logged" in i.value for i in at.info)
    assert not any("Serving latency" in chart.proto.spec for chart in at.get("plotly_chart"))
    confusion = next(
        chart.proto.spec for chart in at.get("plotly_chart") if "Confusion matrix" in chart.proto.spec
    )
    assert "positive (1)" in confusion and "negative (not 1)" in confusion


def test_confirm_waits_for_every_required_role_and_says_which(fraud_store):
    at = app(query="fraud")
    at.switch_page("pages/data.py").run()
    at.radio(key="upload_kind").set_value("Live predictions").run()
    unnamed = b"when,request_id,amount,country,y_pred,y_pred_proba\n2026-11-03T10:00:00Z,r9,1.5,DE,1,0.8\n"
    at.file_uploader(key="upload_file_live").upload("live.csv", unnamed, "text/csv").run()
    assert any("Choose the column that holds the timestamp above" in w.value for w in at.warning)
    assert at.button[0].disabled
    timestamp = next(s for s in at.selectbox if s.label.startswith("Timestamp"))
    timestamp.set_value("when").run()
    assert not at.button[0].disabled
    ended = next(c for c in at.checkbox if c.label.startswith("This log has ended"))
    assert ended.value and "3 Nov 2026" in ended.label  # a log older than the freshness objective
    at.button[0].click().run()
    assert not at.error, [e.value for e in at.error]
    assert fraud_store.count_predictions() == 3
    assert any("upload delayed labels for fraud" in i.value for i in at.info)
    assert any("judged as a historical log" in s.value for s in at.success)
    from readiness.analysis.settings import checklist_config

    assert checklist_config(fraud_store, fraud_store.get_model("fraud")).historical


def test_after_a_baseline_the_page_offers_the_live_upload(db_url):
    at = app()
    at.switch_page("pages/data.py").run()
    at.selectbox(key="upload_model_baseline").set_value("New model...").run()
    at.text_input(key="new_model_name").set_value("churn").run()
    at.file_uploader(key="upload_file_baseline").upload("base.csv", BASELINE, "text/csv").run()
    at.button[0].click().run()
    assert any("Now upload live predictions for churn." in i.value for i in at.info)
    at.button(key="next_step").click().run()
    assert at.radio(key="upload_kind").value == "Live predictions"


EVIL = "http://127.0.0.1:9/steal"
HOSTILE = f"![pixel]({EVIL}/p.png) [Re-verify your login]({EVIL}) <img src={EVIL}> $\\href{{{EVIL}}}{{x}}$ :red[alarm]"


def rendered_text(at: AppTest) -> list[str]:
    """The source of every element that renders markdown: text, captions, alerts, expander labels."""
    kinds = (at.markdown, at.caption, at.error, at.warning, at.info, at.success)
    return [e.value for kind in kinds for e in kind] + [e.label for e in at.expander]


def no_markup_from(texts: list[str]) -> None:
    """No link, image, HTML tag, math or colour formed from the hostile text (every "[", "<", "$" escaped)."""
    for text in texts:
        targets = re.findall(r"(?<!\\)\[(?:\\.|[^\]\\])*\]\(([^)\s]*)", text)  # real links only
        assert not [t for t in targets if t.startswith(EVIL)], text
        assert not re.search(r"(?<!\\)<img", text), text
        assert not re.search(r"(?<!\\)\$\\href", text), text
        assert ":red[alarm]" not in text, text


def test_user_text_cannot_become_links_images_or_colours_on_any_page(db_url):
    from readiness.analysis.settings import attest, mark_not_applicable

    store = Store.open(db_url)
    hostile_column = f"amount [x]({EVIL})"
    base = BASELINE.replace(b"amount", hostile_column.encode())
    live = LIVE.replace(b"amount", hostile_column.encode())
    ingest_csv(
        store, "fraud", "baseline", base, "base.csv", new_model=ModelSpec("binary", "1", owner=HOSTILE)
    )
    ingest_csv(store, "fraud", "live", live, "live.csv")
    model = store.get_model("fraud")
    attest(store, model, "model_card", HOSTILE, f"https://wiki.example.com/card)![x]({EVIL}/y.png")
    mark_not_applicable(store, model, "fairness_review", HOSTILE)
    at = app(query="fraud")
    assert not at.exception
    no_markup_from(rendered_text(at))
    for page in ("pages/checklist.py", "pages/drift.py", "pages/performance.py", "pages/settings.py"):
        at.switch_page(page).run()
        assert not at.exception, page
        no_markup_from(rendered_text(at))
    at.switch_page("pages/checklist.py").run()
    links = [m.value for m in at.markdown if "Evidence: [" in m.value]
    assert (
        links and "(https://wiki.example.com/card%29!%5Bx%5D%28http" in links[0]
    )  # the link's ")" and "[" are encoded: no break-out


def number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_text_that_is_a_negative_number_is_shown_as_written_and_formulas_are_quoted():
    from shell import formula_safe

    frame = pd.DataFrame({"x": ["-0.6287", "+3", "-1e-05", "-1+1", "=1+1", "@SUM(A1)", "-", "north"]})
    assert formula_safe(frame)["x"].tolist() == [
        "-0.6287",
        "+3",
        "-1e-05",
        "'-1+1",
        "'=1+1",
        "'@SUM(A1)",
        "'-",
        "north",
    ]


def test_every_table_is_formula_safe_so_its_csv_download_runs_nothing(db_url):
    store = Store.open(db_url)
    formula = '=HYPERLINK("http://127.0.0.1:9","x")'
    base = BASELINE.replace(b"country", b"+cmd").replace(b"DE", formula.replace(",", ";").encode())
    live = LIVE.replace(b"country", b"+cmd").replace(b"DE", formula.replace(",", ";").encode())
    ingest_csv(
        store, "fraud", "baseline", base, "base.csv", new_model=ModelSpec("binary", "1", owner="@owner")
    )
    ingest_csv(store, "fraud", "live", live, "live.csv")
    at = app(query="fraud")
    for page in ("pages/overview.py", "pages/drift.py", "pages/checklist.py", "pages/settings.py"):
        at.switch_page(page).run()
        assert not at.exception, page
        for frame in at.dataframe:
            cells = [str(c) for c in frame.value.columns] + [
                v for column in frame.value.columns for v in frame.value[column] if isinstance(v, str)
            ]
            formulas = [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r")) and not number(c)]
            assert not formulas, (page, cells)
    at.switch_page("pages/drift.py").run()
    names = [v for frame in at.dataframe for v in frame.value.get("Column", [])]
    assert "'+cmd" in names  # still readable, but a spreadsheet shows it as text


def test_the_audit_view_lists_every_models_changes_with_who_made_them(fraud_store):
    from readiness.analysis.settings import add_criterion
    from readiness.core.criteria import parse_criterion

    ingest_csv(fraud_store, "credit", "baseline", BASELINE, "credit.csv", actor="ana")
    add_criterion(fraud_store, fraud_store.get_model("fraud"), parse_criterion("recall >= 0.8"), "bob")
    at = app(query="fraud")
    at.switch_page("pages/settings.py").run()
    own = at.dataframe[-1].value
    assert "Model" not in own.columns and set(own["Who"]) >= {"bob"} and "ana" not in set(own["Who"])
    at.radio(key="audit_scope").set_value("Every model").run()
    every = at.dataframe[-1].value
    assert {("credit", "ana"), ("fraud", "bob")} <= set(zip(every["Model"], every["Who"], strict=True))


def test_data_page_proposes_class_probabilities_and_stores_them_not_as_features(db_url):
    """A multiclass baseline with y_pred_proba_<class>: proposed, shown with their classes, stored as outputs."""
    from tests.factories import to_csv_bytes
    from tests.test_class_probabilities import CLASSES, router_frame

    frame = router_frame(60)
    at = app()
    at.switch_page("pages/data.py").run()
    at.selectbox(key="upload_model_baseline").set_value("New model...").run()
    at.text_input(key="new_model_name").set_value("router").run()
    at.file_uploader(key="upload_file_baseline").upload("router.csv", to_csv_bytes(frame), "text/csv").run()
    assert not at.error, [e.value for e in at.error]
    chosen = next(m for m in at.multiselect if m.label.startswith("Class probabilities"))
    assert sorted(chosen.value) == sorted(f"y_pred_proba_{c}" for c in CLASSES)
    captions = " ".join(c.value for c in at.caption)
    plain = captions.replace("\\", "")  # markdown escapes of the underscores
    assert "y_pred_proba_refund → refund" in plain and "Features: amount, channel" in plain
    assert at.selectbox(key="new_model_task").value == "multiclass"
    at.button[0].click().run()
    assert not at.exception and "Stored 60 baseline row(s)" in at.success[0].value
    store = Store.open(db_url)
    baseline = store.active_baseline(store.get_model("router").id)
    assert baseline.feature_names == ("amount", "channel") and baseline.classes == tuple(sorted(CLASSES))


def test_performance_page_shows_a_multiclass_models_classes_with_their_auc_and_calibration(db_url):
    from tests.factories import to_csv_bytes
    from tests.test_class_probabilities import CLASSES, router_frame

    store = Store.open(db_url)
    ingest_csv(store, "router", "baseline", to_csv_bytes(router_frame(300)), "b.csv")
    live = router_frame(400, seed=2, live=True)
    ingest_csv(store, "router", "live", to_csv_bytes(live), "l.csv")
    rng = np.random.default_rng(4)
    labels = pd.DataFrame({"request_id": live["request_id"], "label": rng.choice(CLASSES, len(live))})
    ingest_csv(store, "router", "labels", to_csv_bytes(labels), "y.csv")
    at = app(query="router")
    at.switch_page("pages/performance.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(h.value == "Per class" for h in at.subheader)
    per_class = next(d.value for d in at.dataframe if "ROC AUC (one vs rest)" in d.value.columns)
    assert sorted(per_class["Class"]) == sorted(CLASSES) and per_class["Labelled"].sum() == 400
    assert per_class["ROC AUC (one vs rest)"].notna().all() and per_class["Calibration error"].notna().all()


def test_performance_page_warns_when_the_baseline_is_too_small_to_calibrate_the_estimate(db_url):
    store = Store.open(db_url)
    ingest_csv(store, "small", "baseline", baseline_csv(120), "b.csv")  # under the 200 rows calibration needs
    ingest_csv(store, "small", "live", live_csv(300), "l.csv")
    at = app(query="small")
    at.switch_page("pages/performance.py").run()
    assert not at.exception, at.exception
    warning = next(w.value for w in at.warning if "less reliable" in w.value)
    assert "baseline has 120 labelled rows, fewer than the 200 needed to calibrate" in warning
    estimated = next(frame.value for frame in at.dataframe if "Estimated" in frame.value.columns)
    assert "accuracy" in set(estimated["Metric"])


def test_data_page_says_a_lake_models_live_logs_go_to_its_lake_and_offers_no_upload(tmp_path, monkeypatch):
    from test_external_days import external

    store = external(tmp_path, "binary")  # profiled in parts, as a Spark job stores it
    monkeypatch.setenv("READINESS_DATABASE_URL", str(store.engine.url))
    monkeypatch.setenv("READINESS_AUTO_DEMO", "0")
    at = app(query="m")
    at.switch_page("pages/data.py").run()
    at.radio(key="upload_kind").set_value("Live predictions").run()
    assert "a Spark job profiles its log where it lives" in at.info[0].value
    assert not at.get("file_uploader")
    at.radio(key="upload_kind").set_value("Baseline (reference data)").run()
    assert len(at.get("file_uploader")) == 1  # a new baseline is still uploaded here


def test_data_page_proposes_a_score_from_its_values_and_warns_when_the_positive_class_changes(db_url):
    """prob_benign is no score name: its values propose it; choosing the other positive class warns."""
    rng = np.random.default_rng(3)
    p = rng.beta(2, 2, 300).round(4)
    frame = pd.DataFrame(
        {"size": rng.normal(size=300).round(3), "prob_benign": p, "predicted": (p >= 0.5).astype(int)}
    )
    frame["diagnosis"] = np.where(rng.random(300) < p, 1, 0)
    at = app()
    at.switch_page("pages/data.py").run()
    at.selectbox(key="upload_model_baseline").set_value("New model...").run()
    at.text_input(key="new_model_name").set_value("cancer").run()
    at.file_uploader(key="upload_file_baseline").upload(
        "b.csv", frame.to_csv(index=False).encode(), "text/csv"
    ).run()
    assert not at.error, [e.value for e in at.error]
    score = next(s for s in at.selectbox if s.label.startswith("Score"))
    assert score.value == "prob_benign"
    assert any("is proposed as the score (the probability of class '1')" in c.value for c in at.caption)
    assert not at.warning
    at.text_input(key="new_model_positive").set_value("0").run()
    assert any("was proposed as the probability of '1'" in w.value for w in at.warning)
    at.text_input(key="new_model_positive").set_value("1").run()
    at.button[0].click().run()
    assert "Stored 300 baseline row(s)" in at.success[0].value
    model = Store.open(db_url).get_model("cancer")
    assert Store.open(db_url).active_baseline(model.id).feature_names == ("size",)
