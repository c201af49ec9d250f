"""Picture-processing job models: ``/pic_jobs`` submit, describe, list and the ``TaskFinish`` callback."""

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ciflow.codec import CiBool, CiInt, CiModel, ListOf, format_ci_time

from ._common import JobDetail, JobOutput, JobRequest, JobsResponse

__all__ = [
    "PicProcess",
    "PicImageInfo",
    "PicOriginalInfo",
    "PicProcessedImage",
    "PicProcessResults",
    "PicProcessResult",
    "PicOperation",
    "PicJobRequest",
    "PicJobDetail",
    "PicJobsResponse",
    "PicJobsQuery",
]


class PicProcess(CiModel):
    """``PicProcess``: inline processing (used when no ``TemplateId``), e.g. ``imageMogr2/rotate/90``."""

    is_pic_info: CiBool = None
    process_rule: str | None = None


class PicImageInfo(CiModel):
    """``ImageInfo`` of the source image."""

    format: str | None = None
    width: CiInt = None
    height: CiInt = None
    quality: CiInt = None
    ave: str | None = None
    orientation: CiInt = None


class PicOriginalInfo(CiModel):
    """``OriginalInfo``: the source image. Callbacks spell its tag ``Etag``, ``UploadResult`` ``ETag``."""

    key: str | None = None
    location: str | None = None
    etag: str | None = None
    e_tag: str | None = None
    image_info: PicImageInfo | None = None

    @property
    def entity_tag(self) -> str | None:
        """The ETag under either spelling."""
        return self.etag if self.etag is not None else self.e_tag


class PicProcessedImage(CiModel):
    """One output image: ``ProcessResult`` in callbacks, ``ProcessResults/Object`` in ``UploadResult``."""

    key: str | None = None
    location: str | None = None
    etag: str | None = None
    e_tag: str | None = None
    format: str | None = None
    width: CiInt = None
    height: CiInt = None
    size: CiInt = None
    quality: CiInt = None

    @property
    def entity_tag(self) -> str | None:
        """The ETag under either spelling."""
        return self.etag if self.etag is not None else self.e_tag


class PicProcessResults(CiModel):
    """``ProcessResults`` of the ``UploadResult`` shape: one ``Object`` per rule."""

    object: ListOf[PicProcessedImage] = Field(default_factory=list)


class PicProcessResult(CiModel):
    """``PicProcessResult``: source info and the output image(s).

    The doc says "same as ``UploadResult``" (``OriginalInfo`` + ``ProcessResults/Object*``) while the
    callback samples send ``ObjectName`` + ``OriginalInfo`` + ``ProcessResult``; both shapes parse and
    ``outputs`` reads either.
    """

    object_name: str | None = None
    original_info: PicOriginalInfo | None = None
    process_result: PicProcessedImage | None = None
    process_results: PicProcessResults | None = None

    @property
    def outputs(self) -> list[PicProcessedImage]:
        """The output images, whichever shape CI sent."""
        images = [self.process_result] if self.process_result is not None else []
        if self.process_results is not None:
            images.extend(self.process_results.object)
        return images


class PicOperation(CiModel):
    """``Operation`` of a PicProcess job: template or inline rule, output, and (when done) the result."""

    template_id: str | None = None
    template_name: str | None = None
    pic_process: PicProcess | None = None
    output: JobOutput | None = None
    user_data: str | None = None
    job_level: CiInt = None
    pic_process_result: PicProcessResult | None = None
    # The seed's JSON callback sample (L39349-39428) can be read with ProcessResult beside PicProcessResult.
    process_result: PicProcessedImage | None = None

    @property
    def outputs(self) -> list[PicProcessedImage]:
        """The output images wherever CI put them (inside ``PicProcessResult`` or beside it)."""
        images = self.pic_process_result.outputs if self.pic_process_result is not None else []
        return images + ([self.process_result] if self.process_result is not None else [])


class PicJobRequest(JobRequest):
    """``POST /pic_jobs`` body; ``TemplateId`` wins over ``PicProcess``; ``CallBack=no`` mutes the queue."""

    tag: str = "PicProcess"
    operation: PicOperation


class PicJobDetail(JobDetail):
    """``JobsDetail`` of a PicProcess job (submit, describe, list and callback)."""

    operation: PicOperation | None = None


class PicJobsResponse(JobsResponse):
    """``<Response>`` of ``POST /pic_jobs``, ``GET /pic_jobs/<jobId>`` and ``GET /pic_jobs?…``."""

    jobs_detail: ListOf[PicJobDetail] = Field(default_factory=list)  # type: ignore[assignment]


def _time_param(value: datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return format_ci_time(value)


def _states_param(states: str | Sequence[str] | None) -> str | None:
    return states if states is None or isinstance(states, str) else ",".join(states)


class PicJobsQuery(BaseModel):
    """Query of ``GET /pic_jobs`` (DescribePicJobs): snake_case here, the doc's camelCase on the wire."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    queue_id: str
    tag: str = "PicProcess"
    workflow_id: str | None = None
    inventory_trigger_job_id: str | None = None
    input_object: str | None = None
    order_by_time: str | None = None
    next_token: str | None = None
    size: int | None = None
    states: str | Sequence[str] | None = None
    start_creation_time: datetime | str | None = None
    end_creation_time: datetime | str | None = None

    def to_params(self) -> dict[str, str]:
        """The query parameters under the doc's names, with unset ones omitted."""
        params: dict[str, str | None] = {
            "queueId": self.queue_id,
            "tag": self.tag,
            "workflowId": self.workflow_id,
            "inventoryTriggerJobId": self.inventory_trigger_job_id,
            "inputObject": self.input_object,
            "orderByTime": self.order_by_time,
            "nextToken": self.next_token,
            "size": None if self.size is None else str(self.size),
            "states": _states_param(self.states),
            "startCreationTime": _time_param(self.start_creation_time),
            "endCreationTime": _time_param(self.end_creation_time),
        }
        return {name: value for name, value in params.items() if value is not None}
