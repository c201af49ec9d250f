"""ffmpeg jobs: Transcode (inline or templated), VideoEnhance, SuperResolution, QualityEstimate; ``MediaInfo``."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from ciflow.models.media import (
    Audio,
    Container,
    Md5Info,
    MediaInfo,
    MediaInfoAudio,
    MediaInfoFormat,
    MediaInfoStream,
    MediaInfoVideo,
    MediaResult,
    OutputFile,
    QualityEstimate,
    QualityEstimateJobRequest,
    SuperResolutionJobRequest,
    TimeInterval,
    Transcode,
    TranscodeJobRequest,
    TransConfig,
    Video,
    VideoEnhanceJobRequest,
    VqaPlusResult,
)

from .._storage import StoredObject
from . import ffmpeg
from .common import (
    JobContext,
    JobFailedError,
    Tree,
    etag_md5,
    expand_output,
    input_object,
    media_failure,
    output_target,
    put_output,
    wire_tree,
)

#: Container -> (ffmpeg muxer, file extension, default video encoder or None for audio-only, default audio encoder).
CONTAINERS: dict[str, tuple[str, str, str | None, str | None]] = {
    "mp4": ("mp4", "mp4", "libx264", "aac"),
    "mov": ("mov", "mov", "libx264", "aac"),
    "mkv": ("matroska", "mkv", "libx264", "aac"),
    "flv": ("flv", "flv", "libx264", "aac"),
    "avi": ("avi", "avi", "libx264", "libmp3lame"),
    "ts": ("mpegts", "ts", "libx264", "aac"),
    "hls": ("hls", "m3u8", "libx264", "aac"),
    "webm": ("webm", "webm", "libvpx-vp9", "libopus"),
    "mp3": ("mp3", "mp3", None, "libmp3lame"),
    "m4a": ("ipod", "m4a", None, "aac"),
    "aac": ("adts", "aac", None, "aac"),
    "flac": ("flac", "flac", None, "flac"),
    "wav": ("wav", "wav", None, "pcm_s16le"),
    "ogg": ("ogg", "ogg", None, "libvorbis"),
    "amr": ("amr", "amr", None, "libopencore_amrnb"),
}
_VIDEO_ENCODERS = {
    "h.264": "libx264",
    "h264": "libx264",
    "h.265": "libx265",
    "h265": "libx265",
    "hevc": "libx265",
    "vp8": "libvpx",
    "vp9": "libvpx-vp9",
    "av1": "libaom-av1",
}
_AUDIO_ENCODERS = {
    "aac": "aac",
    "mp3": "libmp3lame",
    "opus": "libopus",
    "vorbis": "libvorbis",
    "flac": "flac",
    "pcm_s16le": "pcm_s16le",
    "amr": "libopencore_amrnb",
}

#: Transcode templates the emulator knows (id -> name, parameters); any other id uses ``DEFAULT_TEMPLATE``.
TRANSCODE_TEMPLATES: dict[str, tuple[str, Transcode]] = {
    "temump4sd": (
        "Emulator-MP4-SD",
        Transcode(container=Container(format="mp4"), video=Video(codec="H.264", height=480)),
    ),
    "temump4hd": (
        "Emulator-MP4-HD",
        Transcode(container=Container(format="mp4"), video=Video(codec="H.264", height=720)),
    ),
    "temump4fhd": (
        "Emulator-MP4-FHD",
        Transcode(container=Container(format="mp4"), video=Video(codec="H.264", height=1080)),
    ),
    "temuwebmhd": (
        "Emulator-WEBM-HD",
        Transcode(container=Container(format="webm"), video=Video(codec="VP9", height=720)),
    ),
    "temuhls": ("Emulator-HLS", Transcode(container=Container(format="hls"))),
    "temump3": ("Emulator-MP3", Transcode(container=Container(format="mp3"), audio=Audio(codec="mp3"))),
    "temum4a": ("Emulator-M4A", Transcode(container=Container(format="m4a"), audio=Audio(codec="aac"))),
}
DEFAULT_TEMPLATE = ("Emulator-Default-MP4", Transcode(container=Container(format="mp4")))


def parse_fps(value: str | None) -> float | None:
    if not value:
        return None
    try:
        if "/" in value:
            numerator, denominator = value.split("/", 1)
            return float(numerator) / float(denominator)
        return float(value)
    except (ValueError, ZeroDivisionError):
        raise JobFailedError("InvalidArgument", f"Fps {value!r} is not a number") from None


def _target_size(video: Video, probe: ffmpeg.MediaProbe, config: TransConfig | None) -> tuple[int | None, int | None]:
    """Output width/height: ``LongShortMode`` makes them long/short sides; ``IsCheckReso`` never upscales."""
    width, height = video.width, video.height
    source = probe.video
    if source and source.width and source.height:
        if video.long_short_mode and source.height > source.width:
            width, height = height, width
        too_big = (width or 0) > source.width or (height or 0) > source.height
        if config and config.is_check_reso and too_big:
            return None, None
    return width, height


def _bitrate(value: str | int | None) -> int | None:
    text = str(value) if value is not None else ""
    return int(float(text)) if text and text.replace(".", "", 1).isdigit() else None


def _spec(parameters: Transcode, probe: ffmpeg.MediaProbe) -> tuple[ffmpeg.TranscodeSpec, str]:
    """The ffmpeg spec and output extension of ``Transcode`` parameters (template or inline)."""
    fmt = ((parameters.container.format if parameters.container else None) or "mp4").lower()
    if fmt not in CONTAINERS:
        raise JobFailedError("UnsupportedFormat", f"the emulator does not write {fmt!r} containers")
    muxer, ext, video_default, audio_default = CONTAINERS[fmt]
    video = parameters.video or Video()
    audio = parameters.audio or Audio()
    video_codec = _VIDEO_ENCODERS.get((video.codec or "").lower(), video_default) if video_default else None
    audio_codec = _AUDIO_ENCODERS.get((audio.codec or "").lower(), audio_default) if audio_default else None
    width, height = _target_size(video, probe, parameters.trans_config)
    interval = parameters.time_interval or TimeInterval()
    amr = audio_codec == "libopencore_amrnb"
    spec = ffmpeg.TranscodeSpec(
        muxer=muxer,
        video_codec=None if video.remove or probe.video is None else video_codec,
        audio_codec=None if audio.remove or probe.audio is None else audio_codec,
        width=width,
        height=height,
        fps=parse_fps(video.fps),
        video_bitrate_kbps=_bitrate(video.bitrate),
        crf=video.crf,
        sample_rate=8000 if amr else audio.samplerate,
        channels=1 if amr else audio.channels,
        audio_bitrate_kbps=_bitrate(audio.bitrate),
        start=interval.start,
        duration=interval.duration,
    )
    if spec.video_codec is None and spec.audio_codec is None:
        raise JobFailedError("InvalidArgument", "nothing to write: the output keeps neither video nor audio")
    return spec, ext


def media_info(probe: ffmpeg.MediaProbe, size: int) -> MediaInfo:
    """``MediaInfo`` from what ffmpeg reported."""
    video, audio = probe.video, probe.audio
    streams = MediaInfoStream(
        video=[
            MediaInfoVideo(
                index=video.index,
                codec_name=video.codec,
                width=video.width,
                height=video.height,
                fps=f"{video.fps:g}" if video.fps else None,
                avg_fps=f"{video.fps:g}" if video.fps else None,
                pix_format=video.pix_fmt,
                bitrate=video.bitrate_kbps,
                duration=probe.duration,
            )
        ]
        if video
        else [],
        audio=[
            MediaInfoAudio(
                index=audio.index,
                codec_name=audio.codec,
                sample_rate=audio.sample_rate,
                channel=audio.channels,
                sample_fmt=audio.sample_fmt,
                bitrate=audio.bitrate_kbps,
                duration=probe.duration,
            )
        ]
        if audio
        else [],
    )
    container = MediaInfoFormat(
        num_stream=probe.num_streams,
        num_program=0,
        format_name=probe.format_name,
        start_time=probe.start,
        duration=probe.duration,
        bitrate=probe.bitrate_kbps,
        size=size,
    )
    return MediaInfo(format=container, stream=streams)


def output_file_of(bucket: str, region: str, keys: list[tuple[str, StoredObject]], prefix: str = "") -> OutputFile:
    return OutputFile(
        bucket=bucket,
        region=region,
        object_prefix=prefix,
        object_name=[key[len(prefix) :] for key, _ in keys],
        md5_info=[Md5Info(object_name=key, md5=etag_md5(stored)) for key, stored in keys],
    )


def probe_media(ctx: JobContext, path: Path) -> ffmpeg.MediaProbe:
    try:
        return ffmpeg.probe(path, timeout=min(ctx.timeout, 60))
    except ffmpeg.MediaError as exc:
        raise media_failure(exc) from None


def _upload_hls(ctx: JobContext, bucket: str, key: str, work: Path) -> list[tuple[str, StoredObject]]:
    directory = key.rpartition("/")[0]
    written = [(key, put_output(ctx, bucket, key, work / "index.m3u8"))]
    for segment in sorted(work.glob("*.ts")):
        segment_key = f"{directory}/{segment.name}" if directory else segment.name
        written.append((segment_key, put_output(ctx, bucket, segment_key, segment)))
    return written


def _run_transcode(ctx: JobContext, parameters: Transcode, template: str, bucket: str) -> tuple[Tree, str]:
    """Transcode the job's input with ``parameters`` to ``template``; (result tree, output key)."""
    stored = input_object(ctx, ctx.request.input.object)
    probe = probe_media(ctx, stored.path)
    spec, ext = _spec(parameters, probe)
    key = expand_output(template, job_id=ctx.job_id, input_key=stored.key, ext=ext)
    ctx.report(10)
    try:
        if spec.muxer == "hls":
            work = Path(tempfile.mkdtemp(dir=ctx.work_dir))
            stem = key.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            hls = ("-hls_time", "4", "-hls_playlist_type", "vod", "-hls_segment_filename", str(work / f"{stem}-%d.ts"))
            ffmpeg.transcode(stored.path, work / "index.m3u8", replace(spec, extra=hls), timeout=ctx.timeout)
            out_probe = probe_media(ctx, work / "index.m3u8")
            written = _upload_hls(ctx, bucket, key, work)
        else:
            scratch = ctx.scratch()
            ffmpeg.transcode(stored.path, scratch, spec, timeout=ctx.timeout)
            out_probe = probe_media(ctx, scratch)
            written = [(key, put_output(ctx, bucket, key, scratch))]
    except ffmpeg.MediaError as exc:
        raise media_failure(exc) from None
    region = ctx.request.operation.output.region or ctx.region
    info = media_info(out_probe, sum(stored.size for _, stored in written))
    return finish_outputs(ctx, bucket, region, written, info=info), key


def _template(template_id: str | None) -> tuple[str, Transcode]:
    return TRANSCODE_TEMPLATES.get(template_id or "", DEFAULT_TEMPLATE)


def transcode(ctx: JobContext) -> Tree:
    request: TranscodeJobRequest = ctx.request
    operation = request.operation
    bucket, _region, template = output_target(ctx, operation.output)
    if operation.template_id:
        name, parameters = _template(operation.template_id)
        tree, _ = _run_transcode(ctx, parameters, template, bucket)
        return {**tree, "TemplateName": name}
    tree, _ = _run_transcode(ctx, operation.transcode or Transcode(), template, bucket)
    return tree


def enhance(ctx: JobContext) -> Tree:
    """VideoEnhance and SuperResolution: a real transcode (SR doubles the size); the enhancement is not modelled."""
    request: VideoEnhanceJobRequest | SuperResolutionJobRequest = ctx.request
    operation = request.operation
    bucket, _region, template = output_target(ctx, operation.output)
    name, parameters = _template(getattr(operation, "transcode_template_id", None) or operation.template_id)
    inline = getattr(operation, "transcode", None) or getattr(
        getattr(operation, "video_enhance", None), "transcode", None
    )
    parameters = inline or parameters
    if isinstance(request, SuperResolutionJobRequest):
        stored = input_object(ctx, request.input.object)
        source = probe_media(ctx, stored.path).video
        if source and source.width and source.height:
            video = (parameters.video or Video()).model_copy(
                update={"width": source.width * 2, "height": source.height * 2}
            )
            parameters = parameters.model_copy(update={"video": video})
    tree, _ = _run_transcode(ctx, parameters, template, bucket)
    return {**tree, "TemplateName": name} if operation.template_id else tree


def quality_estimate(ctx: JobContext) -> Tree:
    """A deterministic score from resolution, frame rate and audio presence (0-10, >= 6 is good)."""
    request: QualityEstimateJobRequest = ctx.request
    stored = input_object(ctx, request.input.object)
    probe = probe_media(ctx, stored.path)
    video = probe.video
    short = min(video.width or 0, video.height or 0) if video else 0
    score = (
        0.0
        if video is None
        else min(10.0, 3.0 + 6.0 * min(short, 1080) / 1080 + (1.0 if (video.fps or 0) >= 24 else 0.0))
    )
    estimate = QualityEstimate(score=round(score, 2))
    config = request.operation.quality_estimate_config if request.operation else None
    if config and config.mode == "vqaPlus":
        estimate = QualityEstimate(
            score=estimate.score, vqa_plus_result=VqaPlusResult(no_audio=probe.audio is None, no_video=video is None)
        )
    return {"QualityEstimate": wire_tree(estimate), "MediaInfo": wire_tree(media_info(probe, stored.size))}


def finish_outputs(
    ctx: JobContext,
    bucket: str,
    region: str,
    written: list[tuple[str, StoredObject]],
    prefix: str = "",
    *,
    described: Path | None = None,
    info: MediaInfo | None = None,
) -> Tree:
    """``MediaInfo`` (``info``, else ffmpeg's of ``described``, default the first output) and ``MediaResult`` of
    what the job wrote."""
    if info is None:
        info = media_info(probe_media(ctx, described or written[0][1].path), sum(stored.size for _, stored in written))
    return {"MediaInfo": wire_tree(info), "MediaResult": media_result(bucket, region, written, prefix)}


def media_result(bucket: str, region: str, written: list[tuple[str, StoredObject]], prefix: str = "") -> Tree:
    """The ``MediaResult`` element naming the objects the job wrote."""
    return wire_tree(MediaResult(output_file=output_file_of(bucket, region, written, prefix)))
