"""Media frame and enhancement parameters: snapshot, smart cover, animation, enhancement and quality scoring."""

from pydantic import Field

from ciflow.codec import CiBool, CiFloat, CiInt, CiModel, ListOf

from ._media_transcode import Container, TimeInterval, Transcode

__all__ = [
    "SpriteSnapshotConfig",
    "Snapshot",
    "SmartCover",
    "AnimationVideo",
    "Animation",
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
]


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
