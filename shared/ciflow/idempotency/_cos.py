"""The COS marker idempotency store: one small JSON object per key, created with ``x-cos-forbid-overwrite``."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

from .. import operations as ops
from ..client import CiClient
from ..errors import ConflictError, DecodeError, NotFoundError
from ._records import (
    ClaimContendedError,
    annotated,
    completed,
    copy_record,
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

__all__ = ["CosMarkerStore", "marker_name"]

#: Rounds of create / read / take over before ``claim`` gives up under constant churn.
_MAX_ROUNDS = 5
_FORMAT = 1
#: Listing entries per page of ``records`` and ``purge_expired``: COS's most per listing request (``max-keys``).
_LISTING_PAGE = 1000
#: Held claims kept before those whose lease is over are pruned (an owner that neither completed nor failed).
_HELD_PRUNE_AT = 1024

#: ``change(current record or None) -> record to write, or None to write nothing``: one of ``_records``' rules.
Change = Callable[[IdempotencyRecord | None], IdempotencyRecord | None]


class _Held(NamedTuple):
    """A claim this store acquired: the record as last written, and the owner token written with it."""

    record: IdempotencyRecord
    token: str


def marker_name(prefix: str, key: str) -> str:
    """The marker object of ``key``: ``prefix`` + the SHA-256 of the key in hex (the key itself is inside)."""
    return prefix + hashlib.sha256(key.encode("utf-8")).hexdigest()


class CosMarkerStore:
    """Records as JSON marker objects under ``prefix`` in the client's bucket (the cloud default).

    Claiming a free key is one PUT with ``x-cos-forbid-overwrite: true``: COS lets exactly one such PUT create
    the object and answers 409 ``FileAlreadyExists`` to every other, so the first claim of a key is atomic with
    no infrastructure beyond the bucket.

    Taking over a marker (expired, or in progress with a lapsed lease) cannot be atomic: COS has no
    compare-and-swap for an overwrite. Two invocations may both read the stale marker and both overwrite it.
    The race is bounded like this: each taker writes the marker with its own random ``owner`` token, waits
    ``settle_seconds``, reads the marker back, and owns the key only if

    1. its token is still there (a later writer's overwrite made it the loser), and
    2. no more than ``settle_seconds`` passed between the start of the read it decided on and the end of its
       own PUT (measured on its monotonic clock).

    Two winners would need taker B to overwrite A's marker after A read it back; A read it back at least
    ``settle_seconds`` after A's write, and B decided on a read made before A's write (a later read would show
    A's fresh lease), so B's read-to-write span exceeds ``settle_seconds`` and rule 2 makes B back off. A loser
    returns ``acquired=False`` and the record it read back; if every taker lost, the last one's lease must
    lapse before the key is taken over again — a delay, never a duplicate submission.

    What is not covered: a marker deleted (``release``, ``purge_expired``) between a taker's read and its
    write, and re-created in that gap by a fresh claim, which does not wait. Releasing and purging only touch
    records nobody should be working on, so this needs three invocations of the same upload inside one
    read-to-write span (tens of milliseconds).

    After ``claim``, the owner is the only writer of its marker while its lease lasts: claimers back off from a
    live lease, and the cleanup writes only completed records or lapsed leases. So the store remembers the
    claims it acquired (the record and token it wrote) and, while such a lease has more than
    ``lease_margin_seconds`` left by the caller's ``now``, ``record_jobs``, ``complete``, ``annotate`` and
    ``end_lease`` write the owner's next record in one PUT, without reading the marker first. The margin covers
    clock skew between invocations and a PUT still in flight; an upload function's lease outlasts its time
    limit by 5 s, so its writes land well inside it. Any other write (no held claim, a lease about to lapse, a
    write that failed and may or may not have landed) reads the marker and writes it back: two round trips.
    A blind write keeps nothing another writer put in the marker meanwhile; while the lease lives there is none
    (a former owner still writing past its lapsed lease would have outlived its own time limit). COS has no
    conditional overwrite to make these writes compare-and-swap: it documents ``If-Match`` for reads only, and
    ``x-cos-forbid-overwrite`` refuses any existing object.

    ``settle_seconds`` must exceed a GET plus a PUT; it is only paid when a stale marker is taken over.
    """

    def __init__(
        self,
        client: CiClient,
        prefix: str = "ciflow/idempotency/",
        *,
        settle_seconds: float = 1.0,
        read_concurrency: int = 8,
        lease_margin_seconds: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not prefix:
            raise ValueError("the marker prefix must not be empty (markers would mix with uploads)")
        if settle_seconds <= 0:
            raise ValueError(f"settle_seconds must be positive, got {settle_seconds!r}")
        if read_concurrency < 1:
            raise ValueError(f"read_concurrency must be at least 1, got {read_concurrency!r}")
        if lease_margin_seconds < 0:
            raise ValueError(f"lease_margin_seconds must not be negative, got {lease_margin_seconds!r}")
        self.client = client
        self.prefix = prefix
        self.settle_seconds = settle_seconds
        self.read_concurrency = read_concurrency
        self.lease_margin_seconds = lease_margin_seconds
        self._held: dict[str, _Held] = {}
        self._held_lock = threading.Lock()
        self._sleep = sleep
        self._monotonic = monotonic
        self._marker_pattern = re.compile(re.escape(prefix) + "[0-9a-f]{64}")

    # -- markers --------------------------------------------------------------------------------------

    def marker(self, key: str) -> str:
        """The object name of ``key``'s marker."""
        return marker_name(self.prefix, key)

    def _read_marker(self, name: str) -> tuple[IdempotencyRecord, str] | None:
        """(record, owner token) of a marker object, or None if there is none."""
        try:
            content = self.client.send(ops.get_object(name)).content
        except NotFoundError:
            return None
        try:
            data = json.loads(content)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            record = record_from_dict(data)
        except ValueError as exc:
            raise DecodeError(f"idempotency marker {name!r} is not a record: {exc}") from exc
        if marker_name(self.prefix, record.key) != name:
            raise DecodeError(f"idempotency marker {name!r} holds the record of another key {record.key!r}")
        return record, str(data.get("owner") or "")

    def _read(self, key: str) -> tuple[IdempotencyRecord, str] | None:
        return self._read_marker(self.marker(key))

    def _write(self, record: IdempotencyRecord, owner: str, *, create: bool) -> None:
        body = json.dumps(
            {"format": _FORMAT, "owner": owner, **record_to_dict(record)}, ensure_ascii=False, sort_keys=True
        ).encode("utf-8")
        self.client.send(
            ops.put_object(self.marker(record.key), body, content_type="application/json", forbid_overwrite=create)
        )

    def _listed_record(self, name: str) -> IdempotencyRecord | None:
        """The record of a listed marker (None if it vanished since the listing or cannot be read)."""
        try:
            found = self._read_marker(name)
        except DecodeError as exc:
            # One damaged marker must not stop the cleanup's walk of the ledger; say so and go on.
            import structlog

            structlog.get_logger("ciflow.idempotency").warning("unreadable idempotency marker", error=str(exc))
            return None
        return found[0] if found else None

    def _read_listed(self, names: list[str]) -> list[IdempotencyRecord | None]:
        """The records of listed markers, in listing order; read ``read_concurrency`` at a time because a walk
        of the ledger is one GET per marker and each GET is a round trip."""
        workers = min(self.read_concurrency, len(names))
        if workers <= 1:
            return [self._listed_record(name) for name in names]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ciflow-markers") as pool:
            return list(pool.map(self._listed_record, names))

    def _listing_page(self, cursor: str, limit: int) -> RecordPage:
        """The records of the markers in one listing page of ``limit`` entries after the object ``cursor``,
        expired ones included: one listing request and at most ``limit`` GETs."""
        if cursor and not cursor.startswith(self.prefix):
            raise ValueError(f"{cursor!r} is not a cursor of the markers under {self.prefix!r}")
        # COS lists at most 1000 entries per request; a larger limit gets a page of 1000 (fewer is allowed).
        max_keys = min(limit, _LISTING_PAGE)
        listing = self.client.send(ops.list_objects(self.prefix, marker=cursor, max_keys=max_keys))
        names = [item.key for item in listing.contents if self._marker_pattern.fullmatch(item.key)]
        records = [record for record in self._read_listed(names) if record is not None]
        if not listing.is_truncated:
            return RecordPage(records, "")
        # Continued as ``list_objects`` continues a listing: from NextMarker, or from the last key listed when a
        # truncated listing leaves NextMarker out (S3-style listings send it only with a delimiter).
        after = listing.next_marker or (listing.contents[-1].key if listing.contents else "")
        return RecordPage(records, after)

    # -- held claims ----------------------------------------------------------------------------------

    def _hold(self, record: IdempotencyRecord, token: str, at: float) -> None:
        with self._held_lock:
            if len(self._held) >= _HELD_PRUNE_AT:
                for key in [key for key, held in self._held.items() if (held.record.lease_until or 0.0) <= at]:
                    del self._held[key]
            self._held[record.key] = _Held(copy_record(record), token)

    def _forget(self, key: str, *, unless_token: str | None = None) -> None:
        """Stop writing ``key`` blind (unless the marker still bears ``unless_token``, the held claim's own)."""
        with self._held_lock:
            held = self._held.get(key)
            if held is not None and held.token != unless_token:
                del self._held[key]

    def _blind(self, record: IdempotencyRecord, at: float) -> bool:
        """True while a held record's lease has more than the margin left at ``at``: it may be written blind."""
        lease = record.lease_until
        return record.state is RecordState.IN_PROGRESS and lease is not None and at + self.lease_margin_seconds < lease

    def _update(self, key: str, change: Change, at: float) -> None:
        """Write ``change`` of the record: from the held claim in one PUT while its lease is safely this owner's,
        else from the marker read back. The claim stays held while the new record keeps such a lease and the
        PUT surely landed: after a failed PUT (it may or may not have), the next write reads the marker again."""
        with self._held_lock:
            held = self._held.get(key)
        if held is not None and self._blind(held.record, at):
            record, token = change(held.record), held.token
        else:
            held, current = None, self._read(key)
            record, token = change(current[0] if current else None), current[1] if current else ""
        if record is None:
            self._forget(key)
            return
        try:
            self._write(record, token, create=False)
        except BaseException:
            self._forget(key)
            raise
        if held is not None and self._blind(record, at):
            self._hold(record, token, at)
        else:
            self._forget(key)

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
        token = uuid.uuid4().hex
        seen: IdempotencyRecord | None = None
        for _ in range(_MAX_ROUNDS):
            fresh = decide_claim(
                None, key, lease_seconds=lease_seconds, ttl_seconds=ttl_seconds, payload=payload, now=at
            )
            try:
                self._write(fresh.record, token, create=True)
            except ConflictError:
                pass
            else:
                return self._acquired(fresh.record, token, at)
            started = self._monotonic()
            current = self._read(key)
            if current is None:
                continue  # released or purged since our PUT: try to create it again
            seen, owner = current
            if owner == token:
                return self._acquired(seen, token, at)  # our create, whose answer was lost and retried
            decision = decide_claim(
                seen, key, lease_seconds=lease_seconds, ttl_seconds=ttl_seconds, payload=payload, now=at
            )
            if not decision.acquired:
                self._forget(key, unless_token=owner)
                return decision
            self._write(decision.record, token, create=False)
            span = self._monotonic() - started
            self._sleep(self.settle_seconds)
            after = self._read(key)
            if after is None:
                continue
            seen, owner = after
            if owner == token and span < self.settle_seconds:
                return self._acquired(seen, token, at)
            self._forget(key, unless_token=owner)
            return Claim(acquired=False, record=seen)
        if seen is not None:
            return Claim(acquired=False, record=seen)
        raise ClaimContendedError(f"the marker of {key!r} kept changing during {_MAX_ROUNDS} claim rounds")

    def _acquired(self, record: IdempotencyRecord, token: str, at: float) -> Claim:
        self._hold(record, token, at)
        return Claim(acquired=True, record=record)

    def record_jobs(self, key: str, jobs: Mapping[str, str], *, now: float | None = None) -> None:
        at = now_or_clock(now)
        self._update(key, lambda current: with_jobs(current, key, jobs, at), at)

    def complete(self, key: str, jobs: Mapping[str, str], *, ttl_seconds: float, now: float | None = None) -> None:
        at = now_or_clock(now)
        self._update(key, lambda current: completed(current, key, jobs, ttl_seconds=ttl_seconds, now=at), at)

    def end_lease(self, key: str, *, now: float | None = None) -> None:
        at = now_or_clock(now)
        self._update(key, lambda current: lease_ended(current, at), at)

    def annotate(
        self, key: str, fields: Mapping[str, Any], *, end_lease: bool = False, now: float | None = None
    ) -> None:
        at = now_or_clock(now)
        self._update(key, lambda current: annotated(current, key, fields, end_lease=end_lease, now=at), at)

    def release(self, key: str) -> None:
        self._forget(key)
        self.client.send(ops.delete_object(self.marker(key)))

    def get(self, key: str, *, now: float | None = None) -> IdempotencyRecord | None:
        at = now_or_clock(now)
        current = self._read(key)
        return current[0] if current is not None and not current[0].is_expired(at) else None

    def records(self, *, state: RecordState | None = None, now: float | None = None) -> Iterator[IdempotencyRecord]:
        at = now_or_clock(now)
        return walk_pages(lambda cursor: self.page(cursor=cursor, limit=_LISTING_PAGE, now=at), state=state)

    def page(self, *, cursor: str = "", limit: int = 100, now: float | None = None) -> RecordPage:
        """Live records of the markers in one listing page after ``cursor`` (a marker's object name), in name
        order; only the markers of that page are read, so a page costs one listing and at most ``limit`` GETs."""
        at = now_or_clock(now)
        records, following = self._listing_page(cursor, page_limit(limit))
        return RecordPage([record for record in records if not record.is_expired(at)], following)

    def purge_expired(self, *, now: float | None = None) -> int:
        at = now_or_clock(now)
        return sum_purged(lambda cursor: self.purge_expired_page(cursor=cursor, limit=_LISTING_PAGE, now=at))

    def purge_expired_page(self, *, cursor: str = "", limit: int = 1000, now: float | None = None) -> PurgePage:
        """Delete the expired markers of one listing page: one listing, its markers read, one multi-delete."""
        at = now_or_clock(now)
        records, following = self._listing_page(cursor, page_limit(limit))
        expired = [self.marker(record.key) for record in records if record.is_expired(at)]
        purged = 0
        for start in range(0, len(expired), ops.MAX_DELETE_KEYS):
            batch = expired[start : start + ops.MAX_DELETE_KEYS]
            result = self.client.send(ops.delete_objects(batch, quiet=True))
            purged += len(batch) - len(result.error)
        return PurgePage(purged, following)
