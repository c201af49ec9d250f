"""``annotate`` on every backend: a failed upload stays in the ledger with why, and does not block its retry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from ciflow.idempotency import Claim, IdempotencyStore, RecordNotFoundError, RecordState
from ciflow.idempotency._records import record_from_dict

T0 = 1_700_000_000.0
LEASE = 60.0
TTL = 3600.0
KEY = "hash:media-1250000000/in/a.bin@e1"


def claim(store: IdempotencyStore, *, now: float = T0, payload: Mapping[str, Any] | None = None) -> Claim:
    return store.claim(KEY, lease_seconds=LEASE, ttl_seconds=TTL, payload=payload, now=now)


def test_a_failure_is_kept_with_its_error_and_the_lease_ends_so_a_retry_takes_over(store: IdempotencyStore) -> None:
    claim(store, payload={"steps": ["a", "b"]})
    store.record_jobs(KEY, {"a": "f-1"}, now=T0 + 1)
    store.annotate(KEY, {"last_error": "ServerError: 503", "missing_steps": ["b"]}, end_lease=True, now=T0 + 2)
    record = store.get(KEY, now=T0 + 3)
    assert record is not None
    assert record.state is RecordState.IN_PROGRESS
    assert record.lease_expired(T0 + 3)  # well before the 60 s lease would have lapsed
    assert (record.last_error, record.payload["missing_steps"], record.attempts) == ("ServerError: 503", ["b"], 1)
    assert record.jobs == {"a": "f-1"}
    retry = claim(store, now=T0 + 3, payload={"steps": ["a", "b"]})
    assert retry.acquired
    assert retry.record.jobs == {"a": "f-1"}
    assert retry.record.attempts == 2
    assert retry.record.last_error == "ServerError: 503"  # history survives until something overwrites it


def test_annotating_without_ending_the_lease_keeps_the_owner(store: IdempotencyStore) -> None:
    claim(store)
    store.annotate(KEY, {"given_up": "3 attempts"}, now=T0 + 1)
    assert not claim(store, now=T0 + 2).acquired
    record = store.get(KEY, now=T0 + 2)
    assert record is not None
    assert record.payload["given_up"] == "3 attempts"


def test_annotating_a_completed_record_leaves_it_completed(store: IdempotencyStore) -> None:
    claim(store)
    store.complete(KEY, {"a": "f-1"}, ttl_seconds=TTL, now=T0 + 1)
    store.annotate(KEY, {"note": "x"}, end_lease=True, now=T0 + 2)
    record = store.get(KEY, now=T0 + 2)
    assert record is not None
    assert (record.state, record.payload["note"]) == (RecordState.COMPLETED, "x")


def test_annotating_a_missing_record_raises(store: IdempotencyStore) -> None:
    with pytest.raises(RecordNotFoundError):
        store.annotate(KEY, {"x": 1}, now=T0)


def test_records_written_before_failures_were_kept_still_load() -> None:
    old = {"key": KEY, "state": "in_progress", "expires_at": T0 + TTL, "jobs": {"a": "f-1"}, "payload": {"k": 1}}
    record = record_from_dict(old)
    assert (record.attempts, record.last_error, record.jobs) == (1, None, {"a": "f-1"})
