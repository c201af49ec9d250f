"""CI workflow operations: create, update, describe, delete, activate/pause, trigger, and the executions.

Each builder is one line over ``_ci``'s generic builders: pure ``Operation`` values whose readers decode
``<Response>`` into the models of ``ciflow.models.workflows`` (imported when an operation is built). A trigger
creates billed jobs, so it is never blindly retried (``retry="submit"``); ``list_workflow_executions`` filtered by
object name is how a lost trigger answer is looked up.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from ..client import Operation
from ..codec import CiModel, format_ci_time
from ._ci import _call, _endpoint, _flag, _item, _listing, _model, _plain_id, _query, _submit

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


def _request(workflow: MediaWorkflow) -> CiModel:
    request: CiModel = _model("workflows.MediaWorkflowRequest")(media_workflow=workflow)
    return request


def create_workflow(workflow: MediaWorkflow) -> Operation[MediaWorkflowResponse]:
    """``POST /workflow``: a new workflow (``Name``, ``State``, ``Topology``); the answer names its ``WorkflowId``."""
    # Not idempotent (each POST is another workflow) but bills nothing: retried only when surely not received.
    return _submit("CreateWorkflow", _endpoint("/workflow", "workflows.MediaWorkflowResponse"), _request(workflow))


def update_workflow(workflow_id: str, workflow: MediaWorkflow) -> Operation[MediaWorkflowResponse]:
    """``PUT /workflow/<WorkflowId>``: replace a (paused) workflow's definition."""
    target = _endpoint("/workflow", "workflows.MediaWorkflowResponse")
    return _item("UpdateWorkflow", "PUT", target, "workflow id", workflow_id, _request(workflow))


def set_workflow_state(workflow_id: str, state: Literal["active", "paused"]) -> Operation[None]:
    """``PUT /workflow/<WorkflowId>?active`` or ``?paused``: enable or disable the workflow (CI answers no body)."""
    if state not in ("active", "paused"):
        raise ValueError(f"state must be 'active' or 'paused', got {state!r}")
    return _flag("UpdateWorkflowState", "/workflow", "workflow id", workflow_id, state)


def describe_workflows(
    *workflow_ids: str, name: str | None = None, page_number: int | None = None, page_size: int | None = None
) -> Operation[MediaWorkflowListResponse]:
    """``GET /workflow?ids=&name=&pageNumber=&pageSize=``: the given workflows, or one page of all."""
    ids = ",".join(_plain_id("workflow id", item) for item in workflow_ids)
    params = _query(("ids", ids), ("name", name), ("pageNumber", page_number), ("pageSize", page_size))
    return _call("DescribeWorkflow", "GET", _endpoint("/workflow", "workflows.MediaWorkflowListResponse"), params)


def delete_workflow(workflow_id: str) -> Operation[DeleteWorkflowResponse]:
    """``DELETE /workflow/<WorkflowId>``."""
    target = _endpoint("/workflow", "workflows.DeleteWorkflowResponse")
    return _item("DeleteWorkflow", "DELETE", target, "workflow id", workflow_id)


def trigger_workflow(workflow_id: str, key: str, *, name: str | None = None) -> Operation[TriggerWorkflowResponse]:
    """``POST /triggerworkflow?workflowId=&object=[&name=]``: run the workflow on one object; ``InstanceId`` is
    the execution's ``RunId``. Billed: never blindly retried (look it up with ``list_workflow_executions``)."""
    from ._cos import _object_key  # the object API's key rule, loaded when a trigger is built

    params = (("workflowId", _plain_id("workflow id", workflow_id)), ("object", _object_key(key)))
    target = _endpoint("/triggerworkflow", "workflows.TriggerWorkflowResponse")
    return _submit("TriggerWorkflow", target, None, (*params, *_query(("name", name))))


def describe_workflow_execution(run_id: str) -> Operation[WorkflowExecutionResponse]:
    """``GET /workflowexecution/<RunId>``: the execution, its topology and one task per node it reached."""
    target = _endpoint("/workflowexecution", "workflows.WorkflowExecutionResponse")
    return _item("DescribeWorkflowExecution", "GET", target, "run id", run_id)


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
    params = _query(
        ("workflowId", _plain_id("workflow id", workflow_id)),
        ("name", name),
        ("orderByTime", order_by_time),
        ("size", size),
        ("states", ",".join(states)),
        ("startCreationTime", format_ci_time(start_creation_time)),
        ("endCreationTime", format_ci_time(end_creation_time)),
        ("jobId", job_id),
        ("nextToken", next_token),
    )
    target = _endpoint("/workflowexecution", "workflows.WorkflowExecutionListResponse")
    return _listing("ListWorkflowExecution", target, params)
