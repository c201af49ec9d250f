"""Previews of uploads: image thumbnails, video frames, covers and animations, document pages as images."""

import re
from collections.abc import Callable
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from .. import operations as ops
from ..events import ObjectRef
from ..handlers import Delivery, PlannedJob, UploadSettings, output_for, with_delivery
from ..models import JobInput
from ..models.documents import DocJobRequest, DocProcess, DocProcessOperation
from ..models.media import (
    Animation,
    AnimationJobRequest,
    AnimationOperation,
    AnimationVideo,
    Container,
    SmartCover,
    SmartCoverJobRequest,
    SmartCoverOperation,
    Snapshot,
    SnapshotJobRequest,
    SnapshotOperation,
    TimeInterval,
)
from ..models.pictures import PicJobRequest, PicOperation, PicProcess
from ._common import (
    DOCUMENT_EXTENSIONS,
    IMAGE_EXTENSIONS,
    SPREADSHEET_EXTENSIONS,
    VIDEO_EXTENSIONS,
    MediaType,
    classify,
    comma_list,
    require_own_bucket,
    with_queue,
)

__all__ = ["PreviewsSettings", "plan"]

CONCERN = "previews"
#: CI's document preview reads files up to 200 MB.
DOCUMENT_LIMIT = 200 * 1024 * 1024
PreviewKind = Literal["image", "video", "document"]
_ALL_KINDS: list[PreviewKind] = ["image", "video", "document"]
_RULE = re.compile(r"^(imageMogr2|imageView2)/\S+$")
_RULE_FORMAT = re.compile(r"/format/([A-Za-z0-9]+)")


class PreviewsSettings(UploadSettings):
    """``CIFLOW_PREVIEWS_*``: the thumbnail rule, video frames/covers/animation, document pages, their queues."""

    # Images: one PicProcess job with this rule, in the picture queue.
    image_rule: str = Field(
        default="imageMogr2/thumbnail/320x320", pattern=_RULE.pattern, validation_alias="CIFLOW_PREVIEWS_IMAGE_RULE"
    )
    pic_queue_id: str | None = Field(default=None, validation_alias="CIFLOW_PREVIEWS_PIC_QUEUE_ID")
    # Videos (media queue, CIFLOW_QUEUE_ID): frames every INTERVAL seconds, or COUNT spread evenly; 0 = none.
    snapshot_count: int = Field(default=3, ge=0, le=10000, validation_alias="CIFLOW_PREVIEWS_SNAPSHOT_COUNT")
    snapshot_interval: float | None = Field(
        default=None, gt=0, le=3600, validation_alias="CIFLOW_PREVIEWS_SNAPSHOT_INTERVAL"
    )
    snapshot_width: int | None = Field(default=None, ge=8, le=4096, validation_alias="CIFLOW_PREVIEWS_SNAPSHOT_WIDTH")
    snapshot_height: int | None = Field(default=None, ge=8, le=4096, validation_alias="CIFLOW_PREVIEWS_SNAPSHOT_HEIGHT")
    smartcover: bool = Field(default=True, validation_alias="CIFLOW_PREVIEWS_SMARTCOVER")
    smartcover_count: int = Field(default=3, ge=1, le=10, validation_alias="CIFLOW_PREVIEWS_SMARTCOVER_COUNT")
    animation: bool = Field(default=False, validation_alias="CIFLOW_PREVIEWS_ANIMATION")
    animation_format: Literal["gif", "webp"] = Field(default="gif", validation_alias="CIFLOW_PREVIEWS_ANIMATION_FORMAT")
    animation_width: int = Field(default=320, ge=128, le=4096, validation_alias="CIFLOW_PREVIEWS_ANIMATION_WIDTH")
    animation_fps: float = Field(default=10, gt=0, le=60, validation_alias="CIFLOW_PREVIEWS_ANIMATION_FPS")
    animation_start: float = Field(default=0, ge=0, validation_alias="CIFLOW_PREVIEWS_ANIMATION_START")
    animation_duration: float = Field(default=3, gt=0, le=60, validation_alias="CIFLOW_PREVIEWS_ANIMATION_DURATION")
    # Documents: pages START..END (-1 = to the last) as images, in the document queue.
    doc_suffixes: list[str] = Field(
        default_factory=lambda: ["pdf", "doc", "docx", "ppt", "pptx", "xls", "xlsx", "txt"],
        min_length=1,
        validation_alias="CIFLOW_PREVIEWS_DOC_SUFFIXES",
    )
    doc_start_page: int = Field(default=1, ge=1, validation_alias="CIFLOW_PREVIEWS_DOC_START_PAGE")
    doc_end_page: int = Field(default=3, ge=-1, validation_alias="CIFLOW_PREVIEWS_DOC_END_PAGE")
    doc_format: Literal["jpg", "png"] = Field(default="jpg", validation_alias="CIFLOW_PREVIEWS_DOC_FORMAT")
    doc_image_params: str | None = Field(
        default=None, pattern=r"^\S+$", validation_alias="CIFLOW_PREVIEWS_DOC_IMAGE_PARAMS"
    )
    doc_queue_id: str | None = Field(default=None, validation_alias="CIFLOW_PREVIEWS_DOC_QUEUE_ID")
    # Declared last: its check sees the settings of every kind.
    preview_kinds: list[PreviewKind] = Field(
        default_factory=lambda: list(_ALL_KINDS),
        min_length=1,
        validate_default=True,
        validation_alias="CIFLOW_PREVIEWS_KINDS",
    )

    @field_validator("doc_suffixes", "preview_kinds", mode="before")
    @classmethod
    def _lists(cls, value: object) -> object:
        value = comma_list(value)
        if isinstance(value, list):
            return [item.strip().lstrip(".").lower() if isinstance(item, str) else item for item in value]
        return value

    @field_validator("doc_suffixes")
    @classmethod
    def _documents(cls, value: list[str]) -> list[str]:
        unknown = [suffix for suffix in value if suffix not in DOCUMENT_EXTENSIONS | {"txt"}]
        if unknown:
            raise ValueError(f"CI does not preview {', '.join(unknown)} files")
        return list(dict.fromkeys(value))

    @field_validator("doc_end_page")
    @classmethod
    def _page_range(cls, value: int, info: ValidationInfo) -> int:
        start = info.data.get("doc_start_page")
        if value == 0 or (value != -1 and start is not None and value < start):
            raise ValueError("must be -1 (the last page) or at least CIFLOW_PREVIEWS_DOC_START_PAGE")
        return value

    @field_validator("preview_kinds")
    @classmethod
    def _video_has_work(cls, value: list[PreviewKind], info: ValidationInfo) -> list[PreviewKind]:
        video = ("snapshot_count", "smartcover", "animation")
        if "video" in value and all(name in info.data for name in video) and not any(info.data[n] for n in video):
            raise ValueError(
                "video previews are on but CIFLOW_PREVIEWS_SNAPSHOT_COUNT is 0 and CIFLOW_PREVIEWS_SMARTCOVER and "
                "CIFLOW_PREVIEWS_ANIMATION are off"
            )
        return list(dict.fromkeys(value))


def _image(
    ref: ObjectRef, media: MediaType, settings: PreviewsSettings, delivery: Callable[[str], Delivery]
) -> list[PlannedJob]:
    step = "thumbnail"
    declared = _RULE_FORMAT.search(settings.image_rule)
    extension = declared.group(1).lower() if declared else media.extension
    request = PicJobRequest(
        input=JobInput(object=ref.key),
        queue_id=settings.pic_queue_id,
        operation=PicOperation(
            pic_process=PicProcess(process_rule=settings.image_rule),
            output=output_for(settings, CONCERN, ref, f"{step}.{extension}"),
        ),
    )
    pic_delivery = with_queue(delivery(step), None)  # CIFLOW_QUEUE_ID names the media queue
    return [PlannedJob(step, ops.submit_pic_job(with_delivery(request, pic_delivery)))]


def _video(ref: ObjectRef, settings: PreviewsSettings, delivery: Callable[[str], Delivery]) -> list[PlannedJob]:
    source = JobInput(object=ref.key)
    jobs: list[PlannedJob] = []
    if settings.snapshot_count:
        frames = Snapshot(
            mode="Interval" if settings.snapshot_interval else "Average",
            count=settings.snapshot_count,
            time_interval=settings.snapshot_interval,
            width=settings.snapshot_width,
            height=settings.snapshot_height,
        )
        # The Snapshot API requires its numbering wildcard in the output key.
        operation = SnapshotOperation(
            snapshot=frames, output=output_for(settings, CONCERN, ref, "snapshot-${Number}.jpg")
        )
        request = SnapshotJobRequest(input=source, operation=operation)
        jobs.append(PlannedJob("snapshot", ops.submit_media_job(with_delivery(request, delivery("snapshot")))))
    if settings.smartcover:
        cover = SmartCoverOperation(
            smart_cover=SmartCover(format="jpg", count=settings.smartcover_count),
            output=output_for(settings, CONCERN, ref, "smartcover-${number}.jpg"),
        )
        covers = SmartCoverJobRequest(input=source, operation=cover)
        jobs.append(PlannedJob("smartcover", ops.submit_media_job(with_delivery(covers, delivery("smartcover")))))
    if settings.animation:
        fmt = settings.animation_format
        animated = AnimationOperation(
            animation=Animation(
                container=Container(format=fmt),
                video=AnimationVideo(
                    codec=fmt,
                    width=settings.animation_width,
                    animate_only_keep_key_frame=False,
                    animate_frames_per_second=settings.animation_fps,
                ),
                time_interval=TimeInterval(start=settings.animation_start, duration=settings.animation_duration),
            ),
            output=output_for(settings, CONCERN, ref, f"animation.{fmt}"),
        )
        clip = AnimationJobRequest(input=source, operation=animated)
        jobs.append(PlannedJob("animation", ops.submit_media_job(with_delivery(clip, delivery("animation")))))
    return jobs


def _document(
    ref: ObjectRef, media: MediaType, settings: PreviewsSettings, delivery: Callable[[str], Delivery]
) -> list[PlannedJob]:
    if ref.size is not None and ref.size > DOCUMENT_LIMIT:
        raise ValueError(f"document of {ref.size} bytes is over the 200 MB that CI's document preview reads")
    step = "pages"
    fmt = settings.doc_format
    # Spreadsheets render sheet by sheet and need ${SheetID}; other documents are numbered by page.
    if media.extension in SPREADSHEET_EXTENSIONS:
        name = f"pages/sheet-${{SheetID}}/page-${{Number}}.{fmt}"
    else:
        name = f"pages/page-${{Page}}.{fmt}"
    request = DocJobRequest(
        input=JobInput(object=ref.key),
        queue_id=settings.doc_queue_id,
        operation=DocProcessOperation(
            doc_process=DocProcess(
                src_type=None if media.declared else media.extension,
                tgt_type=fmt,
                start_page=settings.doc_start_page,
                end_page=settings.doc_end_page,
                image_params=settings.doc_image_params,
            ),
            output=output_for(settings, CONCERN, ref, name),
        ),
    )
    doc_delivery = with_queue(delivery(step), None)  # CIFLOW_QUEUE_ID names the media queue
    return [PlannedJob(step, ops.submit_doc_job(with_delivery(request, doc_delivery)))]


def plan(ref: ObjectRef, settings: PreviewsSettings, delivery: Callable[[str], Delivery]) -> list[PlannedJob]:
    """Thumbnail for an image; snapshot, smartcover and animation for a video; pages for a document; else ``[]``."""
    kinds = {
        "image": IMAGE_EXTENSIONS,
        "video": VIDEO_EXTENSIONS,
        "document": frozenset(settings.doc_suffixes),
    }
    media = classify(ref, {kind: kinds[kind] for kind in kinds if kind in settings.preview_kinds})
    if media is None:
        return []
    require_own_bucket(ref, settings)
    if media.kind == "image":
        return _image(ref, media, settings, delivery)
    if media.kind == "video":
        return _video(ref, settings, delivery)
    return _document(ref, media, settings, delivery)
