"""The local SQLite queue: durable delivery, dedupe, visibility timeouts and acks, across threads and processes."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pytest

from ciflow.client import Deadline
from ciflow.results import JobResult, ObjectLocation
from ciflow.routing import DeliveryError
from ciflow.routing._sqlite_queue import SqliteQueueSink

if TYPE_CHECKING:
    from multiprocessing.queues import Queue
    from multiprocessing.synchronize import Event


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_result(job_id: str = "j1", state: str = "Success", route: str | None = "transcode") -> JobResult:
    return JobResult(
        kind="media",
        event="TaskFinish",
        job_id=job_id,
        state=state,
        succeeded=True,
        input=ObjectLocation(key="uploads/视频 1.mp4"),
        details={"duration": 12.5, "tags": ["a", "b"]},
        route=route,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def queue(tmp_path: Path, clock: Clock) -> Iterator[SqliteQueueSink]:
    with SqliteQueueSink(tmp_path / "queue.sqlite3", clock=clock) as sink:
        yield sink


def test_a_delivered_result_is_committed_and_round_trips(tmp_path: Path, queue: SqliteQueueSink, clock: Clock) -> None:
    result = make_result()
    queue.deliver(result)
    (message,) = queue.list()
    assert message.result() == result
    assert (message.queue, message.dedupe_key, message.state, message.attempts) == (
        "transcode",
        result.dedupe_key,
        "pending",
        0,
    )
    assert message.created_at == clock.now
    assert queue.get(message.id) == message
    # Another connection (another process would do the same) sees it at once: it is committed, in WAL mode.
    raw = sqlite3.connect(tmp_path / "queue.sqlite3")
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        (payload,) = raw.execute("SELECT payload FROM queue_messages").fetchone()
    finally:
        raw.close()
    assert json.loads(payload) == result.model_dump(mode="json")


def test_messages_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "queue.sqlite3"
    with SqliteQueueSink(path) as first:
        first.deliver(make_result("j1"))
        first.deliver(make_result("j2"))
    with SqliteQueueSink(str(path)) as second:
        assert [m.result().job_id for m in second.receive(10)] == ["j1", "j2"]


def test_a_second_delivery_of_the_same_result_is_a_no_op(queue: SqliteQueueSink) -> None:
    first_id, created = queue.enqueue(make_result())
    assert created
    queue.deliver(make_result())
    again_id, created = queue.enqueue(make_result())
    assert (again_id, created) == (first_id, False)
    assert queue.count() == 1
    # Still a no-op once the first one was received and acked: a repeated report must not be consumed twice.
    (message,) = queue.receive(1)
    assert queue.ack(message.id)
    queue.deliver(make_result())
    assert (queue.count("pending"), queue.count("acked")) == (0, 1)


def test_another_state_of_the_same_job_is_another_message(queue: SqliteQueueSink) -> None:
    queue.deliver(make_result(state="Processing"))
    queue.deliver(make_result(state="Success"))
    assert queue.count() == 2


def test_results_land_in_their_routes_queue(queue: SqliteQueueSink) -> None:
    queue.deliver(make_result("j1", route="transcode"))
    queue.deliver(make_result("j2", route="hash"))
    queue.deliver(make_result("j3", route=None))
    assert [m.queue for m in queue.list()] == ["transcode", "hash", "default"]
    assert [m.result().job_id for m in queue.receive(10, queue="hash")] == ["j2"]
    assert queue.count(queue="transcode") == 1
    assert [m.result().job_id for m in queue.receive(10)] == ["j1", "j3"]


def test_a_received_message_is_hidden_until_its_visibility_timeout(queue: SqliteQueueSink, clock: Clock) -> None:
    queue.deliver(make_result("j1"))
    queue.deliver(make_result("j2"))
    first = queue.receive(1, visibility_timeout=30)
    assert [m.result().job_id for m in first] == ["j1"]
    assert (first[0].attempts, first[0].visible_after) == (1, clock.now + 30)
    assert [m.result().job_id for m in queue.receive(10, visibility_timeout=30)] == ["j2"]
    assert queue.receive(10) == []
    clock.now += 30
    again = queue.receive(10, visibility_timeout=30)
    assert [(m.result().job_id, m.attempts) for m in again] == [("j1", 2), ("j2", 2)]
    kept = queue.get(first[0].id)
    assert kept is not None
    assert kept.attempts == 2


def test_an_acked_message_is_never_received_again(queue: SqliteQueueSink, clock: Clock) -> None:
    queue.deliver(make_result())
    (message,) = queue.receive(1, visibility_timeout=5)
    assert queue.ack(message.id)
    assert not queue.ack(message.id)
    assert not queue.ack(999)
    clock.now += 60
    assert queue.receive(10) == []
    acked = queue.get(message.id)
    assert acked is not None
    assert (acked.state, acked.acked_at) == ("acked", clock.now - 60)
    assert queue.list("acked") == [acked]
    assert queue.list("pending") == []
    assert queue.list("all") == [acked]


def test_release_makes_a_message_visible_again(queue: SqliteQueueSink, clock: Clock) -> None:
    queue.deliver(make_result())
    (message,) = queue.receive(1, visibility_timeout=300)
    assert queue.release(message.id, delay=10)
    assert queue.receive(1) == []
    clock.now += 10
    assert [m.id for m in queue.receive(1)] == [message.id]


def test_purge_deletes_acked_messages_only_by_default(queue: SqliteQueueSink, clock: Clock) -> None:
    for job in ("j1", "j2", "j3"):
        queue.deliver(make_result(job))
    first, second = queue.receive(2)
    queue.ack(first.id)
    clock.now += 100
    queue.ack(second.id)
    assert queue.purge(older_than=1000) == 0
    assert queue.purge() == 2
    assert [m.result().job_id for m in queue.list("all")] == ["j3"]
    # A purged dedupe key is forgotten: the same report would be queued again.
    queue.deliver(make_result("j1"))
    assert queue.count() == 2
    assert queue.purge("pending") == 2
    assert queue.count("all") == 0


def test_an_unknown_state_is_refused(queue: SqliteQueueSink) -> None:
    with pytest.raises(ValueError, match="pending, acked or all"):
        queue.list("done")  # type: ignore[arg-type]


def test_a_passed_deadline_writes_nothing(queue: SqliteQueueSink) -> None:
    with pytest.raises(DeliveryError) as info:
        queue.deliver(make_result(), deadline=Deadline.after(0))
    assert info.value.transient
    assert queue.count() == 0


def test_a_locked_database_is_a_transient_failure_within_the_deadline(tmp_path: Path) -> None:
    path = tmp_path / "queue.sqlite3"
    with SqliteQueueSink(path, timeout=30, name="local") as queue:
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            started = time.monotonic()
            with pytest.raises(DeliveryError) as info:
                queue.deliver(make_result(), deadline=Deadline.after(0.3))
            assert time.monotonic() - started < 2
            assert info.value.transient
            assert info.value.sink == "local"
            assert "locked" in str(info.value)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        queue.deliver(make_result())
        assert queue.count() == 1


def test_concurrent_producers_and_consumers_in_threads_see_each_result_once(tmp_path: Path) -> None:
    path = tmp_path / "queue.sqlite3"
    jobs = [f"job-{n}" for n in range(120)]
    queue = SqliteQueueSink(path)
    other = SqliteQueueSink(path)  # a second connection in the same process
    received: list[str] = []
    lock = threading.Lock()
    producing = threading.Event()
    producing.set()

    def produce(offset: int) -> None:
        for job in jobs[offset::3] + jobs[::7]:  # overlapping: every thread also repeats some results
            (queue if offset % 2 else other).deliver(make_result(job))

    def consume(sink: SqliteQueueSink) -> None:
        while True:
            batch = sink.receive(5, visibility_timeout=300)
            for message in batch:
                with lock:
                    received.append(cast(str, message.result().job_id))
                assert sink.ack(message.id)
            if not batch and not producing.is_set():
                return

    producers = [threading.Thread(target=produce, args=(n,)) for n in range(3)]
    consumers = [threading.Thread(target=consume, args=(queue if n % 2 else other,)) for n in range(4)]
    for thread in producers + consumers:
        thread.start()
    for thread in producers:
        thread.join(60)
    producing.clear()
    for thread in consumers:
        thread.join(60)
    try:
        assert sorted(received) == sorted(jobs)
        assert (queue.count("pending"), queue.count("acked")) == (0, len(jobs))
    finally:
        queue.close()
        other.close()


def _consume_in_another_process(path: str, start: Event, results: Queue[list[int]]) -> None:
    start.wait(30)
    with SqliteQueueSink(path) as queue:
        seen = []
        while batch := queue.receive(3, visibility_timeout=300):
            for message in batch:
                seen.append(message.id)
                queue.ack(message.id)
    results.put(seen)


def _produce_in_another_process(path: str, start: Event, count: int) -> None:
    start.wait(30)
    with SqliteQueueSink(path) as queue:
        for n in range(count):
            queue.deliver(make_result(f"job-{n}"))


def test_processes_share_the_queue_without_duplicates(tmp_path: Path) -> None:
    path = str(tmp_path / "queue.sqlite3")
    SqliteQueueSink(path).close()
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    producers = [context.Process(target=_produce_in_another_process, args=(path, start, 60)) for _ in range(3)]
    for process in producers:
        process.start()
    start.set()
    for process in producers:
        process.join(60)
        assert process.exitcode == 0
    with SqliteQueueSink(path) as queue:
        assert queue.count() == 60  # three producers, the same 60 results: dedupe held across processes
        ids = {message.id for message in queue.list(limit=1000)}

    start = context.Event()
    results = context.Queue()
    consumers = [context.Process(target=_consume_in_another_process, args=(path, start, results)) for _ in range(3)]
    for process in consumers:
        process.start()
    start.set()
    seen = [results.get(timeout=60) for _ in consumers]
    for process in consumers:
        process.join(60)
        assert process.exitcode == 0
    flat = [message_id for batch in seen for message_id in batch]
    assert sorted(flat) == sorted(ids)  # each message received by exactly one process
    with SqliteQueueSink(path) as queue:
        assert queue.count("acked") == 60
