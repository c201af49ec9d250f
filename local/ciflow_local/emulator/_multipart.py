"""COS multipart upload: initiate, upload part (and part copy), list parts, complete, abort, list uploads.

Parts stream to disk like PUT bodies; completion joins them a chunk at a time into one object whose ETag is
``"<md5 of the parts' binary MD5s>-<part count>"``. Completion checks what COS checks: parts named in strictly
ascending order (``InvalidPartOrder``), each uploaded with the ETag given (``InvalidPart``), every part but the
last at least 1 MiB (``EntityTooSmall``); an unknown upload id, or one of another key, is ``NoSuchUpload``.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from itertools import islice
from typing import Any

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ciflow.codec import element_to_tree, parse_xml
from ciflow.errors import CiflowError

from ._app import Target
from ._cos_common import (
    CHUNK,
    RefusedError,
    byte_range,
    check_size,
    content_md5,
    copy_source,
    encoder,
    iso8601,
    receive,
    request_acl,
    small_body,
    source_object,
    version_header,
    written_headers,
    xml,
)
from ._multipart_store import Part, PendingUpload, UploadStore
from ._object_tagging import header_tags
from ._sse import check_sse_read, sse_headers, sse_of_request
from ._storage import ObjectStore, StoredObject

__all__ = ["MultipartApi", "COMPLETE_EVENT"]

COMPLETE_EVENT = "cos:ObjectCreated:CompleteMultipartUpload"
_MIN_PART = 1024 * 1024
_MAX_PART_NUMBER = 10_000
_MAX_LISTED = 1000

Notify = Callable[[StoredObject, str], BackgroundTask | None]


def _number(text: str, name: str, low: int, high: int) -> int:
    if not text.isdigit() or not low <= int(text) <= high:
        raise RefusedError(400, "InvalidArgument", f"{name} must be an integer in [{low}, {high}]")
    return int(text)


def _owner(target: Target) -> dict[str, str]:
    uin = f"qcs::cam::uin/{target.bucket.rsplit('-', 1)[-1]}:uin/{target.bucket.rsplit('-', 1)[-1]}"
    return {"ID": uin, "DisplayName": uin}


class MultipartApi:
    """The multipart calls of ``CosApi``, over ``store`` (objects) and an ``UploadStore`` beside it."""

    def __init__(self, store: ObjectStore, notify: Notify) -> None:
        self.store = store
        self.uploads = UploadStore(store.root)
        store.on_close.append(self.uploads.close)
        self.notify = notify

    def _upload(self, target: Target) -> PendingUpload:
        upload = self.uploads.get(target.bucket, target.key, target.params.get("uploadId", ""))
        if upload is None:
            raise RefusedError(404, "NoSuchUpload", "The specified multipart upload does not exist.")
        return upload

    async def initiate(self, request: Request, target: Target) -> Response:
        """``POST /<key>?uploads``: remembers the object's headers for completion."""
        metadata, kept = written_headers(request)
        upload = self.uploads.create(
            target.bucket,
            target.key,
            content_type=request.headers.get("content-type") or "application/octet-stream",
            metadata=metadata,
            headers=kept,
            acl=request_acl(request),
            extra={**sse_of_request(request), **({"tags": tags} if (tags := header_tags(request)) else {})},
        )
        tree = {"Bucket": target.bucket, "Key": target.key, "UploadId": upload.upload_id}
        return xml(tree, "InitiateMultipartUploadResult", sse_headers(upload.extra))

    async def upload_part(self, request: Request, target: Target) -> Response:
        """``PUT /<key>?partNumber=N&uploadId=…``, from the body or (``x-cos-copy-source``) another object."""
        number = _number(target.params.get("partNumber", ""), "partNumber", 1, _MAX_PART_NUMBER)
        upload = self._upload(target)
        check_sse_read(request, upload.extra)
        temp = self.store.temp_path()
        if "x-cos-copy-source" in request.headers:
            digest = await self._copy_into(request, temp)
        else:
            check_size(request)
            digest = await receive(request, temp, content_md5(request))
        part = await run_in_threadpool(self.uploads.add_part, upload, number, temp, digest)
        if part is None:
            raise RefusedError(404, "NoSuchUpload", "The specified multipart upload does not exist.")
        headers = {"ETag": part.etag, **sse_headers(upload.extra)}
        if "x-cos-copy-source" in request.headers:
            return xml({"ETag": part.etag, "LastModified": iso8601(part.last_modified)}, "CopyPartResult", headers)
        return Response(status_code=200, headers=headers)

    async def _copy_into(self, request: Request, temp: Any) -> str:
        """Copy the source object (or ``x-cos-copy-source-range`` of it) into ``temp``; returns its hex MD5."""
        source = source_object(self.store, *copy_source(request))
        check_sse_read(request, source.extra, "x-cos-copy-source-")
        span = byte_range(request.headers.get("x-cos-copy-source-range") or None, source.size)
        first, length = (0, source.size) if span is None else (span[0], span[1] - span[0] + 1)

        def copy() -> str:
            md5 = hashlib.md5()
            remaining = length
            with open(source.path, "rb") as handle, open(temp, "wb") as out:
                handle.seek(first)
                while remaining > 0:
                    chunk = handle.read(min(CHUNK, remaining))
                    if not chunk:
                        break
                    remaining -= len(chunk)
                    md5.update(chunk)
                    out.write(chunk)
            return md5.hexdigest()

        try:
            return await run_in_threadpool(copy)
        except FileNotFoundError:
            temp.unlink(missing_ok=True)
            raise RefusedError(404, "NoSuchKey", "The specified copy source key does not exist.") from None

    async def list_parts(self, request: Request, target: Target) -> Response:
        """``GET /<key>?uploadId=…``: parts after ``part-number-marker``, ``max-parts`` at a time."""
        upload = self._upload(target)
        params = target.params
        marker = _number(params.get("part-number-marker") or "0", "part-number-marker", 0, _MAX_PART_NUMBER)
        max_parts = min(_number(params.get("max-parts") or "1000", "max-parts", 0, 10**9), _MAX_LISTED)
        parts = self.uploads.parts(upload.upload_id, marker, max_parts + 1)
        truncated = len(parts) > max_parts
        parts = parts[:max_parts]
        encode = encoder(target)
        tree: dict[str, Any] = {
            "Bucket": target.bucket,
            "EncodingType": params.get("encoding-type") or None,
            "Key": encode(target.key),
            "UploadId": upload.upload_id,
            "Initiator": _owner(target),
            "Owner": _owner(target),
            "StorageClass": upload.headers.get("x-cos-storage-class", "STANDARD"),
            "PartNumberMarker": str(marker),
            "NextPartNumberMarker": str(parts[-1].number if parts else marker),
            "MaxParts": str(max_parts),
            "IsTruncated": "true" if truncated else "false",
            "Part": [
                {
                    "PartNumber": str(part.number),
                    "LastModified": iso8601(part.last_modified),
                    "ETag": part.etag,
                    "Size": str(part.size),
                }
                for part in parts
            ],
        }
        return xml(tree, "ListPartsResult")

    async def complete(self, request: Request, target: Target) -> Response:
        """``POST /<key>?uploadId=…`` with ``<CompleteMultipartUpload>``: the parts become the object."""
        upload = self._upload(target)
        wanted = self._wanted_parts(await small_body(request))
        uploaded = {part.number: part for part in self.uploads.parts(upload.upload_id)}
        chosen: list[Part] = []
        for index, (number, etag) in enumerate(wanted):
            if index and number <= wanted[index - 1][0]:
                raise RefusedError(400, "InvalidPartOrder", "The list of parts was not in ascending order.")
            part = uploaded.get(number)
            if part is None or part.etag.strip('"') != etag.strip('"'):
                raise RefusedError(400, "InvalidPart", f"Part {number} was not uploaded or its ETag does not match.")
            chosen.append(part)
        if any(part.size < _MIN_PART for part in chosen[:-1]):
            raise RefusedError(400, "EntityTooSmall", "Every part but the last must be at least 1 MiB.")
        temp = self.store.temp_path()
        etag = await run_in_threadpool(self._join, chosen, temp)
        stored = await run_in_threadpool(
            self.store.put_file,
            target.bucket,
            target.key,
            temp,
            content_type=upload.content_type,
            metadata=upload.metadata,
            headers=upload.headers,
            acl=upload.acl,
            forbid_overwrite=request.headers.get("x-cos-forbid-overwrite", "").lower() == "true",
            etag=etag,
            extra=upload.extra,
        )
        if stored is None:
            raise RefusedError(
                409, "FileAlreadyExists", "The object already exists and x-cos-forbid-overwrite is true."
            )
        self.uploads.remove(upload.upload_id)
        location = f"{target.bucket}.cos.{target.region}.myqcloud.com/{target.key}"
        tree = {"Location": location, "Bucket": target.bucket, "Key": target.key, "ETag": stored.etag}
        response = xml(tree, "CompleteMultipartUploadResult", {**sse_headers(stored.extra), **version_header(stored)})
        response.background = self.notify(stored, COMPLETE_EVENT)
        return response

    @staticmethod
    def _wanted_parts(body: bytes) -> list[tuple[int, str]]:
        try:
            tree = element_to_tree(parse_xml(body))
        except (CiflowError, ValueError) as exc:
            raise RefusedError(400, "MalformedXML", f"The XML you provided was not well-formed: {exc}") from None
        items = tree.get("Part", []) if isinstance(tree, dict) else []
        items = items if isinstance(items, list) else [items]
        wanted: list[tuple[int, str]] = []
        for item in items:
            if not isinstance(item, dict) or not str(item.get("PartNumber", "")).isdigit() or "ETag" not in item:
                raise RefusedError(400, "MalformedXML", "Each Part needs a PartNumber and an ETag.")
            wanted.append((int(item["PartNumber"]), str(item["ETag"])))
        if not wanted:
            raise RefusedError(400, "MalformedXML", "CompleteMultipartUpload names no Part.")
        return wanted

    @staticmethod
    def _join(parts: list[Part], temp: Any) -> str:
        """Concatenate the parts into ``temp``; the multipart ETag (quoted)."""
        digests = hashlib.md5()
        with open(temp, "wb") as out:
            for part in parts:
                digests.update(bytes.fromhex(part.etag.strip('"')))
                with open(part.path, "rb") as handle:
                    shutil.copyfileobj(handle, out, CHUNK)
        return f'"{digests.hexdigest()}-{len(parts)}"'

    async def abort(self, request: Request, target: Target) -> Response:
        """``DELETE /<key>?uploadId=…``: the upload and its parts are gone."""
        upload = self._upload(target)
        self.uploads.remove(upload.upload_id)
        return Response(status_code=204)

    async def list_uploads(self, request: Request, target: Target) -> Response:
        """``GET /?uploads``: uploads in progress by key then age, rolled up at ``delimiter``."""
        params = target.params
        prefix, delimiter = params.get("prefix", ""), params.get("delimiter", "")
        key_marker, id_marker = params.get("key-marker", ""), params.get("upload-id-marker", "")
        max_uploads = min(_number(params.get("max-uploads") or "1000", "max-uploads", 0, 10**9), _MAX_LISTED)
        items: list[PendingUpload | str] = []
        rolled: str | None = None
        for upload in self.uploads.listing(target.bucket, prefix, key_marker, id_marker):
            cut = upload.key.find(delimiter, len(prefix)) if delimiter else -1
            if cut < 0:
                items.append(upload)
            elif upload.key[: cut + len(delimiter)] != rolled:
                rolled = upload.key[: cut + len(delimiter)]
                items.append(rolled)
            if len(items) > max_uploads:
                break
        truncated = len(items) > max_uploads
        items = list(islice(items, max_uploads))
        encode = encoder(target)
        last = items[-1] if truncated and items else None
        tree: dict[str, Any] = {
            "Bucket": target.bucket,
            "EncodingType": params.get("encoding-type") or None,
            "KeyMarker": encode(key_marker),
            "UploadIdMarker": id_marker,
            "NextKeyMarker": None if last is None else encode(last if isinstance(last, str) else last.key),
            "NextUploadIdMarker": None if last is None or isinstance(last, str) else last.upload_id,
            "Prefix": encode(prefix),
            "Delimiter": encode(delimiter) if delimiter else None,
            "MaxUploads": str(max_uploads),
            "IsTruncated": "true" if truncated else "false",
            "Upload": [
                {
                    "Key": encode(item.key),
                    "UploadId": item.upload_id,
                    "StorageClass": item.headers.get("x-cos-storage-class", "STANDARD"),
                    "Initiator": _owner(target),
                    "Owner": _owner(target),
                    "Initiated": iso8601(item.initiated),
                }
                for item in items
                if not isinstance(item, str)
            ],
            "CommonPrefixes": [{"Prefix": encode(item)} for item in items if isinstance(item, str)],
        }
        return xml(tree, "ListMultipartUploadsResult")
