"""Frame jobs over ffmpeg: Snapshot, SmartCover and Animation, and when to capture frames."""

from __future__ import annotations

from ciflow.models.media import (
    Animation,
    AnimationJobRequest,
    SmartCoverJobRequest,
    Snapshot,
    SnapshotJobRequest,
    TimeInterval,
)

from .._storage import StoredObject
from . import ffmpeg
from .common import (
    JobContext,
    JobFailedError,
    Tree,
    expand_output,
    input_object,
    media_failure,
    output_target,
    put_output,
)
from .media import finish_outputs, media_info, parse_fps, probe_media


def frame_times(duration: float, *, start: float, count: int, interval: float | None) -> list[float]:
    """When to capture: every ``interval`` seconds from ``start`` (at most ``count``), else ``count`` spread evenly."""
    count = max(1, min(count, 1000))
    end = max(duration - 0.05, 0.0)
    if start > end:
        raise JobFailedError("InvalidArgument", f"Start {start:g} s is past the media's {duration:g} s")
    if interval:
        return [start + index * interval for index in range(count) if start + index * interval <= end] or [start]
    span = end - start
    return [start + span * index / count for index in range(count)]


def _numbered(template: str, wildcard_names: tuple[str, ...], count: int) -> None:
    if count > 1 and not any(name in template for name in wildcard_names):
        raise JobFailedError("InvalidArgument", f"Output.Object must contain {wildcard_names[0]} for several images")


def _capture(
    ctx: JobContext, times: list[float], template: str, size: tuple[int | None, int | None], fmt: str
) -> tuple[list[tuple[str, StoredObject]], str, StoredObject, ffmpeg.MediaProbe]:
    """Capture frames at ``times`` into ``template`` keys numbered from 0; (outputs, prefix, input, probe)."""
    stored = input_object(ctx, ctx.request.input.object)
    bucket, _, _ = output_target(ctx, ctx.request.operation.output)
    written = []
    for number, at in enumerate(times):
        scratch = ctx.scratch()
        try:
            ffmpeg.snapshot(
                stored.path, scratch, at, width=size[0], height=size[1], image_format=fmt, timeout=ctx.timeout
            )
        except ffmpeg.MediaError as exc:
            raise media_failure(exc) from None
        key = expand_output(template, job_id=ctx.job_id, input_key=stored.key, ext=fmt, number=number)
        written.append((key, put_output(ctx, bucket, key, scratch)))
        ctx.report(100 * (number + 1) // len(times))
    marker = min((template.find(w) for w in ("${Number}", "${number}") if w in template), default=-1)
    prefix = expand_output(template[:marker], job_id=ctx.job_id, input_key=stored.key) if marker >= 0 else ""
    return written, prefix, stored, probe_media(ctx, stored.path)


def _media_duration(ctx: JobContext) -> tuple[float, ffmpeg.MediaProbe]:
    stored = input_object(ctx, ctx.request.input.object)
    probe = probe_media(ctx, stored.path)
    if probe.video is None or not probe.duration:
        raise JobFailedError("InvalidMedia", "the input has no video stream to capture")
    return probe.duration, probe


def _image_ext(template: str, default: str = "jpg") -> str:
    ext = template.rsplit(".", 1)[-1].lower() if "." in template.rsplit("/", 1)[-1] else ""
    return {"jpeg": "jpg"}.get(ext, ext) if ext in ("jpg", "jpeg", "png", "webp") else default


def snapshot(ctx: JobContext) -> Tree:
    request: SnapshotJobRequest = ctx.request
    operation = request.operation
    bucket, region, template = output_target(ctx, operation.output)
    settings = operation.snapshot or Snapshot(count=1)
    duration, _ = _media_duration(ctx)
    interval = settings.time_interval if (settings.mode or "Interval") == "Interval" else None
    times = frame_times(duration, start=settings.start or 0.0, count=settings.count or 1, interval=interval)
    _numbered(template, ("${Number}", "${number}"), len(times))
    written, prefix, stored, probe = _capture(
        ctx, times, template, (settings.width, settings.height), _image_ext(template)
    )
    return finish_outputs(ctx, bucket, region, written, prefix, info=media_info(probe, stored.size))


def smart_cover(ctx: JobContext) -> Tree:
    request: SmartCoverJobRequest = ctx.request
    operation = request.operation
    bucket, region, template = output_target(ctx, operation.output)
    cover = operation.smart_cover
    count = max(1, min((cover.count if cover else None) or 3, 10))
    duration, _ = _media_duration(ctx)
    times = [duration * (index + 1) / (count + 1) for index in range(count)]
    fmt = ((cover.format if cover else None) or _image_ext(template)).lower()
    _numbered(template, ("${number}", "${Number}"), count)
    size = (cover.width if cover else None, cover.height if cover else None)
    written, prefix, stored, probe = _capture(ctx, times, template, size, "jpg" if fmt == "jpeg" else fmt)
    return finish_outputs(ctx, bucket, region, written, prefix, info=media_info(probe, stored.size))


def animation(ctx: JobContext) -> Tree:
    request: AnimationJobRequest = ctx.request
    operation = request.operation
    bucket, region, template = output_target(ctx, operation.output)
    settings = operation.animation or Animation()
    fmt = ((settings.container.format if settings.container else None) or "gif").lower()
    fmt = "gif" if fmt == "hgif" else fmt
    if fmt not in ("gif", "webp"):
        raise JobFailedError("InvalidArgument", f"Animation Container.Format must be gif, hgif or webp, got {fmt!r}")
    video = settings.video
    fps = (video.animate_frames_per_second if video else None) or parse_fps(video.fps if video else None) or 10.0
    if video and video.animate_time_interval_of_frame:
        fps = 1.0 / video.animate_time_interval_of_frame
    interval = settings.time_interval or TimeInterval()
    stored = input_object(ctx, request.input.object)
    scratch = ctx.scratch()
    try:
        ffmpeg.animation(
            stored.path,
            scratch,
            image_format=fmt,
            width=video.width if video else None,
            height=video.height if video else None,
            fps=max(0.1, min(fps, 60.0)),
            start=interval.start,
            duration=interval.duration or 60.0,
            timeout=ctx.timeout,
        )
    except ffmpeg.MediaError as exc:
        raise media_failure(exc) from None
    key = expand_output(template, job_id=ctx.job_id, input_key=stored.key, ext=fmt)
    written = [(key, put_output(ctx, bucket, key, scratch))]
    return finish_outputs(ctx, bucket, region, written)
