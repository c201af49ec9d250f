"""Typed media-bucket APIs (``/mediabucket``): which buckets have media processing, binding and unbinding it."""

from __future__ import annotations

from pydantic import Field

from ciflow.codec import CiInt, CiModel, CiTime, ListOf

__all__ = ["MediaBucket", "MediaBucketsResponse", "MediaBucketResponse", "MediaBucketQuery"]


class MediaBucket(CiModel):
    """``MediaBucketList`` item / ``MediaBucket``: a bucket with media processing activated."""

    bucket_id: str | None = None
    name: str | None = None
    region: str | None = None
    create_time: CiTime = None


class MediaBucketsResponse(CiModel):
    """``<Response>`` of ``GET /mediabucket`` (DescribeMediaBuckets): a page of buckets."""

    request_id: str | None = None
    total_count: CiInt = None
    page_number: CiInt = None
    page_size: CiInt = None
    media_bucket_list: ListOf[MediaBucket] = Field(default_factory=list)


class MediaBucketResponse(CiModel):
    """``<Response>`` of ``POST /mediabucket`` (binding) and ``DELETE /mediabucket`` (``RequestId`` only)."""

    request_id: str | None = None
    media_bucket: MediaBucket | None = None


class MediaBucketQuery(CiModel):
    """Query of ``GET /mediabucket``: regions and names (exact, comma-joined), a name prefix, paging."""

    regions: ListOf[str] = Field(default_factory=list)
    bucket_names: ListOf[str] = Field(default_factory=list)
    bucket_name: str | None = None
    page_number: CiInt = None
    page_size: CiInt = None

    def to_params(self) -> tuple[tuple[str, str], ...]:
        """The documented camelCase parameters, unset ones left out."""
        pairs = (
            ("regions", ",".join(self.regions)),
            ("bucketNames", ",".join(self.bucket_names)),
            ("bucketName", self.bucket_name or ""),
            ("pageNumber", "" if self.page_number is None else str(self.page_number)),
            ("pageSize", "" if self.page_size is None else str(self.page_size)),
        )
        return tuple((name, value) for name, value in pairs if value)
