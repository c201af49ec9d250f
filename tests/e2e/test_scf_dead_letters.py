"""Uploads SCF gave up on before any ledger saw them: drained from SCF's dead-letter queue by the cleanup.

The queue is the emulator's CMQ data plane over loopback, read with the production reader; the messages are
in the shape Tencent documents (``events/scf-dead-letter-cos.json``). The last test runs the whole path:
the hosted upload function's store is black-holed through a real TCP proxy for every SCF retry, the local SCF
dead-letters the event, and the cleanup's drain delivers it again once the store is back.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, cast

import pytest
import redis

from ciflow import operations as ops
from ciflow.api3 import Invocation
from ciflow.cleanup import CleanupRunner, CleanupSettings
from ciflow.client import CiClient, Deadline, Endpoint, RetryPolicy
from ciflow.config import load_settings
from ciflow.idempotency import MemoryStore
from ciflow.routing import CmqQueueReader, DeadLetterStore
from ciflow_local._demo import BUCKET as DEMO_BUCKET
from ciflow_local._demo import FUNCTION_ENV, default_functions_dir
from ciflow_local._events import cos_event
from ciflow_local._scf_dead_letters import DEFAULT_DEAD_LETTER_QUEUE as DEAD_LETTER_QUEUE
from ciflow_local._scf_dead_letters import ScfDeadLetterQueue, scf_dead_letter_message
from ciflow_local._shims import LocalFunctions
from ciflow_local.drill._proxy import FaultProxy
from ciflow_local.emulator import DEFAULT_CREDENTIALS, Emulator
from tests.functional.cleanup.test_cleanup import ListSink

REGION = "ap-guangzhou"
BUCKET = "dlq-1250000000"
QUEUE = "ciflow-scf-dead-letters"
EVENTS = Path(__file__).resolve().parents[2] / "events"
#: Redis database of the last test (tests run one at a time; no other module uses it).
REDIS_DB = 10


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


class RecordingInvoker:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Mapping[str, Any]]] = []

    def invoke(self, function: str, event: Mapping[str, Any], *, deadline: Deadline | None = None) -> Invocation:
        self.calls.append((function, event))
        return Invocation(function, f"req-{len(self.calls)}")


def upload_event(key: str, *, redrives: int | None = None) -> dict[str, Any]:
    event = cos_event(BUCKET, key, region=REGION, size=64, etag=f"etag-{len(key)}")
    if redrives is not None:
        event["Records"][0]["event"]["reservedInfo"] = f"ciflow:scf-dead-letter:{redrives}"
    return event


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def dead(tmp_path: Path) -> Iterator[DeadLetterStore]:
    with DeadLetterStore(tmp_path / "dead.sqlite3") as letters:
        yield letters


@pytest.fixture
def reader(emulator: Emulator) -> Iterator[CmqQueueReader]:
    with CmqQueueReader(emulator.cmq_url, QUEUE, credentials=DEFAULT_CREDENTIALS, visibility_timeout=1) as opened:
        yield opened


def cleanup(
    reader: CmqQueueReader, client: CiClient, store: MemoryStore, dead: Any, invoker: RecordingInvoker | None
) -> CleanupRunner:
    env = {
        "CIFLOW_REGION": REGION,
        "CIFLOW_BUCKET": BUCKET,
        "CIFLOW_CALLBACK_TOKEN": "local-callback-token-0123456789",
        "CIFLOW_USERDATA_SECRET": "local-user-data-secret-0123456789",
        "CIFLOW_SINKS": json.dumps({"list": {"type": "local-queue"}}),
        "CIFLOW_IDEMPOTENCY_STORE": "memory",
        "CIFLOW_CLEANUP_SCF_DEAD_LETTER_QUEUE": QUEUE,
        "CIFLOW_CLEANUP_SCF_DEAD_LETTER_ENDPOINT": str(reader.url),
        **({} if invoker else {"CIFLOW_CLEANUP_INVOKE_UPLOADS": "false"}),
    }
    return CleanupRunner(
        load_settings(CleanupSettings, env),
        sinks={"list": ListSink()},
        dead_letters=dead,
        client=client,
        store=store,
        invoker=invoker,
        scf_dead_letters=reader,
    )


def drain(runner: CleanupRunner) -> dict[str, Any]:
    section: dict[str, Any] = runner.run(["scf-dlq"], Deadline.after(30))["scf_dead_letters"]
    return section


def test_an_unclaimed_upload_is_delivered_again_marked_and_its_message_deleted(
    emulator: Emulator, reader: CmqQueueReader, client: CiClient, store: MemoryStore, dead: DeadLetterStore
) -> None:
    invoker = RecordingInvoker()
    event = upload_event("uploads/hash/never claimed+ü.bin")
    emulator.cmq.send(QUEUE, scf_dead_letter_message("ciflow-hash", event, "ConnectionError: store down", retries=2))
    summary = drain(cleanup(reader, client, store, dead, invoker))
    assert (summary["messages"], summary["redriven"], summary["complete"]) == (1, 1, True)
    ((function, invoked),) = invoker.calls
    assert function == "ciflow-hash"
    expected = copy.deepcopy(event)
    expected["Records"][0]["event"]["reservedInfo"] = "ciflow:scf-dead-letter:1"
    assert invoked == expected
    assert emulator.cmq.messages(QUEUE) == []
    assert dead.list() == []


def test_once_its_redeliveries_are_spent_the_upload_is_given_up_with_scfs_reason(
    emulator: Emulator, reader: CmqQueueReader, client: CiClient, store: MemoryStore, dead: DeadLetterStore
) -> None:
    invoker = RecordingInvoker()
    event = upload_event("uploads/hash/spent.bin", redrives=2)
    error = "Traceback (most recent call last):\n  ...\nredis.exceptions.ConnectionError: refused"
    emulator.cmq.send(QUEUE, scf_dead_letter_message("ciflow-hash", event, error, retries=2))
    summary = drain(cleanup(reader, client, store, dead, invoker))
    assert (summary["gave_up"], summary.get("redriven", 0)) == (1, 0)
    assert invoker.calls == []
    (letter,) = dead.list()
    assert letter.reason.startswith("SCF dead-lettered its event after 2 retries (redis.exceptions.ConnectionError")
    assert "2 redelivered by the cleanup" in letter.reason
    result = letter.result()
    assert result.input is not None
    assert result.input.key == "uploads/hash/spent.bin"
    assert result.details["function"] == "ciflow-hash"
    assert emulator.cmq.messages(QUEUE) == []


def test_without_invocations_an_unclaimed_upload_is_given_up_at_once(
    emulator: Emulator, reader: CmqQueueReader, client: CiClient, store: MemoryStore, dead: DeadLetterStore
) -> None:
    emulator.cmq.send(QUEUE, (EVENTS / "scf-dead-letter-cos.json").read_text(encoding="utf-8"))
    summary = drain(cleanup(reader, client, store, dead, None))
    assert summary["gave_up"] == 1
    (letter,) = dead.list()
    assert letter.result().input.key == "uploads/2026/视频 final+cut.mp4"  # type: ignore[union-attr]


def test_a_claimed_upload_is_left_to_the_ledger_walk_and_garbage_is_dead_lettered_not_dropped(
    emulator: Emulator, reader: CmqQueueReader, client: CiClient, store: MemoryStore, dead: DeadLetterStore
) -> None:
    invoker = RecordingInvoker()
    event = upload_event("uploads/hash/claimed.bin")
    from ciflow.events import parse_cos_event

    ((_, ref),) = list(parse_cos_event(event).records_or_errors())
    store.claim(f"hash:{ref.identity}", lease_seconds=60, ttl_seconds=3600, payload={"concern": "hash"})  # type: ignore[union-attr]
    emulator.cmq.send(QUEUE, scf_dead_letter_message("ciflow-hash", event, "boom", retries=2))
    emulator.cmq.send(QUEUE, "this is not SCF's")
    emulator.cmq.send(QUEUE, scf_dead_letter_message("someone-else", event, "boom", retries=2))
    summary = drain(cleanup(reader, client, store, dead, invoker))
    assert (summary["in_ledger"], summary["unreadable"], summary["not_ours"]) == (1, 1, 1)
    assert invoker.calls == []
    reasons = sorted(letter.reason for letter in dead.list())
    assert reasons[0].startswith("SCF dead letter of 'someone-else'")
    assert reasons[1].startswith("unreadable SCF dead letter")
    assert emulator.cmq.messages(QUEUE) == []


class BrokenDeadLetters:
    def add(self, *args: Any, **kwargs: Any) -> None:
        raise OSError("dead-letter store down")


def test_a_message_that_cannot_be_handled_stays_in_the_queue(
    emulator: Emulator, reader: CmqQueueReader, client: CiClient, store: MemoryStore
) -> None:
    emulator.cmq.send(QUEUE, "garbage that must be filed")
    runner = cleanup(reader, client, store, BrokenDeadLetters(), None)
    summary = runner.run(["scf-dlq"], Deadline.after(30))
    assert summary["complete"] is True  # the queue was read to its end
    assert (summary["scf_dead_letters"]["messages"], summary["scf_dead_letters"]["errors"]) == (1, 1)
    (kept,) = emulator.cmq.messages(QUEUE)
    assert kept.body == "garbage that must be filed", "not deleted: it comes back after its visibility timeout"
    emulator.cmq.delete(QUEUE, cast(str, kept.receipt_handle))


def test_an_upload_whose_store_was_down_for_every_retry_is_finished_from_scfs_dead_letter_queue(
    tmp_path: Path,
) -> None:
    connection = redis.Redis(db=REDIS_DB)
    connection.flushdb()
    proxy = FaultProxy("127.0.0.1", 6379)
    port = proxy.start()
    store_env = {
        "CIFLOW_IDEMPOTENCY_STORE": "redis",
        "CIFLOW_REDIS_URL": f"redis://127.0.0.1:{port}/{REDIS_DB}?socket_timeout=0.5&socket_connect_timeout=0.5",
    }
    env = {name: {**values, **store_env} for name, values in {**FUNCTION_ENV, "hash": {}}.items()}
    key = "uploads/hash/store down.bin"
    with Emulator(tmp_path / "emu") as emulator:
        functions = LocalFunctions(
            emulator.url,
            tmp_path,
            DEMO_BUCKET,
            REGION,
            default_functions_dir(),
            function_env=env,
            scf_api_url=emulator.api_url,
            dead_letters=ScfDeadLetterQueue(emulator.cmq_url, emulator.cmq.send),
        )
        try:
            with functions:
                emulator.on_upload.append(functions.uploads)
                functions.serve_invocations(emulator.scf)
                proxy.set_blackhole(True)
                endpoint = Endpoint(REGION, DEMO_BUCKET, scheme="http", override=emulator.url)
                with CiClient(endpoint, DEFAULT_CREDENTIALS, retry=RetryPolicy(attempts=1)) as uploader:
                    uploader.send(ops.put_object(key, b"hash me" * 100))
                # The upload event is announced after the PUT is answered: wait for SCF's last step, the letter.
                assert wait_for(lambda: bool(emulator.cmq.messages(DEAD_LETTER_QUEUE)), 60)
                assert functions.uploads.wait_idle(60)
                tries = [i for i in functions.uploads.invocations if i.function == "hash"]
                assert len(tries) == 3
                assert all(i.error for i in tries), [i.error for i in tries]
                (letter,) = emulator.cmq.messages(functions.dead_letters.queue)  # type: ignore[union-attr]
                assert json.loads(letter.body)["Body"]["FunctionName"] == "ciflow-hash"

                proxy.set_blackhole(False)
                summary = functions.tick("scf-dlq")["scf_dead_letters"]
                assert (summary["messages"], summary["redriven"]) == (1, 1), summary
                assert emulator.scf.wait_invocations(30)
                assert functions.uploads.wait_idle(60)
                redelivered = [i for i in functions.uploads.invocations if i.function == "hash"][3:]
                assert [i.error for i in redelivered] == [None]
                assert redelivered[0].result["submitted"] == 1
                assert emulator.cmq.messages(functions.dead_letters.queue) == []  # type: ignore[union-attr]
        finally:
            proxy.stop()
    (record_key,) = [k for k in connection.scan_iter("*") if b"hash:" in k and b"store down" in k]
    assert record_key
    connection.flushdb()
