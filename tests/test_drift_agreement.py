"""One verdict everywhere: the Drift page, Overview, Checklist, report and CLI name the same drifting columns and start dates."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from conftest import sealed
from streamlit.testing.v1 import AppTest

from readiness import Store
from readiness.analysis.assessment import assess_model
from readiness.analysis.drift_overview import drift_overview
from readiness.analysis.overview import portfolio_overview
from readiness.analysis.report import model_report_html
from readiness.cli import main
from readiness.core.drift_now import day_label
from readiness.core.records import utcnow

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def middle_drift(tmp_path_factory) -> Path:
    """A generated log of 20 days whose "amount" shifts from day 10 on."""
    from tests.drift_fixtures import drifting_store

    path = tmp_path_factory.mktemp("agreement") / "shop.db"
    sealed(drifting_store(f"sqlite:///{path}"))
    return path


CASES = [
    ("demo", "fraud"),
    ("demo", "credit"),
    ("demo", "demand"),
    ("demo", "ticket-router"),  # multiclass: confidence and class probabilities are drift outputs too
    ("middle", "shop"),
]


@pytest.fixture(params=CASES, ids=[f"{db}-{model}" for db, model in CASES])
def case(request, live_demo_path, middle_drift, monkeypatch):
    db, name = request.param
    path = live_demo_path if db == "demo" else middle_drift
    url = f"sqlite:///{path}"
    monkeypatch.setenv("READINESS_DATABASE_URL", url)
    monkeypatch.setenv("READINESS_AUTO_DEMO", "0")
    store = Store.open(url)
    yield url, store, store.get_model(name)
    store.engine.dispose()


def test_every_view_names_the_same_drifting_columns_and_start_dates(case, capsys):
    url, store, model = case
    now = utcnow().replace(minute=0, second=0, microsecond=0)

    overview = drift_overview(store, model, as_of=now)  # the Drift page opened without a range
    expected = {c.column: c.since for c in overview.columns() if c.drifting_now}
    runs = [f"{column} since {day_label(since)}" for column, since in expected.items()]
    if model.name in ("fraud", "shop"):
        assert expected, f"{model.name} drifts in its latest window in this fixture"
    if model.name == "shop":
        assert expected == {"amount": datetime(2026, 10, 5)}  # the week holding day 10, when the shift starts

    assessment = assess_model(store, model, now)
    assert {c: assessment.drift[c].since for c in assessment.drift.drifting} == expected
    checklist = " ".join(
        assessment.result(key).reason for key in ("no_feature_drift", "score_distribution_stable")
    )
    card = next(m for m in portfolio_overview(store, now).models if m.name == model.name).drift_text
    report = model_report_html(store, model, now=now)
    drift_rows = report[report.index("Drift now") :]
    for text in runs:
        assert text in checklist, (text, checklist)
        assert text in card, (text, card)
        column, since = text.split(" since ")
        assert re.search(
            rf"<td>{re.escape(column)}</td><td>.*?</td><td>since {re.escape(since)} ", drift_rows
        )
    assert f"in {overview.now.period}" in checklist and f"({overview.now.period})" in card

    assert main(["--database", url, "drift", "--model", model.name, "--json", "--no-multivariate"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert {c["column"]: c["since"] for c in cli["columns"] if c["drifting_now"]} == {
        column: f"{since:%Y-%m-%d}" for column, since in expected.items()
    }

    page = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    page.query_params["model"] = model.name
    page.run()
    page.switch_page("pages/drift.py").run()
    assert not page.exception, page.exception
    assert page.metric[0].value == f"{len(expected)} of {overview.now.n_analyzed} columns"
    warnings = " ".join(w.value.replace("\\_", "_") for w in page.warning)  # as shown: escapes removed
    for text in runs:
        assert text in warnings
    if not expected:
        assert "Drifting now" not in warnings
