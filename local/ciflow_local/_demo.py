"""``ciflow demo``: the whole pipeline offline — sample media uploaded to the emulator, every handler and the
callback routing run locally, each job's routed result waited for, then a summary table and an HTML report."""

import contextlib
import hashlib
import shutil
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ciflow import operations as ops
from ciflow.client import CiClient, Deadline, Endpoint
from ciflow.errors import CiflowError
from ciflow.results import JobResult
from ciflow.routing import SqliteQueueSink
from ciflow.routing._dead_letter import DeadLetterStore

from ._report import JobRow, OutputFile, ReportData, RoutedMessage, UploadRow, write_report
from ._samples import Sample, generate_samples
from ._shims import Invocation, LocalFunctions, TimerShim
from .emulator import DEFAULT_CREDENTIALS, Emulator, Faults

__all__ = ["BUCKET", "REGION", "PLAN", "DemoResult", "run_demo", "default_functions_dir"]

BUCKET = "demo-1250000000"
REGION = "ap-guangzhou"
#: (concern, sample, object name under uploads/<concern>/): every concern gets the samples it works on.
PLAN: tuple[tuple[str, str, str], ...] = (
    ("moderate", "photo.png", "photo.png"),
    ("moderate", "notes.txt", "notes.txt"),
    ("moderate", "clip.mp4", "clip.mp4"),
    ("moderate", "tone.mp3", "tone.mp3"),
    ("moderate", "document.pdf", "document.pdf"),
    ("transcode", "clip.mp4", "clip.mp4"),
    ("transcode", "tone.mp3", "tone.mp3"),
    ("hash", "photo.png", "photo.png"),
    ("hash", "clip.mp4", "clip.mp4"),
    ("hash", "tone.mp3", "tone.mp3"),
    ("hash", "notes.txt", "notes.txt"),
    ("hash", "document.pdf", "报告 final+v2.pdf"),  # keys with unicode, a space and + round-trip
    ("hash", "bundle.zip", "bundle.zip"),
    ("unzip", "bundle.zip", "bundle.zip"),
    ("unzip", "hostile.zip", "hostile.zip"),
    ("previews", "photo.png", "photo.png"),
    ("previews", "clip.mp4", "clip.mp4"),
    ("previews", "document.pdf", "document.pdf"),
)
#: Per-function settings on top of the embedded defaults (what a deployment would export).
FUNCTION_ENV: dict[str, dict[str, str]] = {
    "transcode": {"CIFLOW_TRANSCODE_PRESETS": "mp4-240p,mp3"},
    "hash": {"CIFLOW_HASH_ALGORITHMS": "MD5,SHA256"},
    "moderate": {"CIFLOW_MODERATE_SNAPSHOT_COUNT": "2"},
    # The demo fires the timer itself once every job has ended, so any finished job is due for reconcile.
    "cleanup": {"CIFLOW_CLEANUP_RECONCILE_AFTER_S": "0"},
}
#: The one upload whose job must fail, and how: the archive with a ``../`` entry.
HOSTILE = ("unzip", "hostile.zip")
#: How often ``--keep`` fires the cleanup timer (serverless.yml: every 10 minutes; locally sooner).
KEEP_TIMER_SECONDS = 60.0
_FINAL_STATES = frozenset({"Success", "Failed", "Cancel"})
_RUN_ARTEFACTS = ("samples", "emulator", "idempotency", "functions.log", "report.html")
_RUN_DATABASES = ("queue.sqlite3", "dead-letters.sqlite3", "idempotency.sqlite3")


@dataclass
class DemoResult:
    """What the run found and where the report is; ``ok`` when every expected result arrived."""

    data: ReportData
    report_path: Path
    invocations: list[Invocation] = field(default_factory=list)
    cleanup: dict[str, Any] | None = None  # the cleanup run's summary when callbacks were lost

    @property
    def ok(self) -> bool:
        return not self.data.problems


def default_functions_dir() -> Path:
    """``functions/`` of this checkout (next to ``local/``), else of the working directory."""
    beside = Path(__file__).resolve().parents[2] / "functions"
    return beside if beside.is_dir() else Path.cwd() / "functions"


def _reset(data_dir: Path) -> None:
    """Remove what an earlier demo left in ``data_dir`` (only the demo's own files)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in _RUN_ARTEFACTS:
        path = data_dir / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    for name in _RUN_DATABASES:
        for suffix in ("", "-wal", "-shm", "-journal"):
            (data_dir / f"{name}{suffix}").unlink(missing_ok=True)


@contextlib.contextmanager
def _phase(phases: dict[str, float], name: str) -> Iterator[None]:
    start = time.monotonic()
    try:
        yield
    finally:
        phases[name] = time.monotonic() - start


class _Printer:
    """Progress lines on ``out``, each stamped with the seconds since the run started."""

    def __init__(self, out: TextIO, start: float) -> None:
        self.out, self.start = out, start

    def line(self, text: str) -> None:
        self.out.write(f"[{time.time() - self.start:5.1f}s] {text}\n")
        self.out.flush()

    def plain(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()


def _upload(client: CiClient, samples: dict[str, Sample], printer: _Printer) -> list[UploadRow]:
    rows = []
    for concern, sample_name, name in PLAN:
        sample = samples[sample_name]
        body = sample.read()
        key = f"uploads/{concern}/{name}"
        client.send(ops.put_object(key, body, content_type=sample.content_type), deadline=Deadline.after(30))
        rows.append(
            UploadRow(
                concern=concern,
                key=key,
                sample=sample_name,
                kind=sample.kind,
                content_type=sample.content_type,
                size=len(body),
                md5=hashlib.md5(body).hexdigest(),
                sha256=hashlib.sha256(body).hexdigest(),
                data=body if sample.kind == "image" else None,
            )
        )
    printer.line(f"uploaded {len(rows)} objects under uploads/<concern>/ to the emulator")
    return rows


def _wait_for_handlers(functions: LocalFunctions, uploads: list[UploadRow], timeout: float) -> bool:
    """Until every upload's handler ran (its event is announced just after the PUT answers) and none is busy."""
    deadline = time.monotonic() + timeout
    wanted = {(row.concern, row.key) for row in uploads}
    while time.monotonic() < deadline:
        done = {(i.function, i.key) for i in list(functions.uploads.invocations) if i.finished is not None}
        if wanted <= done and not functions.uploads.busy:
            return True
        time.sleep(0.02)
    return False


def _last_invocation(invocations: list[Invocation], concern: str, key: str) -> Invocation | None:
    mine = [i for i in invocations if i.function == concern and i.key == key and i.finished is not None]
    successful = [i for i in mine if i.ok]
    chosen = successful or mine
    return chosen[-1] if chosen else None


def _record_jobs(row: UploadRow, invocation: Invocation | None, problems: list[str]) -> None:
    """Fill ``row.jobs`` from what the handler answered; note a handler that did not submit."""
    if invocation is None:
        row.invocation = "handler never ran"
        problems.append(f"{row.key}: the {row.concern} handler never ran")
        return
    if not invocation.ok:
        row.invocation = f"handler raised {invocation.error}"
        problems.append(f"{row.key}: the {row.concern} handler raised {invocation.error}")
        return
    outcomes = invocation.result.get("outcomes", []) if isinstance(invocation.result, dict) else []
    outcome: dict[str, Any] = outcomes[0] if outcomes else {}
    status = outcome.get("status", "?")
    row.invocation = status + (f" ({outcome.get('reason') or outcome.get('error')})" if status != "submitted" else "")
    jobs: dict[str, str] = outcome.get("jobs") or {}
    if status != "submitted" and not jobs:
        problems.append(f"{row.key}: the {row.concern} handler answered {row.invocation}")
    expected = "Failed" if (row.concern, row.sample) == HOSTILE else "Success"
    for step, ids in jobs.items():
        for job_id in ids.split(","):
            row.jobs.append(JobRow(row.concern, row.key, step, job_id, expected_state=expected))


def _read_messages(queue: SqliteQueueSink) -> list[RoutedMessage]:
    return [
        RoutedMessage(m.id, m.queue, m.dedupe_key, m.payload, m.created_at) for m in queue.list("all", limit=100_000)
    ]


def _pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns (wide characters such as CJK take two)."""
    columns = sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
    return text + " " * max(width - columns, 0)


def _progress_line(job: JobRow) -> str:
    return f"{job.concern:<9} {_pad(job.object_key, 34)} {job.step:<16} {job.state:<8} {job.summary()}"


def _wait_for_results(jobs: list[JobRow], queue_path: Path, timeout: float, printer: _Printer) -> list[RoutedMessage]:
    """Poll the local queue until every job has a final result there (a line per job as it lands)."""
    by_id = {job.job_id: job for job in jobs}
    seen: set[int] = set()
    messages: list[RoutedMessage] = []
    deadline = time.monotonic() + timeout
    with SqliteQueueSink(queue_path, name="demo-reader") as queue:
        while True:
            messages = _read_messages(queue)
            for message in messages:
                if message.id in seen:
                    continue
                seen.add(message.id)
                result = JobResult.model_validate(message.payload)
                job = by_id.get(result.job_id or "")
                final = result.state in _FINAL_STATES or result.kind == "moderation"
                if job is None or job.result is not None or not final:
                    continue
                job.result, job.arrived_at = result, message.created_at
                printer.line(_progress_line(job))
            if all(job.result is not None for job in jobs) or time.monotonic() > deadline:
                return messages
            time.sleep(0.1)


def _wait_for_jobs(emulator: Emulator, jobs: list[JobRow], timeout: float) -> bool:
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


def _fetch_outputs(client: CiClient, jobs: list[JobRow]) -> None:
    """Sizes of every output, and the bytes of the pictures (read back through the COS API)."""
    for job in jobs:
        if job.result is None:
            continue
        for location in job.result.outputs:
            if location.bucket not in (None, BUCKET):
                continue
            output = OutputFile(location.key)
            try:
                if output.image_type:
                    content = client.send(ops.get_object(location.key), deadline=Deadline.after(10))
                    output.data, output.size = content.content, len(content.content)
                else:
                    head = client.send(ops.head_object(location.key), deadline=Deadline.after(10))
                    output.size = head.content_length
            except CiflowError as exc:
                job.problem = f"output {location.key} unreadable: {exc}"
            job.outputs.append(output)


def _check(uploads: list[UploadRow], client: CiClient, problems: list[str]) -> None:
    """Every job ended as expected; hashes match the bytes; the flagged text was blocked; nothing escaped."""
    for row in uploads:
        for job in row.jobs:
            job.problem = job.problem or _job_problem(row, job)
            if job.problem:
                problems.append(f"{row.key} [{job.step}] {job.problem}")
    escaped = [
        obj.key
        for page in client.paginate(ops.list_objects(""))
        for obj in page.contents
        if obj.key.endswith("escaped.txt")
    ]
    if escaped:
        problems.append(f"the hostile archive's ../ entry was extracted: {escaped}")


def _routed_more_than_once(messages: list[RoutedMessage]) -> list[str]:
    """Each result must reach each queue once, however often CI reported it or the cleanup read it back."""
    counts = Counter((message.queue, message.dedupe_key) for message in messages)
    return [f"{key} was routed {count} times to {queue}" for (queue, key), count in counts.items() if count > 1]


def _job_problem(row: UploadRow, job: JobRow) -> str | None:
    result = job.result
    if result is None:
        return "no result was routed"
    if job.expected_state == "Failed":
        if result.succeeded or not result.error_code:
            return f"expected Failed with an error code, got {result.state} {result.error_code or ''}".strip()
        return None
    if not result.succeeded:
        return f"{result.state}: {result.error_code} {result.error_message or ''}".strip()
    for algorithm, value in result.hashes.items():
        local = {"md5": row.md5, "sha256": row.sha256}.get(algorithm)
        if local is not None and value.lower() != local:
            return f"{algorithm} {value} does not match the uploaded bytes ({local})"
    blocked = result.verdict is not None and result.verdict.result == 1
    if row.concern == "moderate" and row.kind == "text" and not blocked:
        return f"the flagged text was not blocked (verdict {result.verdict})"
    return None


def _summary_table(uploads: list[UploadRow]) -> list[str]:
    header = f"{'object':<34} {'concern':<9} {'job':<28} {'state':<8} result"
    lines = [header, "-" * len(header)]
    for row in uploads:
        for job in row.jobs:
            mark = "" if job.ok else "  <-- " + (job.problem or "")
            job_name = f"{job.step} {job.job_id[:12]}"
            lines.append(
                f"{_pad(row.key, 34)} {row.concern:<9} {job_name:<28} {job.state:<8} {job.summary()[:60]}{mark}"
            )
        if not row.jobs:
            lines.append(f"{_pad(row.key, 34)} {row.concern:<9} {'-':<28} {'-':<8} {row.invocation}")
    return lines


def _function_env(queue_path: Path) -> dict[str, dict[str, str]]:
    """``FUNCTION_ENV`` with dead letters kept in the queue's own file, where ``ciflow queue dead-letters`` and
    ``redrive`` look for them."""
    letters = {"CIFLOW_DEAD_LETTER_PATH": str(queue_path)}
    return {**FUNCTION_ENV, **{name: {**FUNCTION_ENV.get(name, {}), **letters} for name in ("callback", "cleanup")}}


def _dead_letter_count(path: Path) -> int:
    if not path.exists():
        return 0
    with DeadLetterStore(path) as store:
        return len(store.list(limit=100_000))


def run_demo(
    data_dir: Path,
    *,
    timeout: float = 60.0,
    faults: Faults | None = None,
    out: TextIO | None = None,
    keep: bool = False,
    functions_dir: Path | None = None,
) -> DemoResult:
    """Run the demo in ``data_dir`` (its earlier demo files are replaced) and write ``report.html`` there."""
    out = out or sys.stdout
    started = time.time()
    printer = _Printer(out, started)
    phases: dict[str, float] = {}
    problems: list[str] = []
    data_dir = Path(data_dir).resolve()
    _reset(data_dir)
    with _phase(phases, "sample media generated"):
        samples = generate_samples(data_dir / "samples")
    printer.line(f"generated {len(samples)} samples in {data_dir / 'samples'}")
    emulator = Emulator(data_dir / "emulator", faults=faults or Faults(), region=REGION)
    with contextlib.ExitStack() as stack:
        log = stack.enter_context(open(data_dir / "functions.log", "w", encoding="utf-8"))
        stack.callback(emulator.stop)
        emulator.start()
        functions = LocalFunctions(
            emulator.url,
            data_dir,
            BUCKET,
            REGION,
            functions_dir or default_functions_dir(),
            function_env=_function_env(data_dir / "queue.sqlite3"),
            duplicate_rate=emulator.faults.duplicate_event_rate,
            seed=emulator.faults.seed,
            log_stream=log,
        )
        stack.callback(functions.stop)
        functions.start()
        emulator.on_upload.append(functions.uploads)
        printer.line(f"emulator on {emulator.url}; functions loaded; API Gateway shim on {functions.gateway.url}")
        client = stack.enter_context(
            CiClient(Endpoint(REGION, BUCKET, scheme="http", override=emulator.url), DEFAULT_CREDENTIALS)
        )
        with _phase(phases, "uploads"):
            uploads = _upload(client, samples, printer)
        with _phase(phases, "upload handlers"):
            if not _wait_for_handlers(functions, uploads, timeout):
                problems.append("the upload handlers did not all finish in time")
            invocations = list(functions.uploads.invocations)
            for row in uploads:
                _record_jobs(row, _last_invocation(invocations, row.concern, row.key), problems)
        jobs = [job for row in uploads for job in row.jobs]
        printer.line(f"handlers submitted {len(jobs)} jobs; waiting for their results in the local queue")
        with _phase(phases, "jobs run and results routed"):
            if not _wait_for_jobs(emulator, jobs, timeout):
                problems.append("the jobs did not all end (and report) in time")
            messages = _wait_for_results(jobs, functions.queue_path, 1.0, printer)
        lost = [job for job in jobs if job.result is None]
        cleanup: dict[str, Any] | None = None
        if lost:
            with _phase(phases, "lost callbacks reconciled"):
                printer.line(f"{len(lost)} results never arrived (callbacks lost); firing the cleanup timer")
                cleanup = functions.tick("reconcile")
                routed = (cleanup or {}).get("ledger", {}).get("routed", 0)
                printer.line(f"cleanup reconciled the ledger: {routed} results routed")
                messages = _wait_for_results(jobs, functions.queue_path, timeout, printer)
        with _phase(phases, "outputs read back"):
            _fetch_outputs(client, jobs)
            _check(uploads, client, problems)
            problems.extend(_routed_more_than_once(messages))
        finished = time.time()
        data = ReportData(
            emulator_url=emulator.url,
            bucket=BUCKET,
            started=started,
            finished=finished,
            uploads=uploads,
            messages=messages,
            phases=phases,
            problems=problems,
            dead_letters=_dead_letter_count(functions.queue_path),
        )
        report = write_report(data_dir / "report.html", data)
        _print_summary(printer, data, report)
        if keep:
            _serve_until_interrupted(printer, emulator, functions)
    return DemoResult(data, report, invocations, cleanup)


def _print_summary(printer: _Printer, data: ReportData, report: Path) -> None:
    printer.plain()
    for line in _summary_table(data.uploads):
        printer.plain(line)
    printer.plain()
    jobs = data.jobs
    passed = sum(1 for job in jobs if job.ok)
    printer.plain(
        f"{passed}/{len(jobs)} jobs as expected, {len(data.messages)} results routed to the local queue, "
        f"{data.dead_letters} dead letters, in {data.finished - data.started:.1f} s"
    )
    for problem in data.problems:
        printer.plain(f"PROBLEM: {problem}")
    printer.plain(f"report: {report}")


def _serve_until_interrupted(printer: _Printer, emulator: Emulator, functions: LocalFunctions) -> None:
    timer = TimerShim(functions, KEEP_TIMER_SECONDS).start()
    try:
        with contextlib.suppress(KeyboardInterrupt):
            printer.plain(
                f"\nThe emulator keeps running on {emulator.url} (bucket {BUCKET}, region {REGION}, "
                f"credentials {DEFAULT_CREDENTIALS.secret_id} / {DEFAULT_CREDENTIALS.secret_key}); uploads under "
                f"uploads/<concern>/ still trigger the functions, results land in {functions.queue_path}; the "
                f"cleanup timer fires every {KEEP_TIMER_SECONDS:g} s. Ctrl-C stops."
            )
            while True:
                time.sleep(1)
    finally:
        timer.stop()
