"""The Redis store against the real server: key layout, native TTL, WATCH retries, prefixes with glob characters."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any, cast

import pytest
import redis

import ciflow.idempotency._redis as redis_backend
from ciflow.errors import DecodeError
from ciflow.idempotency import Claim, IdempotencyRecord, IdempotencyStore, RecordState, RedisStore
from ciflow.idempotency._records import record_to_dict

pytestmark = pytest.mark.redis

T0 = 1_700_000_000.0
KEY = "hash:media-1250000000/in/a.mp4@etag"


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


@pytest.fixture
def store(redis_server: redis.Redis, redis_prefix: str) -> RedisStore:
    return RedisStore(redis_server, prefix=redis_prefix)


def test_a_record_is_a_json_value_at_prefix_plus_key(
    store: RedisStore, redis_server: redis.Redis, redis_prefix: str
) -> None:
    claim(store, payload={"p": [1]})
    raw = redis_server.get(redis_prefix + KEY)
    data = json.loads(cast(bytes, raw))
    assert (data["key"], data["state"], data["payload"]) == (KEY, "in_progress", {"p": [1]})


def test_the_native_ttl_is_the_records_remaining_life(
    store: RedisStore, redis_server: redis.Redis, redis_prefix: str
) -> None:
    now = time.time()
    claim(store, now=now, ttl=100)
    assert 99_000 < redis_server.pttl(redis_prefix + KEY) <= 100_000
    store.record_jobs(KEY, {"a": "j"}, now=now + 40)
    assert 59_000 < redis_server.pttl(redis_prefix + KEY) <= 60_000
    store.complete(KEY, {"a": "j"}, ttl_seconds=500, now=now + 40)
    assert 499_000 < redis_server.pttl(redis_prefix + KEY) <= 500_000


def test_redis_drops_the_key_when_the_record_expires(
    store: RedisStore, redis_server: redis.Redis, redis_prefix: str
) -> None:
    claim(store, now=time.time(), ttl=0.05, lease=0.05)
    deadline = time.monotonic() + 2
    while redis_server.exists(redis_prefix + KEY) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not redis_server.exists(redis_prefix + KEY)


def test_a_write_between_watch_and_exec_makes_the_claim_start_over(
    store: RedisStore, redis_server: redis.Redis, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real: Callable[..., Claim] = cast(Any, redis_backend).decide_claim
    rounds = []

    def interfering(current: IdempotencyRecord | None, key: str, **kwargs: Any) -> Claim:
        rounds.append(current)
        if len(rounds) == 1:
            # Another client claims the key after our WATCH and read, before our EXEC.
            theirs = real(None, key, lease_seconds=60, ttl_seconds=3600, payload={"them": True}, now=T0).record
            redis_server.set(redis_prefix + key, json.dumps(record_to_dict(theirs)), ex=60)
        return real(current, key, **kwargs)

    monkeypatch.setattr(redis_backend, "decide_claim", interfering)
    result = claim(store, payload={"me": True})
    assert not result.acquired
    assert rounds[0] is None
    assert rounds[1] is not None
    assert result.record.payload == {"them": True}
    theirs = store.get(KEY, now=T0)
    assert theirs is not None
    assert theirs.payload == {"them": True}


def test_a_client_decoding_responses_works_too(redis_prefix: str) -> None:
    with redis.Redis(host="127.0.0.1", port=6379, decode_responses=True) as client:
        store = RedisStore(client, prefix=redis_prefix)
        claim(store, "视频")
        store.complete("视频", {"a": "j"}, ttl_seconds=10, now=T0)
        assert [r.key for r in store.records(state=RecordState.COMPLETED, now=T0)] == ["视频"]
        assert store.purge_expired(now=T0 + 10) == 1


def test_a_prefix_with_glob_characters_matches_only_itself(redis_server: redis.Redis, redis_prefix: str) -> None:
    odd = RedisStore(redis_server, prefix=redis_prefix + "[a]*?\\:")
    sibling = RedisStore(redis_server, prefix=redis_prefix + "a-x:")
    claim(odd, "mine")
    claim(sibling, "theirs")
    assert [r.key for r in odd.records(now=T0)] == ["mine"]
    assert [r.key for r in sibling.records(now=T0)] == ["theirs"]
    assert odd.purge_expired(now=T0 + 10_000) == 1
    assert sibling.get("theirs", now=T0) is not None


def test_records_walks_many_keys(store: RedisStore) -> None:
    for i in range(250):
        store.complete(f"k{i}", {"s": "j"}, ttl_seconds=100, now=T0)
    assert len(list(store.records(now=T0))) == 250
    assert store.purge_expired(now=T0 + 100) == 250


def test_the_page_cursor_is_scans_and_ends_when_scan_answers_zero(
    store: RedisStore, redis_server: redis.Redis, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(5):
        claim(store, f"k{i}")
    calls = []
    real_scan = redis_server.scan

    def scan(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return real_scan(**kwargs)

    monkeypatch.setattr(redis_server, "scan", scan)
    page = store.page(limit=2, now=T0)
    walked = [r.key for r in page.records]
    while page.cursor:
        assert int(page.cursor) > 0
        page = store.page(cursor=page.cursor, limit=2, now=T0)
        walked += [r.key for r in page.records]
    assert sorted(set(walked)) == [f"k{i}" for i in range(5)]
    assert calls[0]["cursor"] == 0
    assert all(call["count"] == 2 for call in calls)
    assert all(call["match"] == redis_prefix + "*" for call in calls)


@pytest.mark.parametrize("cursor", ["abc", "-1", "1.5", " 1", "0x10", str(2**64), "\u0661"])
def test_a_cursor_that_is_not_a_scan_cursor_is_refused(store: RedisStore, cursor: str) -> None:
    with pytest.raises(ValueError, match="not a Redis SCAN cursor"):
        store.page(cursor=cursor, now=T0)


def test_a_value_that_is_not_a_record_is_refused(
    store: RedisStore, redis_server: redis.Redis, redis_prefix: str
) -> None:
    redis_server.set(redis_prefix + KEY, b"[1, 2]")
    with pytest.raises(DecodeError):
        store.get(KEY, now=T0)


def test_an_empty_prefix_is_refused(redis_server: redis.Redis) -> None:
    with pytest.raises(ValueError, match="prefix"):
        RedisStore(redis_server, prefix="")
