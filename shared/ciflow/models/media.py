"""Typed CI media jobs: ``POST /jobs`` requests, ``GET /jobs[/<id>]`` responses and job callbacks."""

from typing import TYPE_CHECKING, TypeAlias

from pydantic import Field

from ciflow.codec import CiBool, CiFloat, CiInt, CiModel, ListOf

from ._common import JobDetail, JobOutput, JobRequest, JobsResponse
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
# Transcode parameters (= the transcoding template's Container/Video/Audio/TransConfig/TimeInterval)
# --------------------------------------------------------------------------------------------------


class ClipConfig(CiModel):
    """``Container.ClipConfig``: segment settings, only for ``hls``/``dash``."""

    duration: CiFloat = None  # segment length in seconds, default 5


class Container(CiModel):
    """``Container``: output container format (mp4, hls, dash, gif, webp, …)."""

    format: str | None = None
    clip_config: ClipConfig | None = None


class Video(CiModel):
    """``Transcode.Video``: video stream settings; unset fields keep the source's values."""

    codec: str | None = None  # H.264, H.265, VP8, VP9, AV1
    width: CiInt = None
    height: CiInt = None
    fps: str | None = None  # (0,60], and fractions like 30000/1001 elsewhere
    remove: CiBool = None
    profile: str | None = None  # baseline, main, high, auto
    bitrate: str | None = None  # kbps, or "auto"
    crf: CiFloat = None
    gop: CiInt = None
    preset: str | None = None
    bufsize: CiInt = None  # the template doc writes "BuFSIZE"; the SDKs send "Bufsize"
    maxrate: CiInt = None
    pixfmt: str | None = None
    long_short_mode: CiBool = None
    rotate: CiFloat = None


class Audio(CiModel):
    """``Transcode.Audio``: audio stream settings."""

    codec: str | None = None  # aac, mp3, flac, amr, Vorbis, opus, pcm_s16le
    samplerate: CiInt = None
    bitrate: CiInt = None  # kbps
    channels: CiInt = None
    remove: CiBool = None
    keep_two_tracks: CiBool = None
    switch_track: CiBool = None
    sample_format: str | None = None


class TimeInterval(CiModel):
    """``TimeInterval``: the part of the input to process, in seconds."""

    start: CiFloat = None
    duration: CiFloat = None


class HlsEncrypt(CiModel):
    """``TransConfig.HlsEncrypt``: HLS encryption (job docs: ``IsHlsEncrypt``; Structure: ``IsEncrypt``)."""

    is_hls_encrypt: CiBool = None
    is_encrypt: CiBool = None
    uri_key: str | None = None


class DashEncrypt(CiModel):
    """``TransConfig.DashEncrypt``: DASH encryption."""

    is_encrypt: CiBool = None
    uri_key: str | None = None


class TransConfig(CiModel):
    """``Transcode.TransConfig``: resolution/bitrate/fps checks, metadata and encryption."""

    adj_dar_method: str | None = None  # none, scale, crop, pad
    is_check_reso: CiBool = None
    reso_adj_method: CiInt = None  # 0 keep source, 1 fail the job
    is_check_video_bitrate: CiBool = None
    video_bitrate_adj_method: CiInt = None
    is_check_audio_bitrate: CiBool = None
    audio_bitrate_adj_method: CiInt = None
    is_check_video_fps: CiBool = None
    video_fps_adj_method: CiInt = None
    delete_metadata: CiBool = None
    is_hdr2_sdr: CiBool = None
    transcode_index: str | None = None
    hls_encrypt: HlsEncrypt | None = None
    dash_encrypt: DashEncrypt | None = None


class EffectConfig(CiModel):
    """``AudioMix.EffectConfig``: fades of the mixed-in audio, times in seconds."""

    enable_start_fadein: CiBool = None
    start_fadein_time: CiFloat = None
    enable_end_fadeout: CiBool = None
    end_fadeout_time: CiFloat = None
    enable_bgm_fade: CiBool = None
    bgm_fade_time: CiFloat = None


class AudioMix(CiModel):
    """``AudioMix`` / ``AudioMixArray`` item: background audio mixed into the output."""

    audio_source: str | None = None  # must be in the input's bucket
    mix_mode: str | None = None  # Repeat (default) | Once
    replace: CiBool = None
    effect_config: EffectConfig | None = None


class Transcode(CiModel):
    """``Transcode``: inline transcoding parameters (used when no TemplateId is given)."""

    container: Container | None = None
    video: Video | None = None
    audio: Audio | None = None
    trans_config: TransConfig | None = None
    time_interval: TimeInterval | None = None
    audio_mix: ListOf[AudioMix] = Field(default_factory=list)
    audio_mix_array: ListOf[AudioMix] = Field(default_factory=list)  # up to 2


# --------------------------------------------------------------------------------------------------
# Watermarks
# --------------------------------------------------------------------------------------------------


class WatermarkSlideConfig(CiModel):
    """``Watermark.SlideConfig``: a moving watermark (overrides the offsets)."""

    slide_mode: str | None = None
    x_slide_speed: CiInt = None
    y_slide_speed: CiInt = None


class WatermarkImage(CiModel):
    """``Watermark.Image``: an image watermark."""

    url: str | None = None
    mode: str | None = None  # Original, Proportion, Fixed
    width: CiFloat = None
    height: CiFloat = None
    transparency: CiInt = None
    background: CiBool = None


class WatermarkText(CiModel):
    """``Watermark.Text``: a text watermark."""

    font_size: CiInt = None
    font_type: str | None = None
    font_color: str | None = None  # 0xRRGGBB
    transparency: CiInt = None
    text: str | None = None


class Watermark(CiModel):
    """``Watermark``: inline watermark parameters (= the watermark template's ``Watermark``)."""

    type: str | None = None  # Text | Image
    pos: str | None = None  # TopRight, TopLeft, BottomRight, BottomLeft, Left, Right, Top, Bottom, Center
    loc_mode: str | None = None  # Relativity | Absolute
    dx: CiFloat = None
    dy: CiFloat = None
    start_time: CiFloat = None
    end_time: CiFloat = None
    slide_config: WatermarkSlideConfig | None = None
    image: WatermarkImage | None = None
    text: WatermarkText | None = None


class RemoveWatermark(CiModel):
    """``RemoveWatermark``: blur out a rectangle (px); not supported for H.265."""

    dx: CiInt = None
    dy: CiInt = None
    width: CiInt = None
    height: CiInt = None


class DigitalWatermark(CiModel):
    """``DigitalWatermark``: an invisible text watermark; responses add ``State``."""

    message: str | None = None  # <= 64 of [A-Za-z0-9_-*]
    type: str | None = None  # Text
    version: str | None = None  # V1
    ignore_error: CiBool = None
    state: str | None = None  # response only: Running | Success | Failed


# --------------------------------------------------------------------------------------------------
# Snapshot, SmartCover, Animation parameters
# --------------------------------------------------------------------------------------------------


class SpriteSnapshotConfig(CiModel):
    """``Snapshot.SpriteSnapshotConfig``: layout of the sprite sheet."""

    cell_width: CiInt = None
    cell_height: CiInt = None
    padding: CiInt = None
    margin: CiInt = None
    color: str | None = None
    columns: CiInt = None
    lines: CiInt = None


class Snapshot(CiModel):
    """``Snapshot``: inline screenshot parameters (= the screenshot template's ``Snapshot``)."""

    mode: str | None = None  # Interval (default), Average, KeyFrame
    start: CiFloat = None
    time_interval: CiFloat = None
    count: CiInt = None
    width: CiInt = None
    height: CiInt = None
    ci_param: str | None = Field(default=None, alias="CIParam")
    is_check_count: CiBool = None
    is_check_black: CiBool = None
    black_level: CiInt = None
    pixel_black_threshold: CiInt = None
    snapshot_out_mode: str | None = None  # OnlySnapshot, OnlySprite, SnapshotAndSprite
    sprite_snapshot_config: SpriteSnapshotConfig | None = None


class SmartCover(CiModel):
    """``SmartCover``: inline intelligent-cover parameters."""

    format: str | None = None  # jpg (default), png, webp
    width: CiInt = None
    height: CiInt = None
    count: CiInt = None  # [1,10], default 3
    delete_duplicates: CiBool = None


class AnimationVideo(CiModel):
    """``Animation.Video``: animated-image video settings."""

    codec: str | None = None  # gif, webp
    width: CiInt = None
    height: CiInt = None
    fps: str | None = None
    animate_only_keep_key_frame: CiBool = None
    animate_time_interval_of_frame: CiFloat = None
    animate_frames_per_second: CiFloat = None
    quality: CiFloat = None


class Animation(CiModel):
    """``Animation``: inline video-to-animated-image parameters."""

    container: Container | None = None  # Format: gif, hgif, webp
    video: AnimationVideo | None = None
    time_interval: TimeInterval | None = None


# --------------------------------------------------------------------------------------------------
# Enhancement and quality parameters and results
# --------------------------------------------------------------------------------------------------


class SuperResolution(CiModel):
    """``SuperResolution``: upscaling parameters."""

    resolution: str | None = None  # sdtohd | hdto4k
    enable_scale_up: CiBool = None
    version: str | None = None  # Base (default) | Enhance


class ColorEnhance(CiModel):
    """``ColorEnhance``: colour enhancement (empty values mean automatic)."""

    enable: CiBool = None
    contrast: CiInt = None
    correction: CiInt = None
    saturation: CiInt = None


class MsSharpen(CiModel):
    """``MsSharpen``: detail sharpening."""

    enable: CiBool = None
    sharpen_level: CiInt = None


class SdrToHdr(CiModel):
    """``SDRtoHDR``: SDR-to-HDR conversion."""

    hdr_mode: str | None = None  # HLG | HDR10


class FrameEnhance(CiModel):
    """``FrameEnhance``: frame interpolation (from the public VideoEnhance template doc, not the seed)."""

    frame_doubling: CiBool = None


class VideoEnhance(CiModel):
    """``VideoEnhance``: the all-in-one image-quality enhancement parameters."""

    transcode: Transcode | None = None
    super_resolution: SuperResolution | None = None
    color_enhance: ColorEnhance | None = None
    ms_sharpen: MsSharpen | None = None
    sdr_to_hdr: SdrToHdr | None = Field(default=None, alias="SDRtoHDR")
    frame_enhance: FrameEnhance | None = None


class QualityEstimateConfig(CiModel):
    """``QualityEstimateConfig``: how to score the video."""

    rotate: CiInt = None  # 0, 90, 180, 270
    mode: str | None = None  # general (default, score only) | vqaPlus (detailed)


class QualityEstimateItem(CiModel):
    """``DetailedResult.Items`` item: where one problem occurs."""

    confidence: CiInt = None
    start_time_offset: CiFloat = None
    end_time_offset: CiFloat = None
    area_coord_set: ListOf[int] = Field(default_factory=list)  # x1, y1, x2, y2 in px


class QualityEstimateDetail(CiModel):
    """``VqaPlusResult.DetailedResult`` item: one problem type (Blur, Noise, …) and where it occurs."""

    type: str | None = None
    items: ListOf[QualityEstimateItem] = Field(default_factory=list)


class VqaPlusResult(CiModel):
    """``QualityEstimate.VqaPlusResult``: the detailed analysis of ``vqaPlus`` mode."""

    no_audio: CiBool = None
    no_video: CiBool = None
    detailed_result: ListOf[QualityEstimateDetail] = Field(default_factory=list)


class QualityEstimate(CiModel):
    """``QualityEstimate`` result: score out of 10 (>= 6 is good) plus the vqaPlus details."""

    score: CiFloat = None
    vqa_plus_result: VqaPlusResult | None = None


# --------------------------------------------------------------------------------------------------
# Results: MediaInfo and MediaResult
# --------------------------------------------------------------------------------------------------


class MediaInfoFormat(CiModel):
    """``MediaInfo.Format``: container-level information."""

    num_stream: CiInt = None
    num_program: CiInt = None
    format_name: str | None = None
    format_long_name: str | None = None
    start_time: CiFloat = None
    duration: CiFloat = None
    bitrate: CiFloat = None  # kbps in the API, bps in some callbacks
    size: CiInt = None


class MediaInfoVideo(CiModel):
    """``MediaInfo.Stream.Video``: one video stream."""

    index: CiInt = None
    codec_name: str | None = None
    codec_long_name: str | None = None
    codec_time_base: str | None = None
    codec_tag_string: str | None = None
    codec_tag: str | None = None
    color_primaries: str | None = None
    color_range: str | None = None
    color_transfer: str | None = None
    profile: str | None = None
    height: CiInt = None
    width: CiInt = None
    has_b_frame: CiInt = None
    ref_frames: CiInt = None
    sar: str | None = None
    dar: str | None = None
    # The table says PixFormat, most samples send PixelFormat: both are kept, read ``pix_fmt``.
    pix_format: str | None = None
    pixel_format: str | None = None
    field_order: str | None = None
    level: str | None = None  # "40", "-99", "1.000"
    fps: str | None = None  # "25.000000" or "50/1"
    avg_fps: str | None = None
    timebase: str | None = None
    start_time: CiFloat = None
    duration: CiFloat = None
    bitrate: CiFloat = None
    num_frames: CiInt = None
    language: str | None = None
    rotation: CiFloat = None

    @property
    def pix_fmt(self) -> str | None:
        """The pixel format under whichever spelling CI used."""
        return self.pix_format or self.pixel_format


class MediaInfoAudio(CiModel):
    """``MediaInfo.Stream.Audio``: one audio stream."""

    index: CiInt = None
    codec_name: str | None = None
    codec_long_name: str | None = None
    codec_time_base: str | None = None
    codec_tag_string: str | None = None
    codec_tag: str | None = None
    sample_fmt: str | None = None
    sample_rate: CiInt = None
    channel: CiInt = None
    channel_layout: str | None = None
    timebase: str | None = None
    start_time: CiFloat = None
    duration: CiFloat = None
    bitrate: CiFloat = None
    language: str | None = None


class MediaInfoSubtitle(CiModel):
    """``MediaInfo.Stream.Subtitle``: one subtitle stream."""

    index: CiInt = None
    language: str | None = None


class MediaInfoStream(CiModel):
    """``MediaInfo.Stream``: the streams, each kind repeatable (and often an empty element)."""

    video: ListOf[MediaInfoVideo] = Field(default_factory=list)
    audio: ListOf[MediaInfoAudio] = Field(default_factory=list)
    subtitle: ListOf[MediaInfoSubtitle] = Field(default_factory=list)


class MediaInfo(CiModel):
    """``MediaInfo``: media information of a job's output (or of the input for MediaInfo jobs)."""

    format: MediaInfoFormat | None = None
    stream: MediaInfoStream | None = None


class Md5Info(CiModel):
    """``OutputFile.Md5Info`` item: MD5 of one output (``ObjectName`` is the full key)."""

    object_name: str | None = None
    md5: str | None = None


class OutputFileInfo(CiModel):
    """Fields shared by ``OutputFile`` and ``SpriteOutputFile``."""

    bucket: str | None = None
    region: str | None = None
    object_name: ListOf[str] = Field(default_factory=list)
    object_prefix: str | None = None
    md5_info: ListOf[Md5Info] = Field(default_factory=list)

    @property
    def object_keys(self) -> list[str]:
        """Full output keys, ``ObjectPrefix + ObjectName`` (Snapshot: ``output/snapshot-`` + ``0.jpg``)."""
        prefix = self.object_prefix or ""
        return [prefix + name for name in self.object_name]


class SpriteOutputFile(OutputFileInfo):
    """``OutputFile.SpriteOutputFile``: the sprite sheets of a Snapshot job."""


class OutputFile(OutputFileInfo):
    """``MediaResult.OutputFile``: where the outputs were written."""

    sprite_output_file: SpriteOutputFile | None = None


class MediaResult(CiModel):
    """``MediaResult``: basic information about the outputs, present once the job finished."""

    output_file: OutputFile | None = None
    # JSON callbacks of QualityEstimate jobs put the result here instead of under Operation (F003 L31678).
    quality_estimate: QualityEstimate | None = None

    @property
    def output_keys(self) -> list[str]:
        """Full object keys of the outputs."""
        return self.output_file.object_keys if self.output_file else []

    @property
    def sprite_keys(self) -> list[str]:
        """Full object keys of the sprite sheets (Snapshot only)."""
        if self.output_file is None or self.output_file.sprite_output_file is None:
            return []
        return self.output_file.sprite_output_file.object_keys


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
