"""The CI host's job and moderation APIs: bodies read with the request models, answered with the response models.

Served on ``<bucket>.ci.<region>.myqcloud.com``; the account listings (``/mediabucket`` …) also on the bucket-less
``ci.<region>.myqcloud.com``. Management (``_manage``) and template/workflow (``_ci_admin``) paths are routed
to their own modules, as are batch jobs (``/inventorytriggerjob``, ``_batch_jobs``); ``PUT /jobs/<JobId>?cancel``
cancels a job still ``Submitted``.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ciflow.codec import CiModel, decode_tree, element_to_tree, local_name, parse_xml, to_xml, tree_to_xml
from ciflow.errors import CiflowError
from ciflow.models.documents import DocJobsResponse
from ciflow.models.files import FileJobsResponse
from ciflow.models.media import MediaJobsResponse
from ciflow.models.moderation import MODERATION_RESPONSES, ModerationKind
from ciflow.models.pictures import PicJobsResponse

from ._account import UNBOUND_CODE, CiAccount
from ._answers import CiAnswer
from ._app import Target, error_response
from ._batch_jobs import BATCH_PATH, BatchJobApi
from ._ci_admin import ADMIN_PATHS, AdminApi
from ._ci_process import SERVICE_OF
from ._cos import CiProcess
from ._jobs import FAMILY_TAGS, JobEngine, JobError
from ._manage import MANAGEMENT_PATHS, ManagementApi
from ._storage import ObjectStore
from ._templates import TemplateError
from .workers import MODERATION_REQUESTS, REQUEST_MODELS, wire_tree

__all__ = ["CiApi", "MAX_BODY_BYTES", "gated_sync_process"]

#: CI refuses request bodies over this size.
MAX_BODY_BYTES = 1024 * 1024
_RESPONSES: dict[str, type[CiModel]] = {
    "jobs": MediaJobsResponse,
    "file_jobs": FileJobsResponse,
    "doc_jobs": DocJobsResponse,
    "pic_jobs": PicJobsResponse,
    "ai_jobs": MediaJobsResponse,
    "asr_jobs": MediaJobsResponse,
}
#: CI APIs the emulator knows of but cannot honestly answer: 501 with the reason.
_NOT_IMPLEMENTED = {
    "virus": "virus detection needs an antivirus engine, which this emulator does not have",
    "webpage": "web page moderation needs to fetch pages from the internet, which this emulator does not do",
}
#: Families whose requests may leave ``Tag`` out (it has one value).
_DEFAULT_TAGS = {"doc_jobs": "DocProcess", "pic_jobs": "PicProcess"}
#: The service a job API needs activated (``/jobs`` takes file tags too: see ``_service_of``).
_SERVICES = {
    "jobs": "media",
    "file_jobs": "file",
    "doc_jobs": "doc",
    "pic_jobs": "pic",
    "ai_jobs": "ai",
    "asr_jobs": "asr",
}


class _RefusedError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _xml(model: CiModel) -> Response:
    return Response(to_xml(model, "Response"), media_type="application/xml")


def _xml_tree(tree: dict[str, Any]) -> Response:
    return Response(tree_to_xml("Response", tree), media_type="application/xml")


async def _request_tree(request: Request) -> dict[str, Any]:
    """The ``<Request>`` body as a plain tree; ``_RefusedError`` (400) for anything unreadable."""
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise _RefusedError(400, "InvalidArgument", f"request body over {MAX_BODY_BYTES} bytes")
    try:
        element = parse_xml(body, max_bytes=MAX_BODY_BYTES)
    except CiflowError as exc:
        raise _RefusedError(400, "InvalidArgument", f"unreadable XML body: {exc}") from None
    if local_name(element.tag) != "Request":
        raise _RefusedError(
            400, "InvalidArgument", f"the body must be a <Request> document, not <{local_name(element.tag)}>"
        )
    tree = element_to_tree(element)
    return tree if isinstance(tree, dict) else {}


def _validated(model: type[CiModel], tree: dict[str, Any]) -> dict[str, Any]:
    """The request tree as its model reads it (the canonical tree the engine stores)."""
    try:
        return wire_tree(decode_tree(model, tree))
    except CiflowError as exc:
        raise _RefusedError(400, "InvalidArgument", str(exc)) from None


class CiApi:
    """``ServiceApi`` of the CI host: ``/jobs``, ``/file_jobs``, ``/doc_jobs``, ``/pic_jobs``, ``/<kind>/auditing``,
    and the management APIs of ``_manage`` over ``account`` (whose bindings and queues gate submissions)."""

    def __init__(self, store: ObjectStore, engine: JobEngine, account: CiAccount | None = None) -> None:
        self.store = store
        self.engine = engine
        self.account = account or CiAccount()
        self.management = ManagementApi(self.account)
        self.admin = AdminApi(store, engine)
        self.batch = BatchJobApi(store, engine, self.account, self.admin)
        #: Requests of ``POST /report/badcase``, in arrival order (with ``Bucket``).
        self.badcases: list[dict[str, Any]] = []

    async def handle(self, request: Request, target: Target) -> Response:
        try:
            return await self._route(request, target)
        except _RefusedError as refused:
            return error_response(refused.status, refused.code, refused.message, target, "/" + target.key)
        except JobError as refused:
            return error_response(refused.status, refused.code, refused.message, target, "/" + target.key)

    async def _route(self, request: Request, target: Target) -> Response:
        parts = target.key.strip("/").split("/") if target.key.strip("/") else []
        method = request.method
        if len(parts) in (1, 2) and parts[0] in MANAGEMENT_PATHS:
            return await self.management.handle(request, target, parts)
        if not target.bucket:
            raise _RefusedError(400, "InvalidHost", "job APIs are served on <bucket>.ci.<region>.myqcloud.com")
        self.account.note(target.bucket, target.region)
        if len(parts) in (1, 2) and parts[0] == BATCH_PATH:
            return await self.batch.handle(request, target, parts)
        if len(parts) in (1, 2) and parts[0] in ADMIN_PATHS:
            return await self.admin.handle(request, target, parts)
        if len(parts) in (1, 2) and parts[0] in FAMILY_TAGS:
            return await self._jobs(request, target, parts[0], parts[1] if len(parts) == 2 else None)
        if len(parts) in (2, 3) and parts[1] == "auditing" and parts[0] in {kind.value for kind in ModerationKind}:
            kind = ModerationKind(parts[0])
            if method == "POST" and len(parts) == 2:
                return await self._moderate(request, target, kind)
            if method == "GET" and len(parts) == 3:
                return await self._query_moderation(target, kind, parts[2])
        if method == "POST" and len(parts) == 3 and parts[:2] == ["video", "cancel_auditing"]:
            return await self._cancel_moderation(target, parts[2])
        if method == "POST" and parts == ["report", "badcase"]:
            return await self._report_badcase(request, target)
        if parts and parts[0] in _NOT_IMPLEMENTED:
            raise _RefusedError(501, "NotImplemented", _NOT_IMPLEMENTED[parts[0]])
        raise _RefusedError(
            404 if method in ("GET", "HEAD") else 405, "ResourceNotFound", f"no API at {method} /{target.key}"
        )

    async def _jobs(self, request: Request, target: Target, family: str, ids: str | None) -> Response:
        method = request.method
        if method == "POST" and ids is None:
            return await self._submit(request, target, family)
        if method == "GET" and ids:
            return await self._describe(target, family, ids)
        if method == "GET":
            details, token = await run_in_threadpool(
                self.engine.list, family, dict(target.params), bucket=target.bucket
            )
            return _xml(_RESPONSES[family].model_validate({"JobsDetail": details, "NextToken": token}))
        if method == "PUT" and ids and "cancel" in target.params:
            await run_in_threadpool(self.engine.cancel, ids)
            return Response(b"", media_type="application/xml")
        raise _RefusedError(405, "MethodNotAllowed", f"{method} is not supported on /{target.key}")

    async def _submit(self, request: Request, target: Target, family: str) -> Response:
        tree = await _request_tree(request)
        tag = str(tree.get("Tag") or _DEFAULT_TAGS.get(family, ""))
        if tag not in FAMILY_TAGS[family]:
            served = ", ".join(sorted(FAMILY_TAGS[family]))
            raise _RefusedError(
                400, "InvalidArgument", f"Tag {tag or '(missing)'} is not served by /{family} ({served})"
            )
        try:
            tree = self.admin.with_template(target.bucket, tag, {**tree, "Tag": tag})
        except TemplateError as refused:
            raise _RefusedError(refused.status, refused.code, refused.message) from None
        canonical = _validated(REQUEST_MODELS[tag], tree)
        self._admit(target, _service_of(family, tag), canonical.get("QueueId"))
        details = await run_in_threadpool(
            lambda: self.engine.submit(family, canonical, bucket=target.bucket, region=target.region)
        )
        return _xml(_RESPONSES[family].model_validate({"JobsDetail": details, "RequestId": target.request_id}))

    def _admit(self, target: Target, service: str | None, queue_id: object) -> None:
        """Refuse a job for a bucket not bound (or its service not activated), or for an unknown queue."""
        refusal = self.account.refusal(target.bucket, service)
        if refusal is not None:
            raise _RefusedError(400, UNBOUND_CODE, refusal)
        if service is not None:
            unknown = self.account.queue_refusal(service, str(queue_id) if queue_id else None)
            if unknown is not None:
                raise _RefusedError(400, "QueueNotFound", unknown)

    async def _describe(self, target: Target, family: str, ids: str) -> Response:
        wanted = [job_id for job_id in ids.split(",") if job_id]
        if not wanted or len(wanted) > 100:
            raise _RefusedError(400, "InvalidArgument", "give from 1 to 100 job ids")
        details, missing = await run_in_threadpool(self.engine.describe, family, wanted, bucket=target.bucket)
        answer = {"JobsDetail": details, "NonExistJobIds": missing, "RequestId": target.request_id}
        return _xml(_RESPONSES[family].model_validate(answer))

    async def _moderate(self, request: Request, target: Target, kind: ModerationKind) -> Response:
        tree = await _request_tree(request)
        canonical = _validated(MODERATION_REQUESTS[kind], tree)
        self._admit(target, None, None)
        details = await run_in_threadpool(
            lambda: self.engine.submit(kind.value, canonical, bucket=target.bucket, region=target.region)
        )
        return _xml(_moderation_response(kind, details, target.request_id))

    async def _cancel_moderation(self, target: Target, job_id: str) -> Response:
        """``POST /video/cancel_auditing/<JobId>``: stops a video moderation job not yet started; a job already
        finished is answered as it stands (nothing left to stop)."""
        details, _missing = await run_in_threadpool(self.engine.describe, "video", [job_id], bucket=target.bucket)
        if not details:
            raise _RefusedError(404, "ResourceNotFound", f"video moderation job {job_id} does not exist")
        if details[0].get("State") == "Submitted":
            await run_in_threadpool(self.engine.cancel, job_id)
            details, _missing = await run_in_threadpool(self.engine.describe, "video", [job_id], bucket=target.bucket)
        return _xml(_moderation_response(ModerationKind.VIDEO, details, target.request_id))

    async def _report_badcase(self, request: Request, target: Target) -> Response:
        """``POST /report/badcase``: a moderation verdict reported as wrong, kept in ``badcases`` (nothing else
        changes: the emulator's verdicts come from its rules)."""
        tree = await _request_tree(request)
        if str(tree.get("ContentType", "")) not in ("1", "2", "3", "4"):
            raise _RefusedError(400, "InvalidArgument", "ContentType must be 1, 2, 3 or 4")
        for name in ("Label", "SuggestedLabel"):
            if not isinstance(tree.get(name), str) or not tree[name]:
                raise _RefusedError(400, "InvalidArgument", f"{name} is required")
        if not (tree.get("Text") or tree.get("Url")):
            raise _RefusedError(400, "InvalidArgument", "give Text or Url")
        self.badcases.append({"Bucket": target.bucket, **tree})
        return _xml_tree({"RequestId": target.request_id})

    async def _query_moderation(self, target: Target, kind: ModerationKind, job_id: str) -> Response:
        details, _missing = await run_in_threadpool(self.engine.describe, kind.value, [job_id], bucket=target.bucket)
        if not details:
            raise _RefusedError(404, "ResourceNotFound", f"moderation job {job_id} does not exist")
        return _xml(_moderation_response(kind, details, target.request_id))


def gated_sync_process(account: CiAccount, process: CiProcess) -> CiProcess:
    """The COS host's ``?ci-process=`` handler, refused like a job when the bucket or its service is not active."""

    async def gated(request: Request, target: Target) -> Response | CiAnswer:
        operation = target.params.get("ci-process", "")
        service = "file" if operation == "filehash" else SERVICE_OF.get(operation)
        refusal = account.refusal(target.bucket, service)
        if refusal is not None:
            return error_response(400, UNBOUND_CODE, refusal, target, "/" + target.key)
        return await process(request, target)

    return gated


def _service_of(family: str, tag: str) -> str:
    return "file" if family == "jobs" and tag in FAMILY_TAGS["file_jobs"] else _SERVICES[family]


def _moderation_response(kind: ModerationKind, details: list[dict[str, Any]], request_id: str) -> CiModel:
    """Image answers list every job; the other kinds answer one ``JobsDetail``."""
    jobs: Any = details if kind is ModerationKind.IMAGE else details[0]
    return MODERATION_RESPONSES[kind].model_validate({"JobsDetail": jobs, "RequestId": request_id})
