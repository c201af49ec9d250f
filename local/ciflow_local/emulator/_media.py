"""Media primitives for the workers: ffmpeg runs and probes, Pillow images, PDF pages; failures as MediaError."""

from __future__ import annotations

import functools
import re
import subprocess
import threading
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

__all__ = [
    "MediaError",
    "VideoStream",
    "AudioStream",
    "MediaProbe",
    "TranscodeSpec",
    "ImageRule",
    "ImageResult",
    "ffmpeg_exe",
    "run_ffmpeg",
    "probe",
    "transcode",
    "snapshot",
    "animation",
    "parse_image_rule",
    "transform_image",
    "process_image",
    "image_info",
    "pdf_page_count",
    "render_pdf_pages",
    "render_text_pages",
    "save_image",
]

#: Images larger than this many pixels are refused rather than decoded (Pillow's bomb guard, made explicit).
MAX_IMAGE_PIXELS = 64_000_000
_TEXT_PAGE = (794, 1123)  # A4 at 96 dpi, what CI's default ImageDpi renders
_TEXT_MARGIN = 48
_TEXT_LINE = 20
_PDF_LOCK = threading.Lock()  # PDFium is not thread-safe: one render at a time across the worker pool


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


# --------------------------------------------------------------------------------------------------
# Images (Pillow): the imageMogr2 / imageView2 subset CI's thumbnails use
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageRule:
    """A parsed processing rule: a fit box (``!``: exact, ``p``: percent), rotation, format and quality."""

    width: int | None = None
    height: int | None = None
    percent: float | None = None
    exact: bool = False
    shrink_only: bool = False
    rotate: int = 0
    image_format: str | None = None
    quality: int | None = None


_THUMB = re.compile(r"^(?:!(?P<pct>\d+(?:\.\d+)?)p|(?P<w>\d*)x(?P<h>\d*)(?P<flag>[!>r<]?)|(?P<only>\d+))$")
_FORMATS = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "gif": "GIF", "bmp": "BMP"}


def _thumbnail_rule(value: str) -> dict[str, object]:
    match = _THUMB.match(value)
    if match is None:
        raise MediaError("InvalidArgument", f"unsupported thumbnail parameter {value!r}")
    if match.group("pct"):
        return {"percent": float(match.group("pct"))}
    if match.group("only"):
        return {"width": int(match.group("only"))}
    width, height = match.group("w"), match.group("h")
    return {
        "width": int(width) if width else None,
        "height": int(height) if height else None,
        "exact": match.group("flag") == "!",
        "shrink_only": match.group("flag") == ">",
    }


def _view2_rule(parts: list[str]) -> dict[str, object]:
    values = dict(zip(parts[1::2], parts[2::2], strict=False))
    found: dict[str, object] = {}
    if values.get("w", "").isdigit():
        found["width"] = int(values["w"])
    if values.get("h", "").isdigit():
        found["height"] = int(values["h"])
    if parts and parts[0] == "1" and "width" in found and "height" in found:
        found["exact"] = True
    for name in ("format", "q"):
        if name in values:
            found["image_format" if name == "format" else "quality"] = values[name]
    return found


def parse_image_rule(rule: str) -> ImageRule:
    """``imageMogr2/thumbnail/320x320/format/png/quality/80/rotate/90`` (or ``imageView2/2/w/320``) as an ImageRule.

    Pipelines joined with ``|`` apply left to right as one rule; unknown operations are ignored.
    """
    fields: dict[str, object] = {}
    for step in filter(None, rule.split("|")):
        parts = [part for part in step.split("/") if part]
        if not parts:
            continue
        if parts[0] == "imageView2":
            fields.update(_view2_rule(parts[1:]))
            continue
        if parts[0] != "imageMogr2":
            raise MediaError("InvalidArgument", f"unsupported processing rule {step!r}")
        for name, value in zip(parts[1::2], parts[2::2], strict=False):
            if name == "thumbnail":
                fields.update(_thumbnail_rule(value))
            elif name == "rotate" and value.lstrip("-").isdigit():
                fields["rotate"] = int(value) % 360
            elif name == "format":
                fields["image_format"] = value.lower()
            elif name == "quality" and value.isdigit():
                fields["quality"] = int(value)
    image_format = fields.get("image_format")
    if image_format is not None and str(image_format).lower() not in _FORMATS:
        raise MediaError("InvalidArgument", f"unsupported output format {image_format!r}")
    if "quality" in fields:
        fields["quality"] = max(1, min(100, int(str(fields["quality"]))))
    return ImageRule(**fields)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ImageResult:
    format: str
    width: int
    height: int
    size: int
    quality: int | None


def _open(path: Path) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(path)
            if image.width * image.height > MAX_IMAGE_PIXELS:
                image.close()
                raise MediaError("ImageTooLarge", f"{image.width}x{image.height} is over {MAX_IMAGE_PIXELS} pixels")
            image.load()
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise MediaError("ImageTooLarge", str(exc)) from None
        except (OSError, SyntaxError, ValueError) as exc:
            raise MediaError("InvalidImage", f"not an image Pillow can read: {exc}") from None
    return image


def image_info(path: Path) -> tuple[str, int, int, int]:
    """(format, width, height, EXIF orientation) of an image."""
    with _open(path) as image:
        orientation = int(image.getexif().get(0x0112, 1) or 1)
        return (image.format or "unknown").lower(), image.width, image.height, orientation


def _resize(image: Image.Image, rule: ImageRule) -> Image.Image:
    width, height = image.size
    if rule.percent is not None:
        size = (max(1, round(width * rule.percent / 100)), max(1, round(height * rule.percent / 100)))
        return image.resize(size, Image.Resampling.LANCZOS)
    if rule.width is None and rule.height is None:
        return image
    if rule.exact and rule.width and rule.height:
        return image.resize((rule.width, rule.height), Image.Resampling.LANCZOS)
    box_w = rule.width or round(width * (rule.height or height) / height)
    box_h = rule.height or round(height * (rule.width or width) / width)
    scale = min(box_w / width, box_h / height)
    if rule.shrink_only and scale >= 1:
        return image
    return image.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.LANCZOS)


def save_image(image: Image.Image, target: Path, image_format: str, quality: int | None = None) -> ImageResult:
    """Write ``image`` as ``image_format`` (jpg, png, webp, gif, bmp); what was written."""
    pil_format = _FORMATS.get(image_format.lower(), "JPEG")
    if pil_format in ("JPEG", "BMP") and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    options: dict[str, object] = {}
    if pil_format in ("JPEG", "WEBP"):
        options["quality"] = quality or 85
    image.save(target, pil_format, **options)
    name = "jpg" if pil_format == "JPEG" else pil_format.lower()
    return ImageResult(name, image.width, image.height, target.stat().st_size, quality or options.get("quality"))  # type: ignore[arg-type]


def transform_image(image: Image.Image, rule: ImageRule) -> Image.Image:
    """``image`` resized and rotated as ``rule`` says (format and quality apply when saving)."""
    image = _resize(image, rule)
    return image.rotate(-rule.rotate, expand=True) if rule.rotate else image


def process_image(source: Path, target: Path, rule: ImageRule, default_format: str) -> ImageResult:
    """Apply ``rule`` to the image at ``source`` (EXIF orientation honoured) and write it to ``target``."""
    with _open(source) as opened:
        image = transform_image(ImageOps.exif_transpose(opened) or opened, rule)
        source_format = (opened.format or "").lower()
        fmt = rule.image_format or (source_format if source_format in _FORMATS else default_format)
        return save_image(image, target, fmt, rule.quality)


# --------------------------------------------------------------------------------------------------
# Documents: PDF pages through PDFium, plain text laid out on A4 pages
# --------------------------------------------------------------------------------------------------


def pdf_page_count(path: Path) -> int:
    """Pages in a PDF; ``MediaError`` for a file PDFium cannot open."""
    import pypdfium2  # type: ignore[import-untyped,unused-ignore]

    with _PDF_LOCK:
        try:
            document = pypdfium2.PdfDocument(str(path))
        except pypdfium2.PdfiumError as exc:
            raise MediaError("InvalidDocument", f"not a PDF PDFium can open: {exc}") from None
        try:
            return len(document)
        finally:
            document.close()


def render_pdf_pages(path: Path, pages: Sequence[int], *, dpi: int = 96) -> Iterator[tuple[int, Image.Image]]:
    """(page number, image) for each 1-based page of ``pages``, rendered at ``dpi``."""
    import pypdfium2  # type: ignore[import-untyped,unused-ignore]

    for number in pages:
        with _PDF_LOCK:
            document = pypdfium2.PdfDocument(str(path))
            try:
                page = document[number - 1]
                image = page.render(scale=dpi / 72).to_pil().convert("RGB")
                page.close()
            finally:
                document.close()
        yield number, image


def _wrap(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.replace("\r\n", "\n").split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if font.getlength(candidate) <= width or not line:
                line = candidate
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return lines


def render_text_pages(text: str) -> list[Image.Image]:
    """Plain text laid out on white A4 pages (at least one page)."""
    font = ImageFont.load_default(size=14)
    width, height = _TEXT_PAGE
    per_page = max(1, (height - 2 * _TEXT_MARGIN) // _TEXT_LINE)
    lines = _wrap(text, font, width - 2 * _TEXT_MARGIN)
    pages: list[Image.Image] = []
    for first in range(0, max(len(lines), 1), per_page):
        page = Image.new("RGB", _TEXT_PAGE, "white")
        draw = ImageDraw.Draw(page)
        for offset, line in enumerate(lines[first : first + per_page]):
            draw.text((_TEXT_MARGIN, _TEXT_MARGIN + offset * _TEXT_LINE), line, fill="black", font=font)
        pages.append(page)
    return pages
