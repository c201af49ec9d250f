"""``ciflow drill``: N uploads through several upload-function processes against the faulted emulator, the
cleanup run until nothing changes, then the verdict from the emulator's own records and a report."""

import contextlib
import dataclasses
import fcntl
import io
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from ciflow.client import CiClient, Endpoint
from ciflow.routing import DeadLetter, DeadLetterStore

from .._demo import (
    BUCKET,
    FUNCTION_ENV,
    HOSTILE,
    REGION,
    UNTAGGED_STEPS,
    UPLOAD_RETRY,
    default_functions_dir,
    remove_artefacts,
)
from .._demo_truth import EmulatorJob, attach_jobs, emulator_jobs, escaped_objects
from .._demo_wait import Printer, wait_for_jobs, wait_for_results
from .._report import RoutedMessage, UploadRow
from .._samples import generate_samples
from .._shims import CALLBACK_FUNCTION, CLEANUP_FUNCTION, LocalFunctions
from ..emulator import DEFAULT_CREDENTIALS, Emulator
from ._config import DrillConfig
from ._feed import EventFeed, plan_uploads, put_uploads
from ._figures import Figures, gather_figures, summary_lines, write_report
from ._pool import WorkerPool
from ._proxy import BlackholeSchedule, FaultProxy
from ._store import lease_wait, redis_proxy, store_env
from ._verdict import Verdict, judge, settled

__all__ = ["DrillResult", "run_drill"]

#: Redis's default number of databases (0-15).
_REDIS_DATABASES = 16
_ARTEFACTS = ("samples", "emulator", "logs", "report.html", "queue.sqlite3", "dead-letters.sqlite3")


@dataclass
class DrillResult:
    """The verdict, the figures and where the report is."""

    verdict: Verdict
    figures: Figures
    report_path: Path
    cleanup_runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.verdict.ok


@dataclass
class _Rig:
    """Everything running during a drill."""

    config: DrillConfig
    emulator: Emulator
    functions: LocalFunctions
    pool: WorkerPool
    feed: EventFeed
    redis_proxy: FaultProxy | None  # None with the COS marker store
    http_proxy: FaultProxy
    printer: Printer
    quiet: Printer


@contextlib.contextmanager
def _own_database(config: DrillConfig) -> Iterator[DrillConfig]:
    """The first Redis database from ``redis_db`` up that no other drill on this machine holds (a lock file
    each): concurrent drills (two test runs) would flush and share each other's records."""
    for db in range(config.redis_db, _REDIS_DATABASES):
        with open(Path(tempfile.gettempdir()) / f"ciflow-drill-redis-{db}.lock", "w", encoding="utf-8") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            yield dataclasses.replace(config, redis_db=db)
            return
    raise RuntimeError(f"every Redis database from {config.redis_db} up is in use by another drill")


def _function_env(redis_url: str | None, queue_path: Path) -> dict[str, dict[str, str]]:
    """The demo's per-function settings, with the drill's store (Redis through the proxy, or COS markers) and
    local dead letters."""
    store = store_env(redis_url)
    letters = {"CIFLOW_DEAD_LETTER_PATH": str(queue_path)}
    names = {*FUNCTION_ENV, CALLBACK_FUNCTION, CLEANUP_FUNCTION, "hash", "moderate", "previews", "transcode", "unzip"}
    env = {name: {**FUNCTION_ENV.get(name, {}), **store} for name in names}
    for name in (CALLBACK_FUNCTION, CLEANUP_FUNCTION):
        env[name].update(letters)
    # The drill fires the cleanup only once every handler has stopped: each run may invoke an unfinished upload.
    env[CLEANUP_FUNCTION].update({"CIFLOW_CLEANUP_RECONCILE_AFTER_S": "0", "CIFLOW_CLEANUP_INVOKE_EVERY_S": "0"})
    return env


@contextlib.contextmanager
def _rig(data_dir: Path, config: DrillConfig, printer: Printer) -> Iterator[_Rig]:
    with contextlib.ExitStack() as stack:
        (data_dir / "logs").mkdir(parents=True, exist_ok=True)
        log = stack.enter_context(open(data_dir / "logs" / "functions.log", "w", encoding="utf-8"))
        proxy, redis_url = redis_proxy(config) if config.store == "redis" else (None, None)
        if proxy is not None:
            stack.callback(proxy.stop)
        emulator = Emulator(
            data_dir / "emulator", faults=config.faults(), region=REGION, workers=config.emulator_workers
        )
        stack.callback(emulator.stop)
        emulator.start()
        http_proxy = FaultProxy("127.0.0.1", urlsplit(emulator.url).port or 80, drop_rate=config.http_drop_rate)
        http_proxy.start()
        stack.callback(http_proxy.stop)
        functions = LocalFunctions(
            f"http://127.0.0.1:{http_proxy.port}",
            data_dir,
            BUCKET,
            REGION,
            default_functions_dir(),
            function_env=_function_env(redis_url, data_dir / "queue.sqlite3"),
            log_stream=log,
            scf_api_url=emulator.api_url,
        )
        functions.start()
        stack.callback(functions.stop)
        functions.host.timeout_seconds = config.function_timeout_s
        functions.serve_invocations(emulator.scf)  # the cleanup's Invoke of upload functions lands here
        uploads = {name: env for name, env in functions.host.environments.items() if name not in _NOT_UPLOADS}
        pool = WorkerPool(
            config.processes,
            default_functions_dir(),
            uploads,
            functions.host.runtime_env,
            data_dir / "logs",
            timeout_s=config.upload_timeout_s,
        )
        pool.start()
        stack.callback(pool.stop)
        feed = EventFeed(pool.tasks, frozenset(uploads), config.duplicate_event_rate, config.seed)
        emulator.on_upload.append(feed)
        quiet = Printer(io.StringIO(), printer.start)
        store = f"Redis db {config.redis_db} behind {proxy.port}" if proxy else "COS markers in the emulator's bucket"
        printer.line(f"emulator behind port {http_proxy.port}; {store}")
        yield _Rig(config, emulator, functions, pool, feed, proxy, http_proxy, printer, quiet)


_NOT_UPLOADS = frozenset({CALLBACK_FUNCTION, CLEANUP_FUNCTION})


def _upload_and_settle(rig: _Rig, rows: list[UploadRow], samples: dict[str, Any]) -> None:
    config = rig.config
    blackholes = (
        BlackholeSchedule(rig.redis_proxy, config.blackhole_every_s, config.blackhole_s) if rig.redis_proxy else None
    )
    if blackholes is not None:
        blackholes.start()
    try:
        endpoint = Endpoint(REGION, BUCKET, scheme="http", override=rig.emulator.url)
        with CiClient(endpoint, DEFAULT_CREDENTIALS, retry=UPLOAD_RETRY) as client:
            put_uploads(client, rows, samples)
        rig.printer.line(f"uploaded {len(rows)} objects; {rig.feed.sent} events sent to the upload functions")
        if not rig.pool.collect(lambda: rig.feed.sent, config.timeout_s):
            rig.printer.line(f"only {len(rig.pool.done)}/{rig.feed.sent} events answered in time")
    finally:
        if blackholes is not None:
            blackholes.stop()
    rig.printer.line(f"{len(rig.pool.done)} events answered by {config.processes} processes")


def _settle(rig: _Rig, rows: list[UploadRow]) -> tuple[list[RoutedMessage], list[EmulatorJob]]:
    """Attach the emulator's jobs to their uploads, wait for them to end and report, read the routed results."""
    strays = attach_jobs(emulator_jobs(rig.emulator.engine, BUCKET), rows, failing={HOSTILE}, untagged=UNTAGGED_STEPS)
    jobs = [job for row in rows for job in row.jobs]
    wait_for_jobs(rig.emulator, jobs, rig.config.timeout_s)
    return wait_for_results(jobs, rig.functions.queue_path, 2.0, rig.quiet), strays


def _letters(path: Path) -> list[DeadLetter]:
    if not path.exists():
        return []
    with DeadLetterStore(path) as store:
        return store.list(limit=1_000_000)


def _tick(rig: _Rig) -> dict[str, Any]:
    try:
        summary = rig.functions.tick("")
    except Exception as exc:  # a run that fails is counted, and the next one tried
        return {"error": f"{type(exc).__name__}: {exc}"}
    return summary if isinstance(summary, dict) else {"answer": summary}


def _cleanup_until_still(rig: _Rig, rows: list[UploadRow]) -> tuple[list[dict[str, Any]], Any]:
    """Fire the cleanup until a run changes nothing (no new job, routed result or dead letter) and nothing is
    left to wait for; at most ``max_cleanup_runs`` times."""
    runs: list[dict[str, Any]] = []
    outcome = _settle(rig, rows)
    state = _state(rig, rows, outcome[0])
    for _ in range(rig.config.max_cleanup_runs):
        runs.append(_tick(rig))
        rig.functions.uploads.wait_idle(rig.config.timeout_s)
        outcome = _settle(rig, rows)
        now = _state(rig, rows, outcome[0])
        rig.printer.line(f"cleanup run {len(runs)}: jobs, routed, dead letters {state} -> {now}")
        if now == state and _still(rig, rows, runs[-1]):
            break
        state = now
    return runs, outcome


def _quiet(run: dict[str, Any]) -> bool:
    ledger = run.get("ledger") if isinstance(run.get("ledger"), dict) else None
    if "error" in run or ledger is None:
        return False
    return not any(ledger.get(name) for name in ("errors", "invoked", "invoke_failed", "routed", "gave_up"))


def _still(rig: _Rig, rows: list[UploadRow], run: dict[str, Any]) -> bool:
    """After a run that changed nothing: True when nothing is left to wait for; otherwise wait out the live
    leases first (their owners failed; the cleanup must leave them alone until they lapse)."""
    if not _unsettled(rig, rows):
        return True
    wait = lease_wait(rig.config, rig.emulator.url)
    if wait <= 0:
        return _quiet(run)
    rig.printer.line(f"waiting {wait:.1f} s for the live leases of failed invocations to lapse")
    time.sleep(wait)
    return False


def _unsettled(rig: _Rig, rows: list[UploadRow]) -> int:
    letters = _letter_index(_letters(rig.functions.queue_path))
    return sum(1 for row in rows if not row.invocation and not settled(row, letters))


def _state(rig: _Rig, rows: list[UploadRow], messages: list[RoutedMessage]) -> tuple[int, int, int]:
    jobs = sum(len(row.jobs) for row in rows)
    return jobs, len(messages), len(_letters(rig.functions.queue_path))


def _letter_index(letters: list[DeadLetter]) -> dict[str, DeadLetter]:
    """Dead letters by job id, and those of uploads given up by ``upload:<object key>``."""
    index = {}
    for letter in letters:
        payload = letter.payload if isinstance(letter.payload, dict) else {}
        source = payload.get("input") if isinstance(payload.get("input"), dict) else {}
        if payload.get("event") == "UploadGaveUp":
            index[f"upload:{(source or {}).get('key')}"] = letter
        elif payload.get("job_id"):
            index[str(payload["job_id"])] = letter
    return index


def run_drill(data_dir: Path, config: DrillConfig | None = None, *, out: TextIO | None = None) -> DrillResult:
    """Run the drill in ``data_dir`` (its earlier drill files are replaced) and write ``report.html`` there."""
    config = config or DrillConfig()
    started = time.time()
    printer = Printer(out or sys.stdout, started)
    data_dir = Path(data_dir).resolve()
    remove_artefacts(data_dir, _ARTEFACTS)
    samples = generate_samples(data_dir / "samples")
    rows = plan_uploads(config.uploads, samples)
    with _own_database(config) as config, _rig(data_dir, config, printer) as rig:
        _upload_and_settle(rig, rows, samples)
        runs, (messages, strays) = _cleanup_until_still(rig, rows)
        letters = _letters(rig.functions.queue_path)
        verdict = judge(rows, messages, strays, _letter_index(letters), rig.feed.announced)
        verdict.strays += [f"ESCAPED {key}" for key in escaped_objects(rig.emulator.store, BUCKET)]
        figures = gather_figures(
            emulator=rig.emulator,
            tasks=rig.pool.done,
            feed=rig.feed,
            proxies={"emulator": rig.http_proxy, **({"redis": rig.redis_proxy} if rig.redis_proxy else {})},
            gateway=rig.functions.gateway.invocations,
            runs=runs,
            letters=letters,
            elapsed=time.time() - started,
        )
    report = write_report(data_dir / "report.html", config, verdict, figures)
    for line in summary_lines(config, verdict, figures):
        printer.plain(line)
    printer.plain(f"report: {report}")
    return DrillResult(verdict, figures, report, runs)
