"""``python -m readiness``: seed the demo, ingest CSVs and list models from a shell or CI job.

Bad input exits with code 2 and a one-line reason on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from readiness.drift import METHODS, DriftOptions
from readiness.drift_overview import drift_overview, drift_summary
from readiness.errors import ReadinessError
from readiness.performance_overview import performance_overview, performance_summary, quality_metrics
from readiness.ingest import ModelSpec, ingest_csv
from readiness.mapping import KINDS, check_mapping, parse_mapping_pairs, propose_mapping
from readiness.csvread import read_csv_bytes
from readiness.overview import portfolio_overview
from readiness.schema import TASKS
from readiness.store import Store
from readiness.validate import propose_task
from readiness.windows import WINDOWS

EXIT_BAD_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per job."""
    parser = argparse.ArgumentParser(prog="python -m readiness", description=__doc__.splitlines()[0])
    parser.add_argument("--database", metavar="URL",
                        help="SQLAlchemy URL (default: $READINESS_DATABASE_URL or data/readiness.db)")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="seed the realistic demo (three models, ~90 days of logs)")
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo.add_argument("--if-empty", action="store_true", help="do nothing when the database has models")

    ingest = sub.add_parser("ingest", help="validate and store a baseline, live or labels CSV")
    ingest.add_argument("--model", required=True, help="model name")
    ingest.add_argument("--kind", required=True, choices=KINDS, help="what the file holds")
    ingest.add_argument("file", type=Path, help="CSV file (comma, semicolon or tab)")
    ingest.add_argument("--map", action="append", default=[], metavar="COLUMN=ROLE",
                        help="override the proposed mapping, e.g. y_hat=prediction, notes=ignore, zip=categorical")
    ingest.add_argument("--task", choices=TASKS, help="task of a new model (default: proposed from labels)")
    ingest.add_argument("--positive-class", help="positive class of a new binary model")
    ingest.add_argument("--owner", default="", help="owner of a new model")
    ingest.add_argument("--description", default="", help="description of a new model")
    ingest.add_argument("--actor", default="cli", help="who is ingesting, for the audit trail")

    drift = sub.add_parser("drift", help="column and dataset drift of a model's log against its baseline")
    drift.add_argument("--model", required=True, help="model name")
    drift.add_argument("--start", type=_date, help="first day, YYYY-MM-DD (default: first prediction)")
    drift.add_argument("--end", type=_date, help="last day, inclusive, YYYY-MM-DD (default: last prediction)")
    drift.add_argument("--window", choices=WINDOWS, help="also list every column per window (hour, day, week, month)")
    drift.add_argument("--correction", choices=("bh", "bonferroni", "none"), default="bh",
                       help="p-value correction across columns (default: Benjamini-Hochberg)")
    drift.add_argument("--no-multivariate", action="store_true", help="skip the classifier check")
    drift.add_argument("--test", action="append", default=[], metavar="COLUMN=TEST",
                       help=f"test for one column, e.g. amount=ks (tests: {', '.join(METHODS)})")
    drift.add_argument("--calibrate", action="store_true",
                       help="thresholds from the baseline: mean + 3 std over baseline chunks")
    drift.add_argument("--json", action="store_true", help="print JSON for machines")

    performance = sub.add_parser("performance", help="metrics per window against success criteria")
    performance.add_argument("--model", required=True, help="model name")
    performance.add_argument("--start", type=_date, help="first day, YYYY-MM-DD (default: first prediction)")
    performance.add_argument("--end", type=_date, help="last day, inclusive, YYYY-MM-DD (default: last prediction)")
    performance.add_argument("--window", choices=("day", "week", "month"), default="week", help="default: week")
    performance.add_argument("--json", action="store_true", help="print JSON for machines")

    criteria = sub.add_parser("criteria", help="list, add or remove a model's success criteria")
    criteria.add_argument("--model", required=True, help="model name")
    criteria_sub = criteria.add_subparsers(dest="criteria_action", required=True)
    criteria_list = criteria_sub.add_parser("list", help="the stored criteria, or the task defaults in use")
    criteria_list.add_argument("--json", action="store_true", help="print JSON for machines")
    criteria_add = criteria_sub.add_parser("add", help='add a criterion, e.g. "recall >= 0.8 per week min 200"')
    criteria_add.add_argument("criterion", help='metric, >= or <=, threshold, e.g. "recall >= 0.8"')
    criteria_add.add_argument("--window", choices=("day", "week", "month"), default="week",
                              help="window when the criterion does not say (default: week)")
    criteria_add.add_argument("--min-labels", type=int, metavar="N",
                              help="labels a window needs when the criterion does not say "
                                   "(default: 100; 0 for latency, volume and invalid rate)")
    criteria_add.add_argument("--actor", default="cli", help="who is changing it, for the audit trail")
    criteria_remove = criteria_sub.add_parser("remove", help="remove a stored criterion by its id (see list)")
    criteria_remove.add_argument("id", type=int, help="criterion id")
    criteria_remove.add_argument("--actor", default="cli", help="who is changing it, for the audit trail")

    models = sub.add_parser("models", help="list models with volume, time range and label coverage")
    models.add_argument("--json", action="store_true", help="print JSON for machines")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ReadinessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _demo(args: argparse.Namespace) -> int:
    from readiness.demo import seed_demo

    store = Store.open(args.database)
    if args.if_empty and not store.is_empty():
        print("Database already has models; demo not seeded.")
        return 0
    if not store.is_empty():
        raise ReadinessError(
            "The database already has models; the demo only seeds an empty database. "
            "Point --database at a new file, or use --if-empty to skip quietly."
        )
    summary = seed_demo(store, seed=args.seed)
    print("\n".join(summary.lines()))
    return 0


def _ingest(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        raise ReadinessError(f"No such file: {args.file}. Check the path.")
    data = args.file.read_bytes()
    frame = read_csv_bytes(data, args.file.name).frame
    mapping = parse_mapping_pairs(args.map, propose_mapping(list(frame.columns), args.kind))
    spec = None
    if args.kind == "baseline":
        task, positive = args.task, args.positive_class
        if task is None:
            check_mapping(mapping, list(frame.columns), args.kind, args.file.name)
            task, proposed = propose_task(frame, mapping)
            positive = positive or proposed
        spec = ModelSpec(task, positive, args.owner, args.description)
    store = Store.open(args.database)
    result = ingest_csv(store, args.model, args.kind, data, args.file.name, mapping, spec, args.actor)
    print(result.message)
    return 0


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD, e.g. 2026-11-01") from None


def _tests(pairs: list[str]) -> dict[str, str]:
    tests = {}
    for pair in pairs:
        column, sep, method = pair.rpartition("=")
        if not sep or not column:
            raise ReadinessError(f"Cannot read test {pair!r}: write COLUMN=TEST, e.g. amount=ks.")
        tests[column] = method
    return tests


def _drift(args: argparse.Namespace) -> int:
    store = Store.open(args.database)
    options = DriftOptions(methods=_tests(args.test), correction=args.correction)
    overview = drift_overview(store, args.model, args.start, args.end, args.window, options,
                              multivariate=not args.no_multivariate, calibrated=args.calibrate)
    result = drift_summary(overview, per_window=args.window is not None)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return 0
    summary = result["summary"]
    print(f"Model {summary['model']}: {summary['predictions']:,} predictions, {summary['start']} to "
          f"{summary['end']} (per {summary['window']})")
    print(f"Columns drifting: {summary['columns_drifting']} of {summary['columns_analyzed']}"
          f" ({', '.join(summary['drifted']) or 'none'}); dataset drift: {'yes' if summary['dataset_drift'] else 'no'}")
    if summary.get("multivariate"):
        mv = summary["multivariate"]
        print(f"Multivariate: AUC {mv['auc']:.3f} ({'drift' if mv['drifted'] else 'no drift'}); {mv['note']}")
    print()
    print(overview.column_table().drop(columns=["Note"]).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if args.window:
        print()
        print(pd.DataFrame(result["windows"]).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return 0


def _performance(args: argparse.Namespace) -> int:
    overview = performance_overview(Store.open(args.database), args.model, args.start, args.end, args.window)
    result = performance_summary(overview)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return 0
    print(f"Model {result['model']}: {result['start']} to {result['end']}, per {result['window']}")
    for c in result["criteria"]:
        value = c["value"]["value"] if c["value"] and c["value"]["value"] is not None else None
        shown = f"{value:.4g}" if value is not None else "n/a"
        interval = (f" [{c['value']['lower']:.4g}, {c['value']['upper']:.4g}]"
                    if c["value"] and c["value"]["lower"] is not None else "")
        print(f"  {c['status']:>17}  {c['criterion']}: {shown}{interval} (window from {c['window']})")
    print()
    names = [n for n in quality_metrics(overview.model)][:6]
    table = pd.DataFrame([{"window": w["start"], "labelled": f"{w['labelled']}/{w['predictions']}",
                           **{n: (w["metrics"][n] or {}).get("value") for n in names}} for w in result["windows"]])
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return 0


def _criteria(args: argparse.Namespace) -> int:
    from readiness.criteria import add_criterion, model_criteria, parse_criterion, remove_criterion

    store = Store.open(args.database)
    if args.criteria_action == "add":
        criterion = parse_criterion(args.criterion, args.window, args.min_labels)
        print(f"Added criterion {add_criterion(store, args.model, criterion, args.actor).id}: {criterion.text}")
    elif args.criteria_action == "remove":
        print(f"Removed criterion {args.id}: {remove_criterion(store, args.model, args.id, args.actor).text}")
    elif args.json:
        print(json.dumps([c.to_dict() for c in model_criteria(store, args.model)], indent=2))
    else:
        criteria = model_criteria(store, args.model)
        defaults = " (task defaults: add a criterion to replace them)" if criteria[0].is_default else ""
        print(f"Criteria of {args.model}{defaults}")
        for c in criteria:
            print(f"  {'-' if c.id is None else c.id:>4}  {c.text}")
    return 0


def _models(args: argparse.Namespace) -> int:
    portfolio = portfolio_overview(Store.open(args.database))
    frame = portfolio.as_frame()
    if args.json:
        print(frame.to_json(orient="records", date_format="iso", indent=2))
    elif frame.empty:
        print("No models yet. Seed the demo with `python -m readiness demo` or ingest a baseline.")
    else:
        print(frame.drop(columns=["Baseline rows"]).to_string(index=False))
    return 0


COMMANDS = {"demo": _demo, "ingest": _ingest, "drift": _drift, "performance": _performance, "criteria": _criteria,
            "models": _models}

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
