"""The COS object reads on an ObjectStore: ``GET``/``HEAD`` (ranges, conditions, overrides) and ``?select``."""

from __future__ import annotations

from typing import BinaryIO

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ._app import Target
from ._cos_common import RefusedError, byte_range, chunks, not_modified, object_headers, small_body
from ._crc64 import object_crc64
from ._restore import check_readable, restore_header
from ._select import MAX_SELECT_BYTES, parse_request, run_select
from ._sse import check_sse_read, sse_headers
from ._storage import ObjectStore, StoredObject
from ._symlink import symlink_target
from ._versions import Archived

__all__ = ["ObjectReads"]

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


class ObjectReads:
    """``GET``/``HEAD`` and ``POST ?select`` of one key (or version) of ``store``, each object opened consistently."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    async def get(self, request: Request, target: Target) -> Response:
        """``GET`` streams the object (or one range of it); ``HEAD`` sends the same headers without a body."""
        stored, handle = self.open_object(target)
        link = symlink_target(stored)
        if link is not None:  # served from its target, as it is now
            handle.close()
            stored, handle = self.open_object(target, link)
        try:
            crc = await run_in_threadpool(object_crc64, self.store, stored)
            check_sse_read(request, stored.extra)
            if request.method != "HEAD":
                check_readable(stored)
            headers = {**object_headers(stored), **sse_headers(stored.extra), **restore_header(stored)}
            if crc is not None:
                headers["x-cos-hash-crc64ecma"] = crc
            if stored.extra.get("appendable"):
                headers["x-cos-object-type"] = "appendable"
            if not_modified(request, stored):
                handle.close()
                return Response(
                    status_code=304, headers={"etag": stored.etag, "last-modified": headers["last-modified"]}
                )
            if request.method == "HEAD":
                handle.close()
                return Response(status_code=200, headers={**headers, "content-length": str(stored.size)})
            for parameter, header in _RESPONSE_OVERRIDES.items():
                if parameter in target.params:
                    headers[header] = target.params[parameter]
            span = byte_range(request.headers.get("range"), stored.size)
        except BaseException:
            handle.close()
            raise
        status, first, length = 200, 0, stored.size
        if span is not None:
            status, first, length = 206, span[0], span[1] - span[0] + 1
            headers["content-range"] = f"bytes {span[0]}-{span[1]}/{stored.size}"
        headers["content-length"] = str(length)
        return StreamingResponse(chunks(handle, first, length), status_code=status, headers=headers)

    def open_object(self, target: Target, key: str | None = None) -> tuple[StoredObject, BinaryIO]:
        """The object's metadata and an open handle on the same version (a concurrent PUT replaces the file);
        ``key``: another key of the bucket, current version (a symlink's target)."""
        if "versionId" in target.params and key is None:
            return self.open_version(target, target.params["versionId"])
        key = target.key if key is None else key
        for _ in range(3):
            stored = self.store.head(target.bucket, key)
            if stored is None:
                break
            try:
                handle = open(stored.path, "rb")  # noqa: SIM115 - closed by chunks once streamed
            except FileNotFoundError:
                continue
            current = self.store.head(target.bucket, key)
            if current is not None and current.etag == stored.etag and current.last_modified == stored.last_modified:
                return stored, handle
            handle.close()
        raise RefusedError(404, "NoSuchKey", "The specified key does not exist.")

    def open_version(self, target: Target, version_id: str) -> tuple[StoredObject, BinaryIO]:
        """``?versionId``: 404 ``NoSuchVersion`` when unknown, 405 on a delete marker."""
        for _ in range(3):
            found = self.store.version(target.bucket, target.key, version_id)
            if found is None:
                raise RefusedError(404, "NoSuchVersion", "The specified version does not exist.")
            if isinstance(found, Archived):
                raise RefusedError(405, "MethodNotAllowed", "The specified version is a delete marker.")
            try:
                return found, open(found.path, "rb")
            except FileNotFoundError:
                continue  # moved between current and archived meanwhile
        raise RefusedError(404, "NoSuchVersion", "The specified version does not exist.")

    async def select(self, request: Request, target: Target) -> Response:
        """``POST ?select&select-type=2`` (``_select``): the request is checked whole before the object is read."""
        if target.params.get("select-type") != "2":
            raise RefusedError(400, "InvalidArgument", "select-type must be 2")
        query = parse_request(await small_body(request))
        stored, handle = self.open_object(target)
        with handle:
            check_sse_read(request, stored.extra)
            check_readable(stored)
            if stored.size > MAX_SELECT_BYTES:
                raise RefusedError(
                    400, "InvalidArgument", f"the emulator selects over at most {MAX_SELECT_BYTES} bytes"
                )
            data = await run_in_threadpool(handle.read)
        return StreamingResponse(run_select(query, data), status_code=200, media_type="application/octet-stream")
