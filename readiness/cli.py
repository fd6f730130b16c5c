"""``python -m readiness``: seed the demo, ingest CSVs, check readiness and gate deployments.

Bad input exits with code 2 and a one-line reason on stderr; ``gate`` exits 1 when the model
is not ready; 3 means the database or the machine failed (no verdict); 4 means the actor's role
does not allow the change; 5 means ``watch`` could not deliver a notification.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

from readiness.cli_alerts import EXIT_DELIVERY_FAILED, alerts_command, watch_command
from readiness.cli_alerts import add_parsers as add_alert_parsers
from readiness.cli_table import text_table
from readiness.config import ROLES_FILE_ENV, check_settings, roles_policy
from readiness.core.access import AccessDenied, Actor
from readiness.core.checklist import DEFAULT_VALIDITY_DAYS
from readiness.core.drift_methods import METHODS
from readiness.core.mapping import KINDS, check_mapping, parse_mapping_pairs
from readiness.core.records import TASKS, Model, utcnow
from readiness.core.status import ReadinessStatus
from readiness.core.windows import WINDOWS
from readiness.errors import ModelConfigError, ReadinessError, StoreError, one_line
from readiness.storage.store import Store

EXIT_NOT_READY = 1
EXIT_BAD_INPUT = 2
EXIT_COULD_NOT_EVALUATE = 3  # the database or the machine failed: no verdict either way
EXIT_NOT_ALLOWED = 4  # roles are configured and the actor's role does not allow the change
__all__ = ["EXIT_DELIVERY_FAILED", "build_parser", "main"]
DEBUG_ENV = "READINESS_DEBUG"
ACTOR_ENV = "READINESS_ACTOR"
ACTOR_HELP = (
    f"who is making the change, for the audit trail (default: ${ACTOR_ENV}, else cli:<os user>); "
    f"refused when roles are configured (${ROLES_FILE_ENV}): then the actor is always the default"
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per job."""
    parser = argparse.ArgumentParser(prog="python -m readiness", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database",
        metavar="URL",
        help="SQLAlchemy URL (default: $READINESS_DATABASE_URL or data/readiness.db)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="seed the realistic demo (four models, ~90 days of logs)")
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo.add_argument("--if-empty", action="store_true", help="do nothing when the database has models")

    ingest = sub.add_parser("ingest", help="validate and store a baseline, live or labels CSV")
    ingest.add_argument("--model", required=True, help="model name")
    ingest.add_argument("--kind", required=True, choices=KINDS, help="what the file holds")
    ingest.add_argument("file", type=Path, help="CSV file (comma, semicolon or tab)")
    ingest.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="COLUMN=ROLE",
        help="override the proposed mapping, e.g. y_hat=prediction, notes=ignore, zip=categorical",
    )
    ingest.add_argument(
        "--date-format",
        default="",
        metavar="FORMAT",
        help="how the timestamp column is written when it is not ISO 8601: dayfirst, monthfirst or a "
        "strptime format such as '%%d/%%m/%%Y %%H:%%M' (default: ISO 8601, or what the file proves)",
    )
    ingest.add_argument(
        "--historical",
        choices=("yes", "no"),
        help="live files: yes judges the model as a finished log, as of its own end; no as a live service",
    )
    ingest.add_argument("--task", choices=TASKS, help="task of a new model (default: proposed from labels)")
    ingest.add_argument("--positive-class", help="positive class of a new binary model")
    ingest.add_argument("--owner", default="", help="owner of a new model")
    ingest.add_argument("--description", default="", help="description of a new model")
    ingest.add_argument("--actor", default=None, help=ACTOR_HELP)

    drift = sub.add_parser("drift", help="column and dataset drift of a model's log against its baseline")
    drift.add_argument("--model", required=True, help="model name")
    drift.add_argument("--start", type=_date, help="first day, YYYY-MM-DD (default: first prediction)")
    drift.add_argument("--end", type=_date, help="last day, inclusive, YYYY-MM-DD (default: last prediction)")
    drift.add_argument(
        "--window",
        choices=WINDOWS,
        help="window size: hour, day, week or month (default: chosen from volume)",
    )
    drift.add_argument(
        "--rule",
        choices=("test", "cutoff"),
        default="test",
        help="test: beyond sampling noise and a practical effect (default); cutoff: fixed distance cut-offs",
    )
    drift.add_argument(
        "--correction",
        choices=("bh", "bonferroni", "none"),
        default="bh",
        help="p-value correction across columns (default: Benjamini-Hochberg)",
    )
    drift.add_argument("--no-multivariate", action="store_true", help="skip the classifier check")
    drift.add_argument(
        "--test",
        action="append",
        default=[],
        metavar="COLUMN=TEST",
        help=f"test for one column, e.g. amount=ks (tests: {', '.join(METHODS)})",
    )
    drift.add_argument(
        "--calibrate",
        action="store_true",
        help="thresholds from the baseline: mean + 3 std over baseline chunks",
    )
    drift.add_argument("--json", action="store_true", help="print JSON for machines")

    performance = sub.add_parser("performance", help="metrics per window against success criteria")
    performance.add_argument("--model", required=True, help="model name")
    performance.add_argument("--start", type=_date, help="first day, YYYY-MM-DD (default: first prediction)")
    performance.add_argument(
        "--end", type=_date, help="last day, inclusive, YYYY-MM-DD (default: last prediction)"
    )
    performance.add_argument(
        "--window", choices=("day", "week", "month"), default="week", help="default: week"
    )
    performance.add_argument("--json", action="store_true", help="print JSON for machines")

    criteria = sub.add_parser("criteria", help="list, add or remove a model's success criteria")
    criteria.add_argument("--model", required=True, help="model name")
    criteria_sub = criteria.add_subparsers(dest="criteria_action", required=True)
    criteria_list = criteria_sub.add_parser("list", help="the stored criteria, or the task defaults in use")
    criteria_list.add_argument("--json", action="store_true", help="print JSON for machines")
    criteria_add = criteria_sub.add_parser(
        "add", help='add a criterion, e.g. "recall >= 0.8 per week min 200"'
    )
    criteria_add.add_argument("criterion", help='metric, >= or <=, threshold, e.g. "recall >= 0.8"')
    criteria_add.add_argument(
        "--window",
        choices=("day", "week", "month"),
        default="week",
        help="window when the criterion does not say (default: week)",
    )
    criteria_add.add_argument(
        "--min-labels",
        type=int,
        metavar="N",
        help="labels a window needs when the criterion does not say "
        "(default: 100; 0 for latency, volume and invalid rate)",
    )
    criteria_add.add_argument("--actor", default=None, help=ACTOR_HELP)
    criteria_remove = criteria_sub.add_parser("remove", help="remove a stored criterion by its id (see list)")
    criteria_remove.add_argument("id", type=int, help="criterion id")
    criteria_remove.add_argument("--actor", default=None, help=ACTOR_HELP)

    models = sub.add_parser(
        "models", help="list models with readiness, volume, time range and label coverage"
    )
    models.add_argument("--json", action="store_true", help="print JSON for machines")

    _checklist_parser(sub)
    add_alert_parsers(sub, ACTOR_HELP)

    gate = sub.add_parser("gate", help="exit 1 with a one-line reason when a model is not ready to deploy")
    gate.add_argument("--model", required=True, help="model name")
    gate.add_argument(
        "--min-score",
        type=float,
        metavar="N",
        help="lowest readiness score that passes, 0-100 (default: the model's Ready band, 75)",
    )
    gate.add_argument("--json", action="store_true", help="print the full result for machines")

    refresh = sub.add_parser("refresh", help="bring stored aggregates up to date with rows services inserted")
    refresh.add_argument("--model", help="one model (default: every model)")

    spark = sub.add_parser(
        "spark-profile",
        help="profile a model's log where it lives (Parquet in a data lake) with Apache Spark; store its days here",
        description="Runs with spark-submit on a cluster or on a local Spark; needs pip install -r requirements-spark.txt.",
    )
    spark.add_argument("--model", required=True, help="model name (created by --baseline when new)")
    spark.add_argument(
        "log", help="Parquet path of the prediction log (a file, a folder or a glob; s3a://, hdfs://...)"
    )
    spark.add_argument("--baseline", type=Path, help="baseline file to ingest first (CSV or Parquet)")
    spark.add_argument(
        "--task", choices=TASKS, help="task of a new model (default: proposed from the baseline)"
    )
    spark.add_argument("--positive-class", help="positive class of a new binary model")
    spark.add_argument(
        "--labels", help="Parquet path of delayed labels (request id, label, optionally label time)"
    )
    spark.add_argument("--since", help="redo only UTC days from this one on (YYYY-MM-DD); earlier days stay")
    spark.add_argument("--map", action="append", default=[], metavar="COLUMN=ROLE", help="the log's mapping")
    spark.add_argument(
        "--label-map", action="append", default=[], metavar="COLUMN=ROLE", help="the labels' mapping"
    )
    spark.add_argument("--master", help="Spark master when not run by spark-submit (e.g. local[2])")
    spark.add_argument("--actor", default=None, help=ACTOR_HELP)

    record = sub.add_parser("record", help="record every model's readiness score of the day (run it daily)")
    record.add_argument("--model", help="one model (default: every model)")

    report = sub.add_parser("report", help="write a self-contained HTML readiness report")
    target = report.add_mutually_exclusive_group(required=True)
    target.add_argument("--model", help="one model's report")
    target.add_argument("--all", action="store_true", help="the portfolio report (every model)")
    report.add_argument(
        "--out", type=Path, help="file to write (default: readiness-<model>-<date>.html here)"
    )
    return parser


def _checklist_parser(sub: argparse._SubParsersAction) -> None:
    checklist = sub.add_parser(
        "checklist", help="a model's readiness checklist: show, attest, configure, history"
    )
    checklist.add_argument("--model", required=True, help="model name")
    actions = checklist.add_subparsers(dest="checklist_action", required=True)
    show = actions.add_parser("show", help="every item with status and evidence, and the score")
    show.add_argument("--json", action="store_true", help="print JSON for machines")
    attest = actions.add_parser("attest", help="confirm an attested item, with an evidence link")
    attest.add_argument("item", help="item key, e.g. model_card (see 'show')")
    attest.add_argument("--owner", required=True, help="who attests it")
    attest.add_argument("--evidence", required=True, metavar="URL", help="http(s) link to the evidence")
    attest.add_argument(
        "--days",
        type=int,
        default=DEFAULT_VALIDITY_DAYS,
        help=f"days the attestation is valid (default {DEFAULT_VALIDITY_DAYS})",
    )
    attest.add_argument("--note", default="", help="optional note")
    withdraw = actions.add_parser("withdraw", help="withdraw an item's attestations")
    withdraw.add_argument("item", help="item key")
    na = actions.add_parser(
        "not-applicable", help="mark an item not applicable to this model, with the reason"
    )
    na.add_argument("item", help="item key")
    na.add_argument("--reason", required=True, help="why it does not apply")
    applicable = actions.add_parser("applicable", help="undo not-applicable for an item")
    applicable.add_argument("item", help="item key")
    configure = actions.add_parser(
        "configure", help="margins, bands and criticality of this model's checklist"
    )
    configure.add_argument(
        "--margin",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="e.g. max_ece=0.03, freshness_hours=48, latency_slo_ms=300 (see docs/readiness.md)",
    )
    configure.add_argument(
        "--bands", metavar="READY,AT_RISK", help="status bands, e.g. 80,50 (default 75,50)"
    )
    configure.add_argument(
        "--critical",
        action="append",
        default=[],
        metavar="ITEM=yes|no",
        help="make an item critical or not, e.g. calibrated=yes",
    )
    configure.add_argument(
        "--historical",
        choices=("yes", "no"),
        help="yes: a finished log, judged as of its own end (freshness does not apply); no: a live service",
    )
    history = actions.add_parser("history", help="the recorded score per day")
    history.add_argument("--backfill", type=int, metavar="DAYS", help="first recompute the last DAYS days")
    history.add_argument("--step", type=int, default=1, help="with --backfill: every STEP-th day (default 1)")
    history.add_argument("--json", action="store_true", help="print JSON for machines")
    for parser in (attest, withdraw, na, applicable, configure):
        parser.add_argument("--actor", default=None, help=ACTOR_HELP)


def default_actor() -> str:
    """Who runs the CLI, for the audit trail: $READINESS_ACTOR, else the operating-system user ("cli:<user>")."""
    named = os.environ.get(ACTOR_ENV, "").strip()
    if named:
        return named[:200]
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name on this machine (a bare container)
        return "cli"


def cli_actor(named: str | None) -> Actor:
    """Who runs a write command: in local mode ``--actor`` or the default; with roles, the default and its role.

    With roles configured, ``--actor`` could name anyone, so it is refused; the identity comes
    from the environment ($READINESS_ACTOR, else cli:<os user>) and the roles file gives its role.
    """
    policy = roles_policy()
    if policy is None:
        return Actor.local(named or default_actor())
    identity = default_actor()
    if named is not None and named.strip() != identity:
        raise AccessDenied(
            f"--actor {named!r} is refused because roles are configured (${ROLES_FILE_ENV}): a command "
            f"acts as ${ACTOR_ENV} or the OS user, here {identity!r}. Drop --actor, or set ${ACTOR_ENV}."
        )
    return Actor(identity, policy)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        check_settings()
        if hasattr(args, "actor"):
            args.actor = cli_actor(args.actor)
        return COMMANDS[args.command](args)
    except StoreError as exc:  # the database refused or failed: no verdict, not bad input
        print(f"error: could not evaluate: {exc}", file=sys.stderr)
        return EXIT_COULD_NOT_EVALUATE
    except AccessDenied as exc:
        print(f"error: not allowed: {exc}", file=sys.stderr)
        return EXIT_NOT_ALLOWED
    except ReadinessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        # the reader (``| head``) closed the pipe: stop quietly, and keep Python from
        # complaining again when it flushes stdout at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:  # the database or the machine failed: "could not evaluate", never "blocked"
        if os.environ.get(DEBUG_ENV):
            raise
        print(
            f"error: could not evaluate: {one_line(exc)} (set {DEBUG_ENV}=1 for the traceback)",
            file=sys.stderr,
        )
        return EXIT_COULD_NOT_EVALUATE


def _open(args: argparse.Namespace) -> Store:
    return Store.open(args.database)


def _model(store: Store, args: argparse.Namespace) -> Model:
    """The model named by ``--model``, resolved once for the whole command."""
    return store.get_model(args.model)


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, allow_nan=False))


def _demo(args: argparse.Namespace) -> int:
    from readiness.analysis.demo import SeedStep, seed_demo

    store = Store.open(args.database)
    if args.if_empty and not store.is_empty():
        print("Database already has models; demo not seeded.")
        return 0
    if not store.is_empty():
        raise ReadinessError(
            "The database already has models; the demo only seeds an empty database. "
            "Point --database at a new file, or use --if-empty to skip quietly."
        )
    started = time.monotonic()

    def say(step: SeedStep) -> None:
        print(f"[{time.monotonic() - started:5.1f} s] {step.text}", flush=True)

    summary = seed_demo(store, seed=args.seed, progress=say)
    print("\n".join(summary.lines()))
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from readiness.analysis.ingest import (
        ModelSpec,
        ingest_csv,
        model_classes,
        model_positive_class,
        open_upload,
        propose_upload_mapping,
    )
    from readiness.core.validate import propose_task

    if not args.file.is_file():
        raise ReadinessError(f"No such file: {args.file}. Check the path.")
    started = time.monotonic()  # the rate covers reading the file, from its first block
    # streamed from disk, block by block; the first block proposes the mapping
    source = open_upload(args.file, args.kind, args.file.name)
    frame = source.head.frame
    store = Store.open(args.database)
    given_positive, given_task = (args.positive_class, args.task) if args.kind == "baseline" else (None, None)
    names_and_values, guess, score = propose_upload_mapping(
        frame,
        args.kind,
        model_classes(store, args.model),
        given_positive or model_positive_class(store, args.model),
        given_task,
    )
    mapping = parse_mapping_pairs(args.map, names_and_values)
    mapping = replace(mapping, date_format=args.date_format)
    if guess is not None and mapping.column_for("label") == guess.column:
        print(guess.reason + f" Map another with --map COLUMN=label, or --map {guess.column}=ignore.")
    if score is not None and mapping.column_for("score") == score.column:
        print(score.reason + f" Map another with --map COLUMN=score, or --map {score.column}=ignore.")
    spec = None
    if args.kind == "baseline":
        task, positive = args.task, args.positive_class
        if task is None:
            check_mapping(mapping, list(frame.columns), args.kind, args.file.name)
            task, proposed = propose_task(frame, mapping)
            positive = positive or proposed
        spec = ModelSpec(task, positive, args.owner, args.description)
    historical = None if args.historical is None else args.historical == "yes"
    result = ingest_csv(
        store,
        args.model,
        args.kind,
        source,
        args.file.name,
        mapping,
        spec,
        args.actor,
        progress=_progress_line(started),
        historical=historical,
    )
    print(result.message)
    if result.rows_added:
        seconds = max(time.monotonic() - started, 1e-6)
        print(f"Took {seconds:.1f} s ({result.rows_added / seconds:,.0f} rows/s, stored and refreshed).")
    last = result.last_timestamp.replace(tzinfo=None) if result.last_timestamp is not None else None
    if (
        args.kind == "live"
        and historical is None
        and last is not None
        and utcnow() - last > timedelta(days=2)
    ):
        print(
            f"This log ends {last:%Y-%m-%d}. If it is a finished log, judge it as of its own end: "
            f"python -m readiness checklist configure --model {args.model} --historical yes"
        )
    return 0


def _progress_line(started: float) -> Callable[[float, str], None]:
    """Progress of a long ingestion on standard error, one line rewritten in place, when it is a terminal."""
    if not sys.stderr.isatty():
        return lambda _fraction, _text: None

    def show(fraction: float, text: str) -> None:
        print(
            f"\r[{time.monotonic() - started:5.1f} s] {fraction:4.0%} {text}\033[K", end="", file=sys.stderr
        )
        if fraction >= 1:
            print(file=sys.stderr)

    return show


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date; write YYYY-MM-DD, e.g. 2026-11-01"
        ) from None


def _tests(pairs: list[str]) -> dict[str, str]:
    tests = {}
    for pair in pairs:
        column, sep, method = pair.rpartition("=")
        if not sep or not column:
            raise ReadinessError(f"Cannot read test {pair!r}: write COLUMN=TEST, e.g. amount=ks.")
        tests[column] = method
    return tests


def _drift(args: argparse.Namespace) -> int:
    from readiness.analysis.contract import drift_json
    from readiness.analysis.drift_overview import DriftOptions, drift_overview

    store = _open(args)
    options = DriftOptions(methods=_tests(args.test), correction=args.correction, rule=args.rule)
    overview = drift_overview(
        store,
        _model(store, args),
        args.start,
        args.end,
        args.window,
        options,
        multivariate=not args.no_multivariate,
        calibrated=args.calibrate,
    )
    result = drift_json(overview)
    if args.json:
        _print_json(result)
        return 0
    print(drift_text(result))
    return 0


def drift_text(result: dict) -> str:
    """``drift`` for people: what drifts now and since when, then every column."""
    import pandas as pd

    summary, now = result["summary"], result["summary"]["now"]
    columns = result["columns"]
    drifting = [c for c in columns if c["drifting_now"]]
    lines = [
        f"Model {summary['model']}: {summary['predictions']:,} predictions, {summary['start']} to "
        f"{summary['end']}, per {summary['window']}.",
        f"Drifting now ({now['period']}, {now['rows']:,} predictions): "
        f"{len(drifting)} of {summary['columns_analyzed']} columns.",
    ]
    lines += [f"  {c['column']}: since {c['since']}. {c['explanation']}" for c in drifting]
    recovered = [c for c in columns if not c["drifting_now"] and c["recovered_on"]]
    lines += [f"  {c['column']}: recovered on {c['recovered_on']}." for c in recovered]
    lines.append(f"Data as a whole: {summary['dataset_explanation']}")
    rows = [
        {
            "column": c["column"],
            "now": "drifting" if c["drifting_now"] else ("steady" if c["analyzed"] else "not analyzed"),
            "since": c["since"] or "",
            "recovered on": c["recovered_on"] or "",
            "test": c["method"],
            "statistic": "" if c["statistic"] is None else f"{c['statistic']:.4g}",
            "p-value": "" if c["p_value"] is None else f"{c['p_value']:.2g}",
            "effect": "" if c["effect"] is None else f"{c['effect']:.3g}",
            "quality": "; ".join(c["quality"]),
        }
        for c in columns
    ]
    lines += ["", pd.DataFrame(rows).to_string(index=False)]
    return "\n".join(lines)


def _performance(args: argparse.Namespace) -> int:
    import pandas as pd

    from readiness.analysis.contract import performance_json
    from readiness.analysis.performance_overview import performance_overview, quality_metrics

    store = _open(args)
    overview = performance_overview(store, _model(store, args), args.start, args.end, args.window)
    result = performance_json(overview)
    if args.json:
        _print_json(result)
        return 0
    print(f"Model {result['model']}: {result['start']} to {result['end']}, per {result['window']}")
    for c in result["criteria"]:
        value = c["value"]["value"] if c["value"] and c["value"]["value"] is not None else None
        shown = f"{value:.4g}" if value is not None else "n/a"
        interval = (
            f" [{c['value']['lower']:.4g}, {c['value']['upper']:.4g}]"
            if c["value"] and c["value"]["lower"] is not None
            else ""
        )
        status = c["status"].replace("_", " ")
        print(f"  {status:>17}  {c['criterion']['text']}: {shown}{interval} (window from {c['window']})")
    print()
    names = list(quality_metrics(overview.model))[:6]
    table = pd.DataFrame(
        [
            {
                "window": w["start"],
                "labelled": f"{w['labelled']}/{w['predictions']}",
                **{n: (w["metrics"][n] or {}).get("value") for n in names},
            }
            for w in result["windows"]
        ]
    )
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return 0


def _criteria(args: argparse.Namespace) -> int:
    from readiness.analysis.contract import criteria_json
    from readiness.analysis.settings import add_criterion, model_criteria, parse_criterion, remove_criterion

    store = _open(args)
    model = _model(store, args)
    if args.criteria_action == "add":
        criterion = parse_criterion(args.criterion, args.window, args.min_labels)
        print(f"Added criterion {add_criterion(store, model, criterion, args.actor).id}: {criterion.text}")
    elif args.criteria_action == "remove":
        print(f"Removed criterion {args.id}: {remove_criterion(store, model, args.id, args.actor).text}")
    elif args.json:
        _print_json(criteria_json(model_criteria(store, model)))
    else:
        criteria = model_criteria(store, model)
        defaults = " (task defaults: add a criterion to replace them)" if criteria[0].is_default else ""
        print(f"Criteria of {model.name}{defaults}")
        for c in criteria:
            print(f"  {'-' if c.id is None else c.id:>4}  {c.text}")
    return 0


def _models(args: argparse.Namespace) -> int:
    from readiness.analysis.contract import models_json
    from readiness.analysis.overview import portfolio_overview

    portfolio = portfolio_overview(_open(args), label_coverage=args.json)  # the table does not show coverage
    if args.json:
        _print_json(models_json(portfolio))
    elif not portfolio.models:
        print("No models yet. Seed the demo with `python -m readiness demo` or ingest a baseline.")
    else:
        rows = [
            {
                "Model": m.name,
                "Status": m.readiness.score.status.label if m.readiness else ("error" if m.error else "n/a"),
                "Score": m.readiness.score_text if m.readiness else "n/a",
                "Holding it back": m.error or m.holding_back,
                "Task": m.task,
                "Predictions": m.n_predictions,
                "Last prediction": m.last_timestamp,
                "Freshness": m.freshness.label,
            }
            for m in portfolio.worst_first()
        ]
        print(text_table(rows))
    return 0


def _refresh(args: argparse.Namespace) -> int:
    from readiness.analysis.refresh import refresh_all, refresh_model

    store = _open(args)
    done = (refresh_model(store, _model(store, args)),) if args.model else refresh_all(store)
    for refreshed in done:
        print(refreshed.message, file=sys.stderr if refreshed.error else sys.stdout)
    return 1 if any(r.error for r in done) else 0


def _spark_profile(args: argparse.Namespace) -> int:
    from readiness.analysis.spark_job import spark_profile, spark_session

    store = _open(args)
    if args.baseline is not None:
        _ingest(
            argparse.Namespace(
                **{
                    **vars(args),
                    "kind": "baseline",
                    "file": args.baseline,
                    "map": [],
                    "date_format": "",
                    "owner": "",
                    "description": "",
                    "historical": None,
                }
            )
        )
    since = _since(args.since)
    started = time.perf_counter()
    with spark_session(args.master) as spark:
        written = spark_profile(
            spark, store, args.model, args.log, args.labels, since, args.map, args.label_map
        )
    seconds = time.perf_counter() - started
    print(
        f"{written.model}: profiled {written.rows:,} prediction(s) into {written.days_written} day(s)"
        + (f", removed {written.days_removed} day(s) no longer in the log" if written.days_removed else "")
        + f" in {seconds:.1f} s ({written.rows / max(seconds, 1e-9):,.0f} rows/s)."
    )
    return 0


def _since(text: str | None) -> datetime | None:
    """A --since day, or None."""
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        raise ModelConfigError(
            f"--since {text!r} is not a day: write it as YYYY-MM-DD, e.g. 2026-11-01."
        ) from None


def _record(args: argparse.Namespace) -> int:
    from readiness.analysis.assessment import assess_model, record_score, record_scores

    store = _open(args)
    if args.model:
        assessment = assess_model(store, _model(store, args))
        record_score(store, assessment)
        assessments: tuple = (assessment,)
    else:
        assessments = record_scores(store)
    for a in assessments:
        print(f"Recorded {a.model.name}: {a.headline}")
    return 0


def _checklist(args: argparse.Namespace) -> int:
    from readiness.analysis import settings
    from readiness.analysis.assessment import assess_model, backfill_history, score_history
    from readiness.analysis.contract import gate_json, history_json
    from readiness.analysis.gate import gate

    store = _open(args)
    model = _model(store, args)
    action = args.checklist_action
    if action == "show" and args.json:
        _print_json(gate_json(gate(store, model)))
    elif action == "show":
        _print_checklist(assess_model(store, model))
    elif action == "attest":
        done = settings.attest(
            store, model, args.item, args.owner, args.evidence, args.days, note=args.note, actor=args.actor
        )
        print(f"Attested {done.item_key} for {model.name} by {done.owner}, valid through {done.expires_at}.")
    elif action == "withdraw":
        print(
            f"Withdrew {settings.withdraw(store, model, args.item, args.actor)} attestation(s) of {args.item}."
        )
    elif action == "not-applicable":
        settings.mark_not_applicable(store, model, args.item, args.reason, args.actor)
        print(f"Marked {args.item} not applicable to {model.name}: {args.reason.strip()}")
    elif action == "applicable":
        settings.mark_applicable(store, model, args.item, args.actor)
        print(f"{args.item} applies to {model.name} again.")
    elif action == "configure":
        _configure(store, model, args)
    else:
        if args.backfill is not None:  # to stderr under --json, so stdout stays one JSON document
            print(
                f"Recorded {backfill_history(store, model, args.backfill, args.step)} day(s).",
                file=sys.stderr if args.json else sys.stdout,
            )
        frame = score_history(store, model)
        if args.json:
            _print_json(history_json(frame))
        elif frame.empty:
            print("No score recorded yet.")
        else:
            frame["status"] = frame["status"].map(lambda v: ReadinessStatus.parse(v).label)
            print(frame.to_string(index=False, float_format=lambda v: f"{v:.0f}"))
    return 0


def _configure(store: Store, model: Model, args: argparse.Namespace) -> None:
    from readiness.analysis import settings

    margins = {}
    for pair in args.margin:
        name, sep, value = pair.partition("=")
        if not sep:
            raise ReadinessError(f"Cannot read margin {pair!r}: write NAME=VALUE, e.g. max_ece=0.03.")
        margins[name.strip()] = _number(value, f"margin {name.strip()}")
    if margins:
        settings.set_margins(store, model, args.actor, **margins)
    if args.bands:
        parts = args.bands.split(",")
        if len(parts) != 2:
            raise ReadinessError(f"Cannot read bands {args.bands!r}: write READY,AT_RISK, e.g. 80,50.")
        settings.set_bands(
            store, model, _number(parts[0], "ready band"), _number(parts[1], "at-risk band"), args.actor
        )
    for pair in args.critical:
        key, sep, value = pair.partition("=")
        if not sep or value.strip().lower() not in ("yes", "no", "true", "false"):
            raise ReadinessError(f"Cannot read {pair!r}: write ITEM=yes or ITEM=no, e.g. calibrated=yes.")
        settings.set_critical(store, model, key.strip(), value.strip().lower() in ("yes", "true"), args.actor)
    if args.historical:
        settings.set_historical(store, model, args.historical == "yes", args.actor)
    _print_json(settings.checklist_config(store, model).to_dict())


def _number(text: str, what: str) -> float | int:
    try:
        value = float(text)
    except ValueError:
        raise ReadinessError(f"The {what} is {text.strip()!r}, not a number.") from None
    return int(value) if value.is_integer() and "." not in text else value


def _print_checklist(assessment) -> None:
    from readiness.core.checklist import SECTIONS

    score = assessment.score
    print(
        f"{assessment.model.name}: {score.status.label}, readiness {assessment.score_text} (the weakest section's) "
        + assessment.judged_as_of
    )
    print("  " + ", ".join(f"{s} {_percent(assessment.section_percent(s))}" for s in SECTIONS))
    for blocker in score.blockers:
        print(f"  holding it back: {blocker.item.title} ({blocker.status.value}): {blocker.reason}")
    for section in SECTIONS:
        print(f"\n{section}")
        for r in assessment.by_section(section):
            marker = "!" if r.item.critical else " "
            evidence = (
                f" [{r.evidence.figure}{'; ' + r.evidence.window if r.evidence and r.evidence.window else ''}]"
                if r.evidence
                else ""
            )
            print(f" {marker}{r.status.value:>14}  {r.item.key}: {r.reason}{evidence}")


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}%"


def _gate(args: argparse.Namespace) -> int:
    from readiness.analysis.assessment import record_score
    from readiness.analysis.contract import gate_json
    from readiness.analysis.gate import gate

    store = _open(args)
    result = gate(store, _model(store, args), args.min_score)
    record_score(store, result.assessment)  # a gate run is a day's score, like a scheduled record
    if args.json:
        _print_json(gate_json(result))
    else:
        print(result.reason)
        if not result.passed:
            print(result.reason, file=sys.stderr)  # CI logs that show only stderr still say why
    return 0 if result.passed else EXIT_NOT_READY


def _report(args: argparse.Namespace) -> int:
    from readiness.analysis.report import model_report_html, portfolio_report_html, report_filename

    store = _open(args)
    html = portfolio_report_html(store) if args.all else model_report_html(store, _model(store, args))
    out = args.out or Path(report_filename(None if args.all else args.model, utcnow().date()))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise ReadinessError(
            f"Cannot write the report to {out}: {exc.strerror or exc}. Pick another --out path."
        ) from None
    print(f"Wrote {out} ({len(html.encode()) / 1e6:.1f} MB); it opens offline in any browser.")
    return 0


COMMANDS = {
    "demo": _demo,
    "ingest": _ingest,
    "drift": _drift,
    "performance": _performance,
    "criteria": _criteria,
    "models": _models,
    "checklist": _checklist,
    "gate": _gate,
    "refresh": _refresh,
    "spark-profile": _spark_profile,
    "record": _record,
    "report": _report,
    "watch": watch_command,
    "alerts": alerts_command,
}

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
