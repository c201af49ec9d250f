"""Every idempotency backend behind one fixture: memory, SQLite, COS markers over a fake bucket, real Redis."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest
import respx

from ciflow.client import CiClient
from ciflow.idempotency import CosMarkerStore, IdempotencyStore, MemoryStore, RedisStore, SqliteStore
from tests.functional.conftest import COS, CREDS, ENDPOINT, NO_WAIT
from tests.support.fake_cos import FakeCos

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
#: Take-overs of COS markers wait this long before the read-back (the fake answers in ~1 ms; generous for loaded CI).
COS_SETTLE = 0.5

if TYPE_CHECKING:
    import redis


#: A store factory: each call gives another handle on the same storage (another connection, client…).
StoreFactory = Callable[[], IdempotencyStore]


@pytest.fixture(scope="session")
def redis_server() -> Iterator[redis.Redis]:
    """The Redis server CI starts; unreachable is a failure, never a skip."""
    import redis

    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis on {REDIS_HOST}:{REDIS_PORT} is unreachable ({exc}); CI starts it (.ci/run)")
    yield client
    client.close()


@pytest.fixture
def redis_prefix(redis_server: redis.Redis) -> Iterator[str]:
    """A key prefix of this test only; its keys are deleted afterwards."""
    prefix = f"ciflow:test:{uuid.uuid4().hex}:"
    yield prefix
    keys = list(redis_server.scan_iter(match=prefix + "*", count=500))
    if keys:
        redis_server.delete(*keys)


@pytest.fixture
def fake_cos() -> Iterator[FakeCos]:
    fake = FakeCos()
    with respx.mock(assert_all_called=False) as router:
        fake.mount(router, COS)
        yield fake


@pytest.fixture
def cos_client(fake_cos: FakeCos) -> Iterator[CiClient]:
    with CiClient(ENDPOINT, CREDS, retry=NO_WAIT) as client:
        yield client


def _memory(request: pytest.FixtureRequest) -> StoreFactory:
    store = MemoryStore()
    return lambda: store


def _sqlite(request: pytest.FixtureRequest) -> StoreFactory:
    path = request.getfixturevalue("tmp_path") / "idempotency.sqlite3"
    opened: list[SqliteStore] = []

    def make() -> SqliteStore:
        opened.append(SqliteStore(path))
        return opened[-1]

    def close_all() -> None:
        for store in opened:
            store.close()

    request.addfinalizer(close_all)
    return make


def _cos(request: pytest.FixtureRequest) -> StoreFactory:
    client = request.getfixturevalue("cos_client")
    return lambda: CosMarkerStore(client, settle_seconds=COS_SETTLE)


def _redis(request: pytest.FixtureRequest) -> StoreFactory:
    import redis

    prefix = request.getfixturevalue("redis_prefix")
    clients: list[redis.Redis] = []

    def make() -> RedisStore:
        clients.append(redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_timeout=5))
        return RedisStore(clients[-1], prefix=prefix)

    def close_all() -> None:
        for client in clients:
            client.close()

    request.addfinalizer(close_all)
    return make


BACKENDS = {"memory": _memory, "sqlite": _sqlite, "cos": _cos, "redis": _redis}


@pytest.fixture(params=["memory", "sqlite", "cos", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_factory(request: pytest.FixtureRequest, backend: str) -> StoreFactory:
    """Handles on one fresh storage of the backend under test."""
    return BACKENDS[backend](request)


@pytest.fixture
def store(store_factory: StoreFactory) -> IdempotencyStore:
    return store_factory()
