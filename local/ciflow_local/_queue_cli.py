"""``ciflow queue``: inspect, consume, purge and redrive the local SQLite queue and its dead letters."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import sqlite3
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import structlog

from ciflow.client import Deadline
from ciflow.logging import configure_logging
from ciflow.routing import DeadLetter, DeadLetterStore, QueueMessage, SqliteQueueSink

__all__ = ["DEFAULT_QUEUE_PATH", "DEMO_QUEUE_PATH", "add_queue_parser", "queue_path", "run_queue"]

#: Where the local queue (and its dead letters, in the same file) lives unless ``CIFLOW_QUEUE_PATH`` says otherwise.
DEFAULT_QUEUE_PATH = Path(".ciflow") / "queue.sqlite3"
#: Where ``make demo`` (``ciflow demo``, default ``--data-dir``) routes its results and dead letters.
DEMO_QUEUE_PATH = Path(".ciflow") / "demo" / "queue.sqlite3"


def queue_path(explicit: Path | None = None) -> Path:
    """``--db``, else ``CIFLOW_QUEUE_PATH``, else ``.ciflow/queue.sqlite3`` — or the demo's queue when only
    ``make demo`` has routed results here."""
    if explicit is not None:
        return explicit
    configured = os.environ.get("CIFLOW_QUEUE_PATH", "").strip()
    if configured:
        return Path(configured)
    if not DEFAULT_QUEUE_PATH.exists() and DEMO_QUEUE_PATH.is_file():
        return DEMO_QUEUE_PATH
    return DEFAULT_QUEUE_PATH


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_queue_parser(commands: Any) -> None:
    """Add the ``queue`` command group to the ``ciflow`` subparsers."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db", type=Path, default=None, help="queue database (default: $CIFLOW_QUEUE_PATH or .ciflow/queue.sqlite3)"
    )
    queue = commands.add_parser("queue", help="the local result queue and its dead letters (JSON output)")
    actions = queue.add_subparsers(dest="queue_command", required=True)

    listing = actions.add_parser("list", parents=[common], help="list messages")
    listing.add_argument("--state", choices=("pending", "acked", "all"), default="pending")
    listing.add_argument("--limit", type=_positive, default=100)

    show = actions.add_parser("show", parents=[common], help="one message with its payload")
    show.add_argument("id", type=int)

    receive = actions.add_parser("receive", parents=[common], help="receive visible messages, print them, ack them")
    receive.add_argument("--limit", type=_positive, default=10)
    receive.add_argument("--visibility-timeout", type=float, default=30.0, help="seconds hidden if not acked")
    receive.add_argument("--no-ack", action="store_true", help="leave them pending (visible again after the timeout)")

    purge = actions.add_parser("purge", parents=[common], help="delete acked messages")
    purge.add_argument("--acked", action="store_true", required=True, help="delete acked messages (required)")
    purge.add_argument("--older-than", type=float, default=None, help="only those created this many seconds ago")

    letters = actions.add_parser("dead-letters", parents=[common], help="list dead letters")
    letters.add_argument("--limit", type=_positive, default=100)

    redrive = actions.add_parser("redrive", parents=[common], help="redrive the local queue's dead letters into it")
    redrive.add_argument("--limit", type=_positive, default=100)
    redrive.add_argument("--timeout", type=float, default=60.0, help="stop after this many seconds")


def _iso(timestamp: float | None) -> str | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat()


def _message_json(message: QueueMessage) -> dict[str, Any]:
    data = dataclasses.asdict(message)
    for key in ("created_at", "visible_after", "acked_at"):
        data[key] = _iso(data[key])
    return data


def _letter_json(letter: DeadLetter) -> dict[str, Any]:
    data = dataclasses.asdict(letter)
    for key in ("first_failed_at", "last_failed_at"):
        data[key] = _iso(data[key])
    return data


def _print(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def _fail(message: str) -> int:
    print(f"ciflow queue: {message}", file=sys.stderr)
    return 2


def _run_queue(args: argparse.Namespace, path: Path) -> int:
    with SqliteQueueSink(path) as queue:
        command = args.queue_command
        if command == "list":
            _print([_message_json(m) for m in queue.list(args.state, limit=args.limit)])
        elif command == "show":
            message = queue.get(args.id)
            if message is None:
                return _fail(f"no message {args.id} in {path}")
            _print(_message_json(message))
        elif command == "receive":
            received = queue.receive(args.limit, args.visibility_timeout)
            _print([_message_json(m) for m in received])
            sys.stdout.flush()  # printed before acked: a message is never acked unseen
            if not args.no_ack:
                for message in received:
                    queue.ack(message.id)
        elif command == "purge":
            _print({"purged": queue.purge("acked", older_than=args.older_than)})
        elif command == "redrive":
            with DeadLetterStore(path) as store:
                report = store.redrive({queue.name: queue}, limit=args.limit, deadline=Deadline.after(args.timeout))
            _print(dataclasses.asdict(report))
            return 0 if not report.failed else 2
    return 0


@contextlib.contextmanager
def _logs_on_stderr() -> Iterator[None]:
    """Standard output carries only the JSON answer: log lines go to standard error while a command runs."""
    saved = structlog.get_config()
    configure_logging(stream=sys.stderr)
    try:
        yield
    finally:
        structlog.configure(**saved)


def run_queue(args: argparse.Namespace) -> int:
    """Run one ``ciflow queue`` command; 0 on success, 2 on a bad request, a missing message or a failure.

    A database that does not exist is refused, never created: an empty answer would hide a wrong path.
    """
    path = queue_path(args.db)
    if not path.is_file():
        return _fail(
            f"no queue database at {path}: nothing was routed there. Pass --db or set CIFLOW_QUEUE_PATH "
            f"(`ciflow invoke` and `make demo` route to {DEFAULT_QUEUE_PATH} and {DEMO_QUEUE_PATH})"
        )
    if path == DEMO_QUEUE_PATH and args.db is None:
        print(f"ciflow queue: reading the demo's {path} (there is no {DEFAULT_QUEUE_PATH})", file=sys.stderr)
    try:
        with _logs_on_stderr():
            return _run(args, path)
    except (OSError, ValueError, sqlite3.Error) as exc:
        return _fail(f"{path}: {exc}")


def _run(args: argparse.Namespace, path: Path) -> int:
    if args.queue_command == "dead-letters":
        with DeadLetterStore(path) as store:
            _print([_letter_json(letter) for letter in store.list(limit=args.limit)])
        return 0
    return _run_queue(args, path)
