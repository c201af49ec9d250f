"""The in-process idempotency store: a dict behind a lock, for tests and single-process runs."""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from ._records import (
    annotated,
    completed,
    copy_record,
    decide_claim,
    is_live,
    lease_ended,
    now_or_clock,
    page_limit,
    with_jobs,
)
from ._store import Claim, IdempotencyRecord, PurgePage, RecordPage, RecordState

__all__ = ["MemoryStore"]


class MemoryStore:
    """Records in a dict; every operation holds one lock, so ``claim`` is atomic between threads."""

    def __init__(self) -> None:
        self._records: dict[str, IdempotencyRecord] = {}
        self._lock = threading.Lock()

    def claim(
        self,
        key: str,
        *,
        lease_seconds: float,
        ttl_seconds: float,
        payload: Mapping[str, Any] | None = None,
        now: float | None = None,
    ) -> Claim:
        at = now_or_clock(now)
        with self._lock:
            claim = decide_claim(
                self._records.get(key),
                key,
                lease_seconds=lease_seconds,
                ttl_seconds=ttl_seconds,
                payload=payload,
                now=at,
            )
            if claim.acquired:
                self._records[key] = copy_record(claim.record)
        return claim

    def record_jobs(self, key: str, jobs: Mapping[str, str], *, now: float | None = None) -> None:
        at = now_or_clock(now)
        with self._lock:
            self._records[key] = with_jobs(self._records.get(key), key, jobs, at)

    def complete(self, key: str, jobs: Mapping[str, str], *, ttl_seconds: float, now: float | None = None) -> None:
        at = now_or_clock(now)
        with self._lock:
            self._records[key] = completed(self._records.get(key), key, jobs, ttl_seconds=ttl_seconds, now=at)

    def end_lease(self, key: str, *, now: float | None = None) -> None:
        at = now_or_clock(now)
        with self._lock:
            record = lease_ended(self._records.get(key), at)
            if record is not None:
                self._records[key] = record

    def annotate(
        self, key: str, fields: Mapping[str, Any], *, end_lease: bool = False, now: float | None = None
    ) -> None:
        at = now_or_clock(now)
        with self._lock:
            self._records[key] = annotated(self._records.get(key), key, fields, end_lease=end_lease, now=at)

    def release(self, key: str) -> None:
        with self._lock:
            self._records.pop(key, None)

    def get(self, key: str, *, now: float | None = None) -> IdempotencyRecord | None:
        at = now_or_clock(now)
        with self._lock:
            record = self._records.get(key)
            return copy_record(record) if record is not None and is_live(record, at) else None

    def records(self, *, state: RecordState | None = None, now: float | None = None) -> Iterator[IdempotencyRecord]:
        at = now_or_clock(now)
        with self._lock:
            snapshot = [
                copy_record(r) for r in self._records.values() if is_live(r, at) and (state is None or r.state is state)
            ]
        yield from snapshot

    def page(self, *, cursor: str = "", limit: int = 100, now: float | None = None) -> RecordPage:
        """Live records in key order after ``cursor`` (the last key of the previous page)."""
        at = now_or_clock(now)
        size = page_limit(limit)
        with self._lock:
            # One record more than the page says whether any remain; a heap picks them without sorting all.
            keys = heapq.nsmallest(
                size + 1, (key for key, record in self._records.items() if key > cursor and is_live(record, at))
            )
            records = [copy_record(self._records[key]) for key in keys[:size]]
        return RecordPage(records, keys[size - 1] if len(keys) > size else "")

    def purge_expired(self, *, now: float | None = None) -> int:
        at = now_or_clock(now)
        with self._lock:
            expired = [key for key, record in self._records.items() if record.is_expired(at)]
            for key in expired:
                del self._records[key]
        return len(expired)

    def purge_expired_page(self, *, cursor: str = "", limit: int = 1000, now: float | None = None) -> PurgePage:
        page_limit(limit)
        return PurgePage(self.purge_expired(now=now), "")  # one pass over a dict: no reason to split it
