"""python -m readiness: ingest, models, and exit code 2 with one line on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from readiness.cli import main
from readiness.storage.store import Store

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "amount,shop,y_hat,proba,truth\n1.0,a,1,0.9,1\n2.0,b,0,0.2,0\n3.0,a,0,0.1,0\n"
LIVE = "ts,request_id,amount,shop,y_hat,proba,notes\n2026-11-01T00:00:00Z,r1,1.5,a,1,0.8,hi\n"


@pytest.fixture
def files(tmp_path):
    (tmp_path / "base.csv").write_text(BASELINE)
    (tmp_path / "live.csv").write_text(LIVE)
    return tmp_path


def run(db: Path, *args: str) -> int:
    return main(["--database", f"sqlite:///{db}", *args])


def test_ingest_with_mapping_pairs_creates_model_and_stores_rows(files, capsys):
    db = files / "cli.db"
    assert run(db, "ingest", "--model", "shop", "--kind", "baseline", str(files / "base.csv"),
               "--map", "y_hat=prediction", "--map", "proba=score", "--map", "truth=label",
               "--owner", "Ana") == 0
    assert "Stored 3 baseline row(s)" in capsys.readouterr().out
    assert run(db, "ingest", "--model", "shop", "--kind", "live", str(files / "live.csv"),
               "--map", "y_hat=prediction", "--map", "proba=score", "--map", "notes=ignore") == 0
    store = Store.open(f"sqlite:///{db}")
    model = store.get_model("shop")
    assert (model.task, model.positive_class, model.owner) == ("binary", "1", "Ana")
    assert store.count_rows("predictions", model.id) == 1


def test_models_json_lists_volume(files, capsys):
    db = files / "cli.db"
    run(db, "ingest", "--model", "shop", "--kind", "baseline", str(files / "base.csv"),
        "--map", "y_hat=prediction", "--map", "proba=score", "--map", "truth=label")
    capsys.readouterr()
    assert run(db, "models", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["Model"] == "shop" and rows[0]["Predictions"] == 0 and rows[0]["Baseline rows"] == 3


def test_models_on_empty_database_says_how_to_start(tmp_path, capsys):
    assert run(tmp_path / "e.db", "models") == 0
    assert "No models yet" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["ingest", "--model", "shop", "--kind", "live", "live.csv"], "No model named 'shop'"),
        (["ingest", "--model", "shop", "--kind", "baseline", "missing.csv"], "No such file"),
        (["ingest", "--model", "shop", "--kind", "baseline", "base.csv", "--map", "nonsense"],
         "Cannot read mapping 'nonsense'"),
        (["ingest", "--model", "shop", "--kind", "baseline", "base.csv", "--map", "y_hat=ignore"],
         "no column for the required 'prediction'"),
    ],
)
def test_bad_input_exits_2_with_one_line(files, capsys, monkeypatch, args, fragment):
    monkeypatch.chdir(files)
    assert run(files / "cli.db", *args) == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_demo_refuses_a_database_with_models_unless_if_empty(files, capsys):
    db = files / "cli.db"
    run(db, "ingest", "--model", "shop", "--kind", "baseline", str(files / "base.csv"),
        "--map", "y_hat=prediction", "--map", "proba=score", "--map", "truth=label")
    assert run(db, "demo", "--if-empty") == 0
    assert "not seeded" in capsys.readouterr().out
    assert run(db, "demo") == 2
    assert "already has models" in capsys.readouterr().err


def test_module_entry_point_prints_help():
    result = subprocess.run([sys.executable, "-m", "readiness", "--help"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0
    for command in ("demo", "ingest", "models"):
        assert command in result.stdout


def test_drift_prints_the_summary_and_json(tmp_path, capsys):
    from tests.drift_fixtures import drifting_store

    db = tmp_path / "drift.db"
    drifting_store(f"sqlite:///{db}")
    assert run(db, "drift", "--model", "shop", "--no-multivariate") == 0
    out = capsys.readouterr().out
    assert "Columns drifting: 1 of 5 (amount)" in out
    assert run(db, "drift", "--model", "shop", "--window", "week", "--json", "--start", "2026-10-12") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["summary"]["start"] == "2026-10-12" and result["summary"]["drifted"] == ["amount"]
    assert {row["window"] for row in result["windows"]} == {"2026-10-12 00:00", "2026-10-19 00:00"}
    assert result["summary"]["multivariate"]["drifted"] is True


def test_drift_bad_date_and_empty_range_exit_2(tmp_path, capsys):
    from tests.drift_fixtures import drifting_store

    db = tmp_path / "drift.db"
    drifting_store(f"sqlite:///{db}")
    with pytest.raises(SystemExit) as exit_info:
        run(db, "drift", "--model", "shop", "--start", "yesterday")
    assert exit_info.value.code == 2
    assert "is not a date" in capsys.readouterr().err
    assert run(db, "drift", "--model", "shop", "--start", "2030-01-01", "--no-multivariate") == 2
    assert "no predictions between 2030-01-01" in capsys.readouterr().err


def test_drift_tests_per_column_and_calibration(tmp_path, capsys):
    from tests.drift_fixtures import drifting_store

    db = tmp_path / "drift.db"
    drifting_store(f"sqlite:///{db}")
    assert run(db, "drift", "--model", "shop", "--no-multivariate", "--json", "--test", "age=ks",
               "--test", "region=chisquare", "--calibrate") == 0
    columns = {row["Column"]: row for row in json.loads(capsys.readouterr().out)["columns"]}
    assert columns["age"]["Test"] == "ks" and columns["region"]["Test"] == "chisquare"
    assert columns["amount"]["Drift"] == "drift"
    assert run(db, "drift", "--model", "shop", "--no-multivariate", "--test", "age=magic") == 2
    assert "Unknown drift method" in capsys.readouterr().err
    assert run(db, "drift", "--model", "shop", "--no-multivariate", "--test", "agex") == 2
    assert "write COLUMN=TEST" in capsys.readouterr().err


@pytest.fixture
def shop_db(files):
    db = files / "cli.db"
    run(db, "ingest", "--model", "shop", "--kind", "baseline", str(files / "base.csv"),
        "--map", "y_hat=prediction", "--map", "proba=score", "--map", "truth=label")
    return db


def test_criteria_list_add_remove(shop_db, capsys):
    capsys.readouterr()
    assert run(shop_db, "criteria", "--model", "shop", "list") == 0
    out = capsys.readouterr().out
    assert "task defaults" in out and "roc_auc >= 0.70 per week, with at least 100 labels" in out

    assert run(shop_db, "criteria", "--model", "shop", "add", "recall >= 0.8", "--window", "day",
               "--min-labels", "200", "--actor", "ana") == 0
    assert "recall >= 0.80 per day, with at least 200 labels" in capsys.readouterr().out
    assert run(shop_db, "criteria", "--model", "shop", "list", "--json") == 0
    [criterion] = json.loads(capsys.readouterr().out)
    assert (criterion["metric"], criterion["window"], criterion["min_labels"], criterion["default"]) == (
        "recall", "day", 200, False)
    audit = Store.open(f"sqlite:///{shop_db}").audit_entries("shop")
    assert audit.loc[0, "action"] == "criterion.add" and audit.loc[0, "actor"] == "ana"

    assert run(shop_db, "criteria", "--model", "shop", "remove", str(criterion["id"])) == 0
    assert f"Removed criterion {criterion['id']}: recall >= 0.80" in capsys.readouterr().out
    assert run(shop_db, "criteria", "--model", "shop", "list", "--json") == 0
    assert all(c["default"] for c in json.loads(capsys.readouterr().out))


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["add", "recall <= 0.9"], "recall is higher-is-better"),
        (["add", "r2 >= 0.5"], "'r2' does not apply to a binary model"),
        (["add", "recall >= 0.8", "--min-labels", "-1"], "0 or more"),
        (["remove", "99"], "no stored criteria"),
    ],
)
def test_criteria_bad_input_exits_2_with_one_line(shop_db, capsys, args, fragment):
    capsys.readouterr()
    assert run(shop_db, "criteria", "--model", "shop", *args) == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_performance_prints_criteria_status_and_json(demo_path, capsys):
    db = demo_path  # seeded as of 2026-11-15: 90 days from August to November
    assert run(db, "performance", "--model", "demand") == 0
    out = capsys.readouterr().out
    assert "mae <= 19" in out and "pass" in out
    assert run(db, "performance", "--model", "fraud", "--window", "month", "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert result["window"] == "month" and len(result["windows"]) == 4
    assert {c["metric"] for c in result["criteria"]} == {"recall", "false_positive_rate"}
    assert run(db, "performance", "--model", "nope") == 2
    assert "No model named 'nope'" in capsys.readouterr().err
