"""The callback tells the upload ledger which job a step has (a sighting), before it routes the result."""

import time
from typing import cast

from ciflow.callback import CallbackRunner
from ciflow.idempotency import MemoryStore, RecordState, sighted_job, sighting_key

from .test_callback import CONTEXT, MemoryDeadLetters, MemorySink, api_event, runner, task_finish_xml, user_data


def with_ledger(ledger: MemoryStore) -> CallbackRunner:
    base = runner()
    return CallbackRunner(
        base.settings,
        sinks=base.sinks,
        dead_letters=MemoryDeadLetters(),
        client=base.client,
        store=MemoryStore(),
        ledger=ledger,
    )


def sighted(ledger: MemoryStore, step: str = "mp4", route: str = "transcode") -> str | None:
    return sighted_job(ledger, route=route, correlation_id="c0ffee", step=step, now=time.time())


def test_a_verified_report_is_sighted_in_the_ledger_store_not_the_dedupe_store() -> None:
    ledger = MemoryStore()
    handler = with_ledger(ledger)
    assert handler.handle(api_event(task_finish_xml("j1")), CONTEXT)["statusCode"] == 200
    assert sighted(ledger) == "j1"
    assert handler.store.get(sighting_key("transcode", "c0ffee", "mp4")) is None
    assert len(cast(MemorySink, handler.sinks["queue"]).delivered) == 1


def test_a_sighting_is_a_completed_record_holding_no_lease_and_a_later_one_replaces_it() -> None:
    ledger = MemoryStore()
    handler = with_ledger(ledger)
    handler.handle(api_event(task_finish_xml("j1")), CONTEXT)
    record = ledger.get(sighting_key("transcode", "c0ffee", "mp4"))
    assert record is not None
    assert (record.state, record.lease_until) == (RecordState.COMPLETED, None)  # nothing anyone waits out
    assert "concern" not in record.payload  # the ledger walk passes it by
    handler.handle(api_event(task_finish_xml("j2")), CONTEXT)
    assert sighted(ledger) == "j2"  # any job of the step resolves it
    assert sighted(ledger, step="mp3") is None


def test_unverified_user_data_sights_nothing() -> None:
    ledger = MemoryStore()
    forged = user_data().replace(user_data().rsplit(".", 1)[-1], "forged")
    with_ledger(ledger).handle(api_event(task_finish_xml("j1", data=forged)), CONTEXT)
    assert list(ledger.records()) == []


class FailingLedger(MemoryStore):
    def complete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError("ledger down")


def test_a_ledger_that_cannot_take_the_sighting_makes_the_sender_retry_before_anything_is_delivered() -> None:
    handler = with_ledger(FailingLedger())
    answer = handler.handle(api_event(task_finish_xml("j1")), CONTEXT)
    assert answer["statusCode"] == 503
    assert cast(MemorySink, handler.sinks["queue"]).delivered == []
    assert list(handler.store.records()) == [], "no dedupe claim is left behind"
