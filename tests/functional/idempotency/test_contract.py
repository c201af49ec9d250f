"""The idempotency contract, held against every backend: memory, SQLite, COS markers, Redis."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from ciflow.idempotency import Claim, IdempotencyRecord, IdempotencyStore, RecordNotFoundError, RecordPage, RecordState
from tests.functional.idempotency.conftest import StoreFactory

T0 = 1_700_000_000.25
LEASE = 60.0
TTL = 3600.0
KEY = 'hash:media-1250000000/in/a.mp4@"0cc175b9c0f1b6a831c399e269772661"'
ODD_KEY = "transcode:media-1250000000/目录/视频 final+cut 100%.mp4?x=1#y@etag"
PAYLOAD = {"concern": "hash", "bucket": "media-1250000000", "steps": ["hash:0"], "empty": [], "n": 3, "none": None}


def claim(
    store: IdempotencyStore,
    key: str = KEY,
    *,
    now: float = T0,
    lease: float = LEASE,
    ttl: float = TTL,
    payload: Mapping[str, Any] | None = None,
) -> Claim:
    return store.claim(key, lease_seconds=lease, ttl_seconds=ttl, payload=payload, now=now)


# -- claim ----------------------------------------------------------------------------------------------


def test_claim_of_a_free_key_acquires_a_new_in_progress_record(store: IdempotencyStore) -> None:
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


def test_claim_while_the_lease_holds_is_refused_with_the_owners_record(store: IdempotencyStore) -> None:
    first = claim(store, payload={"owner": "a"})
    store.record_jobs(KEY, {"hash:0": "j1"}, now=T0 + 1)
    second = claim(store, now=T0 + LEASE - 0.001, payload={"owner": "b"})
    assert not second.acquired
    assert second.record.payload == {"owner": "a"}
    assert second.record.lease_until == first.record.lease_until
    assert second.record.jobs == {"hash:0": "j1"}


def test_take_over_after_the_lease_lapses_keeps_jobs_and_created_at(store: IdempotencyStore) -> None:
    first_attempts = claim(store, payload={"owner": "a", "steps": ["x"]}).record.attempts
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
    assert record.payload == {"owner": "b", "steps": ["x"], "attempts": 2}
    assert (first_attempts, record.attempts) == (1, 2)
    assert store.get(KEY, now=later) == record
    # The new owner's lease holds against the old one coming back.
    assert not claim(store, now=later + 1).acquired


def test_a_lease_ending_exactly_now_has_lapsed(store: IdempotencyStore) -> None:
    claim(store)
    assert claim(store, now=T0 + LEASE).acquired


def test_a_completed_record_refuses_claims_until_it_expires(store: IdempotencyStore) -> None:
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


def test_an_expired_in_progress_record_is_claimed_afresh(store: IdempotencyStore) -> None:
    claim(store, ttl=100, lease=50, payload={"old": 1})
    store.record_jobs(KEY, {"a": "j"}, now=T0 + 1)
    fresh = claim(store, now=T0 + 100)
    assert fresh.acquired
    assert fresh.record.jobs == {}
    assert fresh.record.payload == {}
    assert fresh.record.created_at == T0 + 100


@pytest.mark.parametrize(("lease", "ttl"), [(0, TTL), (-1, TTL), (LEASE, 0), (LEASE, -5)])
def test_claim_refuses_non_positive_durations(store: IdempotencyStore, lease: float, ttl: float) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        claim(store, lease=lease, ttl=ttl)
    assert store.get(KEY, now=T0) is None


def test_claim_defaults_now_to_the_wall_clock(store: IdempotencyStore) -> None:
    before = time.time()
    result = store.claim(KEY, lease_seconds=LEASE, ttl_seconds=TTL)
    after = time.time()
    assert before + LEASE <= (result.record.lease_until or 0) <= after + LEASE
    assert before <= result.record.created_at <= after
    assert store.get(KEY) is not None


def test_odd_keys_and_payloads_round_trip(store: IdempotencyStore) -> None:
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


def test_returned_records_are_copies(store: IdempotencyStore) -> None:
    result = claim(store, payload={"a": 1})
    result.record.jobs["x"] = "tampered"
    result.record.payload["a"] = 2
    record = store.get(KEY, now=T0)
    assert record is not None
    assert record.jobs == {}
    assert record.payload == {"a": 1}


# -- record_jobs, complete, release, get ------------------------------------------------------------


def test_record_jobs_merges_into_the_in_progress_record(store: IdempotencyStore) -> None:
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


def test_record_jobs_without_a_live_record_raises(store: IdempotencyStore) -> None:
    with pytest.raises(RecordNotFoundError):
        store.record_jobs(KEY, {"a": "j"}, now=T0)
    claim(store, ttl=100)
    with pytest.raises(RecordNotFoundError):
        store.record_jobs(KEY, {"a": "j"}, now=T0 + 100)


def test_complete_marks_done_merges_jobs_clears_the_lease_and_resets_expiry(store: IdempotencyStore) -> None:
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


def test_complete_without_a_live_record_still_leaves_the_ledger(store: IdempotencyStore) -> None:
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


def test_end_lease_lets_the_next_claim_take_over_at_once_keeping_jobs(store: IdempotencyStore) -> None:
    claim(store, payload={"owner": "a"})
    store.record_jobs(KEY, {"md5": "j1"}, now=T0 + 1)
    store.end_lease(KEY, now=T0 + 2)
    taken = claim(store, now=T0 + 2, payload={"owner": "b"})
    assert taken.acquired
    assert taken.record.jobs == {"md5": "j1"}
    assert taken.record.state is RecordState.IN_PROGRESS


def test_end_lease_leaves_completed_and_absent_records_alone(store: IdempotencyStore) -> None:
    claim(store)
    store.complete(KEY, {"md5": "j1"}, ttl_seconds=TTL, now=T0 + 1)
    store.end_lease(KEY, now=T0 + 2)
    assert not claim(store, now=T0 + 3).acquired
    store.end_lease("absent-key", now=T0)
    assert store.get("absent-key", now=T0) is None


def test_release_deletes_the_record_and_the_next_claim_starts_afresh(store: IdempotencyStore) -> None:
    claim(store)
    store.record_jobs(KEY, {"a": "pending"}, now=T0 + 1)
    store.release(KEY)
    assert store.get(KEY, now=T0 + 2) is None
    again = claim(store, now=T0 + 2)
    assert again.acquired
    assert again.record.jobs == {}
    store.release("never-claimed")  # no error


def test_get_is_none_for_absent_and_expired_records(store: IdempotencyStore) -> None:
    assert store.get(KEY, now=T0) is None
    claim(store, ttl=100)
    assert store.get(KEY, now=T0 + 99.999) is not None
    assert store.get(KEY, now=T0 + 100) is None


# -- records, purge_expired -------------------------------------------------------------------------


def _populate(store: IdempotencyStore) -> None:
    """Two in progress, two completed, two expired (one of each state)."""
    claim(store, "k:in-1")
    claim(store, "k:in-2", lease=1)  # lease lapsed later, still live and in progress
    claim(store, "k:done-1")
    store.complete("k:done-1", {"s": "j1"}, ttl_seconds=TTL, now=T0)
    store.complete("k:done-2", {"s": "j2"}, ttl_seconds=TTL, now=T0)
    claim(store, "k:gone-in", ttl=10)
    store.complete("k:gone-done", {"s": "j3"}, ttl_seconds=10, now=T0)


def test_records_yields_live_records_optionally_of_one_state(store: IdempotencyStore) -> None:
    _populate(store)
    now = T0 + 20
    assert sorted(r.key for r in store.records(now=now)) == ["k:done-1", "k:done-2", "k:in-1", "k:in-2"]
    assert sorted(r.key for r in store.records(state=RecordState.IN_PROGRESS, now=now)) == ["k:in-1", "k:in-2"]
    done = {r.key: r for r in store.records(state=RecordState.COMPLETED, now=now)}
    assert sorted(done) == ["k:done-1", "k:done-2"]
    assert done["k:done-1"] == store.get("k:done-1", now=now)
    assert done["k:done-2"].jobs == {"s": "j2"}
    assert list(store.records(now=T0 + TTL + 1)) == []


def test_purge_expired_deletes_only_expired_records(store: IdempotencyStore) -> None:
    _populate(store)
    assert store.purge_expired(now=T0 + 20) == 2
    assert store.purge_expired(now=T0 + 20) == 0
    assert sorted(r.key for r in store.records(now=T0 + 20)) == ["k:done-1", "k:done-2", "k:in-1", "k:in-2"]
    # Purged records are gone, not merely hidden: a claim at the old time finds nothing either.
    assert claim(store, "k:gone-in", now=T0 + 1).record.created_at == T0 + 1
    assert store.purge_expired(now=T0 + TTL) == 4
    assert store.purge_expired(now=T0 + 1 + TTL) == 1


def test_purging_page_by_page_deletes_exactly_the_expired_records(store: IdempotencyStore, backend: str) -> None:
    for index in range(7):
        claim(store, f"k:old-{index}", now=T0)  # expire at T0 + TTL
    for index in range(3):
        claim(store, f"k:new-{index}", now=T0 + 100)
    at = T0 + TTL + 1
    purged, cursor, calls = 0, "", 0
    while True:
        step = store.purge_expired_page(cursor=cursor, limit=2, now=at)
        purged, cursor, calls = purged + step.purged, step.cursor, calls + 1
        if not cursor:
            break
        assert calls < 50, "the purge never reached the end"
    assert purged == 7
    # Memory and SQLite purge everything in one cheap step; COS and Redis page through the keyspace.
    assert (calls > 1) == (backend in {"cos", "redis"})
    assert sorted(r.key for r in store.records(now=at)) == ["k:new-0", "k:new-1", "k:new-2"]
    assert store.purge_expired(now=at) == 0  # nothing expired was left behind
    assert store.purge_expired_page(now=at) == (0, "")
    with pytest.raises(ValueError, match="limit"):
        store.purge_expired_page(limit=0, now=at)


def test_an_empty_store_has_no_records(store: IdempotencyStore) -> None:
    assert list(store.records(now=T0)) == []
    assert store.purge_expired(now=T0) == 0


# -- page: the resumable ledger walk ----------------------------------------------------------------

#: Pages a walk may take before a test calls it endless (Redis's SCAN pages over the server's whole keyspace).
MAX_PAGES = 10_000


def _walk(store: IdempotencyStore, *, limit: int, now: float | None, cursor: str = "") -> list[RecordPage]:
    """Every page from ``cursor`` to the end."""
    pages = []
    while True:
        page = store.page(cursor=cursor, limit=limit, now=now)
        assert isinstance(page, RecordPage)
        assert isinstance(page.cursor, str)
        pages.append(page)
        assert len(pages) < MAX_PAGES, "the walk never ends"
        cursor = page.cursor
        if not cursor:
            return pages


def _walk_some(store: IdempotencyStore, *, pages: int, limit: int, now: float) -> list[RecordPage]:
    """The first ``pages`` pages of a walk that has more than that."""
    walked: list[RecordPage] = []
    cursor = ""
    while len(walked) < pages or not walked[-1].records:
        walked.append(store.page(cursor=cursor, limit=limit, now=now))
        cursor = walked[-1].cursor
        assert cursor, "the walk ended before the test could stop it"
    return walked


def _keys(pages: list[RecordPage]) -> list[str]:
    return [record.key for page in pages for record in page.records]


def _assert_each_once(backend: str, keys: list[str], expected: set[str]) -> None:
    """Every expected key returned; once each, but for Redis, whose SCAN may return a key twice."""
    assert set(keys) == expected
    if backend == "redis":
        assert len(keys) <= 2 * len(expected)
    else:
        assert sorted(keys) == sorted(expected)


def _live_and_expired(store: IdempotencyStore, live: int) -> set[str]:
    """``live`` live records, both states, and two expired ones (at ``T0 + 20``); the live keys."""
    keys = {f"k:{i:02d}" for i in range(live)}
    for i, key in enumerate(sorted(keys)):
        if i % 3 == 0:
            store.complete(key, {"s": f"j{i}"}, ttl_seconds=TTL, now=T0)
        else:
            claim(store, key)
    claim(store, "k:gone-in", ttl=10)
    store.complete("k:gone-done", {"s": "j"}, ttl_seconds=10, now=T0)
    return keys


def test_a_paged_walk_returns_every_live_record_once_and_no_expired_one(store: IdempotencyStore, backend: str) -> None:
    live = _live_and_expired(store, 7)
    pages = _walk(store, limit=2, now=T0 + 20)
    _assert_each_once(backend, _keys(pages), live)
    if backend != "redis":  # SCAN's COUNT is a hint; the other stores hold to the limit
        assert all(len(page.records) <= 2 for page in pages)
        assert len(pages) >= 4
    assert pages[-1].cursor == ""
    assert all(page.cursor for page in pages[:-1])
    records = {record.key: record for page in pages for record in page.records}
    assert records["k:00"] == store.get("k:00", now=T0 + 20)
    assert records["k:00"].state is RecordState.COMPLETED
    assert records["k:01"].state is RecordState.IN_PROGRESS
    # Before the short records expire, they are live and walked too.
    assert set(_keys(_walk(store, limit=3, now=T0 + 5))) == {*live, "k:gone-in", "k:gone-done"}


def test_a_large_limit_walks_the_store_in_one_page(store: IdempotencyStore, backend: str) -> None:
    live = _live_and_expired(store, 5)
    pages = _walk(store, limit=1000, now=T0 + 20)
    _assert_each_once(backend, _keys(pages), live)
    if backend != "redis":  # SCAN may end on a later call even when one found every key
        assert len(pages) == 1


def test_a_walk_resumes_from_a_saved_cursor_in_another_process(store_factory: StoreFactory, backend: str) -> None:
    first = store_factory()
    live = _live_and_expired(first, 9)
    now = T0 + 20
    # One invocation reads a few pages and saves the cursor; another, with its own handle, goes on from it.
    started = _walk_some(first, pages=2, limit=2, now=now)
    cursor = started[-1].cursor
    assert cursor
    rest = _walk(store_factory(), limit=2, now=now, cursor=cursor)
    before, after = _keys(started), _keys(rest)
    _assert_each_once(backend, before + after, live)
    assert after  # it went on, and did not find the walk over
    if backend != "redis":
        assert not set(before) & set(after)  # it did not start over


def test_records_created_and_deleted_during_a_walk_do_not_break_it(store: IdempotencyStore, backend: str) -> None:
    keys = {f"k:{i:02d}" for i in range(10)}
    for key in keys:
        claim(store, key)
    first = _walk_some(store, pages=1, limit=3, now=T0 + 1)
    seen = set(_keys(first))
    unseen = sorted(keys - seen)
    deleted_seen, deleted_unseen = sorted(seen)[0], unseen[0]
    store.release(deleted_seen)
    store.release(deleted_unseen)
    added = {"a:before-every-key", "k:05+", "z:after-every-key"}
    for key in added:
        claim(store, key, now=T0 + 1)
    rest = _keys(_walk(store, limit=3, now=T0 + 2, cursor=first[-1].cursor))
    walked = seen | set(rest)
    stable = keys - {deleted_seen, deleted_unseen}
    assert stable <= walked  # every record live for the whole walk
    assert deleted_unseen not in walked  # deleted before the walk reached it
    assert deleted_seen not in rest
    assert walked <= keys | added
    if backend != "redis":
        assert len(rest) == len(set(rest))
        assert not seen & set(rest)


def test_an_empty_store_has_one_empty_last_page(store: IdempotencyStore, backend: str) -> None:
    if backend == "redis":
        # SCAN goes over the whole server's keyspace: with other keys there, the walk may take more pages.
        assert _keys(_walk(store, limit=100, now=T0)) == []
    else:
        assert store.page(now=T0) == RecordPage([], "")
        assert store.page(limit=1, now=T0) == ([], "")


def test_a_store_of_expired_records_only_pages_to_nothing(store: IdempotencyStore) -> None:
    claim(store, "k:gone", ttl=10)
    assert _keys(_walk(store, limit=1, now=T0 + 10)) == []


def test_page_defaults_now_to_the_wall_clock(store: IdempotencyStore) -> None:
    claim(store, "k:live", now=time.time())
    claim(store, "k:gone", now=time.time() - TTL - 1)
    assert _keys(_walk(store, limit=100, now=None)) == ["k:live"]


@pytest.mark.parametrize("limit", [0, -1])
def test_page_refuses_a_limit_below_one(store: IdempotencyStore, limit: int) -> None:
    claim(store)
    with pytest.raises(ValueError, match="limit"):
        store.page(limit=limit, now=T0)


# -- atomicity --------------------------------------------------------------------------------------


def _race(
    store_factory: StoreFactory, attempts: int, make_claim: Callable[[IdempotencyStore, int], Claim]
) -> list[Claim]:
    """``attempts`` threads, each with its own handle on the store, claim at the same moment."""
    stores = [store_factory() for _ in range(attempts)]
    barrier = threading.Barrier(attempts)

    def run(index: int) -> Claim:
        barrier.wait()
        return make_claim(stores[index], index)

    with ThreadPoolExecutor(attempts) as pool:
        return list(pool.map(run, range(attempts)))


def test_concurrent_claims_of_a_free_key_acquire_exactly_once(store_factory: StoreFactory) -> None:
    results = _race(store_factory, 8, lambda s, i: claim(s, payload={"owner": i}))
    winners = [r for r in results if r.acquired]
    assert len(winners) == 1
    owner = winners[0].record.payload["owner"]
    assert all(r.record.payload == {"owner": owner} for r in results)
    kept = store_factory().get(KEY, now=T0)
    assert kept is not None
    assert kept.payload == {"owner": owner}


def test_concurrent_take_overs_of_a_lapsed_lease_acquire_exactly_once(store_factory: StoreFactory) -> None:
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
