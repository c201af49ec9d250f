"""Typed CI workflow bodies: ``MediaWorkflow`` (create, update, describe), trigger and execution answers.

A topology's node names are chosen by the user (``Transcode_1581665960538``), so ``Topology.Nodes`` and
``Topology.Dependencies`` are mappings by node name. A job node's ``Operation`` is typed by its ``Type`` with the
``Operation`` model of that tag's job detail (``callbacks.detail_model``, looked up when the node is decoded, so a
family's models load only for the workflows that use it); a ``Type`` without a typed model keeps its ``Operation``
as parsed. Executions reuse the callback's ``WorkflowExecution`` and ``WorkflowTask``.
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from ..codec import CiInt, CiModel, CiTime, ListOf
from .callbacks import WorkflowExecution, detail_model

__all__ = [
    "WorkflowNotifyConfig",
    "WorkflowExtFilter",
    "WorkflowStartInput",
    "WorkflowNode",
    "WorkflowTopology",
    "MediaWorkflow",
    "MediaWorkflowRequest",
    "MediaWorkflowResponse",
    "MediaWorkflowListResponse",
    "DeleteWorkflowResponse",
    "TriggerWorkflowResponse",
    "WorkflowExecutionDetail",
    "WorkflowExecutionResponse",
    "WorkflowExecutionListResponse",
    "node_operation_model",
    "successors",
]

#: Where a branch of the topology ends (a ``Dependencies`` value, never a node).
END = "End"


class WorkflowNotifyConfig(CiModel):
    """``Start.Input.NotifyConfig``: where the workflow's jobs (``TaskFinish``) and itself (``WorkflowFinish``)
    report, as ``Url`` or ``TDMQ``, in ``XML`` or ``JSON``."""

    state: str | None = None
    url: str | None = None
    event: str | None = None
    type: str | None = None
    result_format: str | None = None
    mq_type: str | None = None
    mq_region: str | None = None
    mq_mode: str | None = None
    mq_name: str | None = None

    @property
    def events(self) -> frozenset[str]:
        """The event names to report (``TaskFinish``, ``WorkflowFinish``)."""
        return frozenset(item.strip() for item in (self.event or "").split(",") if item.strip())


class WorkflowExtFilter(CiModel):
    """``Start.Input.ExtFilter``: which uploads under the prefix start the workflow (``true``/``false`` as text)."""

    state: str | None = None
    video: str | None = None
    audio: str | None = None
    image: str | None = None
    content_type: str | None = None
    custom: str | None = None
    custom_exts: str | None = None
    all_file: str | None = None


class WorkflowStartInput(CiModel):
    """``Start.Input``: the prefix that triggers the workflow, its queues and where it reports."""

    object_prefix: str | None = None
    queue_id: str | None = None
    pic_process_queue_id: str | None = None
    speech_recognition_queue_id: str | None = None
    ai_process_queue_id: str | None = None
    notify_config: WorkflowNotifyConfig | None = None
    ext_filter: WorkflowExtFilter | None = None


def node_operation_model(node_type: str | None) -> type[BaseModel] | None:
    """The typed ``Operation`` model of a job node's ``Type`` (that tag's job detail's), or None if untyped."""
    model = detail_model(node_type)
    annotation = model.model_fields["operation"].annotation
    typed = [arg for arg in typing.get_args(annotation) if isinstance(arg, type) and issubclass(arg, BaseModel)]
    return typed[0] if typed else None


class WorkflowNode(CiModel):
    """One topology node: ``Start`` (with ``Input``) or a job node (``Type`` and its ``Operation``)."""

    type: str | None = None
    input: WorkflowStartInput | None = None
    operation: Any = None

    @field_validator("operation", mode="before")
    @classmethod
    def _typed_by_type(cls, value: Any, info: ValidationInfo) -> Any:
        # ``type`` is declared first, so it is validated (and in ``info.data``) by now.
        model = node_operation_model(info.data.get("type")) if isinstance(value, dict) else None
        return model.model_validate(value) if model is not None else value


class WorkflowTopology(CiModel):
    """``Topology``: ``Dependencies`` (node name -> comma-separated successors or ``End``) and ``Nodes``."""

    dependencies: dict[str, str] = Field(default_factory=dict)
    nodes: dict[str, WorkflowNode] = Field(default_factory=dict)

    @field_validator("dependencies", "nodes", mode="before")
    @classmethod
    def _blank_is_empty(cls, value: Any) -> Any:
        # An empty element parses as ""; a ``<Segment_1>End</Segment_1>`` dependency's value is its text.
        if value is None or (isinstance(value, str) and not value.strip()):
            return {}
        return value

    def successors(self, node: str) -> list[str]:
        """The nodes that follow ``node`` (``End`` left out)."""
        return successors(self.dependencies, node)

    @property
    def start(self) -> WorkflowStartInput | None:
        """``Nodes.Start.Input``."""
        start = self.nodes.get("Start")
        return start.input if start is not None else None


def successors(dependencies: typing.Mapping[str, Any], node: str) -> list[str]:
    """The nodes ``dependencies`` lists after ``node``, ``End`` and blanks left out."""
    listed = str(dependencies.get(node) or "")
    return [name.strip() for name in listed.split(",") if name.strip() and name.strip() != END]


class MediaWorkflow(CiModel):
    """``MediaWorkflow``: what create/update send (``Name``, ``State``, ``Topology``) and CI answers (ids, times)."""

    name: str | None = None
    workflow_id: str | None = None
    state: str | None = None
    bucket_id: str | None = None
    create_time: CiTime = None
    update_time: CiTime = None
    topology: WorkflowTopology | None = None


class MediaWorkflowRequest(CiModel):
    """``<Request>`` of ``POST /workflow`` and ``PUT /workflow/<WorkflowId>``."""

    media_workflow: MediaWorkflow


class MediaWorkflowResponse(CiModel):
    """``<Response>`` of create and update: the stored workflow."""

    request_id: str | None = None
    media_workflow: MediaWorkflow | None = None


class MediaWorkflowListResponse(CiModel):
    """``<Response>`` of ``GET /workflow``: one page of workflows, and the asked ids that do not exist."""

    request_id: str | None = None
    total_count: CiInt = None
    page_number: CiInt = None
    page_size: CiInt = None
    media_workflow_list: ListOf[MediaWorkflow] = Field(default_factory=list)
    non_exist_ids: ListOf[str] = Field(default_factory=list, alias="NonExistIDs")
    #: The doc's example (F003 L18146-L18263) spells it ``NotExistIDs``; kept as its own field so either round-trips.
    not_exist_ids: ListOf[str] = Field(default_factory=list, alias="NotExistIDs")


class DeleteWorkflowResponse(CiModel):
    """``<Response>`` of ``DELETE /workflow/<WorkflowId>``."""

    request_id: str | None = None
    workflow_id: str | None = None


class TriggerWorkflowResponse(CiModel):
    """``<Response>`` of ``POST /triggerworkflow``: ``InstanceId`` is the execution's ``RunId``."""

    request_id: str | None = None
    instance_id: str | None = None


class WorkflowExecutionDetail(WorkflowExecution):
    """An execution as ``GET /workflowexecution/<RunId>`` shows it: the callback's fields plus the workflow's
    ``Name`` and ``Topology`` (tasks carry ``Code`` and ``Message``)."""

    name: str | None = None
    topology: WorkflowTopology | None = None


class WorkflowExecutionResponse(CiModel):
    """``<Response>`` of ``GET /workflowexecution/<RunId>``."""

    request_id: str | None = None
    workflow_execution: WorkflowExecutionDetail | None = None


class WorkflowExecutionListResponse(CiModel):
    """``<Response>`` of ``GET /workflowexecution?workflowId=…``: summaries (``RunId``, ``State``, ``Object``…)."""

    request_id: str | None = None
    workflow_execution_list: ListOf[WorkflowExecution] = Field(default_factory=list)
    next_token: str | None = None
