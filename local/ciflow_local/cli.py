"""The ``ciflow`` command: ``generate-event``, ``invoke`` and ``queue`` (the emulator and demo join later)."""

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._events import cos_event, timer_event
from ._invoke import invoke
from ._queue_cli import add_queue_parser, run_queue

__all__ = ["main"]


def _read_event(source: str) -> Any:
    text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    return json.loads(text)


def _generate(args: argparse.Namespace) -> Any:
    if args.kind == "timer":
        return timer_event(args.message)
    return cos_event(
        args.bucket,
        args.key,
        region=args.region,
        size=args.size,
        etag=args.etag,
        content_type=args.content_type,
        event_name=args.event_name,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ciflow", description="ciflow local tooling")
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate-event", help="print a sample SCF event as JSON")
    kinds = generate.add_subparsers(dest="kind", required=True)
    cos = kinds.add_parser("cos", help="a COS upload (ObjectCreated) event")
    cos.add_argument("--bucket", required=True, help="full bucket name <name>-<appid>")
    cos.add_argument("--key", required=True, help="raw object key (unicode, spaces, + and %% are fine)")
    cos.add_argument("--region", default="ap-guangzhou")
    cos.add_argument("--size", type=int, default=1024)
    cos.add_argument("--etag", default=None)
    cos.add_argument("--content-type", default="application/octet-stream")
    cos.add_argument("--event-name", default="cos:ObjectCreated:Put")
    timer = kinds.add_parser("timer", help="a timer trigger event")
    timer.add_argument("--message", default="")

    run = commands.add_parser("invoke", help="run functions/<function>/index.py main_handler on an event")
    run.add_argument("function")
    run.add_argument("-e", "--event", required=True, help="event JSON file, or - for standard input")
    run.add_argument("--functions-dir", type=Path, default=Path("functions"))
    run.add_argument("--timeout", type=float, default=60.0, help="the function's time limit in seconds")
    add_queue_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "queue":
        return run_queue(args)
    if args.command == "generate-event":
        try:
            print(json.dumps(_generate(args), ensure_ascii=False, indent=2))
        except ValueError as exc:
            print(f"ciflow: {exc}", file=sys.stderr)
            return 2
        return 0
    try:
        result = invoke(
            args.function, _read_event(args.event), functions_dir=args.functions_dir, timeout_seconds=args.timeout
        )
    except (FileNotFoundError, json.JSONDecodeError, AttributeError) as exc:
        print(f"ciflow: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the handler failed: SCF would log and (for async triggers) retry
        print(json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}, ensure_ascii=False))
        return 1
    print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
