"""The COS marker store over the fake bucket: marker format, forbid-overwrite, take-over races, paging."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Mapping
from typing import Any

import httpx
import pytest
import respx

from ciflow.client import CiClient
from ciflow.errors import DecodeError
from ciflow.idempotency import (
    Claim,
    ClaimContendedError,
    CosMarkerStore,
    IdempotencyStore,
    RecordPage,
    RecordState,
    marker_name,
)
from tests.functional.conftest import COS, CREDS, ENDPOINT, NO_WAIT
from tests.functional.idempotency.conftest import COS_SETTLE
from tests.support.fake_cos import FakeCos

T0 = 1_700_000_000.0
KEY = "hash:media-1250000000/in/a.mp4@etag"
PREFIX = "ciflow/idempotency/"
MARKER = PREFIX + hashlib.sha256(KEY.encode()).hexdigest()


class StepClock:
    """A monotonic clock that advances ``step`` seconds on every reading."""

    def __init__(self, step: float) -> None:
        self.step, self.value = step, 0.0

    def __call__(self) -> float:
        self.value += self.step
        return self.value


def claim(
    store: IdempotencyStore,
    key: str = KEY,
    *,
    now: float = T0,
    lease: float = 60.0,
    ttl: float = 3600.0,
    payload: Mapping[str, Any] | None = None,
) -> Claim:
    return store.claim(key, lease_seconds=lease, ttl_seconds=ttl, payload=payload, now=now)


def marker_body(fake: FakeCos, name: str = MARKER) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(fake.objects[name].body)
    return body


@pytest.fixture
def store(cos_client: CiClient) -> CosMarkerStore:
    return CosMarkerStore(cos_client, settle_seconds=COS_SETTLE)


def test_the_marker_is_named_by_the_keys_hash_and_holds_the_record(store: CosMarkerStore, fake_cos: FakeCos) -> None:
    assert store.marker(KEY) == marker_name(PREFIX, KEY) == MARKER
    claim(store, payload={"p": 1})
    assert list(fake_cos.objects) == [MARKER]
    stored = fake_cos.objects[MARKER]
    assert stored.content_type == "application/json"
    body = json.loads(stored.body)
    assert body["key"] == KEY
    assert body["state"] == "in_progress"
    assert (body["expires_at"], body["lease_until"], body["created_at"]) == (T0 + 3600, T0 + 60, T0)
    assert body["payload"] == {"p": 1}
    assert len(body["owner"]) == 32
    assert body["format"] == 1


def test_a_first_claim_is_one_put_with_forbid_overwrite(store: CosMarkerStore, fake_cos: FakeCos) -> None:
    claim(store)
    assert fake_cos.calls == [("PUT", MARKER)]
    assert fake_cos.requests[0].headers["x-cos-forbid-overwrite"] == "true"


def test_a_held_marker_is_read_not_overwritten(store: CosMarkerStore, fake_cos: FakeCos) -> None:
    claim(store, payload={"owner": "a"})
    before = fake_cos.objects[MARKER].body
    fake_cos.calls.clear()
    refused = claim(store, now=T0 + 1, payload={"owner": "b"})
    assert not refused.acquired
    assert refused.record.payload == {"owner": "a"}
    assert fake_cos.calls == [("PUT", MARKER), ("GET", MARKER)]
    assert fake_cos.objects[MARKER].body == before


def test_a_create_whose_answer_was_lost_is_recognised_by_its_owner_token(
    store: CosMarkerStore, fake_cos: FakeCos, cos_client: CiClient
) -> None:
    # COS stores the marker but the 200 never arrives; the client's retry then meets 409 FileAlreadyExists.
    fake_cos.fail_next("PUT", status=503, code="ServiceUnavailable", apply=True)
    result = claim(store, payload={"p": 1})
    assert result.acquired
    assert result.record.payload == {"p": 1}
    assert [c[0] for c in fake_cos.calls] == ["PUT", "PUT", "GET"]
    assert not claim(CosMarkerStore(cos_client), now=T0 + 1).acquired


def test_take_over_overwrites_waits_and_confirms_its_token(cos_client: CiClient, fake_cos: FakeCos) -> None:
    slept: list[float] = []
    store = CosMarkerStore(cos_client, settle_seconds=0.25, sleep=slept.append)
    claim(store, payload={"owner": "crashed"})
    old_owner = marker_body(fake_cos)["owner"]
    store.record_jobs(KEY, {"transcode:0": "j1"}, now=T0 + 1)
    fake_cos.calls.clear()
    fake_cos.requests.clear()
    taken = claim(store, now=T0 + 61, payload={"owner": "new"})
    assert taken.acquired
    assert taken.record.jobs == {"transcode:0": "j1"}
    assert slept == [0.25]
    assert fake_cos.calls == [("PUT", MARKER), ("GET", MARKER), ("PUT", MARKER), ("GET", MARKER)]
    assert "x-cos-forbid-overwrite" not in fake_cos.requests[2].headers
    body = marker_body(fake_cos)
    assert body["owner"] != old_owner
    assert body["lease_until"] == T0 + 61 + 60


def test_a_taker_overwritten_during_the_settle_loses(cos_client: CiClient, fake_cos: FakeCos) -> None:
    rival = CosMarkerStore(cos_client, settle_seconds=0.01, sleep=lambda _: None)

    def rival_overwrites(_: float) -> None:
        # Another taker that read the same stale marker writes after us.
        body = marker_body(fake_cos)
        body.update(owner="rival", payload={"owner": "rival"})
        fake_cos.put(MARKER, json.dumps(body).encode(), "application/json")

    store = CosMarkerStore(cos_client, settle_seconds=0.25, sleep=rival_overwrites)
    claim(rival, payload={"owner": "crashed"})
    lost = claim(store, now=T0 + 61, payload={"owner": "me"})
    assert not lost.acquired
    assert lost.record.payload == {"owner": "rival"}


def test_a_taker_whose_read_to_write_span_exceeds_the_settle_backs_off(cos_client: CiClient, fake_cos: FakeCos) -> None:
    # Its write may have landed after a faster rival confirmed its own: it must not also own the key.
    slow = CosMarkerStore(cos_client, settle_seconds=0.25, sleep=lambda _: None, monotonic=StepClock(0.3))
    claim(slow, payload={"owner": "crashed"})
    backed_off = claim(slow, now=T0 + 61, payload={"owner": "slow"})
    assert not backed_off.acquired
    # Its marker stands with a fresh lease, so the key waits for that lease to lapse: a delay, no duplicate.
    assert backed_off.record.lease_until == T0 + 61 + 60
    assert not claim(slow, now=T0 + 62).acquired
    fast = CosMarkerStore(cos_client, settle_seconds=0.25, sleep=lambda _: None)
    assert claim(fast, now=T0 + 121 + 1).acquired


def test_a_marker_deleted_during_the_settle_is_claimed_again(cos_client: CiClient, fake_cos: FakeCos) -> None:
    calls = []

    def deleted(_: float) -> None:
        calls.append(1)
        fake_cos.objects.pop(MARKER)

    store = CosMarkerStore(cos_client, settle_seconds=0.25, sleep=deleted)
    claim(store)
    again = claim(store, now=T0 + 61, payload={"round": 2})
    assert again.acquired
    assert calls == [1]
    assert marker_body(fake_cos)["payload"] == {"round": 2}
    assert marker_body(fake_cos)["created_at"] == T0 + 61


def test_a_marker_that_keeps_vanishing_gives_up_with_a_transient_error(
    store: CosMarkerStore, fake_cos: FakeCos
) -> None:
    fake_cos.fail_next("PUT", status=409, code="FileAlreadyExists", times=5)
    with pytest.raises(ClaimContendedError) as caught:
        claim(store)
    assert caught.value.transient
    assert not fake_cos.objects


def test_records_pages_through_the_listing_and_ignores_foreign_objects(cos_client: CiClient, fake_cos: FakeCos) -> None:
    fake_cos.page_limit = 2
    store = CosMarkerStore(cos_client, settle_seconds=COS_SETTLE)
    keys = [f"hash:media-1250000000/in/{i}.mp4@e{i}" for i in range(5)]
    for key in keys:
        claim(store, key)
    store.complete(keys[0], {"hash:0": "j0"}, ttl_seconds=100, now=T0)
    fake_cos.put(PREFIX + "README.txt", b"not a marker")
    fake_cos.put(PREFIX + "nested/" + "0" * 64, b"{}")
    fake_cos.put("in/upload.mp4", b"an upload")
    assert sorted(r.key for r in store.records(now=T0)) == sorted(keys)
    assert [r.key for r in store.records(state=RecordState.COMPLETED, now=T0)] == [keys[0]]
    listings = [c for c in fake_cos.calls if c == ("GET", "/")]
    assert len(listings) >= 4  # 7 objects under the prefix, 2 per page


def test_a_page_is_one_listing_and_reads_at_most_limit_markers(store: CosMarkerStore, fake_cos: FakeCos) -> None:
    keys = [f"hash:media-1250000000/in/{i}.mp4@e{i}" for i in range(7)]
    for key in keys:
        claim(store, key)
    fake_cos.put(PREFIX + "README.txt", b"not a marker")  # listed, never read
    fake_cos.calls.clear()
    fake_cos.requests.clear()
    walked: list[str] = []
    cursor, pages = "", 0
    while True:
        start = len(fake_cos.calls)
        page = store.page(cursor=cursor, limit=3, now=T0)
        calls = fake_cos.calls[start:]
        listing = fake_cos.requests[start]
        assert calls[0] == ("GET", "/")
        assert listing.url.params["max-keys"] == "3"
        assert listing.url.params.get("marker", "") == cursor
        reads = calls[1:]
        assert len(reads) <= 3
        assert all(method == "GET" and name != "/" for method, name in reads)
        assert len(page.records) == len(reads)
        walked += [r.key for r in page.records]
        cursor, pages = page.cursor, pages + 1
        if not cursor:
            break
    assert sorted(walked) == sorted(keys)
    assert pages == 3  # 8 objects under the prefix, 3 per listing
    # Each marker was read once, over the whole walk.
    assert sorted(name for method, name in fake_cos.calls if name != "/") == sorted(store.marker(k) for k in keys)


def test_a_page_after_the_last_listing_page_reads_nothing(store: CosMarkerStore, fake_cos: FakeCos) -> None:
    claim(store, "only")
    fake_cos.calls.clear()
    assert store.page(cursor=store.marker("only"), now=T0) == RecordPage([], "")
    assert fake_cos.calls == [("GET", "/")]


def test_a_limit_over_the_listing_maximum_asks_for_the_maximum(store: CosMarkerStore, fake_cos: FakeCos) -> None:
    claim(store)
    fake_cos.requests.clear()
    assert [r.key for r in store.page(limit=5000, now=T0).records] == [KEY]
    assert fake_cos.requests[0].url.params["max-keys"] == "1000"


def test_a_cursor_outside_the_marker_prefix_is_refused(store: CosMarkerStore, fake_cos: FakeCos) -> None:
    with pytest.raises(ValueError, match="not a cursor"):
        store.page(cursor="in/upload.mp4", now=T0)
    assert fake_cos.calls == []


def test_an_unreadable_marker_is_skipped_by_the_ledger_walk_but_refused_by_get(
    store: CosMarkerStore, fake_cos: FakeCos
) -> None:
    claim(store, "good")
    fake_cos.put(marker_name(PREFIX, "bad"), b"{not json", "application/json")
    assert [r.key for r in store.records(now=T0)] == ["good"]
    assert [r.key for r in store.page(now=T0).records] == ["good"]
    assert store.purge_expired(now=T0 + 10_000) == 1
    with pytest.raises(DecodeError, match="is not a record"):
        store.get("bad", now=T0)


def test_a_marker_holding_another_key_is_refused(store: CosMarkerStore, fake_cos: FakeCos) -> None:
    claim(store, "other")
    fake_cos.put(MARKER, fake_cos.objects[marker_name(PREFIX, "other")].body)
    with pytest.raises(DecodeError, match="another key"):
        store.get(KEY, now=T0)


def test_purge_expired_deletes_expired_markers_in_one_multi_delete(store: CosMarkerStore, fake_cos: FakeCos) -> None:
    for i in range(3):
        claim(store, f"old-{i}", ttl=10)
    claim(store, "live")
    fake_cos.calls.clear()
    assert store.purge_expired(now=T0 + 10) == 3
    assert list(fake_cos.objects) == [marker_name(PREFIX, "live")]
    assert [c for c in fake_cos.calls if c[0] == "POST"] == [("POST", "/")]


def test_a_custom_prefix_names_the_markers(cos_client: CiClient, fake_cos: FakeCos) -> None:
    store = CosMarkerStore(cos_client, "markers/x/")
    claim(store)
    assert list(fake_cos.objects) == [marker_name("markers/x/", KEY)]
    assert [r.key for r in store.records(now=T0)] == [KEY]


@pytest.mark.parametrize(("prefix", "settle"), [("", 1.0), (PREFIX, 0.0), (PREFIX, -1.0)])
def test_bad_settings_are_refused(cos_client: CiClient, prefix: str, settle: float) -> None:
    with pytest.raises(ValueError, match=r"prefix|settle"):
        CosMarkerStore(cos_client, prefix, settle_seconds=settle)


def test_the_markers_of_a_page_are_read_concurrently_and_kept_in_listing_order() -> None:
    fake = FakeCos()
    lock = threading.Lock()
    in_flight = {"now": 0, "peak": 0}

    def slow_marker_reads(request: httpx.Request) -> httpx.Response:
        # Outside the fake's own lock: a GET of a marker takes a round trip, during which others may start.
        is_read = request.method == "GET" and request.url.path.startswith("/" + PREFIX)
        if is_read:
            with lock:
                in_flight["now"] += 1
                in_flight["peak"] = max(in_flight["peak"], in_flight["now"])
            time.sleep(0.05)
        try:
            return fake(request)
        finally:
            if is_read:
                with lock:
                    in_flight["now"] -= 1

    with respx.mock(assert_all_called=False) as router, CiClient(ENDPOINT, CREDS, retry=NO_WAIT) as client:
        router.route(url__startswith=COS + "/").mock(side_effect=slow_marker_reads)
        store = CosMarkerStore(client, settle_seconds=COS_SETTLE, read_concurrency=4)
        keys = [f"hash:media-1250000000/in/{i}.mp4@e{i}" for i in range(8)]
        for key in keys:
            claim(store, key)
        page = store.page(limit=8, now=T0)
    assert sorted(r.key for r in page.records) == sorted(keys)
    assert [store.marker(r.key) for r in page.records] == sorted(store.marker(k) for k in keys)
    assert 2 <= in_flight["peak"] <= 4  # overlapped, and never more than read_concurrency
    with pytest.raises(ValueError, match="read_concurrency"):
        CosMarkerStore(client, read_concurrency=0)
