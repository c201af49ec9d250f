"""The SQLite idempotency store: one table, claims inside ``BEGIN IMMEDIATE`` so they are atomic across processes."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from ._records import annotated, completed, decide_claim, lease_ended, now_or_clock, page_limit, with_jobs
from ._store import Claim, IdempotencyRecord, PurgePage, RecordPage, RecordState

__all__ = ["SqliteStore"]

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency_records (
    key         TEXT PRIMARY KEY,
    state       TEXT NOT NULL,
    expires_at  REAL NOT NULL,
    lease_until REAL,
    jobs        TEXT NOT NULL DEFAULT '{}',
    payload     TEXT NOT NULL DEFAULT '{}',
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS idempotency_records_expires_at ON idempotency_records (expires_at);
"""

_COLUMNS = "key, state, expires_at, lease_until, jobs, payload, created_at, updated_at"
_SELECT = f"SELECT {_COLUMNS} FROM idempotency_records"  # noqa: S608 - constant text, no input
_UPSERT = f"INSERT OR REPLACE INTO idempotency_records ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
#: Rows read per query by ``records()``, so a large ledger is never held in memory at once.
_PAGE = 500

Row = tuple[str, str, float, float | None, str, str, float, float]


def _to_row(record: IdempotencyRecord) -> Row:
    return (
        record.key,
        record.state.value,
        record.expires_at,
        record.lease_until,
        json.dumps(record.jobs, ensure_ascii=False, sort_keys=True),
        json.dumps(record.payload, ensure_ascii=False, sort_keys=True),
        record.created_at,
        record.updated_at,
    )


def _from_row(row: Row) -> IdempotencyRecord:
    key, state, expires_at, lease_until, jobs, payload, created_at, updated_at = row
    return IdempotencyRecord(
        key=key,
        state=RecordState(state),
        expires_at=expires_at,
        lease_until=lease_until,
        jobs=json.loads(jobs),
        payload=json.loads(payload),
        created_at=created_at,
        updated_at=updated_at,
    )


class SqliteStore:
    """Records in one SQLite table (WAL mode); ``path`` may be shared by several processes.

    Every read-modify-write runs inside ``BEGIN IMMEDIATE``, which takes the database's write lock before
    reading, so two claimers — threads of this process or other processes — are serialised and exactly one
    acquires. One connection per store, used under a lock, makes the store safe to share between threads.
    ``timeout`` is how long a writer waits for another process's lock before ``sqlite3.OperationalError``.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 10.0) -> None:
        self.path = os.fspath(path)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)

    # -- plumbing -------------------------------------------------------------------------------------

    def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` in a ``BEGIN IMMEDIATE`` transaction: committed if it returns, rolled back if it raises."""
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

    def _live_rows(self, after: str | None, limit: int, at: float, state: RecordState | None = None) -> list[Row]:
        """Up to ``limit`` live rows in key order, after the key ``after`` (from the first row when None)."""
        # A plain range on the key (never ``? IS NULL OR key > ?``) lets SQLite seek in the primary key index
        # instead of sorting every live row for each page.
        where = ("key >= ''" if after is None else "key > ?") + " AND expires_at > ?"
        params: tuple[Any, ...] = (at,) if after is None else (after, at)
        if state is not None:
            where += " AND state = ?"
            params += (state.value,)
        with self._lock:
            rows: list[Row] = self._conn.execute(
                f"{_SELECT} WHERE {where} ORDER BY key LIMIT ?", (*params, limit)
            ).fetchall()
        return rows

    @staticmethod
    def _read(conn: sqlite3.Connection, key: str) -> IdempotencyRecord | None:
        row = conn.execute(f"{_SELECT} WHERE key = ?", (key,)).fetchone()
        return None if row is None else _from_row(row)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

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

        def work(conn: sqlite3.Connection) -> Claim:
            claim = decide_claim(
                self._read(conn, key),
                key,
                lease_seconds=lease_seconds,
                ttl_seconds=ttl_seconds,
                payload=payload,
                now=at,
            )
            if claim.acquired:
                conn.execute(_UPSERT, _to_row(claim.record))
            return claim

        return self._write(work)

    def record_jobs(self, key: str, jobs: Mapping[str, str], *, now: float | None = None) -> None:
        at = now_or_clock(now)
        self._write(lambda conn: conn.execute(_UPSERT, _to_row(with_jobs(self._read(conn, key), key, jobs, at))))

    def complete(self, key: str, jobs: Mapping[str, str], *, ttl_seconds: float, now: float | None = None) -> None:
        at = now_or_clock(now)
        self._write(
            lambda conn: conn.execute(
                _UPSERT, _to_row(completed(self._read(conn, key), key, jobs, ttl_seconds=ttl_seconds, now=at))
            )
        )

    def end_lease(self, key: str, *, now: float | None = None) -> None:
        at = now_or_clock(now)

        def work(conn: sqlite3.Connection) -> None:
            record = lease_ended(self._read(conn, key), at)
            if record is not None:
                conn.execute(_UPSERT, _to_row(record))

        self._write(work)

    def annotate(
        self, key: str, fields: Mapping[str, Any], *, end_lease: bool = False, now: float | None = None
    ) -> None:
        at = now_or_clock(now)
        self._write(
            lambda conn: conn.execute(
                _UPSERT, _to_row(annotated(self._read(conn, key), key, fields, end_lease=end_lease, now=at))
            )
        )

    def release(self, key: str) -> None:
        self._write(lambda conn: conn.execute("DELETE FROM idempotency_records WHERE key = ?", (key,)))

    def get(self, key: str, *, now: float | None = None) -> IdempotencyRecord | None:
        at = now_or_clock(now)
        with self._lock:
            row = self._conn.execute(f"{_SELECT} WHERE key = ? AND expires_at > ?", (key, at)).fetchone()
        return None if row is None else _from_row(row)

    def records(self, *, state: RecordState | None = None, now: float | None = None) -> Iterator[IdempotencyRecord]:
        at = now_or_clock(now)
        # Its own walk rather than ``page``'s: the state is filtered in SQL, and the first query starts before
        # every key (the empty one too), where a cursor, being a key, cannot.
        after: str | None = None
        while True:
            rows = self._live_rows(after, _PAGE, at, state)
            for row in rows:
                yield _from_row(row)
            if len(rows) < _PAGE:
                return
            after = rows[-1][0]

    def page(self, *, cursor: str = "", limit: int = 100, now: float | None = None) -> RecordPage:
        """Live records in key order after ``cursor`` (the last key of the previous page)."""
        at = now_or_clock(now)
        size = page_limit(limit)
        rows = self._live_rows(cursor, size + 1, at)  # one row more than the page says whether any remain
        return RecordPage([_from_row(row) for row in rows[:size]], rows[size - 1][0] if len(rows) > size else "")

    def purge_expired(self, *, now: float | None = None) -> int:
        at = now_or_clock(now)
        cursor = self._write(lambda conn: conn.execute("DELETE FROM idempotency_records WHERE expires_at <= ?", (at,)))
        return cursor.rowcount

    def purge_expired_page(self, *, cursor: str = "", limit: int = 1000, now: float | None = None) -> PurgePage:
        page_limit(limit)
        return PurgePage(self.purge_expired(now=now), "")  # one indexed DELETE: no reason to split it
