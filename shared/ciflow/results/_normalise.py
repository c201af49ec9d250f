"""Every parsed callback as normalised results: one ``JobResult`` per job, never none, never an exception."""

# ``normalise`` is on the callback handler's hot path (>= 10,000 callbacks/s with parsing and authentication), so
# it reads the typed models field by field and serialises a whole tree only for a result of kind ``unknown``.
# It logs nothing: the handler logs what it does with the results.
#
# A job's ``Operation`` is read by its family's module (``_media_jobs``, ``_editing_jobs``, ``_audio_jobs``,
# ``_intelligence_jobs``, ``_file_jobs``, ``_document_jobs``, ``_picture_jobs``; moderation reports by
# ``_moderation``), each loaded with its models on the first result that needs it: normalising a Transcode report
# never loads the file, document, picture or moderation models.

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ..codec import to_tree
from ..models.callbacks import DETAIL_MODELS, RawCallback, TaskFinish, WorkflowFinish
from ._model import JobResult, ObjectLocation, ResultKind, job_result
from ._parts import _FAILED, _SUCCESS, Reader, _failure, _input, _put, _user_data
from ._parts import _cos_object as _cos_object  # re-exported: tests read object URLs through it

if TYPE_CHECKING:
    from ..models import JobDetail
    from ..models.callbacks import Callback, WorkflowExecution

__all__ = ["normalise", "kind_of_tag"]

#: The result kind of each model family.
_KIND_OF_FAMILY: dict[str, ResultKind] = {
    "media": "media",
    "files": "file",
    "documents": "document",
    "pictures": "picture",
    "editing": "media",
    "audio": "media",
    "intelligence": "media",
}

#: Result kind of every job tag with a typed model; any other tag is ``unknown`` (routed raw).
_KIND_BY_TAG: dict[str, ResultKind] = {
    tag: _KIND_OF_FAMILY[spec.partition(":")[0]] for tag, spec in DETAIL_MODELS.items()
}

#: The module reading the operations of each model family's module.
_READER_MODULES = {
    "ciflow.models.media": "._media_jobs",
    "ciflow.models.files": "._file_jobs",
    "ciflow.models.documents": "._document_jobs",
    "ciflow.models.pictures": "._picture_jobs",
    "ciflow.models.editing": "._editing_jobs",
    "ciflow.models.audio": "._audio_jobs",
    "ciflow.models.intelligence": "._intelligence_jobs",
}

#: Operation type -> its reader (None: nothing to read), found on the first operation of each type.
_READERS: dict[type[Any], Reader | None] = {}


def _reader(operation_type: type[Any]) -> Reader | None:
    """The reader of an operation type: the first of its family's readers whose type it is (as ``isinstance``)."""
    try:
        return _READERS[operation_type]
    except KeyError:
        pass
    found: Reader | None = None
    for family in dict.fromkeys(cls.__module__ for cls in operation_type.__mro__):
        module = _READER_MODULES.get(family)
        if module is not None:
            readers = importlib.import_module(module, __package__).READERS
            found = next((read for kind, read in readers if issubclass(operation_type, kind)), None)
            if found is not None:
                break
    _READERS[operation_type] = found
    return found


@functools.cache
def _moderation_reader() -> Callable[[Any, Sequence[str]], JobResult | None]:
    """``read_moderation``: a moderation callback's result, None for another callback (loaded on first use)."""
    from ._moderation import read_moderation

    return read_moderation


def kind_of_tag(tag: str | None) -> ResultKind:
    """The result kind of a job tag: media, file, document, picture, or ``unknown`` for an unmodelled tag."""
    return _KIND_BY_TAG.get(tag or "", "unknown")


def normalise(callback: Callback, *, user_data_secrets: Sequence[str]) -> list[JobResult]:
    """The normalised results of a parsed callback: one per job (a TaskFinish may report several).

    UserData (``Operation.UserData``; ``DataId`` for moderation) is verified against any of
    ``user_data_secrets``; one that does not verify is kept as sent, with ``user_data_valid`` False and no
    route. Anything surprising becomes a result of kind ``unknown`` carrying the tree: never raises.
    """
    try:
        if isinstance(callback, TaskFinish):
            if not callback.jobs_detail:
                return [_unknown(callback.event_name, callback, reason="no JobsDetail")]
            return [_job_or_unknown(detail, callback.event_name, user_data_secrets) for detail in callback.jobs_detail]
        if isinstance(callback, WorkflowFinish):
            execution = callback.workflow_execution
            if execution is None:
                return [_unknown(callback.event_name, callback, reason="no WorkflowExecution")]
            return [_workflow(callback.event_name, execution)]
        if isinstance(callback, RawCallback):
            return [JobResult(kind="unknown", event=callback.event_name or "unknown", raw=callback.tree)]
        moderation = _moderation_reader()(callback, user_data_secrets)
        if moderation is not None:
            return [moderation]
        return [_unknown(None, callback, reason=f"unexpected callback type {type(callback).__name__}")]
    except Exception as exc:  # a defensive net: a callback is routed raw rather than lost
        return [_unknown(getattr(callback, "event_name", None), callback, reason=f"{type(exc).__name__}: {exc}")]


# --------------------------------------------------------------------------------------------------
# Shared pieces
# --------------------------------------------------------------------------------------------------


def _tree(value: Any) -> Any:
    """The wire tree of whatever we were given, for ``raw`` (JSON-able; ``None`` if even that fails)."""
    try:
        if isinstance(value, RawCallback):
            return value.tree
        if isinstance(value, BaseModel):
            return to_tree(value)
        return value if isinstance(value, (dict, list, str, int, float, bool)) else None
    except Exception:
        return None


def _unknown(event: str | None, value: Any, *, reason: str | None = None, **known: Any) -> JobResult:
    details = {"unknown_reason": reason[:300]} if reason else {}
    name = event if isinstance(event, str) and event else "unknown"
    try:
        return JobResult(kind="unknown", event=name, raw=_tree(value), details=details, **known)
    except Exception:  # ``known`` fields that do not validate: keep the tree alone
        return JobResult(kind="unknown", event=name, raw=_tree(value), details=details)


def _job_or_unknown(detail: JobDetail, event: str, secrets: Sequence[str]) -> JobResult:
    try:
        return _job(detail, event, secrets)
    except Exception as exc:
        known = {"job_id": getattr(detail, "job_id", None), "tag": getattr(detail, "tag", None)}
        return _unknown(event, detail, reason=f"{type(exc).__name__}: {exc}", **known)


def _operation_user_data(operation: Any) -> Any:
    """``Operation.UserData`` of a typed operation, an untyped one (dict) or one that keeps it as an extra."""
    if isinstance(operation, BaseModel):
        value = getattr(operation, "user_data", None)
        if value is None and operation.model_extra:
            value = operation.model_extra.get("UserData")
        return value
    if isinstance(operation, dict):
        return operation.get("UserData")
    return None


def _span(starts: list[datetime], ends: list[datetime]) -> tuple[datetime | None, datetime | None]:
    """Earliest start and latest end (``None`` when unknown, or naive and aware times cannot be compared)."""
    try:
        return (min(starts) if starts else None), (max(ends) if ends else None)
    except TypeError:
        return None, None


# --------------------------------------------------------------------------------------------------
# TaskFinish jobs: media, file, document, picture
# --------------------------------------------------------------------------------------------------


def _job(detail: JobDetail, event: str, secrets: Sequence[str]) -> JobResult:
    tag = detail.tag
    state = detail.state
    succeeded = state == _SUCCESS
    kind = _KIND_BY_TAG.get(tag or "", "unknown")
    operation = detail.operation
    outputs: list[ObjectLocation] = []
    hashes: dict[str, str] = {}
    details: dict[str, Any] = {}
    raw: Any = None

    read = _reader(type(operation)) if isinstance(operation, BaseModel) else None
    if read is not None:
        read(operation, succeeded, outputs, hashes, details)
    elif kind != "unknown" and operation is not None:
        kind = "unknown"  # a known tag whose Operation was not typed: nothing read from it, so route it raw
    if kind == "unknown":
        raw = _tree(detail)

    workflow = detail.workflow
    if workflow is not None:
        _put(details, "workflow_id", workflow.workflow_id)
        _put(details, "workflow_run_id", workflow.run_id)

    return job_result(
        {
            "kind": kind,
            "event": event,
            "job_id": detail.job_id,
            "tag": tag,
            "state": state,
            "succeeded": succeeded,
            "input": _input(detail.input),
            "outputs": outputs,
            "hashes": hashes,
            "details": details,
            "created_at": detail.creation_time,
            "started_at": detail.start_time,
            "finished_at": detail.end_time,
            "raw": raw,
            **_failure(state, detail.code, detail.message),
            **_user_data(_operation_user_data(operation), secrets),
        }
    )


# --------------------------------------------------------------------------------------------------
# WorkflowFinish
# --------------------------------------------------------------------------------------------------


def _workflow(event: str, execution: WorkflowExecution) -> JobResult:
    tasks: list[dict[str, Any]] = []
    starts: list[datetime] = []
    ends: list[datetime] = []
    failure: dict[str, Any] = {}
    for task in execution.tasks:
        entry: dict[str, Any] = {}
        _put(entry, "job_id", task.job_id)
        _put(entry, "type", task.type)
        _put(entry, "state", task.state)
        _put(entry, "name", task.name)
        if task.state == _FAILED:
            _put(entry, "code", task.code)
            _put(entry, "message", task.message)
            if not failure:
                failure = _failure(task.state, task.code, task.message)
        tasks.append(entry)
        start = task.start_time or task.create_time
        if start is not None:
            starts.append(start)
        if task.end_time is not None:
            ends.append(task.end_time)
    details: dict[str, Any] = {}
    _put(details, "workflow_id", execution.workflow_id)
    _put(details, "workflow_name", execution.workflow_name)
    details["tasks"] = tasks
    started_at, finished_at = _span(starts, ends)
    state = execution.state
    if state != _FAILED:
        failure = {}
    elif not failure:
        failure = {"error_code": None, "error_message": None}
    return job_result(
        {
            "kind": "workflow",
            "event": event,
            "job_id": execution.run_id,
            "state": state,
            "succeeded": state == _SUCCESS,
            "input": (ObjectLocation(bucket=execution.bucket_id, key=execution.object) if execution.object else None),
            "details": details,
            "created_at": execution.create_time,
            "started_at": started_at,
            "finished_at": finished_at,
            **failure,
        }
    )
