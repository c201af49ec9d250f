"""The SQLite store: WAL, one table with JSON columns, persistence, and claims atomic across processes."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ciflow.idempotency import Claim, IdempotencyStore, RecordState, SqliteStore

T0 = 1_700_000_000.0
KEY = "hash:media-1250000000/in/a.mp4@etag"

if TYPE_CHECKING:
    from multiprocessing.queues import Queue
    from multiprocessing.synchronize import Event


def claim(
    store: IdempotencyStore,
    key: str = KEY,
    *,
    now: float = T0,
    lease: float = 60.0,
    ttl: float = 3600.0,
    payload: Mapping[str, Any] | None = None,
) -> Claim:
    return store.claim(key, lease_seconds=lease, ttl_seconds=ttl, payload=payload, now=now)


def _claim_in_another_process(path: str, index: int, start: Event, results: Queue[tuple[int, bool]]) -> None:

    store = SqliteStore(path)
    start.wait(30)
    results.put((index, claim(store, payload={"process": index}).acquired))
    store.close()


def test_the_database_is_in_wal_mode_with_json_columns(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    with SqliteStore(path) as store:
        claim(store, payload={"steps": ["a", "b"]})
        store.record_jobs(KEY, {"a": "j1"}, now=T0 + 1)
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        jobs, payload, state = raw.execute(
            "SELECT jobs, payload, state FROM idempotency_records WHERE key = ?", (KEY,)
        ).fetchone()
    finally:
        raw.close()
    assert json.loads(jobs) == {"a": "j1"}
    assert json.loads(payload) == {"steps": ["a", "b"]}
    assert state == "in_progress"


def test_records_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    with SqliteStore(path) as store:
        claim(store)
        store.complete(KEY, {"a": "j1"}, ttl_seconds=100, now=T0)
    with SqliteStore(str(path)) as store:
        record = store.get(KEY, now=T0)
        assert record is not None
        assert (record.state, record.jobs) == (RecordState.COMPLETED, {"a": "j1"})
        assert not claim(store, now=T0 + 1).acquired


def test_an_in_memory_database_works_across_threads() -> None:
    import threading

    store = SqliteStore(":memory:")
    results = []
    threads = [threading.Thread(target=lambda: results.append(claim(store).acquired)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    store.close()


def test_records_pages_through_a_large_ledger(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.sqlite3") as store:
        for i in range(1203):
            store.complete(f"k{i:05d}", {"s": f"j{i}"}, ttl_seconds=100, now=T0)
        keys = [r.key for r in store.records(now=T0)]
        assert len(keys) == 1203
        assert keys == sorted(keys)
        assert len(set(keys)) == 1203
        assert store.purge_expired(now=T0 + 100) == 1203


def test_a_claim_waits_for_another_connections_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    with SqliteStore(path, timeout=0.2) as store:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                claim(store)
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert claim(store).acquired  # the failed attempt left nothing behind


def test_claims_from_several_processes_acquire_exactly_once(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sqlite3")
    SqliteStore(path).close()  # create the schema once, as a deployed store would have
    context = multiprocessing.get_context("spawn")
    start, queue = context.Event(), context.Queue()
    processes = [context.Process(target=_claim_in_another_process, args=(path, i, start, queue)) for i in range(4)]
    for process in processes:
        process.start()
    start.set()
    results = dict(queue.get(timeout=60) for _ in processes)
    for process in processes:
        process.join(30)
        assert process.exitcode == 0
    assert sorted(results.values()) == [False, False, False, True]
    with SqliteStore(path) as store:
        record = store.get(KEY, now=T0)
        assert record is not None
        assert record.payload["process"] in range(4)
