"""The ledger walk: read every job the upload handlers recorded back from CI, route finished results once,
cancel jobs stuck in the queue, report jobs running long; a page at a time, resumable from a cursor.

A workflow step's recorded run (RunId ``i…``) is read back with ``GET /workflowexecution/<RunId>``; an ended run
is routed as the ``WorkflowFinish`` it would have sent (its node jobs' own reports are not reconciled)."""

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .. import operations as ops
from ..callback import CallbackRunner
from ..client import CiClient, Deadline
from ..errors import CiflowError, ClientError, DeadlineExceededError, NotFoundError
from ..idempotency import PENDING_JOB, IdempotencyRecord, IdempotencyStore, RecordNotFoundError, RecordState
from ..logging import get_logger
from ..models.callbacks import Callback, TaskFinish, WorkflowFinish
from ..models.moderation import ModerationKind, detail_callback
from ..results import normalise
from ._checkpoints import Checkpoints
from ._drive import Invoker
from ._settings import CleanupSettings
from ._unfinished import DeadLetterAdd, Unfinished

__all__ = ["RECONCILED_STEP", "LedgerJob", "LedgerWalk", "read_jobs"]

_log = get_logger("ciflow.cleanup")

#: The ledger value of a step answered inline (no CI job to read back).
INLINE = "inline"
#: Added to a completed record's ``jobs`` once every job in it is finished and routed: later walks skip it.
RECONCILED_STEP = "cleanup:reconciled"
FINISHED = frozenset({"Success", "Failed", "Cancel", "Cancelled"})
WAITING = frozenset({"Submitted", "Pause", "Paused"})
#: ``PUT /jobs/<id>?cancel`` serves media and picture jobs; CI documents no cancel for file and doc jobs.
CANCELLABLE = frozenset({"j", "c"})
#: Describe operation by job family, from the job id's first letter (CI's and the emulator's id scheme).
_DESCRIBE: Mapping[str, Callable[..., Any]] = {
    "j": ops.describe_media_jobs,
    "f": ops.describe_file_jobs,
    "d": ops.describe_doc_jobs,
    "c": ops.describe_pic_jobs,
}
#: Reconciled marks written at once (each is a read and a write of the record).
_MARK_CONCURRENCY = 8
#: The ledger "job" of a workflow step is its run (RunId ``i…``): read back one execution at a time.
RUN_FAMILY = "i"
#: Job ids per describe call: the path carries them comma-separated (``NonExistJobIds`` names the unknown).
DESCRIBE_BATCH = 10

_COUNTS = (
    "records",
    "jobs",
    "routed",
    "duplicate",
    "dead_lettered",
    "unfinished",
    "cancelled",
    "would_cancel",
    "cancel_refused",
    "stuck",
    "running_long",
    "missing",
    "unknown",
    "stalled",
    "failed",
    "gave_up",
    "resolved_by_callback",
    "invoked",
    "invoke_failed",
    "invoke_deferred",
    "errors",
)


@dataclass(frozen=True)
class LedgerJob:
    """One CI job of a ledger record; ``moderation`` is the media kind of a moderation job (read by kind)."""

    job_id: str
    step: str
    moderation: ModerationKind | None = None

    @property
    def family(self) -> str:
        return self.moderation.value if self.moderation is not None else self.job_id[:1]


@dataclass(frozen=True)
class JobReading:
    """A job as CI reports it now, and the callback its end would have carried."""

    state: str | None
    created: float | None
    callback: Callback


@dataclass
class ReadBack:
    """What reading a batch of jobs found: readings by job id, and failures (job id -> why)."""

    found: dict[str, JobReading] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def ledger_jobs(record: IdempotencyRecord) -> Iterator[LedgerJob]:
    """The CI jobs of an upload record (inline steps and the reconciled mark are not jobs)."""
    moderated = record.payload.get("concern") == "moderate"
    for step, value in record.jobs.items():
        if step == RECONCILED_STEP or value in (INLINE, PENDING_JOB):
            continue
        kind = _moderation_kind(step) if moderated else None
        for job_id in value.split(","):
            if job_id:
                yield LedgerJob(job_id, step, kind)


def _moderation_kind(step: str) -> ModerationKind | None:
    try:
        return ModerationKind(step)
    except ValueError:
        return None


def _epoch(value: datetime | None) -> float | None:
    return value.timestamp() if isinstance(value, datetime) else None


def read_jobs(client: CiClient, jobs: Iterable[LedgerJob], deadline: Deadline) -> ReadBack:
    """Read jobs back from CI: one describe per family and batch of ids, one query per moderation job."""
    back = ReadBack()
    by_family: dict[str, list[str]] = {}
    for job in jobs:
        if job.moderation is not None:
            _read_moderation(client, job.moderation, job.job_id, deadline, back)
        elif job.family in _DESCRIBE:
            by_family.setdefault(job.family, []).append(job.job_id)
        elif job.family == RUN_FAMILY:
            _read_run(client, job.job_id, deadline, back)
    for family, ids in by_family.items():
        for start in range(0, len(ids), DESCRIBE_BATCH):
            batch = ids[start : start + DESCRIBE_BATCH]
            try:
                answer = client.send(_DESCRIBE[family](*batch), deadline=deadline)
            except CiflowError as exc:
                back.failed.update(dict.fromkeys(batch, str(exc)))
                continue
            for detail in answer.jobs_detail:
                if detail.job_id in batch:
                    callback = TaskFinish(jobs_detail=[detail])
                    back.found[detail.job_id] = JobReading(detail.state, _epoch(detail.creation_time), callback)
    return back


def _read_run(client: CiClient, run_id: str, deadline: Deadline, back: ReadBack) -> None:
    """A workflow run as ``GET /workflowexecution/<RunId>`` shows it; once ended, the WorkflowFinish it sent."""
    try:
        answer = client.send(ops.describe_workflow_execution(run_id), deadline=deadline)
    except NotFoundError:
        return  # CI no longer knows the run: reported as missing
    except CiflowError as exc:
        back.failed[run_id] = str(exc)
        return
    execution = answer.workflow_execution
    if execution is not None and execution.run_id == run_id:
        callback = WorkflowFinish(workflow_execution=execution)
        back.found[run_id] = JobReading(execution.state, _epoch(execution.create_time), callback)


def _read_moderation(client: CiClient, kind: ModerationKind, job_id: str, deadline: Deadline, back: ReadBack) -> None:
    try:
        answer: Any = client.send(ops.query_moderation(kind, job_id), deadline=deadline)
    except NotFoundError:
        return  # CI no longer knows the job: reported as missing
    except CiflowError as exc:
        back.failed[job_id] = str(exc)
        return
    details = answer.jobs_detail if isinstance(answer.jobs_detail, list) else [answer.jobs_detail]
    for detail in details:
        if detail is not None and detail.job_id == job_id:
            reading = JobReading(detail.state, _epoch(detail.creation_time), detail_callback(kind, detail))
            back.found[job_id] = reading


class LedgerWalk:
    """One walk of the ledger for the ``reconcile`` and/or ``cancel`` tasks; ``run`` returns its counts."""

    def __init__(
        self,
        settings: CleanupSettings,
        *,
        client: CiClient,
        store: IdempotencyStore,
        router: CallbackRunner,
        checkpoints: Checkpoints,
        clock: Callable[[], float],
        dead_letters: DeadLetterAdd | None = None,
        invoker: Invoker | None = None,
    ) -> None:
        """``dead_letters`` takes the uploads given up (without it they are only reported); ``invoker`` invokes
        the upload functions of unfinished uploads (without it they are only waited for)."""
        self.settings = settings
        self.client = client
        self.store = store
        self.router = router
        self.checkpoints = checkpoints
        self.clock = clock
        self.unfinished = Unfinished(settings, store=store, dead_letters=dead_letters, clock=clock, invoker=invoker)

    def run(self, tasks: set[str], deadline: Deadline) -> dict[str, Any]:
        counts: dict[str, Any] = dict.fromkeys(_COUNTS, 0)
        counts["uploads"] = []  # the unfinished uploads, by name (the first ones)
        cursor = self.checkpoints.get("ledger")
        while True:
            if deadline.expired:
                counts["complete"] = False
                return counts
            try:
                page = self.store.page(cursor=cursor, limit=self.settings.ledger_page_size, now=self.clock())
                walked = self._walk_page(page.records, tasks, deadline, counts)
            except DeadlineExceededError:
                walked = False
            if not walked:
                # Stopped inside the page: the next run reads it again (records already done are marked).
                counts["complete"] = False
                return counts
            cursor = page.cursor
            self.checkpoints.save("ledger", cursor)  # "" once walked to the end: the next run starts over
            if not cursor:
                counts["complete"] = True
                return counts

    def _due(self, record: IdempotencyRecord, now: float) -> bool:
        return (
            "concern" in record.payload
            and RECONCILED_STEP not in record.jobs
            and now - record.created_at >= self.settings.reconcile_after_s
        )

    def _walk_page(
        self, records: list[IdempotencyRecord], tasks: set[str], deadline: Deadline, counts: dict[str, Any]
    ) -> bool:
        """Handle the due records of one page; False when the deadline stopped it part way."""
        now = self.clock()
        due = [record for record in records if self._due(record, now)]
        jobs = {record.key: list(ledger_jobs(record)) for record in due}
        if deadline.expired:
            return False
        back = read_jobs(self.client, (job for record_jobs in jobs.values() for job in record_jobs), deadline)
        # Routing stays sequential (sinks such as an AMQP channel are not thread-safe); the marks are store
        # writes, sent alongside so each costs no extra round trip of wall time.
        with ThreadPoolExecutor(max_workers=_MARK_CONCURRENCY, thread_name_prefix="ciflow-cleanup") as marks:
            for record in due:
                if deadline.expired:
                    return False
                counts["records"] += 1
                finished = [self._handle(job, record, back, tasks, deadline, counts, now) for job in jobs[record.key]]
                if all(finished) and self._settled(record, now, counts, deadline):
                    marks.submit(self._mark_reconciled, record.key, now)
        return True

    def _settled(self, record: IdempotencyRecord, now: float, counts: dict[str, Any], deadline: Deadline) -> bool:
        """True when no more jobs can join the record: it is completed, its owner is gone (lease lapsed) with
        every step submitted, or the upload was given up.

        An abandoned record with steps missing is an unfinished upload: ``failed`` when its handler recorded
        why, ``stalled`` when it died. Both are reported, their upload function invoked again (bounded), and
        given up (dead-lettered with the reason) once a new delivery is no longer to be expected.
        """
        if record.state is RecordState.COMPLETED:
            return True
        if not record.lease_expired(now):
            return False  # an upload handler is still working on it
        return self.unfinished.handle(record, now, counts, deadline)

    def _handle(
        self,
        job: LedgerJob,
        record: IdempotencyRecord,
        back: ReadBack,
        tasks: set[str],
        deadline: Deadline,
        counts: dict[str, Any],
        now: float,
    ) -> bool:
        """Deal with one job; True when nothing is left to do for it."""
        counts["jobs"] += 1
        if job.job_id in back.failed:
            counts["errors"] += 1
            _log.warning("could not read a job back", job_id=job.job_id, error=back.failed[job.job_id])
            return False
        reading = back.found.get(job.job_id)
        if reading is None:
            if job.moderation is None and job.family not in _DESCRIBE and job.family != RUN_FAMILY:
                counts["unknown"] += 1
                _log.warning("job of an unknown family: not reconciled", job_id=job.job_id, step=job.step)
                return False
            counts["missing"] += 1  # CI keeps jobs for a limited time; nothing can be read back any more
            _log.warning("job unknown to CI: its result cannot be recovered", job_id=job.job_id, record=record.key)
            return True
        if reading.state in FINISHED:
            return "reconcile" in tasks and self._route(reading, deadline, counts)
        counts["unfinished"] += 1
        age = now - (reading.created if reading.created is not None else record.created_at)
        if reading.state in WAITING and age >= self.settings.cancel_after_s and "cancel" in tasks:
            self._cancel(job, reading, age, deadline, counts)
        elif age >= self.settings.running_warn_after_s:
            counts["running_long"] += 1
            _log.warning("job running long", job_id=job.job_id, state=reading.state, age_s=round(age))
        return False

    def _route(self, reading: JobReading, deadline: Deadline, counts: dict[str, Any]) -> bool:
        try:
            results = normalise(reading.callback, user_data_secrets=self.settings.user_data_secrets)
            for result in results:
                counts[self.router.route(result, deadline).replace("-", "_")] += 1
        except CiflowError as exc:
            counts["errors"] += 1
            _log.warning("could not route a reconciled result", error=str(exc))
            return False
        return True

    def _cancel(
        self, job: LedgerJob, reading: JobReading, age: float, deadline: Deadline, counts: dict[str, Any]
    ) -> None:
        if job.family not in CANCELLABLE:
            counts["stuck"] += 1
            _log.warning("job stuck and not cancellable", job_id=job.job_id, state=reading.state, age_s=round(age))
            return
        if self.settings.dry_run:
            counts["would_cancel"] += 1
            return
        try:
            self.client.send(ops.cancel_job(job.job_id), deadline=deadline)
        except ClientError as exc:
            # CI cancels only queued jobs: this one started (or ended) since it was read.
            counts["cancel_refused"] += 1
            _log.info("cancel refused", job_id=job.job_id, error=str(exc))
            return
        except CiflowError as exc:
            counts["errors"] += 1
            _log.warning("cancel failed", job_id=job.job_id, error=str(exc))
            return
        counts["cancelled"] += 1
        _log.warning("stuck job cancelled", job_id=job.job_id, state=reading.state, age_s=round(age))

    def _mark_reconciled(self, key: str, now: float) -> None:
        with contextlib.suppress(RecordNotFoundError):  # expired since the page was read: nothing left to mark
            self.store.record_jobs(key, {RECONCILED_STEP: f"{now:.0f}"}, now=now)
