"""The drill's idempotency store: Redis behind a fault proxy (the default) or COS marker objects in the
emulator's bucket (``--store cos``, whose marker writes the emulator fails); the functions' settings for it
and the live leases the drill waits out."""

import contextlib
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import redis

from ciflow.cleanup import RUN_LEASE
from ciflow.client import CiClient, Endpoint
from ciflow.idempotency import CosMarkerStore, IdempotencyRecord, RecordState, RedisStore

from .._demo import BUCKET, REGION, UPLOAD_RETRY
from ..emulator import DEFAULT_CREDENTIALS
from ._config import DrillConfig
from ._proxy import FaultProxy

__all__ = ["STORES", "redis_proxy", "store_env", "lease_wait"]

#: ``--store`` choices.
STORES = ("redis", "cos")
_PREFIXES = ("ciflow/idempotency/", "ciflow/dedupe/")  # the functions' defaults: upload claims, routing claims


def redis_proxy(config: DrillConfig) -> tuple[FaultProxy, str]:
    """Flush the drill's database and put a proxy in front of Redis; the URL the functions use."""
    target = urlsplit(config.redis_url)
    with redis.Redis.from_url(f"{config.redis_url}/{config.redis_db}") as direct:
        direct.flushdb()
    proxy = FaultProxy(target.hostname or "127.0.0.1", target.port or 6379, drop_rate=config.redis_drop_rate)
    port = proxy.start()
    return proxy, f"redis://127.0.0.1:{port}/{config.redis_db}?socket_timeout=2&socket_connect_timeout=2"


def store_env(redis_url: str | None) -> dict[str, str]:
    """The functions' store settings: Redis at ``redis_url``, or COS markers (their default prefixes)."""
    if redis_url is None:
        return {"CIFLOW_IDEMPOTENCY_STORE": "cos"}
    return {"CIFLOW_IDEMPOTENCY_STORE": "redis", "CIFLOW_REDIS_URL": redis_url}


@contextlib.contextmanager
def _records(config: DrillConfig, emulator_url: str, now: float) -> Iterator[list[IdempotencyRecord]]:
    """The live records, read past every proxy (the emulator's request faults still apply; retried)."""
    if config.store == "redis":
        with redis.Redis.from_url(f"{config.redis_url}/{config.redis_db}") as direct:
            yield list(RedisStore(direct).records(state=RecordState.IN_PROGRESS, now=now))
        return
    endpoint = Endpoint(REGION, BUCKET, scheme="http", override=emulator_url)
    with CiClient(endpoint, DEFAULT_CREDENTIALS, retry=UPLOAD_RETRY) as client:
        stores = [CosMarkerStore(client, prefix) for prefix in _PREFIXES]
        yield [record for store in stores for record in store.records(state=RecordState.IN_PROGRESS, now=now)]


def lease_wait(config: DrillConfig, emulator_url: str) -> float:
    """Seconds until the last live lease in the store lapses (0 when none is live): an upload claim or a
    result's routing claim whose owner failed; until then the cleanup leaves it to that owner, as it must."""
    now = time.time()
    with _records(config, emulator_url, now) as records:
        leases = [
            record.lease_until
            for record in records
            if record.key != RUN_LEASE and record.lease_until and not record.payload.get("given_up")
        ]
    return min(max(leases, default=now) - now + 0.5, config.timeout_s) if leases else 0.0
