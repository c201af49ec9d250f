"""CI's management APIs over ``CiAccount``: bucket binding (pic host), service activation and queue listings.

Shapes follow the CI docs' samples: ``GET /mediabucket`` (``MediaBucketList``), ``/docbucket``
(``DocBucketList``), ``/file_bucket`` and ``/picbucket`` (as the official Go SDK reads them), the queue
listings ``/queue``, ``/picqueue``, ``/file_queue`` (repeated ``<NonExistPIDs>id</NonExistPIDs>``) and
``/docqueue`` (``<NonExistPIDs><QueueID>id</QueueID></NonExistPIDs>``), and the pic host's ``<CIStatus>``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ciflow.codec import tree_to_xml

from ._account import UNBOUND_CODE, CiAccount, Queue
from ._app import Target, error_response
from ._workers import ci_time

__all__ = ["ManagementApi", "PicHostApi", "MANAGEMENT_PATHS"]

#: Listing path -> (service, list element, element of the activation answer or None when not documented).
_BUCKET_APIS: dict[str, tuple[str, str, str | None]] = {
    "mediabucket": ("media", "MediaBucketList", "MediaBucket"),
    "file_bucket": ("file", "FileBucketList", "FileBucket"),
    "docbucket": ("doc", "DocBucketList", None),
    "picbucket": ("pic", "PicBucketList", "PicBucket"),
}
_QUEUE_APIS = {"queue": "media", "file_queue": "file", "docqueue": "doc", "picqueue": "pic"}
MANAGEMENT_PATHS = frozenset(_BUCKET_APIS) | frozenset(_QUEUE_APIS)
_MEDIA_CATEGORIES = {"CateAll", "Transcoding", "SpeedTranscoding"}


class _RefusedError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _xml(tree: Mapping[str, Any], root: str = "Response") -> Response:
    return Response(tree_to_xml(root, tree), media_type="application/xml")


def _page(params: Mapping[str, str]) -> tuple[int, int]:
    values = []
    for name, default in (("pageNumber", 1), ("pageSize", 10)):
        text = params.get(name) or str(default)
        if not text.isdigit() or not 1 <= int(text) <= (100 if name == "pageSize" else 10**6):
            raise _RefusedError(400, "InvalidArgument", f"{name} must be a positive integer (pageSize at most 100)")
        values.append(int(text))
    return values[0], values[1]


def _names(params: Mapping[str, str], name: str) -> list[str]:
    return [item.strip() for item in params.get(name, "").split(",") if item.strip()]


class ManagementApi:
    """The CI host's ``/mediabucket``-style and queue APIs; the bucket-less ``ci.<region>`` host lists only."""

    def __init__(self, account: CiAccount) -> None:
        self.account = account

    async def handle(self, request: Request, target: Target, path: str) -> Response:
        try:
            return self._route(request.method, target, path)
        except _RefusedError as refused:
            return error_response(refused.status, refused.code, refused.message, target, "/" + path)

    def _route(self, method: str, target: Target, path: str) -> Response:
        if path in _BUCKET_APIS:
            if method == "GET":
                return self._list_buckets(target, path)
            if target.bucket and method in ("POST", "DELETE"):
                return self._activate(target, path, active=method == "POST")
        elif path in _QUEUE_APIS and method == "GET":
            if not target.bucket:
                raise _RefusedError(400, "InvalidHost", "queues are listed on <bucket>.ci.<region>.myqcloud.com")
            return self._list_queues(target, _QUEUE_APIS[path])
        raise _RefusedError(405, "MethodNotAllowed", f"{method} is not supported on /{path} at this host")

    def _list_buckets(self, target: Target, path: str) -> Response:
        service, element, _ = _BUCKET_APIS[path]
        params = target.params
        number, size = _page(params)
        regions = set(_names(params, "regions")) - {"All"}
        prefix = params.get("bucketName", "")
        entries = []
        for bucket, region, created in self.account.active_buckets(service, _names(params, "bucketNames")):
            region = region or target.region
            if bucket.startswith(prefix) and (not regions or region in regions):
                entries.append({"BucketId": bucket, "Name": bucket, "Region": region, "CreateTime": ci_time(created)})
        page = entries[(number - 1) * size : number * size]
        counts = {"TotalCount": str(len(entries)), "PageNumber": str(number), "PageSize": str(size)}
        return _xml({"RequestId": target.request_id, **counts, element: page})

    def _activate(self, target: Target, path: str, *, active: bool) -> Response:
        service, _, created_element = _BUCKET_APIS[path]
        if created_element is None or (not active and path != "mediabucket"):
            raise _RefusedError(405, "MethodNotAllowed", f"/{path} cannot be changed through the API")
        self.account.activate(target.bucket, service, active=active)
        if not active:
            return _xml({"RequestId": target.request_id})
        created = {"BucketId": target.bucket, "Name": target.bucket, "Region": target.region}
        return _xml({"RequestId": target.request_id, created_element: {**created, "CreateTime": ci_time(time.time())}})

    def _list_queues(self, target: Target, family: str) -> Response:
        refusal = self.account.refusal(target.bucket, family)
        if refusal is not None:
            raise _RefusedError(400, UNBOUND_CODE, refusal)
        params = target.params
        queues = self._filtered(family, params)
        wanted = _names(params, "queueIds")
        if wanted:
            found = {queue.queue_id: queue for queue in queues}
            answer: dict[str, Any] = {"RequestId": target.request_id}
            answer["QueueList"] = [_queue_tree(found[i], target) for i in wanted if i in found]
            missing = [i for i in wanted if i not in found]
            if missing:
                answer["NonExistPIDs"] = {"QueueID": missing} if family == "doc" else missing
            return _xml(answer)
        number, size = _page(params)
        page = queues[(number - 1) * size : number * size]
        counts = {"TotalCount": str(len(queues)), "PageNumber": str(number), "PageSize": str(size)}
        return _xml({"RequestId": target.request_id, **counts, "QueueList": [_queue_tree(q, target) for q in page]})

    def _filtered(self, family: str, params: Mapping[str, str]) -> list[Queue]:
        queues = self.account.queues(family)
        state = params.get("state")
        if state:
            queues = [queue for queue in queues if queue.state == state]
        category = params.get("category") or "Transcoding"
        if family == "media" and category not in _MEDIA_CATEGORIES:
            raise _RefusedError(400, "InvalidArgument", f"category must be one of {sorted(_MEDIA_CATEGORIES)}")
        if family == "media" and category != "CateAll":
            queues = [queue for queue in queues if queue.category == category]
        return queues


def _queue_tree(queue: Queue, target: Target) -> dict[str, Any]:
    tree: dict[str, Any] = {
        "QueueId": queue.queue_id,
        "Name": queue.name,
        "State": queue.state,
        "NotifyConfig": {"Url": "", "Event": "", "Type": "", "State": "Off"},
        "MaxSize": "10000",
        "MaxConcurrent": "10",
        "UpdateTime": ci_time(queue.created),
        "CreateTime": ci_time(queue.created),
    }
    if queue.family == "doc":
        tree["BucketId"] = target.bucket
    tree["Category"] = queue.category
    return tree


class PicHostApi:
    """``<bucket>.pic.<region>.myqcloud.com``: query (``GET /``), bind (``PUT /``) and unbind (``PUT /?unbind``) CI."""

    def __init__(self, account: CiAccount) -> None:
        self.account = account

    async def handle(self, request: Request, target: Target) -> Response:
        if target.key:
            return error_response(404, "ResourceNotFound", "only / is served on the pic host", target)
        if request.method == "GET":
            return _ci_status("on" if self.account.is_bound(target.bucket) else "off")
        if request.method == "PUT":
            self.account.bind(target.bucket, bound="unbind" not in target.params)
            return Response(b"", media_type="application/xml")
        return error_response(405, "MethodNotAllowed", f"{request.method} is not supported on /", target)


def _ci_status(status: str) -> Response:
    body = f'<?xml version="1.0" encoding="UTF-8" ?>\n<CIStatus>{status}</CIStatus>'
    return Response(body.encode(), media_type="application/xml")
