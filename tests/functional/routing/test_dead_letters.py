"""Dead letters: what a sink refuses is kept with why, and redriven to that sink later — resumably, once each."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import httpx
import pytest

from ciflow.client import Deadline
from ciflow.results import JobResult
from ciflow.routing import DeliveryError
from ciflow.routing._dead_letter import DeadLetterSink, DeadLetterStore
from ciflow.routing._sqlite_queue import SqliteQueueSink
from ciflow.routing._webhook import WebhookSink, webhook_id

from .webhook_receiver import SECRET, ReceiverServer


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeSink:
    """Fails while ``failing`` (with ``transient``), records what it delivered, optionally slowly."""

    def __init__(self, name: str = "fake", *, failing: bool = False, transient: bool = True, delay: float = 0.0):
        self.name = name
        self.failing = failing
        self.transient = transient
        self.delay = delay
        self.delivered: list[str] = []
        self.calls = 0
        self.lock = threading.Lock()

    def deliver(self, result: JobResult, *, deadline: Deadline | None = None) -> None:
        with self.lock:
            self.calls += 1
        time.sleep(self.delay)
        if self.failing:
            raise DeliveryError(self.name, f"refused {result.job_id}", transient=self.transient)
        with self.lock:
            self.delivered.append(result.job_id or "")


def make_result(job_id: str = "j1", state: str = "Success") -> JobResult:
    return JobResult(kind="media", event="TaskFinish", job_id=job_id, state=state, route="transcode")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[DeadLetterStore]:
    with DeadLetterStore(tmp_path / "queue.sqlite3", clock=clock) as opened:
        yield opened


def test_a_refused_result_is_kept_with_the_sink_name_reason_and_times(store: DeadLetterStore, clock: Clock) -> None:
    inner = FakeSink("webhook", failing=True, transient=False)
    guarded = DeadLetterSink(inner, store)
    assert guarded.name == "webhook"
    guarded.deliver(make_result())  # accepted: durably kept as a dead letter
    (letter,) = store.list()
    assert (letter.sink, letter.dedupe_key, letter.attempts, letter.transient) == (
        "webhook",
        make_result().dedupe_key,
        1,
        False,
    )
    assert letter.reason == "webhook: refused j1"
    assert letter.first_failed_at == letter.last_failed_at == clock.now
    assert letter.result() == make_result()

    clock.now += 60
    inner.transient = True
    guarded.deliver(make_result())
    (again,) = store.list()
    assert (again.id, again.attempts, again.transient) == (letter.id, 2, True)
    assert (again.first_failed_at, again.last_failed_at) == (clock.now - 60, clock.now)


def test_a_delivered_result_leaves_no_dead_letter(store: DeadLetterStore) -> None:
    inner = FakeSink()
    DeadLetterSink(inner, store).deliver(make_result())
    assert inner.delivered == ["j1"]
    assert store.count() == 0


def test_when_the_store_cannot_write_the_guarded_sink_raises(tmp_path: Path) -> None:
    store = DeadLetterStore(tmp_path / "dl.sqlite3")
    store.close()
    with pytest.raises(DeliveryError) as info:
        DeadLetterSink(FakeSink("webhook", failing=True), store, name="guarded").deliver(make_result())
    assert info.value.transient
    assert info.value.sink == "guarded"
    assert "refused j1" in str(info.value)


def test_redrive_delivers_to_the_original_sink_and_deletes(store: DeadLetterStore) -> None:
    for job in ("j1", "j2"):
        store.add(make_result(job), sink="webhook", reason="HTTP 503", transient=True)
    store.add(make_result("j3"), sink="cmq", reason="HTTP 503", transient=True)
    webhook, cmq = FakeSink("webhook"), FakeSink("cmq")
    report = store.redrive({"webhook": webhook, "cmq": cmq})
    assert len(report.delivered) == 3
    assert (report.failed, report.remaining, report.deadline_reached) == ((), 0, False)
    assert (webhook.delivered, cmq.delivered) == (["j1", "j2"], ["j3"])
    assert store.count() == 0


def test_a_failed_redrive_keeps_the_letter_with_the_new_reason(store: DeadLetterStore, clock: Clock) -> None:
    letter = store.add(make_result(), sink="webhook", reason="HTTP 503", transient=True)
    clock.now += 3600
    report = store.redrive({"webhook": FakeSink("webhook", failing=True, transient=False)})
    assert report.delivered == ()
    assert [(f.id, f.sink, f.reason, f.transient) for f in report.failed] == [
        (letter.id, "webhook", "webhook: refused j1", False)
    ]
    assert report.remaining == 1
    kept = store.get(cast(int, letter.id))
    assert kept is not None
    assert (kept.attempts, kept.reason, kept.transient) == (2, "webhook: refused j1", False)
    assert (kept.first_failed_at, kept.last_failed_at) == (letter.first_failed_at, clock.now)


def test_redrive_is_bounded_by_limit_and_the_next_call_continues(store: DeadLetterStore, clock: Clock) -> None:
    for n in range(5):
        store.add(make_result(f"j{n}"), sink="webhook", reason="HTTP 503", transient=True)
        clock.now += 1
    sink = FakeSink("webhook")
    first = store.redrive({"webhook": sink}, limit=2)
    assert (len(first.delivered), first.remaining) == (2, 3)
    second = store.redrive({"webhook": sink}, limit=2)
    assert (len(second.delivered), second.remaining) == (2, 1)
    store.redrive({"webhook": sink}, limit=2)
    assert sink.delivered == ["j0", "j1", "j2", "j3", "j4"]


def test_failures_move_to_the_back_so_a_poison_letter_does_not_block_the_rest(
    store: DeadLetterStore, clock: Clock
) -> None:
    store.add(make_result("poison"), sink="webhook", reason="x", transient=True)
    clock.now += 1
    store.add(make_result("fine"), sink="webhook", reason="x", transient=True)
    clock.now += 1

    class Picky(FakeSink):
        def deliver(self, result: JobResult, *, deadline: Deadline | None = None) -> None:
            if result.job_id == "poison":
                raise DeliveryError(self.name, "still refused", transient=True)
            super().deliver(result, deadline=deadline)

    sink = Picky("webhook")
    first = store.redrive({"webhook": sink}, limit=1)
    assert (first.delivered, len(first.failed)) == ((), 1)
    second = store.redrive({"webhook": sink}, limit=1)
    assert len(second.delivered) == 1
    assert sink.delivered == ["fine"]
    assert [letter.result().job_id for letter in store.list()] == ["poison"]


def test_the_deadline_stops_a_redrive_and_the_rest_stays_ready(store: DeadLetterStore) -> None:
    for n in range(10):
        store.add(make_result(f"j{n}"), sink="webhook", reason="x", transient=True)
    sink = FakeSink("webhook", delay=0.1)
    started = time.monotonic()
    report = store.redrive({"webhook": sink}, deadline=Deadline.after(0.35))
    assert time.monotonic() - started < 1.0
    assert report.deadline_reached
    assert 1 <= len(report.delivered) < 10
    assert report.remaining == 10 - len(report.delivered)
    # The letters it did not reach were released at once: the next run takes them without waiting for a lease.
    rest = store.redrive({"webhook": FakeSink("webhook")})
    assert len(rest.delivered) == report.remaining


def test_letters_of_sinks_not_given_are_left_alone(store: DeadLetterStore) -> None:
    store.add(make_result("j1"), sink="webhook", reason="x", transient=True)
    store.add(make_result("j2"), sink="cmq", reason="x", transient=True)
    report = store.redrive({"local-queue": FakeSink("local-queue")})
    assert (report.delivered, report.remaining, report.skipped_sinks) == ((), 0, ("cmq", "webhook"))
    assert store.count() == 2
    assert store.count(sink="cmq") == 1


def test_a_guarded_sink_given_to_redrive_is_unwrapped(store: DeadLetterStore) -> None:
    letter = store.add(make_result(), sink="webhook", reason="x", transient=True)
    guarded = DeadLetterSink(FakeSink("webhook", failing=True), store)
    report = store.redrive({"webhook": guarded})
    assert len(report.failed) == 1
    kept = store.get(cast(int, letter.id))
    assert kept is not None
    assert kept.attempts == 2  # kept and counted, not deleted as if the guard had delivered it


def test_a_payload_that_is_no_longer_a_result_fails_permanently(tmp_path: Path, store: DeadLetterStore) -> None:
    letter = store.add(make_result(), sink="webhook", reason="x", transient=True)
    raw = sqlite3.connect(tmp_path / "queue.sqlite3")
    with raw:
        raw.execute("UPDATE dead_letters SET payload = ? WHERE id = ?", ('{"kind": "nonsense"}', letter.id))
    raw.close()
    report = store.redrive({"webhook": FakeSink("webhook")})
    (failure,) = report.failed
    assert not failure.transient
    assert "not a JobResult" in failure.reason


def test_concurrent_redrives_deliver_each_letter_once(tmp_path: Path) -> None:
    path = tmp_path / "queue.sqlite3"
    with DeadLetterStore(path) as store:
        for n in range(30):
            store.add(make_result(f"j{n}"), sink="webhook", reason="x", transient=True)
    sink = FakeSink("webhook", delay=0.005)
    stores = [DeadLetterStore(path) for _ in range(3)]
    threads = [threading.Thread(target=s.redrive, args=({"webhook": sink},), kwargs={"limit": 30}) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert sorted(sink.delivered) == sorted(f"j{n}" for n in range(30))
        assert sink.calls == 30
        assert stores[0].count() == 0
    finally:
        for s in stores:
            s.close()


def test_queue_and_dead_letters_share_one_file(tmp_path: Path) -> None:
    path = tmp_path / "queue.sqlite3"
    with SqliteQueueSink(path) as queue, DeadLetterStore(path) as store:
        store.add(make_result("j1"), sink=queue.name, reason="disk full", transient=True)
        report = store.redrive({queue.name: queue})
        assert len(report.delivered) == 1
        assert [m.result().job_id for m in queue.list()] == ["j1"]


def test_a_webhook_outage_is_dead_lettered_then_redriven_with_the_same_webhook_id(tmp_path: Path) -> None:
    result = make_result("j-outage")
    with ReceiverServer() as receiver, DeadLetterStore(tmp_path / "dl.sqlite3") as store:
        webhook = WebhookSink(receiver.url, SECRET, attempts=2, base_delay=0.0, timeout=httpx.Timeout(2.0))
        receiver.fail(2, 503)
        DeadLetterSink(webhook, store).deliver(result)
        (letter,) = store.list()
        assert (letter.sink, letter.transient, letter.attempts) == ("webhook", True, 1)
        assert "HTTP 503" in letter.reason
        report = store.redrive({"webhook": webhook})
        webhook.close()
        assert report.delivered == (letter.id,)
        assert store.count() == 0
        assert len(receiver.requests) == 3
        assert all(request.verified for request in receiver.requests)
        assert {request.headers["webhook-id"] for request in receiver.requests} == {webhook_id(result)}
