"""Idempotency stores (at most one submission per object version, and its job ledger); backends load lazily."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from ._records import ClaimContendedError, RecordNotFoundError
from ._store import (
    PENDING_JOB,
    Claim,
    IdempotencyRecord,
    IdempotencyStore,
    PurgePage,
    RecordPage,
    RecordState,
    has_job,
)

if TYPE_CHECKING:
    from ._cos import CosMarkerStore, marker_name
    from ._factory import STORE_KINDS, create_store
    from ._memory import MemoryStore
    from ._redis import RedisStore
    from ._sightings import SIGHTING_PREFIX, record_sighting, sighted_job, sighting_key
    from ._sqlite import SqliteStore

__all__ = [
    "PENDING_JOB",
    "SIGHTING_PREFIX",
    "STORE_KINDS",
    "Claim",
    "ClaimContendedError",
    "CosMarkerStore",
    "IdempotencyRecord",
    "IdempotencyStore",
    "MemoryStore",
    "RecordNotFoundError",
    "PurgePage",
    "RecordPage",
    "RecordState",
    "RedisStore",
    "SqliteStore",
    "create_store",
    "has_job",
    "marker_name",
    "record_sighting",
    "sighted_job",
    "sighting_key",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "STORE_KINDS": "._factory",
        "CosMarkerStore": "._cos",
        "MemoryStore": "._memory",
        "RedisStore": "._redis",
        "SqliteStore": "._sqlite",
        "create_store": "._factory",
        "marker_name": "._cos",
        **dict.fromkeys(["SIGHTING_PREFIX", "record_sighting", "sighted_job", "sighting_key"], "._sightings"),
    },
)
