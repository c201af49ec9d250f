"""The ``jobs`` table in SQLite: one row per job, written and read under one lock; listing filters and pages."""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ciflow.codec import parse_ci_time

from ._records import JobError, JobRecord, Tree

__all__ = ["JobTable"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id TEXT NOT NULL UNIQUE, family TEXT NOT NULL, tag TEXT NOT NULL, state TEXT NOT NULL,
  progress INTEGER NOT NULL, bucket TEXT NOT NULL, region TEXT NOT NULL, queue_id TEXT, input_object TEXT,
  created REAL NOT NULL, started REAL, ended REAL, code TEXT, message TEXT,
  request TEXT NOT NULL, result TEXT NOT NULL, callback TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_family ON jobs (family, bucket, seq);
"""
_COLUMNS = (
    "seq, job_id, family, tag, state, progress, bucket, region, queue_id, input_object, created, started, ended,"
    " code, message, request, result, callback"
)


class JobTable:
    """Every job's row at ``db_path`` (WAL mode; safe to share between the engine's threads)."""

    def __init__(self, db_path: Path) -> None:
        Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(db_path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def _execute(self, statement: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(statement, params)

    # Reading

    def select(self, where: str, params: Sequence[Any]) -> list[JobRecord]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE {where}", params).fetchall()  # noqa: S608
        return [_record(row) for row in rows]

    def get(self, job_id: str) -> JobRecord | None:
        found = self.select("job_id = ?", (job_id,))
        return found[0] if found else None

    def of_family(self, family: str, ids: Sequence[str], bucket: str | None) -> list[JobRecord]:
        """The jobs of ``family`` among ``ids`` (in ``bucket`` when given), in no particular order."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        where, params = f"family = ? AND job_id IN ({marks})", [family, *ids]
        if bucket is not None:
            where, params = where + " AND bucket = ?", [*params, bucket]
        return self.select(where, params)

    def page(self, family: str, params: Mapping[str, str], bucket: str | None) -> tuple[list[JobRecord], str | None]:
        """One page of a family's jobs filtered by the listing parameters; (records, NextToken or None)."""
        where, values = _list_filters(family, params, bucket)
        size = _page_size(params.get("size"))
        descending = params.get("orderByTime", "Desc") != "Asc"
        token = params.get("nextToken")
        if token:
            if not token.isdigit():
                raise JobError(400, "InvalidArgument", "nextToken is not one this service issued")
            where += " AND seq < ?" if descending else " AND seq > ?"
            values.append(int(token))
        order = "DESC" if descending else "ASC"
        records = self.select(f"{where} ORDER BY seq {order} LIMIT ?", [*values, size + 1])
        more = len(records) > size
        records = records[:size]
        return records, (str(records[-1].seq) if more else None)

    # Writing

    def insert(
        self, family: str, prefix: str, tag: str, bucket: str, region: str, tree: Tree, input_object: str | None
    ) -> JobRecord:
        """A new ``Submitted`` job with an id of ``prefix`` and 32 hex digits."""
        job_id = prefix + secrets.token_hex(16)
        queue_id = tree.get("QueueId") or None
        cursor = self._execute(
            "INSERT INTO jobs (job_id, family, tag, state, progress, bucket, region, queue_id, input_object,"
            " created, request, result) VALUES (?, ?, ?, 'Submitted', 0, ?, ?, ?, ?, ?, ?, '{}')",
            (job_id, family, tag, bucket, region, queue_id, input_object, time.time(), json.dumps(tree)),
        )
        assert cursor.lastrowid is not None
        record = self.get(job_id)
        assert record is not None
        return record

    def cancel(self, job_id: str) -> None:
        """Cancel a queued job; ``JobError`` when it does not exist or is no longer ``Submitted``."""
        with self._lock:
            row = self._db.execute("SELECT state FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
            if row is None:
                raise JobError(404, "ResourceNotFound", f"job {job_id} does not exist")
            if row[0] != "Submitted":
                raise JobError(
                    400, "InvalidJobState", f"job {job_id} is {row[0]}; only Submitted jobs can be cancelled"
                )
            self._db.execute(
                "UPDATE jobs SET state = 'Cancel', ended = ?, code = 'Cancel', message = 'cancelled by request'"
                " WHERE job_id = ?",
                (time.time(), job_id),
            )

    def resume(self) -> list[str]:
        """Put jobs a previous run left running back to ``Submitted``; the ids of every ``Submitted`` job, in order."""
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET state = 'Submitted', started = NULL, progress = 0"
                " WHERE state NOT IN ('Submitted', 'Success', 'Failed', 'Cancel')"
            )
            rows = self._db.execute("SELECT job_id FROM jobs WHERE state = 'Submitted' ORDER BY seq").fetchall()
        return [job_id for (job_id,) in rows]

    def claim(self, job_id: str, running: str) -> JobRecord | None:
        """Move a ``Submitted`` job to ``running``; ``None`` when it is no longer ``Submitted``."""
        cursor = self._execute(
            "UPDATE jobs SET state = ?, started = ?, progress = 0 WHERE job_id = ? AND state = 'Submitted'",
            (running, time.time(), job_id),
        )
        return self.get(job_id) if cursor.rowcount == 1 else None

    def progress(self, job_id: str, progress: int) -> None:
        self._execute(
            "UPDATE jobs SET progress = ? WHERE job_id = ? AND state IN ('Running', 'Auditing')",
            (max(0, min(progress, 99)), job_id),
        )

    def finish(self, job_id: str, state: str, result: Tree, code: str | None, message: str | None) -> None:
        self._execute(
            "UPDATE jobs SET state = ?, progress = ?, ended = ?, result = ?, code = ?, message = ? WHERE job_id = ?",
            (state, 100 if state == "Success" else 0, time.time(), json.dumps(result), code, message, job_id),
        )

    def set_callback(self, job_id: str, status: str) -> None:
        self._execute("UPDATE jobs SET callback = ? WHERE job_id = ?", (status, job_id))

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _record(row: Sequence[Any]) -> JobRecord:
    values = list(row)
    values[15], values[16] = json.loads(values[15]), json.loads(values[16])
    return JobRecord(*values)


def _page_size(value: str | None) -> int:
    if value is None or value == "":
        return 10
    if not value.isdigit() or not 1 <= int(value) <= 100:
        raise JobError(400, "InvalidArgument", "size must be an integer from 1 to 100")
    return int(value)


def _time_param(params: Mapping[str, str], name: str) -> float | None:
    value = params.get(name)
    if not value:
        return None
    try:
        parsed = parse_ci_time(value)
    except ValueError:
        raise JobError(400, "InvalidArgument", f"{name} is not a time like 2001-01-01T00:00:00+0800") from None
    return float(parsed.timestamp())


def _list_filters(family: str, params: Mapping[str, str], bucket: str | None) -> tuple[str, list[Any]]:
    where, values = "family = ?", list[Any]([family])
    if bucket is not None:
        where, values = where + " AND bucket = ?", [*values, bucket]
    for column, name in (("tag", "tag"), ("queue_id", "queueId"), ("input_object", "inputObject")):
        if params.get(name):
            where, values = f"{where} AND {column} = ?", [*values, params[name]]
    states = [state.strip() for state in params.get("states", "All").split(",") if state.strip()]
    if states and "All" not in states:
        where += f" AND state IN ({','.join('?' * len(states))})"
        values += states
    for name, operator in (("startCreationTime", ">="), ("endCreationTime", "<=")):
        moment = _time_param(params, name)
        if moment is not None:
            where, values = f"{where} AND created {operator} ?", [*values, moment]
    return where, values
