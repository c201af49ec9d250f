"""Editing jobs over ffmpeg, all real: Concat, VideoMontage, Segment (remux, cut, HLS with AES-128), StreamExtract.

Templates: a job naming a stored template's ``TemplateId`` arrives with the template's parameters put inline by
the CI host (``ConcatTemplate``, ``VideoMontage``; ``_ci_admin``), so the workers read only the request. A splicing
template's fragments say where they go with ``Mode`` (``Start``: before the job's Input, ``End``: after it).
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ciflow.models.editing import (
    ConcatFragment,
    ConcatOperation,
    ConcatTemplate,
    EditingJobRequest,
    SegmentOperation,
    StreamExtractOperation,
    VideoMontage,
    VideoMontageOperation,
)
from ciflow.models.media import Audio, Container, Video

from .._storage import StoredObject
from . import ffmpeg
from .common import (
    JobContext,
    JobFailedError,
    Tree,
    expand_output,
    input_object,
    output_target,
    put_output,
    run_checked,
)
from .media import CONTAINERS, finish_outputs, media_result, parse_fps, probe_media

__all__ = [
    "concat",
    "video_montage",
    "segment",
    "stream_extract",
    "hls_key",
    "montage_scenes",
    "encode_args",
]

_VIDEO = {"h.264": "libx264", "h264": "libx264", "h.265": "libx265", "h265": "libx265", "hevc": "libx265"}
_AUDIO = {"aac": "aac", "mp3": "libmp3lame", "flac": "flac", "opus": "libopus"}
_PRESETS = {
    "libx264": ("-preset", "veryfast", "-pix_fmt", "yuv420p"),
    "libx265": ("-preset", "ultrafast", "-pix_fmt", "yuv420p", "-x265-params", "log-level=error"),
}
#: Segment formats -> (ffmpeg muxer, extension, audio encoder when the format holds audio only).
_SEGMENT_FORMATS: dict[str, tuple[str, str, str | None]] = {
    "mp4": ("mp4", "mp4", None),
    "ts": ("mpegts", "ts", None),
    "mkv": ("matroska", "mkv", None),
    "avi": ("avi", "avi", None),
    "aac": ("adts", "aac", "aac"),
    "mp3": ("mp3", "mp3", "libmp3lame"),
    "flac": ("flac", "flac", "flac"),
    "hls": ("hls", "m3u8", None),
    "m3u8": ("hls", "m3u8", None),
}


@dataclass(frozen=True)
class Clip:
    """One piece of a splice: a media file, the part of it to keep (seconds) and what ffmpeg saw in it."""

    path: Path
    start: float | None
    end: float | None
    probe: ffmpeg.MediaProbe


def encode_args(container: Container | None, video: Video | None, audio: Audio | None) -> tuple[list[str], str, str]:
    """ffmpeg output options (encoders, bitrates, rates, muxer) of CI's Container/Video/Audio; extension, muxer."""
    fmt = ((container.format if container else None) or "mp4").lower()
    if fmt not in CONTAINERS:
        raise JobFailedError("UnsupportedFormat", f"the emulator does not write {fmt!r} containers")
    muxer, ext, video_default, audio_default = CONTAINERS[fmt]
    video, audio = video or Video(), audio or Audio()
    args: list[str] = []
    if video_default and not video.remove:
        encoder = _VIDEO.get((video.codec or "").lower(), video_default)
        args += ["-c:v", encoder, *_PRESETS.get(encoder, ())]
        bitrate = video.bitrate or ""
        args += ["-b:v", f"{int(float(bitrate))}k"] if bitrate.replace(".", "", 1).isdigit() else []
    else:
        args += ["-vn"]
    if audio_default and not audio.remove:
        args += ["-c:a", _AUDIO.get((audio.codec or "").lower(), audio_default)]
        args += ["-ar", str(audio.samplerate)] if audio.samplerate else []
        args += ["-ac", str(min(audio.channels, 2))] if audio.channels else []
        args += ["-b:a", f"{audio.bitrate}k"] if audio.bitrate else []
    else:
        args += ["-an"]
    args += ["-movflags", "+faststart"] if muxer in ("mp4", "mov") else []
    return [*args, "-f", muxer], ext, muxer


def _size(video: Video | None, first: ffmpeg.MediaProbe) -> tuple[int, int]:
    width = (video.width if video else None) or (first.video.width if first.video else None) or 320
    height = (video.height if video else None) or (first.video.height if first.video else None) or 240
    return width + width % 2, height + height % 2


def _splice(
    ctx: JobContext, clips: list[Clip], target: Path, params: tuple[Container | None, Video | None, Audio | None]
) -> None:
    """Re-encode ``clips`` one after the other: each scaled/padded to one size and frame rate, audio if all have it."""
    container, video, audio = params
    width, height = _size(video, clips[0].probe)
    fps = parse_fps(video.fps if video else None) or (clips[0].probe.video.fps if clips[0].probe.video else None) or 25
    with_audio = all(clip.probe.audio for clip in clips) and not (audio and audio.remove)
    inputs: list[str] = []
    graph: list[str] = []
    for number, clip in enumerate(clips):
        inputs += ["-ss", f"{clip.start:g}"] if clip.start else []
        inputs += ["-t", f"{clip.end - (clip.start or 0):g}"] if clip.end else []
        inputs += ["-i", str(clip.path)]
        graph.append(
            f"[{number}:v]scale={width}:{height}:force_original_aspect_ratio=decrease,"
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps={fps:g},format=yuv420p[v{number}]"
        )
        if with_audio:
            graph.append(f"[{number}:a]aresample=44100,aformat=channel_layouts=stereo[a{number}]")
    streams = "".join(f"[v{n}]" + (f"[a{n}]" if with_audio else "") for n in range(len(clips)))
    graph.append(f"{streams}concat=n={len(clips)}:v=1:a={int(with_audio)}[v]" + ("[a]" if with_audio else ""))
    maps = ["-map", "[v]", *(["-map", "[a]"] if with_audio else [])]
    output, _, _ = encode_args(container, video, audio if with_audio else Audio(remove=True))
    run_checked(ctx, [*inputs, "-filter_complex", ";".join(graph), *maps, *output, str(target)], target)


# --------------------------------------------------------------------------------------------------
# Concat
# --------------------------------------------------------------------------------------------------


def _fragment_object(ctx: JobContext, fragment: ConcatFragment) -> StoredObject:
    """The object a fragment's ``Url`` names: ``<bucket>.cos.<region>…/<key>`` or any URL whose path is the key."""
    parts = urlsplit(fragment.url or "")
    host_bucket = parts.hostname.split(".cos.", 1)[0] if parts.hostname and ".cos." in parts.hostname else None
    key = unquote(parts.path).lstrip("/") if parts.scheme else (fragment.url or "").lstrip("/")
    bucket = host_bucket or ctx.bucket
    found = ctx.store.head(bucket, key) if key else None
    if found is None:
        raise JobFailedError("InvalidArgument", f"ConcatFragment.Url {fragment.url!r} is not an object of the bucket")
    return found


def _concat_clips(ctx: JobContext, request: EditingJobRequest, params: ConcatTemplate) -> list[Clip]:
    """The fragments in ``FragmentIndex`` order (ties: document order); the job's Input at ``Index`` (default 0),
    or, for a template's fragments, after those whose ``Mode`` is ``Start`` and before the ``End`` ones."""
    modes = [str((fragment.model_extra or {}).get("Mode", "")).lower() for fragment in params.concat_fragment]
    ordered = sorted(
        enumerate(params.concat_fragment),
        key=lambda item: (modes[item[0]] == "end", item[1].fragment_index or 0, item[0]),
    )
    pieces = [(_fragment_object(ctx, fragment), fragment.start_time, fragment.end_time) for _, fragment in ordered]
    at = modes.count("start") if any(modes) else params.index or 0
    if request.input is not None and request.input.object:
        stored = input_object(ctx, request.input.object)
        pieces.insert(min(max(at, 0), len(pieces)), (stored, None, None))
    if len(pieces) < 2:
        raise JobFailedError("InvalidArgument", "a Concat job needs at least two pieces (fragments and Input)")
    return [Clip(stored.path, start, end, probe_media(ctx, stored.path)) for stored, start, end in pieces]


def _direct_concat(ctx: JobContext, clips: list[Clip], target: Path, muxer: str) -> None:
    """Stream copy through ffmpeg's concat demuxer (``inpoint``/``outpoint`` for the cuts)."""
    listing = ctx.scratch(".txt")
    lines = []
    for clip in clips:
        lines.append("file '" + str(clip.path).replace("'", "'\\''") + "'")
        lines += [f"inpoint {clip.start:g}"] if clip.start else []
        lines += [f"outpoint {clip.end:g}"] if clip.end else []
    listing.write_text("\n".join(lines) + "\n")
    movflags = ["-movflags", "+faststart"] if muxer in ("mp4", "mov") else []
    run_checked(
        ctx,
        ["-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", *movflags, "-f", muxer, str(target)],
        target,
    )


def concat(ctx: JobContext) -> Tree:
    """Splice the fragments (and Input) in order: re-encoded to the container/codecs, or copied (``DirectConcat``)."""
    request: EditingJobRequest = ctx.request
    operation: ConcatOperation = request.operation  # type: ignore[assignment]
    bucket, region, template = output_target(ctx, operation.output)
    params = operation.concat_template or ConcatTemplate()
    clips = _concat_clips(ctx, request, params)
    ctx.report(10)
    _, ext, muxer = encode_args(params.container, None, None)
    input_key = request.input.object if request.input and request.input.object else ""
    key = expand_output(template, job_id=ctx.job_id, input_key=input_key, ext=ext)
    scratch = ctx.scratch("." + ext)
    if params.direct_concat:
        _direct_concat(ctx, clips, scratch, muxer)
    else:
        _splice(ctx, clips, scratch, (params.container, params.video, params.audio))
    return finish_outputs(ctx, bucket, region, [(key, put_output(ctx, bucket, key, scratch))])


# --------------------------------------------------------------------------------------------------
# VideoMontage
# --------------------------------------------------------------------------------------------------


def montage_scenes(duration: float, length: float, count: int = 4) -> list[tuple[float, float]]:
    """``count`` evenly spaced scenes of the media, ``length`` seconds in all, each centred in its share."""
    if length >= duration:
        return [(0.0, duration)]
    share, piece = duration / count, length / count
    return [
        (round(n * share + (share - piece) / 2, 3), round(n * share + (share + piece) / 2, 3)) for n in range(count)
    ]


def video_montage(ctx: JobContext) -> Tree:
    """A montage: evenly spaced scenes cut to ``Duration`` (default half the input), re-encoded to the container."""
    request: EditingJobRequest = ctx.request
    operation: VideoMontageOperation = request.operation  # type: ignore[assignment]
    bucket, region, template = output_target(ctx, operation.output)
    params = operation.video_montage or VideoMontage()
    stored = input_object(ctx, request.input.object if request.input else None)
    probe = probe_media(ctx, stored.path)
    if probe.video is None or not probe.duration:
        raise JobFailedError("InvalidMedia", "the input has no video to make a montage of")
    scenes = montage_scenes(probe.duration, params.duration or probe.duration / 2)
    clips = [Clip(stored.path, start, end, probe) for start, end in scenes]
    _, ext, _ = encode_args(params.container, params.video, params.audio)
    key = expand_output(template, job_id=ctx.job_id, input_key=stored.key, ext=ext)
    scratch = ctx.scratch("." + ext)
    ctx.report(10)
    _splice(ctx, clips, scratch, (params.container, params.video, params.audio))
    return finish_outputs(ctx, bucket, region, [(key, put_output(ctx, bucket, key, scratch))])


# --------------------------------------------------------------------------------------------------
# Segment
# --------------------------------------------------------------------------------------------------


def hls_key(uri_key: str) -> bytes:
    """The emulator's AES-128 key of an encrypted HLS output: derived from ``UriKey``, so a test can decrypt."""
    return hashlib.sha256(b"ciflow-emulator-hls:" + uri_key.encode()).digest()[:16]


def _hls_args(operation: SegmentOperation, work: Path, stem: str) -> list[str]:
    params = operation.segment
    assert params is not None
    args = ["-hls_time", f"{params.duration or 5:g}", "-hls_playlist_type", "vod"]
    args += ["-hls_segment_filename", str(work / f"{stem}-%d.ts")]
    encrypt = params.hls_encrypt
    if encrypt is not None and (encrypt.is_hls_encrypt or encrypt.is_encrypt):
        uri = encrypt.uri_key or "emulator-hls.key"
        key_file = work / "aes.key"
        key_file.write_bytes(hls_key(uri))
        info = work / "key-info.txt"
        info.write_text(f"{uri}\n{key_file}\n")
        args += ["-hls_key_info_file", str(info)]
    return args


def _numbered_prefix(template: str) -> int:
    return min((template.find(w) for w in ("${Number}", "${number}") if w in template), default=-1)


def segment(ctx: JobContext) -> Tree:
    """Remux to ``Format`` (stream copy; audio formats re-encode the audio), cut every ``Duration`` s into
    ``${Number}`` objects (segment muxer); hls/m3u8: a playlist and .ts segments, AES-128 with ``HlsEncrypt``."""
    request: EditingJobRequest = ctx.request
    operation: SegmentOperation = request.operation  # type: ignore[assignment]
    params = operation.segment
    if params is None or not params.format:
        raise JobFailedError("InvalidArgument", "Operation.Segment.Format is required")
    fmt = params.format.lower()
    if fmt not in _SEGMENT_FORMATS:
        raise JobFailedError("InvalidArgument", f"Segment.Format {params.format!r} is not supported")
    muxer, ext, audio_encoder = _SEGMENT_FORMATS[fmt]
    bucket, region, template = output_target(ctx, operation.output)
    stored = input_object(ctx, request.input.object if request.input else None)
    streams = ["-map", f"0:{params.transcode_index}"] if params.transcode_index else ["-map", "0"]
    codecs = ["-vn", "-c:a", audio_encoder] if audio_encoder else ["-c", "copy"]
    work = Path(tempfile.mkdtemp(dir=ctx.work_dir))
    ctx.report(10)
    if muxer == "hls":
        key = expand_output(template, job_id=ctx.job_id, input_key=stored.key, ext=ext)
        stem = key.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        hls = _hls_args(operation, work, stem)
        run_checked(
            ctx,
            ["-i", str(stored.path), *streams, *codecs, *hls, "-f", "hls", str(work / "index.m3u8")],
            work / "index.m3u8",
        )
        directory = key.rpartition("/")[0]
        written = [(key, put_output(ctx, bucket, key, work / "index.m3u8"))]
        for piece in sorted(work.glob("*.ts"), key=lambda path: int(path.stem.rsplit("-", 1)[-1])):
            piece_key = f"{directory}/{piece.name}" if directory else piece.name
            written.append((piece_key, put_output(ctx, bucket, piece_key, piece)))
        # An encrypted playlist does not open without its key server: the remuxed streams are the input's.
        return finish_outputs(ctx, bucket, region, written, described=stored.path)
    if not params.duration:
        key = expand_output(template, job_id=ctx.job_id, input_key=stored.key, ext=ext, number=0)
        target = work / f"out.{ext}"
        run_checked(ctx, ["-i", str(stored.path), *streams, *codecs, "-f", muxer, str(target)], target)
        return finish_outputs(ctx, bucket, region, [(key, put_output(ctx, bucket, key, target))])
    marker = _numbered_prefix(template)
    if marker < 0:
        raise JobFailedError("InvalidArgument", "Output.Object must contain ${Number} when Segment.Duration is set")
    cut = ["-f", "segment", "-segment_time", f"{params.duration:g}", "-segment_format", muxer, "-reset_timestamps", "1"]
    run_checked(ctx, ["-i", str(stored.path), *streams, *codecs, *cut, str(work / f"%d.{ext}")], work / f"0.{ext}")
    written = []
    for number in range(len(list(work.glob(f"*.{ext}")))):
        key = expand_output(template, job_id=ctx.job_id, input_key=stored.key, ext=ext, number=number)
        written.append((key, put_output(ctx, bucket, key, work / f"{number}.{ext}")))
    prefix = expand_output(template[:marker], job_id=ctx.job_id, input_key=stored.key)
    return finish_outputs(ctx, bucket, region, written, prefix)


# --------------------------------------------------------------------------------------------------
# StreamExtract
# --------------------------------------------------------------------------------------------------


def stream_extract(ctx: JobContext) -> Tree:
    """Each ``Output.StreamExtract`` item: stream ``Index`` copied alone (``-map 0:<index> -c copy``) to its object."""
    request: EditingJobRequest = ctx.request
    operation: StreamExtractOperation = request.operation  # type: ignore[assignment]
    output = operation.output
    items = output.stream_extract if output is not None else []
    if output is None or not items or len(items) > 10:
        raise JobFailedError("InvalidArgument", "Operation.Output.StreamExtract takes 1 to 10 streams")
    bucket, region = output.bucket or ctx.bucket, output.region or ctx.region
    stored = input_object(ctx, request.input.object if request.input else None)
    probe = probe_media(ctx, stored.path)
    written = []
    for number, item in enumerate(items):
        template = item.object or item.output
        if item.index is None or not 0 <= item.index < probe.num_streams or not template:
            raise JobFailedError("InvalidArgument", f"StreamExtract {number}: no stream {item.index} or no Object")
        key = expand_output(template, job_id=ctx.job_id, input_key=stored.key)
        suffix = "." + key.rsplit(".", 1)[-1] if "." in key.rsplit("/", 1)[-1] else ".mkv"
        target = ctx.scratch(suffix)
        run_checked(ctx, ["-i", str(stored.path), "-map", f"0:{item.index}", "-c", "copy", str(target)], target)
        written.append((key, put_output(ctx, bucket, key, target)))
        ctx.report(100 * (number + 1) // len(items))
    return {"MediaResult": media_result(bucket, region, written)}
