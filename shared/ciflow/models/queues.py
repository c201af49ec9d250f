"""Typed CI queue APIs (``GET /queue``, ``PUT /queue/<id>``): queues and their ``NotifyConfig``."""

from __future__ import annotations

from pydantic import Field

from ciflow.codec import CiInt, CiModel, CiTime, ListOf

__all__ = ["NotifyConfig", "Queue", "QueueUpdate", "QueuesResponse", "QueueResponse", "NotifyState", "NotifyEvent"]


class NotifyState:
    """``NotifyConfig.State`` values."""

    ON = "On"
    OFF = "Off"


class NotifyEvent:
    """``NotifyConfig.Event`` values (comma-joined for several)."""

    TASK_FINISH = "TaskFinish"
    WORKFLOW_FINISH = "WorkflowFinish"


class NotifyConfig(CiModel):
    """``NotifyConfig``: where a queue reports the jobs (``TaskFinish``) and workflows (``WorkflowFinish``) it ran
    when the job itself names no callback; ``Url`` or TDMQ (``MqMode``/``MqRegion``/``MqName``)."""

    state: str | None = None  # On | Off (default)
    event: str | None = None  # TaskFinish, WorkflowFinish (comma-separated)
    result_format: str | None = None  # XML (default) | JSON
    type: str | None = None  # Url | TDMQ
    url: str | None = None
    mq_mode: str | None = None  # Queue | Topic
    mq_region: str | None = None
    mq_name: str | None = None

    @property
    def events(self) -> frozenset[str]:
        """The events notified, as a set (``Event`` is comma-separated on the wire)."""
        return frozenset(part.strip() for part in (self.event or "").split(",") if part.strip())

    @property
    def enabled(self) -> bool:
        return self.state == NotifyState.ON


class Queue(CiModel):
    """``QueueList`` item / ``Queue``: one processing queue."""

    queue_id: str | None = None
    name: str | None = None
    state: str | None = None  # Active | Paused
    notify_config: NotifyConfig | None = None
    max_size: CiInt = None
    max_concurrent: CiInt = None
    category: str | None = None  # Transcoding | SpeedTranscoding (media), DocProcessing …
    bucket_id: str | None = None  # the doc queue's answers name the bucket
    update_time: CiTime = None
    create_time: CiTime = None


class QueueUpdate(CiModel):
    """``PUT /queue/<QueueId>`` body (UpdateMediaQueue): name, state and ``NotifyConfig`` (the docs require all three;
    ``NotifyConfig(state="Off")`` turns notifications off)."""

    name: str
    state: str  # Active | Paused
    notify_config: NotifyConfig | None = None


class QueuesResponse(CiModel):
    """``<Response>`` of ``GET /queue`` (DescribeMediaQueues) and its sibling queue listings."""

    request_id: str | None = None
    total_count: CiInt = None
    page_number: CiInt = None
    page_size: CiInt = None
    queue_list: ListOf[Queue] = Field(default_factory=list)
    non_exist_p_i_ds: ListOf[str] = Field(default_factory=list, alias="NonExistPIDs")


class QueueResponse(CiModel):
    """``<Response>`` of ``PUT /queue/<QueueId>``: the queue as updated."""

    request_id: str | None = None
    queue: Queue | None = None
