"""Symbolic links: ``PUT /<key>?symlink`` with ``x-cos-symlink-target`` and ``GET /<key>?symlink``.

A symlink is an empty object of its own (so it is listed, versioned, tagged and deleted like any other) whose
``extra`` names its target, a key of the same bucket; the target need not exist when the link is made. ``PUT``
answers ``x-cos-version-id`` on a versioned bucket; ``GET ?symlink`` (``versionId`` honoured) answers the target
in ``x-cos-symlink-target``: 404 ``NoSuchKey``/``NoSuchVersion`` when absent, ``400 NotSymlink`` when that object
is no link. A plain ``GET``/``HEAD`` of the link is served from its target (``follow``) — the bytes, length and
ETag of the target as it is now, 404 ``NoSuchKey`` when the target is gone; links are not followed transitively.
"""

from __future__ import annotations

from urllib.parse import unquote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ._app import Target
from ._cos_common import RefusedError, request_acl, version_header, written_headers
from ._storage import ObjectStore, StoredObject
from ._versions import Archived

__all__ = ["ObjectSymlink", "symlink_target"]

_MAX_TARGET = 850


def symlink_target(stored: StoredObject) -> str | None:
    """The key ``stored`` links to, or ``None`` when it is no symlink."""
    target = stored.extra.get("symlink_target")
    return target if isinstance(target, str) else None


class ObjectSymlink:
    """``?symlink`` on objects of ``store``."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    async def put(self, request: Request, target: Target) -> Response:
        link = unquote(request.headers.get("x-cos-symlink-target", "")).lstrip("/")
        if not link or len(link.encode()) > _MAX_TARGET:
            raise RefusedError(400, "InvalidArgument", "x-cos-symlink-target must name a key of the bucket.")
        if link == target.key:
            raise RefusedError(400, "InvalidArgument", "A symlink may not point to itself.")
        metadata, kept = written_headers(request)
        stored = await run_in_threadpool(
            self.store.put_bytes,
            target.bucket,
            target.key,
            b"",
            content_type=request.headers.get("content-type") or "application/octet-stream",
            metadata=metadata,
            headers=kept,
            acl=request_acl(request),
            extra={"symlink_target": link},
        )
        assert isinstance(stored, StoredObject)
        return Response(status_code=200, headers={"ETag": stored.etag, **version_header(stored)})

    async def get(self, request: Request, target: Target) -> Response:
        version_id = target.params.get("versionId")
        found: StoredObject | Archived | None
        if version_id is None:
            found = self.store.head(target.bucket, target.key)
            if found is None:
                raise RefusedError(404, "NoSuchKey", "The specified key does not exist.")
        else:
            found = self.store.version(target.bucket, target.key, version_id)
            if found is None:
                raise RefusedError(404, "NoSuchVersion", "The specified version does not exist.")
            if isinstance(found, Archived):
                raise RefusedError(405, "MethodNotAllowed", "The specified version is a delete marker.")
        link = symlink_target(found)
        if link is None:
            raise RefusedError(400, "NotSymlink", "The specified object is not a symlink.")
        return Response(status_code=200, headers={"x-cos-symlink-target": link, **version_header(found)})
