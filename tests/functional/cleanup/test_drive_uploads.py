"""Invocations of unfinished uploads: per-run limit, once a run, per-upload bound, then given up; off switch."""

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from ciflow.api3 import SCF_HOST, Api3Error, Invocation, ScfInvoker
from ciflow.cleanup import CleanupRunner, CleanupSettings
from ciflow.cleanup._drive import INVOCATIONS
from ciflow.cleanup._unfinished import UPLOADS_SINK
from ciflow.client import CiClient, Deadline, Endpoint, RetryPolicy
from ciflow.config import load_settings
from ciflow.events import parse_cos_event
from ciflow.idempotency import MemoryStore
from ciflow.routing import DeadLetterStore
from ciflow.signing import Credentials

from .test_cleanup import BUCKET, ENV, ListSink

T0 = 1_800_000_000.0
HOUR = 3600.0


class FakeScf:
    """Takes invocations (or refuses them, while ``refusing``), recording function and event."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Mapping[str, Any]]] = []
        self.refusing = False

    def invoke(self, function: str, event: Mapping[str, Any], *, deadline: Deadline | None = None) -> Invocation:
        self.calls.append((function, event))
        if self.refusing:
            raise Api3Error("Invoke", "ResourceNotFound.Function", "no such function", transient=False)
        return Invocation(function, f"req-{len(self.calls)}")

    def keys(self) -> list[str]:
        return [parse_cos_event(event).records[0].object_ref().key for _, event in self.calls]


class World:
    def __init__(self, tmp_path: Path) -> None:
        self.now = T0
        self.store = MemoryStore()
        self.scf = FakeScf()
        self.dead = DeadLetterStore(tmp_path / "dead.sqlite3")
        credentials = Credentials("AKIDcleanup", "cleanup-secret-key")
        self.client = CiClient(Endpoint("ap-guangzhou", BUCKET), credentials, retry=RetryPolicy(attempts=1))

    def upload(self, name: str, *, error: str | None = "ServerError: 503", lease: float = 60, **extra: Any) -> str:
        """A hash upload's record, its last owner gone (with ``error``: failed, it said why)."""
        key = f"hash:{BUCKET}/in/{name}@e1"
        payload = {
            "concern": "hash", "bucket": BUCKET, "region": "ap-guangzhou", "key": f"in/{name}", "version": "e1",
            "object": {"size": 3, "etag": "e1"}, "steps": ["md5", "sha256"], "route": "hash",
        }  # fmt: skip
        self.store.claim(key, lease_seconds=lease, ttl_seconds=86400, payload=payload, now=T0 - HOUR)
        if error is not None:
            failure = {"last_error": error, "missing_steps": ["md5", "sha256"], **extra}
            self.store.annotate(key, failure, end_lease=True, now=T0 - HOUR)
        return key

    def run(self, **env: str) -> dict[str, Any]:
        settings = load_settings(CleanupSettings, {**ENV, "CIFLOW_IDEMPOTENCY_STORE": "memory", **env})
        runner = CleanupRunner(
            settings, sinks={"list": ListSink()}, dead_letters=self.dead, client=self.client, store=self.store,
            clock=lambda: self.now, invoker=self.scf,
        )  # fmt: skip
        ledger: dict[str, Any] = runner.run(["reconcile"], Deadline.after(30))["ledger"]
        return ledger

    def invocations(self, key: str) -> int:
        record = self.store.get(key, now=self.now)
        assert record is not None
        return int(record.payload.get(INVOCATIONS, 0))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    built = World(tmp_path)
    yield built
    built.client.close()
    built.dead.close()


def test_a_run_invokes_no_more_than_its_limit(world: World) -> None:
    keys = [world.upload(f"{n}.bin") for n in range(3)]
    ledger = world.run(CIFLOW_CLEANUP_INVOKE_LIMIT="2")
    assert (ledger["failed"], ledger["invoked"], ledger["invoke_deferred"], ledger["gave_up"]) == (3, 2, 1, 0)
    assert [function for function, _ in world.scf.calls] == ["ciflow-hash", "ciflow-hash"]
    assert world.scf.keys() == ["in/0.bin", "in/1.bin"]
    assert [world.invocations(key) for key in keys] == [1, 1, 0]
    driven = [entry.get("driven", "") for entry in ledger["uploads"]]
    assert driven[0].startswith("invoked ciflow-hash (request id req-1)")
    assert driven[2].startswith("deferred")
    world.now += 301
    assert world.run(CIFLOW_CLEANUP_INVOKE_LIMIT="2")["invoked"] == 2
    assert [world.invocations(key) for key in keys] == [2, 2, 0]
    # A backlog is worked through in ledger order: the first uploads spend their bound, the rest get their turn.
    world.now += 301
    third = world.run(CIFLOW_CLEANUP_INVOKE_LIMIT="2")
    assert (third["gave_up"], third["invoked"], third["invoke_deferred"]) == (2, 1, 0)
    assert [world.invocations(key) for key in keys] == [2, 2, 1]


def test_an_upload_is_invoked_once_a_run_up_to_its_bound_then_given_up(world: World) -> None:
    key = world.upload("stuck.bin")
    assert world.run()["invoked"] == 1
    assert world.run()["invoked"] == 0  # invoked moments ago: its invocation may still be queued or running
    world.now += 301
    assert world.run()["invoked"] == 1
    assert world.invocations(key) == 2
    again = world.run()
    assert (again["invoked"], again["gave_up"]) == (0, 0)  # the last invocation is given its time
    world.now += 301
    spent = world.run()
    assert (spent["invoked"], spent["gave_up"]) == (0, 1)
    assert spent["uploads"][0]["status"] == "given_up"
    (letter,) = world.dead.list()
    assert letter.sink == UPLOADS_SINK
    assert "(2 invoked by the cleanup)" in letter.reason
    world.now += 301
    assert (world.run()["invoked"], len(world.scf.calls)) == (0, 2)


def test_a_failed_invocation_counts_towards_the_bound(world: World) -> None:
    key = world.upload("nowhere.bin")
    world.scf.refusing = True
    first = world.run(CIFLOW_CLEANUP_INVOKE_EVERY_S="0")
    assert (first["invoked"], first["invoke_failed"]) == (0, 1)
    assert "ResourceNotFound.Function" in first["uploads"][0]["driven"]
    assert world.invocations(key) == 1
    world.run(CIFLOW_CLEANUP_INVOKE_EVERY_S="0")
    assert world.run(CIFLOW_CLEANUP_INVOKE_EVERY_S="0")["gave_up"] == 1
    assert len(world.scf.calls) == 2


def test_permanent_failures_running_uploads_and_undeliverable_records_are_not_invoked(world: World) -> None:
    world.upload("bad.bin", error="refused: not a video", permanent=True)
    world.upload("running.bin", error=None, lease=3 * HOUR)  # its handler's lease still runs
    legacy = world.upload("legacy.bin")
    record = world.store.get(legacy, now=T0)
    assert record is not None
    world.store.release(legacy)  # a record from before regions were kept: it cannot be delivered again
    payload = {k: v for k, v in record.payload.items() if k not in ("region", "attempts")}
    world.store.claim(legacy, lease_seconds=1, ttl_seconds=86400, payload=payload, now=T0 - HOUR)
    ledger = world.run()
    assert (ledger["invoked"], ledger["gave_up"]) == (0, 1)
    assert world.scf.calls == []
    assert [letter.reason.startswith("failed permanently") for letter in world.dead.list()] == [True]


def test_the_off_switch_and_the_function_prefix(world: World) -> None:
    world.upload("a.bin", attempts=3)
    off = world.run(CIFLOW_CLEANUP_INVOKE_UPLOADS="false", CIFLOW_CLEANUP_GIVE_UP_AFTER_ATTEMPTS="1")
    assert (off["invoked"], off["gave_up"], world.scf.calls) == (0, 1, [])
    world.upload("b.bin")
    assert world.run(CIFLOW_CLEANUP_FUNCTION_PREFIX="prod-ciflow-")["invoked"] == 1
    assert world.scf.calls[0][0] == "prod-ciflow-hash"


def test_the_runner_builds_its_invoker_from_the_settings(world: World) -> None:
    env = {**ENV, "CIFLOW_CLEANUP_INVOKE_ENDPOINT": "http://127.0.0.1:9/", "CIFLOW_CLEANUP_FUNCTION_NAMESPACE": "ns"}
    runner = CleanupRunner(
        load_settings(CleanupSettings, env), sinks={}, dead_letters=world.dead, client=world.client, store=world.store
    )
    assert isinstance(runner.invoker, ScfInvoker)
    assert (runner.invoker.target.url, runner.invoker.target.host) == ("http://127.0.0.1:9", SCF_HOST)
    assert (runner.invoker.target.region, runner.invoker.namespace) == ("ap-guangzhou", "ns")
    off = load_settings(CleanupSettings, {**ENV, "CIFLOW_CLEANUP_INVOKE_UPLOADS": "false"})
    assert CleanupRunner(off, sinks={}, dead_letters=world.dead, client=world.client, store=world.store).invoker is None
