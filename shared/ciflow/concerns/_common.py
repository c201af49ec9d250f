"""What the concern planners share: media types by extension or content type, list settings, queue routing."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..events import ObjectRef
    from ..handlers import Delivery, UploadSettings

__all__ = [
    "IMAGE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "AUDIO_EXTENSIONS",
    "TEXT_EXTENSIONS",
    "DOCUMENT_EXTENSIONS",
    "SPREADSHEET_EXTENSIONS",
    "CONTENT_TYPE_EXTENSIONS",
    "MediaType",
    "classify",
    "comma_list",
    "require_own_bucket",
    "with_queue",
]

IMAGE_EXTENSIONS = frozenset({"jpg", "jpeg", "png", "gif", "bmp", "webp", "tif", "tiff", "heic", "heif", "avif"})
VIDEO_EXTENSIONS = frozenset(
    {"mp4", "mov", "m4v", "mkv", "avi", "flv", "wmv", "webm", "mpg", "mpeg", "3gp", "mts", "m2ts", "vob", "ogv"}
)
AUDIO_EXTENSIONS = frozenset({"mp3", "wav", "aac", "flac", "m4a", "ogg", "oga", "opus", "amr", "wma", "ape"})
TEXT_EXTENSIONS = frozenset({"txt"})
SPREADSHEET_EXTENSIONS = frozenset({"xls", "xlsx", "xlt", "xltx", "xlsb", "xlsm", "xltm", "et", "ett", "ets", "csv"})
#: What CI's document services (preview and moderation) read, spreadsheets included.
DOCUMENT_EXTENSIONS = SPREADSHEET_EXTENSIONS | frozenset(
    {
        "pdf",
        "doc", "docx", "dot", "dotx", "docm", "dotm", "wps", "wpt", "rtf",
        "ppt", "pptx", "pot", "potx", "pps", "ppsx", "pptm", "potm", "ppsm", "dps", "dpt",
    }
)  # fmt: skip

#: Content type (lower case, no parameters) -> the extension it stands for, used when the key has none we know.
CONTENT_TYPE_EXTENSIONS: Mapping[str, str] = {
    "image/jpeg": "jpg",
    "image/jpg": "jpg",
    "image/pjpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/bmp": "bmp",
    "image/x-ms-bmp": "bmp",
    "image/webp": "webp",
    "image/tiff": "tiff",
    "image/heic": "heic",
    "image/heif": "heif",
    "image/avif": "avif",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/x-m4v": "m4v",
    "video/x-matroska": "mkv",
    "video/x-msvideo": "avi",
    "video/avi": "avi",
    "video/x-flv": "flv",
    "video/x-ms-wmv": "wmv",
    "video/webm": "webm",
    "video/mpeg": "mpg",
    "video/3gpp": "3gp",
    "video/ogg": "ogv",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/aac": "aac",
    "audio/flac": "flac",
    "audio/x-flac": "flac",
    "audio/mp4": "m4a",
    "audio/x-m4a": "m4a",
    "audio/ogg": "ogg",
    "audio/opus": "opus",
    "audio/amr": "amr",
    "audio/x-ms-wma": "wma",
    "text/plain": "txt",
    "application/pdf": "pdf",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-powerpoint": "ppt",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "text/csv": "csv",
    "application/rtf": "rtf",
}


@dataclass(frozen=True)
class MediaType:
    """What an upload is for a concern: its kind, the extension it has or stands for, and where that came from.

    ``declared`` is False when the key carries no extension the concern knows and the kind came from the
    content type: document services then need the type spelled out (``SrcType``, ``Input.Type``).
    """

    kind: str
    extension: str
    declared: bool


def _content_type(ref: ObjectRef) -> str:
    return (ref.content_type or "").split(";", 1)[0].strip().lower()


def classify(ref: ObjectRef, kinds: Mapping[str, frozenset[str]]) -> MediaType | None:
    """The first of ``kinds`` (kind -> extensions) whose extensions hold the key's, else the content type's.

    ``None`` for folder markers (keys ending in ``/``) and for objects of no listed kind.
    """
    if not ref.key or ref.key.endswith("/"):
        return None
    extension = ref.extension
    for kind, extensions in kinds.items():
        if extension in extensions:
            return MediaType(kind, extension, declared=True)
    implied = CONTENT_TYPE_EXTENSIONS.get(_content_type(ref))
    if implied:
        for kind, extensions in kinds.items():
            if implied in extensions:
                return MediaType(kind, implied, declared=False)
    return None


def comma_list(value: object) -> object:
    """``"a, b,,c"`` -> ``["a", "b", "c"]`` (a pydantic before-validator; lists pass through)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def require_own_bucket(ref: ObjectRef, settings: UploadSettings) -> None:
    """Refuse an upload from another bucket: CI jobs read their input from the bucket they are submitted to."""
    if ref.bucket != settings.bucket:
        raise ValueError(
            f"object is in bucket {ref.bucket!r} but this function submits jobs to CIFLOW_BUCKET={settings.bucket!r}"
        )


def with_queue(delivery: Delivery, queue_id: str | None) -> Delivery:
    """The delivery with another queue (or none): picture, document and media jobs each run in their own queues."""
    return dataclasses.replace(delivery, queue_id=queue_id)
