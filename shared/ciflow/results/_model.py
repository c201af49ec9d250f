"""One normalised result per finished job, whatever CI reported it as: what the router and every sink see."""

import hashlib
import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ResultKind", "ObjectLocation", "ResultVerdict", "JobResult", "job_result"]

#: media (/jobs), file (/file_jobs), document (/doc_jobs), picture (/pic_jobs), moderation (/…/auditing),
#: workflow (WorkflowFinish), unknown (a report we do not model: routed raw, never dropped).
ResultKind = Literal["media", "file", "document", "picture", "moderation", "workflow", "unknown"]


class ObjectLocation(BaseModel):
    """An object in COS: the input of a job or one of its outputs."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    bucket: str | None = None
    region: str | None = None
    key: str


class ResultVerdict(BaseModel):
    """A moderation verdict: ``result`` 0 normal, 1 block, 2 review; ``hits`` the scenes that hit."""

    model_config = ConfigDict(defer_build=True)

    result: int | None = None
    label: str | None = None
    score: int | None = None
    sub_label: str | None = None
    hits: list[str] = Field(default_factory=list)


class JobResult(BaseModel):
    """A finished job, normalised. JSON-serialisable (``model_dump(mode="json")``): it is the message payload.

    ``route``/``correlation_id``/``step`` come from the job's verified UserData (``None`` when it carried
    none, or it did not verify — then ``user_data_valid`` is False and routing treats it as untrusted).
    """

    model_config = ConfigDict(defer_build=True)

    schema_version: int = 1
    kind: ResultKind
    event: str
    job_id: str | None = None
    tag: str | None = None
    state: str | None = None
    succeeded: bool = False
    input: ObjectLocation | None = None
    outputs: list[ObjectLocation] = Field(default_factory=list)
    verdict: ResultVerdict | None = None
    hashes: dict[str, str] = Field(default_factory=dict)
    details: dict[str, Any] = Field(default_factory=dict)
    error_code: str | None = None
    error_message: str | None = None
    user_data: str | None = None
    user_data_valid: bool = False
    route: str | None = None
    correlation_id: str | None = None
    step: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    raw: Any = None

    @property
    def dedupe_key(self) -> str:
        """A repeated report of the same job and state routes once.

        A report without a JobId is named by its content (a digest of the whole result), so a redelivery of
        it is still a duplicate while a different report is not mistaken for one.
        """
        return f"{self.kind}:{self.job_id or self._content_name()}:{self.state or 'no-state'}"

    def _content_name(self) -> str:
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), default=str)
        return "content-" + hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def job_result(fields: dict[str, Any]) -> JobResult:
    """``JobResult(**fields)``, validated alike, without ``BaseModel.__init__``'s keyword packing and frame.

    The callback builds one per job on its hot path, where that overhead is a third of the cost.
    """
    result: JobResult = JobResult.__pydantic_validator__.validate_python(fields)
    return result
