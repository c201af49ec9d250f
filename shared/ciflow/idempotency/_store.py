"""The idempotency store contract: claim a key, record progress, complete or release; records expire.

A record is also the ledger of the jobs submitted for an upload, which the cleanup handler reconciles from,
a page at a time, resuming from a saved cursor.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, NamedTuple, Protocol

__all__ = [
    "PENDING_JOB",
    "RecordState",
    "IdempotencyRecord",
    "Claim",
    "RecordPage",
    "PurgePage",
    "IdempotencyStore",
    "has_job",
]

#: Ledger value of a step whose billed submit was (maybe) sent and whose answer, the job id, is not recorded.
PENDING_JOB = "pending"


def has_job(value: str | None) -> bool:
    """True when a ledger value records a job id (or an inline answer), not an intent or nothing."""
    return bool(value) and value != PENDING_JOB


class RecordState(str, Enum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


@dataclass
class IdempotencyRecord:
    """What the store knows of one key.

    ``jobs`` maps a stable step name of the work (``"transcode:0"``) to the CI job id submitted for it, so a
    retry after a crash submits only the steps that are missing. ``lease_until`` bounds an in-progress
    claim: after it, another invocation may take the key over (keeping ``jobs``). ``expires_at`` is when the
    record disappears. Times are epoch seconds.
    """

    key: str
    state: RecordState
    expires_at: float
    lease_until: float | None = None
    jobs: dict[str, str] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)
    created_at: float = 0.0
    updated_at: float = 0.0

    def is_expired(self, now: float) -> bool:
        return self.expires_at <= now

    def lease_expired(self, now: float) -> bool:
        return self.state is RecordState.IN_PROGRESS and (self.lease_until or 0.0) <= now

    @property
    def attempts(self) -> int:
        """How many times the key was claimed: a fresh claim is the first, each take-over adds one (records
        written before take-overs were counted say 1)."""
        value = self.payload.get("attempts")
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1

    @property
    def missing_steps(self) -> list[str]:
        """The planned steps (``payload["steps"]``) the ledger has no job for: never submitted, or unanswered."""
        steps = self.payload.get("steps")
        return [step for step in steps if not has_job(self.jobs.get(step))] if isinstance(steps, list) else []

    @property
    def last_error(self) -> str | None:
        """Why the last owner gave the key back unfinished (``annotate``), if it said."""
        value = self.payload.get("last_error")
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Claim:
    """The answer to ``claim``: ``acquired`` says whether this caller now owns the key; ``record`` is the
    record as it stands (the caller's new or taken-over record, or the other owner's / the completed one)."""

    acquired: bool
    record: IdempotencyRecord


class RecordPage(NamedTuple):
    """One page of the ledger walk: live records, and the cursor that continues it ("" once walked to the end)."""

    records: list[IdempotencyRecord]
    cursor: str


class PurgePage(NamedTuple):
    """One step of purging expired records: how many went, and the cursor that continues ("" once done)."""

    purged: int
    cursor: str


class IdempotencyStore(Protocol):
    """Every backend (memory, SQLite, COS marker objects, Redis) behaves the same; tests hold them to it."""

    def claim(
        self,
        key: str,
        *,
        lease_seconds: float,
        ttl_seconds: float,
        payload: Mapping[str, Any] | None = None,
        now: float | None = None,
    ) -> Claim:
        """Own ``key`` if it is free, expired, or in progress with a lapsed lease (a crashed owner)."""
        ...

    def record_jobs(self, key: str, jobs: Mapping[str, str], *, now: float | None = None) -> None:
        """Add submitted job ids to an in-progress record as they are created."""
        ...

    def complete(self, key: str, jobs: Mapping[str, str], *, ttl_seconds: float, now: float | None = None) -> None:
        """Mark the key done with all its job ids; it stays (refusing new claims) for ``ttl_seconds``."""
        ...

    def end_lease(self, key: str, *, now: float | None = None) -> None:
        """End this owner's lease but keep the record and its jobs: the next delivery may take over at once
        and submit only the missing steps (used when an invocation knows it failed transiently)."""
        ...

    def annotate(
        self, key: str, fields: Mapping[str, Any], *, end_lease: bool = False, now: float | None = None
    ) -> None:
        """Merge ``fields`` into the live record's payload (why it failed, that cleanup gave it up), ending the
        lease of an in-progress record when ``end_lease``; ``RecordNotFoundError`` when none is live."""
        ...

    def release(self, key: str) -> None:
        """Give up a claim without completing (nothing was submitted): the next delivery starts afresh."""
        ...

    def get(self, key: str, *, now: float | None = None) -> IdempotencyRecord | None:
        """The live record of ``key`` (``None`` if absent or expired)."""
        ...

    def records(self, *, state: RecordState | None = None, now: float | None = None) -> Iterator[IdempotencyRecord]:
        """Every live record (optionally of one state): the ledger the cleanup handler walks."""
        ...

    def page(self, *, cursor: str = "", limit: int = 100, now: float | None = None) -> RecordPage:
        """One page of live records in the store's own order, from an opaque ``cursor`` ("" = the start).

        Pass each page's ``cursor`` to the next call until it is "": the walk is then complete. A cursor is a
        plain string that stays valid across processes, so one invocation may save it and another go on
        from it. Every record live for the whole walk is returned at least once (Redis may return one
        twice: its SCAN does when the keyspace is resized meanwhile); records created or deleted during the
        walk may or may not be. A page may hold fewer than ``limit`` records, even none, and still not be
        the last. ``limit`` bounds the records of a page (Redis takes it as SCAN's COUNT, a hint that a page
        may exceed by a few) and the marker objects the COS store reads for it. ``ValueError`` if ``limit``
        is below 1, or for a cursor the store can tell is not one of its own.
        """
        ...

    def purge_expired(self, *, now: float | None = None) -> int:
        """Delete expired records; return how many."""
        ...

    def purge_expired_page(self, *, cursor: str = "", limit: int = 1000, now: float | None = None) -> PurgePage:
        """Delete the expired records of one page of the store from ``cursor`` ("" = the start), so a caller with
        a deadline can purge a large store over several calls (cursors as ``page``'s). Stores that purge
        everything in one cheap statement (memory, SQLite) do so and answer the cursor ""."""
        ...
