"""Media job results: ``MediaInfo`` of an input or output and the ``MediaResult`` naming the outputs written."""

from pydantic import Field

from ciflow.codec import CiFloat, CiInt, CiModel, ListOf

from ._media_frames import QualityEstimate

__all__ = [
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
]


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
