"""Typed CI media jobs: ``POST /jobs`` requests, ``GET /jobs[/<id>]`` responses and job callbacks."""

# The family's public face: operations, requests and details are defined here, their parameters and results in the
# private ``_media_*`` modules (transcode and watermarks, frames and enhancement, results), re-exported as before.

from typing import TYPE_CHECKING, TypeAlias

from pydantic import Field

from ciflow.codec import CiInt, CiModel, ListOf

from ._common import JobDetail, JobOutput, JobRequest, JobsResponse
from ._media_frames import (
    Animation,
    AnimationVideo,
    ColorEnhance,
    FrameEnhance,
    MsSharpen,
    QualityEstimate,
    QualityEstimateConfig,
    QualityEstimateDetail,
    QualityEstimateItem,
    SdrToHdr,
    SmartCover,
    Snapshot,
    SpriteSnapshotConfig,
    SuperResolution,
    VideoEnhance,
    VqaPlusResult,
)
from ._media_results import (
    Md5Info,
    MediaInfo,
    MediaInfoAudio,
    MediaInfoFormat,
    MediaInfoStream,
    MediaInfoSubtitle,
    MediaInfoVideo,
    MediaResult,
    OutputFile,
    OutputFileInfo,
    SpriteOutputFile,
)
from ._media_transcode import (
    Audio,
    AudioMix,
    ClipConfig,
    Container,
    DashEncrypt,
    DigitalWatermark,
    EffectConfig,
    HlsEncrypt,
    RemoveWatermark,
    TimeInterval,
    Transcode,
    TransConfig,
    Video,
    Watermark,
    WatermarkImage,
    WatermarkSlideConfig,
    WatermarkText,
)
from ._tagged import tagged_job_detail

__all__ = [
    # Transcode parameters
    "ClipConfig",
    "Container",
    "Video",
    "Audio",
    "TimeInterval",
    "HlsEncrypt",
    "DashEncrypt",
    "TransConfig",
    "EffectConfig",
    "AudioMix",
    "Transcode",
    # Watermarks
    "WatermarkSlideConfig",
    "WatermarkImage",
    "WatermarkText",
    "Watermark",
    "RemoveWatermark",
    "DigitalWatermark",
    # Snapshot / SmartCover / Animation parameters
    "SpriteSnapshotConfig",
    "Snapshot",
    "SmartCover",
    "AnimationVideo",
    "Animation",
    # Enhancement / quality parameters and results
    "SuperResolution",
    "ColorEnhance",
    "MsSharpen",
    "SdrToHdr",
    "FrameEnhance",
    "VideoEnhance",
    "QualityEstimateConfig",
    "QualityEstimateItem",
    "QualityEstimateDetail",
    "VqaPlusResult",
    "QualityEstimate",
    # Results
    "MediaInfoFormat",
    "MediaInfoVideo",
    "MediaInfoAudio",
    "MediaInfoSubtitle",
    "MediaInfoStream",
    "MediaInfo",
    "Md5Info",
    "OutputFileInfo",
    "SpriteOutputFile",
    "OutputFile",
    "MediaResult",
    # Operations, requests, details
    "MediaOperation",
    "TemplatedMediaOperation",
    "WatermarkedMediaOperation",
    "TranscodeOperation",
    "UltraHdTranscodeOperation",
    "SnapshotOperation",
    "SmartCoverOperation",
    "AnimationOperation",
    "VideoEnhanceOperation",
    "QualityEstimateOperation",
    "SuperResolutionOperation",
    "TranscodeJobRequest",
    "UltraHdTranscodeJobRequest",
    "SnapshotJobRequest",
    "SmartCoverJobRequest",
    "AnimationJobRequest",
    "VideoEnhanceJobRequest",
    "QualityEstimateJobRequest",
    "SuperResolutionJobRequest",
    "TranscodeJobDetail",
    "SnapshotJobDetail",
    "SmartCoverJobDetail",
    "AnimationJobDetail",
    "VideoEnhanceJobDetail",
    "QualityEstimateJobDetail",
    "SuperResolutionJobDetail",
    "MEDIA_DETAILS",
    "MEDIA_TAGS",
    "MediaJobDetail",
    "MediaJobsResponse",
]


# --------------------------------------------------------------------------------------------------
# Operations: request parameters and result fields of one Tag
# --------------------------------------------------------------------------------------------------


class MediaOperation(CiModel):
    """What every media job's ``Operation`` has: pass-through data, priority and, once finished, the results."""

    user_data: str | None = None
    job_level: CiInt = None
    media_info: MediaInfo | None = None
    media_result: MediaResult | None = None


class TemplatedMediaOperation(MediaOperation):
    """A media ``Operation`` that takes a template (``TemplateId`` wins over inline parameters) and an ``Output``."""

    template_id: str | None = None
    template_name: str | None = None  # response only
    output: JobOutput | None = None


class WatermarkedMediaOperation(TemplatedMediaOperation):
    """A media ``Operation`` that also takes watermarks: templates or inline (up to 3 each; templates win)."""

    watermark_template_id: ListOf[str] = Field(default_factory=list)
    watermark: ListOf[Watermark] = Field(default_factory=list)
    digital_watermark: DigitalWatermark | None = None


class TranscodeOperation(WatermarkedMediaOperation):
    """``Operation`` of a Transcode job: ``TemplateId`` wins over inline ``Transcode``."""

    transcode: Transcode | None = None
    remove_watermark: RemoveWatermark | None = None


class UltraHdTranscodeOperation(TranscodeOperation):
    """``Operation`` of an Ultra-HD (Top Speed Codec) job: a ``HighSpeedHd`` template is required."""

    template_id: str


class SnapshotOperation(TemplatedMediaOperation):
    """``Operation`` of a Snapshot job; ``Output.Object``/``SpriteObject`` must contain ``${Number}``."""

    snapshot: Snapshot | None = None


class SmartCoverOperation(TemplatedMediaOperation):
    """``Operation`` of a SmartCover job; ``Output.Object`` must contain ``${number}`` for several covers."""

    smart_cover: SmartCover | None = None


class AnimationOperation(TemplatedMediaOperation):
    """``Operation`` of an Animation job."""

    animation: Animation | None = None


class VideoEnhanceOperation(WatermarkedMediaOperation):
    """``Operation`` of a VideoEnhance job: one of ``TemplateId``/``VideoEnhance`` must be set."""

    video_enhance: VideoEnhance | None = None
    transcode_template_id: str | None = None  # sent by the doc's sample 1, not in its table


class QualityEstimateOperation(MediaOperation):
    """``Operation`` of a QualityEstimate job (optional in the request; no template, no Output)."""

    quality_estimate_config: QualityEstimateConfig | None = None
    quality_estimate: QualityEstimate | None = None

    @property
    def result(self) -> QualityEstimate | None:
        """The score: under ``Operation`` in XML, under ``Operation.MediaResult`` in JSON callbacks."""
        if self.quality_estimate is not None:
            return self.quality_estimate
        return self.media_result.quality_estimate if self.media_result else None


class SuperResolutionOperation(WatermarkedMediaOperation):
    """``Operation`` of a SuperResolution job: needs SR (TemplateId or inline) and transcode parameters."""

    super_resolution: SuperResolution | None = None
    transcode_template_id: str | None = None  # wins over inline Transcode
    transcode: Transcode | None = None


# --------------------------------------------------------------------------------------------------
# Requests (``POST /jobs`` bodies)
# --------------------------------------------------------------------------------------------------


class TranscodeJobRequest(JobRequest):
    """Submit an audio/video transcoding job."""

    tag: str = "Transcode"
    operation: TranscodeOperation


class UltraHdTranscodeJobRequest(TranscodeJobRequest):
    """Submit an Ultra-HD / Top Speed Codec transcoding job (Tag ``Transcode`` with a TSC template)."""

    operation: UltraHdTranscodeOperation


class SnapshotJobRequest(JobRequest):
    """Submit a video frame-capturing (screenshot / sprite) job."""

    tag: str = "Snapshot"
    operation: SnapshotOperation


class SmartCoverJobRequest(JobRequest):
    """Submit an intelligent-cover job."""

    tag: str = "SmartCover"
    operation: SmartCoverOperation


class AnimationJobRequest(JobRequest):
    """Submit a video-to-animated-image job."""

    tag: str = "Animation"
    operation: AnimationOperation


class VideoEnhanceJobRequest(JobRequest):
    """Submit an image-quality enhancement job."""

    tag: str = "VideoEnhance"
    operation: VideoEnhanceOperation


class QualityEstimateJobRequest(JobRequest):
    """Submit a video quality scoring job."""

    tag: str = "QualityEstimate"
    operation: QualityEstimateOperation | None = None


class SuperResolutionJobRequest(JobRequest):
    """Submit a super-resolution job."""

    tag: str = "SuperResolution"
    operation: SuperResolutionOperation


# --------------------------------------------------------------------------------------------------
# Job details (submit / describe / list responses and callbacks)
# --------------------------------------------------------------------------------------------------


#: ``JobsDetail`` of a job of each media tag (Transcode covers Ultra-HD jobs too).
TranscodeJobDetail: TypeAlias = JobDetail[TranscodeOperation]
SnapshotJobDetail: TypeAlias = JobDetail[SnapshotOperation]
SmartCoverJobDetail: TypeAlias = JobDetail[SmartCoverOperation]
AnimationJobDetail: TypeAlias = JobDetail[AnimationOperation]
VideoEnhanceJobDetail: TypeAlias = JobDetail[VideoEnhanceOperation]
QualityEstimateJobDetail: TypeAlias = JobDetail[QualityEstimateOperation]
SuperResolutionJobDetail: TypeAlias = JobDetail[SuperResolutionOperation]

#: The typed detail model of each media tag; other tags parse as plain ``JobDetail``.
MEDIA_DETAILS: dict[str, type[JobDetail]] = {
    "Transcode": TranscodeJobDetail,
    "Snapshot": SnapshotJobDetail,
    "SmartCover": SmartCoverJobDetail,
    "Animation": AnimationJobDetail,
    "VideoEnhance": VideoEnhanceJobDetail,
    "QualityEstimate": QualityEstimateJobDetail,
    "SuperResolution": SuperResolutionJobDetail,
}
MEDIA_TAGS = frozenset(MEDIA_DETAILS)

#: A ``/jobs`` job detail typed by its tag, whichever module models it (``editing``, ``audio``… load on first use).
if TYPE_CHECKING:
    MediaJobDetail: TypeAlias = JobDetail
else:
    MediaJobDetail = tagged_job_detail("MediaJobDetail")


#: ``<Response>`` of submit and DescribeMediaJob(s), with tag-typed details (callbacks: ``TaskFinish``).
MediaJobsResponse: TypeAlias = JobsResponse[MediaJobDetail]
