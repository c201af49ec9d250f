"""COS object operations the handlers need: head, get, put, copy, delete, multi-delete, list, ACL.

An object key is the path after the bucket's ``/``. Like the official SDK (``cos_comm.format_path``,
``CosConfig.uri``), one leading ``/`` of a key is dropped: ``"/a"`` and ``"a"`` name the same object, and so do
the SDK and ciflow given the same string (``"//a"`` names the object ``/a`` in both). A copy source key is
treated the same way. A key that is empty, or only ``/``, is refused: it would address the bucket itself.
Unlike the SDK, ``.`` and ``..`` segments are sent encoded and reach the server as part of the key (the SDK's
URL library resolves a trailing one away: its ``put_object(Key="a/..")`` becomes ``PUT /``).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from urllib.parse import quote, unquote

import httpx

from ..client import Operation, header_items
from ..codec import from_xml, to_xml
from ..errors import ServiceError, service_error_for
from ..models.cos import (
    CopyObjectResult,
    DeleteObject,
    DeleteRequest,
    DeleteResult,
    ErrorBody,
    ListBucketResult,
    ObjectContent,
    ObjectHead,
    ObjectWriteResult,
)

__all__ = [
    "head_object",
    "get_object",
    "put_object",
    "copy_object",
    "delete_object",
    "delete_objects",
    "list_objects",
    "put_object_acl",
    "MAX_DELETE_KEYS",
]

#: COS accepts at most this many keys in one multi-delete.
MAX_DELETE_KEYS = 1000


def _object_key(key: str) -> str:
    """The key as COS stores it: one leading ``/`` dropped, as the SDK does; empty keys refused."""
    stored = key[1:] if key.startswith("/") else key
    if not stored:
        raise ValueError(f"an object key must not be empty (got {key!r})")
    return stored


def _key_path(key: str) -> str:
    return "/" + _object_key(key)


def _nothing(_: httpx.Response) -> None:
    return None


def head_object(key: str) -> Operation[ObjectHead]:
    """``HEAD /<key>``: the object's size, type, ETag and ``x-cos-meta-*`` metadata (404 -> NotFoundError)."""
    return Operation("HeadObject", "HEAD", "cos", _key_path(key), read=lambda r: ObjectHead.from_headers(r.headers))


def get_object(key: str, *, byte_range: tuple[int, int | None] | None = None) -> Operation[ObjectContent]:
    """``GET /<key>``, optionally one byte range (``(first, last)`` inclusive, or ``(first, None)`` to the end)."""
    headers: dict[str, str | None] = {}
    if byte_range is not None:
        first, last = byte_range
        headers["Range"] = f"bytes={first}-{'' if last is None else last}"

    def read(response: httpx.Response) -> ObjectContent:
        return ObjectContent(
            head=ObjectHead.from_headers(response.headers),
            content=response.content,
            content_range=response.headers.get("content-range"),
        )

    return Operation("GetObject", "GET", "cos", _key_path(key), read=read, headers=header_items(headers))


def _write_result(response: httpx.Response) -> ObjectWriteResult:
    return ObjectWriteResult(
        etag=response.headers.get("etag"),
        version_id=response.headers.get("x-cos-version-id"),
        crc64=response.headers.get("x-cos-hash-crc64ecma"),
    )


def _metadata_headers(metadata: Mapping[str, str]) -> dict[str, str | None]:
    return {f"x-cos-meta-{name}": value for name, value in metadata.items()}


def put_object(
    key: str,
    body: bytes,
    *,
    content_type: str = "application/octet-stream",
    metadata: Mapping[str, str] | None = None,
    forbid_overwrite: bool = False,
    acl: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Operation[ObjectWriteResult]:
    """``PUT /<key>`` with a Content-MD5 COS verifies; ``forbid_overwrite`` makes an existing key a 409.

    Retried as idempotent: the same bytes to the same key converge (with ``forbid_overwrite`` a retry after
    an unseen success answers 409 ``FileAlreadyExists``, which callers treat as "already written").
    """
    all_headers: dict[str, str | None] = {
        "Content-Type": content_type,
        "Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode(),
        "x-cos-forbid-overwrite": "true" if forbid_overwrite else None,
        "x-cos-acl": acl,
        **_metadata_headers(metadata or {}),
        **(headers or {}),
    }
    return Operation(
        "PutObject",
        "PUT",
        "cos",
        _key_path(key),
        read=_write_result,
        headers=header_items(all_headers),
        body=body,
    )


def _read_copy(response: httpx.Response) -> CopyObjectResult:
    # COS may answer 200 with an <Error> body when a copy fails part-way.
    if b"<Error>" in response.content[:512]:
        raise _copy_failure(response)
    return from_xml(CopyObjectResult, response.content, root="CopyObjectResult")


def _copy_failure(response: httpx.Response) -> ServiceError:
    error = from_xml(ErrorBody, response.content, root="Error")
    code = error.code or "InternalError"
    return service_error_for(500, code)(
        500, code, error.message or "", request_id=error.request_id or "", trace_id=error.trace_id or ""
    )


def copy_object(
    key: str,
    *,
    source_bucket: str,
    source_region: str,
    source_key: str,
    replace_metadata: Mapping[str, str] | None = None,
    content_type: str | None = None,
    acl: str | None = None,
) -> Operation[CopyObjectResult]:
    """``PUT /<key>`` with ``x-cos-copy-source``; ``replace_metadata`` switches the directive to ``Replaced``."""
    source = f"{source_bucket}.cos.{source_region}.myqcloud.com/{quote(_object_key(source_key), safe='/-_.~')}"
    headers: dict[str, str | None] = {
        "x-cos-copy-source": source,
        "x-cos-metadata-directive": "Replaced" if replace_metadata is not None else "Copy",
        "Content-Type": content_type if replace_metadata is not None else None,
        "x-cos-acl": acl,
        **_metadata_headers(replace_metadata or {}),
    }
    return Operation("CopyObject", "PUT", "cos", _key_path(key), read=_read_copy, headers=header_items(headers))


def delete_object(key: str) -> Operation[None]:
    """``DELETE /<key>``: 204 whether or not the key existed."""
    return Operation("DeleteObject", "DELETE", "cos", _key_path(key), read=_nothing)


def delete_objects(keys: Iterable[str], *, quiet: bool = False) -> Operation[DeleteResult]:
    """``POST /?delete`` for up to 1000 keys; per-key failures come back in ``DeleteResult.error``."""
    objects = [DeleteObject(key=key) for key in keys]
    if not 0 < len(objects) <= MAX_DELETE_KEYS:
        raise ValueError(f"delete_objects takes 1..{MAX_DELETE_KEYS} keys, got {len(objects)}")
    body = to_xml(DeleteRequest(quiet=quiet, object=objects), "Delete")
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    return Operation(
        "DeleteObjects",
        "POST",
        "cos",
        "/",
        read=lambda r: from_xml(DeleteResult, r.content, root="DeleteResult"),
        params=(("delete", ""),),
        headers=(("Content-MD5", md5),),
        body=body,
    )


def _read_listing(response: httpx.Response) -> ListBucketResult:
    result = from_xml(ListBucketResult, response.content, root="ListBucketResult")
    if (result.encoding_type or "").lower() == "url":
        # Keys were sent percent-encoded so that any byte survives XML; decode them back.
        for item in result.contents:
            item.key = unquote(item.key)
        for prefix in result.common_prefixes:
            prefix.prefix = unquote(prefix.prefix)
        result.next_marker = unquote(result.next_marker) if result.next_marker else result.next_marker
    return result


def list_objects(
    prefix: str = "",
    *,
    marker: str = "",
    delimiter: str = "",
    max_keys: int = 1000,
) -> Operation[ListBucketResult]:
    """``GET /`` one page of keys under ``prefix``; ``client.paginate`` follows ``NextMarker`` to the end."""
    params = [("prefix", prefix), ("max-keys", str(max_keys)), ("encoding-type", "url")]
    if marker:
        params.append(("marker", marker))
    if delimiter:
        params.append(("delimiter", delimiter))

    def next_page(page: ListBucketResult) -> Operation[ListBucketResult] | None:
        if not page.is_truncated:
            return None
        after = page.next_marker or (page.contents[-1].key if page.contents else "")
        return list_objects(prefix, marker=after, delimiter=delimiter, max_keys=max_keys) if after else None

    return Operation("ListObjects", "GET", "cos", "/", read=_read_listing, params=tuple(params), next_page=next_page)


def put_object_acl(key: str, acl: str) -> Operation[None]:
    """``PUT /<key>?acl`` with ``x-cos-acl`` (``private``, ``public-read`` or ``default``)."""
    if acl not in {"private", "public-read", "default"}:
        raise ValueError(f"unsupported canned ACL {acl!r}")
    return Operation(
        "PutObjectAcl",
        "PUT",
        "cos",
        _key_path(key),
        read=_nothing,
        params=(("acl", ""),),
        headers=(("x-cos-acl", acl),),
    )
