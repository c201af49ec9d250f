"""The cleanup function against the emulator: lost callbacks reconciled exactly once, purge confined to its
prefixes (and dry-run), a run cut off by the deadline finished by the next one."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ciflow import operations as ops
from ciflow.callback import CallbackRunner, CallbackSettings
from ciflow.cleanup import CleanupRunner, CleanupSettings
from ciflow.client import CiClient, Deadline, Endpoint, RetryPolicy
from ciflow.concerns.hash import HashSettings, plan
from ciflow.config import load_settings
from ciflow.handlers import UploadRunner
from ciflow.idempotency import MemoryStore
from ciflow.results import JobResult
from ciflow.routing import DeadLetterStore
from ciflow_local._events import cos_event
from ciflow_local._invoke import scf_context
from ciflow_local._shims import api_gateway_event
from ciflow_local.emulator import DEFAULT_CREDENTIALS, Emulator, Faults

REGION = "ap-guangzhou"
BUCKET = "cleanup-1250000000"
TOKEN = "local-callback-token-0123456789"
SECRET = "local-user-data-secret-0123456789"


class CountingSink:
    name = "count"

    def __init__(self) -> None:
        self.delivered: list[JobResult] = []
        self.lock = threading.Lock()

    def deliver(self, result: JobResult, *, deadline: Deadline | None = None) -> None:
        with self.lock:
            self.delivered.append(result)


def env(**extra: str) -> dict[str, str]:
    return {
        "CIFLOW_REGION": REGION,
        "CIFLOW_BUCKET": BUCKET,
        "CIFLOW_CALLBACK_TOKEN": TOKEN,
        "CIFLOW_USERDATA_SECRET": SECRET,
        "CIFLOW_IDEMPOTENCY_STORE": "memory",
        "CIFLOW_SINKS": json.dumps({"count": {"type": "local-queue"}}),
        **extra,
    }


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(tmp_path / "emu", faults=Faults(drop_callback_rate=0.4, seed=7)) as emu:
        yield emu


@pytest.fixture
def client(emulator: Emulator) -> Iterator[CiClient]:
    endpoint = Endpoint(REGION, BUCKET, scheme="http", override=emulator.url)
    with CiClient(endpoint, DEFAULT_CREDENTIALS, retry=RetryPolicy(attempts=1)) as ci_client:
        yield ci_client


class World:
    """Upload handler, callback function (behind a loopback HTTP server) and cleanup sharing one store."""

    def __init__(self, client: CiClient, tmp_path: Path, callback_url: str) -> None:
        self.client = client
        self.store = MemoryStore()
        self.sink = CountingSink()
        self.dead = DeadLetterStore(tmp_path / "dead.sqlite3")
        callback_settings = load_settings(CallbackSettings, env())
        self.callback = CallbackRunner(
            callback_settings, sinks={"count": self.sink}, dead_letters=self.dead, client=client, store=self.store
        )
        hash_settings = load_settings(HashSettings, env(CIFLOW_CALLBACK_URL=callback_url))
        self.uploads = UploadRunner("hash", hash_settings, plan, client=client, store=self.store)

    def cleanup(self, **extra: str) -> CleanupRunner:
        settings = load_settings(CleanupSettings, env(CIFLOW_CLEANUP_RECONCILE_AFTER_S="0", **extra))
        return CleanupRunner(
            settings, sinks={"count": self.sink}, dead_letters=self.dead, client=self.client, store=self.store
        )


@pytest.fixture
def world(client: CiClient, tmp_path: Path) -> Iterator[World]:
    holder: list[World] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            query = {"token": [TOKEN]}
            event = api_gateway_event("POST", "/callback", dict(self.headers.items()), query, body)
            answer = holder[0].callback.handle(event, scf_context("callback"))
            self.send_response(int(answer["statusCode"]))
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    holder.append(World(client, tmp_path, f"http://127.0.0.1:{server.server_address[1]}/callback"))
    try:
        yield holder[0]
    finally:
        server.shutdown()
        server.server_close()
        holder[0].dead.close()


def upload_and_wait(world: World, emulator: Emulator, count: int) -> list[str]:
    job_ids: list[str] = []
    for index in range(count):
        key = f"uploads/hash/file-{index}.bin"
        body = f"content {index}".encode() * 10
        world.client.send(ops.put_object(key, body))
        summary = world.uploads.handle(cos_event(BUCKET, key, size=len(body)), scf_context("hash"))
        assert summary["submitted"] == 1, summary
    for record in world.store.records():
        if "concern" in record.payload:
            job_ids.extend(record.jobs.values())
    for job_id in job_ids:
        emulator.engine.wait(job_id, delivered=True)
    return job_ids


def test_reconcile_routes_every_result_exactly_once(world: World, emulator: Emulator) -> None:
    job_ids = upload_and_wait(world, emulator, 12)
    assert emulator.dropped_callbacks > 0
    by_callback = len(world.sink.delivered)
    assert by_callback == len(job_ids) - emulator.dropped_callbacks
    summary = world.cleanup().run(["reconcile"], Deadline.after(60))
    assert summary["complete"] is True
    assert summary["ledger"]["routed"] == emulator.dropped_callbacks
    assert sorted(r.job_id or "" for r in world.sink.delivered) == sorted(job_ids)
    again = world.cleanup().run(["reconcile"], Deadline.after(60))
    assert again["ledger"]["routed"] == 0
    assert len(world.sink.delivered) == len(job_ids)


def test_a_run_cut_off_by_the_deadline_continues_on_the_next(world: World, emulator: Emulator) -> None:
    job_ids = upload_and_wait(world, emulator, 8)
    ticks = itertools.count()
    short = Deadline.after(3, clock=lambda: float(next(ticks)))  # expires after a few checks
    first = world.cleanup().run(["reconcile"], short)
    assert first["ledger"]["complete"] is False
    assert first["complete"] is False
    second = world.cleanup().run(["reconcile"], Deadline.after(60))
    assert second["ledger"]["complete"] is True
    assert second["ledger"]["records"] + first["ledger"]["records"] == len(job_ids)
    assert sorted(r.job_id or "" for r in world.sink.delivered) == sorted(job_ids)


def test_purge_stays_inside_its_prefixes_and_honours_dry_run(world: World) -> None:
    keys = ["tmp/a.bin", "tmp/b/c.bin", "tmpfile.bin", "keep/tmp/d.bin", "uploads/x.bin", "scratch/e.bin"]
    for key in keys:
        world.client.send(ops.put_object(key, b"x"))
    month_later = time.time() + 30 * 86400

    def listed() -> set[str]:
        return {item.key for page in world.client.paginate(ops.list_objects("")) for item in page.contents}

    extra = {"CIFLOW_CLEANUP_PURGE_PREFIXES": "tmp/,scratch/", "CIFLOW_CLEANUP_PURGE_AFTER_DAYS": "7"}
    dry = world.cleanup(CIFLOW_CLEANUP_DRY_RUN="true", **extra)
    dry.clock = lambda: month_later
    summary = dry.run(["purge"], Deadline.after(60))
    assert summary["purge"]["would_delete"] == 3
    assert summary["purge"]["deleted"] == 0
    assert set(keys) <= listed()
    fresh = world.cleanup(**extra).run(["purge"], Deadline.after(60))  # nothing is 7 days old yet
    assert fresh["purge"]["deleted"] == 0
    real = world.cleanup(**extra)
    real.clock = lambda: month_later
    assert real.run(["purge"], Deadline.after(60))["purge"]["deleted"] == 3
    remaining = listed()
    assert {"tmpfile.bin", "keep/tmp/d.bin", "uploads/x.bin"} <= remaining
    assert not {"tmp/a.bin", "tmp/b/c.bin", "scratch/e.bin"} & remaining
