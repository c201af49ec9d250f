"""VideoTag and SpeechRecognition parameters and result elements (operations, request: ``models.intelligence``)."""

from __future__ import annotations

from pydantic import Field

from ciflow.codec import CiFloat, CiInt, CiModel, ListOf

__all__ = [
    "VideoTag",
    "TagBox",
    "VideoTagLabel",
    "PersonTagMoment",
    "PersonTag",
    "PlaceTag",
    "ActionTag",
    "TaggedObject",
    "ObjectTag",
    "VideoTagData",
    "VideoTagStreamData",
    "VideoTagResult",
    "SpeechRecognition",
    "FlashWord",
    "FlashSentence",
    "FlashResult",
    "SentenceWord",
    "SentenceDetail",
    "SpeechRecognitionResult",
]

# --------------------------------------------------------------------------------------------------
# VideoTag (F003 L27302; result tables L27476-L27568, callbacks L36677-L37172)
# --------------------------------------------------------------------------------------------------


class VideoTag(CiModel):
    """``VideoTag``: the tagging scenario (only ``Stream`` is supported)."""

    scenario: str | None = None


class TagBox(CiModel):
    """``BBox``: a box in relative coordinates, ``[0, 1]`` of the frame's width and height."""

    x1: CiFloat = Field(default=None, alias="X1")
    y1: CiFloat = Field(default=None, alias="Y1")
    x2: CiFloat = Field(default=None, alias="X2")
    y2: CiFloat = Field(default=None, alias="Y2")


class VideoTagLabel(CiModel):
    """``Tags`` item: a tag (video tags also name a ``TagCls`` category) and its confidence in ``[0, 1]``."""

    tag: str | None = None
    tag_cls: str | None = None
    confidence: CiFloat = None


class PersonTagMoment(CiModel):
    """``PersonTags.DetailPerSecond`` item: where a person was seen at one second."""

    time_stamp: CiFloat = None
    confidence: CiFloat = None
    b_box: TagBox | None = Field(default=None, alias="BBox")


class PersonTag(CiModel):
    """``PersonTags`` item: a recognised person, how often and where they appear."""

    name: str | None = None
    confidence: CiFloat = None
    count: CiInt = None
    detail_per_second: ListOf[PersonTagMoment] = Field(default_factory=list)


class PlaceTag(CiModel):
    """``PlaceTags`` item: the scene tags of one segment (seconds and frame indexes) and its per-frame top scenes."""

    tags: ListOf[VideoTagLabel] = Field(default_factory=list)
    start_time: CiFloat = None
    end_time: CiFloat = None
    start_index: CiInt = None
    end_index: CiInt = None
    clip_frame_result: ListOf[str] = Field(default_factory=list)  # "Office: 0.55"


class ActionTag(CiModel):
    """``ActionTags`` item: the action tags of one segment (seconds)."""

    tags: ListOf[VideoTagLabel] = Field(default_factory=list)
    start_time: CiFloat = None
    end_time: CiFloat = None


class TaggedObject(CiModel):
    """``ObjectTags.Objects`` item: an object seen in a frame."""

    name: str | None = None
    confidence: CiFloat = None
    b_box: TagBox | None = Field(default=None, alias="BBox")
    # The XML callback samples (F003 L36719, L36912) spell the box BBBox; the tables and JSON say BBox.
    bb_box: TagBox | None = Field(default=None, alias="BBBox")

    @property
    def box(self) -> TagBox | None:
        """The object's box, whichever spelling carried it."""
        return self.b_box if self.b_box is not None else self.bb_box


class ObjectTag(CiModel):
    """``ObjectTags`` item: the objects of the frame at ``TimeStamp`` seconds."""

    objects: ListOf[TaggedObject] = Field(default_factory=list)
    time_stamp: CiFloat = None


class VideoTagData(CiModel):
    """``StreamData.Data``: the video's tags and categories, and the person, place, action and object tags."""

    tags: ListOf[VideoTagLabel] = Field(default_factory=list)
    person_tags: ListOf[PersonTag] = Field(default_factory=list)
    place_tags: ListOf[PlaceTag] = Field(default_factory=list)
    action_tags: ListOf[ActionTag] = Field(default_factory=list)
    object_tags: ListOf[ObjectTag] = Field(default_factory=list)


class VideoTagStreamData(CiModel):
    """``VideoTagResult.StreamData``: the ``Stream`` scenario's result; ``SubErrCode`` 0, ``SubErrMsg`` ok: success."""

    data: VideoTagData | None = None
    sub_err_code: str | None = None
    sub_err_msg: str | None = None


class VideoTagResult(CiModel):
    """``VideoTagResult``: present once the job finished."""

    stream_data: VideoTagStreamData | None = None


# --------------------------------------------------------------------------------------------------
# SpeechRecognition (F003 L7288 CreateSpeechJobs, L40235 AI content recognition)
# --------------------------------------------------------------------------------------------------


class SpeechRecognition(CiModel):
    """``SpeechRecognition``: engine (``16k_zh``, ``16k_en``…), channels and result format; responses echo more."""

    engine_model_type: str | None = None
    channel_num: CiInt = None
    res_text_format: CiInt = None  # 0 sentences with timestamps, 1 word timestamps
    filter_dirty: CiInt = None
    filter_modal: CiInt = None
    convert_num_mode: CiInt = None
    # Echoed by the response sample (F003 L40408-L40412), not in the request table.
    filter_punc: CiInt = None
    output_file_type: str | None = None
    speaker_diarization: CiInt = None
    speaker_number: CiInt = None


class FlashWord(CiModel):
    """``FlashResult.sentence_list.word_list`` item (snake_case on the wire)."""

    word: str | None = Field(default=None, alias="word")
    start_time: CiFloat = Field(default=None, alias="start_time")
    end_time: CiFloat = Field(default=None, alias="end_time")


class FlashSentence(CiModel):
    """``FlashResult.sentence_list`` item: one sentence, its speaker and words."""

    text: str | None = Field(default=None, alias="text")
    start_time: CiFloat = Field(default=None, alias="start_time")
    end_time: CiFloat = Field(default=None, alias="end_time")
    speaker_id: CiInt = Field(default=None, alias="speaker_id")
    word_list: ListOf[FlashWord] = Field(default_factory=list, alias="word_list")


class FlashResult(CiModel):
    """``FlashResult`` item: the fast recognition of one channel."""

    channel_id: CiInt = Field(default=None, alias="channel_id")
    text: str | None = Field(default=None, alias="text")
    sentence_list: ListOf[FlashSentence] = Field(default_factory=list, alias="sentence_list")


class SentenceWord(CiModel):
    """``ResultDetail.Words`` item: a word and its offsets in the sentence (ms)."""

    word: str | None = None
    offset_start_ms: CiInt = None
    offset_end_ms: CiInt = None


class SentenceDetail(CiModel):
    """``ResultDetail`` item (``ResTextFormat`` 1): one sentence with word offsets, for subtitles."""

    final_sentence: str | None = None
    slice_sentence: str | None = None
    start_ms: CiInt = None
    end_ms: CiInt = None
    words_num: CiInt = None
    speech_speed: CiFloat = None
    speaker_id: CiInt = None
    words: ListOf[SentenceWord] = Field(default_factory=list)


class SpeechRecognitionResult(CiModel):
    """``SpeechRecognitionResult``: the transcript (``Result``), audio duration and details; absent without result."""

    audio_time: CiFloat = None
    result: str | None = None
    flash_result: ListOf[FlashResult] = Field(default_factory=list)
    result_detail: ListOf[SentenceDetail] = Field(default_factory=list)
