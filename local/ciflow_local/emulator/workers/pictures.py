"""PicProcess: one image through an ``imageMogr2`` rule (or a known template) into the output."""

from __future__ import annotations

from ciflow.models.pictures import PicImageInfo, PicJobRequest, PicOriginalInfo, PicProcessedImage, PicProcessResult

from . import imaging
from .common import (
    JobContext,
    JobFailedError,
    Tree,
    expand_output,
    input_object,
    media_failure,
    object_location,
    output_target,
    put_output,
    wire_tree,
)

#: Picture templates the emulator knows (any other id falls back to a 320x320 thumbnail).
PIC_TEMPLATES: dict[str, str] = {
    "temupicthumb": "imageMogr2/thumbnail/320x320",
    "temupicsmall": "imageMogr2/thumbnail/128x128",
    "temupicpng": "imageMogr2/thumbnail/320x320/format/png",
}
_DEFAULT_PIC_RULE = "imageMogr2/thumbnail/320x320"
_IMAGE_EXTENSIONS = {"jpg": "jpg", "jpeg": "jpg", "png": "png", "webp": "webp", "gif": "gif", "bmp": "bmp"}


def _pic_rule(request: PicJobRequest) -> str:
    operation = request.operation
    if operation.template_id:
        return PIC_TEMPLATES.get(operation.template_id, _DEFAULT_PIC_RULE)
    if operation.pic_process and operation.pic_process.process_rule:
        return operation.pic_process.process_rule
    raise JobFailedError("InvalidArgument", "Operation needs a TemplateId or PicProcess.ProcessRule")


def pic_process(ctx: JobContext) -> Tree:
    request: PicJobRequest = ctx.request
    stored = input_object(ctx, request.input.object)
    bucket, region, template = output_target(ctx, request.operation.output)
    try:
        rule = imaging.parse_image_rule(_pic_rule(request))
        source_format, width, height, orientation = imaging.image_info(stored.path)
        target_ext = _IMAGE_EXTENSIONS.get(template.rsplit(".", 1)[-1].lower(), "jpg") if "." in template else "jpg"
        scratch = ctx.scratch()
        done = imaging.process_image(stored.path, scratch, rule, target_ext)
    except imaging.MediaError as exc:
        raise media_failure(exc) from None
    key = expand_output(template, job_id=ctx.job_id, input_key=stored.key, ext=done.format)
    written = put_output(ctx, bucket, key, scratch)
    original = PicOriginalInfo(
        key=stored.key,
        location=object_location(ctx.bucket, ctx.region, stored.key),
        etag=stored.etag,
        image_info=PicImageInfo(format=source_format, width=width, height=height, quality=100, orientation=orientation),
    )
    processed = PicProcessedImage(
        key=key,
        location=object_location(bucket, region, key),
        etag=written.etag,
        format=done.format,
        width=done.width,
        height=done.height,
        size=done.size,
        quality=done.quality,
    )
    result = PicProcessResult(object_name=key, original_info=original, process_result=processed)
    return {"PicProcessResult": wire_tree(result)}
