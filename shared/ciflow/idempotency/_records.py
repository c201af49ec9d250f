"""What every backend shares: the claim decision, job merging, completion, the JSON form, the paged walk."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..errors import CiflowError
from ._store import Claim, IdempotencyRecord, PurgePage, RecordPage, RecordState

__all__ = [
    "RecordNotFoundError",
    "ClaimContendedError",
    "now_or_clock",
    "decide_claim",
    "with_jobs",
    "annotated",
    "completed",
    "is_live",
    "record_to_dict",
    "record_from_dict",
    "copy_record",
    "page_limit",
    "sum_purged",
    "walk_pages",
]


class RecordNotFoundError(CiflowError, LookupError):
    """``record_jobs`` found no live record for the key: the claim was released, expired or purged."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"no live idempotency record for {key!r} (released, expired or purged)")


class ClaimContendedError(CiflowError):
    """The record kept changing under a claim or update for too many rounds: try again later."""

    transient = True


def now_or_clock(now: float | None) -> float:
    """The caller's ``now`` (epoch seconds), or the wall clock."""
    return time.time() if now is None else float(now)


def _positive(name: str, value: float) -> float:
    if not value > 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return float(value)


def page_limit(limit: int) -> int:
    """``limit`` of a ``page`` call, checked: ``ValueError`` unless it is an integer of at least 1."""
    if not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be an integer of at least 1, got {limit!r}")
    return limit


def walk_pages(page: Callable[[str], RecordPage], *, state: RecordState | None = None) -> Iterator[IdempotencyRecord]:
    """The records of every page from the start (cursor "") to the end, optionally only those of ``state``.

    ``page`` maps a cursor to its page; pages are fetched one at a time, as the walk reaches them.
    """
    cursor = ""
    while True:
        records, cursor = page(cursor)
        for record in records:
            if state is None or record.state is state:
                yield record
        if not cursor:
            return


def sum_purged(purge_page: Callable[[str], PurgePage]) -> int:
    """Purge page after page from the start to the end; how many records went in all."""
    cursor, total = "", 0
    while True:
        purged, cursor = purge_page(cursor)
        total += purged
        if not cursor:
            return total


def is_live(record: IdempotencyRecord | None, now: float) -> bool:
    """True when the record exists and has not expired."""
    return record is not None and not record.is_expired(now)


def copy_record(record: IdempotencyRecord) -> IdempotencyRecord:
    """A copy whose ``jobs`` and ``payload`` can be changed without touching the original."""
    return dataclasses.replace(record, jobs=dict(record.jobs), payload=dict(record.payload))


def decide_claim(
    existing: IdempotencyRecord | None,
    key: str,
    *,
    lease_seconds: float,
    ttl_seconds: float,
    payload: Mapping[str, Any] | None,
    now: float,
) -> Claim:
    """The claim rule, as a pure function of the current record.

    Acquired when there is no live record (a fresh record), or when the live record is in progress with a
    lapsed lease (a take-over: ``jobs``, ``created_at`` and the old payload, updated by ``payload``, are
    kept, so the new owner submits only the missing steps). Otherwise not acquired, with the record as is.
    """
    lease = _positive("lease_seconds", lease_seconds)
    ttl = _positive("ttl_seconds", ttl_seconds)
    if existing is not None and not existing.is_expired(now):
        if not existing.lease_expired(now):
            return Claim(acquired=False, record=copy_record(existing))
        return Claim(
            acquired=True,
            record=IdempotencyRecord(
                key=key,
                state=RecordState.IN_PROGRESS,
                expires_at=now + ttl,
                lease_until=now + lease,
                jobs=dict(existing.jobs),
                payload={**existing.payload, **(payload or {}), "attempts": existing.attempts + 1},
                created_at=existing.created_at,
                updated_at=now,
            ),
        )
    return Claim(
        acquired=True,
        record=IdempotencyRecord(
            key=key,
            state=RecordState.IN_PROGRESS,
            expires_at=now + ttl,
            lease_until=now + lease,
            jobs={},
            payload=dict(payload or {}),
            created_at=now,
            updated_at=now,
        ),
    )


def with_jobs(existing: IdempotencyRecord | None, key: str, jobs: Mapping[str, str], now: float) -> IdempotencyRecord:
    """The live record with ``jobs`` merged in (later values win); ``RecordNotFoundError`` when none is live.

    The merge applies whatever the state: a job id that was submitted belongs in the ledger regardless.
    """
    if existing is None or existing.is_expired(now):
        raise RecordNotFoundError(key)
    record = copy_record(existing)
    record.jobs.update(jobs)
    record.updated_at = now
    return record


def annotated(
    existing: IdempotencyRecord | None, key: str, fields: Mapping[str, Any], *, end_lease: bool, now: float
) -> IdempotencyRecord:
    """The live record with ``fields`` merged into its payload (and its lease over, if asked and in progress);
    ``RecordNotFoundError`` when none is live."""
    if existing is None or existing.is_expired(now):
        raise RecordNotFoundError(key)
    record = copy_record(existing)
    record.payload.update(fields)
    if end_lease and record.state is RecordState.IN_PROGRESS:
        record.lease_until = now
    record.updated_at = now
    return record


def lease_ended(existing: IdempotencyRecord | None, now: float) -> IdempotencyRecord | None:
    """The in-progress record with its lease over (``None`` when there is no live in-progress record)."""
    if existing is None or existing.is_expired(now) or existing.state is not RecordState.IN_PROGRESS:
        return None
    record = copy_record(existing)
    record.lease_until = now
    record.updated_at = now
    return record


def completed(
    existing: IdempotencyRecord | None,
    key: str,
    jobs: Mapping[str, str],
    *,
    ttl_seconds: float,
    now: float,
) -> IdempotencyRecord:
    """The record marked COMPLETED with ``jobs`` merged, no lease, expiring ``ttl_seconds`` from ``now``.

    Without a live record (it expired or was purged while the work ran) a completed one is created, so the
    ledger and the duplicate guard still hold.
    """
    ttl = _positive("ttl_seconds", ttl_seconds)
    if existing is None or existing.is_expired(now):
        return IdempotencyRecord(
            key=key,
            state=RecordState.COMPLETED,
            expires_at=now + ttl,
            lease_until=None,
            jobs=dict(jobs),
            payload={},
            created_at=now,
            updated_at=now,
        )
    record = copy_record(existing)
    record.state = RecordState.COMPLETED
    record.jobs.update(jobs)
    record.lease_until = None
    record.expires_at = now + ttl
    record.updated_at = now
    return record


def record_to_dict(record: IdempotencyRecord) -> dict[str, Any]:
    """The JSON-ready form of a record (the COS marker body and the Redis value)."""
    return {
        "key": record.key,
        "state": record.state.value,
        "expires_at": record.expires_at,
        "lease_until": record.lease_until,
        "jobs": dict(record.jobs),
        "payload": dict(record.payload),
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }


def record_from_dict(data: Mapping[str, Any]) -> IdempotencyRecord:
    """The record a ``record_to_dict`` mapping describes; ``ValueError`` if it is not one."""
    if not isinstance(data, Mapping):
        raise ValueError(f"not an idempotency record: a {type(data).__name__}, not an object")
    try:
        lease = data.get("lease_until")
        jobs = data.get("jobs") or {}
        payload = data.get("payload") or {}
        if not isinstance(jobs, dict) or not isinstance(payload, dict):
            raise TypeError("jobs and payload must be objects")
        return IdempotencyRecord(
            key=str(data["key"]),
            state=RecordState(data["state"]),
            expires_at=float(data["expires_at"]),
            lease_until=None if lease is None else float(lease),
            jobs={str(k): str(v) for k, v in jobs.items()},
            payload=dict(payload),
            created_at=float(data.get("created_at") or 0.0),
            updated_at=float(data.get("updated_at") or 0.0),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not an idempotency record: {exc}") from exc
