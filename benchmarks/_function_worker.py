"""One fresh function process: import ``functions/<name>/index.py``, handle one real-shaped event, print figures.

The event is what the function's trigger delivers: a one-record COS upload event for the upload functions, an
API Gateway callback carrying CI's report of a finished job for ``callback``, a timer event for ``cleanup``.
Prints one JSON line: import and handling wall times, the handler's result summary and the process's peak RSS
(``ru_maxrss``, the whole process: interpreter, imports, one event). The environment (endpoint, credentials,
secrets) is the caller's; see ``targets.py``.
Run: python benchmarks/_function_worker.py FUNCTION
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "local"))

BUCKET = "media-1250000000"
#: The upload each upload function is about (its filters pick by suffix).
UPLOADS = {
    "hash": "in/bench/report 1+视频.bin",
    "transcode": "in/bench/clip 1+视频.mp4",
    "unzip": "in/bench/bundle 1.zip",
    "previews": "in/bench/photo 1.jpg",
    "moderate": "in/bench/photo 1.jpg",
    "callback": "in/bench/clip 1+视频.mp4",
}


def event_for(function: str) -> dict[str, Any]:
    from ciflow_local._events import apigw_callback_event, callback_user_data, cos_event, timer_event

    if function == "cleanup":
        return timer_event()
    upload = cos_event(BUCKET, UPLOADS[function], size=4096, etag="0123456789abcdef0123456789abcdef")
    if function != "callback":
        return upload
    from ciflow.events import ObjectRef, parse_cos_event

    ref = next(iter(parse_cos_event(upload).records_or_errors()))[1]
    assert isinstance(ref, ObjectRef), ref
    user_data = callback_user_data("Transcode", ref, os.environ["CIFLOW_USERDATA_SECRET"])
    token = os.environ["CIFLOW_CALLBACK_TOKEN"]
    return apigw_callback_event("Transcode", ref, token=token, user_data=user_data, fmt="xml")


def summary(result: Any) -> str:
    if isinstance(result, dict) and "statusCode" in result:
        return f"HTTP {result['statusCode']}"
    if isinstance(result, dict):
        keys = ("submitted", "skipped", "failed", "error")
        return ", ".join(f"{key} {result[key]}" for key in keys if result.get(key)) or "ok"
    return type(result).__name__


def main() -> None:
    function = sys.argv[1]
    event = event_for(function)  # built before the clock starts: the platform hands it over ready
    from ciflow_local._invoke import load_handler_module, scf_context

    start = time.perf_counter()
    handler = load_handler_module(function, ROOT / "functions").main_handler
    loaded = time.perf_counter()
    try:
        outcome = summary(handler(event, scf_context(function, timeout_seconds=60)))
    except Exception as exc:  # a retryable invocation raises on purpose; the figure still counts
        outcome = f"raised {type(exc).__name__}"
    done = time.perf_counter()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "function": function,
                "import_s": loaded - start,
                "handle_s": done - loaded,
                "outcome": outcome,
                "peak_rss_mb": peak_kib / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
