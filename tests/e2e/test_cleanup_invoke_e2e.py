"""On the emulator, the cleanup invokes a failed upload's function: one job, one routed result, or a dead letter."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ciflow import operations as ops
from ciflow.api3 import ScfInvoker
from ciflow.cleanup import CleanupRunner, CleanupSettings
from ciflow.cleanup._unfinished import GAVE_UP_EVENT, UPLOADS_SINK
from ciflow.client import CiClient, Deadline, Endpoint, RetryPolicy
from ciflow.concerns.hash import HashSettings
from ciflow.concerns.hash import plan as hash_plan
from ciflow.config import load_settings
from ciflow.handlers import UploadRunner
from ciflow.handlers._outcome import RetryableInvocationError
from ciflow.idempotency import MemoryStore, RecordState
from ciflow.routing import DeadLetterStore
from ciflow_local._events import cos_event
from ciflow_local._invoke import scf_context
from ciflow_local.emulator import DEFAULT_CREDENTIALS, Emulator
from tests.functional.cleanup.test_cleanup import ListSink

REGION = "ap-guangzhou"
BUCKET = "finish-1250000000"
SECRET = "local-user-data-secret-0123456789"
GOOD, HEALED, DOOMED = "uploads/hash/good.bin", "uploads/hash/healed.bin", "uploads/hash/doomed.bin"
_UNAVAILABLE = (
    b"<?xml version='1.0' encoding='utf-8' ?><Response><Code>ServiceUnavailable</Code>"
    b"<Message>injected</Message><RequestId>injected</RequestId></Response>"
)


def env(**extra: str) -> dict[str, str]:
    return {
        "CIFLOW_REGION": REGION,
        "CIFLOW_BUCKET": BUCKET,
        "CIFLOW_USERDATA_SECRET": SECRET,
        "CIFLOW_CALLBACK_TYPE": "Queue",
        "CIFLOW_CALLBACK_TOKEN": "local-callback-token-0123456789",
        "CIFLOW_IDEMPOTENCY_STORE": "memory",
        "CIFLOW_SINKS": json.dumps({"list": {"type": "local-queue"}}),
        **extra,
    }


class FailingSubmits(httpx.BaseTransport):
    """The real transport, except that job submits naming a poisoned key are answered 503 by "CI"."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.poisoned: set[str] = set()
        self.injected = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        if request.method == "POST" and any(key.encode() in body for key in self.poisoned):
            self.injected += 1
            return httpx.Response(503, headers={"Content-Type": "application/xml"}, content=_UNAVAILABLE)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class World:
    def __init__(self, emulator: Emulator, tmp_path: Path) -> None:
        self.emulator = emulator
        self.faults = FailingSubmits()
        endpoint = Endpoint(REGION, BUCKET, scheme="http", override=emulator.url)
        retry = RetryPolicy(attempts=3, base_delay=0.0, max_delay=0.0)
        self.client = CiClient(endpoint, DEFAULT_CREDENTIALS, retry=retry, transport=self.faults)
        self.store = MemoryStore()
        self.uploads = UploadRunner(
            "hash", load_settings(HashSettings, env()), hash_plan, client=self.client, store=self.store
        )
        self.sink = ListSink()
        self.dead = DeadLetterStore(tmp_path / "dead.sqlite3")
        self.invoker = ScfInvoker(REGION, endpoint=emulator.api_url, credentials=DEFAULT_CREDENTIALS)
        emulator.scf.on_invoke("ciflow-hash", self.deliver)

    def deliver(self, event: Any) -> dict[str, Any]:
        try:
            return self.uploads.handle(event, scf_context("hash"))
        except RetryableInvocationError as exc:
            return exc.summary.as_dict()

    def upload(self, key: str) -> dict[str, Any]:
        body = f"content of {key}".encode() * 20
        etag = self.client.send(ops.put_object(key, body)).etag
        return self.deliver(cos_event(BUCKET, key, size=len(body), etag=(etag or "").strip('"')))

    def cleanup(self) -> dict[str, Any]:
        settings = load_settings(
            CleanupSettings,
            env(
                CIFLOW_CLEANUP_RECONCILE_AFTER_S="0",
                CIFLOW_CLEANUP_INVOKE_EVERY_S="0",
                CIFLOW_CLEANUP_INVOKE_ATTEMPTS="2",
            ),
        )
        runner = CleanupRunner(
            settings,
            sinks={"list": self.sink},
            dead_letters=self.dead,
            client=self.client,
            store=self.store,
            invoker=self.invoker,
        )
        ledger: dict[str, Any] = runner.run(["reconcile"], Deadline.after(60))["ledger"]
        assert self.emulator.scf.wait_invocations(30)
        return ledger

    def record(self, key: str) -> Any:
        (record,) = [r for r in self.store.records() if r.payload.get("key") == key]
        return record

    def jobs_of(self, key: str) -> list[str]:
        """From the emulator's own file-job list: the jobs whose input is ``key``."""
        details, _ = self.emulator.engine.list("file_jobs", {"size": "100"}, bucket=BUCKET)
        return [detail["JobId"] for detail in details if detail.get("Input", {}).get("Object") == key]

    def close(self) -> None:
        self.invoker.close()
        self.client.close()
        self.dead.close()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with Emulator(tmp_path / "emu") as emulator:
        built = World(emulator, tmp_path)
        try:
            yield built
        finally:
            built.close()


def finish_jobs(world: World, *keys: str) -> list[str]:
    job_ids = [job for key in keys for job in world.jobs_of(key)]
    for job_id in job_ids:
        world.emulator.engine.wait(job_id)
    return job_ids


def test_a_failed_upload_is_invoked_again_and_finished_once(world: World) -> None:
    assert world.upload(GOOD)["submitted"] == 1
    world.faults.poisoned.add(HEALED)
    failed = world.upload(HEALED)
    assert failed["failed"] == 1, failed
    assert world.faults.injected == 1  # a submit is not repeated blindly: the handler records it failed
    record = world.record(HEALED)
    assert "503" in record.last_error
    assert record.missing_steps
    assert world.jobs_of(HEALED) == []
    world.faults.poisoned.clear()  # CI is healthy again; no new event will come from COS

    first = world.cleanup()
    assert (first["failed"], first["invoked"], first["invoke_failed"], first["gave_up"]) == (1, 1, 0, 0)
    (served,) = world.emulator.scf.invocations
    assert (served.function, served.invocation_type, served.error) == ("ciflow-hash", "Event", None)
    assert world.record(HEALED).state is RecordState.COMPLETED
    assert len(world.jobs_of(HEALED)) == 1

    job_ids = finish_jobs(world, GOOD, HEALED)
    second = world.cleanup()
    assert (second["failed"], second["invoked"]) == (0, 0)
    routed = sorted(result.job_id or "" for result in world.sink.delivered)
    assert routed == sorted(job_ids)  # both uploads' results, each once
    assert world.cleanup()["routed"] == 0
    assert len(world.sink.delivered) == len(job_ids)
    assert len(world.jobs_of(HEALED)) == 1
    assert world.dead.list() == []


def test_an_upload_that_keeps_failing_is_given_up_after_the_bound(world: World) -> None:
    world.faults.poisoned.add(DOOMED)
    assert world.upload(DOOMED)["failed"] == 1
    runs = [world.cleanup() for _ in range(4)]
    assert [run["invoked"] for run in runs] == [1, 1, 0, 0]
    assert [run["gave_up"] for run in runs] == [0, 0, 1, 0]
    assert len(world.emulator.scf.invocations) == 2
    assert all(item.error is None for item in world.emulator.scf.invocations)  # the handler answered each
    assert world.faults.injected == 3  # the upload's delivery and the cleanup's two
    assert world.jobs_of(DOOMED) == []
    (letter,) = world.dead.list()
    assert letter.sink == UPLOADS_SINK
    assert "2 invoked by the cleanup" in letter.reason
    assert "503" in letter.reason
    result = letter.result()
    assert (result.event, result.input and result.input.key) == (GAVE_UP_EVENT, DOOMED)
    assert world.record(DOOMED).attempts == 3
