"""What a CI job is once stored: ``JobRecord`` and its wire ``JobsDetail``, the job families and the tags each
accepts, the refusals of the job APIs (``JobError``); no engine, no database, no HTTP.

The callback sender (``_callbacks``) and the engine (``_jobs``) both read records from here, so neither imports
the other's types.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ciflow.models.files import FILE_TAGS
from ciflow.models.moderation import ModerationKind

from .workers import REQUEST_MODELS, ci_time

__all__ = [
    "JOB_FAMILIES",
    "FAMILY_TAGS",
    "CallbackSenderType",
    "JobError",
    "JobRecord",
    "Tree",
    "moderation_input",
]

Tree = dict[str, Any]

#: Content recognition (``/ai_jobs``) and speech recognition (``/asr_jobs``) tags: not taken on ``/jobs``.
AI_TAGS = frozenset({"Translation", "WordsGeneralize"})
ASR_TAGS = frozenset({"SpeechRecognition"})
#: Job APIs -> the tags each accepts (``/jobs`` also takes file tags, as the 2025 FileUncompress doc shows).
FAMILY_TAGS: dict[str, frozenset[str]] = {
    # Every media-side tag a worker runs (the media, editing, audio… families), file tags too.
    "jobs": frozenset(set(REQUEST_MODELS) - {"DocProcess", "PicProcess", *AI_TAGS, *ASR_TAGS}) | FILE_TAGS,
    "ai_jobs": AI_TAGS,
    "asr_jobs": ASR_TAGS,
    "file_jobs": FILE_TAGS,
    "doc_jobs": frozenset({"DocProcess"}),
    "pic_jobs": frozenset({"PicProcess"}),
}
JOB_FAMILIES = frozenset(FAMILY_TAGS)

_FINAL = frozenset({"Success", "Failed", "Cancel"})


class JobError(Exception):
    """A request the engine refuses: answered with ``status`` and CI's error ``code``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class JobRecord:
    """One job as stored: its state columns, the request tree it was submitted with and its result elements."""

    seq: int
    job_id: str
    family: str
    tag: str
    state: str
    progress: int
    bucket: str
    region: str
    queue_id: str | None
    input_object: str | None
    created: float
    started: float | None
    ended: float | None
    code: str | None
    message: str | None
    request: Tree
    result: Tree
    callback_status: str | None

    @property
    def finished(self) -> bool:
        return self.state in _FINAL

    @property
    def kind(self) -> ModerationKind | None:
        """The moderation kind, ``None`` for the job APIs."""
        return None if self.family in JOB_FAMILIES else ModerationKind(self.family)

    @property
    def detail(self) -> Tree:
        """The wire ``JobsDetail`` tree: what describe, list and the callbacks report."""
        return self._job_detail() if self.kind is None else self._moderation_detail()

    def _job_detail(self) -> Tree:
        operation = {**(self.request.get("Operation") or {}), **self.result}
        detail: Tree = {
            "Code": self.code or "Success",
            "Message": self.message or "",
            "JobId": self.job_id,
            "Tag": self.tag,
            "State": self.state,
            "Progress": str(self.progress),
            "CreationTime": ci_time(self.created),
            "StartTime": ci_time(self.started) if self.started else "-",
            "EndTime": ci_time(self.ended) if self.ended else "-",
            "QueueId": self.queue_id,
        }
        if isinstance(self.request.get("Input"), dict):
            detail["Input"] = {"BucketId": self.bucket, "Object": self.input_object, "Region": self.region}
        detail["Operation"] = operation
        return detail

    def _moderation_detail(self) -> Tree:
        source = moderation_input(self.request)
        detail: Tree = {
            "Code": self.code or "Success",
            "Message": self.message or "Success",
            "JobId": self.job_id,
            "State": self.state,
            "CreationTime": ci_time(self.created),
            "DataId": source.get("DataId"),
            "Object": source.get("Object"),
            "Url": source.get("Url"),
        }
        return {**detail, **self.result}


def moderation_input(request: Mapping[str, Any]) -> Tree:
    source = request.get("Input")
    if isinstance(source, list):
        source = source[0] if source else {}
    return source if isinstance(source, dict) else {}


#: Delivers a finished job's callback; returns the status the engine records (``delivered``, ``none``, ``failed: …``).
CallbackSenderType = Callable[[JobRecord], "str | None"]
