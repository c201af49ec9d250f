"""Dead letters: results a sink could not take, kept in SQLite with why, and redriven to that sink later."""

from __future__ import annotations

import builtins
import json
import os
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from pydantic import ValidationError

from ..client import Deadline
from ..errors import CiflowError
from ..logging import get_logger
from ..results import JobResult
from ._sink import DeliveryError, Sink
from ._sqlite_queue import SqliteDatabase

__all__ = [
    "DeadLetter",
    "DeadLetterQueue",
    "DeadLetterSink",
    "DeadLetterStore",
    "LetterId",
    "RedriveFailure",
    "RedriveReport",
    "deliver_letter",
    "redrive_targets",
]

#: A dead letter's id: the SQLite row id, or the COS store's object name below its prefix.
LetterId = int | str

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dead_letters (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    sink            TEXT NOT NULL,
    dedupe_key      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    reason          TEXT NOT NULL,
    transient       INTEGER NOT NULL,
    attempts        INTEGER NOT NULL,
    first_failed_at REAL NOT NULL,
    last_failed_at  REAL NOT NULL,
    leased_until    REAL,
    UNIQUE (sink, dedupe_key)
);
CREATE INDEX IF NOT EXISTS dead_letters_next ON dead_letters (sink, last_failed_at, id);
"""

_COLUMNS = "id, sink, dedupe_key, payload, reason, transient, attempts, first_failed_at, last_failed_at"
_SELECT = f"SELECT {_COLUMNS} FROM dead_letters"  # noqa: S608 - constant text, no input
#: How long a redrive run holds the letters it took; only matters if the run dies before releasing them.
DEFAULT_LEASE_SECONDS = 300.0


@dataclass(frozen=True)
class DeadLetter:
    """A result ``sink`` refused: ``attempts`` failed deliveries (each one the sink's own retries), the last
    failure's ``reason`` and whether it was ``transient``."""

    id: LetterId
    sink: str
    dedupe_key: str
    payload: dict[str, Any]
    reason: str
    transient: bool
    attempts: int
    first_failed_at: float
    last_failed_at: float

    def result(self) -> JobResult:
        return JobResult.model_validate(self.payload)


@dataclass(frozen=True)
class RedriveFailure:
    id: LetterId
    sink: str
    reason: str
    transient: bool


@dataclass(frozen=True)
class RedriveReport:
    """What one ``redrive`` call did: ids delivered (and deleted), failures (kept), letters still waiting for the
    given sinks, and whether the deadline cut the run short (the next call continues)."""

    delivered: tuple[LetterId, ...] = ()
    failed: tuple[RedriveFailure, ...] = ()
    remaining: int = 0
    deadline_reached: bool = False
    skipped_sinks: tuple[str, ...] = field(default=())


def _letter(row: Sequence[Any]) -> DeadLetter:
    id_, sink, key, payload, reason, transient, attempts, first, last = row
    return DeadLetter(id_, sink, key, json.loads(payload), reason, bool(transient), attempts, first, last)


@runtime_checkable
class DeadLetterQueue(Protocol):
    """Where undeliverable results wait, and from where they are redriven: ``DeadLetterStore`` (SQLite, local
    or on a shared file system) or ``CosDeadLetterStore`` (objects in the bucket, the cloud default)."""

    def add(
        self,
        result: JobResult,
        *,
        sink: str,
        reason: str,
        transient: bool,
        attempts: int = 1,
        deadline: Deadline | None = None,
    ) -> DeadLetter: ...

    def redrive(
        self, sinks: Mapping[str, Sink], *, limit: int = 100, deadline: Deadline | None = None
    ) -> RedriveReport: ...


def redrive_targets(sinks: Mapping[str, Sink]) -> dict[str, Sink]:
    """The sinks to redrive into, by name: a ``DeadLetterSink`` is unwrapped to the sink it guards, so a failure
    updates the letter instead of dead-lettering it again."""
    return {name: sink.inner if isinstance(sink, DeadLetterSink) else sink for name, sink in sinks.items()}


def deliver_letter(letter: DeadLetter, sink: Sink, deadline: Deadline | None) -> RedriveFailure | None:
    """Deliver one letter's result to ``sink``; the failure (kept by the caller) or None when delivered."""
    try:
        sink.deliver(letter.result(), deadline=deadline)
    except ValidationError as exc:
        return RedriveFailure(letter.id, letter.sink, f"stored payload is not a JobResult: {exc}", False)
    except DeliveryError as exc:
        return RedriveFailure(letter.id, letter.sink, str(exc), exc.transient)
    return None


def _placeholders(count: int) -> str:
    return ", ".join("?" * count)


class DeadLetterStore:
    """Dead letters in one SQLite table (``dead_letters``, WAL). ``path`` may be the local queue's file: the
    tables do not collide, and the local tooling keeps both in one file. One letter per (sink, dedupe key):
    failing again updates it (attempts added, last reason and time) instead of adding a duplicate.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, timeout: float = 10.0, clock: Callable[[], float] = time.time
    ) -> None:
        self._clock = clock
        self._db = SqliteDatabase(path, _SCHEMA, timeout=timeout)
        self.path = self._db.path

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> DeadLetterStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def add(
        self,
        result: JobResult,
        *,
        sink: str,
        reason: str,
        transient: bool,
        attempts: int = 1,
        deadline: Deadline | None = None,
    ) -> DeadLetter:
        """Record that ``sink`` could not take ``result`` (committed before returning)."""
        payload = json.dumps(result.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)
        key = result.dedupe_key
        now = self._clock()

        def work(conn: sqlite3.Connection) -> DeadLetter:
            conn.execute(
                "INSERT INTO dead_letters (sink, dedupe_key, payload, reason, transient, attempts,"
                " first_failed_at, last_failed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (sink, dedupe_key) DO UPDATE SET payload = excluded.payload,"
                " reason = excluded.reason, transient = excluded.transient,"
                " attempts = dead_letters.attempts + excluded.attempts, last_failed_at = excluded.last_failed_at",
                (sink, key, payload, reason, int(transient), attempts, now, now),
            )
            row = conn.execute(f"{_SELECT} WHERE sink = ? AND dedupe_key = ?", (sink, key)).fetchone()
            return _letter(row)

        return self._db.write(work, deadline=deadline)

    def get(self, letter_id: int) -> DeadLetter | None:
        rows = self._db.read(f"{_SELECT} WHERE id = ?", (letter_id,))
        return _letter(rows[0]) if rows else None

    def list(self, *, limit: int = 100, sink: str | None = None) -> builtins.list[DeadLetter]:
        """Dead letters in redrive order (least recently failed first)."""
        where, params = ("", []) if sink is None else (" WHERE sink = ?", [sink])
        query = f"{_SELECT}{where} ORDER BY last_failed_at, id LIMIT ?"
        return [_letter(row) for row in self._db.read(query, (*params, limit))]

    def count(self, *, sink: str | None = None) -> int:
        if sink is None:
            return int(self._db.read("SELECT COUNT(*) FROM dead_letters")[0][0])
        return int(self._db.read("SELECT COUNT(*) FROM dead_letters WHERE sink = ?", (sink,))[0][0])

    def delete(self, letter_id: int) -> bool:
        cursor = self._db.write(lambda conn: conn.execute("DELETE FROM dead_letters WHERE id = ?", (letter_id,)))
        return cursor.rowcount == 1

    # -- redrive --------------------------------------------------------------------------------------

    def redrive(
        self,
        sinks: Mapping[str, Sink],
        *,
        limit: int = 100,
        deadline: Deadline | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> RedriveReport:
        """Deliver up to ``limit`` dead letters to the sinks they failed at (``sinks`` by name); delete each one
        delivered, keep each failure (attempts + 1, new reason), stop at the deadline.

        Letters go least recently failed first, so a failure moves to the back and the next call continues with
        the ones not yet tried. Letters of sinks not in ``sinks`` are left alone (their names are reported in
        ``skipped_sinks``). The letters a run takes are leased (``lease_seconds``): concurrent runs, in other
        threads or processes, never redrive the same letter at once. A ``DeadLetterSink`` given here is unwrapped
        to the sink it guards, so a failure updates the letter instead of dead-lettering it again.
        """
        targets = redrive_targets(sinks)
        names = sorted(targets)
        others = tuple(
            row[0]
            for row in self._db.read(
                f"SELECT DISTINCT sink FROM dead_letters WHERE sink NOT IN ({_placeholders(len(names))}) ORDER BY sink",  # noqa: S608
                names,
            )
        )
        if not names or limit < 1:
            return RedriveReport(remaining=self._remaining(names), skipped_sinks=others)
        taken = self._take(names, limit, lease_seconds)
        delivered: builtins.list[LetterId] = []
        failed: builtins.list[RedriveFailure] = []
        deadline_reached = False
        pending = builtins.list(taken)
        try:
            while pending:
                letter = pending[0]
                if deadline is not None and deadline.expired:
                    deadline_reached = True
                    break
                failure = self._redrive_one(letter, targets[letter.sink], deadline)
                pending.pop(0)
                if failure is None:
                    delivered.append(letter.id)
                else:
                    failed.append(failure)
        finally:
            self._release([letter.id for letter in pending])
        log = get_logger("ciflow.routing")
        log.info("redrive", delivered=len(delivered), failed=len(failed), deadline_reached=deadline_reached)
        return RedriveReport(
            delivered=tuple(delivered),
            failed=tuple(failed),
            remaining=self._remaining(names),
            deadline_reached=deadline_reached,
            skipped_sinks=others,
        )

    def _redrive_one(self, letter: DeadLetter, sink: Sink, deadline: Deadline | None) -> RedriveFailure | None:
        failure = deliver_letter(letter, sink, deadline)
        if failure is None:
            self._db.write(lambda conn: conn.execute("DELETE FROM dead_letters WHERE id = ?", (letter.id,)))
            return None
        now = self._clock()
        self._db.write(
            lambda conn: conn.execute(
                "UPDATE dead_letters SET attempts = attempts + 1, reason = ?, transient = ?, last_failed_at = ?,"
                " leased_until = NULL WHERE id = ?",
                (failure.reason, int(failure.transient), now, letter.id),
            )
        )
        return failure

    def _take(self, names: Sequence[str], limit: int, lease_seconds: float) -> builtins.list[DeadLetter]:
        def work(conn: sqlite3.Connection) -> builtins.list[DeadLetter]:
            now = self._clock()
            rows = conn.execute(
                f"{_SELECT} WHERE sink IN ({_placeholders(len(names))})"
                " AND (leased_until IS NULL OR leased_until <= ?) ORDER BY last_failed_at, id LIMIT ?",
                (*names, now, limit),
            ).fetchall()
            conn.executemany(
                "UPDATE dead_letters SET leased_until = ? WHERE id = ?", [(now + lease_seconds, row[0]) for row in rows]
            )
            return [_letter(row) for row in rows]

        return self._db.write(work)

    def _release(self, ids: Sequence[LetterId]) -> None:
        if ids:
            self._db.write(
                lambda conn: conn.executemany(
                    "UPDATE dead_letters SET leased_until = NULL WHERE id = ?", [(id_,) for id_ in ids]
                )
            )

    def _remaining(self, names: Sequence[str]) -> int:
        if not names:
            return 0
        query = f"SELECT COUNT(*) FROM dead_letters WHERE sink IN ({_placeholders(len(names))})"  # noqa: S608
        return int(self._db.read(query, names)[0][0])


class DeadLetterSink:
    """Guards a sink with the dead-letter store: what ``inner`` refuses (``DeliveryError``, after its own retries)
    is stored with ``inner.name`` and the reason, and counts as delivered — the result is durably kept for a
    later ``DeadLetterStore.redrive``. Only when the store itself cannot write does ``deliver`` raise (transient).
    Other exceptions (bugs) propagate untouched.
    """

    def __init__(self, inner: Sink, store: DeadLetterQueue, *, name: str | None = None) -> None:
        self.inner = inner
        self.store = store
        self.name = name or inner.name

    def deliver(self, result: JobResult, *, deadline: Deadline | None = None) -> None:
        try:
            self.inner.deliver(result, deadline=deadline)
            return
        except DeliveryError as exc:
            failure = exc
        try:
            letter = self.store.add(result, sink=self.inner.name, reason=str(failure), transient=failure.transient)
        except (sqlite3.Error, CiflowError) as exc:  # the store itself failed (file or bucket)
            raise DeliveryError(
                self.name, f"{failure}; and the dead-letter store failed too: {exc}", transient=True
            ) from failure
        get_logger("ciflow.routing").warning(
            "dead-lettered",
            sink=self.inner.name,
            dedupe_key=result.dedupe_key,
            dead_letter_id=letter.id,
            attempts=letter.attempts,
            reason=str(failure),
            transient=failure.transient,
        )
