"""CI workflow operations: create, update, describe, delete, activate/pause, trigger, and the executions.

Built like the job operations (``_ci``): pure ``Operation`` values whose readers decode ``<Response>`` into the
models of ``ciflow.models.workflows`` (imported when an operation is built). A trigger creates billed jobs, so it
is never blindly retried (``retry="submit"``); ``list_workflow_executions`` filtered by object name is how a lost
trigger answer is looked up.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import httpx

from ..client import Operation
from ..codec import format_ci_time, from_xml, to_xml
from ._ci import _model

if TYPE_CHECKING:
    from ..models.workflows import (
        DeleteWorkflowResponse,
        MediaWorkflow,
        MediaWorkflowListResponse,
        MediaWorkflowResponse,
        TriggerWorkflowResponse,
        WorkflowExecutionListResponse,
        WorkflowExecutionResponse,
    )

__all__ = [
    "create_workflow",
    "update_workflow",
    "describe_workflows",
    "delete_workflow",
    "set_workflow_state",
    "trigger_workflow",
    "describe_workflow_execution",
    "list_workflow_executions",
]


def _reader(name: str) -> Callable[[httpx.Response], Any]:
    model = _model("workflows", name)
    return lambda response: from_xml(model, response.content, root="Response")


def _plain_id(kind: str, value: str) -> str:
    if not value or "/" in value or "," in value:
        raise ValueError(f"invalid {kind} {value!r}")
    return value


def _request(workflow: MediaWorkflow) -> bytes:
    request = _model("workflows", "MediaWorkflowRequest")(media_workflow=workflow)
    return to_xml(request, "Request")


def create_workflow(workflow: MediaWorkflow) -> Operation[MediaWorkflowResponse]:
    """``POST /workflow``: a new workflow (``Name``, ``State``, ``Topology``); the answer names its ``WorkflowId``."""
    # Not idempotent (each POST is another workflow) but bills nothing: retried only when surely not received.
    body = _request(workflow)
    return Operation(
        "CreateWorkflow", "POST", "ci", "/workflow", read=_reader("MediaWorkflowResponse"), body=body, retry="submit"
    )


def update_workflow(workflow_id: str, workflow: MediaWorkflow) -> Operation[MediaWorkflowResponse]:
    """``PUT /workflow/<WorkflowId>``: replace a (paused) workflow's definition."""
    path = "/workflow/" + _plain_id("workflow id", workflow_id)
    return Operation(
        "UpdateWorkflow", "PUT", "ci", path, read=_reader("MediaWorkflowResponse"), body=_request(workflow)
    )


def set_workflow_state(workflow_id: str, state: Literal["active", "paused"]) -> Operation[None]:
    """``PUT /workflow/<WorkflowId>?active`` or ``?paused``: enable or disable the workflow (CI answers no body)."""
    if state not in ("active", "paused"):
        raise ValueError(f"state must be 'active' or 'paused', got {state!r}")
    path = "/workflow/" + _plain_id("workflow id", workflow_id)
    return Operation("UpdateWorkflowState", "PUT", "ci", path, read=lambda _: None, params=((state, ""),))


def describe_workflows(
    *workflow_ids: str, name: str | None = None, page_number: int | None = None, page_size: int | None = None
) -> Operation[MediaWorkflowListResponse]:
    """``GET /workflow?ids=&name=&pageNumber=&pageSize=``: the given workflows, or one page of all."""
    params: list[tuple[str, str]] = []
    if workflow_ids:
        params.append(("ids", ",".join(_plain_id("workflow id", item) for item in workflow_ids)))
    for key, value in (("name", name), ("pageNumber", page_number), ("pageSize", page_size)):
        if value is not None:
            params.append((key, str(value)))
    read = _reader("MediaWorkflowListResponse")
    return Operation("DescribeWorkflow", "GET", "ci", "/workflow", read=read, params=tuple(params))


def delete_workflow(workflow_id: str) -> Operation[DeleteWorkflowResponse]:
    """``DELETE /workflow/<WorkflowId>``."""
    path = "/workflow/" + _plain_id("workflow id", workflow_id)
    return Operation("DeleteWorkflow", "DELETE", "ci", path, read=_reader("DeleteWorkflowResponse"))


def trigger_workflow(workflow_id: str, key: str, *, name: str | None = None) -> Operation[TriggerWorkflowResponse]:
    """``POST /triggerworkflow?workflowId=&object=[&name=]``: run the workflow on one object; ``InstanceId`` is
    the execution's ``RunId``. Billed: never blindly retried (look it up with ``list_workflow_executions``)."""
    if not key:
        raise ValueError("an object key must not be empty")
    params = [("workflowId", _plain_id("workflow id", workflow_id)), ("object", key.removeprefix("/"))]
    if name:
        params.append(("name", name))
    read = _reader("TriggerWorkflowResponse")
    return Operation(
        "TriggerWorkflow", "POST", "ci", "/triggerworkflow", read=read, params=tuple(params), retry="submit"
    )


def describe_workflow_execution(run_id: str) -> Operation[WorkflowExecutionResponse]:
    """``GET /workflowexecution/<RunId>``: the execution, its topology and one task per node it reached."""
    path = "/workflowexecution/" + _plain_id("run id", run_id)
    return Operation("DescribeWorkflowExecution", "GET", "ci", path, read=_reader("WorkflowExecutionResponse"))


def list_workflow_executions(
    workflow_id: str,
    *,
    name: str | None = None,
    states: tuple[str, ...] = (),
    order_by_time: Literal["Desc", "Asc"] | None = None,
    size: int | None = None,
    start_creation_time: datetime | None = None,
    end_creation_time: datetime | None = None,
    job_id: str | None = None,
    next_token: str | None = None,
) -> Operation[WorkflowExecutionListResponse]:
    """``GET /workflowexecution?workflowId=…``: one page (``name`` is the object's file name); ``client.paginate``
    follows ``NextToken``."""
    params: list[tuple[str, str]] = [("workflowId", _plain_id("workflow id", workflow_id))]
    optional = {
        "name": name,
        "orderByTime": order_by_time,
        "size": str(size) if size is not None else None,
        "states": ",".join(states) or None,
        "startCreationTime": format_ci_time(start_creation_time),
        "endCreationTime": format_ci_time(end_creation_time),
        "jobId": job_id,
        "nextToken": next_token,
    }
    params += [(key, value) for key, value in optional.items() if value]

    def next_page(page: WorkflowExecutionListResponse) -> Operation[WorkflowExecutionListResponse] | None:
        if not page.next_token:
            return None
        return list_workflow_executions(
            workflow_id,
            name=name,
            states=states,
            order_by_time=order_by_time,
            size=size,
            start_creation_time=start_creation_time,
            end_creation_time=end_creation_time,
            job_id=job_id,
            next_token=page.next_token,
        )

    read = _reader("WorkflowExecutionListResponse")
    path = "/workflowexecution"
    return Operation("ListWorkflowExecution", "GET", "ci", path, read=read, params=tuple(params), next_page=next_page)
