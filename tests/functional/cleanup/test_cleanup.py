"""The cleanup run over respx with the cloud defaults: the COS marker store as ledger and dedupe store, CI
answers for every job family and moderation kind, failures counted, purge resumed across listing pages."""

import functools
import itertools
import json
import time
from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest
import respx

from ciflow.cleanup import CleanupRunner, CleanupSettings
from ciflow.client import CiClient, Deadline, Endpoint, RetryPolicy
from ciflow.config import load_settings
from ciflow.idempotency import CosMarkerStore
from ciflow.results import JobResult
from ciflow.signing import Credentials
from tests.support.fake_cos import FakeCos

BUCKET = "media-1250000000"
CI = f"https://{BUCKET}.ci.ap-guangzhou.myqcloud.com"
COS = f"https://{BUCKET}.cos.ap-guangzhou.myqcloud.com"
ENV = {
    "CIFLOW_REGION": "ap-guangzhou",
    "CIFLOW_BUCKET": BUCKET,
    "CIFLOW_CALLBACK_TOKEN": "callback-token-0123456789",
    "CIFLOW_USERDATA_SECRET": "userdata-secret-0123456789",
    "CIFLOW_IDEMPOTENCY_STORE": "cos",
    "CIFLOW_CLEANUP_RECONCILE_AFTER_S": "0",
    "CIFLOW_SINKS": json.dumps({"list": {"type": "local-queue"}}),
}
WHEN = "2026-11-22T10:00:00+0800"


class ListSink:
    name = "list"

    def __init__(self) -> None:
        self.delivered: list[JobResult] = []

    def deliver(self, result: JobResult, *, deadline: Deadline | None = None) -> None:
        self.delivered.append(result)


class DeadLetters:
    def __init__(self) -> None:
        self.letters: list[tuple[JobResult, str, str]] = []

    def add(self, result: JobResult, sink: str, reason: str, *, transient: bool = False) -> None:
        self.letters.append((result, sink, reason))


@pytest.fixture
def fake() -> FakeCos:
    return FakeCos(page_limit=2)  # small listing pages: the marker walk and purge must page


@pytest.fixture
def router(fake: FakeCos) -> Iterator[respx.Router]:
    with respx.mock(assert_all_called=False) as mock:
        fake.mount(mock, COS)
        yield mock


@pytest.fixture
def client(router: respx.Router) -> Iterator[CiClient]:
    credentials = Credentials("AKIDcleanup", "cleanup-secret-key")
    with CiClient(Endpoint("ap-guangzhou", BUCKET), credentials, retry=RetryPolicy(attempts=1)) as ci_client:
        yield ci_client


def cleanup(client: CiClient, sink: ListSink | None = None, **extra: str) -> CleanupRunner:
    """Wired as deployed: the ledger and the routed-result records are COS markers under their own prefixes."""
    settings = load_settings(CleanupSettings, {**ENV, **extra})
    runner = CleanupRunner(settings, sinks={"list": sink or ListSink()}, dead_letters=DeadLetters(), client=client)
    assert isinstance(runner.store, CosMarkerStore)
    assert isinstance(runner.dedupe_store, CosMarkerStore)
    return runner


def ledger(runner: CleanupRunner, key: str, concern: str, jobs: dict[str, str]) -> None:
    """What an upload handler leaves: a completed record naming its concern and the jobs it submitted."""
    runner.store.claim(key, lease_seconds=60, ttl_seconds=86400, payload={"concern": concern})
    runner.store.complete(key, jobs, ttl_seconds=86400)


def file_job(job_id: str, state: str = "Success") -> str:
    return (
        f"<JobsDetail><Code>Success</Code><JobId>{job_id}</JobId><Tag>FileHashCode</Tag><State>{state}</State>"
        f"<CreationTime>{WHEN}</CreationTime><Input><Object>in/a.bin</Object></Input>"
        "<Operation><FileHashCodeConfig><Type>MD5</Type></FileHashCodeConfig>"
        "<FileHashCodeResult><MD5>0cc175b9c0f1b6a831c399e269772661</MD5></FileHashCodeResult></Operation>"
        "</JobsDetail>"
    )


def xml(body: str) -> httpx.Response:
    return httpx.Response(200, content=f"<Response>{body}<RequestId>r-1</RequestId></Response>".encode())


VIDEO_VERDICT = xml(
    f"<JobsDetail><Code>Success</Code><JobId>av1</JobId><State>Success</State><CreationTime>{WHEN}</CreationTime>"
    "<Object>uploads/moderate/clip.mp4</Object><Result>2</Result><Label>Porn</Label><Score>72</Score>"
    "<SnapshotCount>3</SnapshotCount></JobsDetail>"
)


def test_reconcile_reads_each_family_once_and_counts_the_rest(
    client: CiClient, router: respx.Router, fake: FakeCos
) -> None:
    sink = ListSink()
    runner = cleanup(client, sink)
    ledger(runner, "hash:a", "hash", {"md5": "f1", "sha256": "f2"})
    ledger(runner, "moderate:b", "moderate", {"video": "av1"})
    ledger(runner, "moderate:c", "moderate", {"image-sync": "inline"})
    ledger(runner, "transcode:d", "transcode", {"preset-mp4": "j9"})
    ledger(runner, "hash:e", "hash", {"md5": "x-foreign"})
    files = router.get(f"{CI}/file_jobs/f1,f2").mock(
        return_value=xml(file_job("f1") + "<NonExistJobIds>f2</NonExistJobIds>")
    )
    video = router.get(f"{CI}/video/auditing/av1").mock(return_value=VIDEO_VERDICT)
    media = router.get(f"{CI}/jobs/j9").mock(return_value=httpx.Response(503, content=b"<Error><Code>x</Code></Error>"))

    first = runner.run(["reconcile"], Deadline.after(30))["ledger"]
    assert first["complete"] is True
    assert (first["records"], first["jobs"], first["routed"]) == (5, 5, 2)
    assert (first["missing"], first["errors"], first["unknown"]) == (1, 1, 1)
    by_kind = {result.kind: result for result in sink.delivered}
    assert by_kind["file"].hashes == {"md5": "0cc175b9c0f1b6a831c399e269772661"}
    moderation = by_kind["moderation"]
    assert (moderation.job_id, moderation.state, moderation.details["media"]) == ("av1", "Success", "video")
    assert moderation.verdict is not None
    assert (moderation.verdict.result, moderation.verdict.label) == (2, "Porn")

    # Records whose jobs are all finished (or gone) are marked and never read again; the others are.
    fake.calls.clear()
    second = runner.run(["reconcile"], Deadline.after(30))["ledger"]
    # The walk lists and reads the ledger only: the routed-result records live under another prefix.
    assert not [name for _, name in fake.calls if name.startswith("ciflow/dedupe/")]
    assert len([name for name in fake.objects if name.startswith("ciflow/dedupe/")]) == 2  # one per routed result
    assert (second["records"], second["routed"], second["errors"], second["unknown"]) == (2, 0, 1, 1)
    assert (files.call_count, video.call_count, media.call_count) == (1, 1, 2)
    assert len(sink.delivered) == 2


def test_a_result_already_routed_by_its_callback_is_not_routed_again(client: CiClient, router: respx.Router) -> None:
    sink = ListSink()
    runner = cleanup(client, sink)
    ledger(runner, "moderate:b", "moderate", {"video": "av1"})
    router.get(f"{CI}/video/auditing/av1").mock(return_value=VIDEO_VERDICT)
    # The callback function routed the Simple callback of the same job: same job id and state, same dedupe key.
    simple = JobResult(kind="moderation", event="ReviewVideo", job_id="av1", state="Success", succeeded=True)
    assert runner.router.route(simple, Deadline.after(30)) == "routed"
    summary = runner.run(["reconcile"], Deadline.after(30))["ledger"]
    assert (summary["routed"], summary["duplicate"]) == (0, 1)
    assert len(sink.delivered) == 1


def test_describes_are_batched_ten_ids_per_call(client: CiClient, router: respx.Router) -> None:
    runner = cleanup(client)
    ids = [f"f{index:02d}" for index in range(23)]
    for index, job_id in enumerate(ids):
        ledger(runner, f"hash:{index:02d}", "hash", {"md5": job_id})
    calls: list[list[str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked = request.url.path.rsplit("/", 1)[1].split(",")
        calls.append(asked)
        return xml("".join(file_job(job_id) for job_id in asked))

    router.get(url__regex=rf"{CI}/file_jobs/.*").mock(side_effect=answer)
    summary = runner.run(["reconcile"], Deadline.after(30))["ledger"]
    assert summary["routed"] == 23
    assert sorted(job for call in calls for job in call) == ids
    assert all(len(call) <= 10 for call in calls)
    assert len(calls) < len(ids)


def next_tick(ticks: Iterator[int]) -> float:
    """A clock that advances one second each time it is read: a deadline that runs out after a few checks."""
    return float(next(ticks))


def test_purge_resumes_across_listing_pages_and_never_leaves_its_prefixes(client: CiClient, fake: FakeCos) -> None:
    inside = [f"tmp/{index}.bin" for index in range(5)] + [f"scratch/{index}.bin" for index in range(3)]
    outside = ["tmpfile.bin", "keep/tmp/0.bin", "uploads/x.bin"]
    for key in inside + outside:
        fake.put(key, b"x")
    month_later = time.time() + 30 * 86400
    extra: dict[str, Any] = {"CIFLOW_CLEANUP_PURGE_PREFIXES": "tmp/,scratch/"}
    runs: list[dict[str, Any]] = []
    for _ in range(20):
        runner = cleanup(client, **extra)
        runner.clock = lambda: month_later
        ticks = itertools.count()
        summary = runner.run(["purge"], Deadline.after(6, clock=functools.partial(next_tick, ticks)))
        runs.append(summary["purge"])
        if summary["purge"]["complete"]:
            break
    assert len(runs) > 1  # the deadline really cut runs short
    assert runs[-1]["complete"] is True
    assert sum(run["deleted"] for run in runs) == len(inside)
    remaining = {key for key in fake.objects if not key.startswith("ciflow/")}
    assert remaining == set(outside)


def test_purge_prefixes_that_overlap_markers_or_dead_letters_are_refused() -> None:
    from ciflow.errors import ConfigError

    with pytest.raises(ConfigError, match="overlap the idempotency markers"):
        load_settings(CleanupSettings, {**ENV, "CIFLOW_CLEANUP_PURGE_PREFIXES": "ciflow/"})
    with pytest.raises(ConfigError, match="whole bucket"):
        load_settings(CleanupSettings, {**ENV, "CIFLOW_CLEANUP_PURGE_PREFIXES": "/"})
    with pytest.raises(ConfigError, match="overlap the dead letters"):
        load_settings(CleanupSettings, {**ENV, "CIFLOW_CLEANUP_PURGE_PREFIXES": "tmp/,ciflow/dead-letters/x/"})
    # Kept elsewhere (SQLite, memory), neither is in the bucket: the prefix is the user's to purge.
    elsewhere = {"CIFLOW_IDEMPOTENCY_STORE": "memory", "CIFLOW_DEAD_LETTER_STORE": "sqlite"}
    allowed = {**ENV, **elsewhere, "CIFLOW_CLEANUP_PURGE_PREFIXES": "ciflow/"}
    assert load_settings(CleanupSettings, allowed).purge_prefixes == ["ciflow/"]


def abandoned(runner: CleanupRunner, key: str, steps: list[str], jobs: dict[str, str], *, age: float) -> None:
    """What a crashed upload handler leaves: an in-progress record, ``age`` seconds old, lease 60 s."""
    started = time.time() - age
    runner.store.claim(
        key, lease_seconds=60, ttl_seconds=86400, payload={"concern": "hash", "steps": steps, "key": key}, now=started
    )
    if jobs:
        runner.store.record_jobs(key, jobs, now=started)


def test_abandoned_records_are_reconciled_and_stalled_uploads_reported(client: CiClient, router: respx.Router) -> None:
    sink = ListSink()
    runner = cleanup(client, sink)
    abandoned(runner, "hash:stalled", ["md5", "sha256"], {"md5": "f1"}, age=3600)  # died before sha256
    abandoned(runner, "hash:unmarked", ["md5"], {"md5": "f2"}, age=3600)  # died before complete()
    abandoned(runner, "hash:working", ["md5"], {"md5": "f3"}, age=5)  # its handler is still running
    router.get(url__regex=rf"{CI}/file_jobs/.*").mock(
        side_effect=lambda request: xml(
            "".join(file_job(job_id) for job_id in request.url.path.rsplit("/", 1)[1].split(","))
        )
    )
    first = runner.run(["reconcile"], Deadline.after(30))["ledger"]
    assert (first["records"], first["routed"], first["stalled"]) == (3, 3, 1)
    assert sorted(cast(str, r.job_id) for r in sink.delivered) == ["f1", "f2", "f3"]
    second = runner.run(["reconcile"], Deadline.after(30))["ledger"]
    # Only the upload that may still gain jobs is read again: the stalled one, and the one being worked on.
    assert (second["records"], second["routed"], second["duplicate"], second["stalled"]) == (2, 0, 2, 1)


@pytest.mark.redis
def test_an_unreachable_redis_ledger_is_a_summary_with_the_error_never_an_exception(client: CiClient) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = load_settings(
        CleanupSettings,
        {**ENV, "CIFLOW_IDEMPOTENCY_STORE": "redis", "CIFLOW_REDIS_URL": f"redis://127.0.0.1:{port}/0"},
    )
    runner = CleanupRunner(settings, sinks={"list": ListSink()}, dead_letters=DeadLetters(), client=client)
    summary = runner.run(["reconcile", "expire"], Deadline.after(5))
    assert summary["complete"] is False
    assert "ledger store unavailable (ConnectionError)" in summary["error"]
    assert str(port) not in summary["error"]  # addresses never reach the logs
