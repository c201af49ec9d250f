"""The object an upload event is about: bucket, region, decoded key and the version facts idempotency needs."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["ObjectRef"]


@dataclass(frozen=True)
class ObjectRef:
    """One uploaded object, as derived from a COS trigger record.

    ``key`` is the decoded object key; ``etag`` has no surrounding quotes; ``metadata`` holds the
    ``x-cos-meta-*`` values without their prefix.
    """

    bucket: str
    region: str
    key: str
    size: int | None = None
    etag: str | None = None
    version_id: str | None = None
    content_type: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    event_name: str = "cos:ObjectCreated:*"
    event_time: datetime | None = None

    @property
    def version(self) -> str:
        """What distinguishes this upload from another of the same key: version id, else ETag, else size."""
        return self.version_id or self.etag or f"size-{self.size}"

    @property
    def identity(self) -> str:
        """``bucket/key@version``: the same for every redelivery of this upload, different for a new one."""
        return f"{self.bucket}/{self.key}@{self.version}"

    @property
    def extension(self) -> str:
        """The lower-case suffix after the last dot of the file name ('' when there is none)."""
        name = self.key.rsplit("/", 1)[-1]
        return name.rsplit(".", 1)[-1].lower() if "." in name else ""
