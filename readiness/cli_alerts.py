"""``python -m readiness watch`` and ``alerts``: the alert commands of the CLI (see docs/alerts.md).

``watch`` exits 0 when every message went out (or there was none), and 5 when a channel
failed after its retries: a cron job or CI schedule then shows the failure.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable

from readiness.errors import ConfigError
from readiness.storage.store import Store

EXIT_DELIVERY_FAILED = 5
EVERY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def add_parsers(sub: argparse._SubParsersAction, actor_help: str) -> None:
    """Add ``watch`` and ``alerts`` to the CLI's sub-commands."""
    watch = sub.add_parser(
        "watch", help="assess models, record what changed since the last run and notify the channels"
    )
    watch.add_argument("--model", help="one model (default: every model)")
    watch.add_argument(
        "--every",
        metavar="PERIOD",
        help="run again every PERIOD (e.g. 15m, 1h) until stopped; default: run once (for cron)",
    )
    alerts = sub.add_parser("alerts", help="list, acknowledge or snooze alerts; list channels")
    actions = alerts.add_subparsers(dest="alerts_action", required=True)
    listing = actions.add_parser("list", help="the newest alerts, newest first")
    listing.add_argument("--model", help="one model (default: every model)")
    listing.add_argument("--open", action="store_true", help="only problems still open")
    listing.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    ack = actions.add_parser("ack", help="acknowledge an alert: no more reminders about it")
    ack.add_argument("id", type=int, help="the alert's number (see alerts list)")
    snooze = actions.add_parser("snooze", help="hold an alert's reminders for a while")
    snooze.add_argument("id", type=int, help="the alert's number (see alerts list)")
    snooze.add_argument("--hours", type=float, default=24.0, help="how long (default 24)")
    actions.add_parser("channels", help="the channels notifications go to (secrets hidden)")
    for parser in (ack, snooze):
        parser.add_argument("--actor", default=None, help=actor_help)


def every_seconds(text: str) -> float:
    """A period such as "15m" or "1h" in seconds; ConfigError for anything else.

    >>> every_seconds("15m"), every_seconds("1h")
    (900.0, 3600.0)
    """
    match = EVERY.match(text or "")
    seconds = float(match.group(1)) * UNIT_SECONDS[match.group(2)] if match else 0.0
    if not 60 <= seconds <= 7 * 86400:
        raise ConfigError(f"--every {text!r} is not a period from 1m to 7d; write e.g. 15m, 1h or 1d.")
    return seconds


def watch_command(args: argparse.Namespace, pause: Callable[[float], None] = time.sleep) -> int:
    """Run watch once, or every ``--every`` until interrupted; exit 5 when a delivery failed."""
    from readiness.analysis.alerts import watch
    from readiness.config import alerts_config

    period = every_seconds(args.every) if args.every is not None else None
    config = alerts_config()
    store = Store.open(args.database)
    model = store.get_model(args.model) if args.model else None
    while True:
        started = time.monotonic()
        result = watch(store, config, model=model)
        print("\n".join(result.lines()), flush=True)
        if period is None:
            return EXIT_DELIVERY_FAILED if result.failures else 0
        try:
            pause(max(period - (time.monotonic() - started), 0.0))
        except KeyboardInterrupt:
            return 0


def alerts_command(args: argparse.Namespace) -> int:
    """``alerts list|ack|snooze|channels``."""
    from readiness.analysis import alerts as a
    from readiness.analysis.alert_views import state_words
    from readiness.config import alerts_config
    from readiness.core.records import utcnow

    store = Store.open(args.database)
    if args.alerts_action == "list":
        model = store.get_model(args.model) if args.model else None
        history = a.alert_history(store, filters=a.AlertFilter(model, (), args.open, max(args.limit, 1)))
        now = utcnow()
        for row in history.alerts.to_dict("records"):
            state = state_words(row, now)
            print(
                f"#{row['id']} {row['detected_at']:%Y-%m-%d %H:%M} [{row['severity']}] {row['title']} ({state})"
            )
        if history.alerts.empty:
            print("No alerts yet: run python -m readiness watch.")
        return 0
    if args.alerts_action == "ack":
        found = a.acknowledge_alert(store, args.id, args.actor)
        print(f"Acknowledged #{args.id}: {found.change.title}. No more reminders about it.")
        return 0
    if args.alerts_action == "snooze":
        until = a.snooze_alert(store, args.id, args.hours, args.actor)
        print(f"Snoozed #{args.id} until {until:%Y-%m-%d %H:%M} UTC.")
        return 0
    channels = a.all_channels(store, alerts_config())
    for channel in channels:
        scope = f"model {channel.model}" if channel.model else "every model"
        print(f"{channel.name}: {channel.masked}, {scope} (from {channel.source})")
    if not channels:
        print("No channels: add one in Settings or in the alerts file (docs/alerts.md).")
    return 0
