"""COS object API bodies and results: error bodies, listings, multi-delete, copy, object heads."""

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from ..codec import CiBool, CiInt, CiModel, CiTime, ListOf

__all__ = [
    "ErrorBody",
    "Owner",
    "ObjectSummary",
    "CommonPrefix",
    "ListBucketResult",
    "DeleteObject",
    "DeleteRequest",
    "Deleted",
    "DeleteError",
    "DeleteResult",
    "CopyObjectResult",
    "ObjectHead",
    "ObjectContent",
    "ObjectWriteResult",
]


class ErrorBody(CiModel):
    """``<Error>`` returned by COS and CI on a failed request (JSON ``code``/``message`` also seen)."""

    code: str | None = None
    message: str | None = None
    resource: str | None = None
    request_id: str | None = None
    trace_id: str | None = None


class Owner(CiModel):
    id: str | None = Field(default=None, alias="ID")
    display_name: str | None = None


class ObjectSummary(CiModel):
    """``Contents``: one object of a listing."""

    key: str
    last_modified: CiTime = None
    etag: str | None = Field(default=None, alias="ETag")
    size: CiInt = None
    owner: Owner | None = None
    storage_class: str | None = None


class CommonPrefix(CiModel):
    prefix: str


class ListBucketResult(CiModel):
    """``GET /`` (list objects v1): one page; ``next_marker`` continues a truncated listing."""

    name: str | None = None
    encoding_type: str | None = None
    prefix: str | None = None
    marker: str | None = None
    max_keys: CiInt = None
    delimiter: str | None = None
    is_truncated: CiBool = None
    next_marker: str | None = None
    common_prefixes: ListOf[CommonPrefix] = Field(default_factory=list)
    contents: ListOf[ObjectSummary] = Field(default_factory=list)


class DeleteObject(CiModel):
    key: str
    version_id: str | None = None


class DeleteRequest(CiModel):
    """``<Delete>`` body of ``POST /?delete``: up to 1000 keys."""

    quiet: CiBool = None
    object: ListOf[DeleteObject] = Field(default_factory=list)


class Deleted(CiModel):
    key: str
    version_id: str | None = None
    delete_marker: CiBool = None
    delete_marker_version_id: str | None = None


class DeleteError(CiModel):
    key: str
    code: str | None = None
    message: str | None = None
    version_id: str | None = None


class DeleteResult(CiModel):
    """``<DeleteResult>``: keys deleted and keys that failed, each with its reason."""

    deleted: ListOf[Deleted] = Field(default_factory=list)
    error: ListOf[DeleteError] = Field(default_factory=list)


class CopyObjectResult(CiModel):
    """``<CopyObjectResult>`` of ``PUT`` with ``x-cos-copy-source``."""

    etag: str | None = Field(default=None, alias="ETag")
    crc64: str | None = Field(default=None, alias="CRC64")
    last_modified: CiTime = None
    version_id: str | None = None


class ObjectHead(BaseModel):
    """What HEAD (and GET) say of an object, from response headers; ``metadata`` is ``x-cos-meta-*``."""

    model_config = ConfigDict(defer_build=True)

    content_length: int | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    version_id: str | None = None
    storage_class: str | None = None
    crc64: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> "ObjectHead":
        length = headers.get("content-length")
        return cls(
            content_length=int(length) if length is not None and length.isdigit() else None,
            content_type=headers.get("content-type"),
            etag=headers.get("etag"),
            last_modified=headers.get("last-modified"),
            version_id=headers.get("x-cos-version-id"),
            storage_class=headers.get("x-cos-storage-class"),
            crc64=headers.get("x-cos-hash-crc64ecma"),
            metadata={
                name[len("x-cos-meta-") :]: value
                for name, value in headers.items()
                if name.lower().startswith("x-cos-meta-")
            },
        )


class ObjectContent(BaseModel):
    """A GET's body (the requested range, if any) with the object's head."""

    model_config = ConfigDict(defer_build=True)

    head: ObjectHead
    content: bytes
    content_range: str | None = None


class ObjectWriteResult(BaseModel):
    """What a PUT reports: the new ETag, version and CRC64."""

    model_config = ConfigDict(defer_build=True)

    etag: str | None = None
    version_id: str | None = None
    crc64: str | None = None
