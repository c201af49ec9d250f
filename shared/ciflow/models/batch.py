"""Typed batch jobs (``/inventorytriggerjob``): a job (``JobParam`` typed by ``Tag``) or workflows over many objects."""

from __future__ import annotations

import typing
from typing import Any

from pydantic import Field, SerializeAsAny, model_validator

from ciflow.codec import CiInt, CiModel, CiTime, ListOf

from ._common import CallbackFormat, CallbackType, JobOutput, MqConfig

__all__ = [
    "BatchInput",
    "BatchTimeInterval",
    "BatchOperation",
    "BatchJobRequest",
    "BatchJobDetail",
    "BatchJobsResponse",
    "BatchJobsQuery",
    "job_param_model",
]


class BatchInput(CiModel):
    """``Input``: which objects — one ``Object``, a ``Prefix``, a COS inventory ``Manifest`` or a ``UrlFile``."""

    object: str | None = None
    prefix: str | None = None
    manifest: str | None = None
    url_file: str | None = None


class BatchTimeInterval(CiModel):
    """``Operation.TimeInterval``: only objects uploaded from ``Start`` to ``End``."""

    start: CiTime = None
    end: CiTime = None


def job_param_model(tag: str | None) -> type[CiModel] | None:
    """The ``Operation`` model of a job Tag (what ``JobParam`` holds for it), or ``None`` for an untyped Tag."""
    from ._tagged import detail_model  # the job tag table: loaded only when a batch job is decoded

    operation = detail_model(tag).model_fields["operation"].annotation
    found = next(
        (arg for arg in typing.get_args(operation) if isinstance(arg, type) and issubclass(arg, CiModel)), None
    )
    return found


def _model_without_tag() -> type[CiModel]:
    from .media import TemplatedMediaOperation

    return TemplatedMediaOperation


class BatchOperation(CiModel):
    """``Operation`` of a batch job. Type ``Job``: ``Tag`` and its ``JobParam`` (the tag's job ``Operation``:
    TemplateId, inline parameters …), ``Output``, queue and callback; type ``Workflow``: ``WorkflowIds``."""

    time_interval: BatchTimeInterval | None = None
    tag: str | None = None
    job_param: SerializeAsAny[CiModel] | None = None
    output: JobOutput | None = None
    queue_id: str | None = None
    user_data: str | None = None
    job_level: CiInt = None
    callback_format: CallbackFormat | None = Field(default=None, alias="CallBackFormat")
    callback_type: CallbackType | None = Field(default=None, alias="CallBackType")
    callback: str | None = Field(default=None, alias="CallBack")
    callback_mq_config: MqConfig | None = Field(default=None, alias="CallBackMqConfig")
    workflow_ids: str | None = None  # comma-separated

    @model_validator(mode="before")
    @classmethod
    def _typed_job_param(cls, data: Any) -> Any:
        # JobParam's shape is the Tag's: typed here, where the sibling Tag is known.
        if not isinstance(data, dict):
            return data
        param, tag = data.get("JobParam", data.get("job_param")), data.get("Tag", data.get("tag"))
        if not isinstance(param, dict | str):
            return data
        # With no Tag (the listing doc's sample), JobParam is read as what every templated job's Operation has.
        model = job_param_model(tag) if isinstance(tag, str) else _model_without_tag()
        if model is not None:
            key = "JobParam" if "JobParam" in data else "job_param"
            return {**data, key: model.model_validate(param)}
        return data


class BatchJobRequest(CiModel):
    """``POST /inventorytriggerjob`` body."""

    name: str
    type: str = "Job"  # Job | Workflow
    input: BatchInput
    operation: BatchOperation


class BatchJobDetail(CiModel):
    """``JobsDetail`` of a batch job: its state over every object it selected."""

    code: str | None = None
    message: str | None = None
    type: str | None = None
    name: str | None = None
    job_id: str | None = None
    state: str | None = None
    creation_time: CiTime = None
    start_time: CiTime = None
    end_time: CiTime = None
    input: BatchInput | None = None
    operation: BatchOperation | None = None

    @property
    def finished(self) -> bool:
        return self.state in ("Success", "Failed", "Cancel")


class BatchJobsResponse(CiModel):
    """``<Response>`` of create, describe (``NonExistJobIds``) and list (``NextToken``) calls."""

    request_id: str | None = None
    jobs_detail: ListOf[BatchJobDetail] = Field(default_factory=list)
    non_exist_job_ids: ListOf[str] = Field(default_factory=list)
    next_token: str | None = None


class BatchJobsQuery(CiModel):
    """Query of ``GET /inventorytriggerjob``: type, states, order, size, token, creation window, workflow, name."""

    type: str | None = None
    states: ListOf[str] = Field(default_factory=list)
    order_by_time: str | None = None
    size: CiInt = None
    next_token: str | None = None
    start_creation_time: str | None = None
    end_creation_time: str | None = None
    workflow_id: str | None = None
    job_id: str | None = None
    name: str | None = None

    def to_params(self) -> tuple[tuple[str, str], ...]:
        names = ("type", "orderByTime", "size", "nextToken", "startCreationTime", "endCreationTime")
        values: tuple[object, ...] = (self.type, self.order_by_time, self.size, self.next_token)
        values += (self.start_creation_time, self.end_creation_time)
        pairs = [(name, str(value)) for name, value in zip(names, values, strict=True) if value is not None]
        if self.states:
            pairs.append(("states", ",".join(self.states)))
        pairs += [(name, value) for name, value in (("workflowId", self.workflow_id), ("jobId", self.job_id)) if value]
        if self.name:
            pairs.append(("name", self.name))
        return tuple(pairs)
