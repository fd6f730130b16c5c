"""python -m readiness: ingest, models, refresh, record, and exit code 2 with one line on bad input.

``--json`` outputs follow the contract in readiness/analysis/contract.py: snake_case keys,
statuses as machine words, booleans for verdicts, ISO dates and null for what is unknown.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from readiness.analysis.assessment import assess_model, score_history
from readiness.cli import main
from readiness.core.records import utcnow
from readiness.core.status import ItemStatus, ReadinessStatus
from readiness.storage import schema as t
from readiness.storage.store import Store
from tests.readiness_fixtures import NOW, insert_raw

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "amount,shop,y_hat,proba,truth\n1.0,a,1,0.9,1\n2.0,b,0,0.2,0\n3.0,a,0,0.1,0\n"
LIVE = "ts,request_id,amount,shop,y_hat,proba,notes\n2026-11-01T00:00:00Z,r1,1.5,a,1,0.8,hi\n"


@pytest.fixture
def files(tmp_path):
    (tmp_path / "base.csv").write_text(BASELINE)
    (tmp_path / "live.csv").write_text(LIVE)
    return tmp_path


def run(db: Path | str, *args: str) -> int:
    url = db if isinstance(db, str) else f"sqlite:///{db}"
    return main(["--database", url, *args])


def ingest_base(db, files, *extra: str) -> int:
    """The CLI ingesting files/base.csv as model "shop"'s baseline, with its columns mapped."""
    mapped = ("--map", "y_hat=prediction", "--map", "proba=score", "--map", "truth=label")
    return run(
        db, "ingest", "--model", "shop", "--kind", "baseline", str(files / "base.csv"), *mapped, *extra
    )


def url_of(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def test_ingest_with_mapping_pairs_creates_model_and_stores_rows(files, capsys):
    db = files / "cli.db"
    assert ingest_base(db, files, "--owner", "Ana") == 0
    out = capsys.readouterr().out
    assert "Stored 3 baseline row(s)" in out
    assert re.search(r"^Took \d+\.\d s \([\d,]+ rows/s, stored and refreshed\)\.$", out, re.MULTILINE)
    assert (
        run(
            db,
            "ingest",
            "--model",
            "shop",
            "--kind",
            "live",
            str(files / "live.csv"),
            "--map",
            "y_hat=prediction",
            "--map",
            "proba=score",
            "--map",
            "notes=ignore",
        )
        == 0
    )
    store = Store.open(f"sqlite:///{db}")
    model = store.get_model("shop")
    assert (model.task, model.positive_class, model.owner) == ("binary", "1", "Ana")
    assert store.count_predictions(model.id) == 1


def test_models_json_lists_volume(files, capsys):
    db = files / "cli.db"
    ingest_base(db, files)
    capsys.readouterr()
    assert run(db, "models", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["model"] == "shop" and rows[0]["predictions"] == 0 and rows[0]["baseline_rows"] == 3
    assert (rows[0]["task"], rows[0]["status"], rows[0]["freshness"]) == (
        "binary",
        "not_ready",
        "no_predictions",
    )
    assert rows[0]["first_prediction"] is None and rows[0]["hours_since_last_prediction"] is None
    assert rows[0]["label_coverage"] is None and rows[0]["criteria_status"] == "insufficient_data"


def test_models_on_empty_database_says_how_to_start(tmp_path, capsys):
    assert run(tmp_path / "e.db", "models") == 0
    assert "No models yet" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["ingest", "--model", "shop", "--kind", "live", "live.csv"], "No model named 'shop'"),
        (["ingest", "--model", "shop", "--kind", "baseline", "missing.csv"], "No such file"),
        (
            ["ingest", "--model", "shop", "--kind", "baseline", "base.csv", "--map", "nonsense"],
            "Cannot read mapping 'nonsense'",
        ),
        (
            ["ingest", "--model", "shop", "--kind", "baseline", "base.csv", "--map", "y_hat=ignore"],
            "no column for the required 'prediction'",
        ),
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
    ingest_base(db, files)
    assert run(db, "demo", "--if-empty") == 0
    assert "not seeded" in capsys.readouterr().out
    assert run(db, "demo") == 2
    assert "already has models" in capsys.readouterr().err


NOT_ON_THE_ASSESSMENT_PATH = ("scipy.stats", "scipy.spatial", "scipy.optimize", "sklearn")


def test_gate_checklist_and_models_never_import_scipy_stats(demo_store):
    """The assessment needs at most scipy.special (KS tails of large windows): scipy.stats and what it pulls in took 0.5 s to import.

    Checked in a fresh interpreter (this one has imported everything), after every model's
    assessment ran through the commands: binary, multiclass and regression, criteria, latency,
    drift over every window.
    """
    url = url_of(demo_store)
    commands = (
        ["gate", "--model", "fraud"],
        ["checklist", "--model", "ticket-router", "show"],
        ["models"],
        ["models", "--json"],
    )
    code = "\n".join(
        [
            "import sys",
            "from readiness.cli import main",
            f"codes = [main(['--database', {url!r}, *args]) for args in {commands!r}]",
            f"print(codes, [m for m in {NOT_ON_THE_ASSESSMENT_PATH!r} if m in sys.modules])",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[1, 0, 0, 0] []", result.stdout[-2000:]
    assert "demand" in result.stdout and "credit" in result.stdout  # every model was assessed


HEAVY = ("pandas", "pyarrow", "scipy", "sklearn", "plotly", "streamlit")
READING = (
    ["gate", "--model", "fraud"],
    ["gate", "--model", "credit", "--json"],
    ["checklist", "--model", "ticket-router", "show"],
    ["checklist", "--model", "demand", "show", "--json"],
    ["models"],
    ["models", "--json"],
)
READING_SCRIPT = """
import contextlib, io, json, sys
from readiness.cli import main
from readiness.core.records import utcnow
url, commands = sys.argv[1], json.loads(sys.argv[2])
hour = utcnow().replace(minute=0, second=0, microsecond=0).isoformat()
outputs = []
for args in commands:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["--database", url, *args])
    outputs.append([code, out.getvalue()])
heavy = [m for m in sys.argv[3].split(",") if m in sys.modules]
print(json.dumps({"hour": hour, "outputs": outputs, "heavy": heavy}))
"""


def masked(outputs: list) -> list:
    """The outputs without what moves with the clock between two runs (hours since the newest prediction)."""
    return [
        [code, re.sub(r'("hours_since_last_prediction": )[0-9.e-]+', r"\1X", text)] for code, text in outputs
    ]


def test_starting_the_cli_imports_no_heavy_library():
    """Every command pays for what ``import readiness.cli`` imports; pandas, SciPy and the rest wait for the commands that need them."""
    code = f"import sys, readiness.cli; print([m for m in {HEAVY!r} if m in sys.modules])"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_reading_commands_on_unchanged_data_answer_the_same_from_kept_assessments_without_heavy_libraries(
    demo_store, tmp_path
):
    """The second run of gate, checklist show and models reads the assessments the first kept: same bytes, no pandas or SciPy."""
    env = {**os.environ, "READINESS_CACHE_DIR": str(tmp_path / "kept")}

    def reading() -> dict:
        command = [
            sys.executable,
            "-c",
            READING_SCRIPT,
            url_of(demo_store),
            json.dumps(READING),
            ",".join(HEAVY),
        ]
        result = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, check=False, env=env, timeout=300
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return json.loads(result.stdout.splitlines()[-1])

    for _ in range(2):  # a new hour between the runs judges afresh, as it should: then try once more
        first, second = reading(), reading()
        if first["hour"] == second["hour"]:
            break
    assert [code for code, _ in first["outputs"]] == [1, 1, 0, 0, 0, 0]
    assert masked(second["outputs"]) == masked(first["outputs"])
    assert second["heavy"] == []
    assert "pandas" in first["heavy"]  # the first run judged the models (reading the baselines needs pandas)


def test_module_entry_point_prints_help():
    result = subprocess.run(
        [sys.executable, "-m", "readiness", "--help"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    for command in ("demo", "ingest", "models", "refresh", "record", "gate"):
        assert command in result.stdout


@pytest.fixture(scope="module")
def drift_db(tmp_path_factory) -> Path:
    """The drifting fixture, built once for the drift command tests (which only read it)."""
    from tests.drift_fixtures import drifting_store

    db = tmp_path_factory.mktemp("cli-drift") / "drift.db"
    drifting_store(f"sqlite:///{db}").engine.dispose()
    return db


def test_drift_prints_the_summary_and_json(drift_db, capsys):
    db = drift_db
    assert run(db, "drift", "--model", "shop", "--no-multivariate") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("Drifting now (the week of 12 Oct 2026, 2,100 predictions): 1 of 5 columns.")
    assert out[2].startswith("  amount: since 2026-10-05. Drifted: values moved by")  # what drifts leads
    assert run(db, "drift", "--model", "shop", "--window", "day", "--json", "--start", "2026-10-12") == 0
    result = json.loads(capsys.readouterr().out)
    summary = result["summary"]
    assert summary["start"] == "2026-10-12" and summary["drifting"] == ["amount"]
    assert summary["now"]["start"] == "2026-10-20T00:00:00Z" and summary["now"]["complete"] is True
    amount = result["columns"][0]
    assert amount["column"] == "amount" and amount["since"] == "2026-10-12"  # the range starts drifted
    assert [w["start"][:10] for w in amount["series"]][:2] == ["2026-10-12", "2026-10-13"]
    assert all(isinstance(w["drifted"], bool) for w in amount["series"])
    assert summary["multivariate"]["drifted"] is True
    assert summary["columns_drifting"] == 1 and summary["dataset_drift"] in (True, False)


def test_drift_bad_date_and_empty_range_exit_2(drift_db, capsys):
    db = drift_db
    with pytest.raises(SystemExit) as exit_info:
        run(db, "drift", "--model", "shop", "--start", "yesterday")
    assert exit_info.value.code == 2
    assert "is not a date" in capsys.readouterr().err
    assert run(db, "drift", "--model", "shop", "--start", "2030-01-01", "--no-multivariate") == 2
    assert "no predictions between 2030-01-01" in capsys.readouterr().err


def test_drift_tests_per_column_and_calibration(drift_db, capsys):
    db = drift_db
    assert (
        run(
            db,
            "drift",
            "--model",
            "shop",
            "--no-multivariate",
            "--json",
            "--test",
            "age=ks",
            "--test",
            "region=chisquare",
            "--calibrate",
        )
        == 0
    )
    columns = {row["column"]: row for row in json.loads(capsys.readouterr().out)["columns"]}
    assert columns["age"]["method"] == "ks" and columns["region"]["method"] == "chisquare"
    assert columns["amount"]["drifting_now"] is True and columns["amount"]["analyzed"] is True
    assert run(db, "drift", "--model", "shop", "--no-multivariate", "--json", "--rule", "cutoff") == 0
    cutoff = {row["column"]: row for row in json.loads(capsys.readouterr().out)["columns"]}
    assert (
        cutoff["age"]["method"] == "wasserstein" and cutoff["amount"]["drifting_now"] is True
    )  # 2000 > 1000 rows
    assert run(db, "drift", "--model", "shop", "--no-multivariate", "--test", "age=magic") == 2
    assert "Unknown drift method" in capsys.readouterr().err
    assert run(db, "drift", "--model", "shop", "--no-multivariate", "--test", "agex") == 2
    assert "write COLUMN=TEST" in capsys.readouterr().err


@pytest.fixture
def shop_db(files):
    db = files / "cli.db"
    ingest_base(db, files)
    return db


def test_criteria_list_add_remove(shop_db, capsys):
    capsys.readouterr()
    assert run(shop_db, "criteria", "--model", "shop", "list") == 0
    out = capsys.readouterr().out
    assert "task defaults" in out and "roc_auc >= 0.70 per week, with at least 100 labels" in out

    assert (
        run(
            shop_db,
            "criteria",
            "--model",
            "shop",
            "add",
            "recall >= 0.8",
            "--window",
            "day",
            "--min-labels",
            "200",
            "--actor",
            "ana",
        )
        == 0
    )
    assert "recall >= 0.80 per day, with at least 200 labels" in capsys.readouterr().out
    assert run(shop_db, "criteria", "--model", "shop", "list", "--json") == 0
    [criterion] = json.loads(capsys.readouterr().out)
    assert (criterion["metric"], criterion["window"], criterion["min_labels"], criterion["default"]) == (
        "recall",
        "day",
        200,
        False,
    )
    store = Store.open(f"sqlite:///{shop_db}")
    audit = store.audit_entries(store.get_model("shop"))
    store.engine.dispose()
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
        (["add", "recall >= 0.8", "--min-labels", "-1"], "from 0 to 1,000,000,000"),
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
    assert {c["criterion"]["metric"] for c in result["criteria"]} == {"recall", "false_positive_rate"}
    assert {c["status"] for c in result["criteria"]} <= {"pass", "fail", "insufficient_data"}
    assert result["start"] == "2026-08-17" and result["windows"][0]["start"] == "2026-08-01"
    assert run(db, "performance", "--model", "nope") == 2
    assert "No model named 'nope'" in capsys.readouterr().err


# --------------------------------------------------------------------------- refresh and record


def test_refresh_brings_aggregates_up_to_date_with_rows_a_service_inserted(healthy, capsys):
    model = healthy.get_model("shop")
    history = score_history(healthy, model)
    insert_raw(
        healthy,
        "shop",
        [
            {
                "timestamp": datetime(2026, 11, 11, 12, i % 60),
                "prediction": "1",
                "score": 1.7,
                "features": json.dumps({"amount": 30.0, "region": "north"}),
            }
            for i in range(60)
        ],
    )
    # reading never refreshes: the assessment does not see the invalid rows yet
    assert assess_model(healthy, model, NOW).result("outputs_valid").status == ItemStatus.PASS
    assert run(url_of(healthy), "refresh", "--model", "shop") == 0
    assert capsys.readouterr().out == (
        "shop: profiled 60 new prediction(s) (1 day(s)); updated performance for 1 day(s).\n"
    )
    a = assess_model(healthy, model, NOW)
    assert a.result("outputs_valid").status == ItemStatus.FAIL
    assert "60 without a prediction or with a score outside 0-1" in a.result("outputs_valid").reason
    assert score_history(healthy, model).equals(history)  # refreshing records no score
    # every model by default; nothing new to do now
    healthy.create_model("bare", task="binary", positive_class="1")
    assert run(url_of(healthy), "refresh") == 0
    assert capsys.readouterr().out.splitlines() == [
        "bare: profiled 0 new prediction(s) (0 day(s)); updated performance for 0 day(s).",
        "shop: profiled 0 new prediction(s) (0 day(s)); updated performance for 0 day(s).",
    ]
    assert run(url_of(healthy), "refresh", "--model", "nope") == 2
    assert "No model named 'nope'" in capsys.readouterr().err


def _today_row(store: Store, name: str):
    history = score_history(store, store.get_model(name))
    assert len(history) == 1, history
    row = history.iloc[0]
    assert row["day"].date() in {utcnow().date(), (utcnow() - timedelta(hours=1)).date()}  # as of this hour
    return row


def test_record_writes_the_score_of_the_day(healthy, capsys):
    with healthy.begin() as conn:  # forget what ingestion recorded, to see what the command records
        conn.execute(t.readiness_history.delete())
    model = healthy.get_model("shop")
    assert run(url_of(healthy), "record", "--model", "shop") == 0
    out = capsys.readouterr().out
    row = _today_row(healthy, "shop")
    assert out.startswith(f"Recorded shop: {ReadinessStatus(row['status']).label} ({row['score']:.0f})")
    assert out.count("\n") == 1 and row["status"] in ("not_ready", "at_risk", "ready")
    assert {"data", "model", "operations", "monitoring"} <= set(row.index)
    # again the same day: the day's score is replaced, not added
    assert run(url_of(healthy), "record", "--model", "shop") == 0
    capsys.readouterr()
    _today_row(healthy, "shop")
    # every model by default, by name
    healthy.create_model("bare", task="binary", positive_class="1")
    assert run(url_of(healthy), "record") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["Recorded bare", "Recorded shop"]
    bare = _today_row(healthy, "bare")
    assert bare["status"] == ReadinessStatus.NOT_READY and lines[0].startswith("Recorded bare: Not ready")
    _today_row(healthy, "shop")
    assert score_history(healthy, model)["score"].notna().all()
    assert run(url_of(healthy), "record", "--model", "nope") == 2
    assert "No model named 'nope'" in capsys.readouterr().err


def test_gate_command_records_the_score_it_judged(healthy, capsys):
    with healthy.begin() as conn:
        conn.execute(t.readiness_history.delete())
    assert run(url_of(healthy), "gate", "--model", "shop", "--json") == 1
    data = json.loads(capsys.readouterr().out)
    row = _today_row(healthy, "shop")
    assert (data["score"], data["status"]) == (row["score"], row["status"])
    assert data["passed"] is False and data["as_of"].endswith(":00:00Z")


def test_json_piped_into_head_exits_quietly(demo_path):
    """A reader that stops early (``| head``) is not an error: no BrokenPipeError traceback."""
    import subprocess
    import sys

    url = f"sqlite:///{demo_path}"
    command = [sys.executable, "-m", "readiness", "--database", url, "drift", "--model", "fraud"]
    reader = subprocess.Popen(  # 90 daily windows x 10 columns: about 200 kB, more than a pipe holds
        [*command, "--json", "--no-multivariate", "--window", "day"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert reader.stdout is not None and reader.stdout.read(10) == b'{\n  "summa'
    reader.stdout.close()  # what head does after its lines
    _, err = reader.communicate(timeout=120)
    assert reader.returncode == 0 and b"BrokenPipe" not in err and b"Traceback" not in err, err.decode()


def test_a_database_that_cannot_be_reached_is_exit_3_could_not_evaluate_never_1_blocked(
    capsys, monkeypatch, tmp_path
):
    unreachable = "postgresql+psycopg://postgres@127.0.0.1:1/none"  # nothing listens on port 1
    assert main(["--database", unreachable, "gate", "--model", "fraud"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("error: could not evaluate: OperationalError:") and "READINESS_DEBUG=1" in err
    assert len(err.strip().splitlines()) == 1
    assert main(["--database", f"sqlite:///{tmp_path}", "models"]) == 3  # a directory, not a database file
    monkeypatch.setenv("READINESS_DEBUG", "1")
    with pytest.raises(Exception, match="connection"):
        main(["--database", unreachable, "gate", "--model", "fraud"])


def test_demo_prints_each_step_with_the_time_it_started(tmp_path, capsys, monkeypatch):
    import readiness.analysis.demo as demo

    seed = demo.seed_demo
    monkeypatch.setattr(demo, "seed_demo", lambda store, **kw: seed(store, scale=0.01, **kw))
    assert run(tmp_path / "demo.db", "demo") == 0
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"\[ +\d+\.\d s\] Seeding the demo: 4 models, 90 days of logs", lines[0])
    assert any(
        line.endswith("] fraud: profiling its log for the Drift and Performance pages") for line in lines
    )
    assert lines[-1].startswith("total: ")
