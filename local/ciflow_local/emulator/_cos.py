"""The COS object API on an ObjectStore: put (``If-None-Match: *``, ``x-cos-forbid-overwrite``), copy, get and
head (ranges, conditional headers; ``_cos_reads``), delete, object ACLs (``_object_acl``), append, multipart upload
(``_multipart``), SSE headers (``_sse``: stored and echoed, bytes kept in the clear), symlinks (``_symlink``),
archive storage classes and ``?restore`` (``_restore``), ``?select`` over CSV/JSON as an event stream (``_select``),
``x-cos-hash-crc64ecma`` on reads (``_crc64``); on the bucket: list v1, multi-delete, list multipart uploads,
``?location`` (``_cos_bucket``), and configuration sub-resources by delegation. ``restore_delay``: seconds a restore
takes (0: done at once).

Requests are routed by sub-resource through the tables of ``_cos_routes``: anything else is ``501
NotImplemented``. Bucket configuration sub-resources (``BUCKET_CONFIG_SUBRESOURCES``: CORS, lifecycle, ACL …) go
to ``bucket_config`` when one is given, else are 501 too. Bodies stream to and from disk, so memory stays
bounded whatever the object size. ``ci-process`` requests (``GET /<key>?ci-process=filehash`` …) are CI's and go
to ``ci_process``. ``on_put`` is told of every object written (``cos:ObjectCreated:Put``, ``:Copy``, ``:Append``
or ``:CompleteMultipartUpload``) once the answer is sent, in a worker thread, the way COS notifies
asynchronously; its failures are logged, never answered.
"""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable, Collection

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ciflow.codec import to_tree, tree_to_xml
from ciflow.logging import get_logger
from ciflow.models.cos import CopyObjectResult

from ._answers import CiAnswer
from ._app import ServiceApi, Target, answer_response, error_response
from ._cos_bucket import BucketCalls
from ._cos_common import (
    RefusedError,
    check_size,
    content_md5,
    copy_source,
    iso8601,
    receive,
    request_acl,
    source_object,
    version_header,
    written_headers,
)
from ._cos_reads import ObjectReads
from ._cos_routes import BUCKET_CONFIG_SUBRESOURCES, BUCKET_ROUTES, OBJECT_ROUTES, route_name
from ._cos_versions import VersioningCalls
from ._multipart import MultipartApi
from ._object_acl import ObjectAcl, header_grants
from ._object_tagging import ObjectTagging, header_tags
from ._restore import ObjectRestore, check_readable
from ._sse import check_sse_read, sse_headers, sse_of_request
from ._storage import ObjectStore, StoredObject
from ._symlink import ObjectSymlink
from ._versions import Archived

__all__ = ["CosApi", "OnPut", "CiProcess"]

#: Told of every object written: the object and its ``cos:ObjectCreated:*`` event name.
OnPut = Callable[[StoredObject, str], None]
#: Answers a ``ci-process`` request on the COS host: a response, or plain data (``JobEngine.sync_process``).
CiProcess = Callable[[Request, Target], Awaitable[Response | CiAnswer]]
Handler = Callable[[Request, Target], Awaitable[Response]]

_log = get_logger(__name__)

_PRECONDITION = "At least one of the preconditions you specified did not hold."


class CosApi:
    """``ServiceApi`` for ``<bucket>.cos.<region>.myqcloud.com``; any bucket exists as soon as it is addressed.

    ``bucket_config`` answers the bucket configuration sub-resources ``bucket_config_names``."""

    def __init__(
        self,
        store: ObjectStore,
        *,
        on_put: OnPut | None = None,
        ci_process: CiProcess | None = None,
        bucket_config: ServiceApi | None = None,
        bucket_config_names: Collection[str] = BUCKET_CONFIG_SUBRESOURCES,
        restore_delay: float = 0.0,
    ) -> None:
        self.store = store
        self.on_put = on_put
        self.ci_process = ci_process
        self.bucket_config = bucket_config
        self.bucket_config_names = frozenset(bucket_config_names)
        self.multipart = MultipartApi(store, self._notification)
        self.acl = ObjectAcl(store)
        self.tagging = ObjectTagging(store)
        self.symlink = ObjectSymlink(store)
        self.restore = ObjectRestore(store, delay=restore_delay)
        self.bucket_calls = BucketCalls(store, self.multipart)
        self.versioning = VersioningCalls(store)
        self.reads = ObjectReads(store)

    async def handle(self, request: Request, target: Target) -> Response:
        try:
            response = await self._route(request, target)
        except RefusedError as refused:
            response = error_response(refused.status, refused.code, refused.message, target, self._resource(target))
            if refused.status == 416:
                stored = self.store.head(target.bucket, target.key)
                response.headers["Content-Range"] = f"bytes */{stored.size if stored else 0}"
        if request.method == "HEAD" and response.status_code >= 300:
            # HEAD errors carry the status and headers only.
            response = Response(status_code=response.status_code, headers={"x-cos-request-id": target.request_id})
        cors_headers = getattr(self.bucket_config, "cors_headers", None)  # the bucket's CORS rules, if any
        if target.key and request.headers.get("origin") and callable(cors_headers):
            response.headers.update(cors_headers(request, target))
        return response

    @staticmethod
    def _resource(target: Target) -> str:
        return f"{target.bucket}.cos.{target.region}.myqcloud.com/{target.key}"

    async def _route(self, request: Request, target: Target) -> Response:
        params, method = target.params, request.method
        if not target.key:
            configured = sorted(self.bucket_config_names.intersection(params))
            if configured:
                return await self._bucket_config(request, target, configured[0])
            name, _ = route_name(method, params, BUCKET_ROUTES, "bucket")
            calls = self.bucket_calls
            on_bucket: dict[str, Handler] = {
                "list": calls.list,
                "head_bucket": calls.head_bucket,
                "get_location": calls.get_location,
                "delete_many": calls.delete_many,
                "list_uploads": calls.list_uploads,
                "get_versioning": self.versioning.get_versioning,
                "put_versioning": self.versioning.put_versioning,
                "list_versions": self.versioning.list_versions,
                "ci_process": self._ci_process,
            }
            return await on_bucket[name](request, target)
        name, _ = route_name(method, params, OBJECT_ROUTES, "object")
        handlers: dict[str, Handler] = {
            "get": self.reads.get,
            "put": self._put_or_copy,
            "delete": self._delete,
            "get_acl": self.acl.get,
            "put_acl": self.acl.put,
            "get_tagging": self.tagging.get,
            "put_tagging": self.tagging.put,
            "delete_tagging": self.tagging.delete,
            "put_symlink": self.symlink.put,
            "get_symlink": self.symlink.get,
            "restore": self.restore.restore,
            "select": self.reads.select,
            "append": self._append,
            "initiate": self.multipart.initiate,
            "upload_part": self.multipart.upload_part,
            "list_parts": self.multipart.list_parts,
            "complete": self.multipart.complete,
            "abort": self.multipart.abort,
            "ci_process": self._ci_process,
        }
        return await handlers[name](request, target)

    async def _bucket_config(self, request: Request, target: Target, name: str) -> Response:
        """The delegation point for bucket configuration sub-resources (``_bucket_config``)."""
        if self.bucket_config is None:
            raise RefusedError(501, "NotImplemented", f"the emulator does not implement ?{name} on the bucket")
        return await self.bucket_config.handle(request, target)

    async def _ci_process(self, request: Request, target: Target) -> Response:
        if self.ci_process is None:
            raise RefusedError(501, "NotImplemented", f"ci-process={target.params['ci-process']} is not served here")
        return answer_response(await self.ci_process(request, target), target)

    # -- writes ---------------------------------------------------------------------------------------

    async def _put_or_copy(self, request: Request, target: Target) -> Response:
        if "x-cos-copy-source" in request.headers:
            return await self._copy(request, target)
        return await self._put(request, target)

    @staticmethod
    def _no_overwrite(request: Request) -> str | None:
        """Why an existing key must not be replaced: ``If-None-Match: *`` (412) or ``x-cos-forbid-overwrite``."""
        if request.headers.get("if-none-match", "").strip() == "*":
            return "if-none-match"
        if request.headers.get("x-cos-forbid-overwrite", "").lower() == "true":
            return "forbid-overwrite"
        return None

    @staticmethod
    def _refuse_overwrite(reason: str | None) -> RefusedError:
        if reason == "if-none-match":
            return RefusedError(412, "PreconditionFailed", _PRECONDITION)
        return RefusedError(409, "FileAlreadyExists", "The object already exists and x-cos-forbid-overwrite is true.")

    async def _put(self, request: Request, target: Target) -> Response:
        """``PUT /<key>``: the body streams to a temp file, its MD5 is checked, then it is moved into the store."""
        check_size(request)
        expected = content_md5(request)
        acl, grants, sse = request_acl(request), header_grants(request), sse_of_request(request)
        tags = header_tags(request)
        metadata, kept = written_headers(request)
        reason = self._no_overwrite(request)
        if reason and self.store.head(target.bucket, target.key) is not None:
            raise self._refuse_overwrite(reason)  # before the body is read, as COS does
        temp = self.store.temp_path()
        await receive(request, temp, expected)
        stored = await run_in_threadpool(
            self.store.put_file,
            target.bucket,
            target.key,
            temp,
            content_type=request.headers.get("content-type") or "application/octet-stream",
            metadata=metadata,
            headers=kept,
            acl=acl,
            forbid_overwrite=reason is not None,
            extra={**sse, **({"grants": grants} if grants else {}), **({"tags": tags} if tags else {})},
        )
        if stored is None:
            raise self._refuse_overwrite(reason)
        return Response(
            status_code=200,
            headers={"ETag": stored.etag, **sse_headers(stored.extra), **version_header(stored)},
            background=self._notification(stored, "cos:ObjectCreated:Put"),
        )

    async def _copy(self, request: Request, target: Target) -> Response:
        """``PUT /<key>`` with ``x-cos-copy-source``: metadata copied (``Copy``) or taken from this request."""
        source_bucket, source_key, source_version = copy_source(request)
        directive = request.headers.get("x-cos-metadata-directive", "Copy").capitalize()
        if directive not in ("Copy", "Replaced"):
            raise RefusedError(400, "InvalidArgument", "x-cos-metadata-directive must be Copy or Replaced")
        if directive == "Copy" and (source_bucket, source_key, source_version) == (target.bucket, target.key, None):
            raise RefusedError(
                400, "InvalidRequest", "Copying an object onto itself requires x-cos-metadata-directive: Replaced"
            )
        acl, sse, reason = request_acl(request), sse_of_request(request), self._no_overwrite(request)
        source = source_object(self.store, source_bucket, source_key, source_version)
        check_sse_read(request, source.extra, "x-cos-copy-source-")
        check_readable(source)
        temp = self.store.temp_path()
        try:
            await run_in_threadpool(shutil.copyfile, source.path, temp)
        except FileNotFoundError:
            temp.unlink(missing_ok=True)
            raise RefusedError(404, "NoSuchKey", "The specified copy source key does not exist.") from None
        if directive == "Copy":
            content_type, metadata, kept = source.content_type, source.metadata, source.headers
        else:
            content_type = request.headers.get("content-type") or "application/octet-stream"
            metadata, kept = written_headers(request)
        stored = await run_in_threadpool(
            self.store.put_file,
            target.bucket,
            target.key,
            temp,
            content_type=content_type,
            metadata=metadata,
            headers=kept,
            acl=acl,
            forbid_overwrite=reason is not None,
            extra=sse,
        )
        if stored is None:
            raise self._refuse_overwrite(reason)
        tree = to_tree(CopyObjectResult(etag=stored.etag))
        tree["LastModified"] = iso8601(stored.last_modified)
        return Response(
            tree_to_xml("CopyObjectResult", tree),
            media_type="application/xml",
            headers={**sse_headers(stored.extra), **version_header(stored)},
            background=self._notification(stored, "cos:ObjectCreated:Copy"),
        )

    async def _append(self, request: Request, target: Target) -> Response:
        """``POST /<key>?append&position=N``: 409 ``PositionNotEqualToLength`` unless N is the current length."""
        position_text = target.params.get("position", "")
        if not position_text.isdigit():
            raise RefusedError(400, "InvalidArgument", "position must be a non-negative integer")
        check_size(request)
        expected = content_md5(request)
        metadata, kept = written_headers(request)
        options = {
            "content_type": request.headers.get("content-type") or "application/octet-stream",
            "metadata": metadata,
            "headers": kept,
            "acl": request_acl(request),
        }
        temp = self.store.temp_path()
        await receive(request, temp, expected)
        result = await run_in_threadpool(
            self.store.append, target.bucket, target.key, temp, int(position_text), **options
        )
        if result == -1:
            raise RefusedError(409, "ObjectNotAppendable", "The object was not created by append.")
        if isinstance(result, int):
            error = RefusedError(409, "PositionNotEqualToLength", "The position does not equal the object's length.")
            raise error
        return Response(
            status_code=200,
            headers={"ETag": result.etag, "x-cos-next-append-position": str(result.size)},
            background=self._notification(result, "cos:ObjectCreated:Append"),
        )

    async def _delete(self, request: Request, target: Target) -> Response:
        """``DELETE``: 204 whether or not the key existed; on a versioned bucket a delete marker is added, and
        ``?versionId`` removes that version for good."""
        version_id = target.params.get("versionId")
        if version_id is not None:
            removed = await run_in_threadpool(self.store.delete_version, target.bucket, target.key, version_id)
            headers = {"x-cos-version-id": version_id}
            if isinstance(removed, Archived) and removed.marker:
                headers["x-cos-delete-marker"] = "true"
            return Response(status_code=204, headers=headers)
        _, marker = await run_in_threadpool(self.store.delete_object, target.bucket, target.key)
        if marker is None:
            return Response(status_code=204)
        return Response(status_code=204, headers={"x-cos-version-id": marker, "x-cos-delete-marker": "true"})

    def _notification(self, stored: StoredObject, event: str) -> BackgroundTask | None:
        return None if self.on_put is None else BackgroundTask(self._notify, stored, event)

    def _notify(self, stored: StoredObject, event: str) -> None:
        assert self.on_put is not None
        try:
            self.on_put(stored, event)
        except Exception:
            _log.exception("on_put failed", bucket=stored.bucket, key=stored.key, event_name=event)
