"""``GET /<key>?ci-process=doc-preview``: a document's page rendered for real, for the sources an open tool can
honestly render — PDF (PDFium, ``pypdfium2``) and plain text (laid out on white A4 pages by Pillow, as the document
jobs do). Office formats (Word, PowerPoint, Excel, WPS, RTF, CSV) and HTML need an office or web renderer this
emulator does not have: ``501 NotImplemented``.

The source type is ``srcType`` or the key's extension. ``dstType``:

- ``png``/``jpg`` (anything unrecognised is ``jpg``, as documented): page ``page`` (from 1) at ``imageDpi``
  (96-600) x ``scale`` % (10-200), ``quality`` (1-100) for JPEG, then ``ImageParams`` (the imageMogr2 subset of
  ``workers.imaging``; its ``format`` wins);
- ``pdf``: a PDF source as it is; text as a PDF of its rendered pages;
- ``txt``: a text source as it is; the page's text as PDFium extracts it from a PDF;
- ``html``: one self-contained HTML document — the text in ``<pre>``, or a PDF's pages as embedded JPEG images (at
  most ``MAX_HTML_PAGES``) — titled ``htmltitle`` (URL-safe Base64) or the key's name, with the ``htmlwaterword``
  watermark (``htmlfillstyle``, ``htmlfront``, ``htmlrotate``, ``htmlhorizontal``, ``htmlvertical``) as a repeated
  SVG background and ``copyable=0`` as ``user-select: none``. CI's own viewer is a JavaScript application; this is a
  static page of the same content.

Headers: ``X-Total-Page`` (the document's pages). Answers are ``_answers`` data.
"""

from __future__ import annotations

import base64
import binascii
import html
import io
import posixpath
from collections.abc import Mapping
from urllib.parse import quote

from PIL import Image

from ._answers import Answer, CiAnswer, Refusal
from ._storage import StoredObject
from .workers import imaging

__all__ = ["MAX_HTML_PAGES", "MAX_TEXT_BYTES", "OFFICE_TYPES", "TEXT_TYPES", "doc_preview"]

#: Plain-text sources CI lists ("Other files"), rendered as text.
TEXT_TYPES = frozenset(
    {"txt", "log", "lrc", "c", "cpp", "h", "asm", "s", "java", "asp", "bat", "bas", "prg", "cmd", "xml"}
)
#: Sources CI renders with an office (or web) engine: refused here.
OFFICE_TYPES = frozenset(
    {
        *("pptx", "ppt", "pot", "potx", "pps", "ppsx", "dps", "dpt", "pptm", "potm", "ppsm"),
        *("doc", "dot", "wps", "wpt", "docx", "dotx", "docm", "dotm", "rtf"),
        *("xls", "xlt", "et", "ett", "xlsx", "xltx", "csv", "xlsb", "xlsm", "xltm", "ets"),
        *("htm", "html"),
    }
)
MAX_TEXT_BYTES = 4 * 1024 * 1024
MAX_PDF_PAGES = 5000
MAX_HTML_PAGES = 100
_MAX_SOURCE = 200 * 1024 * 1024
_IMAGE_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif", "bmp": "image/bmp"}


class _RefusedError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def doc_preview(stored: StoredObject, params: Mapping[str, str]) -> CiAnswer:
    """The preview ``params`` ask for (blocking)."""
    try:
        return _preview(stored, params)
    except _RefusedError as refused:
        return Refusal(refused.status, refused.code, refused.message, "/" + stored.key)
    except imaging.MediaError as failed:
        status = 501 if failed.code == "NotImplemented" else 400
        return Refusal(status, failed.code, failed.message, "/" + stored.key)


def _whole(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = params.get(name, "")
    if text == "":
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise _RefusedError(400, "InvalidArgument", f"{name} must be a whole number from {low} to {high}")
    return int(text)


def _source_type(stored: StoredObject, params: Mapping[str, str]) -> str:
    src_type = (params.get("srcType") or posixpath.splitext(stored.key)[1].lstrip(".")).lower()
    if src_type in OFFICE_TYPES:
        raise _RefusedError(
            501, "NotImplemented", f"previewing {src_type} needs an office document renderer, which this emulator lacks"
        )
    if src_type != "pdf" and src_type not in TEXT_TYPES:
        raise _RefusedError(400, "InvalidArgument", f"source type {src_type or '(none)'} cannot be previewed")
    if stored.size > _MAX_SOURCE:
        raise _RefusedError(400, "InvalidArgument", f"documents over {_MAX_SOURCE} bytes are not previewed")
    if src_type != "pdf" and stored.size > MAX_TEXT_BYTES:
        raise _RefusedError(400, "InvalidArgument", f"text documents over {MAX_TEXT_BYTES} bytes are not previewed")
    return "pdf" if src_type == "pdf" else "txt"


def _preview(stored: StoredObject, params: Mapping[str, str]) -> Answer:
    source = _source_type(stored, params)
    text = stored.path.read_text("utf-8", errors="replace") if source == "txt" else ""
    text_pages = imaging.render_text_pages(text) if source == "txt" else []
    total = imaging.pdf_page_count(stored.path) if source == "pdf" else len(text_pages)
    if total > MAX_PDF_PAGES:
        raise _RefusedError(400, "InvalidArgument", f"documents over {MAX_PDF_PAGES} pages are not previewed")
    headers = {"X-Total-Page": str(total)}
    dst_type = (params.get("dstType") or "jpg").lower()
    if dst_type == "html":
        body = _html(stored, params, source, text, total)
        return Answer(body, "text/html; charset=utf-8", headers=headers)
    if dst_type == "pdf":
        if source == "pdf":
            return Answer(stored.path.read_bytes(), "application/pdf", headers=headers)
        out = io.BytesIO()
        text_pages[0].save(out, "PDF", save_all=True, append_images=text_pages[1:], resolution=96.0)
        return Answer(out.getvalue(), "application/pdf", headers=headers)
    page = _whole(params, "page", 1, 1, total)
    if dst_type == "txt":
        page_text = text if source == "txt" else imaging.pdf_page_text(stored.path, page)
        return Answer(page_text.encode(), "text/plain; charset=utf-8", headers=headers)
    image_format = "png" if dst_type == "png" else "jpg"
    quality = _whole(params, "quality", 100, 1, 100)
    scale = _whole(params, "scale", 100, 10, 200) / 100
    dpi = _whole(params, "imageDpi", 96, 96, 600)
    if source == "pdf":
        _, image = next(iter(imaging.render_pdf_pages(stored.path, [page], dpi=round(dpi * scale))))
    else:
        image = text_pages[page - 1]
        factor = dpi / 96 * scale
        if factor != 1:
            size = (max(1, round(image.width * factor)), max(1, round(image.height * factor)))
            image = image.resize(size, Image.Resampling.LANCZOS)
    if max(image.size) >= 65500:
        raise _RefusedError(400, "InvalidArgument", "the rendered page would be 65500 pixels or more wide")
    rule_text = params.get("ImageParams", "")
    if rule_text:
        rule = imaging.parse_image_rule(rule_text, strict=True)
        image = imaging.transform_image(image, rule)
        image_format = rule.image_format or image_format
        quality = rule.quality or quality
    out = io.BytesIO()
    pil_format = {"jpg": "JPEG", "jpeg": "JPEG"}.get(image_format, image_format.upper())
    if pil_format in ("JPEG", "BMP") and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.save(out, pil_format, **({"quality": quality} if pil_format in ("JPEG", "WEBP") else {}))
    name = "jpg" if pil_format == "JPEG" else pil_format.lower()
    return Answer(out.getvalue(), _IMAGE_TYPES.get(name, "application/octet-stream"), headers=headers)


def _b64_param(params: Mapping[str, str], name: str, default: str) -> str:
    text = params.get(name, "")
    if not text:
        return default
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _RefusedError(400, "InvalidArgument", f"{name} must be URL-safe Base64 of UTF-8 text") from None


def _watermark_css(params: Mapping[str, str]) -> str:
    word = _b64_param(params, "htmlwaterword", "")
    if not word:
        return ""
    fill = _b64_param(params, "htmlfillstyle", "rgba(192,192,192,0.6)")
    font = _b64_param(params, "htmlfront", "bold 20px Serif")
    rotate = _whole(params, "htmlrotate", 315, 0, 360)
    width = 200 + _whole(params, "htmlhorizontal", 50, 0, 10000)
    height = 100 + _whole(params, "htmlvertical", 100, 0, 10000)
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
        f'<text x="{width // 2}" y="{height // 2}" text-anchor="middle" fill="{html.escape(fill)}" '
        f'style="font: {html.escape(font)}" transform="rotate({rotate} {width // 2} {height // 2})">'
        f"{html.escape(word)}</text></svg>"
    )
    return f'.watermark {{ background-image: url("data:image/svg+xml,{quote(svg, safe="")}"); }}\n'


def _html(stored: StoredObject, params: Mapping[str, str], source: str, text: str, total: int) -> bytes:
    title = _b64_param(params, "htmltitle", posixpath.basename(stored.key))
    copyable = params.get("copyable", "1") != "0"
    if source == "txt":
        content = f"<pre>{html.escape(text)}</pre>"
    else:
        if total > MAX_HTML_PAGES:
            raise _RefusedError(
                400, "InvalidArgument", f"HTML previews hold at most {MAX_HTML_PAGES} pages: use a document job"
            )
        pages = []
        for number, image in imaging.render_pdf_pages(stored.path, list(range(1, total + 1))):
            out = io.BytesIO()
            image.save(out, "JPEG", quality=85)
            data = base64.b64encode(out.getvalue()).decode()
            pages.append(f'<img alt="page {number}" src="data:image/jpeg;base64,{data}">')
        content = "\n".join(pages)
    style = (
        "body { margin: 0; background: #f4f4f4; }\n"
        ".watermark { position: fixed; inset: 0; pointer-events: none; }\n"
        "main { max-width: 900px; margin: 0 auto; background: #fff; padding: 16px; }\n"
        "img { display: block; width: 100%; margin-bottom: 16px; }\n"
        "pre { white-space: pre-wrap; font-family: monospace; }\n"
        + ("" if copyable else "main { user-select: none; -webkit-user-select: none; }\n")
        + _watermark_css(params)
    )
    document = (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>\n{style}</style>\n</head>\n"
        f'<body>\n<main>\n{content}\n</main>\n<div class="watermark"></div>\n</body>\n</html>\n'
    )
    return document.encode()
