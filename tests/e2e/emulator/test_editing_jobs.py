"""Editing jobs end to end: every tag submitted through the production client, run for real by the emulator,
described typed, its outputs checked in COS, and its callback routed by the callback function to the local queue."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ciflow import operations as ops
from ciflow.client import CiClient
from ciflow.models import JobInput, JobOutput
from ciflow.models._common import JobDetail
from ciflow.models.editing import (
    ColorEnhance,
    ConcatFragment,
    ConcatOperation,
    ConcatTemplate,
    EditingJobRequest,
    EditingOperation,
    MediaInfoOperation,
    MsSharpen,
    SdrToHdr,
    SdrToHdrOperation,
    Segment,
    SegmentOperation,
    StreamExtract,
    StreamExtractOperation,
    StreamExtractOutput,
    VideoMontage,
    VideoMontageOperation,
    VideoProcess,
    VideoProcessOperation,
)
from ciflow.models.media import Container, HlsEncrypt, Transcode, Video
from ciflow.models.templates import template_request
from ciflow_local.emulator import Emulator
from ciflow_local.emulator.workers import ffmpeg
from ciflow_local.emulator.workers.editing import hls_key
from tests.e2e.emulator.conftest import client_for
from tests.support.callback_host import HostedCallback, run_job

REGION = "ap-guangzhou"
BUCKET = "editing-1250000000"


# --------------------------------------------------------------------------------------------------
# Fixtures: generated clips in the bucket (the callback function on loopback is ``hosted``, tests/e2e/conftest.py)
# --------------------------------------------------------------------------------------------------


def make_clip(path: Path, seconds: float, *, colour: str = "testsrc") -> bytes:
    """A small H.264/AAC mp4 with a key frame every 0.5 s (stream-copy cuts land where asked)."""
    source = f"{colour}=size=160x120:rate=10" if colour == "testsrc" else f"color=c={colour}:size=160x120:rate=10"
    args = ["-f", "lavfi", "-i", source, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=22050"]
    args += ["-t", f"{seconds:g}", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "5"]
    ffmpeg.run_ffmpeg([*args, "-c:a", "aac", "-shortest", str(path)], timeout=60)
    return path.read_bytes()


@pytest.fixture
def client(emulator: Emulator) -> Iterator[CiClient]:
    """The production client on the full emulator (this package's conftest serves COS alone)."""
    with client_for(emulator.url, bucket=BUCKET) as ci_client:
        yield ci_client


@pytest.fixture(scope="module")
def clips(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``in/a.mp4`` (2 s), ``in/b.mp4`` (1 s, red) and ``in/long.mp4`` (3 s) in the bucket."""
    work = tmp_path_factory.mktemp("clips")
    made = {"a": (2.0, "testsrc"), "b": (1.0, "red"), "long": (3.0, "testsrc")}
    paths = {}
    for name, (seconds, colour) in made.items():
        data = make_clip(work / f"{name}.mp4", seconds, colour=colour)
        with client_for(emulator.url, bucket=BUCKET) as uploader:
            uploader.send(ops.put_object(f"in/{name}.mp4", data, content_type="video/mp4"))
        paths[name] = work / f"{name}.mp4"
    return paths


def run(
    client: CiClient,
    emulator: Emulator,
    hosted: HostedCallback,
    operation: EditingOperation,
    source: str | None = "in/a.mp4",
) -> tuple[JobDetail, dict[str, Any]]:
    """Submit, wait for the job and its callback; (the typed description, the routed result from the queue)."""
    request = EditingJobRequest(
        input=JobInput(object=source) if source else None, operation=operation, callback=hosted.callback_url
    )
    return run_job(client, emulator, hosted, request)


def probe_key(emulator: Emulator, key: str) -> ffmpeg.MediaProbe:
    stored = emulator.store.head(BUCKET, key)
    assert stored is not None, f"{key} was not written"
    return ffmpeg.probe(stored.path)


def routed_keys(result: dict[str, Any]) -> list[str]:
    return [output["key"] for output in result["outputs"]]


def out(key: str) -> JobOutput:
    return JobOutput(bucket=BUCKET, region=REGION, object=key)


# --------------------------------------------------------------------------------------------------
# One test per tag
# --------------------------------------------------------------------------------------------------


def test_concat_splices_fragments_in_fragment_index_order_with_cuts(
    client: CiClient, emulator: Emulator, hosted: HostedCallback, clips: dict[str, Path]
) -> None:
    fragments = [
        ConcatFragment(url=f"http://{BUCKET}.cos.{REGION}.myqcloud.com/in/b.mp4", fragment_index=1),
        ConcatFragment(url=f"http://{BUCKET}.cos.{REGION}.myqcloud.com/in/long.mp4", fragment_index=0, end_time=1.5),
    ]
    params = ConcatTemplate(concat_fragment=fragments, container=Container(format="mp4"), video=Video(width=128))
    detail, result = run(
        client, emulator, hosted, ConcatOperation(concat_template=params, output=out("out/concat.${ext}")), None
    )
    probe = probe_key(emulator, "out/concat.mp4")
    assert probe.duration is not None
    assert 2.3 < probe.duration < 2.8
    assert probe.video is not None
    assert probe.video.width == 128
    assert probe.audio is not None
    assert routed_keys(result) == ["out/concat.mp4"]
    assert result["details"]["fragments"] == [fragment.url for fragment in fragments]
    assert detail.operation.media_result.output_keys == ["out/concat.mp4"]  # type: ignore[union-attr]


def test_direct_concat_copies_the_streams_with_the_input_at_index(
    client: CiClient, emulator: Emulator, hosted: HostedCallback, clips: dict[str, Path]
) -> None:
    fragments = [ConcatFragment(url=f"https://{BUCKET}.cos.{REGION}.myqcloud.com/in/long.mp4")]
    params = ConcatTemplate(concat_fragment=fragments, direct_concat=True, index=1)
    _, result = run(client, emulator, hosted, ConcatOperation(concat_template=params, output=out("out/direct.mp4")))
    probe = probe_key(emulator, "out/direct.mp4")
    assert probe.duration is not None
    assert 4.7 < probe.duration < 5.3
    assert probe.video is not None
    assert probe.video.width == 160
    assert result["details"]["direct_concat"] is True


def test_concat_with_a_stored_template_puts_its_start_and_end_around_the_input(
    client: CiClient, emulator: Emulator, hosted: HostedCallback, clips: dict[str, Path]
) -> None:
    url = f"https://{BUCKET}.cos.{REGION}.myqcloud.com/in/b.mp4"
    params = ConcatTemplate(
        concat_fragment=[ConcatFragment(url=url, mode="End"), ConcatFragment(url=url, mode="Start")],
        container=Container(format="mp4"),
    )
    created = client.send(ops.create_template(template_request("Concat", "intro_outro", params)))
    assert created.template is not None
    template_id = created.template.template_id
    assert template_id
    operation = ConcatOperation(template_id=template_id, output=out("out/templated.mp4"))
    _, result = run(client, emulator, hosted, operation)
    probe = probe_key(emulator, "out/templated.mp4")
    assert probe.duration is not None
    assert 3.7 < probe.duration < 4.4  # b (1 s), the Input a (2 s), b (1 s)
    assert result["details"]["template_id"] == template_id


def test_video_montage_cuts_to_its_duration(
    client: CiClient, emulator: Emulator, hosted: HostedCallback, clips: dict[str, Path]
) -> None:
    montage = VideoMontage(duration=1.2, container=Container(format="mkv"))
    operation = VideoMontageOperation(video_montage=montage, output=out("out/montage.${ext}"))
    _, result = run(client, emulator, hosted, operation, "in/long.mp4")
    probe = probe_key(emulator, "out/montage.mkv")
    assert probe.duration is not None
    assert 1.0 < probe.duration < 1.6
    assert "matroska" in probe.format_name
    assert (routed_keys(result), result["details"]["montage_duration"]) == (["out/montage.mkv"], 1.2)


def test_segment_cuts_into_numbered_objects(
    client: CiClient, emulator: Emulator, hosted: HostedCallback, clips: dict[str, Path]
) -> None:
    operation = SegmentOperation(segment=Segment(format="ts", duration=1), output=out("out/seg/part-${Number}"))
    detail, result = run(client, emulator, hosted, operation, "in/long.mp4")
    keys = [f"out/seg/part-{number}" for number in range(3)]
    assert routed_keys(result) == keys
    assert all("mpegts" in probe_key(emulator, key).format_name for key in keys)
    files = detail.operation.media_result.output_file  # type: ignore[union-attr]
    assert (files.object_prefix, files.object_name) == ("out/seg/part-", ["0", "1", "2"])
    assert (result["details"]["segment_count"], result["details"]["segment_format"]) == (3, "ts")


def test_segment_to_encrypted_hls_writes_a_playlist_ffmpeg_decrypts(
    client: CiClient, emulator: Emulator, hosted: HostedCallback, clips: dict[str, Path], tmp_path: Path
) -> None:
    encrypt = HlsEncrypt(is_hls_encrypt=True, uri_key="https://keys.example.com/k1")
    operation = SegmentOperation(
        segment=Segment(format="hls", duration=1, hls_encrypt=encrypt), output=out("out/hls/play.m3u8")
    )
    _, result = run(client, emulator, hosted, operation, "in/long.mp4")
    playlist = emulator.store.head(BUCKET, "out/hls/play.m3u8")
    assert playlist is not None
    text = playlist.path.read_text()
    assert 'METHOD=AES-128,URI="https://keys.example.com/k1"' in text
    segments = [key for key in routed_keys(result) if key.endswith(".ts")]
    assert len(segments) == len(re.findall(r"^play-\d+\.ts$", text, re.MULTILINE)) >= 3
    # Encrypted: not MPEG-TS on its own, but ffmpeg plays it with the emulator's key.
    first = emulator.store.head(BUCKET, segments[0])
    assert first is not None
    assert first.path.read_bytes()[:1] != b"\x47"
    (tmp_path / "k.key").write_bytes(hls_key("https://keys.example.com/k1"))
    local = text.replace("https://keys.example.com/k1", str(tmp_path / "k.key"))
    for key in segments:
        stored = emulator.store.head(BUCKET, key)
        assert stored is not None
        (tmp_path / key.rsplit("/", 1)[-1]).write_bytes(stored.path.read_bytes())
    (tmp_path / "play.m3u8").write_text(local)
    decoded = ffmpeg.run_ffmpeg(
        ["-allowed_extensions", "ALL", "-i", str(tmp_path / "play.m3u8"), "-f", "null", "-"], timeout=60
    )
    assert "Error" not in decoded
    assert "frame=" in decoded
    assert result["details"]["hls_encrypted"] is True


def test_stream_extract_writes_each_stream_alone(
    client: CiClient, emulator: Emulator, hosted: HostedCallback, clips: dict[str, Path]
) -> None:
    items = [
        StreamExtract(index=0, object="out/streams/video.mp4"),
        StreamExtract(index=1, object="out/streams/audio.m4a"),
    ]
    output = StreamExtractOutput(bucket=BUCKET, region=REGION, stream_extract=items)
    _, result = run(client, emulator, hosted, StreamExtractOperation(output=output))
    video, audio = probe_key(emulator, "out/streams/video.mp4"), probe_key(emulator, "out/streams/audio.m4a")
    assert (video.num_streams, video.video is not None, video.audio) == (1, True, None)
    assert (audio.num_streams, audio.video, audio.audio is not None) == (1, None, True)
    assert routed_keys(result) == ["out/streams/video.mp4", "out/streams/audio.m4a"]
    assert result["details"]["streams"] == {"0": "out/streams/video.mp4", "1": "out/streams/audio.m4a"}


def test_sdr_to_hdr_writes_bt2020_hlg(
    client: CiClient, emulator: Emulator, hosted: HostedCallback, clips: dict[str, Path]
) -> None:
    operation = SdrToHdrOperation(
        sdr_to_hdr=SdrToHdr(hdr_mode="HLG"),
        transcode=Transcode(container=Container(format="mp4"), video=Video(codec="H.265")),
        output=out("out/hdr.mp4"),
    )
    detail, result = run(client, emulator, hosted, operation)
    probe = probe_key(emulator, "out/hdr.mp4")
    assert probe.video is not None
    assert probe.video.codec == "hevc"
    assert probe.video.pix_fmt == "yuv420p10le"
    [video] = detail.operation.media_info.stream.video  # type: ignore[union-attr]
    assert (video.color_transfer, video.color_primaries) == ("arib-std-b67", "bt2020")
    assert (result["details"]["hdr_mode"], result["details"]["color_transfer"]) == ("HLG", "arib-std-b67")


def test_video_process_filters_and_transcodes(
    client: CiClient, emulator: Emulator, hosted: HostedCallback, clips: dict[str, Path]
) -> None:
    params = VideoProcess(
        color_enhance=ColorEnhance(contrast=50, saturation=100), ms_sharpen=MsSharpen(sharpen_level=8)
    )
    operation = VideoProcessOperation(video_process=params, transcode_template_id="temump4sd", output=out("out/vp.mp4"))
    _, result = run(client, emulator, hosted, operation)
    probe = probe_key(emulator, "out/vp.mp4")
    assert probe.video is not None
    assert probe.video.height == 480
    original = emulator.store.head(BUCKET, "in/a.mp4")
    assert original is not None
    # The enhancement changed the picture: the first frames differ from a plain rescale of the input.
    assert result["details"]["color_enhance"] == {"contrast": 50, "saturation": 100}
    assert result["details"]["ms_sharpen"] == {"sharpen_level": 8}
    plain = subprocess.run(  # noqa: S603 - the test's own ffmpeg command
        [ffmpeg.ffmpeg_exe(), "-i", str(original.path), "-vf", "scale=-2:480", "-frames:v", "1", "-f", "rawvideo", "-"],
        capture_output=True,
        check=True,
    ).stdout
    stored = emulator.store.head(BUCKET, "out/vp.mp4")
    assert stored is not None
    enhanced = subprocess.run(  # noqa: S603 - the test's own ffmpeg command
        [ffmpeg.ffmpeg_exe(), "-i", str(stored.path), "-frames:v", "1", "-f", "rawvideo", "-"],
        capture_output=True,
        check=True,
    ).stdout
    assert len(plain) == len(enhanced)
    assert plain != enhanced


def test_media_info_job_reports_the_input(
    client: CiClient, emulator: Emulator, hosted: HostedCallback, clips: dict[str, Path]
) -> None:
    detail, result = run(client, emulator, hosted, MediaInfoOperation())
    info = detail.operation.media_info  # type: ignore[union-attr]
    assert info is not None
    assert info.format is not None
    assert info.format.num_stream == 2
    assert info.stream is not None
    assert info.stream.video[0].width == 160
    assert result["outputs"] == []
    assert (result["details"]["width"], result["details"]["num_streams"]) == (160, 2)
    assert 1.9 < result["details"]["duration"] < 2.2
