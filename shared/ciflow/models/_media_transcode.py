"""Media transcode and watermark parameters: the bodies of the transcoding and watermark templates, inline in jobs."""

from pydantic import Field

from ciflow.codec import CiBool, CiFloat, CiInt, CiModel, ListOf

__all__ = [
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
    "WatermarkSlideConfig",
    "WatermarkImage",
    "WatermarkText",
    "Watermark",
    "RemoveWatermark",
    "DigitalWatermark",
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
