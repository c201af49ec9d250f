"""Build an idempotency store by name: ``memory``, ``sqlite``, ``cos`` or ``redis``."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ._store import IdempotencyStore

if TYPE_CHECKING:
    from redis import Redis

    from ..client import CiClient

__all__ = ["STORE_KINDS", "create_store"]

#: The backends ``create_store`` knows, by name.
STORE_KINDS = ("memory", "sqlite", "cos", "redis")


def create_store(
    kind: str,
    *,
    client: CiClient | None = None,
    path: str | os.PathLike[str] | None = None,
    redis: Redis | str | None = None,
    prefix: str | None = None,
) -> IdempotencyStore:
    """The backend called ``kind``, from the options it needs.

    - ``memory``: nothing.
    - ``sqlite``: ``path`` of the database file.
    - ``cos``: ``client`` (a ``CiClient`` of the bucket holding the markers); ``prefix`` of the marker names.
    - ``redis``: ``redis``, a ``redis.Redis`` client or a ``redis://`` URL; ``prefix`` of the keys.

    ``ValueError`` names an unknown kind or a missing option.
    """
    name = kind.strip().lower()
    if name == "memory":
        from ._memory import MemoryStore

        return MemoryStore()
    if name == "sqlite":
        if path is None:
            raise ValueError("the sqlite idempotency store needs path= (the database file)")
        from ._sqlite import SqliteStore

        return SqliteStore(path)
    if name == "cos":
        if client is None:
            raise ValueError("the cos idempotency store needs client= (a CiClient of the marker bucket)")
        from ._cos import CosMarkerStore

        return CosMarkerStore(client) if prefix is None else CosMarkerStore(client, prefix)
    if name == "redis":
        if redis is None:
            raise ValueError("the redis idempotency store needs redis= (a redis.Redis client or a redis:// URL)")
        from ._redis import RedisStore

        if isinstance(redis, str):
            import redis as redis_lib  # optional dependency: only deployments choosing Redis need it

            redis = redis_lib.Redis.from_url(redis)
        return RedisStore(redis) if prefix is None else RedisStore(redis, prefix)
    raise ValueError(f"unknown idempotency store {kind!r}: expected one of {', '.join(STORE_KINDS)}")
