"""Callback envelopes: CI's TaskFinish and WorkflowFinish (XML or JSON) and moderation reports, in one parser.

``parse_callback`` never drops a report: a kind it does not know comes back as ``RawCallback``.
"""

import json
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from ..codec import DEFAULT_MAX_XML_BYTES, CiModel, CiTime, ListOf, decode_tree, element_to_tree, parse_xml
from ..errors import DecodeError
from ._common import OTHER_TAG, CosHeader, JobDetail, discriminate_by_tag
from .documents import DocJobDetail
from .files import FILE_TAGS, FileCompressJobDetail, FileHashCodeJobDetail, FileUncompressJobDetail
from .media import (
    MEDIA_TAGS,
    AnimationJobDetail,
    QualityEstimateJobDetail,
    SmartCoverJobDetail,
    SnapshotJobDetail,
    SuperResolutionJobDetail,
    TranscodeJobDetail,
    VideoEnhanceJobDetail,
)
from .moderation import EVENT_KINDS, ModerationCallback, decode_moderation_callback
from .pictures import PicJobDetail

__all__ = [
    "JOB_TAGS",
    "AnyJobDetail",
    "TaskFinish",
    "WorkflowTask",
    "WorkflowExecution",
    "WorkflowFinish",
    "RawCallback",
    "Callback",
    "decode_callback",
    "parse_callback",
]

#: Every job tag with a typed detail model, across media, file, document and picture jobs.
JOB_TAGS = MEDIA_TAGS | FILE_TAGS | frozenset({"DocProcess", "PicProcess"})

AnyJobDetail = Annotated[
    Annotated[TranscodeJobDetail, Tag("Transcode")]
    | Annotated[SnapshotJobDetail, Tag("Snapshot")]
    | Annotated[SmartCoverJobDetail, Tag("SmartCover")]
    | Annotated[AnimationJobDetail, Tag("Animation")]
    | Annotated[VideoEnhanceJobDetail, Tag("VideoEnhance")]
    | Annotated[QualityEstimateJobDetail, Tag("QualityEstimate")]
    | Annotated[SuperResolutionJobDetail, Tag("SuperResolution")]
    | Annotated[FileHashCodeJobDetail, Tag("FileHashCode")]
    | Annotated[FileUncompressJobDetail, Tag("FileUncompress")]
    | Annotated[FileCompressJobDetail, Tag("FileCompress")]
    | Annotated[DocJobDetail, Tag("DocProcess")]
    | Annotated[PicJobDetail, Tag("PicProcess")]
    | Annotated[JobDetail, Tag(OTHER_TAG)],
    Discriminator(discriminate_by_tag(JOB_TAGS)),
]


class TaskFinish(CiModel):
    """A job finished: ``<Response><EventName>TaskFinish</EventName><JobsDetail>…`` (JSON has no wrapper)."""

    event_name: str = "TaskFinish"
    jobs_detail: ListOf[AnyJobDetail] = Field(default_factory=list)


class WorkflowTask(CiModel):
    """One node's job in a finished workflow instance."""

    type: str | None = None
    create_time: CiTime = None
    start_time: CiTime = None
    end_time: CiTime = None
    state: str | None = None
    job_id: str | None = None
    name: str | None = None
    template_id: str | None = None
    template_name: str | None = None
    code: str | None = None
    message: str | None = None


class WorkflowExecution(CiModel):
    """A workflow instance: Failed if any of its tasks failed."""

    workflow_id: str | None = None
    workflow_name: str | None = None
    run_id: str | None = None
    state: str | None = None
    bucket_id: str | None = None
    object: str | None = None
    create_time: CiTime = None
    cos_headers: ListOf[CosHeader] = Field(default_factory=list)
    tasks: ListOf[WorkflowTask] = Field(default_factory=list)


class WorkflowFinish(CiModel):
    """A workflow instance finished: ``EventName`` WorkflowFinish with its ``WorkflowExecution``."""

    event_name: str = "WorkflowFinish"
    workflow_execution: WorkflowExecution | None = None


class RawCallback(BaseModel):
    """A report of a kind we do not model: kept whole so it can still be routed."""

    model_config = ConfigDict(defer_build=True)

    format: Literal["xml", "json"]
    event_name: str | None = None
    tree: Any = None


Callback: TypeAlias = TaskFinish | WorkflowFinish | ModerationCallback | RawCallback


def decode_callback(tree: Any, format: Literal["xml", "json"] = "json") -> Callback:
    """Pick the model of a decoded callback tree by its ``EventName`` (or moderation's ``code``/``data``)."""
    if not isinstance(tree, dict):
        raise DecodeError("callback body is not an object")
    event = tree.get("EventName")
    if event == "TaskFinish":
        return decode_tree(TaskFinish, tree)
    if event == "WorkflowFinish":
        return decode_tree(WorkflowFinish, tree)
    if event in EVENT_KINDS or (event is None and "data" in tree and "code" in tree):
        return decode_moderation_callback(tree)
    return RawCallback(format=format, event_name=event if isinstance(event, str) else None, tree=tree)


def parse_callback(
    body: bytes | str, content_type: str | None = None, *, max_bytes: int = DEFAULT_MAX_XML_BYTES
) -> Callback:
    """Parse an untrusted callback body, XML or JSON (by content type, else by its first character)."""
    data = body.encode() if isinstance(body, str) else body
    if len(data) > max_bytes:
        raise DecodeError(f"callback body of {len(data)} bytes is over the {max_bytes}-byte limit")
    is_xml = "xml" in content_type.lower() if content_type else data.lstrip()[:1] == b"<"
    if is_xml:
        tree = element_to_tree(parse_xml(data, max_bytes=max_bytes))
        return decode_callback(tree if tree != "" else {}, "xml")
    try:
        tree = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise DecodeError(f"callback body is not JSON: {type(exc).__name__}") from None
    return decode_callback(tree, "json")
