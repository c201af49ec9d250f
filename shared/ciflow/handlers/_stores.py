"""The idempotency store a handler's settings ask for."""

from typing import Literal

from ..client import CiClient
from ..idempotency import CosMarkerStore, IdempotencyStore, MemoryStore, RedisStore, SqliteStore
from ._settings import IdempotencySettings

__all__ = ["store_for"]


def store_for(
    settings: IdempotencySettings, client: CiClient, *, purpose: Literal["ledger", "dedupe"] = "ledger"
) -> IdempotencyStore:
    """COS marker objects by default (no extra infrastructure), else SQLite, Redis or memory.

    ``purpose`` picks the marker prefix: the upload handlers' claims and ledger, or the routed-result records.
    """
    kind = settings.idempotency_store
    if kind == "memory":
        return MemoryStore()
    if kind == "sqlite":
        return SqliteStore(settings.sqlite_path)
    if kind == "redis":
        import redis  # optional dependency: only deployments that choose Redis ship it

        assert settings.redis_url is not None  # settings validation guarantees it
        return RedisStore(redis.Redis.from_url(settings.redis_url))
    prefix = settings.dedupe_prefix if purpose == "dedupe" else settings.idempotency_prefix
    return CosMarkerStore(client, prefix=prefix)
