"""Pieces the COS object API's handlers share: the refusal exception, wire formats, header and body helpers.

Conditional requests (``If-Match``, ``If-None-Match``, ``If-Modified-Since``, ``If-Unmodified-Since``) are
judged here the way COS documents them: a failed ``If-Match``/``If-Unmodified-Since`` is ``412
PreconditionFailed``; a matching ``If-None-Match`` or an unmodified ``If-Modified-Since`` is ``304`` on reads.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, unquote

from starlette.requests import Request
from starlette.responses import Response

from ciflow.codec import tree_to_xml

from ._app import Target
from ._storage import ObjectStore, StoredObject

__all__ = [
    "ACLS",
    "CHUNK",
    "MAX_OBJECT_BYTES",
    "RefusedError",
    "byte_range",
    "check_digest",
    "chunks",
    "check_size",
    "content_md5",
    "copy_source",
    "encoder",
    "iso8601",
    "not_modified",
    "object_headers",
    "receive",
    "request_acl",
    "rfc1123",
    "small_body",
    "source_object",
    "version_header",
    "written_headers",
    "xml",
]

CHUNK = 256 * 1024
MAX_OBJECT_BYTES = 5 * 1024**3
MAX_XML_BODY = 2 * 1024 * 1024
ACLS = frozenset({"default", "private", "public-read"})
#: Request headers stored with an object and sent back on GET and HEAD.
_KEPT_HEADERS = ("cache-control", "content-disposition", "content-encoding", "content-language", "expires")
_RANGE = re.compile(r"^bytes=(?P<first>\d*)-(?P<last>\d*)$")
_COPY_SOURCE = re.compile(
    r"^/?(?P<bucket>[a-z0-9][a-z0-9-]*-\d+)\.cos\.(?P<region>[a-z0-9-]+)\.myqcloud\.com/(?P<key>[^?]+)"
    r"(?:\?versionId=(?P<version>[^&]+))?$"
)


class RefusedError(Exception):
    """A request COS would refuse: raised anywhere in a handler, answered as ``<Error>``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def rfc1123(timestamp: float) -> str:
    return formatdate(timestamp, usegmt=True)


def iso8601(timestamp: float) -> str:
    """List and copy XML write times as ``2017-06-17T15:09:26.000Z``."""
    moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def xml(tree: dict[str, Any], root: str, headers: dict[str, str] | None = None) -> Response:
    return Response(tree_to_xml(root, tree), media_type="application/xml", headers=headers)


def content_md5(request: Request) -> bytes | None:
    """The binary digest ``Content-MD5`` announces, ``None`` without one; 400 ``InvalidDigest`` when malformed."""
    value = request.headers.get("content-md5")
    if value is None:
        return None
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 16:
        raise RefusedError(400, "InvalidDigest", "The Content-MD5 you specified is not valid.")
    return digest


def check_digest(expected: bytes | None, actual: bytes) -> None:
    if expected is not None and expected != actual:
        raise RefusedError(400, "BadDigest", "The Content-MD5 you specified did not match what was received.")


def request_acl(request: Request, default: str = "default") -> str:
    acl = request.headers.get("x-cos-acl", default)
    if acl not in ACLS:
        raise RefusedError(400, "InvalidArgument", f"x-cos-acl must be one of {sorted(ACLS)}, not {acl!r}")
    return acl


def written_headers(request: Request) -> tuple[dict[str, str], dict[str, str]]:
    """``(metadata, kept headers)`` of a write: ``x-cos-meta-*`` without the prefix, and ``_KEPT_HEADERS``."""
    metadata = {
        name[len("x-cos-meta-") :]: value for name, value in request.headers.items() if name.startswith("x-cos-meta-")
    }
    kept = {name: request.headers[name] for name in _KEPT_HEADERS if name in request.headers}
    storage_class = request.headers.get("x-cos-storage-class", "STANDARD").upper()
    if storage_class != "STANDARD":
        kept["x-cos-storage-class"] = storage_class
    return metadata, kept


def object_headers(stored: StoredObject) -> dict[str, str]:
    """What GET and HEAD say of an object besides its length (names lower-case, so overrides replace them)."""
    return {
        "content-type": stored.content_type,
        "etag": stored.etag,
        "last-modified": rfc1123(stored.last_modified),
        "accept-ranges": "bytes",
        **stored.headers,
        **{f"x-cos-meta-{name}": value for name, value in stored.metadata.items()},
        **version_header(stored),
    }


def version_header(stored: StoredObject) -> dict[str, str]:
    """``x-cos-version-id`` of an object written while its bucket's versioning was configured."""
    version_id = stored.extra.get("version_id")
    return {} if version_id is None else {"x-cos-version-id": str(version_id)}


def _http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None  # an unparsable date is ignored, as HTTP says


def _etags(value: str) -> list[str]:
    return [tag.strip().removeprefix("W/") for tag in value.split(",") if tag.strip()]


def not_modified(request: Request, stored: StoredObject) -> bool:
    """Judge a read's preconditions: ``True`` to answer 304; 412 ``PreconditionFailed`` raised when one fails."""
    headers = request.headers
    whole_seconds = int(stored.last_modified)
    if_match = headers.get("if-match")
    if if_match is not None and "*" not in _etags(if_match) and stored.etag not in _etags(if_match):
        raise RefusedError(412, "PreconditionFailed", "At least one of the preconditions you specified did not hold.")
    unmodified_since = _http_date(headers.get("if-unmodified-since"))
    if if_match is None and unmodified_since is not None and whole_seconds > unmodified_since:
        raise RefusedError(412, "PreconditionFailed", "At least one of the preconditions you specified did not hold.")
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = _etags(if_none_match)
        return "*" in tags or stored.etag in tags
    modified_since = _http_date(headers.get("if-modified-since"))
    return modified_since is not None and whole_seconds <= modified_since


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(first, last)`` inclusive of a single ``Range``; ``None`` to send it all; 416 when unsatisfiable."""
    match = _RANGE.match(header.strip()) if header else None
    if match is None or not (match["first"] or match["last"]):
        return None  # absent, multi-range or malformed: RFC 9110 says ignore it
    if not match["first"]:
        suffix = int(match["last"])
        if suffix == 0 or size == 0:
            raise RefusedError(416, "InvalidRange", "The requested range is not satisfiable")
        return max(size - suffix, 0), size - 1
    first = int(match["first"])
    last = int(match["last"]) if match["last"] else None
    if last is not None and last < first:
        return None
    if first >= size:
        raise RefusedError(416, "InvalidRange", "The requested range is not satisfiable")
    return first, size - 1 if last is None else min(last, size - 1)


def chunks(handle: BinaryIO, first: int, length: int) -> Iterator[bytes]:
    """``length`` bytes from ``first``, a chunk at a time; closes the file when done or abandoned."""
    try:
        handle.seek(first)
        while length > 0:
            chunk = handle.read(min(CHUNK, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk
    finally:
        handle.close()


def encoder(target: Target) -> Callable[[str], str]:
    """With ``encoding-type=url`` keys and prefixes are percent-encoded, so any byte survives XML."""
    if target.params.get("encoding-type", "").lower() == "url":
        return lambda text: quote(text, safe="/-_.~")
    return lambda text: text


def copy_source(request: Request) -> tuple[str, str, str | None]:
    """``(bucket, key, version id or None)`` that ``x-cos-copy-source`` names; 400 ``InvalidCopySource`` when
    malformed."""
    match = _COPY_SOURCE.match(request.headers.get("x-cos-copy-source", ""))
    if match is None:
        raise RefusedError(
            400,
            "InvalidCopySource",
            "x-cos-copy-source must be <bucket>.cos.<region>.myqcloud.com/<key>[?versionId=<id>]",
        )
    version = match["version"]
    return match["bucket"], unquote(match["key"]), None if version is None else unquote(version)


def source_object(store: ObjectStore, bucket: str, key: str, version_id: str | None) -> StoredObject:
    """The copy source (the current version, or ``version_id``); 404 when absent, 400 for a delete marker."""
    if version_id is None:
        found = store.head(bucket, key)
        if found is None:
            raise RefusedError(404, "NoSuchKey", "The specified copy source key does not exist.")
        return found
    version = store.version(bucket, key, version_id)
    if version is None:
        raise RefusedError(404, "NoSuchVersion", "The specified copy source version does not exist.")
    if not isinstance(version, StoredObject):
        raise RefusedError(400, "InvalidRequest", "The copy source may not be a delete marker.")
    return version


def check_size(request: Request) -> None:
    if int(request.headers.get("content-length") or 0) > MAX_OBJECT_BYTES:
        raise RefusedError(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.")


async def receive(request: Request, temp: Path, expected: bytes | None) -> str:
    """Stream the request body into ``temp`` (one chunk in memory at a time), checked against Content-MD5;
    returns its hex MD5. The file is removed when anything fails."""
    md5 = hashlib.md5()
    size = 0
    try:
        with open(temp, "wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_OBJECT_BYTES:
                    raise RefusedError(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size.")
                md5.update(chunk)
                out.write(chunk)
        check_digest(expected, md5.digest())
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return md5.hexdigest()


async def small_body(request: Request, limit: int = MAX_XML_BODY) -> bytes:
    """An XML request body, refused past ``limit`` bytes before it is all in memory."""
    parts, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RefusedError(400, "EntityTooLarge", f"An XML request body is at most {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)
