"""The job envelope every CI job API shares: request root, input/output, callbacks, job detail, states."""

from collections.abc import Callable
from enum import Enum
from typing import Any

from pydantic import Field

from ..codec import CiInt, CiModel, CiTime, ListOf

__all__ = [
    "JobState",
    "FINAL_STATES",
    "CallbackFormat",
    "CallbackType",
    "CosHeader",
    "JobInput",
    "JobOutput",
    "MqConfig",
    "JobRequest",
    "WorkflowRef",
    "JobDetail",
    "JobsResponse",
    "OTHER_TAG",
    "discriminate_by_tag",
]


class JobState(str, Enum):
    """Job states across CI's job APIs (media, file, document, picture and moderation)."""

    SUBMITTED = "Submitted"
    RUNNING = "Running"
    SUCCESS = "Success"
    FAILED = "Failed"
    PAUSE = "Pause"
    CANCEL = "Cancel"
    # Moderation jobs report their own intermediate states.
    SNAPSHOTING = "Snapshoting"
    AUDITING = "Auditing"


#: States after which a job never changes again.
FINAL_STATES = frozenset({JobState.SUCCESS, JobState.FAILED, JobState.CANCEL})


_FINAL_STATE_VALUES = frozenset(state.value for state in FINAL_STATES)


class CallbackFormat(str, Enum):
    XML = "XML"
    JSON = "JSON"


class CallbackType(str, Enum):
    URL = "Url"
    TDMQ = "TDMQ"


class CosHeader(CiModel):
    """A header of the input object, echoed by workflow-triggered jobs."""

    key: str | None = None
    value: str | None = None


class JobInput(CiModel):
    """``Input``: the request names an object; responses echo it with its bucket and region."""

    object: str | None = None
    region: str | None = None
    bucket_id: str | None = None
    bucket: str | None = None
    url: str | None = None
    cos_headers: ListOf[CosHeader] = Field(default_factory=list)


class JobOutput(CiModel):
    """``Output``: where results go; ``Object`` may use CI's ``${ext}``/``${jobid}``/``${number}`` wildcards."""

    region: str | None = None
    bucket: str | None = None
    object: str | None = None
    sprite_object: str | None = None
    au_object: str | None = None


class MqConfig(CiModel):
    """``CallBackMqConfig``: deliver the job's result to TDMQ instead of a URL."""

    mq_region: str
    mq_name: str
    mq_mode: str = "Queue"


class JobRequest(CiModel):
    """The ``<Request>`` root shared by ``/jobs``, ``/file_jobs``, ``/doc_jobs`` and ``/pic_jobs``.

    Subclasses pin ``tag`` and type ``operation``.
    """

    tag: str
    input: JobInput
    operation: CiModel | None = None
    queue_id: str | None = None
    callback_format: CallbackFormat | None = Field(default=None, alias="CallBackFormat")
    callback_type: CallbackType | None = Field(default=None, alias="CallBackType")
    callback: str | None = Field(default=None, alias="CallBack")
    callback_mq_config: MqConfig | None = Field(default=None, alias="CallBackMqConfig")


class WorkflowRef(CiModel):
    """``Workflow``: present on jobs a workflow started."""

    name: str | None = None
    run_id: str | None = None
    workflow_id: str | None = None
    workflow_name: str | None = None


class JobDetail(CiModel):
    """``JobsDetail`` of any job: submit and describe responses, list items and callbacks.

    Tag-specific subclasses type ``operation``; this class parses any tag with ``operation`` kept raw.
    """

    code: str | None = None
    message: str | None = None
    job_id: str | None = None
    tag: str | None = None
    sub_tag: str | None = None
    state: str | None = None
    progress: CiInt = None
    creation_time: CiTime = None
    start_time: CiTime = None
    end_time: CiTime = None
    queue_id: str | None = None
    input: JobInput | None = None
    operation: Any = None
    workflow: WorkflowRef | None = None

    @property
    def finished(self) -> bool:
        """True once the job is in a final state (Success, Failed or Cancel)."""
        return self.state in _FINAL_STATE_VALUES

    @property
    def succeeded(self) -> bool:
        return self.state == JobState.SUCCESS.value


class JobsResponse(CiModel):
    """``<Response>`` of submit, describe and list calls: the jobs plus paging and missing ids."""

    jobs_detail: ListOf[JobDetail] = Field(default_factory=list)
    next_token: str | None = None
    non_exist_job_ids: ListOf[str] = Field(default_factory=list)
    request_id: str | None = None


#: The discriminator value for job details whose tag has no typed model (parsed as plain JobDetail).
OTHER_TAG = "other"


def discriminate_by_tag(known: frozenset[str]) -> Callable[[Any], str]:
    """A pydantic callable discriminator: the job's ``Tag`` if it has a typed model, else ``OTHER_TAG``.

    Lets a union of tag-specific details parse any tag: unknown ones fall back to ``JobDetail``.
    """

    def discriminate(value: Any) -> str:
        tag = value.get("Tag", value.get("tag")) if isinstance(value, dict) else getattr(value, "tag", None)
        return tag if tag in known else OTHER_TAG

    return discriminate
