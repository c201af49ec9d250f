"""Synchronous ``GET /<key>?ci-process=…`` operations a local machine can honestly do, on the COS host.

- ``videoinfo``: the object's ``<Response><MediaInfo>`` (container, first video and audio streams), read by
  ffmpeg from the object's bytes;
- ``snapshot``: one real frame at ``time`` seconds (``width``/``height``: 0 or absent keeps the aspect;
  ``format`` ``jpg`` or ``png``), the image as the body. ``mode=keyframe`` is served as ``exactframe`` (the frame
  at ``time``, not the keyframe before it) and ``rotate`` as ``auto`` (ffmpeg applies the rotation metadata);
- ``pm3u8``: the playlist with every segment (and ``#EXT-X-KEY``/``#EXT-X-MAP`` ``URI``) in the bucket replaced by
  a URL presigned for ``expires`` seconds (3600-43200), ``application/x-mpegURL``;
- ``zippreview``: a ZIP's entries (``FileNumber``, ``IsTruncated``, ``Contents`` with ``Key``, ``LastModified``,
  ``UncompressedSize``; at most 1000 listed), as the official Go SDK reads the answer.

- ``qrcode-generate`` (on the bucket, no key): a real QR code (``segno``) for ``qrcode-content``, ``width`` pixels
  square, as ``<Response><ResultImage>`` (Base64 PNG); ``mode=1`` (a barcode) is ``501 NotImplemented``;
- ``doc-preview``: a PDF's or a text's page, the document as PDF or text, or an HTML page of it (``_doc_preview``);
  Office sources are ``501 NotImplemented`` (no office renderer).

``generate_snapshot`` answers GenerateSnapshot (``POST /snapshot`` on the CI host): the same frame, written to the
request's ``Output`` object.

Refused with ``501 NotImplemented``: ``QRcode`` (recognising QR codes in an image needs a decoder; no well-kept
pure-Python one exists, and a fake answer would be a lie).

Answers are plain data (``_answers.Answer``, or a ``Refusal`` for CI's errors); the COS host makes the response.
"""

from __future__ import annotations

import base64
import io
import posixpath
import re
import tempfile
import time
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from ciflow.codec import tree_to_xml
from ciflow.signing import Credentials, cos_authorization, cos_key_time

from ._answers import Answer, CiAnswer, Refusal
from ._app import DEFAULT_CREDENTIALS
from ._doc_preview import doc_preview
from ._storage import ObjectStore, StoredObject
from .workers import ffmpeg as media
from .workers import media_info, wire_tree

if TYPE_CHECKING:
    from ._app import Target

__all__ = ["CI_PROCESSES", "SERVICE_OF", "generate_snapshot", "sync_ci_process"]

#: ci-process -> the CI service it needs activated for the bucket.
SERVICE_OF = {
    "videoinfo": "media",
    "snapshot": "media",
    "pm3u8": "media",
    "zippreview": "file",
    "doc-preview": "doc",
    "qrcode-generate": "pic",
    "QRcode": "pic",
}
CI_PROCESSES = frozenset(SERVICE_OF)
_REFUSED = {
    "QRcode": "recognising QR codes needs a QR code decoder, which this emulator does not have",
}
#: qrcode-generate's ``width`` bounds, in pixels.
QR_WIDTH = (1, 4096)
_QR_CONTENT_LIMIT = 4096
_PROBE_LIMIT = 4 * 1024 * 1024 * 1024
_PLAYLIST_LIMIT = 4 * 1024 * 1024
_ZIP_ENTRIES = 1000
_URI_ATTRIBUTE = re.compile(r'URI="([^"]*)"')
_TIMEOUT = 60.0


class _RefusedError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def sync_ci_process(
    store: ObjectStore, target: Target, scheme: str = "http", credentials: Credentials = DEFAULT_CREDENTIALS
) -> CiAnswer:
    """Answer one of ``CI_PROCESSES`` for ``target`` (blocking: run it in a thread)."""
    process = target.params.get("ci-process", "")
    try:
        if process in _REFUSED:
            raise _RefusedError(501, "NotImplemented", _REFUSED[process])
        if process == "qrcode-generate":
            return _qrcode_generate(target)
        stored = store.head(target.bucket, target.key) if target.key else None
        if stored is None:
            raise _RefusedError(404, "NoSuchKey", "The specified key does not exist.")
        if process == "videoinfo":
            return _video_info(stored)
        if process == "snapshot":
            return _snapshot(stored, target)
        if process == "pm3u8":
            return _pm3u8(stored, target, scheme, credentials)
        if process == "zippreview":
            return _zip_preview(stored)
        if process == "doc-preview":
            return doc_preview(stored, target.params)
        raise _RefusedError(400, "InvalidArgument", f"ci-process {process!r} is not supported here")
    except _RefusedError as refused:
        return Refusal(refused.status, refused.code, refused.message, "/" + target.key)
    except media.MediaError as failed:
        return Refusal(400, failed.code, failed.message, "/" + target.key)


def _video_info(stored: StoredObject) -> Answer:
    if stored.size > _PROBE_LIMIT:
        raise _RefusedError(400, "InvalidArgument", "the object is too large to probe here")
    info = media_info(media.probe(stored.path, timeout=_TIMEOUT), stored.size)
    body = tree_to_xml("Response", {"MediaInfo": wire_tree(info)})
    return Answer(body, "application/xml")


def _number(text: str | None, name: str, *, integer: bool = False) -> float | None:
    if text is None or text == "":
        return None
    try:
        value = float(int(text)) if integer else float(text)
    except ValueError:
        raise _RefusedError(400, "InvalidArgument", f"{name} must be a {'whole ' if integer else ''}number") from None
    if value < 0:
        raise _RefusedError(400, "InvalidArgument", f"{name} must not be negative")
    return value


def _snapshot(stored: StoredObject, target: Target) -> Answer:
    return _frame(stored, target.params)


def generate_snapshot(store: ObjectStore, target: Target, request: Mapping[str, Any]) -> CiAnswer:
    """``POST /snapshot`` on the CI host (GenerateSnapshot): the frame ``snapshot`` makes of ``Input.Object`` at
    ``Time`` (``Width``, ``Height``, ``Format``, ``Mode``, ``Rotate`` as its parameters), written to ``Output``
    (bucket and region default to the request's); answers ``<Response><Output>`` once written (blocking)."""
    try:
        source, output = request.get("Input"), request.get("Output")
        if not isinstance(source, dict) or not source.get("Object"):
            raise _RefusedError(400, "InvalidArgument", "Input.Object is required")
        if not isinstance(output, dict) or not output.get("Object"):
            raise _RefusedError(400, "InvalidArgument", "Output.Object is required")
        stored = store.head(target.bucket, str(source["Object"]).lstrip("/"))
        if stored is None:
            raise _RefusedError(404, "NoSuchKey", "The specified key does not exist.")
        names = ("Time", "Width", "Height", "Format", "Mode", "Rotate")
        params = {name.lower(): str(request[name]) for name in names if request.get(name) not in (None, "")}
        frame = _frame(stored, params)
        written = {
            "Region": str(output.get("Region") or target.region),
            "Bucket": str(output.get("Bucket") or target.bucket),
            "Object": str(output["Object"]).lstrip("/"),
        }
        store.put_bytes(written["Bucket"], written["Object"], frame.body, content_type=frame.media_type)
    except _RefusedError as refused:
        return Refusal(refused.status, refused.code, refused.message, "/snapshot")
    except media.MediaError as failed:
        return Refusal(400, failed.code, failed.message, "/snapshot")
    return Answer(tree_to_xml("Response", {"Output": written}), "application/xml")


def _frame(stored: StoredObject, params: Mapping[str, str]) -> Answer:
    at = _number(params.get("time"), "time")
    if at is None:
        raise _RefusedError(400, "InvalidArgument", "time is required")
    width = _number(params.get("width"), "width", integer=True)
    height = _number(params.get("height"), "height", integer=True)
    image_format = (params.get("format") or "jpg").lower()
    if image_format not in ("jpg", "png"):
        raise _RefusedError(400, "InvalidArgument", "format must be jpg or png")
    if params.get("mode", "exactframe") not in ("exactframe", "keyframe"):
        raise _RefusedError(400, "InvalidArgument", "mode must be exactframe or keyframe")
    if params.get("rotate", "auto") not in ("auto", "off"):
        raise _RefusedError(400, "InvalidArgument", "rotate must be auto or off")
    probe = media.probe(stored.path, timeout=_TIMEOUT)
    if probe.video is None:
        raise _RefusedError(400, "InvalidArgument", "the object has no video stream")
    if probe.duration is not None and at > probe.duration:
        raise _RefusedError(400, "InvalidArgument", f"time {at:g} is past the end ({probe.duration:g} s)")
    with tempfile.TemporaryDirectory(prefix="ci-snapshot-") as work:
        frame = Path(work) / f"frame.{image_format}"
        media.snapshot(
            stored.path,
            frame,
            at,
            width=int(width) if width else None,
            height=int(height) if height else None,
            image_format="png" if image_format == "png" else "jpg",
            timeout=_TIMEOUT,
        )
        body = frame.read_bytes()
    return Answer(body, "image/png" if image_format == "png" else "image/jpeg")


def _pm3u8(stored: StoredObject, target: Target, scheme: str, credentials: Credentials) -> Answer:
    expires_text = target.params.get("expires", "")
    if not expires_text.isdigit() or not 3600 <= int(expires_text) <= 43200:
        raise _RefusedError(400, "InvalidArgument", "expires must be a whole number of seconds from 3600 to 43200")
    if stored.size > _PLAYLIST_LIMIT:
        raise _RefusedError(400, "InvalidArgument", "the playlist is too large")
    text = stored.path.read_bytes().decode("utf-8", errors="replace")
    if not text.lstrip("\ufeff").startswith("#EXTM3U"):
        raise _RefusedError(400, "InvalidArgument", "the object is not an M3U8 playlist")
    host = f"{target.bucket}.cos.{target.region}.myqcloud.com"
    key_time = cos_key_time(time.time(), int(expires_text), backdate=0)
    base = posixpath.dirname(target.key)

    def signed(uri: str) -> str:
        parts = urlsplit(uri)
        if parts.scheme or parts.netloc:
            if parts.netloc != host:
                return uri  # another host's resource: CI signs only the bucket's own objects
            key = unquote(parts.path.lstrip("/"))
        else:
            key = posixpath.normpath(posixpath.join(base, unquote(parts.path))).lstrip("/")
        auth = cos_authorization(credentials, "GET", "/" + key, [], [("host", host)], key_time)
        return f"{scheme}://{host}/{quote(key, safe='/-_.~')}?{auth}"

    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            lines.append(signed(stripped))
        elif stripped.startswith(("#EXT-X-KEY", "#EXT-X-MAP")):
            lines.append(_URI_ATTRIBUTE.sub(lambda m: f'URI="{signed(m.group(1))}"', line))
        else:
            lines.append(line)
    body = ("\n".join(lines) + "\n").encode()
    return Answer(body, "application/x-mpegURL")


def _zip_preview(stored: StoredObject) -> Answer:
    try:
        with zipfile.ZipFile(stored.path) as archive:
            entries = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError):
        raise _RefusedError(400, "InvalidArgument", "the object is not a ZIP archive") from None
    contents = [
        {
            "Key": info.filename,
            "LastModified": "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}".format(*info.date_time),
            "UncompressedSize": str(info.file_size),
        }
        for info in entries[:_ZIP_ENTRIES]
    ]
    answer = {
        "FileNumber": str(len(entries)),
        "IsTruncated": "true" if len(entries) > _ZIP_ENTRIES else "false",
        "Contents": contents,
    }
    return Answer(tree_to_xml("Response", answer), "application/xml")


def _qrcode_generate(target: Target) -> Answer:
    import segno  # type: ignore[import-untyped,unused-ignore]
    from PIL import Image

    params = target.params
    if params.get("mode", "0") not in ("0", ""):
        if params.get("mode") == "1":
            raise _RefusedError(501, "NotImplemented", "barcodes (mode=1) need a barcode encoder this emulator lacks")
        raise _RefusedError(400, "InvalidArgument", "mode must be 0 (QR code) or 1 (barcode)")
    content = params.get("qrcode-content", "")
    if not content:
        raise _RefusedError(400, "InvalidArgument", "qrcode-content is required")
    if len(content.encode()) > _QR_CONTENT_LIMIT:
        raise _RefusedError(400, "InvalidArgument", f"qrcode-content is over {_QR_CONTENT_LIMIT} bytes")
    width_text = params.get("width", "")
    if not width_text.isdigit() or not QR_WIDTH[0] <= int(width_text) <= QR_WIDTH[1]:
        raise _RefusedError(400, "InvalidArgument", f"width must be a whole number from {QR_WIDTH[0]} to {QR_WIDTH[1]}")
    width = int(width_text)
    try:
        code = segno.make_qr(content)
    except segno.DataOverflowError:
        raise _RefusedError(400, "InvalidArgument", "qrcode-content does not fit in a QR code") from None
    rows = [bytes(0 if dark else 255 for dark in row) for row in code.matrix_iter(scale=1, border=4)]
    modules = Image.frombytes("L", (len(rows[0]), len(rows)), b"".join(rows))
    scale = max(1, -(-width // modules.width))  # whole modules first, then the exact width
    image = modules.resize((modules.width * scale, modules.height * scale), Image.Resampling.NEAREST)
    if image.width != width:
        image = image.resize((width, width), Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.save(out, "PNG")
    body = tree_to_xml("Response", {"ResultImage": base64.b64encode(out.getvalue()).decode()})
    return Answer(body, "application/xml")
