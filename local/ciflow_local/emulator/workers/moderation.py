"""Moderation jobs: deterministic verdicts from ``ModerationRules`` in CI's detail shapes, per kind."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ciflow.codec import CiModel
from ciflow.models.moderation import (
    MODERATION_SCENES,
    AudioModerationRequest,
    AudioSection,
    DocumentModerationRequest,
    DocumentPageResult,
    DocumentPageSegment,
    FreezeConf,
    HitInfo,
    HitPosition,
    ImageModerationRequest,
    ModerationInput,
    ModerationKind,
    SceneInfo,
    SceneResults,
    TextModerationRequest,
    TextSection,
    VideoModerationRequest,
    VideoSnapshot,
    default_scenes,
    moderation_scene,
)

from . import ffmpeg, imaging
from .common import JobContext, JobFailedError, Tree, input_object, media_failure, moderation_target_url, wire_tree
from .documents import TEXT_TYPES
from .frames import frame_times
from .rules import Hit

#: Scene label -> the detail field that reports it: every scene a request can ask for, from ciflow's one table.
SCENES: dict[str, str] = {scene.name: scene.field for scene in MODERATION_SCENES if scene.requestable}
_MEDIA_SCENES = default_scenes(ModerationKind.IMAGE)  # Porn, Terrorism, Politics, Ads, Teenager (video, audio too)
_TEXT_SCENES = default_scenes(ModerationKind.TEXT)  # Porn, Ads, Illegal, Abuse
_DOCUMENT_SCENES = default_scenes(ModerationKind.DOCUMENT)  # Porn, Ads


@dataclass(frozen=True)
class _Verdict:
    result: int
    label: str
    score: int
    sub_label: str
    hits: list[Hit]

    @classmethod
    def of(cls, hits: list[Hit]) -> _Verdict:
        for result in (1, 2):
            chosen = [hit for hit in hits if hit.result == result]
            if chosen:
                top = chosen[0]
                return cls(result, top.label, max(hit.score for hit in hits), top.sub_label, hits)
        return cls(0, "Normal", 0, "", hits)

    def scene(self, label: str) -> list[Hit]:
        return [hit for hit in self.hits if hit.label == label]


def _scene_names(detect_type: str | None, default: tuple[str, ...], verdict: _Verdict) -> list[str]:
    asked = [name.strip().title() for name in (detect_type or "").split(",") if name.strip()]
    names = [name for name in asked if name in SCENES] or list(default)
    return names + [hit.label for hit in verdict.hits if hit.label not in names]


def _flag(hits: list[Hit]) -> int:
    return 1 if any(hit.result == 1 for hit in hits) else 2 if hits else 0


def _scenes(names: list[str], verdict: _Verdict, build: Callable[[list[Hit]], SceneInfo]) -> dict[str, SceneInfo]:
    return {SCENES[name]: build(verdict.scene(name)) for name in names}


def _frame_scene(hits: list[Hit]) -> SceneInfo:
    score = max((hit.score for hit in hits), default=0)
    sub = next((hit.sub_label for hit in hits if hit.sub_label), "")
    return SceneInfo(
        code="0", msg="OK", hit_flag=_flag(hits), score=score, label=hits[0].keyword if hits else "", sub_label=sub
    )


def _text_scene(hits: list[Hit]) -> SceneInfo:
    score = max((hit.score for hit in hits), default=0)
    infos = [
        HitInfo(type="Keyword", keywords=hit.keyword, positions=[HitPosition(start=s, end=e) for s, e in hit.positions])
        for hit in hits
    ]
    return SceneInfo(
        code="0", hit_flag=_flag(hits), score=score, keywords=",".join(hit.keyword for hit in hits), hit_infos=infos
    )


def _count_scene(hits: list[Hit], frames: int) -> SceneInfo:
    return SceneInfo(hit_flag=_flag(hits), count=frames if hits else 0)


def _freeze(ctx: JobContext, freeze: FreezeConf | None, source: ModerationInput, verdict: _Verdict) -> int:
    """Apply ``Conf.Freeze``: a scene whose score reaches its threshold makes the object private (``ForbidState`` 1)."""
    if freeze is None or not source.object:
        return 0
    for hit in verdict.hits:
        scene = moderation_scene(hit.label)
        threshold = getattr(freeze, scene.freeze_field) if scene is not None and scene.freeze_field else None
        if threshold is not None and hit.score >= threshold:
            return 1 if ctx.store.set_acl(ctx.bucket, source.object.lstrip("/"), "private") else 0
    return 0


def _text_of(ctx: JobContext, source: ModerationInput) -> str:
    if source.content:
        try:
            return base64.b64decode(source.content, validate=True).decode("utf-8", errors="replace")
        except (binascii.Error, ValueError):
            raise JobFailedError("InvalidArgument", "Input.Content is not Base64") from None
    if source.object:
        stored = input_object(ctx, source.object)
        if stored.size > 1024 * 1024:
            raise JobFailedError("FileTooLarge", "text objects over 1 MB are not moderated")
        raw = stored.path.read_bytes()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("gbk", errors="replace")
    return ""


def _name_of(ctx: JobContext, source: ModerationInput) -> str:
    if source.object:
        input_object(ctx, source.object)  # a missing object fails the job, as CI's -61011 does
        return source.object
    return source.url or ""


def _common(ctx: JobContext, source: ModerationInput, verdict: _Verdict, forbid: int) -> dict[str, Any]:
    return {"label": verdict.label, "result": verdict.result, "forbid_state": forbid, "user_info": source.user_info}


def _moderate_image(ctx: JobContext, request: ImageModerationRequest) -> CiModel:
    from ciflow.models.moderation import ImageModerationDetail

    source = request.input[0]
    verdict = _Verdict.of(ctx.rules.name_hits(_name_of(ctx, source)))
    names = _scene_names(request.conf.detect_type, _MEDIA_SCENES, verdict)
    return ImageModerationDetail(
        **_common(ctx, source, verdict, _freeze(ctx, request.conf.freeze, source, verdict)),
        score=verdict.score,
        category=verdict.label if verdict.result else "",
        sub_label=verdict.sub_label,
        compression_result=0,
        text="",
        **_scenes(names, verdict, _frame_scene),
    )


def _probe_duration(ctx: JobContext, source: ModerationInput) -> float:
    if not source.object:
        return 0.0
    try:
        return ffmpeg.probe(input_object(ctx, source.object).path, timeout=30).duration or 0.0
    except ffmpeg.MediaError:
        return 0.0


def _section(
    ctx: JobContext, source: ModerationInput, verdict: _Verdict, names: list[str], duration: float
) -> AudioSection:
    url = moderation_target_url(ctx.bucket, ctx.region, source.object) if source.object else source.url
    return AudioSection(
        url=url,
        text="",
        offset_time=0,
        duration=int(duration * 1000),
        label=verdict.label,
        result=verdict.result,
        sub_label=verdict.sub_label,
        **_scenes(names, verdict, _frame_scene),
    )


def _moderate_video(ctx: JobContext, request: VideoModerationRequest) -> CiModel:
    from ciflow.models.moderation import VideoModerationDetail

    source, conf = request.input, request.conf
    verdict = _Verdict.of(ctx.rules.name_hits(_name_of(ctx, source)))
    names = _scene_names(conf.detect_type, _MEDIA_SCENES, verdict)
    duration = _probe_duration(ctx, source)
    shot = conf.snapshot
    mode = (shot.mode if shot else None) or "Interval"
    every = (shot.time_interval if shot else None) or 1.0
    interval = 1.0 / every if mode == "Fps" else None if mode == "Average" else every
    times = frame_times(duration or 0.1, start=0.0, count=(shot.count if shot else None) or 100, interval=interval)
    url = moderation_target_url(ctx.bucket, ctx.region, source.object) if source.object else source.url
    frames = [
        VideoSnapshot(
            url=url,
            text="",
            snapshot_time=int(at * 1000),
            label=verdict.label,
            result=verdict.result,
            sub_label=verdict.sub_label,
            **_scenes(names, verdict, _frame_scene),
        )
        for at in times
    ]
    sections = [_section(ctx, source, verdict, names, duration)] if conf.detect_content == 1 else []
    return VideoModerationDetail(
        **_common(ctx, source, verdict, _freeze(ctx, conf.freeze, source, verdict)),
        snapshot_count=len(frames),
        sub_label=verdict.sub_label,
        snapshot=frames,
        audio_section=sections,
        **_scenes(names, verdict, lambda hits: _count_scene(hits, len(frames))),
    )


def _moderate_audio(ctx: JobContext, request: AudioModerationRequest) -> CiModel:
    from ciflow.models.moderation import AudioModerationDetail

    source, conf = request.input, request.conf
    verdict = _Verdict.of(ctx.rules.name_hits(_name_of(ctx, source)))
    names = _scene_names(conf.detect_type, _MEDIA_SCENES, verdict)
    section = _section(ctx, source, verdict, names, _probe_duration(ctx, source))
    return AudioModerationDetail(
        **_common(ctx, source, verdict, _freeze(ctx, conf.freeze, source, verdict)),
        audio_text="",
        sub_label=verdict.sub_label,
        section=[section],
        **_scenes(names, verdict, _frame_scene),
    )


_TEXT_SECTION = 10_000


def _moderate_text(ctx: JobContext, request: TextModerationRequest) -> CiModel:
    from ciflow.models.moderation import TextModerationDetail

    source, conf = request.input, request.conf
    text = _text_of(ctx, source)
    verdict = _Verdict.of(ctx.rules.text_hits(text))
    names = _scene_names(conf.detect_type, _TEXT_SCENES, verdict)
    sections = []
    for start in range(0, max(len(text), 1), _TEXT_SECTION):
        part = _Verdict.of(ctx.rules.text_hits(text[start : start + _TEXT_SECTION]))
        sections.append(
            TextSection(start_byte=start, label=part.label, result=part.result, **_scenes(names, part, _text_scene))
        )
    flagged = [section for section in sections if section.result]
    return TextModerationDetail(
        **_common(ctx, source, verdict, _freeze(ctx, conf.freeze, source, verdict)),
        content=source.content,
        section_count=len(sections),
        score=verdict.score,
        section=sections,
        **_scenes(names, verdict, lambda hits: _count_scene(hits, len(flagged))),
    )


def _document_pages(ctx: JobContext, source: ModerationInput) -> tuple[int, str]:
    """(page count, text to scan) of a document: PDFs are counted, plain text is read, others count as one page."""
    if not source.object:
        return 1, ""
    stored = input_object(ctx, source.object)
    kind = (source.type or stored.key.rsplit(".", 1)[-1]).lower()
    if kind == "pdf":
        try:
            return imaging.pdf_page_count(stored.path), ""
        except ffmpeg.MediaError as exc:
            raise media_failure(exc) from None
    if kind in TEXT_TYPES and stored.size <= 1024 * 1024:
        return 1, stored.path.read_text("utf-8", errors="replace")
    return 1, ""


def _moderate_document(ctx: JobContext, request: DocumentModerationRequest) -> CiModel:
    from ciflow.models.moderation import DocumentModerationDetail

    source, conf = request.input, request.conf
    pages, text = _document_pages(ctx, source)
    verdict = _Verdict.of(ctx.rules.name_hits(_name_of(ctx, source)) + ctx.rules.text_hits(text))
    names = _scene_names(conf.detect_type, _DOCUMENT_SCENES, verdict)
    clean = _Verdict.of([])
    results = [
        DocumentPageResult(
            url="",
            text="",
            page_number=number,
            sheet_number=0,
            label=page.label,
            suggestion=page.result,
            **_scenes(names, page, _frame_scene),
        )
        for number, page in ((n, verdict if n == 1 else clean) for n in range(1, pages + 1))
    ]
    common = _common(ctx, source, verdict, _freeze(ctx, conf.freeze, source, verdict))
    common.pop("result")
    return DocumentModerationDetail(
        **common,
        suggestion=verdict.result,
        page_count=pages,
        labels=SceneResults(**_scenes(names, verdict, _frame_scene)),
        page_segment=DocumentPageSegment(results=results),
    )


_MODERATORS: dict[ModerationKind, Callable[[JobContext, Any], CiModel]] = {
    ModerationKind.IMAGE: _moderate_image,
    ModerationKind.VIDEO: _moderate_video,
    ModerationKind.AUDIO: _moderate_audio,
    ModerationKind.TEXT: _moderate_text,
    ModerationKind.DOCUMENT: _moderate_document,
}


def moderate(kind: ModerationKind, ctx: JobContext) -> Tree:
    """The verdict part of a moderation job's detail (Label, Result, scenes, segments, ForbidState)."""
    return wire_tree(_MODERATORS[kind](ctx, ctx.request))
