"""Moderation callbacks (Detail and Simple, every media type) as normalised results."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
from ._model import JobResult, ObjectLocation, ResultVerdict
from ._parts import _FAILED, _SUCCESS, _cos_object, _failure, _input, _put, _user_data

__all__ = ["read_moderation"]

_MODERATION_EVENT = "Moderation"


# Simple moderation callbacks: (scene name, field of SimpleCallbackData), in the verdict's scene order.
_SIMPLE_SCENES: tuple[tuple[str, str], ...] = tuple(
    (scene.name, scene.field) for scene in MODERATION_SCENES if scene.requestable
)


def read_moderation(callback: Any, secrets: Sequence[str]) -> JobResult | None:
    """The result of a moderation callback (Detail or Simple); None for anything else."""
    if isinstance(callback, ModerationDetailCallback):
        return _moderation_detail(callback, secrets)
    if isinstance(callback, ModerationSimpleCallback):
        return _moderation_simple(callback, secrets)
    return None


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
