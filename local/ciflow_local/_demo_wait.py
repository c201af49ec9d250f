"""Waiting on the demo's pipeline: for the upload handlers, for the emulator's jobs to end and report, and for
each job's routed result in the local queue; with progress lines stamped from the start of the run."""

import time
from pathlib import Path
from typing import Any, TextIO

from ciflow.results import JobResult
from ciflow.routing import SqliteQueueSink

from ._demo_checks import progress_line
from ._report import JobRow, RoutedMessage, UploadRow
from ._shims import Invocation, LocalFunctions
from .emulator import Emulator

__all__ = [
    "Printer",
    "wait_for_handlers",
    "last_invocation",
    "describe_invocation",
    "wait_for_jobs",
    "wait_for_results",
]

_FINAL_STATES = frozenset({"Success", "Failed", "Cancel"})


class Printer:
    """Progress lines on ``out``, each stamped with the seconds since the run started."""

    def __init__(self, out: TextIO, start: float) -> None:
        self.out, self.start = out, start

    def line(self, text: str) -> None:
        self.out.write(f"[{time.time() - self.start:5.1f}s] {text}\n")
        self.out.flush()

    def plain(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()


def wait_for_handlers(functions: LocalFunctions, uploads: list[UploadRow], timeout: float) -> bool:
    """Until every upload's handler ran (its event is announced just after the PUT answers) and none is busy."""
    deadline = time.monotonic() + timeout
    wanted = {(row.concern, row.key) for row in uploads if not row.invocation}
    while time.monotonic() < deadline:
        done = {(i.function, i.key) for i in list(functions.uploads.invocations) if i.finished is not None}
        if wanted <= done and not functions.uploads.busy:
            return True
        time.sleep(0.02)
    return False


def last_invocation(invocations: list[Invocation], concern: str, key: str) -> Invocation | None:
    mine = [i for i in invocations if i.function == concern and i.key == key and i.finished is not None]
    successful = [i for i in mine if i.ok]
    chosen = successful or mine
    return chosen[-1] if chosen else None


def describe_invocation(invocation: Invocation | None) -> str:
    """What the handler answered, for the tables (the jobs themselves are read from the emulator)."""
    if invocation is None:
        return "the handler never ran"
    if not invocation.ok:
        return f"the handler raised {invocation.error}"
    outcomes = invocation.result.get("outcomes", []) if isinstance(invocation.result, dict) else []
    outcome: dict[str, Any] = outcomes[0] if outcomes else {}
    status = str(outcome.get("status", "?"))
    return status + (f" ({outcome.get('reason') or outcome.get('error')})" if status != "submitted" else "")


def _read_messages(queue: SqliteQueueSink) -> list[RoutedMessage]:
    return [
        RoutedMessage(m.id, m.queue, m.dedupe_key, m.payload, m.created_at) for m in queue.list("all", limit=100_000)
    ]


def wait_for_results(jobs: list[JobRow], queue_path: Path, timeout: float, printer: Printer) -> list[RoutedMessage]:
    """Poll the local queue until every job has a final result there (a line per job as it lands)."""
    by_id = {job.job_id: job for job in jobs}
    deadline = time.monotonic() + timeout
    with SqliteQueueSink(queue_path, name="demo-reader") as queue:
        while True:
            messages = _read_messages(queue)
            for message in messages:
                result = JobResult.model_validate(message.payload)
                job = by_id.get(result.job_id or "")
                final = result.state in _FINAL_STATES or result.kind == "moderation"
                if job is None or job.result is not None or not final:
                    continue
                job.result, job.arrived_at = result, message.created_at
                printer.line(progress_line(job))
            if all(job.result is not None for job in jobs) or time.monotonic() > deadline:
                return messages
            time.sleep(0.1)


def wait_for_jobs(emulator: Emulator, jobs: list[JobRow], timeout: float) -> bool:
    """Wait until every job has ended and CI has sent (or, with a fault, lost) its callback."""
    deadline = time.monotonic() + timeout
    for job in jobs:
        try:
            emulator.engine.wait(job.job_id, max(0.0, deadline - time.monotonic()), delivered=True)
        except KeyError:
            continue  # not a job the emulator ran: its missing result is reported per job
        except TimeoutError:
            return False
    return True
