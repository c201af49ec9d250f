"""Dead letters as objects in the bucket (the cloud default): durable, shared, oldest failure first, redriven
fairly and resumably; a COS outage while dead-lettering is a transient failure, never a silent loss."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import respx

from ciflow.client import CiClient, Deadline
from ciflow.results import JobResult
from ciflow.routing import CosDeadLetterStore, DeadLetterQueue, DeadLetterSink, DeadLetterStore, DeliveryError
from tests.functional.conftest import COS, CREDS, ENDPOINT, NO_WAIT
from tests.support.fake_cos import FakeCos

from .test_dead_letters import Clock, FakeSink, make_result

PREFIX = "ciflow/dead-letters/"


@pytest.fixture
def fake() -> Iterator[FakeCos]:
    fake = FakeCos(page_limit=3)  # letters span several listing pages
    with respx.mock(assert_all_called=False) as router:
        fake.mount(router, COS)
        yield fake


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(fake: FakeCos, clock: Clock) -> Iterator[CosDeadLetterStore]:
    with CiClient(ENDPOINT, CREDS, retry=NO_WAIT) as client:
        yield CosDeadLetterStore(client, clock=clock)


def letters(fake: FakeCos) -> list[str]:
    return sorted(key for key in fake.objects if key.startswith(PREFIX))


def test_both_stores_are_dead_letter_queues(store: CosDeadLetterStore, tmp_path: Path) -> None:
    assert isinstance(store, DeadLetterQueue)
    with DeadLetterStore(tmp_path / "dl.sqlite3") as sqlite_store:
        assert isinstance(sqlite_store, DeadLetterQueue)


def test_a_letter_is_one_object_named_by_sink_and_failure_time(store: CosDeadLetterStore, fake: FakeCos) -> None:
    sink = "审核 hooks/+%"
    letter = store.add(make_result(), sink=sink, reason="HTTP 503", transient=True)
    (name,) = letters(fake)
    assert name == PREFIX + str(letter.id)
    assert name.startswith(PREFIX + "%E5%AE%A1%E6%A0%B8%20hooks%2F%2B%25/001700000000000-")
    body = json.loads(fake.objects[name].body)
    assert (body["sink"], body["attempts"], body["reason"], body["transient"]) == (sink, 1, "HTTP 503", True)
    assert store.get(letter.id) == letter
    assert letter.result() == make_result()
    assert store.count() == store.count(sink=sink) == 1
    assert store.count(sink="other") == 0
    assert store.list(sink=sink) == [letter]
    assert store.delete(letter.id) is True
    assert store.delete(letter.id) is False
    assert letters(fake) == []


def test_letters_list_oldest_failure_first_across_listing_pages(store: CosDeadLetterStore, clock: Clock) -> None:
    for n in range(7):
        store.add(make_result(f"j{n}"), sink="webhook", reason="x", transient=True)
        clock.now += 1
    assert [letter.result().job_id for letter in store.list(limit=100)] == [f"j{n}" for n in range(7)]
    assert [letter.result().job_id for letter in store.list(limit=2)] == ["j0", "j1"]


def test_redrive_delivers_deletes_and_reports_what_is_left(store: CosDeadLetterStore, fake: FakeCos) -> None:
    for job in ("j1", "j2"):
        store.add(make_result(job), sink="webhook", reason="HTTP 503", transient=True)
    store.add(make_result("j3"), sink="cmq", reason="HTTP 503", transient=True)
    store.add(make_result("j4"), sink="router", reason="no route", transient=False)
    webhook, cmq = FakeSink("webhook"), FakeSink("cmq")
    report = store.redrive({"webhook": webhook, "cmq": cmq})
    assert len(report.delivered) == 3
    assert (report.failed, report.remaining, report.deadline_reached) == ((), 0, False)
    assert report.skipped_sinks == ("router",)
    assert (sorted(webhook.delivered), cmq.delivered) == (["j1", "j2"], ["j3"])
    assert [store.get(name[len(PREFIX) :]).sink for name in letters(fake)] == ["router"]  # type: ignore[union-attr]


def test_a_failure_moves_to_the_back_with_one_more_attempt(store: CosDeadLetterStore, clock: Clock) -> None:
    poison = store.add(make_result("poison"), sink="webhook", reason="x", transient=True)
    clock.now += 1
    store.add(make_result("fine"), sink="webhook", reason="x", transient=True)
    clock.now += 3600

    class Picky(FakeSink):
        def deliver(self, result: JobResult, *, deadline: Deadline | None = None) -> None:
            if result.job_id == "poison":
                raise DeliveryError(self.name, "still refused", transient=False)
            super().deliver(result, deadline=deadline)

    sink = Picky("webhook")
    first = store.redrive({"webhook": sink}, limit=1)
    (failure,) = first.failed
    assert (first.delivered, first.remaining) == ((), 2)
    moved = store.get(failure.id)
    assert moved is not None
    assert store.get(poison.id) is None  # rewritten under its new failure time, the old object gone
    assert (moved.attempts, moved.reason, moved.transient) == (2, "webhook: still refused", False)
    assert (moved.first_failed_at, moved.last_failed_at) == (poison.first_failed_at, clock.now)
    second = store.redrive({"webhook": sink}, limit=1)
    assert (len(second.delivered), second.remaining) == (1, 1)
    assert sink.delivered == ["fine"]


def test_the_limit_is_shared_fairly_between_sinks(store: CosDeadLetterStore, clock: Clock) -> None:
    for n in range(6):
        store.add(make_result(f"w{n}"), sink="webhook", reason="x", transient=True)
        clock.now += 1
    store.add(make_result("c0"), sink="cmq", reason="x", transient=True)
    webhook, cmq = FakeSink("webhook"), FakeSink("cmq")
    report = store.redrive({"webhook": webhook, "cmq": cmq}, limit=3)
    assert (len(report.delivered), report.remaining) == (3, 4)
    assert cmq.delivered == ["c0"]  # not starved by the longer line
    assert webhook.delivered == ["w0", "w1"]


def test_the_deadline_stops_a_redrive_and_the_next_run_continues(store: CosDeadLetterStore) -> None:
    for n in range(8):
        store.add(make_result(f"j{n}"), sink="webhook", reason="x", transient=True)
    sink = FakeSink("webhook", delay=0.05)
    report = store.redrive({"webhook": sink}, deadline=Deadline.after(0.2))
    assert report.deadline_reached
    assert 1 <= len(report.delivered) < 8
    assert report.remaining == 8 - len(report.delivered)
    rest = store.redrive({"webhook": FakeSink("webhook")}, deadline=Deadline.after(30))
    assert len(rest.delivered) == report.remaining
    assert store.count() == 0


def test_a_guarded_sink_is_unwrapped_and_a_cos_outage_is_a_transient_failure(
    store: CosDeadLetterStore, fake: FakeCos, clock: Clock
) -> None:
    letter = store.add(make_result(), sink="webhook", reason="x", transient=True)
    clock.now += 60
    guarded = DeadLetterSink(FakeSink("webhook", failing=True), store)
    report = store.redrive({"webhook": guarded})
    assert len(report.failed) == 1
    assert store.count() == 1
    assert store.get(letter.id) is None  # moved, not duplicated by the guard
    fake.fail_next("PUT", status=503, code="ServiceUnavailable", times=10)
    with pytest.raises(DeliveryError) as caught:
        guarded.deliver(make_result("j2"))
    assert caught.value.transient
    assert "dead-letter store failed too" in str(caught.value)


def test_a_crash_between_rewrite_and_delete_keeps_the_letter_and_the_next_redrive_delivers_it_once(
    store: CosDeadLetterStore, fake: FakeCos, clock: Clock
) -> None:
    store.add(make_result(), sink="webhook", reason="x", transient=True)
    store.add(make_result("other"), sink="webhook", reason="x", transient=True)
    clock.now += 60
    fake.fail_next("DELETE", status=503, code="ServiceUnavailable", times=NO_WAIT.attempts)  # one delete fails
    with pytest.raises(Exception, match="503"):
        store.redrive({"webhook": FakeSink("webhook", failing=True)}, limit=1)
    assert store.count() == 3  # the first letter kept twice (old and rewritten), never lost
    sink = FakeSink("webhook")
    report = store.redrive({"webhook": sink})
    assert sorted(sink.delivered) == ["j1", "other"]  # each result once, not once per copy
    assert (len(report.delivered), report.remaining) == (2, 0)
    assert letters(fake) == []
