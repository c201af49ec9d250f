"""Synchronous CI calls: GenerateSnapshot (``POST /snapshot``) and the COS host's ``ci-process`` reads — snapshot,
videoinfo, pm3u8, doc-preview.

Built over ``_ci``'s generic builders and ``_cos``'s object keys; the model modules load when an operation is built.
Reads without side effects are retried like any idempotent call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import httpx

from ..client import Operation
from ._ci import _call, _endpoint, _model, _reader
from ._cos import _key_path

if TYPE_CHECKING:
    from ..models.sync import (
        GenerateSnapshotRequest,
        GenerateSnapshotResponse,
        MediaInfoResponse,
        SnapshotQuery,
        SyncContent,
    )

__all__ = ["generate_snapshot", "get_snapshot", "get_media_info", "get_private_m3u8", "doc_preview"]

#: ``expires`` bounds of pm3u8, in seconds.
_M3U8_EXPIRES = (3600, 43200)


def _content(response: httpx.Response) -> SyncContent:
    model: type[SyncContent] = _model("sync.SyncContent")
    pages = response.headers.get("x-total-page")
    return model(
        content=response.content,
        content_type=response.headers.get("content-type"),
        total_pages=int(pages) if pages and pages.isdigit() else None,
    )


def generate_snapshot(request: GenerateSnapshotRequest) -> Operation[GenerateSnapshotResponse]:
    """``POST /snapshot`` on the CI host: one frame of ``Input.Object`` written to ``Output``, answered when done."""
    return _call("GenerateSnapshot", "POST", _endpoint("/snapshot", "sync.GenerateSnapshotResponse"), body=request)


def get_snapshot(key: str, query: SnapshotQuery) -> Operation[SyncContent]:
    """``GET /<key>?ci-process=snapshot&time=…`` on the COS host: the frame itself (JPEG or PNG)."""
    return Operation("GetSnapshot", "GET", "cos", _key_path(key), read=_content, params=query.to_params())


def get_media_info(key: str) -> Operation[MediaInfoResponse]:
    """``GET /<key>?ci-process=videoinfo`` on the COS host: the object's ``MediaInfo``."""
    read = _reader(_model("sync.MediaInfoResponse"))
    return Operation("GetMediaInfo", "GET", "cos", _key_path(key), read=read, params=(("ci-process", "videoinfo"),))


def get_private_m3u8(key: str, expires: int) -> Operation[SyncContent]:
    """``GET /<key>?ci-process=pm3u8&expires=…``: the playlist with its segments' URLs signed for ``expires`` s."""
    if not _M3U8_EXPIRES[0] <= expires <= _M3U8_EXPIRES[1]:
        raise ValueError(f"expires must be {_M3U8_EXPIRES[0]}-{_M3U8_EXPIRES[1]} seconds, got {expires}")
    params = (("ci-process", "pm3u8"), ("expires", str(expires)))
    return Operation("GetPrivateM3U8", "GET", "cos", _key_path(key), read=_content, params=params)


def doc_preview(key: str, params: Mapping[str, str] | None = None) -> Operation[SyncContent]:
    """``GET /<key>?ci-process=doc-preview&…``: a document page as an image, PDF, text or HTML (``dstType``,
    ``page``, ``srcType``, ``ImageParams`` … as documented, passed through); ``total_pages`` from ``X-Total-Page``."""
    pairs = (("ci-process", "doc-preview"), *((name, value) for name, value in (params or {}).items()))
    return Operation("DocPreview", "GET", "cos", _key_path(key), read=_content, params=tuple(pairs))
