"""Colour jobs over ffmpeg, all real: SDRtoHDR, VideoProcess (colour enhance, sharpen) and the MediaInfo job.

SDRtoHDR: the emulator converts the colour space with ffmpeg's ``zscale`` (BT.709 -> BT.2020, HLG or PQ transfer,
10 bit) and tags the colour metadata; it is not CI's HDR model. VideoProcess: ``ColorEnhance`` is ffmpeg's ``eq``
(contrast, saturation, brightness from Correction), ``MsSharpen`` its ``unsharp``; values left empty ("automatic")
take the emulator's fixed defaults. Both then transcode as ``TranscodeTemplateId`` (the emulator's transcode
templates) or inline ``Transcode`` say; watermarks are not drawn.
"""

from __future__ import annotations

import re
from pathlib import Path

from ciflow.models.editing import (
    ColorEnhance,
    EditingJobRequest,
    MediaInfoOperation,
    MsSharpen,
    SdrToHdrOperation,
    VideoProcess,
    VideoProcessOperation,
)
from ciflow.models.media import MediaInfo, Transcode, Video

from . import ffmpeg
from .common import (
    JobContext,
    JobFailedError,
    Tree,
    expand_output,
    input_object,
    output_target,
    put_output,
    run_checked,
    wire_tree,
)
from .editing import encode_args
from .media import DEFAULT_TEMPLATE, TRANSCODE_TEMPLATES, finish_outputs, media_info, parse_fps, probe_media

__all__ = ["sdr_to_hdr", "video_process", "media_info_job", "colour_tags"]

#: HdrMode -> the transfer characteristic written (zscale's and ffmpeg's name).
_TRANSFERS = {"HLG": "arib-std-b67", "HDR10": "smpte2084"}
_COLOUR = re.compile(r"Video: .*?\((?P<range>tv|pc), (?P<matrix>[\w-]+)/(?P<primaries>[\w-]+)/(?P<transfer>[\w-]+)[,)]")


def colour_tags(path: Path, *, timeout: float) -> dict[str, str]:
    """The colour range, matrix, primaries and transfer ffmpeg reads from the first video stream (empty if untagged)."""
    match = _COLOUR.search(ffmpeg.run_ffmpeg(["-i", str(path)], timeout=timeout, check=False))
    return match.groupdict() if match else {}


def _transcode_parameters(template_id: str | None, inline: Transcode | None) -> Transcode:
    """``TranscodeTemplateId`` (the emulator's templates, else its default) wins over inline ``Transcode``."""
    if template_id:
        return TRANSCODE_TEMPLATES.get(template_id, DEFAULT_TEMPLATE)[1]
    return inline or DEFAULT_TEMPLATE[1]


def _encode(ctx: JobContext, template: str, parameters: Transcode, filters: list[str], video_args: list[str]) -> Tree:
    """Filter and transcode the job's input to ``template``: the result tree of the written object."""
    request: EditingJobRequest = ctx.request
    operation: SdrToHdrOperation | VideoProcessOperation = request.operation  # type: ignore[assignment]
    bucket, region, _ = output_target(ctx, operation.output)
    stored = input_object(ctx, request.input.object if request.input else None)
    if probe_media(ctx, stored.path).video is None:
        raise JobFailedError("InvalidMedia", f"a {request.tag} job needs a video stream")
    video = parameters.video or Video()
    scale = [f"scale={video.width or -2}:{video.height or -2}"] if video.width or video.height else []
    fps = parse_fps(video.fps)
    output, ext, _ = encode_args(parameters.container, parameters.video, parameters.audio)
    key = expand_output(template, job_id=ctx.job_id, input_key=stored.key, ext=ext)
    target = ctx.scratch("." + ext)
    ctx.report(10)
    graph = ["-vf", ",".join([*scale, *filters])] if scale or filters else []
    rate = ["-r", f"{fps:g}"] if fps else []
    run_checked(
        ctx,
        [
            "-i",
            str(stored.path),
            "-map",
            "0:v:0",
            "-map",
            "0:a:0?",
            *graph,
            *rate,
            *output[:-2],
            *video_args,
            *output[-2:],
            str(target),
        ],
        target,
    )
    return finish_outputs(ctx, bucket, region, [(key, put_output(ctx, bucket, key, target))])


def sdr_to_hdr(ctx: JobContext) -> Tree:
    """Re-encode to 10-bit BT.2020 with the HLG or PQ (HDR10) transfer; MediaInfo shows the colour tags read back.

    The emulator tags the colour metadata and converts the colour space with ffmpeg filters (``zscale``); it does
    not run CI's SDR-to-HDR model, so the picture is not tone-expanded the way CI's would be.
    """
    request: EditingJobRequest = ctx.request
    operation: SdrToHdrOperation = request.operation  # type: ignore[assignment]
    mode = (operation.sdr_to_hdr.hdr_mode if operation.sdr_to_hdr else None) or ""
    transfer = _TRANSFERS.get(mode.upper())
    if transfer is None:
        raise JobFailedError("InvalidArgument", "SDRtoHDR.HdrMode must be HLG or HDR10")
    _, _, template = output_target(ctx, operation.output)
    parameters = _transcode_parameters(operation.transcode_template_id, operation.transcode)
    convert = f"zscale=pin=bt709:tin=bt709:min=bt709:rin=tv:p=bt2020:t={transfer}:m=bt2020nc:r=tv,format=yuv420p10le"
    tags = [
        "-pix_fmt",
        "yuv420p10le",
        "-color_primaries",
        "bt2020",
        "-color_trc",
        transfer,
        "-colorspace",
        "bt2020nc",
        "-color_range",
        "tv",
    ]
    tree = _encode(ctx, template, parameters, [convert], tags)
    return _with_colour(ctx, tree)


def _with_colour(ctx: JobContext, tree: Tree) -> Tree:
    """The result's MediaInfo with the colour fields ffmpeg reads back from the output."""
    info = MediaInfo.model_validate(tree["MediaInfo"])
    key = tree["MediaResult"]["OutputFile"]["ObjectName"][0]
    stored = ctx.store.head(tree["MediaResult"]["OutputFile"]["Bucket"], key)
    tags = colour_tags(stored.path, timeout=ctx.timeout) if stored is not None else {}
    if info.stream is not None and info.stream.video and tags:
        video = info.stream.video[0]
        video.color_primaries, video.color_transfer, video.color_range = (
            tags["primaries"],
            tags["transfer"],
            tags["range"],
        )
    return {**tree, "MediaInfo": wire_tree(info)}


def _enhance_filters(params: VideoProcess) -> list[str]:
    """``eq`` for ColorEnhance, ``unsharp`` for MsSharpen; a container with ``Enable`` false is skipped."""
    filters = []
    colour, sharpen = params.color_enhance, params.ms_sharpen
    if colour is not None and colour.enable is not False:
        contrast = 1 + (colour.contrast if colour.contrast is not None else 10) / 100
        saturation = 1 + (colour.saturation if colour.saturation is not None else 10) / 100
        brightness = min(colour.correction or 0, 1000) / 10000
        filters.append(f"eq=contrast={contrast:g}:saturation={saturation:g}:brightness={brightness:g}")
    if sharpen is not None and sharpen.enable is not False:
        level = sharpen.sharpen_level if sharpen.sharpen_level is not None else 5
        filters.append(f"unsharp=5:5:{min(max(level, 0), 10) * 0.15:g}:5:5:0")
    return filters


def video_process(ctx: JobContext) -> Tree:
    """Colour enhancement and sharpening with ffmpeg filters, then the transcode parameters."""
    request: EditingJobRequest = ctx.request
    operation: VideoProcessOperation = request.operation  # type: ignore[assignment]
    _, _, template = output_target(ctx, operation.output)
    # A stored template's parameters arrive inline (the CI host puts them there); an unknown TemplateId gets the
    # emulator's automatic enhancement.
    params = operation.video_process
    if params is None:
        params = VideoProcess(color_enhance=ColorEnhance(), ms_sharpen=MsSharpen())
    filters = _enhance_filters(params)
    if not filters:
        raise JobFailedError("InvalidArgument", "VideoProcess needs ColorEnhance or MsSharpen enabled")
    parameters = _transcode_parameters(operation.transcode_template_id, operation.transcode)
    return _encode(ctx, template, parameters, filters, [])


def media_info_job(ctx: JobContext) -> Tree:
    """The input's ``MediaInfo`` as ffmpeg reads it (the ``videoinfo`` answer); no output object."""
    request: EditingJobRequest = ctx.request
    if not isinstance(request.operation, MediaInfoOperation):
        raise JobFailedError("InvalidArgument", "not a MediaInfo job")
    stored = input_object(ctx, request.input.object if request.input else None)
    return {"MediaInfo": wire_tree(media_info(probe_media(ctx, stored.path), stored.size))}
