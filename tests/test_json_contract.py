"""Every ``--json`` output validates against its JSON Schema in docs/json.md, and every such output is documented."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from readiness import ingest_csv
from readiness.cli import build_parser, main
from tests.factories import baseline_csv

DOC = Path(__file__).resolve().parent.parent / "docs" / "json.md"
BLOCK = re.compile(r"```json (\S+)\n(.*?)```", re.S)


def documented() -> dict[str, dict]:
    """The schemas of docs/json.md by name (the word after ```json)."""
    return {name: json.loads(text) for name, text in BLOCK.findall(DOC.read_text())}


SCHEMAS = documented()
REGISTRY = Registry().with_resources(
    (schema["$id"], Resource.from_contents(schema)) for schema in SCHEMAS.values()
)


def check(name: str, document: object) -> None:
    """Raise with every violation when ``document`` does not follow the schema called ``name``."""
    validator = Draft202012Validator(SCHEMAS[name], registry=REGISTRY)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def run_json(capsys, database: str, *argv: str) -> object:
    """Run the CLI in-process and parse its stdout as JSON (it must be exactly one document)."""
    code = main(["--database", database, *argv])
    out = capsys.readouterr().out
    assert code in (0, 1), out
    return json.loads(out)


def test_the_schemas_are_valid_json_schema():
    assert set(SCHEMAS) == {
        "readiness:common",
        "drift",
        "performance",
        "criteria",
        "models",
        "gate",
        "history",
        "webhook",
    }
    for schema in SCHEMAS.values():
        Draft202012Validator.check_schema(schema)


def test_every_command_with_json_has_a_schema():
    """A new --json flag without a schema here (and in docs/json.md) fails this test."""

    def commands(parser: argparse.ArgumentParser, prefix: str = "") -> list[str]:
        found = []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found += commands(sub, f"{prefix} {name}".strip())
            elif "--json" in action.option_strings:
                found.append(prefix)
        return found

    documented_commands = {
        "drift": "drift",
        "performance": "performance",
        "criteria list": "criteria",
        "models": "models",
        "gate": "gate",
        "checklist show": "gate",
        "checklist history": "history",
    }
    assert sorted(commands(build_parser())) == sorted(documented_commands)
    assert set(documented_commands.values()) <= set(SCHEMAS)


@pytest.fixture
def demo_url(demo_store) -> str:
    return str(demo_store.engine.url)


def test_drift_json_follows_its_schema(demo_url, capsys):
    document = run_json(capsys, demo_url, "drift", "--model", "fraud", "--json", "--window", "week")
    check("drift", document)
    assert document["summary"]["dataset_drift"] in (True, False)
    assert "device_trust" in document["summary"]["drifting"]
    check("drift", run_json(capsys, demo_url, "drift", "--model", "demand", "--json", "--no-multivariate"))
    router = run_json(capsys, demo_url, "drift", "--model", "ticket-router", "--json", "--no-multivariate")
    check("drift", router)
    assert {"confidence", "proba:account", "proba:technical"} <= {c["column"] for c in router["columns"]}


def test_performance_json_follows_its_schema(demo_url, capsys):
    for model in ("fraud", "credit", "demand", "ticket-router"):
        document = run_json(capsys, demo_url, "performance", "--model", model, "--json")
        check("performance", document)
    credit = run_json(capsys, demo_url, "performance", "--model", "credit", "--json", "--window", "day")
    check("performance", credit)  # 1000 labels a week: most days are insufficient data
    statuses = {h["status"] for c in credit["criteria"] for h in c["history"]}
    assert "insufficient_data" in statuses and statuses <= {"pass", "fail", "insufficient_data"}


def test_criteria_models_checklist_history_and_gate_follow_their_schemas(demo_url, capsys):
    check("criteria", run_json(capsys, demo_url, "criteria", "--model", "fraud", "list", "--json"))
    models = run_json(capsys, demo_url, "models", "--json")
    check("models", models)
    assert {m["status"] for m in models} <= {"ready", "at_risk", "not_ready"}
    check("gate", run_json(capsys, demo_url, "checklist", "--model", "credit", "show", "--json"))
    gate = run_json(capsys, demo_url, "gate", "--model", "fraud", "--json")
    check("gate", gate)
    assert gate["passed"] is False and gate["status"] == "not_ready"
    history = run_json(capsys, demo_url, "checklist", "--model", "fraud", "history", "--json")
    check("history", history)
    assert history and history[-1]["status"] == "not_ready"


def test_a_model_without_predictions_gives_nulls_not_strings(sqlite_store, capsys):
    ingest_csv(sqlite_store, "empty", "baseline", baseline_csv(300), "base.csv")
    url = str(sqlite_store.engine.url)
    models = run_json(capsys, url, "models", "--json")
    check("models", models)
    assert models[0]["first_prediction"] is None and models[0]["label_coverage"] is None
    assert models[0]["freshness"] == "no_predictions"
    check("criteria", run_json(capsys, url, "criteria", "--model", "empty", "list", "--json"))
    gate = run_json(capsys, url, "gate", "--model", "empty", "--json")
    check("gate", gate)
    assert "None" not in json.dumps(gate) and "NaN" not in json.dumps(gate)


def test_the_demo_alert_history_as_webhook_payloads_follows_its_schema(demo_store):
    """Every alert the demo recorded, alone and as one digest, is a valid webhook payload."""
    from readiness.analysis.alerts import alert_history, link_for
    from readiness.core.alert_messages import webhook_payload
    from readiness.core.alerts import Notification
    from readiness.storage.alert_store import get_alert

    ids = [int(i) for i in alert_history(demo_store).alerts["id"]]
    assert len(ids) >= 5
    with demo_store.engine.connect() as conn:
        stored = [get_alert(conn, i) for i in ids]
    notes = [
        Notification((a.change,), (link_for("https://readiness.example.com", a.change),), (a.id,), (False,))
        for a in stored
        if a is not None
    ]
    for note in notes:
        payload = webhook_payload(note, "2026-12-02T14:00:00Z")
        check("webhook", payload)
        assert payload["type"] == "readiness.alert"
    digest = Notification(
        tuple(c for n in notes for c in n.changes),
        tuple(x for n in notes for x in n.links),
        tuple(x for n in notes for x in n.alert_ids),
        (True,) * len(notes),
    )
    payload = webhook_payload(digest, "2026-12-02T14:00:00Z")
    check("webhook", payload)
    assert payload["type"] == "readiness.digest" and {a["event"] for a in payload["alerts"]} == {"reminder"}
