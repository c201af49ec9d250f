"""Child process of ``test_crash_kill``: runs one concern's upload function and dies hard at a step boundary.

Usage: ``python _kill_worker.py SPEC_JSON``. The spec names the concern, the events to deliver (object key and
ETag), ``kill_at`` (the 1-based step boundary at which the process calls ``os._exit(137)``, or null) and
``clock_offset`` (seconds added to the wall clock the runner and its store see, to deliver "after the lease").
Settings (the SQLite idempotency store, the emulator's endpoint and credentials) come from the environment.

Step boundaries, counted in the order the pipeline reaches them: ``claim`` (the claim was written),
``record:<step>=<value>`` (a pending mark or a job id was written), ``sent:<path>`` (a billed submit went out and CI
answered, before the answer is recorded) and ``complete`` (just before ``complete()`` is written). Without a
kill, the worker prints one JSON line per delivery: the boundaries it passed and the invocation summary.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from ciflow.concerns.hash import HashSettings
from ciflow.concerns.hash import plan as hash_plan
from ciflow.concerns.previews import PreviewsSettings
from ciflow.concerns.previews import plan as previews_plan
from ciflow.concerns.transcode import TranscodeSettings
from ciflow.concerns.transcode import plan as transcode_plan
from ciflow.config import load_settings
from ciflow.handlers import UploadRunner
from ciflow.handlers._outcome import RetryableInvocationError
from ciflow_local._events import cos_event
from ciflow_local._invoke import scf_context

CONCERNS: dict[str, tuple[Any, Any]] = {
    "hash": (HashSettings, hash_plan),
    "transcode": (TranscodeSettings, transcode_plan),
    "previews": (PreviewsSettings, previews_plan),
}
KILLED = 137


def main(spec: Mapping[str, Any]) -> None:
    settings_type, planner = CONCERNS[spec["concern"]]
    offset = float(spec.get("clock_offset", 0.0))
    kill_at: int | None = spec.get("kill_at")
    runner = UploadRunner(spec["concern"], load_settings(settings_type), planner, clock=lambda: time.time() + offset)
    passed: list[str] = []

    def boundary(label: str) -> None:
        passed.append(label)
        if kill_at is not None and len(passed) >= kill_at:
            sys.stdout.flush()
            os._exit(KILLED)  # no cleanup, no finally, no atexit: as SIGKILL would leave it

    store, client = runner.store, runner.client
    claim, record_jobs, complete, send = store.claim, store.record_jobs, store.complete, client.send

    def claiming(*args: Any, **kwargs: Any) -> Any:
        result = claim(*args, **kwargs)
        if result.acquired:
            boundary("claim")
        return result

    def recording(key: str, jobs: Mapping[str, str], **kwargs: Any) -> None:
        record_jobs(key, jobs, **kwargs)
        boundary("record:" + ",".join(f"{step}={value}" for step, value in jobs.items()))

    def completing(*args: Any, **kwargs: Any) -> None:
        boundary("complete")
        complete(*args, **kwargs)

    def sending(operation: Any, **kwargs: Any) -> Any:
        result = send(operation, **kwargs)
        if operation.method == "POST" and operation.service == "ci":
            boundary(f"sent:{operation.path}")
        return result

    patches: dict[str, Callable[..., Any]] = {"claim": claiming, "record_jobs": recording, "complete": completing}
    for name, patch in patches.items():
        setattr(store, name, patch)
    client.send = sending  # type: ignore[method-assign]

    for delivery in spec["deliveries"]:
        passed.clear()
        event = cos_event(spec["bucket"], delivery["key"], size=2048, etag=delivery["etag"])
        try:
            summary = runner.handle(event, scf_context(spec["concern"]))
        except RetryableInvocationError as exc:
            summary = exc.summary.as_dict()
        print(json.dumps({"key": delivery["key"], "boundaries": passed, "summary": summary}, default=str), flush=True)


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
