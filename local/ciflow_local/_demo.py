"""``ciflow demo``: the whole pipeline offline — sample media uploaded to the emulator, every handler and the
callback routing run locally, each job's routed result waited for, then a summary table and an HTML report."""

import contextlib
import hashlib
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ciflow import operations as ops
from ciflow.client import CiClient, Deadline, Endpoint, RetryPolicy
from ciflow.errors import CiflowError
from ciflow.routing import DeadLetterStore

from ._demo_checks import find_problems, lost_uploads, summary_lines
from ._demo_truth import EmulatorJob, attach_jobs, emulator_jobs, escaped_objects, read_outputs
from ._demo_wait import (
    Printer,
    describe_invocation,
    last_invocation,
    wait_for_handlers,
    wait_for_jobs,
    wait_for_results,
)
from ._demo_workflow import finish_workflow, split_messages, start_workflow, workflow_lines
from ._report import ReportData, RoutedMessage, UploadRow, write_report
from ._samples import Sample, generate_samples
from ._scf_dead_letters import ScfDeadLetterQueue
from ._shims import Invocation, LocalFunctions, TimerShim
from .emulator import DEFAULT_CREDENTIALS, DEFAULT_QUEUE_IDS, Emulator, Faults

__all__ = [
    "BUCKET",
    "REGION",
    "PLAN",
    "EXPECTED_STEPS",
    "DemoResult",
    "run_demo",
    "default_functions_dir",
    "remove_artefacts",
    "fresh_data_dir",
]

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
#: (concern, sample) -> the steps its planner submits under ``FUNCTION_ENV``: one job and one routed result each.
EXPECTED_STEPS: dict[tuple[str, str], tuple[str, ...]] = {
    ("moderate", "photo.png"): ("image",),
    ("moderate", "notes.txt"): ("text",),
    ("moderate", "clip.mp4"): ("video",),
    ("moderate", "tone.mp3"): ("audio",),
    ("moderate", "document.pdf"): ("document",),
    ("transcode", "clip.mp4"): ("preset-mp4-240p", "preset-mp3"),
    ("transcode", "tone.mp3"): ("preset-mp3",),
    **{("hash", sample): ("md5", "sha256") for concern, sample, _ in PLAN if concern == "hash"},
    ("unzip", "bundle.zip"): ("unzip",),
    ("unzip", "hostile.zip"): ("unzip",),
    ("previews", "photo.png"): ("thumbnail",),
    ("previews", "clip.mp4"): ("smartcover", "snapshot"),
    ("previews", "document.pdf"): ("pages",),
}
#: Job tags whose requests carry no UserData (so no step), and the one step of the demo that submits them.
UNTAGGED_STEPS = {"DocProcess": "pages"}
#: How often the demo fires the cleanup timer, at most, while results are missing and each run routes some.
CLEANUP_TICKS = 5
#: The demo's own uploads retry an injected 503/429 this often: they are the test's input, not the pipeline.
UPLOAD_RETRY = RetryPolicy(attempts=12, base_delay=0.05, max_delay=1.0)
#: Per-function settings on top of the embedded defaults (what a deployment would export).
FUNCTION_ENV: dict[str, dict[str, str]] = {
    "transcode": {"CIFLOW_TRANSCODE_PRESETS": "mp4-240p,mp3"},
    "hash": {"CIFLOW_HASH_ALGORITHMS": "MD5,SHA256"},
    "moderate": {"CIFLOW_MODERATE_SNAPSHOT_COUNT": "2"},
    # Documents go to a named queue, so a submit whose answer is lost can be looked up (listings need one).
    "previews": {"CIFLOW_PREVIEWS_DOC_QUEUE_ID": DEFAULT_QUEUE_IDS["doc"]},
    # The demo fires the timer itself once every job has ended, so any finished job is due for reconcile.
    # It also re-invokes an upload whose steps are missing on every tick, not only every 5 minutes.
    "cleanup": {"CIFLOW_CLEANUP_RECONCILE_AFTER_S": "0", "CIFLOW_CLEANUP_INVOKE_EVERY_S": "0"},
}
#: The one upload whose job must fail, and how: the archive with a ``../`` entry.
HOSTILE = ("unzip", "hostile.zip")
#: How often ``--keep`` fires the cleanup timer (serverless.yml: every 10 minutes; locally sooner).
KEEP_TIMER_SECONDS = 60.0
_RUN_ARTEFACTS = ("samples", "emulator", "idempotency", "functions.log", "report.html")
_RUN_DATABASES = ("queue.sqlite3", "dead-letters.sqlite3", "idempotency.sqlite3")


@dataclass
class DemoResult:
    """What the run found and where the report is; ``ok`` when every expected result arrived."""

    data: ReportData
    report_path: Path
    invocations: list[Invocation] = field(default_factory=list)
    cleanup: dict[str, Any] | None = None  # the first cleanup run's summary when callbacks were lost
    cleanup_runs: list[dict[str, Any]] = field(default_factory=list)  # every cleanup run's summary

    @property
    def ok(self) -> bool:
        return not self.data.problems


def default_functions_dir() -> Path:
    """``functions/`` of this checkout (next to ``local/``), else of the working directory."""
    beside = Path(__file__).resolve().parents[2] / "functions"
    return beside if beside.is_dir() else Path.cwd() / "functions"


def remove_artefacts(data_dir: Path, names: tuple[str, ...]) -> None:
    """Remove what an earlier run left in ``data_dir``: only ``names`` (folders whole; files with their SQLite
    journal and WAL companions)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        path = data_dir / name
        if path.is_dir():
            shutil.rmtree(path)
            continue
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def fresh_data_dir(data_dir: Path) -> None:
    """Clear what an earlier demo left, its ledger and queues too: a kept ledger would take every re-upload of the
    same sample bytes for one already handled."""
    remove_artefacts(data_dir, _RUN_ARTEFACTS + _RUN_DATABASES)


@contextlib.contextmanager
def _phase(phases: dict[str, float], name: str) -> Iterator[None]:
    start = time.monotonic()
    try:
        yield
    finally:
        phases[name] = time.monotonic() - start


def _upload_row(concern: str, sample_name: str, name: str, sample: Sample, body: bytes) -> UploadRow:
    return UploadRow(
        concern=concern,
        key=f"uploads/{concern}/{name}",
        sample=sample_name,
        kind=sample.kind,
        content_type=sample.content_type,
        size=len(body),
        md5=hashlib.md5(body).hexdigest(),
        sha256=hashlib.sha256(body).hexdigest(),
        data=body if sample.kind == "image" else None,
        expected_steps=EXPECTED_STEPS[(concern, sample_name)],
    )


def _upload(client: CiClient, samples: dict[str, Sample], printer: Printer) -> list[UploadRow]:
    """PUT every planned sample; one the API still refuses after the retries stays expected, and so is lost."""
    rows = []
    for concern, sample_name, name in PLAN:
        sample = samples[sample_name]
        body = sample.read()
        row = _upload_row(concern, sample_name, name, sample, body)
        try:
            client.send(ops.put_object(row.key, body, content_type=sample.content_type), deadline=Deadline.after(60))
        except CiflowError as exc:
            row.invocation = f"the upload itself failed: {exc}"
        rows.append(row)
    printer.line(f"uploaded {len(rows)} objects under uploads/<concern>/ to the emulator")
    return rows


def _attach_jobs(emulator: Emulator, uploads: list[UploadRow]) -> list[EmulatorJob]:
    """Add to each upload the jobs the emulator ran for its object; the jobs of no upload."""
    return attach_jobs(emulator_jobs(emulator.engine, BUCKET), uploads, failing={HOSTILE}, untagged=UNTAGGED_STEPS)


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


def _start_functions(emulator: Emulator, data_dir: Path, functions_dir: Path | None, log: TextIO) -> LocalFunctions:
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
        scf_api_url=emulator.api_url,
        dead_letters=ScfDeadLetterQueue(emulator.cmq_url, emulator.cmq.send),
    )
    functions.start()
    emulator.on_upload.append(functions.uploads)
    functions.serve_invocations(emulator.scf)
    return functions


def _run_handlers(
    functions: LocalFunctions, uploads: list[UploadRow], timeout: float, problems: list[str]
) -> list[Invocation]:
    if not wait_for_handlers(functions, uploads, timeout):
        problems.append("the upload handlers did not all finish in time")
    invocations = list(functions.uploads.invocations)
    for row in uploads:
        row.invocation = row.invocation or describe_invocation(last_invocation(invocations, row.concern, row.key))
    return invocations


def _collect_results(
    emulator: Emulator,
    functions: LocalFunctions,
    uploads: list[UploadRow],
    timeout: float,
    printer: Printer,
    problems: list[str],
) -> tuple[list[RoutedMessage], list[EmulatorJob]]:
    """Wait for every job the emulator ran for an upload (new ones too: the cleanup may submit) and for its
    routed result; (messages, jobs of no upload)."""
    strays = _attach_jobs(emulator, uploads)
    late = "the jobs did not all end (and report) in time"
    if not wait_for_jobs(emulator, [job for row in uploads for job in row.jobs], timeout) and late not in problems:
        problems.append(late)
    jobs = [job for row in uploads for job in row.jobs]
    return wait_for_results(jobs, functions.queue_path, 1.0, printer), strays


def _reconcile(
    emulator: Emulator,
    functions: LocalFunctions,
    uploads: list[UploadRow],
    timeout: float,
    printer: Printer,
    problems: list[str],
) -> tuple[list[dict[str, Any]], list[RoutedMessage], list[EmulatorJob]]:
    """Fire the cleanup timer while results are missing (at most ``CLEANUP_TICKS`` times, until a run routes
    nothing), as the deployed timer would every 10 minutes; its summaries, the messages and the stray jobs."""
    runs: list[dict[str, Any]] = []
    messages, strays = _collect_results(emulator, functions, uploads, timeout, printer, problems)
    for _ in range(CLEANUP_TICKS):
        lost = [job for row in uploads for job in row.jobs if job.result is None]
        unsubmitted = lost_uploads(uploads)
        if not (lost or unsubmitted) or (runs and not _progressed(runs[-1])):
            break
        printer.line(
            f"{len(lost)} results never arrived, {len(unsubmitted)} upload(s) missing jobs; firing the cleanup timer"
        )
        runs.append(functions.tick("reconcile") or {})
        ledger = runs[-1].get("ledger", {})
        printer.line(
            f"cleanup: {ledger.get('routed', 0)} results routed, {ledger.get('invoked', 0)} upload(s) re-invoked"
        )
        # The re-invoked upload functions (queued and retried as SCF runs them) submit their missing steps.
        emulator.scf.wait_invocations(timeout)
        wait_for_handlers(functions, uploads, timeout)
        messages, strays = _collect_results(emulator, functions, uploads, timeout, printer, problems)
    return runs, messages, strays


def _progressed(summary: dict[str, Any]) -> bool:
    """Whether a cleanup run did something the next one can build on (routed a result or re-invoked an upload)."""
    ledger = summary.get("ledger", {})
    return bool(ledger.get("routed") or ledger.get("invoked"))


def _verify(emulator: Emulator, data: ReportData, strays: list[EmulatorJob]) -> None:
    """Outputs read back from the emulator's storage, then everything missing, duplicated or wrong."""
    read_outputs(emulator.store, BUCKET, data.jobs)
    data.problems.extend(find_problems(data.uploads, data.messages, strays))
    escaped = escaped_objects(emulator.store, BUCKET)
    if escaped:
        data.problems.append(f"the hostile archive's ../ entry was extracted: {escaped}")


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
    printer = Printer(out, started)
    phases: dict[str, float] = {}
    problems: list[str] = []
    data_dir = Path(data_dir).resolve()
    fresh_data_dir(data_dir)
    with _phase(phases, "sample media generated"):
        samples = generate_samples(data_dir / "samples")
    printer.line(f"generated {len(samples)} samples in {data_dir / 'samples'}")
    emulator = Emulator(data_dir / "emulator", faults=faults or Faults(), region=REGION)
    with contextlib.ExitStack() as stack:
        log = stack.enter_context(open(data_dir / "functions.log", "w", encoding="utf-8"))
        stack.callback(emulator.stop)
        emulator.start()
        functions = _start_functions(emulator, data_dir, functions_dir, log)
        stack.callback(functions.stop)
        printer.line(f"emulator on {emulator.url}; functions loaded; API Gateway shim on {functions.gateway.url}")
        endpoint = Endpoint(REGION, BUCKET, scheme="http", override=emulator.url)
        client = stack.enter_context(CiClient(endpoint, DEFAULT_CREDENTIALS, retry=UPLOAD_RETRY))
        with _phase(phases, "uploads"):
            uploads = _upload(client, samples, printer)
            workflow = start_workflow(functions, client, samples["clip.mp4"], printer)  # transcode's workflow mode
        with _phase(phases, "upload handlers"):
            invocations = _run_handlers(functions, uploads, timeout, problems)
        with _phase(phases, "jobs run and results routed"):
            _attach_jobs(emulator, uploads)
            printer.line(f"handlers submitted {sum(len(row.jobs) for row in uploads)} jobs; waiting for their results")
            # The run ends (and is routed) before any cleanup tick, which would otherwise read it back too.
            finish_workflow(emulator, workflow, BUCKET, functions.queue_path, timeout, printer)
            runs, messages, strays = _reconcile(emulator, functions, uploads, timeout, printer, problems)
        strays = [job for job in strays if job.job_id not in workflow.job_ids]  # the run's node jobs are its own
        own = split_messages(messages, workflow)
        data = ReportData(emulator.url, BUCKET, started, started, uploads, own, phases, problems, workflow=workflow)
        data.dead_letters = _dead_letter_count(functions.queue_path)
        with _phase(phases, "outputs read back"):
            _verify(emulator, data, strays)
            data.problems.extend(workflow.problems)
        data.finished = time.time()
        report = write_report(data_dir / "report.html", data)
        _print_summary(printer, data, report)
        if keep:
            _serve_until_interrupted(printer, emulator, functions)
    return DemoResult(data, report, invocations, runs[0] if runs else None, runs)


def _print_summary(printer: Printer, data: ReportData, report: Path) -> None:
    printer.plain()
    for line in [*summary_lines(data), *workflow_lines(data.workflow)]:
        printer.plain(line)
    printer.plain(f"report: {report}")


def _serve_until_interrupted(printer: Printer, emulator: Emulator, functions: LocalFunctions) -> None:
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
