"""CI's management APIs over ``CiAccount``: bucket binding (pic host), service activation, queues, HLS play keys.

Shapes follow the CI docs' samples: ``GET /mediabucket`` (``MediaBucketList``), ``/docbucket``
(``DocBucketList``), ``/asrbucket`` (``AsrBucketList``), ``/ai_bucket`` (``AiBucketList``), ``/file_bucket`` and
``/picbucket`` (as the official Go SDK reads them); ``POST`` activates (``<AiBucket>`` …) and ``DELETE``
deactivates (``<RequestId>`` only for ``/mediabucket``, as documented; ``<BucketName>`` too for the others, as
the official Python SDK reads them); the queue listings ``/queue``, ``/picqueue``,
``/file_queue``, ``/asrqueue``, ``/ai_queue`` (repeated ``<NonExistPIDs>id</NonExistPIDs>``) and ``/docqueue``
(``<NonExistPIDs><QueueID>id</QueueID></NonExistPIDs>``); ``PUT /<queue API>/<QueueId>`` (name, state,
``NotifyConfig``; answers ``<Queue>``); ``GET``/``PUT /playKey`` (``<PlayKeyList>``); the pic host's ``<CIStatus>``.
Activation and play-key answers are JSON when the request's ``Accept`` asks for ``application/json``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ciflow.codec import element_to_tree, parse_xml, tree_to_xml
from ciflow.errors import CiflowError

from ._account import UNBOUND_CODE, CiAccount, Queue
from ._app import Target, error_response
from .workers import ci_time

__all__ = ["ManagementApi", "PicHostApi", "MANAGEMENT_PATHS"]

#: Listing path -> (service, list element, element of the activation answer or None when not documented).
_BUCKET_APIS: dict[str, tuple[str, str, str | None]] = {
    "mediabucket": ("media", "MediaBucketList", "MediaBucket"),
    "file_bucket": ("file", "FileBucketList", "FileBucket"),
    "docbucket": ("doc", "DocBucketList", None),
    "picbucket": ("pic", "PicBucketList", "PicBucket"),
    "asrbucket": ("asr", "AsrBucketList", "AsrBucket"),
    "ai_bucket": ("ai", "AiBucketList", "AiBucket"),
}
_QUEUE_APIS = {
    "queue": "media",
    "file_queue": "file",
    "docqueue": "doc",
    "picqueue": "pic",
    "asrqueue": "asr",
    "ai_queue": "ai",
}
MANAGEMENT_PATHS = frozenset(_BUCKET_APIS) | frozenset(_QUEUE_APIS) | {"playKey"}
_MAX_BODY = 64 * 1024
_MEDIA_CATEGORIES = {"CateAll", "Transcoding", "SpeedTranscoding"}


class _RefusedError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _xml(tree: Mapping[str, Any], root: str = "Response") -> Response:
    return Response(tree_to_xml(root, tree), media_type="application/xml")


def _answer(request: Request, tree: Mapping[str, Any]) -> Response:
    """XML, or JSON of the same tree when the request accepts only JSON (as the activation APIs do)."""
    if "application/json" in request.headers.get("accept", ""):
        return Response(json.dumps(tree).encode(), media_type="application/json")
    return _xml(tree)


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

    async def handle(self, request: Request, target: Target, parts: list[str]) -> Response:
        try:
            return await self._route(request, target, parts)
        except _RefusedError as refused:
            return error_response(refused.status, refused.code, refused.message, target, "/" + "/".join(parts))

    async def _route(self, request: Request, target: Target, parts: list[str]) -> Response:
        method, path = request.method, parts[0]
        if len(parts) == 1 and path in _BUCKET_APIS:
            if method == "GET":
                return self._list_buckets(target, path)
            if target.bucket and method in ("POST", "DELETE"):
                return self._activate(request, target, path, active=method == "POST")
        elif path in _QUEUE_APIS and target.bucket:
            if len(parts) == 1 and method == "GET":
                return self._list_queues(target, _QUEUE_APIS[path])
            if len(parts) == 2 and method == "PUT":
                return self._update_queue(target, _QUEUE_APIS[path], parts[1], await _body_tree(request))
        elif path == "playKey" and len(parts) == 1 and target.bucket and method in ("GET", "PUT"):
            return self._play_keys(request, target)
        elif path in _QUEUE_APIS:
            raise _RefusedError(400, "InvalidHost", "queues are served on <bucket>.ci.<region>.myqcloud.com")
        raise _RefusedError(405, "MethodNotAllowed", f"{method} is not supported on /{'/'.join(parts)} at this host")

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

    def _activate(self, request: Request, target: Target, path: str, *, active: bool) -> Response:
        service, _, created_element = _BUCKET_APIS[path]
        if created_element is None or (not active and path == "file_bucket"):
            raise _RefusedError(405, "MethodNotAllowed", f"/{path} cannot be changed through the API")
        self.account.note(target.bucket, target.region)
        self.account.activate(target.bucket, service, active=active)
        if not active:
            # ``DELETE /mediabucket`` is documented with ``RequestId`` alone; the other services' answers carry
            # ``BucketName``, which the official Python SDK reads (``data['BucketName']``).
            named = {} if path == "mediabucket" else {"BucketName": target.bucket}
            return _answer(request, {"RequestId": target.request_id, **named})
        created = {"BucketId": target.bucket, "Name": target.bucket, "Region": target.region}
        answer = {created_element: {**created, "CreateTime": ci_time(time.time())}}
        return _answer(request, {"RequestId": target.request_id, **answer})

    def _update_queue(self, target: Target, family: str, queue_id: str, tree: dict[str, Any]) -> Response:
        refusal = self.account.refusal(target.bucket, family)
        if refusal is not None:
            raise _RefusedError(400, UNBOUND_CODE, refusal)
        queue = self.account.queue(queue_id)
        if queue is None or queue.family != family:
            raise _RefusedError(404, "QueueNotFound", f"queue {queue_id} does not exist")
        name, state, notify = tree.get("Name"), tree.get("State"), tree.get("NotifyConfig")
        if not isinstance(name, str) or not name:
            raise _RefusedError(400, "InvalidArgument", "Name is required")
        if state not in ("Active", "Paused"):
            raise _RefusedError(400, "InvalidArgument", "State must be Active or Paused")
        if notify is not None and not isinstance(notify, dict):
            raise _RefusedError(400, "InvalidArgument", "NotifyConfig must be a container")
        settings = {str(k): str(v) for k, v in notify.items() if isinstance(v, str)} if notify else None
        updated = self.account.update_queue(queue_id, name=name, state=state, notify=settings)
        return _xml({"RequestId": target.request_id, "Queue": _queue_tree(updated, target)})

    def _play_keys(self, request: Request, target: Target) -> Response:
        if request.method == "PUT":
            params = target.params
            master, backup = params.get("masterPlayKey"), params.get("backupPlayKey")
            if not master and not backup:
                raise _RefusedError(400, "InvalidArgument", "give masterPlayKey and/or backupPlayKey")
            for key in (master, backup):
                if key and not (len(key) == 32 and key.isalnum()):
                    raise _RefusedError(400, "InvalidArgument", "a play key is 32 letters and digits")
            keys = self.account.set_play_keys(target.bucket, master, backup)
        else:
            keys = self.account.play_keys(target.bucket)
        listing = {"MasterPlayKey": keys[0], "BackupPlayKey": keys[1]}
        return _answer(request, {"RequestId": target.request_id, "PlayKeyList": listing})

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
        if state and state != "All":
            queues = [queue for queue in queues if queue.state == state]
        category = params.get("category") or ("Transcoding" if family == "media" else "CateAll")
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
        "NotifyConfig": dict(queue.notify),
        "MaxSize": "10000",
        "MaxConcurrent": "10",
        "UpdateTime": ci_time(queue.updated or queue.created),
        "CreateTime": ci_time(queue.created),
    }
    if queue.family == "doc":
        tree["BucketId"] = target.bucket
    if queue.category is not None:
        tree["Category"] = queue.category
    return tree


async def _body_tree(request: Request) -> dict[str, Any]:
    """A ``<Request>`` body as a plain tree; ``_RefusedError`` for anything else."""
    body = await request.body()
    if len(body) > _MAX_BODY:
        raise _RefusedError(400, "InvalidArgument", f"request body over {_MAX_BODY} bytes")
    try:
        element = parse_xml(body, max_bytes=_MAX_BODY)
    except CiflowError as exc:
        raise _RefusedError(400, "InvalidArgument", f"unreadable XML body: {exc}") from None
    tree = element_to_tree(element)
    if not element.tag.endswith("Request") or not isinstance(tree, dict):
        raise _RefusedError(400, "InvalidArgument", "the body must be a <Request> document")
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
