"""Callback envelopes: CI's TaskFinish and WorkflowFinish (XML or JSON) and moderation reports, in one parser.

``parse_callback`` never drops a report: a kind it does not know comes back as ``RawCallback``.

A report loads only the models it needs: each ``JobsDetail`` entry is decoded by the typed model of its
``Tag`` (``DETAIL_MODELS``: tag -> ``"family:Name"`` in ``ciflow.models.<family>``), imported on the first
report of that tag; a Transcode report never loads the file, document, picture or moderation models, and
no union over every family is built. The moderation models load with the first report that may be one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
)

from ..codec import DEFAULT_MAX_XML_BYTES, MAX_XML_DEPTH, CiModel, CiTime, ListOf, decode_tree, tree_depth_within
from ..errors import DecodeError
from ._common import CosHeader, JobDetail, job_detail_union, load_callback_body
from ._tagged import DETAIL_MODELS, JOB_TAGS, TaggedJobDetail, detail_model, family_of_tag

if TYPE_CHECKING:
    from .moderation import ModerationCallback

__all__ = [
    "DETAIL_MODELS",
    "JOB_DETAILS",
    "JOB_TAGS",
    "AnyJobDetail",
    "TaggedJobDetail",
    "TaskFinish",
    "WorkflowTask",
    "WorkflowExecution",
    "WorkflowFinish",
    "RawCallback",
    "Callback",
    "TooManyEntriesError",
    "decode_callback",
    "detail_model",
    "family_of_tag",
    "parse_callback",
]


def __getattr__(name: str) -> Any:
    """``JOB_DETAILS``, ``AnyJobDetail`` (every family's models) and ``Callback`` (moderation's) on first use."""
    if name == "JOB_DETAILS":
        value: Any = {tag: detail_model(tag) for tag in DETAIL_MODELS}
    elif name == "AnyJobDetail":
        value = job_detail_union({tag: detail_model(tag) for tag in DETAIL_MODELS}, "AnyJobDetail")
    elif name == "Callback":
        from .moderation import ModerationCallback

        value = TaskFinish | WorkflowFinish | ModerationCallback | RawCallback
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


if TYPE_CHECKING:
    #: The typed detail model of every job tag, across media, file, document and picture jobs (loads them all).
    JOB_DETAILS: dict[str, type[JobDetail]]
    #: The tag-discriminated union of every family's details (built on first use; parsing does not use it).
    AnyJobDetail: TypeAlias = JobDetail


class TaskFinish(CiModel):
    """A job finished: ``<Response><EventName>TaskFinish</EventName><JobsDetail>…`` (JSON has no wrapper)."""

    event_name: str = "TaskFinish"
    jobs_detail: ListOf[TaggedJobDetail] = Field(default_factory=list)


class WorkflowTask(CiModel):
    """One node's job in a finished workflow instance."""

    type: str | None = None
    create_time: CiTime = None
    start_time: CiTime = None
    end_time: CiTime = None
    state: str | None = None
    job_id: str | None = None
    name: str | None = None
    template_id: str | None = None
    template_name: str | None = None
    code: str | None = None
    message: str | None = None


class WorkflowExecution(CiModel):
    """A workflow instance: Failed if any of its tasks failed."""

    workflow_id: str | None = None
    workflow_name: str | None = None
    run_id: str | None = None
    state: str | None = None
    bucket_id: str | None = None
    object: str | None = None
    create_time: CiTime = None
    cos_headers: ListOf[CosHeader] = Field(default_factory=list)
    tasks: ListOf[WorkflowTask] = Field(default_factory=list)


class WorkflowFinish(CiModel):
    """A workflow instance finished: ``EventName`` WorkflowFinish with its ``WorkflowExecution``."""

    event_name: str = "WorkflowFinish"
    workflow_execution: WorkflowExecution | None = None


class RawCallback(BaseModel):
    """A report of a kind we do not model: kept whole so it can still be routed."""

    model_config = ConfigDict(defer_build=True)

    format: Literal["xml", "json"]
    event_name: str | None = None
    tree: Any = None


if TYPE_CHECKING:
    Callback: TypeAlias = TaskFinish | WorkflowFinish | ModerationCallback | RawCallback


def decode_callback(tree: Any, format: Literal["xml", "json"] = "json") -> Callback:
    """Pick the model of a decoded callback tree by its ``EventName`` (or moderation's ``code``/``data``)."""
    if not isinstance(tree, dict):
        raise DecodeError("callback body is not an object")
    event = tree.get("EventName")
    if event is not None and not isinstance(event, str):
        raise DecodeError(f"callback EventName is a {type(event).__name__}, not text")
    if event == "TaskFinish":
        return decode_tree(TaskFinish, tree)
    if event == "WorkflowFinish":
        return decode_tree(WorkflowFinish, tree)
    if event is not None or ("data" in tree and "code" in tree):
        from .moderation import EVENT_KINDS, decode_moderation_callback  # the first report that may be one

        if event is None or event in EVENT_KINDS:
            return decode_moderation_callback(tree)
    return RawCallback(format=format, event_name=event, tree=tree)


class TooManyEntriesError(DecodeError):
    """A report with more ``JobsDetail`` entries than the cap: refused before any entry is decoded (HTTP 413)."""

    def __init__(self, count: int, limit: int) -> None:
        self.count = count
        self.limit = limit
        super().__init__(f"callback has {count} JobsDetail entries, over the limit of {limit}")


def _entry_count(tree: Any) -> int:
    entries = tree.get("JobsDetail") if isinstance(tree, dict) else None
    return len(entries) if isinstance(entries, list) else int(entries is not None)


def _json_depth_within(body: bytes | str, tree: Any) -> bool:
    """True when a decoded JSON body nests at most ``MAX_XML_DEPTH`` levels.

    Every level opens with ``{`` or ``[``, whose byte is there in UTF-8, -16 and -32 alike, so a body with no
    more of them than the limit cannot nest deeper: a callback has a few dozen, counted far faster than walked.
    """
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body  # as ``load_callback_body`` read it
    opened = data.count(b"{") + data.count(b"[")
    return opened <= MAX_XML_DEPTH or tree_depth_within(tree, MAX_XML_DEPTH)


def parse_callback(
    body: bytes | str,
    content_type: str | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_XML_BYTES,
    max_entries: int | None = None,
) -> Callback:
    """Parse an untrusted callback body, XML or JSON (by content type, else by its first character).

    ``max_entries`` caps the ``JobsDetail`` entries (``TooManyEntriesError``), checked before decoding them.
    JSON nested deeper than XML may be (``MAX_XML_DEPTH``) is refused too: every later step walks the tree.
    """
    is_xml = "xml" in content_type.lower() if content_type else None
    tree, body_format = load_callback_body(body, xml=is_xml, max_bytes=max_bytes)
    # XML trees are depth-limited as they are built (``element_to_tree``); JSON is measured here.
    if body_format == "json" and not _json_depth_within(body, tree):
        raise DecodeError(f"callback body nested deeper than {MAX_XML_DEPTH} levels")
    if max_entries is not None and _entry_count(tree) > max_entries:
        raise TooManyEntriesError(_entry_count(tree), max_entries)
    return decode_callback(tree, body_format)
