"""Templates, queues, media buckets, batch jobs and the synchronous calls through the emulator, with the production
client and ciflow's typed operations; templates and queue notifications are honoured by the jobs that use them."""

from __future__ import annotations

import io
import json
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import imageio_ffmpeg  # type: ignore[import-untyped]
import pytest
from PIL import Image

from ciflow import operations as ops
from ciflow.client import CiClient, Endpoint, RetryPolicy
from ciflow.codec import from_xml
from ciflow.errors import CiflowError
from ciflow.models import JobInput, JobOutput
from ciflow.models.batch import BatchInput, BatchJobRequest, BatchJobsQuery, BatchOperation
from ciflow.models.callbacks import TaskFinish, parse_callback
from ciflow.models.media import Snapshot, SnapshotJobRequest, SnapshotOperation, TranscodeJobRequest, TranscodeOperation
from ciflow.models.queues import NotifyConfig, QueueUpdate
from ciflow.models.sync import GenerateSnapshotRequest, SnapshotQuery
from ciflow.models.templates import TEMPLATE_KINDS, TEMPLATE_TAGS, template_request, template_request_model
from ciflow_local.emulator import DEFAULT_CREDENTIALS, Emulator

BUCKET = "admin-1250000000"
REGION = "ap-guangzhou"
SEED = Path(__file__).resolve().parents[2] / "fixtures" / "seed"
TIMEOUT = 30.0


def _ffmpeg(*args: str) -> None:
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", *args], check=True)  # noqa: S603


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(tmp_path_factory.mktemp("admin")) as running:
        yield running


@pytest.fixture
def client(emulator: Emulator) -> Iterator[CiClient]:
    endpoint = Endpoint(REGION, BUCKET, scheme="http", override=emulator.url)
    with CiClient(endpoint, DEFAULT_CREDENTIALS, retry=RetryPolicy(attempts=1)) as ci_client:
        yield ci_client


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A 1-second 64x64 H.264/AAC MP4."""
    path = tmp_path_factory.mktemp("media") / "clip.mp4"
    _ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=64x64:rate=10:duration=1", "-f", "lavfi", "-i", "sine=duration=1",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path),
    )  # fmt: skip
    return path.read_bytes()


@pytest.fixture
def uploaded(client: CiClient, video: bytes) -> str:
    key = f"in/{uuid.uuid4().hex}.mp4"
    client.send(ops.put_object(key, video, content_type="video/mp4"))
    return key


class Receiver:
    """A loopback HTTP server recording the bodies POSTed to it, by path."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.posts: dict[str, list[bytes]] = {}
        self.arrived = threading.Condition()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with owner.arrived:
                    owner.posts.setdefault(self.path, []).append(body)
                    owner.arrived.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait(self, path: str) -> bytes:
        with self.arrived:
            self.arrived.wait_for(lambda: bool(self.posts.get(path)), timeout=TIMEOUT)
        assert self.posts.get(path), f"nothing POSTed to {path}"
        return self.posts[path][0]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


def _seed_parameters(tag: str) -> tuple[Any, Any]:
    """The parameters of the seed's create-template example of ``tag``, as its typed model and as sent."""
    index = json.loads((SEED / "index-admin.json").read_text())
    entry = next(e for e in index if e["api"] == f"POST /template Tag={tag}" and e["role"] == "request")
    request = from_xml(template_request_model(tag), (SEED / entry["file"]).read_bytes(), root="Request")
    kind = TEMPLATE_KINDS[tag]
    tree = request.model_dump(by_alias=True, exclude_none=True)
    params = tree if kind.inline else tree[kind.container]
    for name in ("Tag", "Name", "TemplateId"):
        params.pop(name, None)
    return kind.params.model_validate(params), params


@pytest.mark.parametrize("tag", sorted(TEMPLATE_TAGS))
def test_template_lifecycle_for_every_tag(client: CiClient, tag: str) -> None:
    params, tree = _seed_parameters(tag)
    name = f"t-{tag.lower()}-{uuid.uuid4().hex[:8]}"
    created = client.send(ops.create_template(template_request(tag, name, params))).template
    assert created is not None
    assert created.template_id
    assert (created.tag, created.name) == (tag, name)
    assert type(created).__name__ == f"{tag}Template", "the answer is typed by its Tag"
    stored = created.parameters
    assert stored is not None
    assert stored.model_dump(by_alias=True, exclude_none=True) == tree

    listed = client.send(ops.describe_templates(ids=[created.template_id, "tnothere"]))
    assert [t.template_id for t in listed.template_list] == [created.template_id]
    assert listed.non_exist_t_i_ds is not None
    assert listed.non_exist_t_i_ds.template_id == ["tnothere"]

    renamed = f"{name}-v2"
    updated = client.send(ops.update_template(created.template_id, template_request(tag, renamed, params)))
    assert updated.template is not None
    assert updated.template.name == renamed
    page = client.send(ops.describe_templates(tag=tag, name=renamed, page_size=100))
    assert [t.template_id for t in page.template_list] == [created.template_id]
    assert page.total_count == 1

    deleted = client.send(ops.delete_template(created.template_id))
    assert deleted.template_id == created.template_id
    gone = client.send(ops.describe_templates(ids=[created.template_id]))
    assert gone.template_list == []
    with pytest.raises(CiflowError):
        client.send(ops.delete_template(created.template_id))


def test_a_job_naming_a_template_gets_its_parameters(client: CiClient, emulator: Emulator, uploaded: str) -> None:
    snapshot = Snapshot(mode="Average", count=3, width=32)
    template = client.send(ops.create_template(template_request("Snapshot", "three-frames", snapshot))).template
    assert template is not None
    assert template.template_id
    output = JobOutput(region=REGION, bucket=BUCKET, object="frames/${Number}.jpg")
    job = SnapshotJobRequest(
        input=JobInput(object=uploaded), operation=SnapshotOperation(template_id=template.template_id, output=output)
    )
    job_id = client.send(ops.submit_media_job(job)).jobs_detail[0].job_id
    assert job_id
    record = emulator.engine.wait(job_id, TIMEOUT)
    assert record.state == "Success", record.message
    keys = client.send(ops.describe_media_jobs(job_id)).jobs_detail[0].operation.media_result.output_keys  # type: ignore[union-attr]
    assert len(keys) == 3, "the template's Count"
    frame = client.send(ops.get_object(keys[0])).content
    assert Image.open(io.BytesIO(frame)).width == 32, "the template's Width"


def test_a_transcode_job_runs_a_stored_ultra_hd_template(client: CiClient, emulator: Emulator, uploaded: str) -> None:
    params = {"Container": {"Format": "mp4"}, "Video": {"Codec": "H.264", "Width": "48"}, "Audio": {"Codec": "aac"}}
    template = client.send(ops.create_template(template_request("HighSpeedHd", "uhd-48", params))).template
    assert template is not None
    assert template.template_id
    output = JobOutput(region=REGION, bucket=BUCKET, object="uhd/${jobid}.mp4")
    operation = TranscodeOperation(template_id=template.template_id, output=output)
    job = TranscodeJobRequest(input=JobInput(object=uploaded), operation=operation)
    job_id = client.send(ops.submit_media_job(job)).jobs_detail[0].job_id or ""
    record = emulator.engine.wait(job_id, TIMEOUT)
    assert record.state == "Success", record.message
    result = client.send(ops.describe_media_jobs(job_id)).jobs_detail[0].operation.media_result  # type: ignore[union-attr]
    info = client.send(ops.get_media_info(result.output_keys[0])).media_info
    assert info is not None
    assert info.stream is not None
    assert info.stream.video[0].width == 48


def test_queue_describe_update_and_notify_config(
    client: CiClient, emulator: Emulator, receiver: Receiver, uploaded: str
) -> None:
    queues = client.send(ops.describe_media_queues())
    assert queues.queue_list
    assert queues.total_count == len(queues.queue_list)
    queue = queues.queue_list[0]
    assert queue.queue_id == emulator.ci.media_queue_id
    assert queue.notify_config is not None
    notify = NotifyConfig(state="On", event="TaskFinish", type="Url", url=f"{receiver.url}/queue", result_format="JSON")
    update = QueueUpdate(name="notifying", state="Active", notify_config=notify)
    try:
        answer = client.send(ops.update_media_queue(queue.queue_id or "", update)).queue
        assert answer is not None
        assert answer.name == "notifying"
        assert answer.notify_config is not None
        assert answer.notify_config.enabled
        assert answer.notify_config.events == {"TaskFinish"}
        again = client.send(ops.describe_media_queues(queue_ids=[queue.queue_id or "", "pnothere"]))
        assert [q.name for q in again.queue_list] == ["notifying"]
        assert again.non_exist_p_i_ds == ["pnothere"]

        # A job that names no callback is reported to its queue's NotifyConfig URL, in its ResultFormat.
        output = JobOutput(region=REGION, bucket=BUCKET, object="notified/${Number}.jpg")
        job = SnapshotJobRequest(input=JobInput(object=uploaded), operation=SnapshotOperation(output=output))
        job_id = client.send(ops.submit_media_job(job)).jobs_detail[0].job_id
        body = receiver.wait("/queue")
        assert body.lstrip().startswith(b"{"), "JSON, as the queue's ResultFormat says"
        callback = parse_callback(body)
        assert isinstance(callback, TaskFinish)
        assert callback.jobs_detail[0].job_id == job_id
    finally:
        off = QueueUpdate(name=queue.name or "q", state="Active", notify_config=NotifyConfig(state="Off"))
        client.send(ops.update_media_queue(queue.queue_id or "", off))


def test_a_job_with_its_own_callback_is_not_reported_to_the_queue(
    client: CiClient, emulator: Emulator, receiver: Receiver, uploaded: str
) -> None:
    queue_id = emulator.ci.media_queue_id
    notify = NotifyConfig(state="On", event="TaskFinish", type="Url", url=f"{receiver.url}/queue")
    client.send(ops.update_media_queue(queue_id, QueueUpdate(name="q", state="Active", notify_config=notify)))
    try:
        output = JobOutput(region=REGION, bucket=BUCKET, object="own/${Number}.jpg")
        job = SnapshotJobRequest(
            input=JobInput(object=uploaded), operation=SnapshotOperation(output=output), callback=f"{receiver.url}/own"
        )
        client.send(ops.submit_media_job(job))
        assert isinstance(parse_callback(receiver.wait("/own")), TaskFinish)
        time.sleep(0.3)
        assert "/queue" not in receiver.posts
    finally:
        off = QueueUpdate(name="q", state="Active", notify_config=NotifyConfig(state="Off"))
        client.send(ops.update_media_queue(queue_id, off))


def test_a_batch_job_runs_a_job_per_object(client: CiClient, emulator: Emulator, video: bytes) -> None:
    prefix = f"batch-{uuid.uuid4().hex[:8]}/"
    for name in ("a.mp4", "b.mp4"):
        client.send(ops.put_object(prefix + name, video, content_type="video/mp4"))
    operation = BatchOperation.model_validate(
        {
            "Tag": "Snapshot",
            "JobParam": {"Snapshot": {"Count": "1", "Width": "16"}},
            "Output": {
                "Region": REGION,
                "Bucket": BUCKET,
                "Object": "out/${InventoryTriggerJobId}/${InputName}-${Number}.jpg",
            },
        }
    )
    request = BatchJobRequest(name="frames", type="Job", input=BatchInput(prefix=prefix), operation=operation)
    created = client.send(ops.create_batch_job(request)).jobs_detail[0]
    assert created.job_id
    assert created.type == "Job"
    assert created.operation is not None
    assert type(created.operation.job_param).__name__ == "SnapshotOperation", "JobParam typed by its Tag"
    deadline = time.monotonic() + TIMEOUT
    detail = created
    while not detail.finished and time.monotonic() < deadline:
        time.sleep(0.1)
        detail = client.send(ops.describe_batch_job(created.job_id)).jobs_detail[0]
    assert detail.state == "Success", detail.message
    listed = client.send(ops.list_objects(f"out/{created.job_id}/"))
    assert len(listed.contents) == 2, "one frame per object"
    page = client.send(ops.list_batch_jobs(BatchJobsQuery(type="Job", size=10)))
    assert created.job_id in [item.job_id for item in page.jobs_detail]
    missing = client.send(ops.describe_batch_job("bnothere"))
    assert missing.non_exist_job_ids == ["bnothere"]
    assert missing.jobs_detail == []


def test_generate_snapshot_writes_the_frame(client: CiClient, uploaded: str) -> None:
    output = JobOutput(region=REGION, bucket=BUCKET, object=f"shot/{uuid.uuid4().hex}.png")
    request = GenerateSnapshotRequest(input=JobInput(object=uploaded), time=0.5, width=20, format="png", output=output)
    answer = client.send(ops.generate_snapshot(request))
    assert answer.output is not None
    assert answer.output.object == output.object
    image = Image.open(io.BytesIO(client.send(ops.get_object(output.object or "")).content))
    assert (image.format, image.width) == ("PNG", 20)


def test_get_snapshot_and_media_info(client: CiClient, uploaded: str) -> None:
    frame = client.send(ops.get_snapshot(uploaded, SnapshotQuery(time=0.2, width=32)))
    assert frame.content_type == "image/jpeg"
    assert Image.open(io.BytesIO(frame.content)).size == (32, 32)
    info = client.send(ops.get_media_info(uploaded)).media_info
    assert info is not None
    assert info.stream is not None
    assert info.format is not None
    assert (info.stream.video[0].width, info.stream.video[0].height) == (64, 64)
    assert info.stream.audio[0].codec_name == "aac"
    assert 0.5 < (info.format.duration or 0) < 2


def test_private_m3u8_signs_the_segments(client: CiClient) -> None:
    playlist = b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\nseg0.ts\n#EXT-X-ENDLIST\n"
    client.send(ops.put_object("hls/index.m3u8", playlist, content_type="application/x-mpegURL"))
    answer = client.send(ops.get_private_m3u8("hls/index.m3u8", 3600))
    lines = answer.content.decode().splitlines()
    signed = [line for line in lines if "seg0.ts" in line]
    assert signed
    assert "q-sign-algorithm=sha1" in signed[0]
    assert "/hls/seg0.ts?" in signed[0]
    with pytest.raises(ValueError, match="expires"):
        ops.get_private_m3u8("hls/index.m3u8", 60)


def test_doc_preview_renders_a_page(client: CiClient) -> None:
    pages = [Image.new("RGB", (200, 300), color) for color in ("red", "blue")]
    out = io.BytesIO()
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:])
    client.send(ops.put_object("docs/two.pdf", out.getvalue(), content_type="application/pdf"))
    answer = client.send(ops.doc_preview("docs/two.pdf", {"page": "2", "dstType": "png"}))
    assert answer.total_pages == 2
    assert answer.content_type == "image/png"
    red, _green, blue = Image.open(io.BytesIO(answer.content)).convert("RGB").getpixel((50, 50))  # type: ignore[misc]
    assert (blue > 200, red < 60) == (True, True), "page 2 is the blue one"


def test_media_buckets_unbind_and_bind(client: CiClient) -> None:
    client.send(ops.describe_media_queues())  # the emulator lists the buckets it has seen
    listed = client.send(ops.describe_media_buckets())
    assert BUCKET in [bucket.name for bucket in listed.media_bucket_list]
    client.send(ops.delete_media_bucket())
    try:
        assert BUCKET not in [b.name for b in client.send(ops.describe_media_buckets()).media_bucket_list]
    finally:
        bound = client.send(ops.create_media_bucket()).media_bucket
    assert bound is not None
    assert bound.bucket_id == BUCKET
    assert BUCKET in [b.name for b in client.send(ops.describe_media_buckets()).media_bucket_list]
