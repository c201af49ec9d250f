"""ffmpeg for the workers and the synchronous ci-processes: runs, probes, transcodes, frames and animations;
failures as ``MediaError`` (whose ``code`` a job reports)."""

from __future__ import annotations

import functools
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "MediaError",
    "VideoStream",
    "AudioStream",
    "MediaProbe",
    "TranscodeSpec",
    "ffmpeg_exe",
    "run_ffmpeg",
    "parse_probe",
    "probe",
    "transcode",
    "snapshot",
    "animation",
]


class MediaError(Exception):
    """A media operation failed; ``code`` is what the job reports in ``Code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# --------------------------------------------------------------------------------------------------
# ffmpeg
# --------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """The ffmpeg binary that imageio-ffmpeg ships (no system ffmpeg needed)."""
    import imageio_ffmpeg  # type: ignore[import-untyped,unused-ignore]

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def run_ffmpeg(args: Sequence[str], *, timeout: float, check: bool = True) -> str:
    """Run ffmpeg with ``args``; its stderr (where it reports). ``MediaError`` on failure or timeout."""
    command = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", *args]
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)  # noqa: S603
    except subprocess.TimeoutExpired:
        raise MediaError("Timeout", f"ffmpeg did not finish within {timeout:g} s") from None
    stderr = done.stderr.decode("utf-8", errors="replace")
    if check and done.returncode != 0:
        last = [line for line in stderr.splitlines() if line.strip()][-1:] or ["no output"]
        raise MediaError("MediaProcessFailed", f"ffmpeg exited with {done.returncode}: {last[0][:300]}")
    return stderr


@dataclass(frozen=True)
class VideoStream:
    index: int
    codec: str
    width: int | None
    height: int | None
    fps: float | None
    pix_fmt: str | None
    bitrate_kbps: float | None


@dataclass(frozen=True)
class AudioStream:
    index: int
    codec: str
    sample_rate: int | None
    channels: int | None
    sample_fmt: str | None
    bitrate_kbps: float | None


@dataclass(frozen=True)
class MediaProbe:
    """What ``ffmpeg -i`` says about a file: container, duration and the first video/audio streams."""

    format_name: str
    duration: float | None
    start: float | None
    bitrate_kbps: float | None
    num_streams: int
    video: VideoStream | None = None
    audio: AudioStream | None = None
    streams: list[str] = field(default_factory=list)


_INPUT = re.compile(r"^Input #0, (?P<format>.+?), from ", re.MULTILINE)
_DURATION = re.compile(
    r"Duration: (?P<duration>N/A|(?P<h>\d+):(?P<m>\d+):(?P<s>\d+(?:\.\d+)?))"
    r"(?:, start: (?P<start>-?\d+(?:\.\d+)?))?(?:, bitrate: (?P<bitrate>\d+|N/A))?"
)
_STREAM = re.compile(
    r"^\s*Stream #0:(?P<index>\d+)\S*: (?P<kind>Video|Audio|Subtitle|Data): (?P<rest>.*)$", re.MULTILINE
)
_SIZE = re.compile(r"\b(\d{1,5})x(\d{1,5})\b")
_FPS = re.compile(r"([\d.]+)(k?) fps")
_KBPS = re.compile(r"(\d+(?:\.\d+)?) kb/s")
_HZ = re.compile(r"(\d+) Hz")
_CHANNELS = {"mono": 1, "stereo": 2, "2.1": 3, "quad": 4, "5.0": 5, "5.1": 6, "6.1": 7, "7.1": 8}


def _top_level_parts(text: str) -> list[str]:
    """Split ``a (b, c), d [e, f]`` on the commas outside brackets."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts


def _number(pattern: re.Pattern[str], text: str) -> float | None:
    match = pattern.search(text)
    return float(match.group(1)) if match else None


def _video_stream(index: int, rest: str) -> VideoStream:
    parts = _top_level_parts(rest)
    codec = parts[0].split()[0]
    pix_fmt = parts[1].split("(")[0].strip() if len(parts) > 1 and not _SIZE.search(parts[1]) else None
    size = next((m for m in (_SIZE.search(p) for p in parts[1:]) if m), None)
    fps_match = _FPS.search(rest)
    fps = float(fps_match.group(1)) * (1000 if fps_match.group(2) else 1) if fps_match else None
    return VideoStream(
        index,
        codec,
        int(size.group(1)) if size else None,
        int(size.group(2)) if size else None,
        fps,
        pix_fmt,
        _number(_KBPS, rest),
    )


def _audio_stream(index: int, rest: str) -> AudioStream:
    parts = _top_level_parts(rest)
    codec = parts[0].split()[0]
    channels: int | None = None
    sample_fmt: str | None = None
    for part in parts[1:]:
        word = part.split("(")[0].strip()
        if word in _CHANNELS:
            channels = _CHANNELS[word]
        elif word.endswith(" channels") and word.split()[0].isdigit():
            channels = int(word.split()[0])
        elif re.fullmatch(r"[a-z]{1,4}\d{0,2}p?", word) and "Hz" not in part:
            sample_fmt = word
    rate = _number(_HZ, rest)
    return AudioStream(index, codec, int(rate) if rate else None, channels, sample_fmt, _number(_KBPS, rest))


def parse_probe(stderr: str) -> MediaProbe:
    """Read ``ffmpeg -i``'s report (no ffprobe in imageio-ffmpeg); ``MediaError`` when it recognised nothing."""
    container = _INPUT.search(stderr)
    if container is None:
        reason = [line for line in stderr.splitlines() if line.strip()][-1:] or ["unreadable"]
        raise MediaError("InvalidMedia", f"not a media file ffmpeg can read: {reason[0][:200]}")
    duration = start = bitrate = None
    timing = _DURATION.search(stderr)
    if timing and timing.group("h") is not None:
        duration = int(timing.group("h")) * 3600 + int(timing.group("m")) * 60 + float(timing.group("s"))
    if timing and timing.group("start"):
        start = float(timing.group("start"))
    if timing and timing.group("bitrate") and timing.group("bitrate") != "N/A":
        bitrate = float(timing.group("bitrate"))
    video: VideoStream | None = None
    audio: AudioStream | None = None
    kinds: list[str] = []
    for match in _STREAM.finditer(stderr):
        index, kind, rest = int(match.group("index")), match.group("kind"), match.group("rest")
        kinds.append(kind)
        if kind == "Video" and video is None:
            video = _video_stream(index, rest)
        elif kind == "Audio" and audio is None:
            audio = _audio_stream(index, rest)
    return MediaProbe(container.group("format"), duration, start, bitrate, len(kinds), video, audio, kinds)


def probe(path: Path, *, timeout: float = 30.0) -> MediaProbe:
    """Container, duration and streams of a media file."""
    return parse_probe(run_ffmpeg(["-i", str(path)], timeout=timeout, check=False))


@dataclass(frozen=True)
class TranscodeSpec:
    """What one transcode writes: ffmpeg muxer and encoders (``None`` drops the stream) and their settings."""

    muxer: str
    video_codec: str | None = "libx264"
    audio_codec: str | None = "aac"
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    video_bitrate_kbps: int | None = None
    crf: float | None = None
    sample_rate: int | None = None
    channels: int | None = None
    audio_bitrate_kbps: int | None = None
    start: float | None = None
    duration: float | None = None
    extra: tuple[str, ...] = ()


_FAST = {
    "libx264": ("-preset", "veryfast", "-pix_fmt", "yuv420p"),
    "libx265": ("-preset", "ultrafast", "-pix_fmt", "yuv420p", "-x265-params", "log-level=error"),
    "libvpx": ("-deadline", "realtime", "-cpu-used", "8", "-pix_fmt", "yuv420p"),
    "libvpx-vp9": ("-deadline", "realtime", "-cpu-used", "8", "-row-mt", "1", "-pix_fmt", "yuv420p"),
    "libaom-av1": ("-cpu-used", "8", "-usage", "realtime", "-pix_fmt", "yuv420p"),
}


def _scale(width: int | None, height: int | None, even: bool) -> str | None:
    if not width and not height:
        return None
    keep = "-2" if even else "-1"
    return f"scale={width or keep}:{height or keep}"


def _time_args(start: float | None, duration: float | None) -> tuple[list[str], list[str]]:
    before = ["-ss", f"{start:g}"] if start else []
    after = ["-t", f"{duration:g}"] if duration else []
    return before, after


def transcode(source: Path, target: Path, spec: TranscodeSpec, *, timeout: float) -> None:
    """Transcode ``source`` into ``target`` as ``spec`` says (streams missing from the source are skipped)."""
    before, after = _time_args(spec.start, spec.duration)
    args = [*before, "-i", str(source), *after]
    if spec.video_codec:
        args += ["-map", "0:v:0?", "-c:v", spec.video_codec, *_FAST.get(spec.video_codec, ())]
        scale = _scale(spec.width, spec.height, even=spec.video_codec in _FAST)
        args += ["-vf", scale] if scale else []
        args += ["-r", f"{spec.fps:g}"] if spec.fps else []
        args += ["-b:v", f"{spec.video_bitrate_kbps}k"] if spec.video_bitrate_kbps else []
        args += ["-crf", f"{spec.crf:g}"] if spec.crf is not None and not spec.video_bitrate_kbps else []
    else:
        args += ["-vn"]
    if spec.audio_codec:
        args += ["-map", "0:a:0?", "-c:a", spec.audio_codec]
        args += ["-ar", str(spec.sample_rate)] if spec.sample_rate else []
        args += ["-ac", str(spec.channels)] if spec.channels else []
        args += ["-b:a", f"{spec.audio_bitrate_kbps}k"] if spec.audio_bitrate_kbps else []
    else:
        args += ["-an"]
    args += ["-movflags", "+faststart"] if spec.muxer in ("mp4", "mov") else []
    run_ffmpeg([*args, *spec.extra, "-f", spec.muxer, str(target)], timeout=timeout)
    if not target.exists() or target.stat().st_size == 0:
        raise MediaError("MediaProcessFailed", "ffmpeg wrote no output")


def snapshot(
    source: Path, target: Path, at: float, *, width: int | None, height: int | None, image_format: str, timeout: float
) -> None:
    """One frame at ``at`` seconds as a JPEG, PNG or WebP image."""
    codec, muxer = {"png": ("png", "image2"), "webp": ("libwebp", "webp")}.get(image_format, ("mjpeg", "image2"))
    args = ["-ss", f"{max(at, 0):.3f}", "-i", str(source), "-frames:v", "1", "-an"]
    scale = _scale(width, height, even=False)
    args += ["-vf", scale] if scale else []
    args += ["-q:v", "3"] if codec == "mjpeg" else []
    args += ["-update", "1"] if muxer == "image2" else []
    run_ffmpeg([*args, "-c:v", codec, "-f", muxer, str(target)], timeout=timeout)
    if not target.exists() or target.stat().st_size == 0:
        raise MediaError("MediaProcessFailed", f"no frame at {at:g} s")


def animation(
    source: Path,
    target: Path,
    *,
    image_format: str,
    width: int | None,
    height: int | None,
    fps: float,
    start: float | None,
    duration: float | None,
    timeout: float,
) -> None:
    """An animated GIF (palette per clip) or WebP of a clip of ``source``."""
    before, after = _time_args(start, duration)
    scale = _scale(width, height, even=False) or "scale=iw:ih"
    if image_format == "webp":
        filters = ["-vf", f"fps={fps:g},{scale}", "-c:v", "libwebp_anim", "-loop", "0", "-f", "webp"]
    else:
        graph = f"fps={fps:g},{scale}:flags=lanczos,split[a][b];[a]palettegen[p];[b][p]paletteuse"
        filters = ["-filter_complex", graph, "-loop", "0", "-f", "gif"]
    run_ffmpeg([*before, "-i", str(source), *after, "-an", *filters, str(target)], timeout=timeout)
    if not target.exists() or target.stat().st_size == 0:
        raise MediaError("MediaProcessFailed", "ffmpeg wrote no animation")
