"""Moderation job details per media kind (query and submit responses, Detail callbacks), each with its verdict."""

from typing import Any

from pydantic import Field

from ciflow.codec import CiInt, CiModel, ListOf

from ._common import JobDetail
from ._moderation_requests import Encryption, UserInfo
from ._moderation_results import LanguageResult, ListInfo, MaskInfo, SceneInfo, SceneResults
from ._moderation_scenes import ModerationVerdict, SceneHit, build_verdict, scenes_of

__all__ = [
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
]


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

    def _overall_scenes(self) -> list[SceneHit]:
        return scenes_of(self)

    def _segment_scenes(self) -> list[list[SceneHit]]:
        return []

    @property
    def verdict(self) -> ModerationVerdict:
        """Result (0 normal / 1 block / 2 review), label, score, sub label and hit scenes."""
        result, score, sub_label = self._verdict_fields()
        return build_verdict(
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

    def _segment_scenes(self) -> list[list[SceneHit]]:
        return [scenes_of(s) for s in self.snapshot] + [scenes_of(s) for s in self.audio_section]


class AudioModerationDetail(ModerationJobDetail, SceneResults):
    """An audio job: ``GET /audio/auditing/<jobId>`` and the audio Detail callback."""

    audio_text: str | None = None
    sub_label: str | None = None
    section: ListOf[AudioSection] = Field(default_factory=list)
    language_results: ListOf[LanguageResult] = Field(default_factory=list)

    def _verdict_fields(self) -> tuple[int | None, int | None, str | None]:
        return self.result, None, self.sub_label or None

    def _segment_scenes(self) -> list[list[SceneHit]]:
        return [scenes_of(s) for s in self.section]


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

    def _segment_scenes(self) -> list[list[SceneHit]]:
        return [scenes_of(s) for s in self.section]


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

    def _overall_scenes(self) -> list[SceneHit]:
        return scenes_of(self.labels) if self.labels is not None else []

    def _segment_scenes(self) -> list[list[SceneHit]]:
        pages = self.page_segment.results if self.page_segment is not None else []
        return [scenes_of(page) for page in pages]
