"""The cleanup function against the emulator: lost callbacks reconciled exactly once, stuck jobs cancelled,
purge confined to its prefixes (and dry-run), records expired, dead letters redriven, a run cut off by the
deadline finished by the next one."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ciflow import operations as ops
from ciflow.callback import CallbackRunner, CallbackSettings
from ciflow.cleanup import RUN_LEASE, CleanupRunner, CleanupSettings
from ciflow.client import CiClient, Deadline
from ciflow.concerns.hash import HashSettings
from ciflow.concerns.hash import plan as hash_plan
from ciflow.concerns.transcode import TranscodeSettings
from ciflow.concerns.transcode import plan as transcode_plan
from ciflow.config import load_settings
from ciflow.handlers import UploadRunner
from ciflow.idempotency import SIGHTING_PREFIX, MemoryStore
from ciflow.results import JobResult
from ciflow.routing import CosDeadLetterStore, DeadLetterStore, DeliveryError
from ciflow_local._events import cos_event
from ciflow_local._invoke import scf_context
from ciflow_local.emulator import Emulator, Faults
from tests.support.callback_host import serve_callback

REGION = "ap-guangzhou"
BUCKET = "cleanup-1250000000"
TOKEN = "local-callback-token-0123456789"
SECRET = "local-user-data-secret-0123456789"


class CountingSink:
    """Records what it is given; while ``broken`` it refuses like an unreachable broker (transient)."""

    name = "count"

    def __init__(self) -> None:
        self.delivered: list[JobResult] = []
        self.lock = threading.Lock()
        self.broken = False

    def deliver(self, result: JobResult, *, deadline: Deadline | None = None) -> None:
        if self.broken:
            raise DeliveryError(self.name, "connection refused", transient=True)
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
def emulator(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Emulator]:
    """Loses 40% of callbacks unless a test asks for other faults with ``@pytest.mark.parametrize(...,
    indirect=["emulator"])``."""
    faults = getattr(request, "param", None) or Faults(drop_callback_rate=0.4, seed=7)
    with Emulator(tmp_path / "emu", faults=faults) as emu:
        yield emu


class World:
    """Upload handler, callback function (behind a loopback HTTP server) and cleanup sharing one store."""

    def __init__(self, client: CiClient, tmp_path: Path, callback_url: str) -> None:
        self.client = client
        self.store = MemoryStore()
        self.sink = CountingSink()
        self.sqlite_dead = DeadLetterStore(tmp_path / "dead.sqlite3")
        self.dead: DeadLetterStore | CosDeadLetterStore = self.sqlite_dead
        callback_settings = load_settings(CallbackSettings, env())
        self.callback = CallbackRunner(
            callback_settings, sinks={"count": self.sink}, dead_letters=self.dead, client=client, store=self.store
        )
        hash_settings = load_settings(HashSettings, env(CIFLOW_CALLBACK_URL=callback_url))
        self.uploads = UploadRunner("hash", hash_settings, hash_plan, client=client, store=self.store)
        transcode_settings = load_settings(
            TranscodeSettings, env(CIFLOW_CALLBACK_URL=callback_url, CIFLOW_TRANSCODE_PRESETS="mp4-240p")
        )
        self.transcodes = UploadRunner("transcode", transcode_settings, transcode_plan, client=client, store=self.store)

    def cleanup(self, **extra: str) -> CleanupRunner:
        settings = load_settings(CleanupSettings, env(CIFLOW_CLEANUP_RECONCILE_AFTER_S="0", **extra))
        return CleanupRunner(
            settings, sinks={"count": self.sink}, dead_letters=self.dead, client=self.client, store=self.store
        )


@pytest.fixture
def world(client: CiClient, tmp_path: Path) -> Iterator[World]:
    # The world's upload runners need the server's URL and the server needs the world's callback runner: serve
    # first, and look the world up per report.
    worlds: list[World] = []
    with serve_callback(lambda event, context: worlds[0].callback.handle(event, context)) as url:
        worlds.append(World(client, tmp_path, url))
        try:
            yield worlds[0]
        finally:
            worlds[0].sqlite_dead.close()


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
    short = Deadline.after(12, clock=lambda: float(next(ticks)))  # expires after a few checks
    first = world.cleanup(CIFLOW_CLEANUP_PAGE_SIZE="3").run(["reconcile"], short)
    assert first["ledger"]["complete"] is False
    assert first["complete"] is False
    assert 0 < first["ledger"]["records"] < len(job_ids)
    second = world.cleanup(CIFLOW_CLEANUP_PAGE_SIZE="3").run(["reconcile"], Deadline.after(60))
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


def job_ids_of(world: World, key_prefix: str) -> list[str]:
    return [
        job_id
        for record in world.store.records()
        if "concern" in record.payload and key_prefix in record.key
        for job_id in record.jobs.values()
    ]


def submit_without_running(world: World) -> tuple[list[str], list[str]]:
    """Two transcodes (media jobs, cancellable) and one hash (a file job: CI documents no cancel for it)."""
    for index in range(2):
        key = f"uploads/transcode/clip-{index}.mp4"
        world.client.send(ops.put_object(key, b"not really a video"))
        assert world.transcodes.handle(cos_event(BUCKET, key, size=18), scf_context("transcode"))["submitted"] == 1
    world.client.send(ops.put_object("uploads/hash/file.bin", b"bytes"))
    assert world.uploads.handle(cos_event(BUCKET, "uploads/hash/file.bin", size=5), scf_context("hash"))["submitted"]
    return job_ids_of(world, "clip-"), job_ids_of(world, "file.bin")


QUEUED_FOREVER = Faults(slow_job_ms=600_000)  # every job stays Submitted for the whole test


@pytest.mark.parametrize("emulator", [QUEUED_FOREVER], indirect=True)
def test_stuck_jobs_are_reported_then_cancelled_and_their_end_routed(world: World, emulator: Emulator) -> None:
    media, files = submit_without_running(world)
    assert len(media) == 2
    assert len(files) == 1

    def states() -> dict[str, str]:
        return {job_id: emulator.engine.get(job_id).state for job_id in media + files}  # type: ignore[union-attr]

    thresholds = {"CIFLOW_CLEANUP_CANCEL_AFTER_S": "0", "CIFLOW_CLEANUP_RUNNING_WARN_AFTER_S": "0"}
    reported = world.cleanup(**thresholds).run(["reconcile"], Deadline.after(60))["ledger"]
    assert (reported["running_long"], reported["cancelled"], reported["unfinished"]) == (3, 0, 3)

    dry = world.cleanup(CIFLOW_CLEANUP_DRY_RUN="true", **thresholds).run(["cancel"], Deadline.after(60))["ledger"]
    assert (dry["would_cancel"], dry["cancelled"], dry["stuck"]) == (2, 0, 1)
    assert set(states().values()) == {"Submitted"}

    not_yet = world.cleanup(CIFLOW_CLEANUP_CANCEL_AFTER_S="3600").run(["cancel"], Deadline.after(60))["ledger"]
    assert (not_yet["cancelled"], not_yet["stuck"]) == (0, 0)

    done = world.cleanup(**thresholds).run(["cancel"], Deadline.after(60))["ledger"]
    assert (done["cancelled"], done["stuck"], done["routed"]) == (2, 1, 0)
    assert states() == {**dict.fromkeys(media, "Cancel"), **dict.fromkeys(files, "Submitted")}

    # A cancelled job sends no callback: the next reconcile routes its end, once.
    routed = world.cleanup().run(["reconcile"], Deadline.after(60))["ledger"]
    assert routed["routed"] == 2
    assert sorted((r.job_id, r.state) for r in world.sink.delivered) == sorted((j, "Cancel") for j in media)
    assert world.cleanup().run(["reconcile", "cancel"], Deadline.after(60))["ledger"]["routed"] == 0
    assert len(world.sink.delivered) == 2


@pytest.mark.parametrize("emulator", [Faults()], indirect=True)
@pytest.mark.parametrize("kept_in", ["bucket", "sqlite"])
def test_dead_letters_are_redriven_in_bounded_batches(world: World, emulator: Emulator, kept_in: str) -> None:
    if kept_in == "bucket":  # the cloud default: objects in the bucket, seen by every function
        world.dead = world.callback.dead_letters = CosDeadLetterStore(world.client)
    world.sink.broken = True
    job_ids = upload_and_wait(world, emulator, 3)
    assert world.sink.delivered == []
    assert len(world.dead.list()) == 3
    world.sink.broken = False
    first = world.cleanup(CIFLOW_CLEANUP_REDRIVE_LIMIT="2").run(["redrive"], Deadline.after(60))
    assert (first["redrive"]["delivered"], first["redrive"]["remaining"]) == (2, 1)
    second = world.cleanup(CIFLOW_CLEANUP_REDRIVE_LIMIT="2").run(["redrive"], Deadline.after(60))
    assert (second["redrive"]["delivered"], second["redrive"]["remaining"]) == (1, 0)
    assert sorted(r.job_id or "" for r in world.sink.delivered) == sorted(job_ids)
    assert world.dead.list() == []
    # Dead-lettered results count as handled: reconcile does not route them a second time.
    assert world.cleanup().run(["reconcile"], Deadline.after(60))["ledger"]["routed"] == 0


@pytest.mark.parametrize("emulator", [Faults()], indirect=True)
def test_expire_drops_only_records_past_their_ttl_and_passes_at_most_every_interval(
    world: World, emulator: Emulator
) -> None:
    upload_and_wait(world, emulator, 3)
    work = [r for r in world.store.records() if not r.key.startswith("cleanup:")]
    assert len(work) == 9  # three upload records, three routed-result records, three job sightings
    assert sum(r.key.startswith(SIGHTING_PREFIX) for r in work) == 3
    cleanup = world.cleanup(CIFLOW_CLEANUP_EXPIRE_EVERY_S="3600")
    first = cleanup.run(["expire"], Deadline.after(60))["expire"]
    assert (first["purged"], first["complete"]) == (0, True)
    ttl = load_settings(CleanupSettings, env()).idempotency_ttl_seconds
    later = time.time() + ttl + 1
    cleanup.clock = lambda: later - ttl + 60  # a minute after the first pass: not again yet
    assert cleanup.run(["expire"], Deadline.after(60))["expire"]["skipped"].startswith("last full pass")
    cleanup.clock = lambda: later
    every = list(world.store.records())  # the work and the cleanup's own checkpoints, all past their TTL then
    assert cleanup.run(["expire"], Deadline.after(60))["expire"]["purged"] == len(every)
    assert [r for r in world.store.records(now=time.time()) if not r.key.startswith("cleanup:")] == []


def test_unknown_tasks_are_named_and_nothing_runs(world: World) -> None:
    summary = world.cleanup().run(["reconcile-all", "purge"], Deadline.after(60))
    assert summary["unknown_tasks"] == ["reconcile-all"]
    assert summary["tasks"] == ["purge"]
    assert "ledger" not in summary


def test_one_run_at_a_time_and_a_crashed_runs_lease_lapses(world: World) -> None:
    world.client.send(ops.put_object("tmp/old.bin", b"x"))
    later = time.time() + 30 * 86400
    extra = {"CIFLOW_CLEANUP_PURGE_PREFIXES": "tmp/", "CIFLOW_CLEANUP_PURGE_AFTER_DAYS": "7"}
    # Another run holds the lease (a timer that fired while it works): this one stops at once.
    world.store.claim(RUN_LEASE, lease_seconds=600, ttl_seconds=3600, now=later)
    blocked = world.cleanup(**extra)
    blocked.clock = lambda: later
    summary = blocked.run(["purge"], Deadline.after(60))
    assert summary["skipped"] == "another cleanup run holds the lease"
    assert "purge" not in summary
    assert summary["complete"] is False
    # That run crashed: once its lease lapses the next run goes ahead, then gives the lease back.
    after_lapse = world.cleanup(**extra)
    after_lapse.clock = lambda: later + 601
    assert after_lapse.run(["purge"], Deadline.after(60))["purge"]["deleted"] == 1
    assert world.store.get(RUN_LEASE, now=later + 601) is None
