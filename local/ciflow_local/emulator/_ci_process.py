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

Refused with ``501 NotImplemented``: ``qrcode-generate`` (no QR encoder is installed) and ``doc-preview`` (no
office renderer; an image standing in for a page would be a lie).

Answers are plain data (``_answers.Answer``, or a ``Refusal`` for CI's errors); the COS host makes the response.
"""

from __future__ import annotations

import posixpath
import re
import tempfile
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

from ciflow.codec import tree_to_xml
from ciflow.signing import Credentials, cos_authorization, cos_key_time

from ._answers import Answer, CiAnswer, Refusal
from ._app import DEFAULT_CREDENTIALS
from ._storage import ObjectStore, StoredObject
from .workers import ffmpeg as media
from .workers import media_info, wire_tree

if TYPE_CHECKING:
    from ._app import Target

__all__ = ["CI_PROCESSES", "SERVICE_OF", "sync_ci_process"]

#: ci-process -> the CI service it needs activated for the bucket.
SERVICE_OF = {
    "videoinfo": "media",
    "snapshot": "media",
    "pm3u8": "media",
    "zippreview": "file",
    "doc-preview": "doc",
    "qrcode-generate": "pic",
}
CI_PROCESSES = frozenset(SERVICE_OF)
_REFUSED = {
    "qrcode-generate": "qrcode-generate needs a QR code encoder, which this emulator does not have",
    "doc-preview": "doc-preview needs an office document renderer, which this emulator does not have",
}
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
    params = target.params
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
