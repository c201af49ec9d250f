"""Synchronous ``?ci-process=`` operations on the COS host, judged by the official SDK."""

from __future__ import annotations

import io
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import imageio_ffmpeg  # type: ignore[import-untyped]
import pytest
from PIL import Image
from qcloud_cos import CosS3Client
from qcloud_cos.cos_exception import CosServiceError

from ciflow.signing import cos_authorization
from ciflow_local.emulator import DEFAULT_CREDENTIALS, CiSetup, Emulator

from ._sdk_client import BUCKET, sdk_client

PLAYLIST = (
    b"#EXTM3U\n#EXT-X-VERSION:3\n"
    b'#EXT-X-KEY:METHOD=AES-128,URI="key.bin"\n'
    b"#EXTINF:10,\nseg-0.ts\n#EXTINF:10,\nsub/seg 1.ts\n#EXTINF:5,\nhttps://cdn.example.com/x.ts\n#EXT-X-ENDLIST\n"
)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A 3-second 320x240 H.264/AAC MP4."""
    path = tmp_path_factory.mktemp("media") / "clip.mp4"
    args = [
        "-hide_banner", "-loglevel", "error",
        "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10:duration=3", "-f", "lavfi", "-i", "sine=duration=3",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path),
    ]  # fmt: skip
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), *args], check=True, timeout=60)  # noqa: S603
    return path.read_bytes()


@pytest.fixture
def client(tmp_path: Path, clip: bytes) -> Iterator[CosS3Client]:
    with Emulator(tmp_path / "data") as running:
        sdk = sdk_client(running.url, DEFAULT_CREDENTIALS)
        sdk.put_object(Bucket=BUCKET, Key="test.mp4", Body=clip)
        yield sdk


def _body(response: dict[str, object]) -> bytes:
    stream = response["Body"]
    return stream.get_raw_stream().read()  # type: ignore[attr-defined,no-any-return]


def test_videoinfo_reports_the_real_streams(client: CosS3Client) -> None:
    info = client.get_media_info(Bucket=BUCKET, Key="test.mp4")["MediaInfo"][0]
    video, audio = info["Stream"]["Video"], info["Stream"]["Audio"]
    assert (video["CodecName"], video["Width"], video["Height"], video["Fps"]) == ("h264", "320", "240", "10")
    assert (audio["CodecName"], audio["SampleRate"]) == ("aac", "44100")
    assert float(info["Format"]["Duration"]) == pytest.approx(3, abs=0.1)
    assert info["Format"]["NumStream"] == "2"


def test_videoinfo_of_a_non_media_object(client: CosS3Client) -> None:
    client.put_object(Bucket=BUCKET, Key="notes.txt", Body=b"hello")
    with pytest.raises(CosServiceError) as refused:
        client.get_media_info(Bucket=BUCKET, Key="notes.txt")
    assert refused.value.get_status_code() == 400
    with pytest.raises(CosServiceError) as missing:
        client.get_media_info(Bucket=BUCKET, Key="absent.mp4")
    assert missing.value.get_error_code() == "NoSuchKey"


@pytest.mark.parametrize(("image_format", "mime", "pil"), [("png", "image/png", "PNG"), ("jpg", "image/jpeg", "JPEG")])
def test_snapshot_is_a_real_frame(client: CosS3Client, image_format: str, mime: str, pil: str) -> None:
    answer = client.get_snapshot(Bucket=BUCKET, Key="test.mp4", Time="1.5", Width="160", Format=image_format)
    assert answer["Content-Type"] == mime
    image = Image.open(io.BytesIO(_body(answer)))
    assert (image.format, image.size) == (pil, (160, 120))
    assert (
        len(image.convert("RGB").getcolors(maxcolors=1 << 16) or ()) > 10
    )  # testsrc's colour bars, not a blank stand-in


def test_snapshot_refusals(client: CosS3Client) -> None:
    for options in ({"Time": "9"}, {"Time": "1", "Format": "gif"}, {"Time": "-1"}):
        with pytest.raises(CosServiceError) as refused:
            client.get_snapshot(Bucket=BUCKET, Key="test.mp4", **options)
        assert refused.value.get_error_code() == "InvalidArgument", options


def test_pm3u8_presigns_the_buckets_segments(client: CosS3Client) -> None:
    client.put_object(Bucket=BUCKET, Key="hls/test.m3u8", Body=PLAYLIST)
    answer = client.get_pm3u8(Bucket=BUCKET, Key="hls/test.m3u8", Expires="3600")
    assert answer["Content-Type"] == "application/x-mpegURL"
    lines = _body(answer).decode().splitlines()
    assert lines[0] == "#EXTM3U"
    assert lines[-1] == "#EXT-X-ENDLIST"
    segments = [line for line in lines if line and not line.startswith("#")]
    assert segments[2] == "https://cdn.example.com/x.ts"  # another host's: left alone
    host = f"{BUCKET}.cos.ap-guangzhou.myqcloud.com"
    for url, key in ((segments[0], "hls/seg-0.ts"), (segments[1], "hls/sub/seg 1.ts")):
        parts = urlsplit(url)
        assert parts.netloc == host
        query = {name: values[0] for name, values in parse_qs(parts.query).items()}
        start, end = (int(value) for value in query["q-key-time"].split(";"))
        assert end - start == 3600
        expected = cos_authorization(DEFAULT_CREDENTIALS, "GET", "/" + key, [], [("host", host)], query["q-key-time"])
        assert parts.query == expected
    assert 'URI="http://' in next(line for line in lines if line.startswith("#EXT-X-KEY"))
    with pytest.raises(CosServiceError) as refused:
        client.get_pm3u8(Bucket=BUCKET, Key="hls/test.m3u8", Expires="60")
    assert refused.value.get_error_code() == "InvalidArgument"


def test_zippreview_lists_the_entries(client: CosS3Client) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("docs/", "")
        zipped.writestr("docs/a.txt", "hello")
        zipped.writestr("b.bin", b"\0" * 1000)
    client.put_object(Bucket=BUCKET, Key="zip/test.zip", Body=archive.getvalue())
    answer = client.ci_file_zip_preview(Bucket=BUCKET, Key="zip/test.zip")
    assert (answer["FileNumber"], answer["IsTruncated"]) == ("2", "false")
    assert [(entry["Key"], entry["UncompressedSize"]) for entry in answer["Contents"]] == [
        ("docs/a.txt", "5"),
        ("b.bin", "1000"),
    ]
    with pytest.raises(CosServiceError) as refused:
        client.ci_file_zip_preview(Bucket=BUCKET, Key="test.mp4")
    assert refused.value.get_error_code() == "InvalidArgument"


def test_doc_preview_of_office_documents_is_refused_honestly(client: CosS3Client) -> None:
    client.put_object(Bucket=BUCKET, Key="test.docx", Body=b"PK\x03\x04")
    with pytest.raises(CosServiceError) as refused:
        client.ci_doc_preview_process(Bucket=BUCKET, Key="test.docx", Page=1, DstType="jpg")
    assert (refused.value.get_status_code(), refused.value.get_error_code()) == (501, "NotImplemented")


def test_media_processes_need_the_media_service(tmp_path: Path, clip: bytes) -> None:
    with Emulator(tmp_path / "data", ci_setup=CiSetup(inactive=frozenset({"media"}))) as running:
        sdk = sdk_client(running.url, DEFAULT_CREDENTIALS)
        sdk.put_object(Bucket=BUCKET, Key="test.mp4", Body=clip)
        with pytest.raises(CosServiceError) as refused:
            sdk.get_media_info(Bucket=BUCKET, Key="test.mp4")
        assert refused.value.get_error_code() == "MediaBucketUnBinded"


def test_jobs_use_stored_templates(tmp_path: Path, clip: bytes) -> None:
    with Emulator(tmp_path / "data") as running:
        sdk = sdk_client(running.url, DEFAULT_CREDENTIALS)
        sdk.put_object(Bucket=BUCKET, Key="test.mp4", Body=clip)
        snapshot = {"Name": "snap", "Tag": "Snapshot", "Snapshot": {"Mode": "Interval", "Count": "2", "Width": "64"}}
        snap_id = sdk.ci_create_template(Bucket=BUCKET, Template=snapshot)["Template"]["TemplateId"]
        transcode = {"Name": "small", "Tag": "Transcode", "Container": {"Format": "mp4"}, "Video": {"Width": "96"}}
        trans_id = sdk.ci_create_template(Bucket=BUCKET, Template=transcode)["Template"]["TemplateId"]
        jobs = [
            ("Snapshot", snap_id, "snaps/s-${Number}.jpg"),
            ("Transcode", trans_id, "small.mp4"),
        ]
        ids = []
        for tag, template_id, key in jobs:
            body = {
                "Tag": tag,
                "Input": {"Object": "test.mp4"},
                "Operation": {
                    "TemplateId": template_id,
                    "Output": {"Bucket": BUCKET, "Region": "ap-guangzhou", "Object": key},
                },
            }
            ids.append(sdk.ci_create_media_jobs(Bucket=BUCKET, Jobs=body, Lst={})["JobsDetail"][0]["JobId"])
        records = [running.engine.wait(job_id, timeout=60) for job_id in ids]
        assert [record.state for record in records] == ["Success", "Success"], [r.message for r in records]
        assert records[1].detail["Operation"]["TemplateName"] == "small"
        frames = [key for key in ("snaps/s-0.jpg", "snaps/s-1.jpg", "snaps/s-2.jpg") if running.store.head(BUCKET, key)]
        assert len(frames) == 2
        stored = running.store.head(BUCKET, frames[0])
        assert stored is not None
        with Image.open(stored.path) as frame:
            assert frame.size[0] == 64
        info = sdk.get_media_info(Bucket=BUCKET, Key="small.mp4")["MediaInfo"][0]
        assert info["Stream"]["Video"]["Width"] == "96"
        wrong = {"Tag": "Snapshot", "Input": {"Object": "test.mp4"}, "Operation": {"TemplateId": trans_id}}
        with pytest.raises(CosServiceError) as refused:
            sdk.ci_create_media_jobs(Bucket=BUCKET, Jobs=wrong, Lst={})
        assert refused.value.get_error_code() == "InvalidArgument"


def test_workflow_runs_the_media_nodes_after_start(tmp_path: Path, clip: bytes) -> None:
    with Emulator(tmp_path / "data") as running:
        sdk = sdk_client(running.url, DEFAULT_CREDENTIALS)
        sdk.put_object(Bucket=BUCKET, Key="in/test.mp4", Body=clip)
        snapshot = {"Name": "snap", "Tag": "Snapshot", "Snapshot": {"Mode": "Interval", "Count": "1", "Width": "64"}}
        snap_id = sdk.ci_create_template(Bucket=BUCKET, Template=snapshot)["Template"]["TemplateId"]
        output = {"Region": "ap-guangzhou", "Bucket": BUCKET}
        nodes = {
            "Start": {"Type": "Start", "Input": {"ObjectPrefix": "in/"}},
            "Snap": {
                "Type": "Snapshot",
                "Operation": {"TemplateId": snap_id, "Output": {**output, "Object": "out/${RunId}/s-${Number}.jpg"}},
            },
            "Inspect": {"Type": "ImageInspect", "Operation": {"ImageInspect": {"AutoProcess": "true"}}},
        }
        topology = {"Dependencies": {"Start": "Snap,Inspect", "Snap": "End", "Inspect": "End"}, "Nodes": nodes}
        body = {"MediaWorkflow": {"Name": "snap-flow", "State": "Active", "Topology": topology}}
        workflow_id = sdk.ci_create_workflow(Bucket=BUCKET, Body=body)["MediaWorkflow"]["WorkflowId"]
        run_id = sdk.ci_trigger_workflow(Bucket=BUCKET, WorkflowId=workflow_id, Key="in/test.mp4")["InstanceId"]
        tasks = sdk.ci_get_workflowexecution(Bucket=BUCKET, RunId=run_id)["WorkflowExecution"][0]["Tasks"]
        snap_task = next(task for task in tasks if task["Name"] == "Snap")
        running.engine.wait(snap_task["JobId"], timeout=60)
        execution = sdk.ci_get_workflowexecution(Bucket=BUCKET, RunId=run_id)["WorkflowExecution"][0]
        states = {task["Name"]: (task["State"], task["Code"]) for task in execution["Tasks"]}
        assert states == {"Snap": ("Success", "Success"), "Inspect": ("Failed", "NotSupported")}
        assert execution["State"] == "Failed"  # one node was not run: the execution does not claim success
        frames = [obj.key for obj in running.store.list(BUCKET, f"out/{run_id}/")]
        assert len(frames) == 1
        listed = sdk.ci_list_workflowexecution(Bucket=BUCKET, WorkflowId=workflow_id, States="Failed")
        assert listed["WorkflowExecutionList"]["RunId"] == run_id


def test_pm3u8_urls_fetch_the_segments(tmp_path: Path) -> None:
    with Emulator(tmp_path / "data") as running:
        sdk = sdk_client(running.url, DEFAULT_CREDENTIALS)
        sdk.put_object(Bucket=BUCKET, Key="hls/test.m3u8", Body=b"#EXTM3U\n#EXTINF:10,\nseg-0.ts\n#EXT-X-ENDLIST\n")
        sdk.put_object(Bucket=BUCKET, Key="hls/seg-0.ts", Body=b"segment bytes")
        playlist = _body(sdk.get_pm3u8(Bucket=BUCKET, Key="hls/test.m3u8", Expires="3600")).decode()
        url = urlsplit(next(line for line in playlist.splitlines() if line.startswith("http")))
        fetched = httpx.get(f"{running.url}{url.path}?{url.query}", headers={"Host": url.netloc})
        assert (fetched.status_code, fetched.content) == (200, b"segment bytes")
        unsigned = httpx.get(f"{running.url}{url.path}", headers={"Host": url.netloc})
        assert unsigned.status_code == 403
