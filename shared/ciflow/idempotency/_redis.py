"""The Redis idempotency store: one JSON value per key, changed under WATCH/MULTI, with a native key TTL."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import DecodeError
from ._records import (
    ClaimContendedError,
    annotated,
    completed,
    decide_claim,
    lease_ended,
    now_or_clock,
    page_limit,
    record_from_dict,
    record_to_dict,
    sum_purged,
    walk_pages,
    with_jobs,
)
from ._store import Claim, IdempotencyRecord, PurgePage, RecordPage, RecordState

if TYPE_CHECKING:  # redis is an optional dependency: imported only where a RedisStore is used
    from redis import Redis
    from redis.client import Pipeline

__all__ = ["RedisStore"]

T = TypeVar("T")

#: Optimistic transactions retried this many times when another client changes the key in between.
_MAX_ROUNDS = 64
#: SCAN's COUNT (and so about the keys read per MGET) while ``records`` and ``purge_expired`` walk the store.
_PAGE = 500
#: A SCAN cursor: an unsigned 64-bit integer in decimal.
_CURSOR = re.compile("[0-9]{1,20}")
_MAX_CURSOR = 2**64 - 1


class _Delete:
    """The action that removes the key."""


_DELETE = _Delete()
#: What a transaction's decision does: write a record, delete the key, or leave it (None).
Action = IdempotencyRecord | _Delete | None


def _glob_escape(text: str) -> str:
    """``text`` as a literal in a Redis MATCH pattern."""
    return re.sub(r"([\\*?\[\]])", r"\\\1", text)


class RedisStore:
    """Records as JSON strings at ``prefix + key``.

    Every read-modify-write (``claim``'s take-over included) is an optimistic transaction: WATCH the key,
    read it, decide, and MULTI/EXEC the write; EXEC fails if any other client touched the key meanwhile, and
    the round starts over. So of two concurrent claimers exactly one acquires. Each write sets the key's
    native TTL to the record's remaining life (``expires_at - now``), so Redis drops records on its own;
    ``purge_expired`` only removes those the caller's clock sees as expired first.
    """

    def __init__(self, client: Redis, prefix: str = "ciflow:idem:") -> None:
        if not prefix:
            raise ValueError("the key prefix must not be empty")
        self.client = client
        self.prefix = prefix
        self._match = _glob_escape(prefix) + "*"

    # -- plumbing -------------------------------------------------------------------------------------

    def _key(self, key: str) -> str:
        return self.prefix + key

    @staticmethod
    def _decode(raw: bytes | str | None) -> IdempotencyRecord | None:
        if raw is None:
            return None
        try:
            return record_from_dict(json.loads(raw))
        except ValueError as exc:
            raise DecodeError(f"an idempotency value in Redis is not a record: {exc}") from exc

    def _transact(self, key: str, now: float, decide: Callable[[IdempotencyRecord | None], tuple[Action, T]]) -> T:
        """Apply ``decide`` to the current record atomically; return its result."""
        from redis.exceptions import WatchError

        name = self._key(key)
        pipe: Pipeline
        with self.client.pipeline(transaction=True) as pipe:
            for _ in range(_MAX_ROUNDS):
                try:
                    pipe.watch(name)  # type: ignore[no-untyped-call]  # untyped in redis-py
                    action, result = decide(self._decode(pipe.get(name)))
                    if action is None:
                        pipe.unwatch()
                        return result
                    pipe.multi()
                    if isinstance(action, _Delete):
                        pipe.delete(name)
                    else:
                        ttl_ms = max(1, math.ceil((action.expires_at - now) * 1000))
                        pipe.set(name, json.dumps(record_to_dict(action), ensure_ascii=False), px=ttl_ms)
                    pipe.execute()
                    return result
                except WatchError:
                    continue
        raise ClaimContendedError(f"{key!r} changed under {_MAX_ROUNDS} consecutive transactions")

    def _scan_page(self, cursor: str, count: int) -> RecordPage:
        """The records, expired ones included, of the keys that one SCAN from ``cursor`` finds, and SCAN's next
        cursor ("" when it answers 0: the keyspace is walked)."""
        if cursor and not (_CURSOR.fullmatch(cursor) and int(cursor) <= _MAX_CURSOR):
            raise ValueError(f"{cursor!r} is not a Redis SCAN cursor (an unsigned 64-bit integer in decimal)")
        following, names = self.client.scan(cursor=int(cursor or 0), match=self._match, count=count)
        # A key may expire or be released between the SCAN and the MGET: MGET answers None for it.
        values = self.client.mget(names) if names else []
        records = [record for record in map(self._decode, values) if record is not None]
        return RecordPage(records, str(following) if following else "")

    # -- the contract ---------------------------------------------------------------------------------

    def claim(
        self,
        key: str,
        *,
        lease_seconds: float,
        ttl_seconds: float,
        payload: Mapping[str, Any] | None = None,
        now: float | None = None,
    ) -> Claim:
        at = now_or_clock(now)

        def decide(current: IdempotencyRecord | None) -> tuple[Action, Claim]:
            claim = decide_claim(
                current, key, lease_seconds=lease_seconds, ttl_seconds=ttl_seconds, payload=payload, now=at
            )
            return (claim.record if claim.acquired else None), claim

        return self._transact(key, at, decide)

    def record_jobs(self, key: str, jobs: Mapping[str, str], *, now: float | None = None) -> None:
        at = now_or_clock(now)
        self._transact(key, at, lambda current: (with_jobs(current, key, jobs, at), None))

    def complete(self, key: str, jobs: Mapping[str, str], *, ttl_seconds: float, now: float | None = None) -> None:
        at = now_or_clock(now)
        self._transact(key, at, lambda current: (completed(current, key, jobs, ttl_seconds=ttl_seconds, now=at), None))

    def end_lease(self, key: str, *, now: float | None = None) -> None:
        at = now_or_clock(now)
        self._transact(key, at, lambda current: (lease_ended(current, at), None))

    def annotate(
        self, key: str, fields: Mapping[str, Any], *, end_lease: bool = False, now: float | None = None
    ) -> None:
        at = now_or_clock(now)
        self._transact(key, at, lambda current: (annotated(current, key, fields, end_lease=end_lease, now=at), None))

    def release(self, key: str) -> None:
        self.client.delete(self._key(key))

    def get(self, key: str, *, now: float | None = None) -> IdempotencyRecord | None:
        at = now_or_clock(now)
        record = self._decode(self.client.get(self._key(key)))
        return record if record is not None and not record.is_expired(at) else None

    def records(self, *, state: RecordState | None = None, now: float | None = None) -> Iterator[IdempotencyRecord]:
        at = now_or_clock(now)
        return walk_pages(lambda cursor: self.page(cursor=cursor, limit=_PAGE, now=at), state=state)

    def page(self, *, cursor: str = "", limit: int = 100, now: float | None = None) -> RecordPage:
        """Live records of the keys one SCAN step finds; the cursor is SCAN's, so ``limit`` is its COUNT hint
        and a record may come twice when Redis resizes its keyspace during the walk."""
        at = now_or_clock(now)
        records, following = self._scan_page(cursor, page_limit(limit))
        return RecordPage([record for record in records if not record.is_expired(at)], following)

    def purge_expired(self, *, now: float | None = None) -> int:
        at = now_or_clock(now)
        return sum_purged(lambda cursor: self.purge_expired_page(cursor=cursor, limit=_PAGE, now=at))

    def purge_expired_page(self, *, cursor: str = "", limit: int = 1000, now: float | None = None) -> PurgePage:
        at = now_or_clock(now)

        def decide(current: IdempotencyRecord | None) -> tuple[Action, bool]:
            # Re-checked inside the transaction: a take-over since the MGET keeps the key.
            expired = current is not None and current.is_expired(at)
            return (_DELETE if expired else None), expired

        records, following = self._scan_page(cursor, page_limit(limit))
        purged = sum(self._transact(record.key, at, decide) for record in records if record.is_expired(at))
        return PurgePage(purged, following)
