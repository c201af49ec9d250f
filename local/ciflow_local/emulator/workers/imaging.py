"""Pillow images (the imageMogr2 / imageView2 subset CI's thumbnails use) and document pages (PDF through PDFium,
plain text laid out on A4 pages) for the picture, document and moderation workers; failures as ``MediaError``."""

from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from .ffmpeg import MediaError

__all__ = [
    "MAX_IMAGE_PIXELS",
    "MediaError",
    "ImageRule",
    "ImageResult",
    "parse_image_rule",
    "transform_image",
    "process_image",
    "image_info",
    "average_colour",
    "frame_count",
    "pdf_page_count",
    "pdf_page_text",
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
    percent_w: float | None = None  # thumbnail/!<n>px: the width scaled, the height kept
    percent_h: float | None = None  # thumbnail/!<n>py
    flip: str | None = None  # "vertical" or "horizontal"
    grayscale: bool = False


_THUMB = re.compile(
    r"^(?:!(?P<pct>\d+(?:\.\d+)?)p(?P<axis>[xy]?)|(?P<w>\d*)x(?P<h>\d*)(?P<flag>[!>r<]?)|(?P<only>\d+))$"
)
#: imageMogr2 operations applied for real; with ``strict`` any other is refused (NotImplemented) rather than ignored.
_MOGR2_OPERATIONS = frozenset(
    {"thumbnail", "rotate", "format", "quality", "flip", "grayscale", "strip", "auto-orient", "ignore-error"}
)
_FORMATS = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "gif": "GIF", "bmp": "BMP"}


def _thumbnail_rule(value: str) -> dict[str, object]:
    match = _THUMB.match(value)
    if match is None:
        raise MediaError("InvalidArgument", f"unsupported thumbnail parameter {value!r}")
    if match.group("pct"):
        axis = match.group("axis")
        name = {"x": "percent_w", "y": "percent_h"}.get(axis, "percent")
        return {name: float(match.group("pct"))}
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


def parse_image_rule(rule: str, *, strict: bool = False) -> ImageRule:
    """``imageMogr2/thumbnail/320x320/format/png/quality/80/rotate/90`` (or ``imageView2/2/w/320``) as an ImageRule.

    Pipelines joined with ``|`` apply left to right as one rule; unknown operations are ignored, or with ``strict``
    refused (``MediaError`` ``NotImplemented``: what is not done must not look done).
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
            code = "NotImplemented" if strict else "InvalidArgument"
            raise MediaError(code, f"unsupported processing rule {step!r}")
        _mogr2_fields(parts[1:], fields, strict=strict)
    image_format = fields.get("image_format")
    if image_format is not None and str(image_format).lower() not in _FORMATS:
        raise MediaError("InvalidArgument", f"unsupported output format {image_format!r}")
    if "quality" in fields:
        fields["quality"] = max(1, min(100, int(str(fields["quality"]))))
    return ImageRule(**fields)  # type: ignore[arg-type]


def _mogr2_fields(parts: list[str], fields: dict[str, object], *, strict: bool) -> None:
    index = 0
    while index < len(parts):
        name = parts[index]
        if name in ("strip", "auto-orient"):  # no metadata is written; EXIF orientation is always applied
            index += 1
            continue
        if strict and name not in _MOGR2_OPERATIONS:
            raise MediaError("NotImplemented", f"imageMogr2/{name} is not implemented by this emulator")
        value = parts[index + 1] if index + 1 < len(parts) else ""
        index += 2
        if strict and not value:
            raise MediaError("InvalidArgument", f"imageMogr2/{name} needs a value")
        if name == "thumbnail":
            fields.update(_thumbnail_rule(value))
        elif name == "rotate" and value.lstrip("-").isdigit():
            fields["rotate"] = int(value) % 360
        elif name == "format":
            fields["image_format"] = value.lower()
        elif name == "quality" and value.isdigit():
            fields["quality"] = int(value)
        elif name == "flip" and value in ("vertical", "horizontal"):
            fields["flip"] = value
        elif name == "grayscale" and value in ("0", "1"):
            fields["grayscale"] = value == "1"
        elif strict and name != "ignore-error":
            raise MediaError("InvalidArgument", f"imageMogr2/{name}/{value} is not a valid parameter")


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


def frame_count(path: Path) -> int:
    """Frames of an image (1 for a still one)."""
    with _open(path) as image:
        return int(getattr(image, "n_frames", 1) or 1)


def average_colour(path: Path) -> str:
    """The image's mean colour as CI's ``Ave`` writes it: ``0xrrggbb`` (EXIF orientation does not matter)."""
    from PIL import ImageStat

    with _open(path) as image:
        red, green, blue = (round(value) for value in ImageStat.Stat(image.convert("RGB")).mean[:3])
    return f"0x{red:02x}{green:02x}{blue:02x}"


def _resize(image: Image.Image, rule: ImageRule) -> Image.Image:
    width, height = image.size
    if rule.percent is not None or rule.percent_w is not None or rule.percent_h is not None:
        scale_w = rule.percent if rule.percent is not None else (rule.percent_w or 100)
        scale_h = rule.percent if rule.percent is not None else (rule.percent_h or 100)
        size = (max(1, round(width * scale_w / 100)), max(1, round(height * scale_h / 100)))
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
    if rule.rotate:
        image = image.rotate(-rule.rotate, expand=True)
    if rule.flip == "vertical":
        image = ImageOps.flip(image)
    elif rule.flip == "horizontal":
        image = ImageOps.mirror(image)
    if rule.grayscale:
        image = image.convert("LA" if "A" in image.getbands() else "L")
    return image


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


def pdf_page_text(path: Path, number: int) -> str:
    """The text of the 1-based page ``number`` of a PDF, as PDFium extracts it."""
    import pypdfium2  # type: ignore[import-untyped,unused-ignore]

    with _PDF_LOCK:
        document = pypdfium2.PdfDocument(str(path))
        try:
            page = document[number - 1]
            textpage = page.get_textpage()
            text = str(textpage.get_text_range())
            textpage.close()
            page.close()
        finally:
            document.close()
    return text.replace("\r\n", "\n")


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
