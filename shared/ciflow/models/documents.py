"""Document-preview job models: ``/doc_jobs`` submit, describe and list (Tag ``DocProcess``)."""

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ciflow.codec import CiInt, CiModel, ListOf, format_ci_time

from ._common import JobDetail, JobOutput, JobRequest, JobsResponse

__all__ = [
    "DocProcess",
    "DocPageInfo",
    "DocProcessResult",
    "DocProcessOperation",
    "DocJobRequest",
    "DocJobDetail",
    "DocJobsResponse",
    "DocJobsQuery",
]


class DocProcess(CiModel):
    """``DocProcess``: how to render a document (pages, sheets, target type, image parameters).

    ``TgtType`` is ``jpg`` (default), ``png`` or ``pdf`` (no page selection); ``EndPage`` ``-1`` means all
    pages; ``SheetId`` ``0`` all sheets; ``PicPagination`` ``1`` renders one long image (≤ 20 pages).
    """

    src_type: str | None = None
    tgt_type: str | None = None
    sheet_id: CiInt = None
    start_page: CiInt = None
    end_page: CiInt = None
    image_params: str | None = None
    doc_password: str | None = None
    comments: CiInt = None
    paper_direction: CiInt = None
    paper_size: CiInt = None
    quality: CiInt = None
    zoom: CiInt = None
    image_dpi: CiInt = None
    pic_pagination: CiInt = None


class DocPageInfo(CiModel):
    """``PageInfo``: one rendered page (spreadsheets: ``PageNo`` is the sheet, ``Pic*`` fields are set)."""

    page_no: CiInt = None
    tgt_uri: str | None = None
    x_sheet_pics: CiInt = Field(default=None, alias="X-SheetPics")
    pic_index: CiInt = None
    pic_num: CiInt = None


class DocProcessResult(CiModel):
    """``DocProcessResult``: the rendered pages and counts, present once the job succeeded."""

    page_info: ListOf[DocPageInfo] = Field(default_factory=list)
    tgt_type: str | None = None
    task_id: str | None = None
    total_page_count: CiInt = None
    succ_page_count: CiInt = None
    fail_page_count: CiInt = None
    total_sheet_count: CiInt = None


class DocProcessOperation(CiModel):
    """``Operation`` of a DocProcess job.

    ``Output.Object`` must contain ``${Number}`` or ``${Page}``; spreadsheets also ``${SheetID}``.
    """

    doc_process: DocProcess | None = None
    output: JobOutput | None = None
    doc_process_result: DocProcessResult | None = None


class DocJobRequest(JobRequest):
    """``POST /doc_jobs`` body; results are announced through the doc queue's ``NotifyConfig``."""

    tag: str = "DocProcess"
    operation: DocProcessOperation


class DocJobDetail(JobDetail):
    """``JobsDetail`` of a DocProcess job."""

    operation: DocProcessOperation | None = None


class DocJobsResponse(JobsResponse):
    """``<Response>`` of ``POST /doc_jobs``, ``GET /doc_jobs/<jobId>`` and ``GET /doc_jobs?…``."""

    jobs_detail: ListOf[DocJobDetail] = Field(default_factory=list)  # type: ignore[assignment]


def _time_param(value: datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return format_ci_time(value)


def _states_param(states: str | Sequence[str] | None) -> str | None:
    return states if states is None or isinstance(states, str) else ",".join(states)


class DocJobsQuery(BaseModel):
    """Query of ``GET /doc_jobs`` (DescribeDocProcessJobs): snake_case here, the doc's camelCase on the wire.

    ``states`` is ``All`` (default) or a list of job states; times are CI's ``…T…+0800`` format.
    """

    model_config = ConfigDict(extra="forbid", defer_build=True)

    queue_id: str
    tag: str = "DocProcess"
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
            "orderByTime": self.order_by_time,
            "nextToken": self.next_token,
            "size": None if self.size is None else str(self.size),
            "states": _states_param(self.states),
            "startCreationTime": _time_param(self.start_creation_time),
            "endCreationTime": _time_param(self.end_creation_time),
        }
        return {name: value for name, value in params.items() if value is not None}
