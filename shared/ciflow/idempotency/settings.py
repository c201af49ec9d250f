"""Where ciflow's own records live, as settings every function shares (the idempotency store and its prefixes,
the dead-letter store), and ``store_for``: the store those settings ask for.

A public module rather than package exports: ``import ciflow.idempotency`` stays free of settings and backends.
The upload pipeline, the callback and the cleanup all build their stores here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from ..config import CoreSettings

if TYPE_CHECKING:
    from ..client import CiClient
    from ._store import IdempotencyStore

__all__ = ["IdempotencySettings", "store_for"]


class IdempotencySettings(CoreSettings):
    """Where ciflow's own records live: upload claims, callback dedupe, and results waiting to be redelivered."""

    idempotency_store: str = Field(
        default="cos", pattern="^(cos|sqlite|redis|memory)$", validation_alias="CIFLOW_IDEMPOTENCY_STORE"
    )
    idempotency_prefix: str = Field(default="ciflow/idempotency/", validation_alias="CIFLOW_IDEMPOTENCY_PREFIX")
    # Routed-result records (the callback's dedupe) under their own prefix, so the ledger walk of the upload
    # records never lists or reads them (COS markers only; other stores keep both, by key, in one place).
    dedupe_prefix: str = Field(default="ciflow/dedupe/", validation_alias="CIFLOW_DEDUPE_PREFIX")
    sqlite_path: str = Field(default="/tmp/ciflow-idempotency.sqlite3", validation_alias="CIFLOW_SQLITE_PATH")  # noqa: S108
    redis_url: str | None = Field(default=None, validation_alias="CIFLOW_REDIS_URL")
    idempotency_ttl_seconds: int = Field(default=7 * 86400, ge=60, validation_alias="CIFLOW_IDEMPOTENCY_TTL")
    # Dead letters: objects in the bucket by default (durable, seen by every function and instance); SQLite
    # only where its file lasts and is shared (local runs, a CFS mount) — SCF's /tmp is neither. Every function
    # knows where they are, so an upload handler never takes one for an upload.
    dead_letter_store: Literal["cos", "sqlite"] = Field(default="cos", validation_alias="CIFLOW_DEAD_LETTER_STORE")
    dead_letter_prefix: str = Field(
        default="ciflow/dead-letters/", pattern=r"^[^/].*[^/]/$|^[^/]+/$", validation_alias="CIFLOW_DEAD_LETTER_PREFIX"
    )

    @model_validator(mode="after")
    def _store_is_reachable(self) -> IdempotencySettings:
        if self.idempotency_store == "redis" and not self.redis_url:
            raise ValueError("CIFLOW_IDEMPOTENCY_STORE=redis needs CIFLOW_REDIS_URL")
        ledger, dedupe = self.idempotency_prefix, self.dedupe_prefix
        if self.idempotency_store == "cos" and (ledger.startswith(dedupe) or dedupe.startswith(ledger)):
            raise ValueError(
                f"CIFLOW_DEDUPE_PREFIX {dedupe!r} and CIFLOW_IDEMPOTENCY_PREFIX {ledger!r} must not contain each other"
            )
        return self

    @property
    def reserved_prefixes(self) -> dict[str, str]:
        """Prefixes of the function's bucket that hold ciflow's own records, each with what it holds."""
        reserved: dict[str, str] = {}
        if self.idempotency_store == "cos":
            reserved[self.idempotency_prefix] = "idempotency markers"
            reserved[self.dedupe_prefix] = "routed-result markers"
        if self.dead_letter_store == "cos":
            reserved[self.dead_letter_prefix] = "dead letters"
        return reserved


def store_for(
    settings: IdempotencySettings, client: CiClient, *, purpose: Literal["ledger", "dedupe"] = "ledger"
) -> IdempotencyStore:
    """COS marker objects by default (no extra infrastructure), else SQLite, Redis or memory; only the chosen
    backend is imported.

    ``purpose`` picks the marker prefix: the upload handlers' claims and ledger, or the routed-result records.
    """
    kind = settings.idempotency_store
    if kind == "memory":
        from ._memory import MemoryStore

        return MemoryStore()
    if kind == "sqlite":
        from ._sqlite import SqliteStore

        return SqliteStore(settings.sqlite_path)
    if kind == "redis":
        import redis  # optional dependency: only deployments that choose Redis ship it

        from ._redis import RedisStore

        assert settings.redis_url is not None  # settings validation guarantees it
        return RedisStore(redis.Redis.from_url(settings.redis_url))
    from ._cos import CosMarkerStore

    prefix = settings.dedupe_prefix if purpose == "dedupe" else settings.idempotency_prefix
    return CosMarkerStore(client, prefix=prefix)
