"""Typed CI editing jobs: Concat, VideoMontage, Segment, StreamExtract, SDRtoHDR, VideoProcess, MediaInfo; one table."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from ciflow.codec import CiBool, CiFloat, CiInt, CiModel, ListOf

from ._common import JobDetail, JobInput, JobOutput
from ._tagged import TaggedJobRequest, TaggedOperation, detail_table, operation_table
from .media import (
    Audio,
    AudioMix,
    ColorEnhance,
    Container,
    HlsEncrypt,
    MediaOperation,
    MsSharpen,
    SdrToHdr,
    TemplatedMediaOperation,
    TimeInterval,
    Transcode,
    TransConfig,
    Video,
    WatermarkedMediaOperation,
)

__all__ = [
    # Parameters
    "ConcatFragment",
    "ConcatTemplate",
    "VideoMontage",
    "Segment",
    "StreamExtract",
    "StreamExtractOutput",
    "SdrToHdr",
    "ColorEnhance",
    "MsSharpen",
    "VideoProcess",
    # Operations
    "ConcatOperation",
    "VideoMontageOperation",
    "SegmentOperation",
    "StreamExtractOperation",
    "SdrToHdrOperation",
    "VideoProcessOperation",
    "MediaInfoOperation",
    "EditingOperation",
    # Tables and the request
    "OPERATIONS",
    "DETAILS",
    "EDITING_TAGS",
    "EditingJobRequest",
]


# --------------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------------


class ConcatFragment(CiModel):
    """``ConcatTemplate.ConcatFragment`` item: one object to splice, optionally cut to ``[StartTime, EndTime]`` s."""

    url: str | None = None  # an object of the job's bucket, as a COS URL
    fragment_index: CiInt = None  # splice order, from 0
    start_time: CiFloat = None
    end_time: CiFloat = None
    mode: str | None = None  # in a splicing template: Start | End, where the fragment goes around the input


class ConcatTemplate(CiModel):
    """``ConcatTemplate``: the splicing parameters (= the Concat template's ``ConcatTemplate``)."""

    concat_fragment: ListOf[ConcatFragment] = Field(default_factory=list)
    audio: Audio | None = None
    video: Video | None = None
    container: Container | None = None
    audio_mix: ListOf[AudioMix] = Field(default_factory=list)
    index: CiInt = None  # where the job's Input goes among the fragments
    direct_concat: CiBool = None  # stream copy: the audio/video parameters are ignored


class VideoMontage(CiModel):
    """``VideoMontage``: montage parameters (= the VideoMontage template's), ``Duration`` in seconds."""

    duration: CiFloat = None  # default: what CI's analysis picks
    container: Container | None = None  # mp4, flv, hls, ts, mkv
    video: Video | None = None
    audio: Audio | None = None
    trans_config: TransConfig | None = None
    time_interval: TimeInterval | None = None
    audio_mix: ListOf[AudioMix] = Field(default_factory=list)


class Segment(CiModel):
    """``Segment``: remuxing to ``Format`` (aac, mp3, flac, mp4, ts, mkv, avi, hls, m3u8), cut every ``Duration`` s."""

    format: str | None = None
    duration: CiFloat = None  # integer >= 5; unset: one output
    transcode_index: str | None = None  # stream to keep (MediaInfo Stream index)
    hls_encrypt: HlsEncrypt | None = None  # hls/m3u8 only


class StreamExtract(CiModel):
    """``Output.StreamExtract`` item: stream ``Index`` written to ``Object`` (responses echo it as ``Output``)."""

    index: CiInt = None
    object: str | None = None
    output: str | None = None  # the response samples' spelling of Object


class StreamExtractOutput(JobOutput):
    """``Output`` of a StreamExtract job: one object per extracted stream (at most 10), no ``Object``."""

    stream_extract: ListOf[StreamExtract] = Field(default_factory=list)
    # The request schema sample (F003 L24213) nests these in Output; CI reads them from Operation.
    user_data: str | None = None
    job_level: CiInt = None


class VideoProcess(CiModel):
    """``VideoProcess``: the older video-enhancement parameters (= the VideoProcess template's)."""

    color_enhance: ColorEnhance | None = None
    ms_sharpen: MsSharpen | None = None


# --------------------------------------------------------------------------------------------------
# Operations
# --------------------------------------------------------------------------------------------------


class ConcatOperation(TemplatedMediaOperation, TaggedOperation):
    """``Operation`` of a Concat job: ``TemplateId`` wins over inline ``ConcatTemplate``."""

    TAG: ClassVar[str] = "Concat"

    concat_template: ConcatTemplate | None = None


class VideoMontageOperation(TemplatedMediaOperation, TaggedOperation):
    """``Operation`` of a VideoMontage job: ``TemplateId`` wins over inline ``VideoMontage``."""

    TAG: ClassVar[str] = "VideoMontage"

    video_montage: VideoMontage | None = None


class SegmentOperation(MediaOperation, TaggedOperation):
    """``Operation`` of a Segment (remuxing) job; ``Output.Object`` needs ``${Number}`` when cut (not hls/m3u8)."""

    TAG: ClassVar[str] = "Segment"

    segment: Segment | None = None
    output: JobOutput | None = None


class StreamExtractOperation(MediaOperation, TaggedOperation):
    """``Operation`` of a StreamExtract (stream separation) job: ``Output.StreamExtract[]`` names the streams."""

    TAG: ClassVar[str] = "StreamExtract"

    output: StreamExtractOutput | None = None


class SdrToHdrOperation(WatermarkedMediaOperation, TaggedOperation):
    """``Operation`` of an SDRtoHDR job: ``SDRtoHDR`` plus transcode parameters (``TranscodeTemplateId`` wins)."""

    TAG: ClassVar[str] = "SDRtoHDR"

    sdr_to_hdr: SdrToHdr | None = Field(default=None, alias="SDRtoHDR")
    transcode_template_id: str | None = None
    transcode: Transcode | None = None


class VideoProcessOperation(WatermarkedMediaOperation, TaggedOperation):
    """``Operation`` of a VideoProcess job: ``TemplateId`` or ``VideoProcess``, plus transcode parameters."""

    TAG: ClassVar[str] = "VideoProcess"

    video_process: VideoProcess | None = None
    transcode_template_id: str | None = None
    transcode: Transcode | None = None


class MediaInfoOperation(MediaOperation, TaggedOperation):
    """``Operation`` of a MediaInfo job: no Output; the result is ``Operation.MediaInfo`` of the input."""

    TAG: ClassVar[str] = "MediaInfo"


EditingOperation = (
    ConcatOperation
    | VideoMontageOperation
    | SegmentOperation
    | StreamExtractOperation
    | SdrToHdrOperation
    | VideoProcessOperation
    | MediaInfoOperation
)

#: Tag -> Operation model of every editing job.
OPERATIONS = operation_table(
    ConcatOperation,
    VideoMontageOperation,
    SegmentOperation,
    StreamExtractOperation,
    SdrToHdrOperation,
    VideoProcessOperation,
    MediaInfoOperation,
)
#: Tag -> ``JobDetail[Operation]``: submit/describe responses and callbacks of each editing tag.
DETAILS: dict[str, type[JobDetail]] = detail_table(OPERATIONS)
EDITING_TAGS = frozenset(OPERATIONS)


class EditingJobRequest(TaggedJobRequest[JobInput | None]):
    """Submit an editing job; ``Tag`` comes from the operation (a Concat job may have no ``Input``)."""

    OPERATIONS = OPERATIONS

    # A Concat job's Input is optional: the fragments are the media.
    input: JobInput | None = None
    operation: EditingOperation
