"""Typed intelligence jobs (VideoTag, SegmentVideoBody, SpeechRecognition, Translation, WordsGeneralize): one table."""

# VideoTag and SegmentVideoBody are ``/jobs`` tags; SpeechRecognition is submitted on ``/asr_jobs``, Translation and
# WordsGeneralize on ``/ai_jobs`` (``operations.submit_speech_job``, ``submit_ai_job``), all with ``/jobs``'s envelope.

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, field_validator

from ciflow.codec import CiBool, CiInt, CiModel, ListOf

from . import recognition
from ._common import JobDetail, JobInput, JobOutput
from ._tagged import TaggedJobRequest, TaggedOperation, detail_table, operation_table
from .media import MediaOperation, TemplatedMediaOperation
from .recognition import *  # noqa: F403  (the VideoTag and SpeechRecognition elements are the family's too)
from .recognition import SpeechRecognition, SpeechRecognitionResult, VideoTag, VideoTagResult

__all__ = [
    # SegmentVideoBody
    "SegmentVideoBody",
    # Translation / WordsGeneralize
    "IntelligenceInput",
    "Translation",
    "TranslateResult",
    "WordsGeneralize",
    "WordsGeneralizeLabel",
    "WordsGeneralizeToken",
    "WordsGeneralizeResult",
    # Operations, tables, request, details
    "VideoTagOperation",
    "SegmentVideoBodyOperation",
    "SpeechRecognitionOperation",
    "TranslationOperation",
    "WordsGeneralizeOperation",
    "IntelligenceOperation",
    "OPERATIONS",
    "DETAILS",
    "INTELLIGENCE_TAGS",
    "IntelligenceJobRequest",
    "VideoTagJobDetail",
    "TranslationJobDetail",
]
__all__ += recognition.__all__  # VideoTag and SpeechRecognition elements, listed once (in ``recognition``)


# --------------------------------------------------------------------------------------------------
# SegmentVideoBody: a workflow node in the seed (F003 L16834, L16980) whose Operation the seed leaves to
# "Structure"; the fields are the official COS SDKs' (PostSegmentVideoBody), on ``POST /jobs``.
# --------------------------------------------------------------------------------------------------


class SegmentVideoBody(CiModel):
    """``SegmentVideoBody``: video matting; ``Mode`` Mask (alpha, default), Foreground or Combination."""

    mode: str | None = None
    segment_type: str | None = None  # HumanSeg (default), GreenScreenSeg, SolidColorSeg
    background_red: CiInt = None  # Foreground mode: the background colour, [0, 255]
    background_green: CiInt = None
    background_blue: CiInt = None
    background_logo_url: str | None = None  # Combination mode: the background, in the input's bucket
    binary_threshold: CiInt = None  # moves the matte's edge, [0, 255]
    remove_red: CiInt = None  # SolidColorSeg: the colour to remove
    remove_green: CiInt = None
    remove_blue: CiInt = None


# --------------------------------------------------------------------------------------------------
# Translation (F003 L39956) and WordsGeneralize (F003 L40671)
# --------------------------------------------------------------------------------------------------


class IntelligenceInput(JobInput):
    """``Input`` of the family's jobs; Translation adds the source's language and file type."""

    lang: str | None = None  # zh, zh-hk, zh-tw, zh-tr, en, ar, de, es, fr, id, it, ja, pt, ru, ko, km, lo
    type: str | None = None  # pdf, docx, pptx, xlsx, txt, xml, html, markdown, jpg, jpeg, png
    basic_type: str | None = None  # pdf: docx | pptx; images: txt


class Translation(CiModel):
    """``Translation``: the target language and file type."""

    lang: str | None = None
    type: str | None = None


class TranslateResult(CiModel):
    """``AITranslateResult``: the translated text (images with ``NoNeedOutput``)."""

    result: str | None = None


class WordsGeneralize(CiModel):
    """``WordsGeneralize``: NER method (``DL`` default, ``NerBasic``), segmentation (``MIX`` default, ``SegBasic``)."""

    ner_method: str | None = None
    seg_method: str | None = None


class WordsGeneralizeLabel(CiModel):
    """``WordsGeneralizeLable`` (sic) item: a word and the category it was put in."""

    category: str | None = None
    word: str | None = None


class WordsGeneralizeToken(CiModel):
    """``WordsGeneralizeToken`` item: a token, its offset and length in the text, and its part of speech."""

    word: str | None = None
    offset: CiInt = None
    length: CiInt = None
    pos: str | None = None  # N, V, NR, NS, W… (F003 L40837)


class WordsGeneralizeResult(CiModel):
    """``WordsGeneralizeResult``: categorised words and the segmentation."""

    labels: ListOf[WordsGeneralizeLabel] = Field(default_factory=list, alias="WordsGeneralizeLable")
    tokens: ListOf[WordsGeneralizeToken] = Field(default_factory=list, alias="WordsGeneralizeToken")


# --------------------------------------------------------------------------------------------------
# Operations (one per tag), the table, the request and the details
# --------------------------------------------------------------------------------------------------


class VideoTagOperation(MediaOperation, TaggedOperation):
    """``Operation`` of a VideoTag job (no Output): the scenario and, once finished, the tags."""

    TAG: ClassVar[str] = "VideoTag"

    video_tag: VideoTag | None = None
    video_tag_result: VideoTagResult | None = None


class SegmentVideoBodyOperation(MediaOperation, TaggedOperation):
    """``Operation`` of a SegmentVideoBody (video matting) job: the matting parameters and the ``Output``."""

    TAG: ClassVar[str] = "SegmentVideoBody"

    segment_video_body: SegmentVideoBody | None = None
    output: JobOutput | None = None


class SpeechRecognitionOperation(TemplatedMediaOperation, TaggedOperation):
    """``Operation`` of a SpeechRecognition job: parameters (or a template), ``Output`` and, once done, the result."""

    TAG: ClassVar[str] = "SpeechRecognition"

    speech_recognition: SpeechRecognition | None = None
    speech_recognition_result: SpeechRecognitionResult | None = None

    @field_validator("job_level", mode="before")
    @classmethod
    def _one_job_level(cls, value: Any) -> Any:
        # The response samples (F003 L40396/L40415) repeat <JobLevel>0</JobLevel>: the same value twice is one.
        if isinstance(value, list) and value and all(item == value[0] for item in value):
            return value[0]
        return value


class TranslationOperation(MediaOperation, TaggedOperation):
    """``Operation`` of a Translation job: target language/type, ``Output`` (unless ``NoNeedOutput``), result."""

    TAG: ClassVar[str] = "Translation"

    translation: Translation | None = None
    output: JobOutput | None = None
    no_need_output: CiBool = None  # images only: answer with the text, write no file
    translate_result: TranslateResult | None = Field(default=None, alias="AITranslateResult")


class WordsGeneralizeOperation(MediaOperation, TaggedOperation):
    """``Operation`` of a WordsGeneralize (word segmentation) job (no Output): parameters and, once done, the words."""

    TAG: ClassVar[str] = "WordsGeneralize"

    words_generalize: WordsGeneralize | None = None
    words_generalize_result: WordsGeneralizeResult | None = None


#: The family's table: tag -> Operation model.
OPERATIONS = operation_table(
    VideoTagOperation,
    SegmentVideoBodyOperation,
    SpeechRecognitionOperation,
    TranslationOperation,
    WordsGeneralizeOperation,
)
INTELLIGENCE_TAGS = frozenset(OPERATIONS)

IntelligenceOperation = (
    VideoTagOperation
    | SegmentVideoBodyOperation
    | SpeechRecognitionOperation
    | TranslationOperation
    | WordsGeneralizeOperation
)


class IntelligenceJobRequest(TaggedJobRequest):
    """A job of the family: ``POST /jobs`` (VideoTag, SegmentVideoBody), ``/asr_jobs``, ``/ai_jobs`` (the others)."""

    OPERATIONS = OPERATIONS

    input: IntelligenceInput
    operation: IntelligenceOperation

    @field_validator("input", mode="before")
    @classmethod
    def _plain_input(cls, value: Any) -> Any:
        # A plain ``JobInput`` (what every other family takes) is accepted as the family's input.
        if isinstance(value, JobInput) and not isinstance(value, IntelligenceInput):
            return IntelligenceInput.model_validate(value.model_dump(by_alias=True, exclude_unset=True))
        return value


class VideoTagJobDetail(JobDetail[VideoTagOperation]):
    """``JobsDetail`` of a VideoTag job; the XML callback samples (F003 L36822) echo an empty ``<VideoTag/>`` here."""

    video_tag: VideoTag | None = None


class TranslationJobDetail(JobDetail[TranslationOperation]):
    """``JobsDetail`` of a Translation job: ``Input`` echoes the source's ``Lang``/``Type``/``BasicType``."""

    input: IntelligenceInput | None = None


#: tag -> typed ``JobsDetail``: ``JobDetail[Operation]``, with the two tags whose envelope carries more.
DETAILS: dict[str, type[JobDetail]] = {
    **detail_table(OPERATIONS),
    "VideoTag": VideoTagJobDetail,
    "Translation": TranslationJobDetail,
}
