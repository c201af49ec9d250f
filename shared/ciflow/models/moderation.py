"""CI content moderation ("auditing"): submit/query bodies, JSON callbacks and one media-agnostic verdict."""

from collections.abc import Iterable, Sequence
from enum import Enum, IntEnum
from typing import Any, ClassVar, NamedTuple, TypeAlias

from pydantic import BaseModel, ConfigDict, Field

from ciflow.codec import DEFAULT_MAX_XML_BYTES, CiFloat, CiInt, CiModel, ListOf, decode_tree
from ciflow.errors import DecodeError

from ._common import JobDetail, load_callback_body

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


class ModerationKind(str, Enum):
    """The media type of a moderation API: the first path segment of ``/<kind>/auditing``."""

    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    TEXT = "text"
    DOCUMENT = "document"

    @property
    def submit_path(self) -> str:
        """``POST`` path of the submit call (CI host), e.g. ``/video/auditing``."""
        return f"/{self.value}/auditing"

    def job_path(self, job_id: str) -> str:
        """``GET`` path of the query call (CI host), e.g. ``/video/auditing/<jobId>``."""
        return f"/{self.value}/auditing/{job_id}"


class ModerationCallbackVersion(str, Enum):
    """``Conf.CallbackVersion`` and the ``X-Ci-Content-Version`` header: which callback shape is sent."""

    SIMPLE = "Simple"
    DETAIL = "Detail"


#: Header on moderation callbacks naming the body shape (``Simple`` or ``Detail``).
CONTENT_VERSION_HEADER = "X-Ci-Content-Version"
#: ``message`` of the probe CI sends when a callback URL is configured in the console.
TEST_CALLBACK_MESSAGE = "Test request when setting callback url"

#: Callback ``EventName`` / ``data.event`` -> media type.
EVENT_KINDS: dict[str, ModerationKind] = {
    "ReviewImage": ModerationKind.IMAGE,
    "ReviewVideo": ModerationKind.VIDEO,
    "ReviewAudio": ModerationKind.AUDIO,
    "ReviewText": ModerationKind.TEXT,
    "ReviewDocument": ModerationKind.DOCUMENT,
}


class Verdict(IntEnum):
    """Moderation ``Result`` (``Suggestion`` for documents): what to do with the content."""

    NORMAL = 0
    BLOCK = 1
    REVIEW = 2


class ModerationScene(NamedTuple):
    """One moderation scene (``Porn``, ``Ads``…): how it is named in each place CI and ciflow use it.

    ``name`` is the ``Label``/``DetectType`` spelling and the name in ``ModerationVerdict.hits``;
    ``field`` the snake_case field of its result (``porn_info``: ``<PornInfo>`` on jobs, frames, segments,
    pages and document ``Labels``; ``porn_info`` in a Simple callback's ``data``); ``legacy_fields`` older
    spellings read as the same scene (``TerroristInfo``).
    """

    name: str
    field: str
    #: ``Conf.Freeze`` field of its block threshold (None: CI documents no freeze for it).
    freeze_field: str | None = None
    #: Can be asked for in ``Conf.DetectType`` and is reported in Simple callbacks' ``data``.
    requestable: bool = True
    #: Media types that report it under the default policy (no ``DetectType``/``BizType`` narrowing);
    #: text moderation's set is the one seed doc 003 documents (Porn, Ads, Illegal, Abuse).
    default_for: frozenset[ModerationKind] = frozenset()
    #: Spelling in the synchronous image API's ``detect-type`` (``terrorist``); default ``name.lower()``.
    sync_name: str | None = None
    legacy_fields: tuple[str, ...] = ()

    @property
    def element(self) -> str:
        """The XML/JSON element of its result, e.g. ``PornInfo``."""
        return f"{self.name}Info"

    @property
    def detect_type(self) -> str:
        """The synchronous image API's ``detect-type`` spelling, e.g. ``porn``, ``terrorist``."""
        return self.sync_name or self.name.lower()


_MEDIA = frozenset({ModerationKind.IMAGE, ModerationKind.VIDEO, ModerationKind.AUDIO})
_TEXT = frozenset({ModerationKind.TEXT})

#: Every moderation scene ciflow knows, in the order a verdict reports its hits. The one table: models,
#: results, the concerns' settings and the local emulator all read scenes from here.
MODERATION_SCENES: tuple[ModerationScene, ...] = (
    ModerationScene("Porn", "porn_info", "porn_score", default_for=frozenset(ModerationKind)),
    ModerationScene(
        "Terrorism",
        "terrorism_info",
        "terrorism_score",
        default_for=_MEDIA,
        sync_name="terrorist",
        legacy_fields=("terrorist_info",),
    ),
    ModerationScene("Politics", "politics_info", "politics_score", default_for=_MEDIA),
    ModerationScene("Ads", "ads_info", "ads_score", default_for=frozenset(ModerationKind)),
    ModerationScene("Teenager", "teenager_info", "teenager_score", default_for=_MEDIA),
    ModerationScene("Illegal", "illegal_info", "illegal_score", default_for=_TEXT),
    ModerationScene("Abuse", "abuse_info", "abuse_score", default_for=_TEXT),
    # Result-only scenes: reported on detailed results, never asked for nor sent in Simple callbacks.
    ModerationScene("Value", "value_info", requestable=False),
    ModerationScene("Spam", "spam_info", requestable=False),
)

_SCENES_BY_NAME: dict[str, ModerationScene] = {scene.name.lower(): scene for scene in MODERATION_SCENES}


def moderation_scene(name: str) -> ModerationScene | None:
    """The scene of a name, case-insensitively (``porn``, ``Porn``); None for an unknown name."""
    return _SCENES_BY_NAME.get(name.strip().lower())


def default_scenes(kind: ModerationKind) -> tuple[str, ...]:
    """Names of the scenes a media type reports under the default policy, in verdict order."""
    return tuple(scene.name for scene in MODERATION_SCENES if kind in scene.default_for)


class ModerationVerdict(BaseModel):
    """A normalised moderation outcome, the same for every media type and callback shape.

    ``result`` is None while a job has no result (submitted, running, failed); ``hits`` are the scene
    names (``Porn``, ``Ads``, …) flagged as confirmed or suspected, in a fixed scene order.
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    result: Verdict | None = None
    label: str | None = None
    score: int | None = None
    sub_label: str | None = None
    hits: list[str] = Field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return self.result is Verdict.BLOCK

    @property
    def needs_review(self) -> bool:
        return self.result is Verdict.REVIEW

    @property
    def normal(self) -> bool:
        return self.result is Verdict.NORMAL


# --------------------------------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------------------------------


class UserInfo(CiModel):
    """``UserInfo``: business fields about the author (each ≤128 bytes), echoed back in results."""

    token_id: str | None = None
    nickname: str | None = None
    device_id: str | None = None
    app_id: str | None = None
    room: str | None = None
    ip: str | None = Field(default=None, alias="IP")
    type: str | None = None
    receive_token_id: str | None = None
    gender: str | None = None
    level: str | None = None
    role: str | None = None


class Encryption(CiModel):
    """``Encryption``: how an encrypted input is decrypted (video: request root in GO, ``Input`` in PY)."""

    algorithm: str | None = None
    key: str | None = None
    iv: str | None = Field(default=None, alias="IV")
    key_id: str | None = None
    key_type: CiInt = None


class ModerationInput(CiModel):
    """``Input``: what to moderate — one of Object, Url or Content (Base64; image and text only).

    Image: also ``Interval``/``MaxFrames`` (GIF) and ``LargeImageDetect``; document: ``Type`` is the
    file type (``doc``, ``pdf``…) when the key has no extension.
    """

    object: str | None = None
    url: str | None = None
    content: str | None = None
    data_id: str | None = None
    type: str | None = None
    user_info: UserInfo | None = None
    interval: CiInt = None
    max_frames: CiInt = None
    large_image_detect: CiInt = None
    encryption: Encryption | None = None


class FreezeConf(CiModel):
    """``Conf.Freeze``: freeze the stored object when a scene's score reaches the threshold (0-100)."""

    porn_score: CiInt = None
    ads_score: CiInt = None
    illegal_score: CiInt = None
    abuse_score: CiInt = None
    terrorism_score: CiInt = None
    politics_score: CiInt = None
    teenager_score: CiInt = None


class SnapshotConf(CiModel):
    """``Conf.Snapshot`` (video): how frames are captured — ``Interval``, ``Average`` or ``Fps``."""

    mode: str | None = None
    count: CiInt = None
    time_interval: CiFloat = None


class MaskImage(CiModel):
    """``Conf.Mask.Images``: mosaic frames with this label."""

    label: str | None = None
    type: str | None = None
    url: str | None = None


class MaskAudio(CiModel):
    """``Conf.Mask.Audios``: bleep audio with this label."""

    label: str | None = None
    type: str | None = None


class MaskCosOutput(CiModel):
    """``Conf.Mask.CosOutput``: where the masked recording is written."""

    region: str | None = None
    bucket: str | None = None
    object: str | None = None
    transcode: CiModel | None = None


class MaskLiveOutput(CiModel):
    """``Conf.Mask.LiveOutput``: where the masked live stream is pushed."""

    url: str | None = None
    transcode: CiModel | None = None


class MaskConf(CiModel):
    """``Conf.Mask`` (video, GO SDK only): mosaic/bleep output for violating content."""

    images: ListOf[MaskImage] = Field(default_factory=list)
    audios: ListOf[MaskAudio] = Field(default_factory=list)
    cos_output: MaskCosOutput | None = None
    live_output: MaskLiveOutput | None = None


class ModerationConf(CiModel):
    """``Conf``: policy, callback and freeze settings. Note ``Callback`` (not the job APIs' ``CallBack``).

    ``Async`` is image-batch only; ``Snapshot``/``DetectContent``/``Mask`` video only;
    ``CallbackVersion`` is ignored by image and document (always the Detail shape).
    """

    biz_type: str | None = None
    detect_type: str | None = None
    callback: str | None = None
    callback_version: str | None = None
    callback_type: CiInt = None
    async_: CiInt = Field(default=None, alias="Async")
    freeze: FreezeConf | None = None
    snapshot: SnapshotConf | None = None
    detect_content: CiInt = None
    mask: MaskConf | None = None


class StorageConf(CiModel):
    """``StorageConf`` (live video): where the recorded stream is kept."""

    path: str | None = None


class ModerationRequest(CiModel):
    """Base of the ``<Request>`` bodies of ``POST /<kind>/auditing``; subclasses pin ``kind``."""

    kind: ClassVar[ModerationKind]

    @classmethod
    def submit_path(cls) -> str:
        """The path this request is POSTed to on the CI host."""
        return cls.kind.submit_path


class ImageModerationRequest(ModerationRequest):
    """Batch image moderation (``POST /image/auditing``): up to 100 ``Input`` elements, one job each."""

    kind: ClassVar[ModerationKind] = ModerationKind.IMAGE

    input: ListOf[ModerationInput] = Field(min_length=1, max_length=100)
    conf: ModerationConf = Field(default_factory=ModerationConf)


class VideoModerationRequest(ModerationRequest):
    """Video moderation (``POST /video/auditing``); ``Type=live_video`` moderates a stream."""

    kind: ClassVar[ModerationKind] = ModerationKind.VIDEO

    input: ModerationInput
    conf: ModerationConf = Field(default_factory=ModerationConf)
    type: str | None = None
    storage_conf: StorageConf | None = None
    encryption: Encryption | None = None


class AudioModerationRequest(ModerationRequest):
    """Audio moderation (``POST /audio/auditing``), always asynchronous."""

    kind: ClassVar[ModerationKind] = ModerationKind.AUDIO

    input: ModerationInput
    conf: ModerationConf = Field(default_factory=ModerationConf)


class TextModerationRequest(ModerationRequest):
    """Text moderation (``POST /text/auditing``): ``Input.Content`` is answered inline, Object/Url async."""

    kind: ClassVar[ModerationKind] = ModerationKind.TEXT

    input: ModerationInput
    conf: ModerationConf = Field(default_factory=ModerationConf)


class DocumentModerationRequest(ModerationRequest):
    """Document moderation (``POST /document/auditing``), page by page, asynchronous."""

    kind: ClassVar[ModerationKind] = ModerationKind.DOCUMENT

    input: ModerationInput
    conf: ModerationConf = Field(default_factory=ModerationConf)


# --------------------------------------------------------------------------------------------------
# Scene results
# --------------------------------------------------------------------------------------------------

#: Keywords: repeated ``<Keywords>`` / a JSON array for image-like scenes, one comma string for text.
Keywords: TypeAlias = str | list[str] | None


def _keyword_list(value: Keywords) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else value
    return [item.strip() for item in items if item and item.strip()]


class Location(CiModel):
    """``Location``: a detection box in pixels, with its rotation."""

    x: CiFloat = None
    y: CiFloat = None
    width: CiFloat = None
    height: CiFloat = None
    rotate: CiFloat = None


class OcrResult(CiModel):
    """``OcrResults``: text found in an image or page, with the keywords it hit."""

    text: str | None = None
    keywords: ListOf[str] = Field(default_factory=list)
    sub_label: str | None = None
    location: Location | None = None


class ObjectResult(CiModel):
    """``ObjectResults``: an object or person recognised in an image."""

    name: str | None = None
    sub_label: str | None = None
    location: Location | None = None


class LibResult(CiModel):
    """``LibResults``: a hit in a risk library (``LibType`` 1 preset, 2 custom)."""

    image_id: str | None = None
    score: CiInt = None
    lib_type: CiInt = None
    lib_name: str | None = None
    keywords: ListOf[str] = Field(default_factory=list)


class LanguageResult(CiModel):
    """``LanguageResults`` / ``SpeakerResults`` / ``RecognitionResults``: a labelled time span of audio."""

    label: str | None = None
    score: CiInt = None
    start_time: CiInt = None
    end_time: CiInt = None


class HitPosition(CiModel):
    """``Positions``: where a keyword was found in the text."""

    start: CiInt = None
    end: CiInt = None


class HitInfo(CiModel):
    """``HitInfos`` (text): a hit keyword, the library it came from and its positions."""

    type: str | None = None
    keywords: Keywords = None
    lib_name: str | None = None
    positions: ListOf[HitPosition] = Field(default_factory=list)


class SceneInfo(CiModel):
    """A scene's result (``PornInfo``, ``AdsInfo``…): ``HitFlag`` 0 normal, 1 hit, 2 suspected.

    Jobs report ``Count`` (hit frames/segments); frames, segments and images report ``Score``.
    ``Keywords`` is kept as sent (list for images, comma string for text); use ``keyword_list``.
    """

    code: str | None = None
    msg: str | None = None
    hit_flag: CiInt = None
    score: CiInt = None
    label: str | None = None
    count: CiInt = None
    category: str | None = None
    sub_label: str | None = None
    keywords: Keywords = None
    ocr_results: ListOf[OcrResult] = Field(default_factory=list)
    object_results: ListOf[ObjectResult] = Field(default_factory=list)
    lib_results: ListOf[LibResult] = Field(default_factory=list)
    hit_infos: ListOf[HitInfo] = Field(default_factory=list)
    speaker_results: ListOf[LanguageResult] = Field(default_factory=list)
    recognition_results: ListOf[LanguageResult] = Field(default_factory=list)

    @property
    def keyword_list(self) -> list[str]:
        """The keywords as a list, whichever form they came in."""
        return _keyword_list(self.keywords)

    @property
    def hit(self) -> bool:
        """True when the scene is flagged as confirmed (1) or suspected (2)."""
        return self.hit_flag in (1, 2)


# (scene name, field) in the order hits are reported, legacy fields after their scene's own.
_SCENE_FIELDS: tuple[tuple[str, str], ...] = tuple(
    (scene.name, field) for scene in MODERATION_SCENES for field in (scene.field, *scene.legacy_fields)
)

# One scene's contribution to a verdict: (name, hit flag, score, sub label).
_Scene: TypeAlias = tuple[str, int | None, int | None, str | None]


def _scenes_of(model: BaseModel) -> list[_Scene]:
    out: list[_Scene] = []
    # Read the instance dict: getattr on a field a model does not define goes through pydantic's slow miss path.
    values = model.__dict__
    for name, field in _SCENE_FIELDS:
        info = values.get(field)
        if info is not None:
            out.append((name, info.hit_flag, info.score, getattr(info, "sub_label", None) or None))
    return out


class SceneResults(CiModel):
    """The per-scene result containers that sit on jobs, frames, segments, pages and document ``Labels``."""

    porn_info: SceneInfo | None = None
    terrorism_info: SceneInfo | None = None
    politics_info: SceneInfo | None = None
    ads_info: SceneInfo | None = None
    teenager_info: SceneInfo | None = None
    illegal_info: SceneInfo | None = None
    abuse_info: SceneInfo | None = None
    value_info: SceneInfo | None = None
    spam_info: SceneInfo | None = None

    def scenes(self) -> dict[str, SceneInfo]:
        """The scene results present, by scene name (``Porn``, ``Ads``…)."""
        found: dict[str, SceneInfo] = {}
        for name, field in _SCENE_FIELDS:
            info = getattr(self, field, None)
            if isinstance(info, SceneInfo) and name not in found:
                found[name] = info
        return found

    def hit_scenes(self) -> list[str]:
        """Names of the scenes flagged confirmed or suspected."""
        return [name for name, info in self.scenes().items() if info.hit]


def _build_verdict(
    result: int | None,
    label: str | None,
    score: int | None,
    sub_label: str | None,
    overall: Sequence[_Scene],
    segments: Iterable[Sequence[_Scene]] = (),
) -> ModerationVerdict:
    """Combine a job's own fields with its scene results (job level first, then frames/segments/pages)."""
    scenes = list(overall)
    for segment in segments:
        scenes.extend(segment)
    order = {name: index for index, (name, _) in enumerate(_SCENE_FIELDS)}
    hits = sorted({name for name, flag, _, _ in scenes if flag in (1, 2)}, key=order.__getitem__)
    if result is None and scenes:
        flags = {flag for _, flag, _, _ in scenes}
        result = 1 if 1 in flags else 2 if 2 in flags else 0
    verdict: Verdict | None = None
    if result is not None:
        # An undocumented result value is treated as "needs a human", never as normal.
        verdict = Verdict(result) if result in (0, 1, 2) else Verdict.REVIEW
    label = label or (hits[0] if hits else ("Normal" if verdict is Verdict.NORMAL else None))
    # Score and sub label describe the label's scene, else the hit scenes; a clean job's score is its
    # riskiest scene's.
    focus = [s for s in scenes if s[0] == label] or [s for s in scenes if s[0] in hits]
    if score is None:
        scores = [s for _, _, s, _ in focus or scenes if s is not None]
        score = max(scores) if scores else None
    if not sub_label:
        sub_label = next((sub for _, _, _, sub in focus if sub), None)
    return ModerationVerdict(result=verdict, label=label, score=score, sub_label=sub_label, hits=hits)


class ListResult(CiModel):
    """``ListResults``: a user block/allow list that matched (``ListType`` 0 allow, 1 block)."""

    list_type: CiInt = None
    list_name: str | None = None
    entity: str | None = None


class ListInfo(CiModel):
    """``ListInfo``: the account allow/block lists the user matched."""

    list_results: ListOf[ListResult] = Field(default_factory=list)


class MaskRecordOutput(CiModel):
    """``MaskInfo.RecordInfo.Output``: the masked recording."""

    region: str | None = None
    bucket: str | None = None
    object: str | None = None


class MaskRecordInfo(CiModel):
    """``MaskInfo.RecordInfo``: result of masking a recorded video."""

    code: str | None = None
    message: str | None = None
    output: MaskRecordOutput | None = None


class MaskLiveInfo(CiModel):
    """``MaskInfo.LiveInfo``: the masked live stream."""

    start_time: str | None = None
    end_time: str | None = None
    output: str | None = None


class MaskInfo(CiModel):
    """``MaskInfo`` (video, GO SDK): where the mosaic/bleep output went."""

    record_info: MaskRecordInfo | None = None
    live_info: MaskLiveInfo | None = None


# --------------------------------------------------------------------------------------------------
# Job details (query responses, submit responses and Detail callbacks)
# --------------------------------------------------------------------------------------------------


class ModerationJobDetail(JobDetail):
    """``JobsDetail`` fields every moderation job shares, plus the Detail callback's additions.

    ``Code``/``Message`` are only meaningful when ``State`` is ``Failed``. Parses any media type
    (type-specific fields land in extras); ``verdict`` is the media-agnostic outcome.
    """

    data_id: str | None = None
    object: str | None = None
    url: str | None = None
    label: str | None = None
    result: CiInt = None
    user_info: UserInfo | None = None
    list_info: ListInfo | None = None
    forbid_state: CiInt = None
    # Detail callbacks only.
    bucket_id: str | None = None
    region: str | None = None
    cos_headers: dict[str, Any] | None = None

    def _verdict_fields(self) -> tuple[int | None, int | None, str | None]:
        """(result, score, sub label) as this type reports them."""
        return self.result, None, None

    def _overall_scenes(self) -> list[_Scene]:
        return _scenes_of(self)

    def _segment_scenes(self) -> list[list[_Scene]]:
        return []

    @property
    def verdict(self) -> ModerationVerdict:
        """Result (0 normal / 1 block / 2 review), label, score, sub label and hit scenes."""
        result, score, sub_label = self._verdict_fields()
        return _build_verdict(
            result, self.label or None, score, sub_label, self._overall_scenes(), self._segment_scenes()
        )


class ImageModerationDetail(ModerationJobDetail, SceneResults):
    """An image job: batch submit items, ``GET /image/auditing/<jobId>`` and the image callback."""

    text: str | None = None
    score: CiInt = None
    category: str | None = None
    sub_label: str | None = None
    compression_result: CiInt = None
    encryption: Encryption | None = None

    def _verdict_fields(self) -> tuple[int | None, int | None, str | None]:
        return self.result, self.score, self.sub_label or None


class ImageRecognitionResult(ImageModerationDetail):
    """``<RecognitionResult>`` of the single-image ``GET /<key>?ci-process=sensitive-content-recognition``.

    Also carries the legacy ``TerroristInfo`` spelling of ``TerrorismInfo``.
    """

    terrorist_info: SceneInfo | None = None


class VideoSnapshot(SceneResults):
    """``Snapshot``: one captured frame (signed ``Url``, OCR ``Text``, ``SnapshotTime`` in ms)."""

    url: str | None = None
    text: str | None = None
    snapshot_time: CiInt = None
    label: str | None = None
    sub_label: str | None = None
    result: CiInt = None


class AudioSection(SceneResults):
    """``AudioSection`` (video) / ``Section`` (audio): one audio segment with its ASR ``Text``."""

    url: str | None = None
    text: str | None = None
    offset_time: CiInt = None
    duration: CiInt = None
    label: str | None = None
    sub_label: str | None = None
    result: CiInt = None
    language_results: ListOf[LanguageResult] = Field(default_factory=list)


class VideoModerationDetail(ModerationJobDetail, SceneResults):
    """A video job: ``GET /video/auditing/<jobId>`` and the video Detail callback."""

    snapshot_count: CiInt = None
    sub_label: str | None = None
    snapshot: ListOf[VideoSnapshot] = Field(default_factory=list)
    audio_section: ListOf[AudioSection] = Field(default_factory=list)
    type: str | None = None
    mask_info: MaskInfo | None = None

    def _verdict_fields(self) -> tuple[int | None, int | None, str | None]:
        return self.result, None, self.sub_label or None

    def _segment_scenes(self) -> list[list[_Scene]]:
        return [_scenes_of(s) for s in self.snapshot] + [_scenes_of(s) for s in self.audio_section]


class AudioModerationDetail(ModerationJobDetail, SceneResults):
    """An audio job: ``GET /audio/auditing/<jobId>`` and the audio Detail callback."""

    audio_text: str | None = None
    sub_label: str | None = None
    section: ListOf[AudioSection] = Field(default_factory=list)
    language_results: ListOf[LanguageResult] = Field(default_factory=list)

    def _verdict_fields(self) -> tuple[int | None, int | None, str | None]:
        return self.result, None, self.sub_label or None

    def _segment_scenes(self) -> list[list[_Scene]]:
        return [_scenes_of(s) for s in self.section]


class TextSection(SceneResults):
    """``Section``: one text segment (``StartByte`` is a 0-based UTF-8 character offset)."""

    start_byte: CiInt = None
    label: str | None = None
    result: CiInt = None


class TextModerationDetail(ModerationJobDetail, SceneResults):
    """A text job: sync (``Content``) and async submit results, the query and the text Detail callback."""

    content: str | None = None
    context_text: str | None = None
    section_count: CiInt = None
    score: CiInt = None
    section: ListOf[TextSection] = Field(default_factory=list)

    def _verdict_fields(self) -> tuple[int | None, int | None, str | None]:
        return self.result, self.score, None

    def _segment_scenes(self) -> list[list[_Scene]]:
        return [_scenes_of(s) for s in self.section]


class DocumentPageResult(SceneResults):
    """``PageSegment.Results``: one page (or sheet) converted to an image and moderated."""

    url: str | None = None
    text: str | None = None
    page_number: CiInt = None
    sheet_number: CiInt = None
    label: str | None = None
    suggestion: CiInt = None


class DocumentPageSegment(CiModel):
    """``PageSegment``: the per-page results."""

    results: ListOf[DocumentPageResult] = Field(default_factory=list)


class DocumentModerationDetail(ModerationJobDetail):
    """A document job: the verdict is ``Suggestion`` (not ``Result``) and scenes sit under ``Labels``."""

    suggestion: CiInt = None
    page_count: CiInt = None
    labels: SceneResults | None = None
    page_segment: DocumentPageSegment | None = None

    def _verdict_fields(self) -> tuple[int | None, int | None, str | None]:
        return (self.suggestion if self.suggestion is not None else self.result), None, None

    def _overall_scenes(self) -> list[_Scene]:
        return _scenes_of(self.labels) if self.labels is not None else []

    def _segment_scenes(self) -> list[list[_Scene]]:
        pages = self.page_segment.results if self.page_segment is not None else []
        return [_scenes_of(page) for page in pages]


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
        return _build_verdict(self.data.result, None, None, None, _scenes_of(self.data))


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
