"""The deployment gate and the checklist commands: decisions, one-line reasons, exit codes, JSON."""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime, timedelta

import pytest

from readiness import Store
from readiness.analysis.assessment import score_history
from readiness.analysis.contract import gate_json
from readiness.analysis.gate import gate
from readiness.analysis.refresh import refresh_model
from readiness.analysis.settings import attest
from readiness.cli import main
from readiness.core.checklist import DEFAULT_ITEMS
from readiness.core.records import utcnow
from readiness.errors import ChecklistError
from readiness.storage import schema as t
from tests.readiness_fixtures import NOW, insert_raw

URL = "https://wiki.example.com/shop"


@pytest.fixture
def shop_url(healthy) -> str:
    """The URL of a private copy of the healthy store (model "shop")."""
    return healthy.engine.url.render_as_string(hide_password=False)


def run(url: str, *args: str) -> int:
    return main(["--database", url, *args])


def attest_all(store) -> None:
    model = store.get_model("shop")
    for item in DEFAULT_ITEMS:
        if item.kind == "attested":
            attest(store, model, item.key, "Ana", f"{URL}/{item.key}", today=NOW.date())


def test_gate_passes_a_ready_model_and_blocks_below_the_minimum(healthy):
    store = healthy
    model = store.get_model("shop")
    history = score_history(store, model)
    blocked = gate(store, model, now=NOW)  # default minimum: the Ready band, 75; the score is 62.5
    assert not blocked.passed and blocked.min_score == 75
    assert blocked.reason.startswith("shop: blocked, score 62 < 75 (At risk); holding it back: ")
    assert "\n" not in blocked.reason
    assert gate(store, model, 60, now=NOW).passed
    attest_all(store)
    passed = gate(store, model, now=NOW)
    assert passed.passed and passed.reason == "shop: passes, score 81 >= 75 (Ready)"
    assert score_history(store, model).equals(history)  # the gate function records nothing (the CLI does)


def test_a_critical_failure_blocks_whatever_the_minimum(healthy):
    store = healthy
    model = store.get_model("shop")
    attest_all(store)
    insert_raw(
        store,
        "shop",
        [
            {
                "timestamp": datetime(2026, 11, 11, 12, i),
                "prediction": "1",
                "score": 3.0,
                "features": json.dumps({"amount": 1.0, "region": "north"}),
            }
            for i in range(50)
        ],
    )
    refresh_model(store, model)  # rows a service inserted reach the aggregates on refresh
    result = gate(store, model, 0, now=NOW)
    assert not result.passed
    assert result.reason.startswith(
        "shop: blocked, critical item failed: Every prediction is a valid output: "
    )


@pytest.mark.parametrize("minimum", [-1, 101, True])
def test_gate_refuses_a_minimum_outside_0_to_100(healthy, minimum):
    with pytest.raises(ChecklistError, match="from 0 to 100"):
        gate(healthy, healthy.get_model("shop"), minimum, now=NOW)


def test_gate_json_holds_every_item_with_evidence(healthy):
    data = gate_json(gate(healthy, healthy.get_model("shop"), now=NOW))
    assert (data["model"], data["passed"], data["score"], data["status"]) == ("shop", False, 62.5, "at_risk")
    assert data["min_score"] == 75 and data["as_of"] == "2026-11-12T09:00:00Z"
    assert data["critical_failures"] == []
    assert data["sections"]["operations"] == pytest.approx(400 / 6)
    assert len(data["items"]) == len(DEFAULT_ITEMS)
    drift = next(i for i in data["items"] if i["key"] == "no_feature_drift")
    assert drift["status"] == "pass" and drift["evidence"]["page"] == "Drift" and drift["to_pass"] == ""
    blocker = data["blockers"][0]
    assert blocker["status"] == "unknown" and blocker["to_pass"] and blocker["points"] == 0.0
    json.dumps(data)  # plain JSON


# --------------------------------------------------------------------------- the CLI
# The CLI assesses "now"; the fixture's log ends on 2026-11-11, so freshness fails there and
# the gate blocks for that reason too. Tests that need a passing gate attest and lower the minimum.


def forget_history(store: Store) -> None:
    """Delete every recorded score (ingestion recorded the fixture's), so a test sees what it records."""
    with store.begin() as conn:
        conn.execute(t.readiness_history.delete())


def test_cli_gate_exit_codes_and_one_line_reason(healthy, shop_url, capsys):
    model = healthy.get_model("shop")
    forget_history(healthy)
    assert run(shop_url, "gate", "--model", "shop", "--min-score", "70") == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("shop: blocked, score ") and captured.err.count("\n") == 1
    assert captured.out == captured.err  # the reason on stdout in both cases, repeated on stderr when blocked
    # the CLI gate records the day's score (the gate function itself does not)
    history = score_history(healthy, model)
    assert len(history) == 1  # as of now (this hour): today's score
    assert history["day"].iloc[0].date() in {utcnow().date(), (utcnow() - timedelta(hours=1)).date()}
    assert f"score {history['score'].iloc[0]:.0f} < 70" in captured.err
    assert run(shop_url, "gate", "--model", "shop", "--min-score", "0") == 0
    assert capsys.readouterr().out.startswith("shop: passes, score ")
    assert run(shop_url, "gate", "--model", "nope") == 2
    assert "No model named 'nope'" in capsys.readouterr().err
    assert run(shop_url, "gate", "--model", "shop", "--min-score", "200") == 2
    assert "from 0 to 100" in capsys.readouterr().err


def test_cli_gate_json(shop_url, capsys):
    assert run(shop_url, "gate", "--model", "shop", "--json") == 1
    data = json.loads(capsys.readouterr().out)
    assert data["passed"] is False and data["min_score"] == 75
    assert {i["key"] for i in data["items"]} == {item.key for item in DEFAULT_ITEMS}


def test_cli_checklist_attest_show_withdraw(shop_url, capsys):
    assert (
        run(
            shop_url,
            "checklist",
            "--model",
            "shop",
            "attest",
            "model_card",
            "--owner",
            "Ana",
            "--evidence",
            f"{URL}/card",
            "--days",
            "30",
            "--actor",
            "ana",
        )
        == 0
    )
    assert "Attested model_card for shop by Ana, valid through" in capsys.readouterr().out
    assert run(shop_url, "checklist", "--model", "shop", "show") == 0
    out = capsys.readouterr().out
    assert out.startswith("shop: ") and "readiness" in out
    assert "attested  model_card: Attested by Ana." in out
    assert "!          pass  schema_matches_baseline" in out  # critical items are marked
    assert run(shop_url, "checklist", "--model", "shop", "withdraw", "model_card") == 0
    assert "Withdrew 1 attestation(s) of model_card." in capsys.readouterr().out


def test_cli_checklist_bad_input_exits_2_with_one_line(shop_url, capsys):
    for args, fragment in (
        (["attest", "model_card", "--owner", "Ana", "--evidence", "wiki/card"], "not a web address"),
        (["attest", "criteria_met", "--owner", "Ana", "--evidence", URL], "cannot be attested"),
        (["not-applicable", "fairness_review", "--reason", " "], "without a reason"),
        (["configure", "--margin", "max_ece=lots"], "not a number"),
        (["configure", "--bands", "50,80"], "out of order"),
        (["configure", "--critical", "calibrated=maybe"], "ITEM=yes or ITEM=no"),
        (["withdraw", "model_card"], "no attestation to withdraw"),
    ):
        capsys.readouterr()
        assert run(shop_url, "checklist", "--model", "shop", *args) == 2, args
        err = capsys.readouterr().err
        assert fragment in err and err.startswith("error: ") and err.count("\n") == 1, err


def test_cli_checklist_configure_and_not_applicable(shop_url, capsys):
    assert (
        run(
            shop_url,
            "checklist",
            "--model",
            "shop",
            "configure",
            "--margin",
            "freshness_hours=9999",
            "--margin",
            "recent_days=14",
            "--bands",
            "60,40",
            "--critical",
            "calibrated=yes",
        )
        == 0
    )
    config = json.loads(capsys.readouterr().out)
    assert config["margins"]["freshness_hours"] == 9999 and config["margins"]["recent_days"] == 14
    assert config["bands"] == {"ready": 60.0, "at_risk": 40.0} and config["critical"] == {"calibrated": True}
    assert (
        run(
            shop_url,
            "checklist",
            "--model",
            "shop",
            "not-applicable",
            "fairness_review",
            "--reason",
            "Scores shops, not people",
        )
        == 0
    )
    capsys.readouterr()
    assert run(shop_url, "checklist", "--model", "shop", "show", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    fairness = next(i for i in data["items"] if i["key"] == "fairness_review")
    assert (fairness["status"], fairness["finding"]) == ("not_applicable", "Scores shops, not people")
    assert data["bands"] == {"ready": 60.0, "at_risk": 40.0}
    assert run(shop_url, "checklist", "--model", "shop", "applicable", "fairness_review") == 0


def test_cli_history_backfill(healthy, shop_url, capsys):
    healthy.create_model("bare", task="binary", positive_class="1")  # nothing ingested, nothing recorded
    assert run(shop_url, "checklist", "--model", "bare", "history") == 0
    assert "No score recorded yet." in capsys.readouterr().out
    assert run(shop_url, "checklist", "--model", "shop", "history") == 0  # ingestion recorded its day
    out = capsys.readouterr().out
    assert "No score recorded yet." not in out and out.splitlines()[0].split()[:3] == [
        "day",
        "score",
        "status",
    ]
    assert any(label in out for label in ("Not ready", "At risk", "Ready"))  # statuses shown in words
    assert not any(word in out for word in ("not_ready", "at_risk"))
    assert (
        run(shop_url, "checklist", "--model", "shop", "history", "--backfill", "60", "--step", "7", "--json")
        == 0
    )
    captured = capsys.readouterr()
    assert captured.err.startswith("Recorded ") and captured.err.endswith(" day(s).\n")
    rows = json.loads(captured.out)
    assert rows and set(rows[0]) == {"day", "score", "status", "sections"}
    assert set(rows[0]["sections"]) == {"data", "model", "operations", "monitoring"}
    assert all(r["status"] in ("not_ready", "at_risk", "ready") for r in rows)
    recorded = int(captured.err.split()[1])
    today = utcnow().date()
    days = [datetime.fromisoformat(r["day"]) for r in rows if date.fromisoformat(r["day"]) < today]
    assert len(days) == recorded  # the backfilled days; ingestion recorded today's
    assert all(b - a == timedelta(days=7) for a, b in itertools.pairwise(days))


def test_cli_models_lists_status_and_score(shop_url, capsys):
    assert run(shop_url, "models") == 0
    out = capsys.readouterr().out
    assert "Status" in out and "Score" in out and "shop" in out


def test_bands_below_the_floor_cannot_wave_a_failing_gate_through(tmp_path, capsys):
    from readiness import Store, ingest_csv
    from readiness.cli import main
    from tests.factories import baseline_csv

    url = f"sqlite:///{tmp_path / 'floor.db'}"
    ingest_csv(Store.open(url), "m", "baseline", baseline_csv(200), "b.csv")
    for bands in ("0,0", "49,25", "60,24"):
        assert main(["--database", url, "checklist", "--model", "m", "configure", "--bands", bands]) == 2
        assert "below the floor: Ready needs at least 50 and At risk at least 25" in capsys.readouterr().err
    assert main(["--database", url, "checklist", "--model", "m", "configure", "--bands", "50,25"]) == 0


def test_the_audit_trail_names_who_ran_the_cli(tmp_path, monkeypatch):
    from readiness import Store, ingest_csv
    from readiness.analysis.settings import audit_trail
    from readiness.cli import main
    from tests.factories import baseline_csv

    url = f"sqlite:///{tmp_path / 'who.db'}"
    store = Store.open(url)
    ingest_csv(store, "m", "baseline", baseline_csv(200), "b.csv")
    monkeypatch.setenv("READINESS_ACTOR", "ana@example.com")
    assert main(["--database", url, "criteria", "--model", "m", "add", "recall >= 0.8"]) == 0
    monkeypatch.delenv("READINESS_ACTOR")
    monkeypatch.setattr("getpass.getuser", lambda: "svc-deploy")
    assert main(["--database", url, "criteria", "--model", "m", "add", "precision >= 0.7"]) == 0
    assert main(["--database", url, "criteria", "--model", "m", "add", "f1 >= 0.6", "--actor", "bob"]) == 0
    actors = [entry.actor for entry in audit_trail(store, store.get_model("m"))][:3]
    assert actors == ["bob", "cli:svc-deploy", "ana@example.com"]  # newest first
