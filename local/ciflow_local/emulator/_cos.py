"""The COS object API subset ciflow uses (put, copy, get, head, delete, multi-delete, list v1, ACL), on an ObjectStore.

Bodies stream to and from disk, so memory stays bounded whatever the object size. ``ci-process`` requests
(``GET /<key>?ci-process=filehash`` …) are CI's and go to ``ci_process``. ``on_put`` is told of every object
written (``cos:ObjectCreated:Put`` or ``:Copy``) once the answer is sent, in a worker thread, the way COS
notifies asynchronously; its failures are logged, never answered.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import shutil
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timezone
from email.utils import formatdate
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, unquote

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ciflow.codec import from_xml, to_tree, tree_to_xml
from ciflow.errors import CiflowError
from ciflow.logging import get_logger
from ciflow.models.cos import (
    CommonPrefix,
    CopyObjectResult,
    Deleted,
    DeleteRequest,
    DeleteResult,
    ListBucketResult,
    ObjectSummary,
    Owner,
)

from ._app import Target, error_response
from ._storage import ObjectStore, StoredObject

__all__ = ["CosApi", "OnPut", "CiProcess"]

#: Told of every object written: the object and ``cos:ObjectCreated:Put`` or ``cos:ObjectCreated:Copy``.
OnPut = Callable[[StoredObject, str], None]
#: Answers a ``ci-process`` request on the COS host.
CiProcess = Callable[[Request, Target], Awaitable[Response]]

_log = get_logger(__name__)

_CHUNK = 256 * 1024
_MAX_OBJECT_BYTES = 5 * 1024**3
_MAX_DELETE_KEYS = 1000
_MAX_LIST_KEYS = 1000
_MAX_XML_BODY = 2 * 1024 * 1024
_ACLS = frozenset({"default", "private", "public-read"})
#: Request headers stored with an object and sent back on GET and HEAD.
_KEPT_HEADERS = ("cache-control", "content-disposition", "content-encoding", "content-language", "expires")
#: ``response-*`` query parameters of GET that override a response header.
_RESPONSE_OVERRIDES = {
    f"response-{name}": name
    for name in (
        "content-type",
        "content-language",
        "expires",
        "cache-control",
        "content-disposition",
        "content-encoding",
    )
}
#: Sub-resources the emulator does not implement: refused rather than mistaken for plain object calls.
_UNSUPPORTED = frozenset({"uploads", "uploadId", "partNumber", "tagging", "append", "restore", "select", "versions"})
_COPY_SOURCE = re.compile(
    r"^/?(?P<bucket>[a-z0-9][a-z0-9-]*-\d+)\.cos\.(?P<region>[a-z0-9-]+)\.myqcloud\.com/(?P<key>[^?]+)"
)
_RANGE = re.compile(r"^bytes=(?P<first>\d*)-(?P<last>\d*)$")


class _RefusedError(Exception):
    """A request COS would refuse: raised anywhere in a handler, answered as ``<Error>``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _rfc1123(timestamp: float) -> str:
    return formatdate(timestamp, usegmt=True)


def _iso8601(timestamp: float) -> str:
    """List and copy XML write times as ``2017-06-17T15:09:26.000Z``."""
    moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _xml(tree: dict[str, Any], root: str, headers: dict[str, str] | None = None) -> Response:
    return Response(tree_to_xml(root, tree), media_type="application/xml", headers=headers)


def _content_md5(request: Request) -> bytes | None:
    """The binary digest ``Content-MD5`` announces, ``None`` without one; 400 ``InvalidDigest`` when malformed."""
    value = request.headers.get("content-md5")
    if value is None:
        return None
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 16:
        raise _RefusedError(400, "InvalidDigest", "The Content-MD5 you specified is not valid.")
    return digest


def _check_digest(expected: bytes | None, actual: bytes) -> None:
    if expected is not None and expected != actual:
        raise _RefusedError(400, "BadDigest", "The Content-MD5 you specified did not match what was received.")


def _acl(request: Request, default: str = "default") -> str:
    acl = request.headers.get("x-cos-acl", default)
    if acl not in _ACLS:
        raise _RefusedError(400, "InvalidArgument", f"x-cos-acl must be one of {sorted(_ACLS)}, not {acl!r}")
    return acl


def _written_headers(request: Request) -> tuple[dict[str, str], dict[str, str]]:
    """``(metadata, kept headers)`` of a write: ``x-cos-meta-*`` without the prefix, and ``_KEPT_HEADERS``."""
    metadata = {
        name[len("x-cos-meta-") :]: value for name, value in request.headers.items() if name.startswith("x-cos-meta-")
    }
    kept = {name: request.headers[name] for name in _KEPT_HEADERS if name in request.headers}
    storage_class = request.headers.get("x-cos-storage-class", "STANDARD").upper()
    if storage_class != "STANDARD":
        kept["x-cos-storage-class"] = storage_class
    return metadata, kept


def _object_headers(stored: StoredObject) -> dict[str, str]:
    """What GET and HEAD say of an object besides its length (names lower-case, so overrides replace them)."""
    return {
        "content-type": stored.content_type,
        "etag": stored.etag,
        "last-modified": _rfc1123(stored.last_modified),
        "accept-ranges": "bytes",
        **stored.headers,
        **{f"x-cos-meta-{name}": value for name, value in stored.metadata.items()},
    }


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(first, last)`` inclusive of a single ``Range``; ``None`` to send it all; 416 when unsatisfiable."""
    match = _RANGE.match(header.strip()) if header else None
    if match is None or not (match["first"] or match["last"]):
        return None  # absent, multi-range or malformed: RFC 9110 says ignore it
    if not match["first"]:
        suffix = int(match["last"])
        if suffix == 0 or size == 0:
            raise _RefusedError(416, "InvalidRange", "The requested range is not satisfiable")
        return max(size - suffix, 0), size - 1
    first = int(match["first"])
    last = int(match["last"]) if match["last"] else None
    if last is not None and last < first:
        return None
    if first >= size:
        raise _RefusedError(416, "InvalidRange", "The requested range is not satisfiable")
    return first, size - 1 if last is None else min(last, size - 1)


def _chunks(handle: BinaryIO, first: int, length: int) -> Iterator[bytes]:
    """``length`` bytes from ``first``, a chunk at a time; closes the file when done or abandoned."""
    try:
        handle.seek(first)
        while length > 0:
            chunk = handle.read(min(_CHUNK, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk
    finally:
        handle.close()


def _encoder(target: Target) -> Callable[[str], str]:
    """With ``encoding-type=url`` keys and prefixes are percent-encoded, so any byte survives XML."""
    if target.params.get("encoding-type", "").lower() == "url":
        return lambda text: quote(text, safe="/-_.~")
    return lambda text: text


class CosApi:
    """``ServiceApi`` for ``<bucket>.cos.<region>.myqcloud.com``; any bucket exists as soon as it is addressed."""

    def __init__(self, store: ObjectStore, *, on_put: OnPut | None = None, ci_process: CiProcess | None = None) -> None:
        self.store = store
        self.on_put = on_put
        self.ci_process = ci_process

    async def handle(self, request: Request, target: Target) -> Response:
        try:
            response = await self._route(request, target)
        except _RefusedError as refused:
            response = error_response(refused.status, refused.code, refused.message, target, self._resource(target))
            if refused.status == 416:
                stored = self.store.head(target.bucket, target.key)
                response.headers["Content-Range"] = f"bytes */{stored.size if stored else 0}"
        if request.method == "HEAD" and response.status_code >= 300:
            # HEAD errors carry the status and headers only.
            return Response(status_code=response.status_code, headers={"x-cos-request-id": target.request_id})
        return response

    @staticmethod
    def _resource(target: Target) -> str:
        return f"{target.bucket}.cos.{target.region}.myqcloud.com/{target.key}"

    async def _route(self, request: Request, target: Target) -> Response:
        params, method = target.params, request.method
        if "ci-process" in params:
            if self.ci_process is None:
                raise _RefusedError(501, "NotImplemented", f"ci-process={params['ci-process']} is not served here")
            return await self.ci_process(request, target)
        unsupported = _UNSUPPORTED.intersection(params)
        if unsupported:
            raise _RefusedError(501, "NotImplemented", f"the emulator does not implement ?{sorted(unsupported)[0]}")
        if not target.key:
            return await self._bucket(request, target)
        if method == "PUT" and "acl" in params:
            return self._put_acl(request, target)
        if method == "PUT" and "x-cos-copy-source" in request.headers:
            return await self._copy(request, target)
        if method == "PUT":
            return await self._put(request, target)
        if method in ("GET", "HEAD") and "acl" not in params:
            return self._get(request, target)
        if method == "DELETE":
            self.store.delete(target.bucket, target.key)
            return Response(status_code=204)
        raise _RefusedError(405, "MethodNotAllowed", f"{method} is not allowed on this object resource")

    async def _bucket(self, request: Request, target: Target) -> Response:
        """Bucket-level calls: listing and multi-delete; PUT and HEAD succeed (every bucket exists)."""
        method = request.method
        if method == "GET" and "acl" not in target.params:
            return self._list(request, target)
        if method == "POST" and "delete" in target.params:
            return await self._delete_many(request, target)
        if method in ("PUT", "HEAD") and not target.params:
            return Response(status_code=200, headers={"x-cos-bucket-region": target.region})
        raise _RefusedError(405, "MethodNotAllowed", f"{method} is not allowed on the bucket resource")

    # -- writes ---------------------------------------------------------------------------------------

    async def _put(self, request: Request, target: Target) -> Response:
        """``PUT /<key>``: the body streams to a temp file, its MD5 is checked, then it is moved into the store."""
        if int(request.headers.get("content-length") or 0) > _MAX_OBJECT_BYTES:
            raise _RefusedError(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.")
        expected = _content_md5(request)
        acl = _acl(request)
        metadata, kept = _written_headers(request)
        temp = await self._receive(request, expected)
        stored = await run_in_threadpool(
            self.store.put_file,
            target.bucket,
            target.key,
            temp,
            content_type=request.headers.get("content-type") or "application/octet-stream",
            metadata=metadata,
            headers=kept,
            acl=acl,
            forbid_overwrite=self._forbid_overwrite(request),
        )
        if stored is None:
            raise _RefusedError(
                409, "FileAlreadyExists", "The object already exists and x-cos-forbid-overwrite is true."
            )
        return Response(
            status_code=200,
            headers={"ETag": stored.etag},
            background=self._notification(stored, "cos:ObjectCreated:Put"),
        )

    async def _receive(self, request: Request, expected: bytes | None) -> Path:
        """The request body in a fresh temp file (one chunk in memory at a time), checked against Content-MD5."""
        temp = self.store.temp_path()
        md5 = hashlib.md5()
        try:
            with open(temp, "wb") as out:
                async for chunk in request.stream():
                    md5.update(chunk)
                    out.write(chunk)
            _check_digest(expected, md5.digest())
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return temp

    @staticmethod
    def _forbid_overwrite(request: Request) -> bool:
        return request.headers.get("x-cos-forbid-overwrite", "").lower() == "true"

    async def _copy(self, request: Request, target: Target) -> Response:
        """``PUT /<key>`` with ``x-cos-copy-source``: metadata copied (``Copy``) or taken from this request."""
        match = _COPY_SOURCE.match(request.headers["x-cos-copy-source"])
        if match is None:
            raise _RefusedError(
                400, "InvalidCopySource", "x-cos-copy-source must be <bucket>.cos.<region>.myqcloud.com/<key>"
            )
        source_bucket, source_key = match["bucket"], unquote(match["key"])
        directive = request.headers.get("x-cos-metadata-directive", "Copy").capitalize()
        if directive not in ("Copy", "Replaced"):
            raise _RefusedError(400, "InvalidArgument", "x-cos-metadata-directive must be Copy or Replaced")
        if directive == "Copy" and (source_bucket, source_key) == (target.bucket, target.key):
            raise _RefusedError(
                400, "InvalidRequest", "Copying an object onto itself requires x-cos-metadata-directive: Replaced"
            )
        source = self.store.head(source_bucket, source_key)
        temp = self.store.temp_path()
        try:
            if source is None:
                raise FileNotFoundError(source_key)
            await run_in_threadpool(shutil.copyfile, source.path, temp)
        except FileNotFoundError:
            temp.unlink(missing_ok=True)
            raise _RefusedError(404, "NoSuchKey", "The specified copy source key does not exist.") from None
        if directive == "Copy":
            content_type, metadata, kept = source.content_type, source.metadata, source.headers
        else:
            content_type = request.headers.get("content-type") or "application/octet-stream"
            metadata, kept = _written_headers(request)
        stored = await run_in_threadpool(
            self.store.put_file,
            target.bucket,
            target.key,
            temp,
            content_type=content_type,
            metadata=metadata,
            headers=kept,
            acl=_acl(request),
            forbid_overwrite=self._forbid_overwrite(request),
        )
        if stored is None:
            raise _RefusedError(
                409, "FileAlreadyExists", "The object already exists and x-cos-forbid-overwrite is true."
            )
        tree = to_tree(CopyObjectResult(etag=stored.etag))
        tree["LastModified"] = _iso8601(stored.last_modified)
        return Response(
            tree_to_xml("CopyObjectResult", tree),
            media_type="application/xml",
            background=self._notification(stored, "cos:ObjectCreated:Copy"),
        )

    def _put_acl(self, request: Request, target: Target) -> Response:
        if "x-cos-acl" not in request.headers:
            raise _RefusedError(400, "InvalidArgument", "the emulator sets ACLs from the x-cos-acl header only")
        if not self.store.set_acl(target.bucket, target.key, _acl(request)):
            raise _RefusedError(404, "NoSuchKey", "The specified key does not exist.")
        return Response(status_code=200)

    def _notification(self, stored: StoredObject, event: str) -> BackgroundTask | None:
        return None if self.on_put is None else BackgroundTask(self._notify, stored, event)

    def _notify(self, stored: StoredObject, event: str) -> None:
        assert self.on_put is not None
        try:
            self.on_put(stored, event)
        except Exception:
            _log.exception("on_put failed", bucket=stored.bucket, key=stored.key, event_name=event)

    # -- reads ----------------------------------------------------------------------------------------

    def _get(self, request: Request, target: Target) -> Response:
        """``GET`` streams the object (or one range of it); ``HEAD`` sends the same headers without a body."""
        stored, handle = self._open(target)
        headers = _object_headers(stored)
        if request.method == "HEAD":
            handle.close()
            return Response(status_code=200, headers={**headers, "content-length": str(stored.size)})
        for parameter, header in _RESPONSE_OVERRIDES.items():
            if parameter in target.params:
                headers[header] = target.params[parameter]
        try:
            span = _byte_range(request.headers.get("range"), stored.size)
        except _RefusedError:
            handle.close()
            raise
        status, first, length = 200, 0, stored.size
        if span is not None:
            status, first, length = 206, span[0], span[1] - span[0] + 1
            headers["content-range"] = f"bytes {span[0]}-{span[1]}/{stored.size}"
        headers["content-length"] = str(length)
        return StreamingResponse(_chunks(handle, first, length), status_code=status, headers=headers)

    def _open(self, target: Target) -> tuple[StoredObject, BinaryIO]:
        """The object's metadata and an open handle on the same version (a concurrent PUT replaces the file)."""
        for _ in range(3):
            stored = self.store.head(target.bucket, target.key)
            if stored is None:
                break
            try:
                handle = open(stored.path, "rb")  # noqa: SIM115 - closed by _chunks once streamed
            except FileNotFoundError:
                continue
            current = self.store.head(target.bucket, target.key)
            if current is not None and current.etag == stored.etag and current.last_modified == stored.last_modified:
                return stored, handle
            handle.close()
        raise _RefusedError(404, "NoSuchKey", "The specified key does not exist.")

    def _list(self, request: Request, target: Target) -> Response:
        """``GET /`` (list objects v1): keys after ``marker`` under ``prefix``, rolled up at ``delimiter``."""
        query = target.params
        prefix, marker, delimiter = query.get("prefix", ""), query.get("marker", ""), query.get("delimiter", "")
        max_keys_text = query.get("max-keys", str(_MAX_LIST_KEYS))
        if not max_keys_text.isdigit():
            raise _RefusedError(400, "InvalidArgument", "max-keys must be a non-negative integer")
        max_keys = min(int(max_keys_text), _MAX_LIST_KEYS)
        items = list(islice(self._entries(target.bucket, prefix, marker, delimiter), max_keys + 1))
        truncated = len(items) > max_keys
        items = items[:max_keys]
        encode = _encoder(target)
        last = items[-1] if items else None
        result = ListBucketResult(
            name=target.bucket,
            encoding_type=query.get("encoding-type") or None,
            prefix=encode(prefix),
            marker=encode(marker),
            max_keys=max_keys,
            delimiter=encode(delimiter) if delimiter else None,
            is_truncated=truncated,
            next_marker=encode(last if isinstance(last, str) else last.key) if truncated and last else None,
            common_prefixes=[CommonPrefix(prefix=encode(item)) for item in items if isinstance(item, str)],
        )
        tree = to_tree(result)
        owner = Owner(id=target.bucket.rsplit("-", 1)[-1])
        tree["Contents"] = [self._summary(item, encode, owner) for item in items if not isinstance(item, str)]
        return _xml(tree, "ListBucketResult", {"x-cos-bucket-region": target.region})

    @staticmethod
    def _summary(stored: StoredObject, encode: Callable[[str], str], owner: Owner) -> dict[str, Any]:
        summary = ObjectSummary(
            key=encode(stored.key),
            etag=stored.etag,
            size=stored.size,
            owner=owner,
            storage_class=stored.headers.get("x-cos-storage-class", "STANDARD"),
        )
        tree = to_tree(summary)
        return {"Key": tree.pop("Key"), "LastModified": _iso8601(stored.last_modified), **tree}

    def _entries(self, bucket: str, prefix: str, marker: str, delimiter: str) -> Iterator[StoredObject | str]:
        """Objects and common prefixes (``str``) after ``marker``, in key order, fetched a batch at a time."""
        after, rolled_up = marker, None
        while True:
            batch = list(self.store.list(bucket, prefix, after, _MAX_LIST_KEYS))
            for stored in batch:
                cut = stored.key.find(delimiter, len(prefix)) if delimiter else -1
                if cut < 0:
                    yield stored
                    continue
                common = stored.key[: cut + len(delimiter)]
                # A prefix the marker has reached was listed on an earlier page.
                if common != rolled_up and common > marker:
                    rolled_up = common
                    yield common
            if len(batch) < _MAX_LIST_KEYS:
                return
            after = batch[-1].key

    @staticmethod
    async def _small_body(request: Request) -> bytes:
        """An XML request body, refused past ``_MAX_XML_BODY`` before it is all in memory."""
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > _MAX_XML_BODY:
                raise _RefusedError(400, "EntityTooLarge", f"An XML request body is at most {_MAX_XML_BODY} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def _delete_many(self, request: Request, target: Target) -> Response:
        """``POST /?delete``: up to 1000 keys; absent keys count as deleted; ``Quiet`` lists failures only."""
        expected = _content_md5(request)
        if expected is None:
            raise _RefusedError(400, "InvalidRequest", "Missing required header for this request: Content-MD5")
        body = await self._small_body(request)
        _check_digest(expected, hashlib.md5(body).digest())
        try:
            wanted = from_xml(DeleteRequest, body, root="Delete")
        except CiflowError as exc:
            raise _RefusedError(400, "MalformedXML", f"The XML you provided was not well-formed: {exc}") from None
        if not 0 < len(wanted.object) <= _MAX_DELETE_KEYS:
            raise _RefusedError(400, "MalformedXML", f"A multi-delete names 1 to {_MAX_DELETE_KEYS} keys")
        deleted: list[Deleted] = []
        for item in wanted.object:
            self.store.delete(target.bucket, item.key)
            deleted.append(Deleted(key=item.key))
        return _xml(to_tree(DeleteResult(deleted=[] if wanted.quiet else deleted)), "DeleteResult")
