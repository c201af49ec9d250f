"""Every parsed callback as normalised results: one ``JobResult`` per job, never none, never an exception.

``normalise`` is on the callback handler's hot path (≥ 10,000 callbacks/s with parsing and authentication), so
it reads the typed models field by field and serialises a whole tree only for a result of kind ``unknown``.
It logs nothing: the handler logs what it does with the results.
"""

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from pydantic import BaseModel

from ..codec import to_tree
from ..models import JobDetail, JobInput, JobOutput
from ..models.callbacks import Callback, RawCallback, TaskFinish, WorkflowExecution, WorkflowFinish
from ..models.documents import DocProcessOperation
from ..models.files import FILE_TAGS, FileCompressOperation, FileHashCodeOperation, FileUncompressOperation
from ..models.media import (
    MEDIA_TAGS,
    MediaOperation,
    OutputFileInfo,
    QualityEstimateOperation,
    TemplatedMediaOperation,
)
from ..models.moderation import (
    MODERATION_SCENES,
    DocumentModerationDetail,
    ModerationDetailCallback,
    ModerationSimpleCallback,
    ModerationVerdict,
    SceneInfo,
    SceneResults,
    SimpleCallbackData,
    SimpleSceneInfo,
    TextModerationDetail,
    VideoModerationDetail,
)
from ..models.pictures import PicOperation
from ..userdata import ForgedUserDataError, decode_user_data
from ._model import JobResult, ObjectLocation, ResultKind, ResultVerdict

__all__ = ["normalise", "kind_of_tag"]

_SUCCESS = "Success"
_FAILED = "Failed"
_MODERATION_EVENT = "Moderation"

#: Result kind of every job tag with a typed model; any other tag is ``unknown`` (routed raw).
_KIND_BY_TAG: dict[str, ResultKind] = {
    **dict.fromkeys(MEDIA_TAGS, "media"),
    **dict.fromkeys(FILE_TAGS, "file"),
    "DocProcess": "document",
    "PicProcess": "picture",
}

# Simple moderation callbacks: (scene name, field of SimpleCallbackData), in the verdict's scene order.
_SIMPLE_SCENES: tuple[tuple[str, str], ...] = tuple(
    (scene.name, scene.field) for scene in MODERATION_SCENES if scene.requestable
)
# COS object hosts: <bucket>.cos.<region>.myqcloud.com and the tencentcos.cn form.
_COS_DOMAINS = (("myqcloud", "com"), ("tencentcos", "cn"))


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
        if isinstance(callback, ModerationDetailCallback):
            return [_moderation_detail(callback, user_data_secrets)]
        if isinstance(callback, ModerationSimpleCallback):
            return [_moderation_simple(callback, user_data_secrets)]
        if isinstance(callback, WorkflowFinish):
            execution = callback.workflow_execution
            if execution is None:
                return [_unknown(callback.event_name, callback, reason="no WorkflowExecution")]
            return [_workflow(callback.event_name, execution)]
        if isinstance(callback, RawCallback):
            return [JobResult(kind="unknown", event=callback.event_name or "unknown", raw=callback.tree)]
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


def _user_data(text: Any, secrets: Sequence[str]) -> dict[str, Any]:
    """The UserData fields of a result: route/correlation id/step only when the signature verifies."""
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    if not isinstance(text, str) or not text:
        return {}
    try:
        tag = decode_user_data(text, secrets)
    except ForgedUserDataError:
        return {"user_data": text}
    return {
        "user_data": text,
        "user_data_valid": True,
        "route": tag.route,
        "correlation_id": tag.correlation_id,
        "step": tag.step,
    }


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


def _input(job_input: JobInput | None) -> ObjectLocation | None:
    if job_input is None or not job_input.object:
        return None
    return ObjectLocation(bucket=job_input.bucket_id or job_input.bucket, region=job_input.region, key=job_input.object)


def _location(output: JobOutput | None, key: str | None) -> ObjectLocation | None:
    if not key:
        return None
    if output is None:
        return ObjectLocation(key=key)
    return ObjectLocation(bucket=output.bucket, region=output.region, key=key)


def _declared_outputs(output: JobOutput | None) -> list[ObjectLocation]:
    """The outputs a job was asked to write (``Output.Object``/``SpriteObject``), when it reports none itself."""
    if output is None:
        return []
    found = [_location(output, output.object), _location(output, output.sprite_object)]
    return [location for location in found if location is not None]


def _put(details: dict[str, Any], key: str, value: Any) -> None:
    """Add a detail worth routing on, skipping unset values (and floats JSON cannot carry)."""
    if value is None or value == "":
        return
    if isinstance(value, float) and not math.isfinite(value):
        return
    details[key] = value


def _cos_object(url: str | None) -> ObjectLocation | None:
    """The object a COS URL names (``https://<bucket>.cos.<region>.myqcloud.com/<key>``), else None."""
    if not url:
        return None
    _, scheme_sep, rest = url.partition("://")
    if not scheme_sep:
        return None
    host, _, path = rest.partition("/")
    path = path.partition("?")[0].partition("#")[0]
    labels = host.rpartition("@")[2].partition(":")[0].lower().split(".")
    if (
        not path
        or len(labels) != 5
        or labels[1] != "cos"
        or labels[2] == "accelerate"
        or (labels[3], labels[4]) not in _COS_DOMAINS
    ):
        return None
    return ObjectLocation(bucket=labels[0], region=labels[2], key=unquote(path))


def _failure(state: str | None, code: str | None, message: str | None) -> dict[str, Any]:
    if state != _FAILED:
        return {}
    return {
        "error_code": code if code and code != _SUCCESS else None,
        "error_message": message or None,
    }


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

    if isinstance(operation, MediaOperation):
        _media(operation, succeeded, outputs, details)
    elif isinstance(operation, FileHashCodeOperation):
        _file_hash(operation, hashes, details)
    elif isinstance(operation, FileUncompressOperation):
        _file_uncompress(operation, outputs, details)
    elif isinstance(operation, FileCompressOperation):
        _file_compress(operation, succeeded, outputs, details)
    elif isinstance(operation, DocProcessOperation):
        _document(operation, outputs, details)
    elif isinstance(operation, PicOperation):
        _picture(operation, succeeded, outputs, details)
    elif kind != "unknown" and operation is not None:
        kind = "unknown"  # a known tag whose Operation was not typed: nothing read from it, so route it raw
    if kind == "unknown":
        raw = _tree(detail)

    workflow = detail.workflow
    if workflow is not None:
        _put(details, "workflow_id", workflow.workflow_id)
        _put(details, "workflow_run_id", workflow.run_id)

    return JobResult(
        kind=kind,
        event=event,
        job_id=detail.job_id,
        tag=tag,
        state=state,
        succeeded=succeeded,
        input=_input(detail.input),
        outputs=outputs,
        hashes=hashes,
        details=details,
        created_at=detail.creation_time,
        started_at=detail.start_time,
        finished_at=detail.end_time,
        raw=raw,
        **_failure(state, detail.code, detail.message),
        **_user_data(_operation_user_data(operation), secrets),
    )


def _output_file(files: OutputFileInfo, outputs: list[ObjectLocation]) -> None:
    prefix = files.object_prefix or ""
    for name in files.object_name:
        if name:
            outputs.append(ObjectLocation(bucket=files.bucket, region=files.region, key=prefix + name))


def _media(operation: MediaOperation, succeeded: bool, outputs: list[ObjectLocation], details: dict[str, Any]) -> None:
    result = operation.media_result
    output_file = result.output_file if result is not None else None
    if output_file is not None:
        _output_file(output_file, outputs)
        if output_file.sprite_output_file is not None:
            _output_file(output_file.sprite_output_file, outputs)
        md5 = {info.object_name: info.md5 for info in output_file.md5_info if info.object_name and info.md5}
        if md5:
            details["output_md5"] = md5
    templated = operation if isinstance(operation, TemplatedMediaOperation) else None
    if not outputs and succeeded and templated is not None:
        outputs.extend(_declared_outputs(templated.output))

    info = operation.media_info
    if info is not None:
        fmt = info.format
        if fmt is not None:
            _put(details, "duration", fmt.duration)
            _put(details, "format", fmt.format_name)
            _put(details, "size", fmt.size)
        stream = info.stream
        if stream is not None:
            if stream.video:
                video = stream.video[0]
                _put(details, "width", video.width)
                _put(details, "height", video.height)
                _put(details, "video_codec", video.codec_name)
                if "duration" not in details:
                    _put(details, "duration", video.duration)
            if stream.audio:
                audio = stream.audio[0]
                _put(details, "audio_codec", audio.codec_name)
                if "duration" not in details:
                    _put(details, "duration", audio.duration)

    quality = (
        operation.result
        if isinstance(operation, QualityEstimateOperation)
        else (result.quality_estimate if result is not None else None)
    )
    if quality is not None:
        _put(details, "quality_score", quality.score)
    if templated is not None:
        _put(details, "template_id", templated.template_id)


def _file_hash(operation: FileHashCodeOperation, hashes: dict[str, str], details: dict[str, Any]) -> None:
    result = operation.file_hash_code_result
    if result is None:
        return
    if result.md5:
        hashes["md5"] = result.md5
    if result.sha1:
        hashes["sha1"] = result.sha1
    if result.sha256:
        hashes["sha256"] = result.sha256
    _put(details, "file_size", result.file_size)
    _put(details, "etag", result.etag)


def _file_uncompress(
    operation: FileUncompressOperation, outputs: list[ObjectLocation], details: dict[str, Any]
) -> None:
    result = operation.file_uncompress_result
    output = operation.output
    bucket = (result.bucket if result is not None else None) or (output.bucket if output is not None else None)
    region = (result.region if result is not None else None) or (output.region if output is not None else None)
    if result is not None:
        _put(details, "file_count", result.file_count)
        listing = result.file_list
        if listing is not None:
            for entry in listing.contents:
                if entry.key:
                    outputs.append(ObjectLocation(bucket=bucket, region=region, key=entry.key))
            if listing.is_truncated:
                details["file_list_truncated"] = True
    config = operation.file_uncompress_config
    # The extracted files live under this prefix: a prefix, not an object, so a detail rather than an output.
    _put(details, "output_prefix", config.prefix if config is not None else None)
    _put(details, "output_bucket", bucket)
    _put(details, "output_region", region)


def _file_compress(
    operation: FileCompressOperation, succeeded: bool, outputs: list[ObjectLocation], details: dict[str, Any]
) -> None:
    result = operation.file_compress_result
    output = operation.output
    if result is not None:
        if result.object:
            bucket = result.bucket or (output.bucket if output is not None else None)
            region = result.region or (output.region if output is not None else None)
            outputs.append(ObjectLocation(bucket=bucket, region=region, key=result.object))
        _put(details, "compress_file_count", result.compress_file_count)
        _put(details, "error_count", result.error_count)
    if not outputs and succeeded:
        outputs.extend(_declared_outputs(output))


def _document(operation: DocProcessOperation, outputs: list[ObjectLocation], details: dict[str, Any]) -> None:
    result = operation.doc_process_result
    if result is None:
        return
    output = operation.output
    for page in result.page_info:
        location = _location(output, page.tgt_uri)
        if location is not None:
            outputs.append(location)
    _put(details, "total_page_count", result.total_page_count)
    _put(details, "succ_page_count", result.succ_page_count)
    _put(details, "fail_page_count", result.fail_page_count)
    _put(details, "total_sheet_count", result.total_sheet_count)
    _put(details, "tgt_type", result.tgt_type)


def _picture(operation: PicOperation, succeeded: bool, outputs: list[ObjectLocation], details: dict[str, Any]) -> None:
    output = operation.output
    images = operation.outputs
    for image in images:
        location = _location(output, image.key)
        if location is not None:
            outputs.append(location)
    result = operation.pic_process_result
    if not outputs and result is not None:
        location = _location(output, result.object_name)
        if location is not None:
            outputs.append(location)
    if not outputs and succeeded:
        outputs.extend(_declared_outputs(output))
    if images:
        image = images[0]
        _put(details, "format", image.format)
        _put(details, "width", image.width)
        _put(details, "height", image.height)
        _put(details, "size", image.size)
    _put(details, "template_id", operation.template_id)


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
    return JobResult(
        kind="workflow",
        event=event,
        job_id=execution.run_id,
        state=state,
        succeeded=state == _SUCCESS,
        input=(ObjectLocation(bucket=execution.bucket_id, key=execution.object) if execution.object else None),
        details=details,
        created_at=execution.create_time,
        started_at=started_at,
        finished_at=finished_at,
        **failure,
    )


# --------------------------------------------------------------------------------------------------
# Moderation (Detail and Simple callbacks, every media type)
# --------------------------------------------------------------------------------------------------


def _verdict(verdict: ModerationVerdict) -> ResultVerdict:
    return ResultVerdict(
        result=None if verdict.result is None else int(verdict.result),
        label=verdict.label,
        score=verdict.score,
        sub_label=verdict.sub_label,
        hits=list(verdict.hits),
    )


def _scene_entry(info: SceneInfo | SimpleSceneInfo) -> dict[str, Any]:
    """One scene's flags, small: hit flag, label, sub label, score, count (those set)."""
    entry: dict[str, Any] = {}
    _put(entry, "hit_flag", info.hit_flag)
    _put(entry, "label", info.label)
    if isinstance(info, SceneInfo):
        _put(entry, "sub_label", info.sub_label)
    _put(entry, "score", info.score)
    _put(entry, "count", info.count)
    return entry


def _moderation_detail(callback: ModerationDetailCallback, secrets: Sequence[str]) -> JobResult:
    event = callback.event_name or _MODERATION_EVENT
    media = callback.kind
    details: dict[str, Any] = {}
    _put(details, "media", media.value if media is not None else None)
    detail = callback.jobs_detail
    if detail is None:
        return JobResult(kind="moderation", event=event, tag=event, verdict=_verdict(callback.verdict), details=details)

    scenes_of: SceneResults | None = (
        detail.labels
        if isinstance(detail, DocumentModerationDetail)
        else detail
        if isinstance(detail, SceneResults)
        else None
    )
    if scenes_of is not None:
        scenes = {name: _scene_entry(info) for name, info in scenes_of.scenes().items()}
        if scenes:
            details["scenes"] = scenes
    _put(details, "forbid_state", detail.forbid_state)
    _put(details, "url", detail.url)
    if isinstance(detail, DocumentModerationDetail):
        _put(details, "page_count", detail.page_count)
    elif isinstance(detail, TextModerationDetail):
        _put(details, "section_count", detail.section_count)
    elif isinstance(detail, VideoModerationDetail):
        _put(details, "snapshot_count", detail.snapshot_count)
    if detail.cos_headers:
        details["cos_headers"] = detail.cos_headers

    if detail.object:
        job_input: ObjectLocation | None = ObjectLocation(
            bucket=detail.bucket_id, region=detail.region, key=detail.object
        )
    else:
        job_input = _input(detail.input) or _cos_object(detail.url)
    state = detail.state
    return JobResult(
        kind="moderation",
        event=event,
        job_id=detail.job_id,
        tag=detail.tag or event,
        state=state,
        succeeded=state == _SUCCESS,
        input=job_input,
        verdict=_verdict(callback.verdict),
        details=details,
        created_at=detail.creation_time,
        started_at=detail.start_time,
        finished_at=detail.end_time,
        **_failure(state, detail.code, detail.message),
        **_user_data(detail.data_id, secrets),
    )


def _simple_scenes(data: SimpleCallbackData) -> dict[str, Any]:
    scenes: dict[str, Any] = {}
    for name, field in _SIMPLE_SCENES:
        info = data.__dict__.get(field)  # a field of SimpleCallbackData: no attribute lookup machinery
        if info is not None:
            scenes[name] = _scene_entry(info)
    return scenes


def _moderation_simple(callback: ModerationSimpleCallback, secrets: Sequence[str]) -> JobResult:
    data = callback.data
    media = callback.kind
    event = (data.event if data is not None else None) or _MODERATION_EVENT
    code = callback.code
    state = None if code is None else _SUCCESS if code == 0 else _FAILED
    details: dict[str, Any] = {}
    _put(details, "media", media.value if media is not None else None)
    if callback.is_test:
        details["test"] = True
    failure = {"error_code": str(code), "error_message": callback.message or None} if state == _FAILED else {}
    if data is None:
        return JobResult(
            kind="moderation",
            event=event,
            tag=event,
            state=state,
            succeeded=state == _SUCCESS,
            verdict=_verdict(callback.verdict),
            details=details,
            **failure,
        )
    scenes = _simple_scenes(data)
    if scenes:
        details["scenes"] = scenes
    _put(details, "forbid_state", data.forbidden_status)
    _put(details, "url", data.url)
    if data.cos_headers:
        details["cos_headers"] = data.cos_headers
    return JobResult(
        kind="moderation",
        event=event,
        job_id=data.trace_id,
        tag=event,
        state=state,
        succeeded=state == _SUCCESS,
        input=_cos_object(data.url),
        verdict=_verdict(callback.verdict),
        details=details,
        **failure,
        **_user_data(data.data_id, secrets),
    )
