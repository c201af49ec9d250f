"""A ledger that never forgets: failed uploads stay in the store with why, retries finish them, and no step is
submitted twice whatever the store or CI does between the submit and the record."""

import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
import pytest
import respx

from ciflow.config import load_settings
from ciflow.handlers import UploadRunner, UploadSettings
from ciflow.handlers._outcome import RetryableInvocationError
from ciflow.idempotency import IdempotencyRecord, MemoryStore, RecordState, record_sighting
from ciflow.idempotency._records import ClaimContendedError

from .test_pipeline import CI, CONTEXT, ENV, event, hash_planner, make_client, submitted

#: The ledger value of a submit sent without its answer recorded (spelled out: it is part of the ledger format).
PENDING = "pending"
#: The writes that may carry the last step's job id: ``complete`` (with the completion), else ``record_jobs``.
LAST_ID_WRITES = ("complete", "record_jobs")


class FlakyStore(MemoryStore):
    """A memory store whose writes fail while a test says so: ``fail_on`` names the methods, ``when`` picks
    the calls (by their jobs) that fail."""

    def __init__(self) -> None:
        super().__init__()
        self.fail_on: tuple[str, ...] = ()
        self.when: Any = lambda jobs: True

    def _maybe_fail(self, method: str, jobs: Mapping[str, str]) -> None:
        if method in self.fail_on and self.when(jobs):
            raise ClaimContendedError(f"injected {method} failure")

    def record_jobs(self, key: str, jobs: Mapping[str, str], *, now: float | None = None) -> None:
        self._maybe_fail("record_jobs", jobs)
        super().record_jobs(key, jobs, now=now)

    def complete(self, key: str, jobs: Mapping[str, str], *, ttl_seconds: float, now: float | None = None) -> None:
        self._maybe_fail("complete", jobs)
        super().complete(key, jobs, ttl_seconds=ttl_seconds, now=now)


@pytest.fixture
def store() -> FlakyStore:
    return FlakyStore()


@pytest.fixture
def runner(store: FlakyStore) -> Iterator[UploadRunner[UploadSettings]]:
    settings = load_settings(UploadSettings, ENV)
    with make_client() as client:
        yield UploadRunner("hash", settings, hash_planner, client=client, store=store)


def ledger_record(store: FlakyStore) -> IdempotencyRecord:
    """The one upload record of a test (whatever the version string of the fixture event is)."""
    (record,) = [record for record in store.records() if record.key.startswith("hash:")]
    return record


def handle(runner: UploadRunner[UploadSettings]) -> dict[str, Any]:
    try:
        return runner.handle(event("in/a.two"), CONTEXT)
    except RetryableInvocationError as exc:
        return exc.summary.as_dict()


@respx.mock
def test_a_submit_failing_past_its_retries_leaves_a_failed_record_naming_what_is_missing(
    runner: UploadRunner[UploadSettings], store: FlakyStore
) -> None:
    respx.post(f"{CI}/file_jobs").mock(side_effect=[submitted("f-md5"), httpx.Response(503)])
    with pytest.raises(RetryableInvocationError):
        runner.handle(event("in/a.two"), CONTEXT)
    records = [record for record in store.records() if record.key.startswith("hash:")]
    assert records, "the upload must stay findable in the ledger"
    record = records[0]
    assert record.state is RecordState.IN_PROGRESS
    assert record.lease_expired(runner.clock())  # the retry may take it over at once
    assert record.jobs["md5"] == "f-md5"
    assert record.payload["missing_steps"] == ["sha256"]
    assert record.last_error is not None
    assert "ServerError" in record.last_error
    assert (record.attempts, record.payload["permanent"]) == (1, False)


@respx.mock
def test_a_failure_before_anything_was_submitted_is_kept_too(
    runner: UploadRunner[UploadSettings], store: FlakyStore
) -> None:
    respx.post(f"{CI}/file_jobs").mock(return_value=httpx.Response(503))
    handle(runner)
    record = ledger_record(store)
    assert record.payload["missing_steps"] == ["md5", "sha256"]


@respx.mock
def test_the_redelivery_of_a_failed_upload_submits_only_the_missing_steps(
    runner: UploadRunner[UploadSettings], store: FlakyStore
) -> None:
    route = respx.post(f"{CI}/file_jobs").mock(side_effect=[submitted("f-md5"), httpx.Response(503)])
    handle(runner)
    route.side_effect = [submitted("f-sha")]
    again = handle(runner)
    assert again["submitted"] == 1
    assert again["outcomes"][0]["jobs"] == {"md5": "f-md5", "sha256": "f-sha"}
    assert route.call_count == 3
    record = ledger_record(store)
    assert (record.state, record.attempts) == (RecordState.COMPLETED, 2)


@respx.mock
def test_a_permanent_refusal_is_recorded_as_permanent_and_does_not_block_a_later_delivery(
    runner: UploadRunner[UploadSettings], store: FlakyStore
) -> None:
    route = respx.post(f"{CI}/file_jobs").mock(
        return_value=httpx.Response(400, content=b"<Error><Code>InvalidArgument</Code></Error>")
    )
    first = handle(runner)
    assert first["outcomes"][0]["transient"] is False
    record = ledger_record(store)
    assert record.payload["permanent"] is True
    route.side_effect = [submitted("f-md5"), submitted("f-sha")]
    assert handle(runner)["submitted"] == 1


@respx.mock
def test_complete_failing_after_the_last_submit_does_not_submit_it_again(
    runner: UploadRunner[UploadSettings], store: FlakyStore
) -> None:
    route = respx.post(f"{CI}/file_jobs").mock(side_effect=[submitted("f-md5"), submitted("f-sha")])
    store.fail_on = ("complete",)
    assert handle(runner)["failed"] == 1
    store.fail_on = ()
    again = handle(runner)
    assert again["submitted"] == 1
    assert again["outcomes"][0]["jobs"] == {"md5": "f-md5", "sha256": "f-sha"}
    assert route.call_count == 2


@respx.mock
def test_a_job_id_the_store_could_not_record_is_never_resubmitted(
    runner: UploadRunner[UploadSettings], store: FlakyStore
) -> None:
    route = respx.post(f"{CI}/file_jobs").mock(side_effect=[submitted("f-md5"), submitted("f-sha")])
    store.fail_on, store.when = LAST_ID_WRITES, lambda jobs: jobs.get("sha256") == "f-sha"
    first = handle(runner)
    assert first["failed"] == 1
    store.fail_on = ()
    record = ledger_record(store)
    assert record.jobs["sha256"] == PENDING
    route.side_effect = [submitted("f-sha-again")]
    again = handle(runner)
    assert route.call_count == 2, "a file job cannot be looked up: resubmitting could bill it twice"
    outcome = again["outcomes"][0]
    assert (outcome["status"], outcome["transient"]) == ("failed", False)
    assert "sha256" in outcome["error"]
    record = ledger_record(store)
    # Not permanent: the job's report may still come and say which job it was (the cleanup tries again).
    assert record.payload["permanent"] is False
    assert record.payload["last_error"].startswith("UnresolvedSubmitError")


def lose_the_sha256_id(
    runner: UploadRunner[UploadSettings], store: FlakyStore
) -> tuple[respx.Route, IdempotencyRecord]:
    """Both steps submitted, the sha256 job's id lost with the store: the ledger says that step is pending."""
    route = respx.post(f"{CI}/file_jobs").mock(side_effect=[submitted("f-md5"), submitted("f-sha")])
    store.fail_on, store.when = LAST_ID_WRITES, lambda jobs: jobs.get("sha256") == "f-sha"
    handle(runner)
    store.fail_on = ()
    return route, ledger_record(store)


@respx.mock
def test_a_step_whose_answer_was_lost_resolves_to_the_job_its_callback_sighted(
    runner: UploadRunner[UploadSettings], store: FlakyStore
) -> None:
    route, record = lose_the_sha256_id(runner, store)
    record_sighting(
        store,
        route=record.payload["route"],
        correlation_id=record.payload["correlation_id"],
        step="sha256",
        job_id="f-sha",
        ttl_seconds=3600,
        now=time.time(),
    )
    again = handle(runner)
    assert route.call_count == 2, "the sighted job is not submitted again"
    assert again["outcomes"][0]["status"] == "submitted"
    assert again["outcomes"][0]["jobs"] == {"md5": "f-md5", "sha256": "f-sha"}
    assert ledger_record(store).state is RecordState.COMPLETED


@respx.mock
def test_a_sighting_of_another_step_or_upload_resolves_nothing(
    runner: UploadRunner[UploadSettings], store: FlakyStore
) -> None:
    route, record = lose_the_sha256_id(runner, store)
    sighting: dict[str, Any] = {"route": record.payload["route"], "ttl_seconds": 3600, "now": time.time()}
    record_sighting(store, correlation_id=record.payload["correlation_id"], step="md5", job_id="x", **sighting)
    record_sighting(store, correlation_id="another-upload", step="sha256", job_id="y", **sighting)
    again = handle(runner)
    assert route.call_count == 2
    assert again["outcomes"][0]["error"].startswith("UnresolvedSubmitError")


@respx.mock
def test_a_submit_whose_answer_was_lost_is_not_repeated_for_a_family_that_cannot_be_looked_up(
    runner: UploadRunner[UploadSettings], store: FlakyStore
) -> None:
    route = respx.post(f"{CI}/file_jobs").mock(side_effect=[submitted("f-md5"), httpx.ReadTimeout("lost")])
    assert handle(runner)["outcomes"][0]["transient"] is True
    route.side_effect = [submitted("f-sha-again")]  # what a blind resubmit would get: a second, billed job
    again = handle(runner)
    assert route.call_count == 2
    assert again["outcomes"][0]["status"] == "failed"


@respx.mock
def test_a_request_that_never_left_is_submitted_by_the_retry(
    runner: UploadRunner[UploadSettings], store: FlakyStore
) -> None:
    route = respx.post(f"{CI}/file_jobs").mock(side_effect=[submitted("f-md5"), *[httpx.ConnectError("refused")] * 2])
    handle(runner)
    record = ledger_record(store)
    assert record.jobs.get("sha256") != PENDING
    route.side_effect = [submitted("f-sha")]
    assert handle(runner)["submitted"] == 1
