"""Batch-job operations (``/inventorytriggerjob``) and the media-bucket APIs (``/mediabucket``).

Pure builders like ``_ci``: the model modules load when an operation is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..client import Operation
from ..codec import to_xml
from ._ci import _model, _reader

if TYPE_CHECKING:
    from ..models.batch import BatchJobRequest, BatchJobsQuery, BatchJobsResponse
    from ..models.buckets import MediaBucketQuery, MediaBucketResponse, MediaBucketsResponse

__all__ = [
    "create_batch_job",
    "describe_batch_job",
    "list_batch_jobs",
    "cancel_batch_job",
    "describe_media_buckets",
    "create_media_bucket",
    "delete_media_bucket",
]

_PATH = "/inventorytriggerjob"


def _job_path(job_id: str) -> str:
    if not job_id or "/" in job_id or "," in job_id:
        raise ValueError(f"invalid batch job id {job_id!r}")
    return f"{_PATH}/{job_id}"


def create_batch_job(request: BatchJobRequest) -> Operation[BatchJobsResponse]:
    """``POST /inventorytriggerjob``: one job (Type ``Job``) or workflow run (``Workflow``) per selected object.
    Like a job submit, never retried blindly."""
    response: type[BatchJobsResponse] = _model("batch", "BatchJobsResponse")
    body = to_xml(request)
    return Operation(
        "CreateInventoryTriggerJob", "POST", "ci", _PATH, read=_reader(response), body=body, retry="submit"
    )


def describe_batch_job(job_id: str) -> Operation[BatchJobsResponse]:
    """``GET /inventorytriggerjob/<JobId>``: its state (an unknown id in ``NonExistJobIds``)."""
    response: type[BatchJobsResponse] = _model("batch", "BatchJobsResponse")
    return Operation("DescribeInventoryTriggerJob", "GET", "ci", _job_path(job_id), read=_reader(response))


def list_batch_jobs(query: BatchJobsQuery) -> Operation[BatchJobsResponse]:
    """``GET /inventorytriggerjob?…`` one page; ``client.paginate`` follows ``NextToken``."""
    response: type[BatchJobsResponse] = _model("batch", "BatchJobsResponse")

    def next_page(page: BatchJobsResponse) -> Operation[BatchJobsResponse] | None:
        token = page.next_token
        return list_batch_jobs(query.model_copy(update={"next_token": token})) if token else None

    return Operation(
        "DescribeInventoryTriggerJobs",
        "GET",
        "ci",
        _PATH,
        read=_reader(response),
        params=query.to_params(),
        next_page=next_page,
    )


def cancel_batch_job(job_id: str) -> Operation[None]:
    """``PUT /inventorytriggerjob/<JobId>?cancel``: stops a batch job (its jobs not yet started are cancelled)."""
    return Operation(
        "CancelInventoryTriggerJob", "PUT", "ci", _job_path(job_id), read=lambda _: None, params=(("cancel", ""),)
    )


def describe_media_buckets(query: MediaBucketQuery | None = None) -> Operation[MediaBucketsResponse]:
    """``GET /mediabucket`` (DescribeMediaBuckets): the buckets with media processing, filtered and paged."""
    response: type[MediaBucketsResponse] = _model("buckets", "MediaBucketsResponse")
    params: Any = query.to_params() if query is not None else ()
    return Operation("DescribeMediaBuckets", "GET", "ci", "/mediabucket", read=_reader(response), params=params)


def create_media_bucket() -> Operation[MediaBucketResponse]:
    """``POST /mediabucket`` (CreateMediaBucket): activate media processing for the endpoint's bucket."""
    response: type[MediaBucketResponse] = _model("buckets", "MediaBucketResponse")
    return Operation("CreateMediaBucket", "POST", "ci", "/mediabucket", read=_reader(response))


def delete_media_bucket() -> Operation[MediaBucketResponse]:
    """``DELETE /mediabucket``: deactivate media processing for the bucket (its objects stay)."""
    response: type[MediaBucketResponse] = _model("buckets", "MediaBucketResponse")
    return Operation("DeleteMediaBucket", "DELETE", "ci", "/mediabucket", read=_reader(response))
