"""The CI host's template and workflow APIs over ``TemplateStore`` and ``WorkflowStore``.

``POST /template``, ``PUT``/``DELETE /template/<TemplateId>``, ``GET /template``; ``POST /workflow``,
``PUT /workflow/<WorkflowId>`` (a new ``<MediaWorkflow>``, or ``?active`` / ``?paused``), ``GET /workflow``,
``DELETE /workflow/<WorkflowId>``; ``POST /triggerworkflow?workflowId=&object=``; ``GET /workflowexecution``
and ``GET /workflowexecution/<RunId>``. Answers are ``<Response>`` documents shaped like the CI docs' samples.
Executions run node after node as jobs (``_run_node``; the chaining and the workflow's notifications are
``_workflow_runs``); ``on_upload`` starts the active workflows an uploaded object falls under.

Also ``POST /snapshot`` (GenerateSnapshot, ``_ci_process.generate_snapshot``).

Jobs naming a stored template (``Operation.TemplateId``) run with its parameters where the engine reads them:
``Transcode`` (the template, or a ``HighSpeedHd``/``TranscodePro`` one, joins the engine's transcode template table);
``Snapshot``, ``Animation``, ``SmartCover``, ``SuperResolution``, ``Concat``, ``VideoMontage``, ``VoiceSeparate``,
``VideoProcess`` and ``Tts`` (its parameters become the job's inline element — ``ConcatTemplate``, ``TtsTpl`` … —
unless the job gives its own). A stored template of another ``Tag`` is refused (``InvalidArgument``); other tags
keep the engine's own handling of ``TemplateId``. Watermark templates are stored but not applied: the engine draws
no watermarks.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ciflow.codec import decode_tree, element_to_tree, local_name, parse_xml, tree_to_xml
from ciflow.errors import CiflowError
from ciflow.models.media import Transcode

from ._app import Target, answer_response, error_response
from ._ci_process import generate_snapshot
from ._jobs import FAMILY_TAGS, JobEngine, JobError
from ._storage import ObjectStore
from ._templates import TEMPLATE_CONTAINERS as TEMPLATE_ELEMENTS
from ._templates import TemplateError, TemplateStore
from ._workflow_runs import WorkflowRuns, job_state
from ._workflows import WorkflowStore, submitted_task, unsupported_task
from .workers import REQUEST_MODELS, TRANSCODE_TEMPLATES, wire_tree

__all__ = ["ADMIN_PATHS", "AdminApi"]

#: Job families a workflow node may run in, by preference (``/jobs`` for media, ``/pic_jobs`` for PicProcess).
_NODE_FAMILIES = ("jobs", "pic_jobs")


def _node_family(node_type: str) -> str | None:
    """The job family that runs a workflow node of ``node_type`` (None: the engine has no worker for it)."""
    if node_type not in REQUEST_MODELS or node_type in FAMILY_TAGS["file_jobs"]:
        return None
    return next((family for family in _NODE_FAMILIES if node_type in FAMILY_TAGS[family]), None)


def _workflow_wildcards(template: str, run_id: str) -> str:
    """A workflow output's own wildcards: ``${RunId}``; ``${Ext}`` as the job's ``${ext}``."""
    return template.replace("${RunId}", run_id).replace("${Ext}", "${ext}")


#: Job tags whose stored templates the engine can use, and where: the job ``Operation`` element the template's
#: parameters become (unless the job gives its own), or None for the transcode template table.
_TEMPLATE_USE = {
    "Transcode": None,
    "Snapshot": "Snapshot",
    "Animation": "Animation",
    "SmartCover": "SmartCover",
    "SuperResolution": "SuperResolution",
    "Concat": "ConcatTemplate",
    "VideoMontage": "VideoMontage",
    "VoiceSeparate": "VoiceSeparate",
    "VideoProcess": "VideoProcess",
    "Tts": "TtsTpl",
}
#: Template tags a job tag may name besides its own: Transcode jobs run Ultra-HD and professional templates too.
_ALSO_USES = {"Transcode": frozenset({"HighSpeedHd", "TranscodePro"})}

ADMIN_PATHS = frozenset({"template", "workflow", "triggerworkflow", "workflowexecution", "snapshot"})
_MAX_BODY = 1024 * 1024


def _xml(tree: dict[str, Any]) -> Response:
    return Response(tree_to_xml("Response", tree), media_type="application/xml")


async def _body(request: Request) -> dict[str, Any]:
    body = await request.body()
    if len(body) > _MAX_BODY:
        raise TemplateError(400, "InvalidArgument", f"request body over {_MAX_BODY} bytes")
    try:
        element = parse_xml(body, max_bytes=_MAX_BODY)
    except CiflowError as exc:
        raise TemplateError(400, "InvalidArgument", f"unreadable XML body: {exc}") from None
    tree = element_to_tree(element)
    if local_name(element.tag) != "Request" or not isinstance(tree, dict):
        raise TemplateError(400, "InvalidArgument", "the body must be a <Request> document")
    return tree


class AdminApi:
    """Templates and workflows of every bucket (in memory: a restart forgets them)."""

    def __init__(self, store: ObjectStore, engine: JobEngine | None = None) -> None:
        self.store = store
        self.engine = engine
        self.templates = TemplateStore()
        self.workflows = WorkflowStore(self._job_state if engine is not None else None)
        self.runs = WorkflowRuns(self.workflows)
        if engine is not None:  # workflow jobs report to their workflow, and start the nodes after them
            engine.callback_sender = self.runs.sender(engine.callback_sender)

    def _job_state(self, job_id: str) -> tuple[str, str, str, str, str] | None:
        record = self.engine.get(job_id) if self.engine is not None else None
        return job_state(record) if record is not None else None

    def _run_node(self, target: Target, name: str, node: dict[str, Any], key: str, run_id: str) -> dict[str, Any]:
        """Submit a workflow node's job on ``key`` (see ``_workflows``); the task that reports it."""
        now = time.time()
        node_type, operation = str(node.get("Type") or ""), node.get("Operation")
        family = _node_family(node_type)
        if self.engine is None or family is None or not isinstance(operation, dict):
            return unsupported_task(name, node, now)
        output = operation.get("Output")
        if isinstance(output, dict) and isinstance(output.get("Object"), str):
            operation = {**operation, "Output": {**output, "Object": _workflow_wildcards(output["Object"], run_id)}}
        job: dict[str, Any] = {"Tag": node_type, "Input": {"Object": key}, "Operation": operation}
        try:
            job = self.with_template(target.bucket, node_type, job)
            canonical = wire_tree(decode_tree(REQUEST_MODELS[node_type], job))
            workflow_id, workflow_name, _ = self.workflows.workflow_of(run_id)
            # Kept with the job (never reported by it): its report goes to the workflow (``_workflow_runs``).
            canonical["Workflow"] = {"Name": name, "RunId": run_id, "WorkflowId": workflow_id}
            canonical["Workflow"]["WorkflowName"] = workflow_name
            detail = self.engine.submit(family, canonical, bucket=target.bucket, region=target.region)[0]
        except TemplateError as refused:
            return unsupported_task(name, node, now, refused.message, refused.code)
        except (CiflowError, JobError) as exc:
            return unsupported_task(name, node, now, str(exc), "InvalidArgument")
        return submitted_task(name, node, now, detail["JobId"])

    def start_run(self, bucket: str, region: str, workflow_id: str, key: str, batch_name: str = "") -> str:
        """Trigger ``workflow_id`` on ``key`` (``POST /triggerworkflow``, an upload, a batch job); its RunId."""
        target = Target("ci", bucket, region, "", {}, "")
        return self.workflows.trigger(
            bucket,
            workflow_id,
            key,
            batch_name,
            lambda name, node, obj, run: self._run_node(target, name, node, obj, run),
        )

    def on_upload(self, bucket: str, region: str, key: str, uploaded_at: float) -> list[str]:
        """Start the workflows active at ``uploaded_at`` whose ``ObjectPrefix`` the new ``key`` is under; run ids."""
        return self.runs.on_upload(bucket, region, key, uploaded_at, self.start_run)

    def with_template(self, bucket: str, tag: str, job: dict[str, Any]) -> dict[str, Any]:
        """The job request with its stored template applied (see the module docstring); ``TemplateError`` for a
        template of another tag."""
        operation = job.get("Operation")
        template_id = operation.get("TemplateId") if isinstance(operation, dict) else None
        if not isinstance(operation, dict) or not isinstance(template_id, str):
            return job
        template = self.templates.get(bucket, template_id)
        if template is None:
            return job
        if template["Tag"] != tag and template["Tag"] not in _ALSO_USES.get(tag, ()):
            raise TemplateError(400, "InvalidArgument", f"template {template_id} is a {template['Tag']} template")
        if tag not in _TEMPLATE_USE:
            return job
        params = template[TEMPLATE_ELEMENTS[str(template["Tag"])]]
        element = _TEMPLATE_USE[tag]
        if element is None:
            try:
                TRANSCODE_TEMPLATES[template_id] = (str(template["Name"]), decode_tree(Transcode, params))
            except CiflowError as exc:
                raise TemplateError(400, "InvalidArgument", f"template {template_id}: {exc}") from None
            return job
        # The docs: TemplateId wins over the same parameters given inline.
        return {**job, "Operation": {**operation, element: params}}

    async def handle(self, request: Request, target: Target, parts: list[str]) -> Response:
        try:
            return await self._route(request, target, parts)
        except TemplateError as refused:
            return error_response(refused.status, refused.code, refused.message, target, "/" + "/".join(parts))

    async def _route(self, request: Request, target: Target, parts: list[str]) -> Response:
        method, api, item = request.method, parts[0], parts[1] if len(parts) == 2 else None
        bucket, rid = target.bucket, target.request_id
        if api == "template":
            if method == "POST" and item is None:
                return _xml({"RequestId": rid, "Template": self.templates.create(bucket, await _body(request))})
            if method == "PUT" and item:
                updated = self.templates.update(bucket, item, await _body(request))
                return _xml({"RequestId": rid, "Template": updated})
            if method == "DELETE" and item:
                self.templates.delete(bucket, item)
                return _xml({"RequestId": rid, "TemplateId": item})
            if method == "GET" and item is None:
                return _xml(self.templates.describe(bucket, target.params, rid))
        elif api == "snapshot" and method == "POST" and item is None:
            tree = await _body(request)
            return answer_response(await run_in_threadpool(generate_snapshot, self.store, target, tree), target)
        elif api == "workflow":
            return await self._workflow(request, target, item)
        elif api == "triggerworkflow" and method == "POST" and item is None:
            return self._trigger(target)
        elif api == "workflowexecution" and method == "GET":
            if item:
                return _xml({"RequestId": rid, "WorkflowExecution": self.workflows.execution(bucket, item)})
            listed, token = self.workflows.executions(bucket, target.params)
            return _xml({"RequestId": rid, "WorkflowExecutionList": listed, "NextToken": token})
        raise TemplateError(405, "MethodNotAllowed", f"{method} is not supported on /{'/'.join(parts)}")

    async def _workflow(self, request: Request, target: Target, item: str | None) -> Response:
        method, bucket, rid = request.method, target.bucket, target.request_id
        if method == "POST" and item is None:
            return _xml({"RequestId": rid, "MediaWorkflow": self.workflows.create(bucket, await _body(request))})
        if method == "PUT" and item:
            states = [state for flag, state in (("active", "Active"), ("paused", "Paused")) if flag in target.params]
            if len(states) > 1:
                raise TemplateError(400, "InvalidArgument", "give ?active or ?paused, not both")
            if states:
                return _xml({"RequestId": rid, "MediaWorkflow": self.workflows.set_state(bucket, item, states[0])})
            return _xml({"RequestId": rid, "MediaWorkflow": self.workflows.update(bucket, item, await _body(request))})
        if method == "DELETE" and item:
            self.workflows.delete(bucket, item)
            return _xml({"RequestId": rid, "WorkflowId": item})
        if method == "GET" and item is None:
            return _xml(self.workflows.describe(bucket, target.params, rid))
        raise TemplateError(405, "MethodNotAllowed", f"{method} is not supported on /workflow")

    def _trigger(self, target: Target) -> Response:
        params = target.params
        workflow_id, key = params.get("workflowId", ""), params.get("object", "")
        if not workflow_id or not key:
            raise TemplateError(400, "InvalidArgument", "workflowId and object are required")
        if self.store.head(target.bucket, key) is None:
            raise TemplateError(404, "NoSuchKey", f"object {key} does not exist")
        run_id = self.start_run(target.bucket, target.region, workflow_id, key, params.get("name", ""))
        return _xml({"RequestId": target.request_id, "InstanceId": run_id})
