"""The ``ciflow drill`` command line: options for volume, processes, faults and Redis; the run imported late."""

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_drill_parser", "run_drill_command"]


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("must be within 0 and 1")
    return value


def add_drill_parser(commands: Any) -> None:
    """``ciflow drill``; defaults are ``DrillConfig``'s (what ``make drill`` runs)."""
    drill = commands.add_parser(
        "drill", help="N uploads through several upload-function processes, faults on every side, then checks"
    )
    drill.add_argument("--data-dir", type=Path, default=Path(".ciflow") / "drill", help="default: .ciflow/drill")
    drill.add_argument("--uploads", type=int, default=2000)
    drill.add_argument("--processes", type=int, default=4, help="upload-function processes")
    drill.add_argument("--seed", type=int, default=1)
    drill.add_argument("--error-rate", type=_rate, default=0.02, help="503 from COS/CI")
    drill.add_argument("--throttle-rate", type=_rate, default=0.02, help="429 from COS/CI")
    drill.add_argument("--drop-callback-rate", type=_rate, default=0.05)
    drill.add_argument("--duplicate-event-rate", type=_rate, default=0.1)
    drill.add_argument("--slow-job-ms", type=float, default=20.0)
    drill.add_argument("--http-drop-rate", type=_rate, default=0.002, help="emulator answers cut off (per chunk)")
    drill.add_argument("--redis-drop-rate", type=_rate, default=0.001, help="Redis replies cut off (per chunk)")
    drill.add_argument("--blackhole-every", type=float, default=15.0, help="seconds between Redis black-holes")
    drill.add_argument("--blackhole-seconds", type=float, default=1.5)
    drill.add_argument("--store", choices=("redis", "cos"), default="redis", help="the idempotency store")
    drill.add_argument("--marker-error-rate", type=_rate, default=0.05, help="--store cos: marker writes 503")
    drill.add_argument("--marker-cut-rate", type=_rate, default=0.01, help="--store cos: cut after the write")
    drill.add_argument("--redis-url", default="redis://127.0.0.1:6379", help="without a database number")
    drill.add_argument("--redis-db", type=int, default=12, help="flushed at the start")


def run_drill_command(args: argparse.Namespace) -> int:
    """0 when nothing was lost or duplicated, 1 otherwise, 2 when the drill could not run."""
    from ._config import DrillConfig
    from ._run import run_drill

    try:
        config = DrillConfig(
            uploads=args.uploads,
            processes=args.processes,
            seed=args.seed,
            error_rate=args.error_rate,
            throttle_rate=args.throttle_rate,
            drop_callback_rate=args.drop_callback_rate,
            duplicate_event_rate=args.duplicate_event_rate,
            slow_job_ms=args.slow_job_ms,
            http_drop_rate=args.http_drop_rate,
            redis_drop_rate=args.redis_drop_rate,
            blackhole_every_s=args.blackhole_every,
            blackhole_s=args.blackhole_seconds,
            redis_url=args.redis_url.rstrip("/"),
            redis_db=args.redis_db,
            store=args.store,
            marker_error_rate=args.marker_error_rate,
            marker_cut_rate=args.marker_cut_rate,
        )
        result = run_drill(args.data_dir, config)
    except (OSError, RuntimeError, ValueError) as exc:
        print(f"ciflow drill: {exc}", file=sys.stderr)
        return 2
    return 0 if result.ok else 1
