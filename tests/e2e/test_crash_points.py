"""At most one billed job per (object version, step) through every crash point of the upload pipeline.

A failure is injected at each step boundary (after the claim, at each intent and job-id write, at complete(),
and as a timeout after CI did the work), the event is delivered again after the lease, and the emulator's
own job list is counted: every step has exactly one job.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import pytest

from ciflow import operations as ops
from ciflow.cleanup import CleanupRunner, CleanupSettings
from ciflow.client import CiClient, Deadline
from ciflow.concerns.hash import HashSettings
from ciflow.concerns.hash import plan as hash_plan
from ciflow.concerns.moderate import ModerateSettings
from ciflow.concerns.moderate import plan as moderate_plan
from ciflow.concerns.previews import PreviewsSettings
from ciflow.concerns.previews import plan as previews_plan
from ciflow.concerns.transcode import TranscodeSettings
from ciflow.concerns.transcode import plan as transcode_plan
from ciflow.config import load_settings
from ciflow.errors import AmbiguousSubmitError
from ciflow.handlers import UploadRunner
from ciflow.handlers._outcome import RetryableInvocationError
from ciflow.idempotency import MemoryStore, RecordState
from ciflow.idempotency._records import ClaimContendedError
from ciflow.models.callbacks import TaskFinish
from ciflow.results import ObjectLocation, normalise
from ciflow.routing import DeadLetterStore, decode_user_data
from ciflow_local._events import cos_event
from ciflow_local._invoke import scf_context
from ciflow_local.emulator import Emulator
from tests.functional.cleanup.test_cleanup import ListSink

REGION = "ap-guangzhou"
BUCKET = "crash-1250000000"
SECRET = "local-user-data-secret-0123456789"
#: Redelivered this long after the failed invocation: every lease has lapsed (SCF retries a minute later).
AFTER_THE_LEASE = 600.0
#: (concern, settings, planner, object key, job families the emulator files its jobs under)
CONCERNS: dict[str, tuple[Any, Any, str, tuple[str, ...]]] = {
    "hash": (HashSettings, hash_plan, "uploads/hash/file-{n}.bin", ("file_jobs",)),
    "transcode": (TranscodeSettings, transcode_plan, "uploads/video/clip-{n}.mp4", ("jobs",)),
    "previews": (PreviewsSettings, previews_plan, "uploads/images/photo-{n}.jpg", ("pic_jobs",)),
    "moderate": (ModerateSettings, moderate_plan, "uploads/moderate/talk-{n}.mp4", ("video",)),
}
#: Families CI can list by input object: a lost answer is looked up, and the upload completes.
LISTED = {"transcode", "previews"}


def env() -> dict[str, str]:
    return {
        "CIFLOW_REGION": REGION,
        "CIFLOW_BUCKET": BUCKET,
        "CIFLOW_USERDATA_SECRET": SECRET,
        "CIFLOW_CALLBACK_TYPE": "Queue",
        "CIFLOW_IDEMPOTENCY_STORE": "memory",
        "CIFLOW_HASH_ALGORITHMS": "MD5,SHA1,SHA256",
        "CIFLOW_TRANSCODE_PRESETS": "mp4-240p,mp3",
    }


def cleanup_settings(base: Mapping[str, str]) -> CleanupSettings:
    """A cleanup that reconciles at once, invokes nothing, and gives an upload up after its two deliveries."""
    return load_settings(
        CleanupSettings,
        {
            **base,
            "CIFLOW_CALLBACK_TOKEN": "local-callback-token-0123456789",
            "CIFLOW_SINKS": json.dumps({"count": {"type": "local-queue"}}),
            "CIFLOW_CLEANUP_RECONCILE_AFTER_S": "0",
            "CIFLOW_CLEANUP_INVOKE_UPLOADS": "false",
            "CIFLOW_CLEANUP_GIVE_UP_AFTER_ATTEMPTS": "2",
        },
    )


class CrashingStore(MemoryStore):
    """Fails every ledger write from the ``fail_at``-th on (claim excluded), as a store gone down, or a
    process killed there, would: the record keeps its lease, nothing records why."""

    def __init__(self) -> None:
        super().__init__()
        self.fail_at: int | None = None
        self.writes = 0

    def _write(self) -> None:
        self.writes += 1
        if self.fail_at is not None and self.writes >= self.fail_at:
            raise ClaimContendedError(f"injected: ledger write {self.writes} failed")

    def record_jobs(self, key: str, jobs: Mapping[str, str], *, now: float | None = None) -> None:
        self._write()
        super().record_jobs(key, jobs, now=now)

    def complete(self, key: str, jobs: Mapping[str, str], *, ttl_seconds: float, now: float | None = None) -> None:
        self._write()
        super().complete(key, jobs, ttl_seconds=ttl_seconds, now=now)

    def annotate(
        self, key: str, fields: Mapping[str, Any], *, end_lease: bool = False, now: float | None = None
    ) -> None:
        self._write()
        super().annotate(key, fields, end_lease=end_lease, now=now)


class TimingOutClient:
    """The production client, except that the ``lose_answer_of``-th job submit does its work in CI and then
    times out reading the answer (the submit is ambiguous)."""

    def __init__(self, inner: CiClient) -> None:
        self.inner = inner
        self.lose_answer_of: int | None = None
        self.submits = 0

    def send(self, operation: Any, **kwargs: Any) -> Any:
        result = self.inner.send(operation, **kwargs)
        if operation.method == "POST":
            self.submits += 1
            if self.submits == self.lose_answer_of:
                raise AmbiguousSubmitError(f"{operation.name}: read timeout after the request was sent")
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


_runs = itertools.count(1)


def jobs_per_step(emulator: Emulator, families: tuple[str, ...], key: str) -> dict[str, int]:
    """From the emulator's own job list: how many jobs each step of this object has (its UserData or, for
    moderation, its DataId names the step)."""
    counts: dict[str, int] = {}
    for family in families:
        token: str | None = None
        while True:
            params = {"size": "100", **({"nextToken": token} if token else {})}
            details, token = emulator.engine.list(family, params, bucket=BUCKET)
            for detail in details:
                if key not in (detail.get("Object"), detail.get("Input", {}).get("Object")):
                    continue
                user_data = detail["DataId"] if "DataId" in detail else detail["Operation"]["UserData"]
                step = decode_user_data(user_data, [SECRET]).step or "?"
                counts[step] = counts.get(step, 0) + 1
            if not token:
                break
    return counts


def deliver(runner: UploadRunner[Any], key: str, etag: str) -> dict[str, Any]:
    try:
        return runner.handle(cos_event(BUCKET, key, size=2048, etag=etag), scf_context(runner.concern))
    except RetryableInvocationError as exc:
        return exc.summary.as_dict()


def run_crash(
    emulator: Emulator, client: CiClient, concern: str, *, fail_at: int | None = None, lose: int | None = None
) -> tuple[dict[str, int], list[str], CrashingStore]:
    """One upload of a fresh object: delivered with the failure injected, then again after the lease."""
    settings_type, planner, key_pattern, families = CONCERNS[concern]
    key = key_pattern.format(n=next(_runs))
    store, timing_out = CrashingStore(), TimingOutClient(client)
    now = [1_900_000_000.0]
    settings = load_settings(settings_type, env())
    runner = UploadRunner(concern, settings, planner, client=timing_out, store=store, clock=lambda: now[0])  # type: ignore[arg-type]
    client.send(ops.put_object(key, b"x" * 2048))
    store.fail_at, timing_out.lose_answer_of = fail_at, lose
    assert deliver(runner, key, "e1")["records"] == 1
    store.fail_at, timing_out.lose_answer_of = None, None
    now[0] += AFTER_THE_LEASE
    deliver(runner, key, "e1")
    (record,) = [record for record in store.records() if record.key.startswith(f"{concern}:")]
    return jobs_per_step(emulator, families, key), record.payload["steps"], store


def upload_record(store: CrashingStore) -> Any:
    (record,) = [record for record in store.records() if "concern" in record.payload]
    return record


@pytest.mark.parametrize("concern", sorted(CONCERNS))
def test_a_ledger_write_failing_at_any_point_never_bills_a_step_twice(
    emulator: Emulator, client: CiClient, concern: str
) -> None:
    _, steps, _ = run_crash(emulator, client, concern)  # no failure: how many writes a run makes
    writes = 2 * len(steps) + 1  # an intent and a job id per step, then complete()
    for fail_at in range(1, writes + 1):
        counted, steps, store = run_crash(emulator, client, concern, fail_at=fail_at)
        assert set(counted) <= set(steps)
        assert all(count == 1 for count in counted.values()), (concern, fail_at, counted)
        record = upload_record(store)
        if record.state is not RecordState.COMPLETED:
            # Only a job id lost with the store, for a family CI cannot list, is left unresolved: never resubmitted.
            assert concern not in LISTED, (concern, fail_at, record)
            assert fail_at % 2 == 0, (concern, fail_at, record)  # a job-id write, not an intent or complete()
            assert record.payload["permanent"] is False  # its job's report may still resolve it
            assert record.payload["last_error"].startswith("UnresolvedSubmitError")
            assert len(counted) == len(steps)
        else:
            assert sorted(counted) == sorted(steps), (concern, fail_at, counted)


@pytest.mark.parametrize("concern", sorted(CONCERNS))
def test_a_submit_timing_out_after_ci_did_the_work_is_not_billed_twice(
    emulator: Emulator, client: CiClient, concern: str
) -> None:
    _, steps, _ = run_crash(emulator, client, concern)
    for lose in range(1, len(steps) + 1):
        counted, steps, store = run_crash(emulator, client, concern, lose=lose)
        assert sorted(counted) == sorted(steps), (concern, lose, counted)
        assert all(count == 1 for count in counted.values()), (concern, lose, counted)
        record = upload_record(store)
        # Media and picture jobs are found by their UserData and the upload completes; file and moderation
        # jobs cannot be found, so the upload is left failed (until a report sights the job) rather than billed
        # twice.
        assert (record.state is RecordState.COMPLETED) is (concern in LISTED), json.dumps(record.payload)


def test_the_failure_free_runs_each_make_one_job_per_step(emulator: Emulator, client: CiClient, tmp_path: Path) -> None:
    for concern in CONCERNS:
        counted, steps, store = run_crash(emulator, client, concern)
        assert counted == dict.fromkeys(steps, 1)
        assert upload_record(store).state is RecordState.COMPLETED


def test_an_upload_left_unresolved_is_dead_lettered_by_the_cleanup_with_its_reason(
    emulator: Emulator, client: CiClient, tmp_path: Path
) -> None:
    counted, steps, store = run_crash(emulator, client, "hash", lose=2)
    assert counted == dict.fromkeys(steps, 1)
    settings = cleanup_settings(env())
    with DeadLetterStore(tmp_path / "dead.sqlite3") as dead:
        cleanup = CleanupRunner(
            settings,
            sinks={"count": ListSink()},
            dead_letters=dead,
            client=client,
            store=store,
            clock=lambda: 1_900_000_000.0 + 2 * AFTER_THE_LEASE,
        )
        ledger = cleanup.run(["reconcile"], Deadline.after(60))["ledger"]
        assert (ledger["failed"], ledger["gave_up"]) == (1, 1)
        (entry,) = ledger["uploads"]
        assert (entry["status"], entry["missing_steps"], entry["attempts"]) == ("given_up", ["sha1"], 2)
        (letter,) = dead.list()
        assert letter.reason.startswith("2 attempts, missing ['sha1']: UnresolvedSubmitError"), letter.reason
        assert letter.result().input is not None
        assert cast(ObjectLocation, letter.result().input).key == entry["key"]


def job_ids_by_step(emulator: Emulator, family: str, key: str) -> dict[str, str]:
    details, _ = emulator.engine.list(family, {"size": "100"}, bucket=BUCKET)
    return {
        decode_user_data(detail["Operation"]["UserData"], [SECRET]).step or "?": detail["JobId"]
        for detail in details
        if detail.get("Input", {}).get("Object") == key
    }


def test_an_upload_left_unresolved_completes_once_its_job_report_is_routed(
    emulator: Emulator, client: CiClient, tmp_path: Path
) -> None:
    counted, steps, store = run_crash(emulator, client, "hash", lose=2)
    assert counted == dict.fromkeys(steps, 1)
    record = upload_record(store)
    (lost,) = record.missing_steps
    job_id = job_ids_by_step(emulator, "file_jobs", record.payload["key"])[lost]
    settings = cleanup_settings(env())
    sink = ListSink()
    later = 1_900_000_000.0 + 2 * AFTER_THE_LEASE
    with DeadLetterStore(tmp_path / "dead.sqlite3") as dead:
        cleanup = CleanupRunner(
            settings, sinks={"count": sink}, dead_letters=dead, client=client, store=store, clock=lambda: later
        )
        # The job's report, as CI sends it (its description), reaches the callback's code before the cleanup.
        report = TaskFinish(jobs_detail=client.send(ops.describe_file_jobs(job_id)).jobs_detail)
        (result,) = normalise(report, user_data_secrets=[SECRET])
        assert (result.step, result.user_data_valid) == (lost, True)
        assert cleanup.router.route(result, Deadline.after(10)) == "routed"
        first = cleanup.run(["reconcile"], Deadline.after(60))["ledger"]
        assert (first["resolved_by_callback"], first["gave_up"]) == (1, 0)
        resolved = upload_record(store)
        assert resolved.state is RecordState.COMPLETED
        assert resolved.jobs[lost] == job_id
        second = cleanup.run(["reconcile"], Deadline.after(60))["ledger"]
        assert second["duplicate"] >= 1, second  # the routed report is not routed again by the reconcile
        assert dead.list() == []
    assert [routed.job_id for routed in sink.delivered].count(job_id) == 1
    assert jobs_per_step(emulator, ("file_jobs",), record.payload["key"]) == dict.fromkeys(steps, 1)


def test_a_document_job_whose_answer_was_lost_is_found_by_input_and_output_not_billed_twice(
    emulator: Emulator, client: CiClient
) -> None:
    key = f"uploads/docs/report-{next(_runs)}.pdf"
    store, timing_out = CrashingStore(), TimingOutClient(client)
    now = [time.time()]  # the listing is read from the claim's time on: the emulator's clock is the real one
    # A document listing needs its queue: the job must name one (CI's default queue cannot be listed).
    settings = load_settings(PreviewsSettings, {**env(), "CIFLOW_PREVIEWS_DOC_QUEUE_ID": emulator.ci.doc_queue_id})
    runner = UploadRunner("previews", settings, previews_plan, client=timing_out, store=store, clock=lambda: now[0])  # type: ignore[arg-type]
    client.send(ops.put_object(key, b"%PDF-1.4 not much of a document"))
    timing_out.lose_answer_of = 1
    first = deliver(runner, key, "e1")
    assert first["outcomes"][0]["transient"] is True
    (pending,) = upload_record(store).jobs.values()
    assert pending == "pending"
    timing_out.lose_answer_of = None
    now[0] += AFTER_THE_LEASE
    again = deliver(runner, key, "e1")
    assert again["submitted"] == 1, again
    details, _ = emulator.engine.list("doc_jobs", {"size": "100"}, bucket=BUCKET)
    jobs = [detail["JobId"] for detail in details if detail["Input"]["Object"] == key]
    assert len(jobs) == 1, "looked up, not submitted again"
    assert list(upload_record(store).jobs.values()) == jobs
    assert upload_record(store).state is RecordState.COMPLETED


def test_a_document_job_on_cis_default_queue_whose_answer_was_lost_is_left_unresolved_not_billed_twice(
    emulator: Emulator, client: CiClient
) -> None:
    key = f"uploads/docs/report-{next(_runs)}.pdf"
    store, timing_out = CrashingStore(), TimingOutClient(client)
    now = [time.time()]
    runner = UploadRunner(
        "previews",
        load_settings(PreviewsSettings, env()),
        previews_plan,
        client=cast(CiClient, timing_out),
        store=store,
        clock=lambda: now[0],
    )
    client.send(ops.put_object(key, b"%PDF-1.4 not much of a document"))
    timing_out.lose_answer_of = 1
    deliver(runner, key, "e1")
    timing_out.lose_answer_of = None
    now[0] += AFTER_THE_LEASE
    again = deliver(runner, key, "e1")
    assert again["outcomes"][0]["error"].startswith("UnresolvedSubmitError"), again
    details, _ = emulator.engine.list("doc_jobs", {"size": "100"}, bucket=BUCKET)
    assert len([detail for detail in details if detail["Input"]["Object"] == key]) == 1
