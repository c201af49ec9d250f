"""The local queue sink: results in one SQLite table (WAL), with visibility timeouts and acks for consumers."""

from __future__ import annotations

import builtins
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeVar

from ..client import Deadline
from ..results import JobResult
from ._sink import DeliveryError

__all__ = ["QueueMessage", "QueueState", "SqliteQueueSink"]

T = TypeVar("T")

QueueState = Literal["pending", "acked"]
StateFilter = Literal["pending", "acked", "all"]

#: The queue a result without a route lands in.
DEFAULT_QUEUE = "default"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS queue_messages (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    queue         TEXT NOT NULL,
    dedupe_key    TEXT NOT NULL,
    payload       TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'acked')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    created_at    REAL NOT NULL,
    visible_after REAL NOT NULL,
    acked_at      REAL,
    UNIQUE (queue, dedupe_key)
);
CREATE INDEX IF NOT EXISTS queue_messages_ready ON queue_messages (state, queue, visible_after, id);
"""

_COLUMNS = "id, queue, dedupe_key, payload, state, attempts, created_at, visible_after, acked_at"
_SELECT = f"SELECT {_COLUMNS} FROM queue_messages"  # noqa: S608 - constant text, no input


class SqliteDatabase:
    """One SQLite file in WAL mode behind one connection and a lock: safe to share between threads, and between
    processes through SQLite's own locking. Writes run in ``BEGIN IMMEDIATE`` transactions, which take the write
    lock before reading, so read-modify-write sequences (receiving, redriving) are atomic across processes.
    ``synchronous=FULL``: a committed write survives a power cut, which is what "durably accepted" means here.
    """

    def __init__(self, path: str | os.PathLike[str], schema: str, *, timeout: float = 10.0) -> None:
        self.path = os.fspath(path)
        self.timeout = timeout
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.executescript(schema)
        except sqlite3.Error:
            self._conn.close()
            raise

    def write(self, work: Callable[[sqlite3.Connection], T], *, deadline: Deadline | None = None) -> T:
        """Run ``work`` in one ``BEGIN IMMEDIATE`` transaction: committed if it returns, rolled back if it raises."""
        with self._lock:
            conn = self._conn
            if deadline is not None:  # wait for another writer's lock no longer than the deadline allows
                conn.execute(f"PRAGMA busy_timeout = {int(min(self.timeout, deadline.remaining()) * 1000)}")
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = work(conn)
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            finally:
                if deadline is not None:
                    conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            return result

    def read(self, sql: str, params: Sequence[Any] = ()) -> builtins.list[Any]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._conn.close()


@dataclass(frozen=True)
class QueueMessage:
    """One queued result. ``attempts`` counts receives; a pending message is invisible until ``visible_after``."""

    id: int
    queue: str
    dedupe_key: str
    payload: dict[str, Any]
    state: QueueState
    attempts: int
    created_at: float
    visible_after: float
    acked_at: float | None

    def result(self) -> JobResult:
        return JobResult.model_validate(self.payload)


def _message(row: Sequence[Any]) -> QueueMessage:
    id_, queue, dedupe_key, payload, state, attempts, created_at, visible_after, acked_at = row
    return QueueMessage(
        id_, queue, dedupe_key, json.loads(payload), state, attempts, created_at, visible_after, acked_at
    )


def _where(state: StateFilter, queue: str | None) -> tuple[str, builtins.list[Any]]:
    if state not in ("pending", "acked", "all"):
        raise ValueError(f"state must be pending, acked or all, not {state!r}")
    clauses: builtins.list[str] = []
    params: builtins.list[Any] = []
    if state != "all":
        clauses.append("state = ?")
        params.append(state)
    if queue is not None:
        clauses.append("queue = ?")
        params.append(queue)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


class SqliteQueueSink:
    """The embedded default destination: a durable queue in one SQLite file (table ``queue_messages``).

    ``deliver`` commits the result (queue = its route, or ``default``) before returning; a second delivery of
    the same ``dedupe_key`` to the same queue is a no-op while the first message exists (pending or acked —
    purging acked messages forgets them). Consumers ``receive`` a batch, which hides those messages for
    ``visibility_timeout`` seconds, then ``ack`` each one processed; one not acked in time is received again.
    Safe across threads (one connection under a lock) and processes (SQLite locking, ``BEGIN IMMEDIATE``):
    no two consumers receive the same message within its visibility timeout.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        name: str = "local-queue",
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self._clock = clock
        self._db = SqliteDatabase(path, _SCHEMA, timeout=timeout)
        self.path = self._db.path

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SqliteQueueSink:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- producer side --------------------------------------------------------------------------------

    def enqueue(self, result: JobResult, *, deadline: Deadline | None = None) -> tuple[int, bool]:
        """Store ``result``; its message id and whether it was new (False: a duplicate, nothing written)."""
        payload = json.dumps(result.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)
        queue = result.route or DEFAULT_QUEUE
        key = result.dedupe_key
        now = self._clock()

        def work(conn: sqlite3.Connection) -> tuple[int, bool]:
            cursor = conn.execute(
                "INSERT INTO queue_messages (queue, dedupe_key, payload, state, attempts, created_at, visible_after)"
                " VALUES (?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT (queue, dedupe_key) DO NOTHING",
                (queue, key, payload, now, now),
            )
            if cursor.rowcount == 1 and cursor.lastrowid is not None:
                return cursor.lastrowid, True
            row = conn.execute("SELECT id FROM queue_messages WHERE queue = ? AND dedupe_key = ?", (queue, key))
            return int(row.fetchone()[0]), False

        return self._db.write(work, deadline=deadline)

    def deliver(self, result: JobResult, *, deadline: Deadline | None = None) -> None:
        if deadline is not None and deadline.expired:
            raise DeliveryError(self.name, "deadline passed before the write", transient=True)
        try:
            self.enqueue(result, deadline=deadline)
        except sqlite3.OperationalError as exc:  # locked, busy, disk full, I/O: may pass
            raise DeliveryError(self.name, f"{self.path}: {exc}", transient=True) from exc
        except sqlite3.Error as exc:  # corrupt file, schema mismatch: needs a person
            raise DeliveryError(self.name, f"{self.path}: {exc}", transient=False) from exc

    # -- consumer side --------------------------------------------------------------------------------

    def receive(
        self, limit: int = 10, visibility_timeout: float = 30.0, *, queue: str | None = None
    ) -> builtins.list[QueueMessage]:
        """Up to ``limit`` visible pending messages, oldest first, hidden from other receivers for
        ``visibility_timeout`` seconds (their ``attempts`` incremented)."""
        if limit < 1:
            return []

        def work(conn: sqlite3.Connection) -> builtins.list[QueueMessage]:
            now = self._clock()
            query = f"{_SELECT} WHERE state = 'pending' AND visible_after <= ?"
            params: builtins.list[Any] = [now]
            if queue is not None:
                query += " AND queue = ?"
                params.append(queue)
            rows = conn.execute(f"{query} ORDER BY id LIMIT ?", (*params, limit)).fetchall()
            hidden_until = now + visibility_timeout
            conn.executemany(
                "UPDATE queue_messages SET attempts = attempts + 1, visible_after = ? WHERE id = ?",
                [(hidden_until, row[0]) for row in rows],
            )
            return [
                replace(message, attempts=message.attempts + 1, visible_after=hidden_until)
                for message in map(_message, rows)
            ]

        return self._db.write(work)

    def ack(self, message_id: int) -> bool:
        """Mark a pending message processed; False when it is unknown or already acked."""
        now = self._clock()
        cursor = self._db.write(
            lambda conn: conn.execute(
                "UPDATE queue_messages SET state = 'acked', acked_at = ? WHERE id = ? AND state = 'pending'",
                (now, message_id),
            )
        )
        return cursor.rowcount == 1

    def release(self, message_id: int, *, delay: float = 0.0) -> bool:
        """Give a received message back (visible again after ``delay`` seconds); False unless it is pending."""
        visible = self._clock() + delay
        cursor = self._db.write(
            lambda conn: conn.execute(
                "UPDATE queue_messages SET visible_after = ? WHERE id = ? AND state = 'pending'",
                (visible, message_id),
            )
        )
        return cursor.rowcount == 1

    def get(self, message_id: int) -> QueueMessage | None:
        rows = self._db.read(f"{_SELECT} WHERE id = ?", (message_id,))
        return _message(rows[0]) if rows else None

    def list(
        self, state: StateFilter = "pending", *, limit: int = 100, queue: str | None = None
    ) -> builtins.list[QueueMessage]:
        """Messages in ``state`` (``all`` for both), oldest first; visibility is ignored (in-flight ones too)."""
        where, params = _where(state, queue)
        return [_message(row) for row in self._db.read(f"{_SELECT}{where} ORDER BY id LIMIT ?", (*params, limit))]

    def count(self, state: StateFilter = "pending", *, queue: str | None = None) -> int:
        where, params = _where(state, queue)
        return int(self._db.read(f"SELECT COUNT(*) FROM queue_messages{where}", params)[0][0])  # noqa: S608

    def purge(self, state: StateFilter = "acked", *, older_than: float | None = None, queue: str | None = None) -> int:
        """Delete messages in ``state`` (default: acked ones), optionally only those created more than
        ``older_than`` seconds ago; the number deleted. Purged dedupe keys are forgotten."""
        where, params = _where(state, queue)
        if older_than is not None:
            where += (" AND " if where else " WHERE ") + "created_at <= ?"
            params.append(self._clock() - older_than)
        cursor = self._db.write(lambda conn: conn.execute(f"DELETE FROM queue_messages{where}", params))  # noqa: S608
        return int(cursor.rowcount)
