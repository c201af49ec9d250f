"""CI content moderation ("auditing"): submit/query bodies, JSON callbacks and one media-agnostic verdict."""

# The family's public face: responses and callbacks are defined here, the rest in the private ``_moderation_*``
# modules (kinds and scenes, requests, scene results, job details) and re-exported under the same names.

from typing import Any, TypeAlias

from pydantic import ConfigDict, Field

from ciflow.codec import DEFAULT_MAX_XML_BYTES, CiInt, CiModel, ListOf, decode_tree
from ciflow.errors import DecodeError

from ._common import load_callback_body
from ._moderation_details import (
    AudioModerationDetail,
    AudioSection,
    DocumentModerationDetail,
    DocumentPageResult,
    DocumentPageSegment,
    ImageModerationDetail,
    ImageRecognitionResult,
    ModerationJobDetail,
    TextModerationDetail,
    TextSection,
    VideoModerationDetail,
    VideoSnapshot,
)
from ._moderation_requests import (
    AudioModerationRequest,
    DocumentModerationRequest,
    Encryption,
    FreezeConf,
    ImageModerationRequest,
    MaskAudio,
    MaskConf,
    MaskCosOutput,
    MaskImage,
    MaskLiveOutput,
    ModerationConf,
    ModerationInput,
    ModerationRequest,
    SnapshotConf,
    StorageConf,
    TextModerationRequest,
    UserInfo,
    VideoModerationRequest,
)
from ._moderation_results import (
    HitInfo,
    HitPosition,
    LanguageResult,
    LibResult,
    ListInfo,
    ListResult,
    Location,
    MaskInfo,
    MaskLiveInfo,
    MaskRecordInfo,
    MaskRecordOutput,
    ObjectResult,
    OcrResult,
    SceneInfo,
    SceneResults,
)
from ._moderation_scenes import (
    CONTENT_VERSION_HEADER,
    EVENT_KINDS,
    MODERATION_SCENES,
    TEST_CALLBACK_MESSAGE,
    ModerationCallbackVersion,
    ModerationKind,
    ModerationScene,
    ModerationVerdict,
    Verdict,
    build_verdict,
    default_scenes,
    moderation_scene,
    scenes_of,
)

__all__ = [
    "ModerationKind",
    "ModerationCallbackVersion",
    "Verdict",
    "ModerationVerdict",
    "CONTENT_VERSION_HEADER",
    "TEST_CALLBACK_MESSAGE",
    "EVENT_KINDS",
    "ModerationScene",
    "MODERATION_SCENES",
    "moderation_scene",
    "default_scenes",
    # request
    "UserInfo",
    "Encryption",
    "ModerationInput",
    "FreezeConf",
    "SnapshotConf",
    "MaskImage",
    "MaskAudio",
    "MaskCosOutput",
    "MaskLiveOutput",
    "MaskConf",
    "ModerationConf",
    "StorageConf",
    "ModerationRequest",
    "ImageModerationRequest",
    "VideoModerationRequest",
    "AudioModerationRequest",
    "TextModerationRequest",
    "DocumentModerationRequest",
    # results
    "Location",
    "OcrResult",
    "ObjectResult",
    "LibResult",
    "LanguageResult",
    "HitPosition",
    "HitInfo",
    "SceneInfo",
    "SceneResults",
    "ListResult",
    "ListInfo",
    "MaskRecordOutput",
    "MaskRecordInfo",
    "MaskLiveInfo",
    "MaskInfo",
    "ModerationJobDetail",
    "ImageModerationDetail",
    "ImageRecognitionResult",
    "VideoSnapshot",
    "AudioSection",
    "VideoModerationDetail",
    "AudioModerationDetail",
    "TextSection",
    "TextModerationDetail",
    "DocumentPageResult",
    "DocumentPageSegment",
    "DocumentModerationDetail",
    # responses
    "ImageModerationResponse",
    "VideoModerationResponse",
    "AudioModerationResponse",
    "TextModerationResponse",
    "DocumentModerationResponse",
    "MODERATION_RESPONSES",
    # callbacks
    "ModerationDetailCallback",
    "ImageModerationCallback",
    "VideoModerationCallback",
    "AudioModerationCallback",
    "TextModerationCallback",
    "DocumentModerationCallback",
    "SimpleSceneInfo",
    "SimpleCallbackData",
    "ModerationSimpleCallback",
    "ModerationCallback",
    "decode_moderation_callback",
    "detail_callback",
    "parse_moderation_callback",
]


# --------------------------------------------------------------------------------------------------
# Responses (root <Response>; <RecognitionResult> for the single-image GET)
# --------------------------------------------------------------------------------------------------


class ImageModerationResponse(CiModel):
    """``<Response>`` of the batch submit (one ``JobsDetail`` per ``Input``, same order) and the query."""

    jobs_detail: ListOf[ImageModerationDetail] = Field(default_factory=list)
    request_id: str | None = None


class VideoModerationResponse(CiModel):
    """``<Response>`` of ``POST /video/auditing`` and ``GET /video/auditing/<jobId>``."""

    jobs_detail: VideoModerationDetail | None = None
    request_id: str | None = None


class AudioModerationResponse(CiModel):
    """``<Response>`` of ``POST /audio/auditing`` and ``GET /audio/auditing/<jobId>``."""

    jobs_detail: AudioModerationDetail | None = None
    request_id: str | None = None


class TextModerationResponse(CiModel):
    """``<Response>`` of ``POST /text/auditing`` (full result if sync) and ``GET /text/auditing/<jobId>``."""

    jobs_detail: TextModerationDetail | None = None
    request_id: str | None = None


class DocumentModerationResponse(CiModel):
    """``<Response>`` of ``POST /document/auditing`` and ``GET /document/auditing/<jobId>``."""

    jobs_detail: DocumentModerationDetail | None = None
    request_id: str | None = None


#: The response model of the submit and query calls of each media type.
MODERATION_RESPONSES: dict[ModerationKind, type[CiModel]] = {
    ModerationKind.IMAGE: ImageModerationResponse,
    ModerationKind.VIDEO: VideoModerationResponse,
    ModerationKind.AUDIO: AudioModerationResponse,
    ModerationKind.TEXT: TextModerationResponse,
    ModerationKind.DOCUMENT: DocumentModerationResponse,
}


# --------------------------------------------------------------------------------------------------
# Callbacks (JSON POSTed to Conf.Callback)
# --------------------------------------------------------------------------------------------------


class ModerationDetailCallback(CiModel):
    """Detail callback (``X-Ci-Content-Version: Detail``): ``{EventName, JobsDetail{…query fields…}}``.

    ``JobsDetail`` is one object; subclasses type it per media type. Image and document always use
    this shape.
    """

    event_name: str | None = None
    jobs_detail: ModerationJobDetail | None = None

    @property
    def kind(self) -> ModerationKind | None:
        return EVENT_KINDS.get(self.event_name or "")

    @property
    def verdict(self) -> ModerationVerdict:
        return self.jobs_detail.verdict if self.jobs_detail is not None else ModerationVerdict()


class ImageModerationCallback(ModerationDetailCallback):
    """``EventName=ReviewImage`` Detail callback."""

    jobs_detail: ImageModerationDetail | None = None


class VideoModerationCallback(ModerationDetailCallback):
    """``EventName=ReviewVideo`` Detail callback."""

    jobs_detail: VideoModerationDetail | None = None


class AudioModerationCallback(ModerationDetailCallback):
    """``EventName=ReviewAudio`` Detail callback."""

    jobs_detail: AudioModerationDetail | None = None


class TextModerationCallback(ModerationDetailCallback):
    """``EventName=ReviewText`` Detail callback."""

    jobs_detail: TextModerationDetail | None = None


class DocumentModerationCallback(ModerationDetailCallback):
    """``EventName=ReviewDocument`` callback (documents have only this shape)."""

    jobs_detail: DocumentModerationDetail | None = None


_DETAIL_CALLBACKS: dict[str, type[ModerationDetailCallback]] = {
    "ReviewImage": ImageModerationCallback,
    "ReviewVideo": VideoModerationCallback,
    "ReviewAudio": AudioModerationCallback,
    "ReviewText": TextModerationCallback,
    "ReviewDocument": DocumentModerationCallback,
}

_KIND_EVENTS: dict[ModerationKind, str] = {kind: event for event, kind in EVENT_KINDS.items()}


class _SnakeModel(CiModel):
    """Simple callbacks use snake_case keys exactly as the field names."""

    model_config = ConfigDict(alias_generator=None)


class SimpleSceneInfo(_SnakeModel):
    """A Simple callback scene (``porn_info``…): image/audio send ``score``, video/text ``count``.

    ``label`` is empty for video and the hit keyword for text.
    """

    hit_flag: CiInt = None
    label: str | None = None
    score: CiInt = None
    count: CiInt = None


class SimpleCallbackData(_SnakeModel):
    """``data`` of a Simple callback: ``trace_id`` is the JobId for API-created async jobs."""

    event: str | None = None
    trace_id: str | None = None
    url: str | None = None
    result: CiInt = None
    forbidden_status: CiInt = None
    porn_info: SimpleSceneInfo | None = None
    terrorism_info: SimpleSceneInfo | None = None
    politics_info: SimpleSceneInfo | None = None
    ads_info: SimpleSceneInfo | None = None
    teenager_info: SimpleSceneInfo | None = None
    illegal_info: SimpleSceneInfo | None = None
    abuse_info: SimpleSceneInfo | None = None
    data_id: str | None = None
    cos_headers: dict[str, Any] | None = None


class ModerationSimpleCallback(_SnakeModel):
    """Simple callback (``X-Ci-Content-Version: Simple``, the default): ``{code, message, data}``.

    ``code`` 0 means moderation succeeded; anything else is a CI error code.
    """

    code: CiInt = None
    message: str | None = None
    data: SimpleCallbackData | None = None

    @property
    def kind(self) -> ModerationKind | None:
        return EVENT_KINDS.get(self.data.event or "") if self.data is not None else None

    @property
    def is_test(self) -> bool:
        """True for the probe CI sends when a callback URL is configured in the console."""
        return self.message == TEST_CALLBACK_MESSAGE

    @property
    def verdict(self) -> ModerationVerdict:
        """The outcome from ``data.result`` and the scene flags (Simple bodies carry no job label)."""
        if self.data is None:
            return ModerationVerdict()
        return build_verdict(self.data.result, None, None, None, scenes_of(self.data))


#: Either callback shape.
ModerationCallback: TypeAlias = ModerationDetailCallback | ModerationSimpleCallback


def detail_callback(kind: ModerationKind, detail: ModerationJobDetail) -> ModerationDetailCallback:
    """The Detail callback CI sends for a finished job, rebuilt from the job as the query API returns it.

    Query and Detail callback share ``JobsDetail``, so a result read back after a lost callback normalises
    exactly like the callback would have (same job id and state, so the same dedupe key).
    """
    event = _KIND_EVENTS[kind]
    return _DETAIL_CALLBACKS[event](event_name=event, jobs_detail=detail)


def decode_moderation_callback(tree: Any) -> ModerationCallback:
    """Validate a decoded callback body (JSON object or XML tree) into the model of its shape and type.

    ``EventName`` picks the Detail model for its media type (unknown events parse as the generic
    ``ModerationDetailCallback``); a body with ``code``/``data`` is a Simple callback.
    """
    if not isinstance(tree, dict):
        raise DecodeError("moderation callback body is not an object")
    if "EventName" in tree or "JobsDetail" in tree:
        model = _DETAIL_CALLBACKS.get(str(tree.get("EventName", "")), ModerationDetailCallback)
        return decode_tree(model, tree)
    return decode_tree(ModerationSimpleCallback, tree)


def parse_moderation_callback(body: bytes | str, *, max_bytes: int = DEFAULT_MAX_XML_BYTES) -> ModerationCallback:
    """Parse an untrusted callback body: JSON as CI sends it, or the same tree as XML."""
    tree, _ = load_callback_body(body, max_bytes=max_bytes)
    return decode_moderation_callback(tree)
