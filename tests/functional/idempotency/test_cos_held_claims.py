"""The COS marker store's held claims over the fake bucket: an owner writes its marker in one PUT while its lease
safely holds, and reads it first otherwise; racing claimants never both own a key."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

from ciflow.client import CiClient
from ciflow.errors import ServerError
from ciflow.idempotency import Claim, CosMarkerStore, IdempotencyStore, MemoryStore, RecordState
from tests.support.fake_cos import FakeCos

T0 = 1_700_000_000.0
LEASE = 60.0
TTL = 3600.0
KEY = "hash:media-1250000000/in/held.bin@etag"
MARKER = "ciflow/idempotency/" + hashlib.sha256(KEY.encode()).hexdigest()


def claim(store: IdempotencyStore, *, now: float = T0, lease: float = LEASE, payload: Any = None) -> Claim:
    return store.claim(KEY, lease_seconds=lease, ttl_seconds=TTL, payload=payload, now=now)


def owner_of(fake: FakeCos) -> str:
    return str(json.loads(fake.objects[MARKER].body)["owner"])


def calls_of(fake: FakeCos, work: Callable[[], object]) -> list[tuple[str, str]]:
    """The requests ``work`` made."""
    start = len(fake.calls)
    work()
    return fake.calls[start:]


@pytest.fixture
def store(cos_client: CiClient) -> CosMarkerStore:
    return CosMarkerStore(cos_client, settle_seconds=0.01, sleep=lambda _: None)


def owner_run(store: IdempotencyStore) -> None:
    """An upload's writes: claim, an intent, a job id, another intent, complete with the last job id."""
    claim(store, payload={"steps": ["md5", "sha256"]})
    store.record_jobs(KEY, {"md5": "pending"}, now=T0 + 1)
    store.record_jobs(KEY, {"md5": "j-md5"}, now=T0 + 2)
    store.record_jobs(KEY, {"sha256": "pending"}, now=T0 + 3)
    store.annotate(KEY, {"note": "kept"}, now=T0 + 4)
    store.complete(KEY, {"md5": "j-md5", "sha256": "j-sha"}, ttl_seconds=TTL, now=T0 + 5)


def test_an_owner_writes_its_marker_in_one_put_each_and_ends_where_a_read_back_store_does(
    store: CosMarkerStore, fake_cos: FakeCos
) -> None:
    calls = calls_of(fake_cos, lambda: owner_run(store))
    assert calls == [("PUT", MARKER)] * 6  # no GET: the claim is held
    tokens = {json.loads(request.content)["owner"] for request in fake_cos.requests}
    assert len(tokens) == 1  # every write carries the claim's own token
    assert "x-cos-forbid-overwrite" not in fake_cos.requests[1].headers
    reference = MemoryStore()
    owner_run(reference)
    assert store.get(KEY, now=T0 + 6) == reference.get(KEY, now=T0 + 6)
    record = store.get(KEY, now=T0 + 6)
    assert record is not None
    assert (record.state, record.jobs) == (RecordState.COMPLETED, {"md5": "j-md5", "sha256": "j-sha"})


def test_a_write_inside_the_lease_margin_reads_the_marker_first(cos_client: CiClient, fake_cos: FakeCos) -> None:
    store = CosMarkerStore(cos_client, lease_margin_seconds=5.0)
    claim(store)
    blind = calls_of(fake_cos, lambda: store.record_jobs(KEY, {"md5": "pending"}, now=T0 + LEASE - 5.01))
    assert blind == [("PUT", MARKER)]
    late = calls_of(fake_cos, lambda: store.record_jobs(KEY, {"md5": "j1"}, now=T0 + LEASE - 5.0))
    assert late == [("GET", MARKER), ("PUT", MARKER)]
    # Once read back, the claim is no longer written blind: every later write reads too.
    again = calls_of(fake_cos, lambda: store.record_jobs(KEY, {"sha": "pending"}, now=T0 + 1))
    assert again == [("GET", MARKER), ("PUT", MARKER)]


def test_a_write_that_failed_is_followed_by_a_read_so_nothing_is_lost(store: CosMarkerStore, fake_cos: FakeCos) -> None:
    claim(store)
    # Every attempt of the client fails, but the last one was applied: COS has the intent, the store cannot know.
    fake_cos.fail_next("PUT", status=503, code="ServiceUnavailable", times=4, apply=True)
    with pytest.raises(ServerError):
        store.record_jobs(KEY, {"md5": "pending"}, now=T0 + 1)
    fake_cos.put(MARKER, fake_cos.objects[MARKER].body.replace(b'"pending"', b'"j-lost"'), "application/json")
    calls = calls_of(fake_cos, lambda: store.record_jobs(KEY, {"sha": "pending"}, now=T0 + 2))
    assert calls == [("GET", MARKER), ("PUT", MARKER)]
    record = store.get(KEY, now=T0 + 3)
    assert record is not None
    assert record.jobs == {"md5": "j-lost", "sha": "pending"}  # what COS held was merged, not overwritten


def test_a_store_that_holds_no_claim_reads_first(
    store: CosMarkerStore, cos_client: CiClient, fake_cos: FakeCos
) -> None:
    claim(store)
    other = CosMarkerStore(cos_client)
    calls = calls_of(fake_cos, lambda: other.record_jobs(KEY, {"md5": "j1"}, now=T0 + 1))
    assert calls == [("GET", MARKER), ("PUT", MARKER)]


@pytest.mark.parametrize(
    "finish",
    [
        lambda s: s.complete(KEY, {}, ttl_seconds=TTL, now=T0 + 1),
        lambda s: s.end_lease(KEY, now=T0 + 1),
        lambda s: s.annotate(KEY, {"why": "x"}, end_lease=True, now=T0 + 1),
    ],
    ids=["complete", "end_lease", "annotate-end-lease"],
)
def test_a_claim_is_held_no_longer_than_its_lease(
    store: CosMarkerStore, fake_cos: FakeCos, finish: Callable[[CosMarkerStore], None]
) -> None:
    claim(store)
    finish(store)
    calls = calls_of(fake_cos, lambda: store.annotate(KEY, {"later": True}, now=T0 + 2))
    assert calls == [("GET", MARKER), ("PUT", MARKER)]


def test_a_released_claim_is_not_written_blind_over_the_next_owners(
    store: CosMarkerStore, cos_client: CiClient, fake_cos: FakeCos
) -> None:
    claim(store)
    store.release(KEY)
    assert claim(CosMarkerStore(cos_client), now=T0 + 1, payload={"owner": "next"}).acquired
    next_token = owner_of(fake_cos)
    calls = calls_of(fake_cos, lambda: store.record_jobs(KEY, {"md5": "j1"}, now=T0 + 2))
    assert calls == [("GET", MARKER), ("PUT", MARKER)]
    assert owner_of(fake_cos) == next_token


def test_a_late_write_of_a_former_owner_keeps_the_new_owners_claim(cos_client: CiClient, fake_cos: FakeCos) -> None:
    former = CosMarkerStore(cos_client, settle_seconds=0.01, sleep=lambda _: None)
    claim(former, lease=10.0, payload={"owner": "former"})
    taker = CosMarkerStore(cos_client, settle_seconds=0.01, sleep=lambda _: None)
    assert claim(taker, now=T0 + 11, payload={"owner": "taker"}).acquired
    taker_token = owner_of(fake_cos)
    # The former owner's lease is over by its own clock too: it reads, and keeps what it read.
    late = calls_of(fake_cos, lambda: former.record_jobs(KEY, {"md5": "j-late"}, now=T0 + 12))
    assert late == [("GET", MARKER), ("PUT", MARKER)]
    assert owner_of(fake_cos) == taker_token
    record = former.get(KEY, now=T0 + 12)
    assert record is not None
    assert (record.payload["owner"], record.lease_until, record.attempts) == ("taker", T0 + 11 + LEASE, 2)


def race(claimants: list[IdempotencyStore]) -> list[Claim]:
    """Every claimant claims the key at once (a barrier releases them together)."""
    barrier = threading.Barrier(len(claimants))
    results: list[Claim | None] = [None] * len(claimants)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = claim(claimants[index], payload={"who": index})

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(claimants))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(result is not None for result in results)
    return [result for result in results if result is not None]


def test_claimants_racing_in_separate_stores_leave_one_owner_whose_writes_stay_blind(
    cos_client: CiClient, fake_cos: FakeCos
) -> None:
    stores = [CosMarkerStore(cos_client) for _ in range(8)]
    claims = race(list(stores))
    winners = [index for index, result in enumerate(claims) if result.acquired]
    assert len(winners) == 1
    (winner,) = winners
    assert json.loads(fake_cos.objects[MARKER].body)["payload"] == {"who": winner}
    assert all(result.record.payload == {"who": winner} for result in claims)
    assert calls_of(fake_cos, lambda: stores[winner].record_jobs(KEY, {"md5": "j"}, now=T0 + 1)) == [("PUT", MARKER)]
    loser = next(index for index in range(len(stores)) if index != winner)
    assert calls_of(fake_cos, lambda: stores[loser].record_jobs(KEY, {"x": "y"}, now=T0 + 1))[0] == ("GET", MARKER)


def test_duplicate_records_racing_in_one_store_leave_one_owner_and_its_claim_held(
    store: CosMarkerStore, fake_cos: FakeCos
) -> None:
    claims = race([store] * 8)
    assert sum(result.acquired for result in claims) == 1
    # The losers saw the winner's token on the marker: the claim the store holds is still the winner's.
    assert calls_of(fake_cos, lambda: store.record_jobs(KEY, {"md5": "j"}, now=T0 + 1)) == [("PUT", MARKER)]


def test_a_negative_lease_margin_is_refused(cos_client: CiClient) -> None:
    with pytest.raises(ValueError, match="lease_margin_seconds"):
        CosMarkerStore(cos_client, lease_margin_seconds=-1.0)
