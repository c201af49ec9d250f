"""The tags typed before the editing, audio and intelligence families, end to end like them: submitted through the
production client, run by the emulator, described typed, and their callback routed by the callback function.

(The demo routes Snapshot, SmartCover, Animation, FileHashCode, FileUncompress, DocProcess and PicProcess from real
uploads; these are the ones no upload concern of the demo submits.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ciflow import operations as ops
from ciflow.client import CiClient
from ciflow.models import JobInput, JobOutput
from ciflow.models.files import FileCompressConfig, FileCompressJobRequest, FileCompressOperation
from ciflow.models.media import (
    Container,
    QualityEstimateJobRequest,
    QualityEstimateOperation,
    SuperResolution,
    SuperResolutionJobRequest,
    SuperResolutionOperation,
    Transcode,
    TranscodeJobRequest,
    TranscodeOperation,
    VideoEnhance,
    VideoEnhanceJobRequest,
    VideoEnhanceOperation,
)
from ciflow_local.emulator import Emulator
from ciflow_local.emulator.workers import ffmpeg
from tests.e2e.emulator.conftest import client_for
from tests.support.callback_host import HostedCallback, run_job

REGION = "ap-guangzhou"
BUCKET = "media-jobs-1250000000"
MP4 = Transcode(container=Container(format="mp4"))


@pytest.fixture
def client(emulator: Emulator) -> Iterator[CiClient]:
    with client_for(emulator.url, bucket=BUCKET) as ci_client:
        yield ci_client


@pytest.fixture(scope="module")
def clip(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> str:
    """``in/clip.mp4``: 1 s of 96x64 test pattern with a tone."""
    path: Path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    video = ["-f", "lavfi", "-i", "testsrc=size=96x64:rate=10", "-f", "lavfi", "-i", "sine=frequency=440"]
    encode = ["-t", "1", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"]
    ffmpeg.run_ffmpeg([*video, *encode, "-shortest", str(path)], timeout=60)
    with client_for(emulator.url, bucket=BUCKET) as uploader:
        uploader.send(ops.put_object("in/clip.mp4", path.read_bytes(), content_type="video/mp4"))
    return "in/clip.mp4"


def out(key: str) -> JobOutput:
    return JobOutput(region=REGION, bucket=BUCKET, object=key)


def size_of(emulator: Emulator, key: str) -> tuple[int | None, int | None]:
    stored = emulator.store.head(BUCKET, key)
    assert stored is not None, f"{key} was not written"
    video = ffmpeg.probe(stored.path).video
    assert video is not None
    return video.width, video.height


def routed_keys(result: dict[str, Any]) -> list[str]:
    return [output["key"] for output in result["outputs"]]


def test_transcode(client: CiClient, emulator: Emulator, hosted: HostedCallback, clip: str) -> None:
    operation = TranscodeOperation(transcode=MP4, output=out("out/transcoded.mp4"))
    request = TranscodeJobRequest(input=JobInput(object=clip), operation=operation, callback=hosted.callback_url)
    _, result = run_job(client, emulator, hosted, request)
    assert routed_keys(result) == ["out/transcoded.mp4"]
    assert size_of(emulator, "out/transcoded.mp4") == (96, 64)


def test_video_enhance(client: CiClient, emulator: Emulator, hosted: HostedCallback, clip: str) -> None:
    operation = VideoEnhanceOperation(video_enhance=VideoEnhance(transcode=MP4), output=out("out/enhanced.mp4"))
    request = VideoEnhanceJobRequest(input=JobInput(object=clip), operation=operation, callback=hosted.callback_url)
    _, result = run_job(client, emulator, hosted, request)
    assert routed_keys(result) == ["out/enhanced.mp4"]
    assert size_of(emulator, "out/enhanced.mp4") == (96, 64)


def test_super_resolution(client: CiClient, emulator: Emulator, hosted: HostedCallback, clip: str) -> None:
    operation = SuperResolutionOperation(
        super_resolution=SuperResolution(resolution="sdtohd"), transcode=MP4, output=out("out/sr.mp4")
    )
    request = SuperResolutionJobRequest(input=JobInput(object=clip), operation=operation, callback=hosted.callback_url)
    _, result = run_job(client, emulator, hosted, request)
    assert routed_keys(result) == ["out/sr.mp4"]
    assert size_of(emulator, "out/sr.mp4") == (192, 128)


def test_quality_estimate(client: CiClient, emulator: Emulator, hosted: HostedCallback, clip: str) -> None:
    request = QualityEstimateJobRequest(
        input=JobInput(object=clip), operation=QualityEstimateOperation(), callback=hosted.callback_url
    )
    detail, result = run_job(client, emulator, hosted, request)
    score = detail.operation.result.score
    assert score is not None
    assert 0 <= score <= 10
    assert result["details"]["quality_score"] == score


def test_file_compress(client: CiClient, emulator: Emulator, hosted: HostedCallback, clip: str) -> None:
    operation = FileCompressOperation(
        file_compress_config=FileCompressConfig(format="zip", flatten="0", key=[clip]), output=out("out/clip.zip")
    )
    request = FileCompressJobRequest(operation=operation, callback=hosted.callback_url)
    detail, result = run_job(
        client, emulator, hosted, request, submit=ops.submit_file_job, describe=ops.describe_file_jobs, kind="file"
    )
    assert routed_keys(result) == ["out/clip.zip"]
    stored = emulator.store.head(BUCKET, "out/clip.zip")
    assert stored is not None
    assert stored.path.read_bytes()[:2] == b"PK"
    assert detail.operation.file_compress_result is not None
