"""Document-preview job models: ``/doc_jobs`` submit, describe and list (Tag ``DocProcess``)."""

from typing import TypeAlias

from pydantic import Field

from ciflow.codec import CiInt, CiModel, ListOf

from ._common import JobDetail, JobOutput, JobRequest, JobsQuery, JobsResponse

__all__ = [
    "DocProcess",
    "DocPageInfo",
    "DocProcessResult",
    "DocProcessOperation",
    "DocJobRequest",
    "DocJobDetail",
    "DOC_DETAILS",
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


#: ``JobsDetail`` of a DocProcess job.
DocJobDetail: TypeAlias = JobDetail[DocProcessOperation]


#: The typed detail model of the ``/doc_jobs`` tag.
DOC_DETAILS: dict[str, type[JobDetail]] = {"DocProcess": DocJobDetail}


#: ``<Response>`` of ``POST /doc_jobs``, ``GET /doc_jobs/<jobId>`` and ``GET /doc_jobs?…``.
DocJobsResponse: TypeAlias = JobsResponse[DocJobDetail]


class DocJobsQuery(JobsQuery):
    """Query of ``GET /doc_jobs`` (DescribeDocProcessJobs): ``queueId`` is required, ``tag`` is ``DocProcess``."""

    queue_id: str
    tag: str = "DocProcess"
