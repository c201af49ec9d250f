"""The idempotency contract, held against every backend: memory, SQLite, COS markers, Redis."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ciflow.idempotency import Claim, IdempotencyRecord, RecordNotFoundError, RecordState

T0 = 1_700_000_000.25
LEASE = 60.0
TTL = 3600.0
KEY = 'hash:media-1250000000/in/a.mp4@"0cc175b9c0f1b6a831c399e269772661"'
ODD_KEY = "transcode:media-1250000000/目录/视频 final+cut 100%.mp4?x=1#y@etag"
PAYLOAD = {"concern": "hash", "bucket": "media-1250000000", "steps": ["hash:0"], "empty": [], "n": 3, "none": None}


def claim(store, key=KEY, *, now=T0, lease=LEASE, ttl=TTL, payload=None) -> Claim:
    return store.claim(key, lease_seconds=lease, ttl_seconds=ttl, payload=payload, now=now)


# -- claim ----------------------------------------------------------------------------------------------


def test_claim_of_a_free_key_acquires_a_new_in_progress_record(store):
    result = claim(store, payload=PAYLOAD)
    assert result.acquired
    assert result.record == IdempotencyRecord(
        key=KEY,
        state=RecordState.IN_PROGRESS,
        expires_at=T0 + TTL,
        lease_until=T0 + LEASE,
        jobs={},
        payload=PAYLOAD,
        created_at=T0,
        updated_at=T0,
    )
    assert store.get(KEY, now=T0) == result.record


def test_claim_while_the_lease_holds_is_refused_with_the_owners_record(store):
    first = claim(store, payload={"owner": "a"})
    store.record_jobs(KEY, {"hash:0": "j1"}, now=T0 + 1)
    second = claim(store, now=T0 + LEASE - 0.001, payload={"owner": "b"})
    assert not second.acquired
    assert second.record.payload == {"owner": "a"}
    assert second.record.lease_until == first.record.lease_until
    assert second.record.jobs == {"hash:0": "j1"}


def test_take_over_after_the_lease_lapses_keeps_jobs_and_created_at(store):
    claim(store, payload={"owner": "a", "steps": ["x"]})
    store.record_jobs(KEY, {"transcode:0": "j-t0"}, now=T0 + 5)
    later = T0 + LEASE + 10
    taken = claim(store, now=later, lease=30, payload={"owner": "b"})
    assert taken.acquired
    record = taken.record
    assert record.state is RecordState.IN_PROGRESS
    assert record.jobs == {"transcode:0": "j-t0"}
    assert record.created_at == T0
    assert record.lease_until == later + 30
    assert record.expires_at == later + TTL
    assert record.updated_at == later
    assert record.payload == {"owner": "b", "steps": ["x"]}
    assert store.get(KEY, now=later) == record
    # The new owner's lease holds against the old one coming back.
    assert not claim(store, now=later + 1).acquired


def test_a_lease_ending_exactly_now_has_lapsed(store):
    claim(store)
    assert claim(store, now=T0 + LEASE).acquired


def test_a_completed_record_refuses_claims_until_it_expires(store):
    claim(store)
    store.complete(KEY, {"hash:0": "j1"}, ttl_seconds=100, now=T0 + 10)
    refused = claim(store, now=T0 + 10 + 99)
    assert not refused.acquired
    assert refused.record.state is RecordState.COMPLETED
    assert refused.record.jobs == {"hash:0": "j1"}
    fresh = claim(store, now=T0 + 10 + 100, payload={"again": True})
    assert fresh.acquired
    assert fresh.record.jobs == {}
    assert fresh.record.created_at == T0 + 110
    assert fresh.record.payload == {"again": True}


def test_an_expired_in_progress_record_is_claimed_afresh(store):
    claim(store, ttl=100, lease=50, payload={"old": 1})
    store.record_jobs(KEY, {"a": "j"}, now=T0 + 1)
    fresh = claim(store, now=T0 + 100)
    assert fresh.acquired
    assert fresh.record.jobs == {}
    assert fresh.record.payload == {}
    assert fresh.record.created_at == T0 + 100


@pytest.mark.parametrize(("lease", "ttl"), [(0, TTL), (-1, TTL), (LEASE, 0), (LEASE, -5)])
def test_claim_refuses_non_positive_durations(store, lease, ttl):
    with pytest.raises(ValueError, match="must be positive"):
        claim(store, lease=lease, ttl=ttl)
    assert store.get(KEY, now=T0) is None


def test_claim_defaults_now_to_the_wall_clock(store):
    before = time.time()
    result = store.claim(KEY, lease_seconds=LEASE, ttl_seconds=TTL)
    after = time.time()
    assert before + LEASE <= (result.record.lease_until or 0) <= after + LEASE
    assert before <= result.record.created_at <= after
    assert store.get(KEY) is not None


def test_odd_keys_and_payloads_round_trip(store):
    payload = {"nested": {"a": [1, 2.5, "三"], "b": None}, "flag": True, "text": 'quote " and \\ and \n'}
    result = claim(store, ODD_KEY, payload=payload)
    assert result.acquired
    store.record_jobs(ODD_KEY, {"transcode:0": "j-视频"}, now=T0 + 1)
    record = store.get(ODD_KEY, now=T0 + 1)
    assert record is not None
    assert record.key == ODD_KEY
    assert record.payload == payload
    assert record.jobs == {"transcode:0": "j-视频"}
    assert store.get(KEY, now=T0) is None  # a different key is a different record


def test_returned_records_are_copies(store):
    result = claim(store, payload={"a": 1})
    result.record.jobs["x"] = "tampered"
    result.record.payload["a"] = 2
    record = store.get(KEY, now=T0)
    assert record is not None
    assert record.jobs == {}
    assert record.payload == {"a": 1}


# -- record_jobs, complete, release, get ------------------------------------------------------------


def test_record_jobs_merges_into_the_in_progress_record(store):
    claim(store)
    store.record_jobs(KEY, {"transcode:0": "pending"}, now=T0 + 1)
    store.record_jobs(KEY, {"transcode:0": "j-t0", "snapshot:0": "j-s0"}, now=T0 + 2)
    record = store.get(KEY, now=T0 + 3)
    assert record is not None
    assert record.jobs == {"transcode:0": "j-t0", "snapshot:0": "j-s0"}
    assert record.state is RecordState.IN_PROGRESS
    assert record.updated_at == T0 + 2
    assert record.lease_until == T0 + LEASE
    assert record.expires_at == T0 + TTL


def test_record_jobs_without_a_live_record_raises(store):
    with pytest.raises(RecordNotFoundError):
        store.record_jobs(KEY, {"a": "j"}, now=T0)
    claim(store, ttl=100)
    with pytest.raises(RecordNotFoundError):
        store.record_jobs(KEY, {"a": "j"}, now=T0 + 100)


def test_complete_marks_done_merges_jobs_clears_the_lease_and_resets_expiry(store):
    claim(store, payload={"p": 1})
    store.record_jobs(KEY, {"transcode:0": "j-t0"}, now=T0 + 1)
    store.complete(KEY, {"snapshot:0": "j-s0"}, ttl_seconds=500, now=T0 + 20)
    record = store.get(KEY, now=T0 + 20)
    assert record == IdempotencyRecord(
        key=KEY,
        state=RecordState.COMPLETED,
        expires_at=T0 + 20 + 500,
        lease_until=None,
        jobs={"transcode:0": "j-t0", "snapshot:0": "j-s0"},
        payload={"p": 1},
        created_at=T0,
        updated_at=T0 + 20,
    )
    assert store.get(KEY, now=T0 + 520) is None


def test_complete_without_a_live_record_still_leaves_the_ledger(store):
    store.complete(KEY, {"hash:0": "j1"}, ttl_seconds=100, now=T0)
    record = store.get(KEY, now=T0)
    assert record is not None
    assert (record.state, record.jobs, record.expires_at, record.lease_until) == (
        RecordState.COMPLETED,
        {"hash:0": "j1"},
        T0 + 100,
        None,
    )
    assert not claim(store, now=T0 + 1).acquired


def test_end_lease_lets_the_next_claim_take_over_at_once_keeping_jobs(store):
    claim(store, payload={"owner": "a"})
    store.record_jobs(KEY, {"md5": "j1"}, now=T0 + 1)
    store.end_lease(KEY, now=T0 + 2)
    taken = claim(store, now=T0 + 2, payload={"owner": "b"})
    assert taken.acquired
    assert taken.record.jobs == {"md5": "j1"}
    assert taken.record.state is RecordState.IN_PROGRESS


def test_end_lease_leaves_completed_and_absent_records_alone(store):
    claim(store)
    store.complete(KEY, {"md5": "j1"}, ttl_seconds=TTL, now=T0 + 1)
    store.end_lease(KEY, now=T0 + 2)
    assert not claim(store, now=T0 + 3).acquired
    store.end_lease("absent-key", now=T0)
    assert store.get("absent-key", now=T0) is None


def test_release_deletes_the_record_and_the_next_claim_starts_afresh(store):
    claim(store)
    store.record_jobs(KEY, {"a": "pending"}, now=T0 + 1)
    store.release(KEY)
    assert store.get(KEY, now=T0 + 2) is None
    again = claim(store, now=T0 + 2)
    assert again.acquired
    assert again.record.jobs == {}
    store.release("never-claimed")  # no error


def test_get_is_none_for_absent_and_expired_records(store):
    assert store.get(KEY, now=T0) is None
    claim(store, ttl=100)
    assert store.get(KEY, now=T0 + 99.999) is not None
    assert store.get(KEY, now=T0 + 100) is None


# -- records, purge_expired -------------------------------------------------------------------------


def _populate(store) -> None:
    """Two in progress, two completed, two expired (one of each state)."""
    claim(store, "k:in-1")
    claim(store, "k:in-2", lease=1)  # lease lapsed later, still live and in progress
    claim(store, "k:done-1")
    store.complete("k:done-1", {"s": "j1"}, ttl_seconds=TTL, now=T0)
    store.complete("k:done-2", {"s": "j2"}, ttl_seconds=TTL, now=T0)
    claim(store, "k:gone-in", ttl=10)
    store.complete("k:gone-done", {"s": "j3"}, ttl_seconds=10, now=T0)


def test_records_yields_live_records_optionally_of_one_state(store):
    _populate(store)
    now = T0 + 20
    assert sorted(r.key for r in store.records(now=now)) == ["k:done-1", "k:done-2", "k:in-1", "k:in-2"]
    assert sorted(r.key for r in store.records(state=RecordState.IN_PROGRESS, now=now)) == ["k:in-1", "k:in-2"]
    done = {r.key: r for r in store.records(state=RecordState.COMPLETED, now=now)}
    assert sorted(done) == ["k:done-1", "k:done-2"]
    assert done["k:done-1"] == store.get("k:done-1", now=now)
    assert done["k:done-2"].jobs == {"s": "j2"}
    assert list(store.records(now=T0 + TTL + 1)) == []


def test_purge_expired_deletes_only_expired_records(store):
    _populate(store)
    assert store.purge_expired(now=T0 + 20) == 2
    assert store.purge_expired(now=T0 + 20) == 0
    assert sorted(r.key for r in store.records(now=T0 + 20)) == ["k:done-1", "k:done-2", "k:in-1", "k:in-2"]
    # Purged records are gone, not merely hidden: a claim at the old time finds nothing either.
    assert claim(store, "k:gone-in", now=T0 + 1).record.created_at == T0 + 1
    assert store.purge_expired(now=T0 + TTL) == 4
    assert store.purge_expired(now=T0 + 1 + TTL) == 1


def test_an_empty_store_has_no_records(store):
    assert list(store.records(now=T0)) == []
    assert store.purge_expired(now=T0) == 0


# -- atomicity --------------------------------------------------------------------------------------


def _race(store_factory, attempts: int, make_claim) -> list[Claim]:
    """``attempts`` threads, each with its own handle on the store, claim at the same moment."""
    stores = [store_factory() for _ in range(attempts)]
    barrier = threading.Barrier(attempts)

    def run(index: int) -> Claim:
        barrier.wait()
        return make_claim(stores[index], index)

    with ThreadPoolExecutor(attempts) as pool:
        return list(pool.map(run, range(attempts)))


def test_concurrent_claims_of_a_free_key_acquire_exactly_once(store_factory):
    results = _race(store_factory, 8, lambda s, i: claim(s, payload={"owner": i}))
    winners = [r for r in results if r.acquired]
    assert len(winners) == 1
    owner = winners[0].record.payload["owner"]
    assert all(r.record.payload == {"owner": owner} for r in results)
    assert store_factory().get(KEY, now=T0).payload == {"owner": owner}


def test_concurrent_take_overs_of_a_lapsed_lease_acquire_exactly_once(store_factory):
    store = store_factory()
    claim(store, payload={"owner": "crashed"})
    store.record_jobs(KEY, {"transcode:0": "j-t0"}, now=T0 + 1)
    later = T0 + LEASE + 1
    results = _race(store_factory, 6, lambda s, i: claim(s, now=later, payload={"owner": i}))
    winners = [r for r in results if r.acquired]
    assert len(winners) == 1
    record = store.get(KEY, now=later)
    assert record is not None
    assert record.payload["owner"] == winners[0].record.payload["owner"]
    assert record.jobs == {"transcode:0": "j-t0"}
    assert all(r.record.jobs == {"transcode:0": "j-t0"} for r in results)
