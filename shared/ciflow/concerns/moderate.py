"""Moderate uploads: the moderation API chosen by media type, with policy, scenes and freeze thresholds from config."""

from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field, field_validator

from .. import operations as ops
from ..events import ObjectRef
from ..handlers import Delivery, PlannedJob, UploadSettings
from ..models.moderation import (
    MODERATION_SCENES,
    AudioModerationRequest,
    DocumentModerationRequest,
    FreezeConf,
    ImageModerationRequest,
    ModerationConf,
    ModerationInput,
    SnapshotConf,
    TextModerationRequest,
    VideoModerationRequest,
    moderation_scene,
)
from ._common import (
    AUDIO_EXTENSIONS,
    DOCUMENT_EXTENSIONS,
    TEXT_EXTENSIONS,
    VIDEO_EXTENSIONS,
    MediaType,
    classify,
    comma_list,
    require_own_bucket,
)
from ._moderation import with_moderation_delivery

__all__ = ["KINDS", "ModerateSettings", "plan"]

#: The image formats CI moderates (PNG, JPG, BMP, GIF, WEBP).
IMAGE_EXTENSIONS = frozenset({"jpg", "jpeg", "png", "bmp", "gif", "webp"})
#: Media kind -> the extensions moderated as that kind; text before document, so ``.txt`` goes to text moderation.
KINDS: dict[str, frozenset[str]] = {
    "image": IMAGE_EXTENSIONS,
    "video": VIDEO_EXTENSIONS,
    "audio": AUDIO_EXTENSIONS,
    "text": TEXT_EXTENSIONS,
    "document": DOCUMENT_EXTENSIONS,
}
KindName = Literal["image", "video", "audio", "text", "document"]
_ALL_KINDS: list[KindName] = ["image", "video", "audio", "text", "document"]
#: Scene names of ``DetectType`` (CI host spelling) and of the synchronous image API's ``detect-type``.
SCENES: dict[str, str] = {scene.name.lower(): scene.name for scene in MODERATION_SCENES if scene.requestable}
#: Images over this size are moderated with ``LargeImageDetect`` (compressed first), as CI requires.
LARGE_IMAGE_BYTES = 5 * 1024 * 1024
#: The synchronous image API reads images up to this size.
SYNC_IMAGE_LIMIT = 32 * 1024 * 1024
#: Freeze scenes CI documents only for text (the others apply to every kind).
_TEXT_ONLY_FREEZE = frozenset({"illegal_score", "abuse_score"})


class ModerateSettings(UploadSettings):
    """``CIFLOW_MODERATE_*``: which kinds to moderate, the policy, freeze thresholds and video frame capture."""

    moderate_kinds: list[KindName] = Field(
        default_factory=lambda: list(_ALL_KINDS),
        min_length=1,
        validation_alias="CIFLOW_MODERATE_KINDS",
    )
    biz_type: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_-]{1,128}$", validation_alias="CIFLOW_MODERATE_BIZ_TYPE"
    )
    detect_types: list[str] = Field(default_factory=list, validation_alias="CIFLOW_MODERATE_DETECT_TYPE")
    callback_version: Literal["Simple", "Detail"] = Field(
        default="Detail", validation_alias="CIFLOW_MODERATE_CALLBACK_VERSION"
    )
    # Freeze (make private) the object when a scene's score reaches the threshold, 0-100; unset = never.
    freeze_porn: int | None = Field(default=None, ge=0, le=100, validation_alias="CIFLOW_MODERATE_FREEZE_PORN")
    freeze_ads: int | None = Field(default=None, ge=0, le=100, validation_alias="CIFLOW_MODERATE_FREEZE_ADS")
    freeze_terrorism: int | None = Field(
        default=None, ge=0, le=100, validation_alias="CIFLOW_MODERATE_FREEZE_TERRORISM"
    )
    freeze_politics: int | None = Field(default=None, ge=0, le=100, validation_alias="CIFLOW_MODERATE_FREEZE_POLITICS")
    freeze_teenager: int | None = Field(default=None, ge=0, le=100, validation_alias="CIFLOW_MODERATE_FREEZE_TEENAGER")
    freeze_illegal: int | None = Field(default=None, ge=0, le=100, validation_alias="CIFLOW_MODERATE_FREEZE_ILLEGAL")
    freeze_abuse: int | None = Field(default=None, ge=0, le=100, validation_alias="CIFLOW_MODERATE_FREEZE_ABUSE")
    # Video: how frames are captured, and whether the sound track is moderated too.
    snapshot_mode: Literal["Interval", "Average", "Fps"] = Field(
        default="Interval", validation_alias="CIFLOW_MODERATE_SNAPSHOT_MODE"
    )
    snapshot_count: int = Field(default=100, ge=1, le=10000, validation_alias="CIFLOW_MODERATE_SNAPSHOT_COUNT")
    snapshot_interval: float = Field(default=1.0, gt=0, le=60, validation_alias="CIFLOW_MODERATE_SNAPSHOT_INTERVAL")
    detect_audio: bool = Field(default=False, validation_alias="CIFLOW_MODERATE_VIDEO_AUDIO")
    # Images up to this many bytes are moderated synchronously (answered inline, no freeze); 0 = never.
    sync_max_size: int = Field(default=0, ge=0, le=SYNC_IMAGE_LIMIT, validation_alias="CIFLOW_MODERATE_SYNC_MAX_SIZE")
    large_image_detect: bool = Field(default=True, validation_alias="CIFLOW_MODERATE_LARGE_IMAGE")

    @field_validator("moderate_kinds", "detect_types", mode="before")
    @classmethod
    def _lists(cls, value: object) -> object:
        value = comma_list(value)
        return [item.lower() if isinstance(item, str) else item for item in value] if isinstance(value, list) else value

    @field_validator("detect_types")
    @classmethod
    def _scenes(cls, value: list[str]) -> list[str]:
        unknown = [scene for scene in value if scene not in SCENES]
        if unknown:
            raise ValueError(f"unknown scene(s) {', '.join(unknown)}; known: {', '.join(SCENES.values())}")
        return [SCENES[scene] for scene in dict.fromkeys(value)]


def _freeze(settings: ModerateSettings, kind: str) -> FreezeConf | None:
    scores: dict[str, Any] = {
        "porn_score": settings.freeze_porn,
        "ads_score": settings.freeze_ads,
        "terrorism_score": settings.freeze_terrorism,
        "politics_score": settings.freeze_politics,
        "teenager_score": settings.freeze_teenager,
        "illegal_score": settings.freeze_illegal,
        "abuse_score": settings.freeze_abuse,
    }
    chosen = {
        name: score
        for name, score in scores.items()
        if score is not None and (kind == "text" or name not in _TEXT_ONLY_FREEZE)
    }
    return FreezeConf(**chosen) if chosen else None


def _conf(settings: ModerateSettings, kind: str) -> ModerationConf:
    fields: dict[str, Any] = {
        "biz_type": settings.biz_type,
        "detect_type": ",".join(settings.detect_types) or None,
        "freeze": _freeze(settings, kind),
    }
    if kind in ("video", "audio", "text"):  # image and document callbacks have one shape only
        fields["callback_version"] = settings.callback_version
    if kind == "image":
        fields["async_"] = 1  # a job answered by callback, not a verdict held open in the response
    if kind == "video":
        fields["snapshot"] = SnapshotConf(
            mode=settings.snapshot_mode,
            count=settings.snapshot_count,
            time_interval=None if settings.snapshot_mode == "Average" else settings.snapshot_interval,
        )
        fields["detect_content"] = 1 if settings.detect_audio else 0
    return ModerationConf(**fields)


def _large(ref: ObjectRef, settings: ModerateSettings) -> bool:
    return settings.large_image_detect and ref.size is not None and ref.size > LARGE_IMAGE_BYTES


def _image(ref: ObjectRef, settings: ModerateSettings, delivery: Callable[[str], Delivery]) -> PlannedJob:
    if settings.sync_max_size and ref.size is not None and ref.size <= settings.sync_max_size:
        step = "image-sync"
        scenes = ",".join(scene.detect_type for scene in map(moderation_scene, settings.detect_types) if scene)
        operation = ops.moderate_image_object(
            ref.key,
            biz_type=settings.biz_type,
            detect_type=scenes or None,
            large_image_detect=_large(ref, settings),
            data_id=delivery(step).user_data,
        )
        return PlannedJob(step, operation)
    request = ImageModerationRequest(
        input=[ModerationInput(object=ref.key, large_image_detect=1 if _large(ref, settings) else None)],
        conf=_conf(settings, "image"),
    )
    return PlannedJob("image", ops.submit_moderation(with_moderation_delivery(request, delivery("image"))))


def plan(ref: ObjectRef, settings: ModerateSettings, delivery: Callable[[str], Delivery]) -> list[PlannedJob]:
    """One moderation step for an image, video, audio, text or document upload; ``[]`` for anything else."""
    media: MediaType | None = classify(ref, {kind: KINDS[kind] for kind in KINDS if kind in settings.moderate_kinds})
    if media is None:
        return []
    require_own_bucket(ref, settings)
    if media.kind == "image":
        return [_image(ref, settings, delivery)]
    conf = _conf(settings, media.kind)
    source = ModerationInput(object=ref.key)
    request: VideoModerationRequest | AudioModerationRequest | TextModerationRequest | DocumentModerationRequest
    if media.kind == "video":
        request = VideoModerationRequest(input=source, conf=conf)
    elif media.kind == "audio":
        request = AudioModerationRequest(input=source, conf=conf)
    elif media.kind == "text":
        request = TextModerationRequest(input=source, conf=conf)
    else:
        # A key without a document extension (typed by its content type) must name its file type.
        typed = source if media.declared else source.model_copy(update={"type": media.extension})
        request = DocumentModerationRequest(input=typed, conf=conf)
    step = media.kind
    return [PlannedJob(step, ops.submit_moderation(with_moderation_delivery(request, delivery(step))))]
