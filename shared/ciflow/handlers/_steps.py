"""Submitting an upload's steps at most once each: an intent marker before every billed submit, the id after
(the last step's id is carried by ``complete``)."""

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..client import CiClient, Deadline, Operation
from ..errors import (
    CiflowError,
    ClientError,
    ConfigError,
    DeadlineExceededError,
    RequestNotSentError,
    ServerError,
    ThrottledError,
)
from ..events import ObjectRef
from ..idempotency import PENDING_JOB, IdempotencyStore, has_job, sighted_job
from ._plan import PlannedJob
from ._resolve import can_look_up, find_submitted_job, inline_result, job_ids_of

__all__ = [
    "INLINE",
    "PENDING",
    "NOT_SUBMITTED",
    "UnresolvedSubmitError",
    "StepRun",
    "has_job",
    "job_family",
    "missing_steps",
]

#: Ledger value of a step answered inline (synchronous APIs): nothing to reconcile later.
INLINE = "inline"
#: Ledger value written before a billed submit: its answer (the job id) has not been recorded yet.
PENDING = PENDING_JOB
#: Ledger value of a step whose submit provably created nothing: the next attempt submits it.
NOT_SUBMITTED = ""
#: Errors after which CI provably created no job (the request never left, or CI refused it unprocessed).
_NOTHING_CREATED = (RequestNotSentError, ClientError, ThrottledError, DeadlineExceededError, ConfigError)


class UnresolvedSubmitError(CiflowError):
    """A step's earlier submit got no answer, its family cannot be looked up and no callback has sighted its
    job yet: resubmitting could bill a second job, so it is not resubmitted. An immediate retry cannot tell
    either (not transient); the job's report may still come, so the cleanup tries again later before it gives
    the upload up (``awaits_callback``)."""

    transient = False
    awaits_callback = True


def missing_steps(steps: Iterable[str], jobs: Mapping[str, str]) -> list[str]:
    """The planned steps the ledger has no job for (never submitted, or submitted without an answer)."""
    return [step for step in steps if not has_job(jobs.get(step))]


def job_family(operation: Operation[Any]) -> str | None:
    """The CI job family a submit bills (media, file, document, picture, moderation); None for reads."""
    if operation.method != "POST" or operation.service != "ci":
        return None
    families = {"/jobs": "media", "/file_jobs": "file", "/doc_jobs": "document", "/pic_jobs": "picture"}
    if operation.path in families:
        return families[operation.path]
    return "moderation" if operation.path.endswith("/auditing") else "other"


def created_nothing(exc: CiflowError, job: PlannedJob) -> bool:
    """True when the failed submit surely created no job. A 5xx answer counts for jobs that cannot be looked
    up (CI answered, with a failure); jobs that can be are looked up before a resubmit instead."""
    return isinstance(exc, _NOTHING_CREATED) or (isinstance(exc, ServerError) and not can_look_up(job))


class StepRun:
    """One attempt at an upload's steps; ``jobs`` is its ledger as this attempt knows it. ``route`` and
    ``correlation_id`` are those its jobs' UserData carry (where the callback's sightings are filed).

    The job id of the last step is not written on its own: ``complete`` writes it with the completion, one
    store write instead of two. Until then it is ``unsaved``; a crash in between leaves the step ``pending``,
    exactly as a crash between its submit's answer and a separate write would.
    """

    def __init__(
        self,
        client: CiClient,
        store: IdempotencyStore,
        key: str,
        ref: ObjectRef,
        jobs: Mapping[str, str],
        *,
        route: str,
        correlation_id: str,
        claimed_at: float,
        taken_over: bool,
        deadline: Deadline,
        clock: Callable[[], float],
    ) -> None:
        self.client, self.store, self.key, self.ref = client, store, key, ref
        self.route, self.correlation_id, self.claimed_at = route, correlation_id, claimed_at
        self.jobs = dict(jobs)
        self.unsaved: dict[str, str] = {}
        self.results: dict[str, Any] = {}
        self.unresolved: list[str] = []
        self.taken_over, self.deadline, self.clock = taken_over, deadline, clock

    def run(self, planned: list[PlannedJob]) -> None:
        """Submit every step the ledger lacks, recording each job id at once but the last step's (``unsaved``,
        for ``complete``); raises the first error that stopped a step, or ``UnresolvedSubmitError`` naming the
        steps left unresolved (no ``complete`` follows those, so the last id is then recorded on its own)."""
        for index, job in enumerate(planned):
            self._step(job, last=index == len(planned) - 1 and not self.unresolved)
        if self.unresolved:
            raise UnresolvedSubmitError(
                f"steps {self.unresolved}: an earlier submit got no answer and these jobs cannot be looked up;"
                " not resubmitted, so as not to bill a second job (if the job exists, its result is still routed)"
            )

    def _save(self, step: str, value: str, *, tries: int = 1) -> None:
        self.jobs[step] = value
        for attempt in range(tries):
            try:
                self.store.record_jobs(self.key, {step: value}, now=self.clock())
                return
            except CiflowError:
                if attempt + 1 == tries:
                    raise

    def complete(self, *, ttl_seconds: float) -> None:
        """Mark the record completed with every job id, the unsaved one included; tried twice, as a job id is."""
        for attempt in range(2):
            try:
                self.store.complete(self.key, self.jobs, ttl_seconds=ttl_seconds, now=self.clock())
            except CiflowError:
                if attempt == 1:
                    raise
            else:
                self.unsaved.clear()
                return

    def save_unsaved(self) -> None:
        """Write the job id ``complete`` was to carry (it failed): the ledger then has it, not ``pending``."""
        if self.unsaved:
            self.store.record_jobs(self.key, dict(self.unsaved), now=self.clock())
            self.unsaved.clear()

    def _sighted(self, step: str) -> str | None:
        """The job a callback reported for ``step`` (its submit went unanswered, yet the job exists)."""
        return sighted_job(
            self.store, route=self.route, correlation_id=self.correlation_id, step=step, now=self.clock()
        )

    def _step(self, job: PlannedJob, *, last: bool = False) -> None:
        value = self.jobs.get(job.step)
        if has_job(value):
            return
        family = job_family(job.operation)
        listed = can_look_up(job)
        if family is not None and (value == PENDING or (self.taken_over and listed)):
            found = self._sighted(job.step) if value == PENDING else None
            if not found and listed:
                found = find_submitted_job(self.client, self.ref, job, self.deadline, since=self.claimed_at)
            if found:
                self._save(job.step, found)
                return
            if not listed:
                self.unresolved.append(job.step)
                return
        if family is not None:
            self._save(job.step, PENDING)  # the intent, before anything is billed
        try:
            result = self.client.send(job.operation, deadline=self.deadline)
        except CiflowError as exc:
            if family is not None and created_nothing(exc, job):
                self._save(job.step, NOT_SUBMITTED)
            raise
        ids = job_ids_of(result)
        value = ",".join(ids) if ids else INLINE
        if last:
            self.jobs[job.step] = self.unsaved[job.step] = value
        else:
            self._save(job.step, value, tries=2)
        if not ids:
            self.results[job.step] = inline_result(result)
