"""Batch-job operations (``/inventorytriggerjob``) and the media-bucket APIs (``/mediabucket``).

Each builder is one line over ``_ci``'s generic builders; the model modules load when an operation is built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..client import Operation
from ._ci import _call, _endpoint, _flag, _item, _listing, _submit

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
_JOBS = "batch.BatchJobsResponse"


def create_batch_job(request: BatchJobRequest) -> Operation[BatchJobsResponse]:
    """``POST /inventorytriggerjob``: one job (Type ``Job``) or workflow run (``Workflow``) per selected object.
    Like a job submit, never retried blindly."""
    return _submit("CreateInventoryTriggerJob", _endpoint(_PATH, _JOBS), request)


def describe_batch_job(job_id: str) -> Operation[BatchJobsResponse]:
    """``GET /inventorytriggerjob/<JobId>``: its state (an unknown id in ``NonExistJobIds``)."""
    return _item("DescribeInventoryTriggerJob", "GET", _endpoint(_PATH, _JOBS), "batch job id", job_id)


def list_batch_jobs(query: BatchJobsQuery) -> Operation[BatchJobsResponse]:
    """``GET /inventorytriggerjob?…`` one page; ``client.paginate`` follows ``NextToken``."""

    def again(token: str) -> Operation[BatchJobsResponse]:  # the query's own nextToken: its documented order
        return list_batch_jobs(query.model_copy(update={"next_token": token}))

    return _listing("DescribeInventoryTriggerJobs", _endpoint(_PATH, _JOBS), query.to_params(), again)


def cancel_batch_job(job_id: str) -> Operation[None]:
    """``PUT /inventorytriggerjob/<JobId>?cancel``: stops a batch job (its jobs not yet started are cancelled)."""
    return _flag("CancelInventoryTriggerJob", _PATH, "batch job id", job_id, "cancel")


def describe_media_buckets(query: MediaBucketQuery | None = None) -> Operation[MediaBucketsResponse]:
    """``GET /mediabucket`` (DescribeMediaBuckets): the buckets with media processing, filtered and paged."""
    params = query.to_params() if query is not None else ()
    return _call("DescribeMediaBuckets", "GET", _endpoint("/mediabucket", "buckets.MediaBucketsResponse"), params)


def create_media_bucket() -> Operation[MediaBucketResponse]:
    """``POST /mediabucket`` (CreateMediaBucket): activate media processing for the endpoint's bucket."""
    return _call("CreateMediaBucket", "POST", _endpoint("/mediabucket", "buckets.MediaBucketResponse"))


def delete_media_bucket() -> Operation[MediaBucketResponse]:
    """``DELETE /mediabucket``: deactivate media processing for the bucket (its objects stay)."""
    return _call("DeleteMediaBucket", "DELETE", _endpoint("/mediabucket", "buckets.MediaBucketResponse"))
