"""Uploads the ledger holds unfinished: reported failed or stalled, given up and dead-lettered once spent."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..client import Deadline
from ..errors import CiflowError
from ..idempotency import PENDING_JOB, IdempotencyRecord, IdempotencyStore, RecordNotFoundError, sighted_job
from ..logging import get_logger
from ..results import JobResult, ObjectLocation
from ._drive import Finisher, Invoker
from ._settings import CleanupSettings

__all__ = ["GAVE_UP_EVENT", "UPLOADS_SINK", "Unfinished", "UnfinishedUpload", "gave_up_letter"]

_log = get_logger("ciflow.cleanup")

#: The dead letter of an upload given up: its ``event``, and the sink it is filed under (no sink of that name
#: exists, so a redrive leaves it alone; ``ciflow queue dead-letters`` lists it).
GAVE_UP_EVENT = "UploadGaveUp"
UPLOADS_SINK = "ciflow:uploads"
#: Unfinished uploads listed by name in one walk's summary (all are counted).
REPORT_LIMIT = 50


class DeadLetterAdd(Protocol):
    def add(self, result: JobResult, *, sink: str, reason: str, transient: bool) -> object: ...


@dataclass(frozen=True)
class UnfinishedUpload:
    """An upload whose owner is gone with steps missing: ``failed`` (it said why) or ``stalled`` (it died)."""

    record_key: str
    status: str
    missing: list[str]
    attempts: int
    last_error: str | None
    payload: dict[str, Any]

    @classmethod
    def of(cls, record: IdempotencyRecord) -> "UnfinishedUpload | None":
        missing = record.missing_steps
        if not missing:
            return None
        status = "failed" if record.last_error else "stalled"
        return cls(record.key, status, missing, record.attempts, record.last_error, dict(record.payload))

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.payload.get("key"),
            "bucket": self.payload.get("bucket"),
            "concern": self.payload.get("concern"),
            "status": self.status,
            "missing_steps": self.missing,
            "attempts": self.attempts,
            "last_error": self.last_error,
        }


def gave_up_letter(upload: UnfinishedUpload) -> JobResult:
    """The dead letter's payload: no job to speak of, so an ``unknown`` result naming the upload and why."""
    payload = upload.payload
    key = payload.get("key")
    return JobResult(
        kind="unknown",
        event=GAVE_UP_EVENT,
        job_id=f"upload:{upload.record_key}",
        state="GaveUp",
        input=ObjectLocation(bucket=payload.get("bucket"), region=payload.get("region"), key=str(key or "")),
        error_message=upload.last_error or "the upload handler stopped before submitting every step",
        route=payload.get("route"),
        correlation_id=payload.get("correlation_id"),
        details=upload.as_dict(),
    )


class Unfinished:
    """Reports unfinished uploads, drives them to the end (``Finisher``), and gives up those whose attempts are
    spent (once: marked in the record)."""

    def __init__(
        self,
        settings: CleanupSettings,
        *,
        store: IdempotencyStore,
        dead_letters: DeadLetterAdd | None,
        clock: Callable[[], float],
        invoker: Invoker | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.dead_letters = dead_letters
        self.clock = clock
        self.finisher = Finisher(settings, store=store, invoker=invoker)

    def give_up_reason(self, upload: UnfinishedUpload, record: IdempotencyRecord, now: float) -> str | None:
        """Why to stop waiting for a new delivery, or None while one may still come: when the cleanup invokes
        the upload function, once its invocations are spent; otherwise after ``give_up_after_attempts``."""
        if record.payload.get("permanent"):
            return f"failed permanently: {upload.last_error}"
        why = f"missing {upload.missing}: {upload.last_error or 'handler died'}"
        if self.finisher.drives(record):
            if self.finisher.spent(record, now):
                invoked = self.finisher.invocations(record)
                return f"{upload.attempts} attempts ({invoked} invoked by the cleanup), {why}"
        elif upload.attempts >= self.settings.give_up_after_attempts:
            return f"{upload.attempts} attempts, {why}"
        idle = now - (record.updated_at or record.created_at)
        if idle >= self.settings.give_up_after_s:
            return f"no attempt for {idle:.0f} s, missing {upload.missing}: {upload.last_error or 'handler died'}"
        return None

    def handle(self, record: IdempotencyRecord, now: float, counts: dict[str, Any], deadline: Deadline) -> bool:
        """Report an abandoned record with missing steps and drive it on; True once nothing more will come of it
        (given up)."""
        upload = UnfinishedUpload.of(record)
        if upload is None:
            return True
        if record.payload.get("given_up"):
            return True  # dead-lettered by an earlier walk
        if self._resolve_sighted(record, upload, now, counts):
            return False  # completed now: the next walk reads its jobs back (and routes any report missed)
        counts[upload.status] += 1
        entry = upload.as_dict()
        reason = self.give_up_reason(upload, record, now)
        driven = self.finisher.drive(record, now, counts, deadline) if reason is None else None
        if driven is not None:
            entry["driven"] = driven
        given_up = reason is not None and self._give_up(upload, reason, counts)
        if given_up:
            entry.update(status="given_up", reason=reason)
        if len(counts["uploads"]) < REPORT_LIMIT:
            counts["uploads"].append(entry)
        _log.warning("unfinished upload", **entry)
        return given_up

    def _resolve_sighted(
        self, record: IdempotencyRecord, upload: UnfinishedUpload, now: float, counts: dict[str, Any]
    ) -> bool:
        """Complete the record when callbacks sighted a job for every missing step (each was submitted without
        an answer): the jobs exist and report, so there is nothing to finish or give up. True when completed."""
        route, correlation_id = record.payload.get("route"), record.payload.get("correlation_id")
        if not (isinstance(route, str) and isinstance(correlation_id, str)):
            return False
        if any(record.jobs.get(step) != PENDING_JOB for step in upload.missing):
            return False  # a step never submitted has no job to sight: it needs its upload function again
        try:
            found = {
                step: sighted_job(self.store, route=route, correlation_id=correlation_id, step=step, now=now)
                for step in upload.missing
            }
            jobs = {step: job for step, job in found.items() if job}
            if len(jobs) < len(upload.missing):
                return False
            self.store.annotate(record.key, {"resolved_by": "callback sightings", "resolved_at": now}, now=now)
            self.store.complete(record.key, jobs, ttl_seconds=max(record.expires_at - now, 1.0), now=now)
        except RecordNotFoundError:
            return True  # expired since it was read
        except CiflowError as exc:
            counts["errors"] += 1
            _log.warning("could not resolve an upload from sightings", record=record.key, error=str(exc))
            return False
        counts["resolved_by_callback"] += 1
        _log.info("upload resolved by its jobs' reports", record=record.key, jobs=jobs)
        return True

    def _give_up(self, upload: UnfinishedUpload, reason: str, counts: dict[str, Any]) -> bool:
        if self.dead_letters is None:
            return False
        try:
            self.dead_letters.add(gave_up_letter(upload), sink=UPLOADS_SINK, reason=reason, transient=False)
            self.store.annotate(upload.record_key, {"given_up": reason, "given_up_at": self.clock()})
        except RecordNotFoundError:
            pass  # expired since it was read: the dead letter is what remains of it
        except CiflowError as exc:
            counts["errors"] += 1
            _log.warning("could not give an upload up", record=upload.record_key, error=str(exc))
            return False
        counts["gave_up"] += 1
        return True
