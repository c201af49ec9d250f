"""Bucket-level COS calls on an ObjectStore: list objects (v1), multi-delete (version-aware: ``VersionId``
removes that version, a versioned bucket gets delete markers), multipart upload listing, the bucket's region (``GET
/?location``) and ``PUT``/``HEAD`` of a bucket (every bucket exists as soon as it is addressed)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ciflow.codec import from_xml, to_tree
from ciflow.errors import CiflowError
from ciflow.models.cos import CommonPrefix, Deleted, DeleteRequest, DeleteResult, ListBucketResult, ObjectSummary, Owner

from ._app import Target
from ._cos_common import RefusedError, check_digest, content_md5, encoder, iso8601, small_body, xml
from ._multipart import MultipartApi
from ._storage import ObjectStore, StoredObject
from ._versions import Archived

__all__ = ["BucketCalls"]

_MAX_DELETE_KEYS = 1000
_MAX_LIST_KEYS = 1000


class BucketCalls:
    """The handlers ``_cos_routes.BUCKET_ROUTES`` names."""

    def __init__(self, store: ObjectStore, multipart: MultipartApi) -> None:
        self.store = store
        self.multipart = multipart

    async def head_bucket(self, request: Request, target: Target) -> Response:
        return Response(status_code=200, headers={"x-cos-bucket-region": target.region})

    async def get_location(self, request: Request, target: Target) -> Response:
        """``GET /?location``: the bucket's region (the one its host names), as ``<LocationConstraint>``."""
        body = f'<?xml version="1.0" encoding="UTF-8"?><LocationConstraint>{target.region}</LocationConstraint>'
        return Response(body, media_type="application/xml")

    async def list_uploads(self, request: Request, target: Target) -> Response:
        return await self.multipart.list_uploads(request, target)

    async def list(self, request: Request, target: Target) -> Response:
        """``GET /`` (list objects v1): keys after ``marker`` under ``prefix``, rolled up at ``delimiter``."""
        query = target.params
        prefix, marker, delimiter = query.get("prefix", ""), query.get("marker", ""), query.get("delimiter", "")
        max_keys_text = query.get("max-keys", str(_MAX_LIST_KEYS))
        if not max_keys_text.isdigit():
            raise RefusedError(400, "InvalidArgument", "max-keys must be a non-negative integer")
        max_keys = min(int(max_keys_text), _MAX_LIST_KEYS)
        items = list(islice(self._entries(target.bucket, prefix, marker, delimiter), max_keys + 1))
        truncated = len(items) > max_keys
        items = items[:max_keys]
        encode = encoder(target)
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
        return xml(tree, "ListBucketResult", {"x-cos-bucket-region": target.region})

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
        return {"Key": tree.pop("Key"), "LastModified": iso8601(stored.last_modified), **tree}

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

    async def delete_many(self, request: Request, target: Target) -> Response:
        """``POST /?delete``: up to 1000 keys; absent keys count as deleted; ``Quiet`` lists failures only."""
        expected = content_md5(request)
        if expected is None:
            raise RefusedError(400, "InvalidRequest", "Missing required header for this request: Content-MD5")
        body = await small_body(request)
        check_digest(expected, hashlib.md5(body).digest())
        try:
            wanted = from_xml(DeleteRequest, body, root="Delete")
        except CiflowError as exc:
            raise RefusedError(400, "MalformedXML", f"The XML you provided was not well-formed: {exc}") from None
        if not 0 < len(wanted.object) <= _MAX_DELETE_KEYS:
            raise RefusedError(400, "MalformedXML", f"A multi-delete names 1 to {_MAX_DELETE_KEYS} keys")
        deleted: list[Deleted] = []
        for item in wanted.object:
            if item.version_id is not None:
                removed = self.store.delete_version(target.bucket, item.key, item.version_id)
                was_marker = isinstance(removed, Archived) and removed.marker
                deleted.append(Deleted(key=item.key, version_id=item.version_id, delete_marker=was_marker or None))
                continue
            _, marker = self.store.delete_object(target.bucket, item.key)
            if marker is None:
                deleted.append(Deleted(key=item.key))
            else:
                deleted.append(Deleted(key=item.key, delete_marker=True, delete_marker_version_id=marker))
        return xml(to_tree(DeleteResult(deleted=[] if wanted.quiet else deleted)), "DeleteResult")
