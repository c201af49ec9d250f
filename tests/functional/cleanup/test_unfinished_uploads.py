"""The ledger walk reports failed and stalled uploads apart, and gives them up into the dead letters once spent."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ciflow.cleanup import CleanupRunner, CleanupSettings
from ciflow.cleanup._checkpoints import Checkpoints
from ciflow.cleanup._ledger import LedgerWalk
from ciflow.cleanup._unfinished import GAVE_UP_EVENT, UPLOADS_SINK
from ciflow.client import CiClient, Deadline, Endpoint, RetryPolicy
from ciflow.config import load_settings
from ciflow.idempotency import PENDING_JOB, MemoryStore, RecordState, record_sighting
from ciflow.routing import DeadLetterStore
from ciflow.signing import Credentials

from .test_cleanup import BUCKET, ENV, ListSink

T0 = 1_800_000_000.0
HOUR = 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dead(tmp_path: Path) -> Iterator[DeadLetterStore]:
    with DeadLetterStore(tmp_path / "dead.sqlite3") as store:
        yield store


@pytest.fixture
def runner(clock: Clock, dead: DeadLetterStore) -> Iterator[CleanupRunner]:
    # The cleanup's own invocations are tested in test_drive_uploads: here uploads are only waited for.
    env = {**ENV, "CIFLOW_IDEMPOTENCY_STORE": "memory", "CIFLOW_CLEANUP_INVOKE_UPLOADS": "false"}
    settings = load_settings(CleanupSettings, env)
    credentials = Credentials("AKIDcleanup", "cleanup-secret-key")
    with CiClient(Endpoint("ap-guangzhou", BUCKET), credentials, retry=RetryPolicy(attempts=1)) as client:
        yield CleanupRunner(
            settings, sinks={"list": ListSink()}, dead_letters=dead, client=client, store=MemoryStore(), clock=clock
        )


def upload(runner: CleanupRunner, name: str, *, attempts: int = 1, error: str | None = None, **extra: Any) -> str:
    """An upload handler's record of ``name`` (steps md5 and sha256, md5 submitted) after ``attempts`` claims,
    its last owner gone: with ``error`` it said why (failed), without it died (stalled)."""
    key = f"hash:{BUCKET}/in/{name}@e1"
    payload = {"concern": "hash", "bucket": BUCKET, "key": f"in/{name}", "steps": ["md5", "sha256"], "route": "hash"}
    for attempt in range(attempts):
        at = T0 - 2 * HOUR + attempt * 120
        runner.store.claim(key, lease_seconds=60, ttl_seconds=86400, payload=payload, now=at)
    runner.store.record_jobs(key, {"md5": "inline"}, now=T0 - HOUR)
    if error is not None:
        failure = {"last_error": error, "missing_steps": ["sha256"], **extra}
        runner.store.annotate(key, failure, end_lease=True, now=T0 - HOUR)
    return key


def walk(runner: CleanupRunner) -> dict[str, Any]:
    summary = runner.run(["reconcile"], Deadline.after(30))
    ledger: dict[str, Any] = summary["ledger"]
    return ledger


def test_failed_and_stalled_uploads_are_reported_apart_with_what_is_missing(runner: CleanupRunner) -> None:
    upload(runner, "failed.bin", error="ServerError: 503 ServiceUnavailable")
    upload(runner, "stalled.bin")
    ledger = walk(runner)
    assert (ledger["failed"], ledger["stalled"], ledger["gave_up"]) == (1, 1, 0)
    by_key = {entry["key"]: entry for entry in ledger["uploads"]}
    assert by_key["in/failed.bin"] == {
        "key": "in/failed.bin",
        "bucket": BUCKET,
        "concern": "hash",
        "status": "failed",
        "missing_steps": ["sha256"],
        "attempts": 1,
        "last_error": "ServerError: 503 ServiceUnavailable",
    }
    assert (by_key["in/stalled.bin"]["status"], by_key["in/stalled.bin"]["last_error"]) == ("stalled", None)


def test_an_upload_out_of_attempts_is_given_up_once_into_the_dead_letters(
    runner: CleanupRunner, dead: DeadLetterStore
) -> None:
    key = upload(runner, "spent.bin", attempts=3, error="AmbiguousSubmitError: read timeout")
    upload(runner, "young.bin", attempts=2, error="ServerError: 503")
    ledger = walk(runner)
    assert (ledger["failed"], ledger["gave_up"]) == (2, 1)
    letters = dead.list()
    assert [letter.sink for letter in letters] == [UPLOADS_SINK]
    letter = letters[0]
    assert "3 attempts" in letter.reason
    assert "sha256" in letter.reason
    result = letter.result()
    assert (result.event, result.input and result.input.key) == (GAVE_UP_EVENT, "in/spent.bin")
    assert result.details["missing_steps"] == ["sha256"]
    record = runner.store.get(key)
    assert record is not None
    assert "3 attempts" in record.payload["given_up"]
    again = walk(runner)
    assert (again["gave_up"], again["failed"]) == (0, 1)  # only the young one is still waited for
    assert len(dead.list()) == 1


def test_a_permanent_failure_is_given_up_at_once_and_a_long_idle_one_eventually(
    runner: CleanupRunner, dead: DeadLetterStore, clock: Clock
) -> None:
    upload(runner, "refused.bin", error="ClientError: 400 InvalidArgument", permanent=True)
    upload(runner, "idle.bin")
    assert walk(runner)["gave_up"] == 1
    clock.now = T0 + 7 * HOUR
    assert walk(runner)["gave_up"] == 1
    reasons = sorted(letter.reason for letter in dead.list())
    assert reasons[0].startswith("failed permanently: ClientError")
    assert reasons[1].startswith("no attempt for")


def test_without_a_dead_letter_store_nothing_is_marked_given_up(runner: CleanupRunner, clock: Clock) -> None:
    key = upload(runner, "refused.bin", error="ClientError: 400", permanent=True)
    ledger_walk = LedgerWalk(
        runner.settings,
        client=runner.client,
        store=runner.store,
        router=runner.router,
        checkpoints=Checkpoints(runner.store, ttl_seconds=60, clock=clock),
        clock=clock,
    )
    counts = ledger_walk.run({"reconcile"}, Deadline.after(30))
    assert (counts["failed"], counts["gave_up"]) == (1, 0)
    record = runner.store.get(key)
    assert record is not None
    assert "given_up" not in record.payload
    assert json.loads(json.dumps(counts))["uploads"][0]["status"] == "failed"  # the summary stays JSON


def unanswered(runner: CleanupRunner, name: str, *, attempts: int = 3) -> str:
    """An upload whose sha256 submit got no answer (``pending``) and that was told it cannot be looked up."""
    key = upload(runner, name, attempts=attempts)
    runner.store.record_jobs(key, {"sha256": PENDING_JOB}, now=T0 - HOUR)
    runner.store.annotate(
        key,
        {"last_error": "UnresolvedSubmitError: steps ['sha256']", "correlation_id": f"corr-{name}", "permanent": False},
        end_lease=True,
        now=T0 - HOUR,
    )
    return key


def sight_sha256(runner: CleanupRunner, correlation_id: str) -> None:
    """The callback's sighting of job ``f-sha`` for the sha256 step of upload ``correlation_id``."""
    record_sighting(
        runner.store,
        route="hash",
        correlation_id=correlation_id,
        step="sha256",
        job_id="f-sha",
        ttl_seconds=86400,
        now=T0 - HOUR,
    )


def test_an_unanswered_step_a_callback_sighted_completes_the_upload_instead_of_a_dead_letter(
    runner: CleanupRunner, dead: DeadLetterStore
) -> None:
    key = unanswered(runner, "sighted.bin")
    sight_sha256(runner, "corr-sighted.bin")
    ledger = walk(runner)
    assert (ledger["resolved_by_callback"], ledger["gave_up"], ledger["failed"]) == (1, 0, 0)
    record = runner.store.get(key, now=T0)
    assert record is not None
    assert record.state is RecordState.COMPLETED
    assert record.jobs == {"md5": "inline", "sha256": "f-sha"}
    assert record.payload["resolved_by"] == "callback sightings"
    assert dead.list() == []


def test_an_unanswered_step_nobody_sighted_is_given_up_after_its_attempts_naming_the_step(
    runner: CleanupRunner, dead: DeadLetterStore
) -> None:
    unanswered(runner, "unseen.bin")
    sight_sha256(runner, "corr-other.bin")  # a sighting of another upload's step resolves nothing here
    ledger = walk(runner)
    assert (ledger["resolved_by_callback"], ledger["gave_up"]) == (0, 1)
    (letter,) = dead.list()
    assert "3 attempts" in letter.reason
    assert "UnresolvedSubmitError" in letter.reason
    assert "sha256" in letter.reason


def test_a_step_never_submitted_is_not_completed_by_a_sighting(runner: CleanupRunner) -> None:
    key = upload(runner, "unsent.bin", error="ServerError: 503", correlation_id="corr-unsent.bin")
    sight_sha256(runner, "corr-unsent.bin")
    ledger = walk(runner)
    assert (ledger["resolved_by_callback"], ledger["failed"]) == (0, 1)
    record = runner.store.get(key, now=T0)
    assert record is not None
    assert record.state is RecordState.IN_PROGRESS
