"""Moderation scene results: per-scene hits (OCR, objects, libraries, keywords), matched lists and mask outputs."""

from typing import TypeAlias

from pydantic import Field

from ciflow.codec import CiFloat, CiInt, CiModel, ListOf

from ._moderation_scenes import SCENE_FIELDS

__all__ = [
    "Keywords",
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
]

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
        for name, field in SCENE_FIELDS:
            info = getattr(self, field, None)
            if isinstance(info, SceneInfo) and name not in found:
                found[name] = info
        return found

    def hit_scenes(self) -> list[str]:
        """Names of the scenes flagged confirmed or suspected."""
        return [name for name, info in self.scenes().items() if info.hit]


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
