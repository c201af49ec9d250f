"""Typed synchronous media calls: GenerateSnapshot (``POST /snapshot``), videoinfo (``media.MediaInfo``), snapshot and
private-M3U8 query parameters."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ciflow.codec import CiFloat, CiInt, CiModel

from ._common import JobInput, JobOutput
from ._media_results import MediaInfo

__all__ = ["GenerateSnapshotRequest", "GenerateSnapshotResponse", "MediaInfoResponse", "SnapshotQuery", "SyncContent"]


class GenerateSnapshotRequest(CiModel):
    """``POST /snapshot`` body: one frame of ``Input.Object`` at ``Time`` seconds, written to ``Output``."""

    input: JobInput
    time: CiFloat = None
    width: CiInt = None  # 0 or absent: keep the aspect ratio
    height: CiInt = None
    mode: str | None = None  # exactframe (default) | keyframe
    rotate: str | None = None  # auto (default) | off
    format: str | None = None  # jpg (default) | png
    output: JobOutput | None = None


class GenerateSnapshotResponse(CiModel):
    """``<Response>`` of ``POST /snapshot``: where the frame was written."""

    output: JobOutput | None = None


class MediaInfoResponse(CiModel):
    """``<Response>`` of ``GET /<key>?ci-process=videoinfo``: the object's media information."""

    media_info: MediaInfo | None = None


class SnapshotQuery(CiModel):
    """``GET /<key>?ci-process=snapshot`` parameters (the answer is the image itself)."""

    time: float
    width: int | None = None
    height: int | None = None
    format: str | None = None  # jpg | png
    rotate: str | None = None  # auto | off
    mode: str | None = None  # exactframe | keyframe

    def to_params(self) -> tuple[tuple[str, str], ...]:
        pairs = [("ci-process", "snapshot"), ("time", f"{self.time:g}")]
        for name in ("width", "height", "format", "rotate", "mode"):
            value = getattr(self, name)
            if value is not None:
                pairs.append((name, str(value)))
        return tuple(pairs)


class SyncContent(BaseModel):
    """The body of a call answered with content rather than XML (a snapshot image, a playlist, a document page)."""

    model_config = ConfigDict(defer_build=True)

    content: bytes
    content_type: str | None = None
    total_pages: int | None = None  # doc-preview's X-Total-Page
