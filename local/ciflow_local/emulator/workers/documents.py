"""DocProcess: PDF pages through PDFium, plain text laid out by Pillow, to images or a PDF."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

from ciflow.models.documents import DocJobRequest, DocPageInfo, DocProcess, DocProcessResult

from .._storage import StoredObject
from . import imaging
from .common import (
    JobContext,
    JobFailedError,
    Tree,
    expand_output,
    input_object,
    media_failure,
    output_target,
    put_output,
    wire_tree,
)

TEXT_TYPES = frozenset({"txt", "text", "md", "csv", "log", "json", "xml"})
MAX_DOC_PAGES = 200


def _doc_pages(
    ctx: JobContext, stored: StoredObject, src_type: str, pages: range, dpi: int
) -> Iterator[tuple[int, Any]]:
    if src_type == "pdf":
        yield from imaging.render_pdf_pages(stored.path, list(pages), dpi=dpi)
        return
    text = stored.path.read_text("utf-8", errors="replace")
    rendered = imaging.render_text_pages(text)
    for number in pages:
        yield number, rendered[number - 1]


def _page_count(stored: StoredObject, src_type: str) -> int:
    if src_type == "pdf":
        return imaging.pdf_page_count(stored.path)
    if stored.size > 4 * 1024 * 1024:
        raise JobFailedError("InvalidArgument", "text documents over 4 MB are not previewed")
    return len(imaging.render_text_pages(stored.path.read_text("utf-8", errors="replace")))


def _page_range(process: DocProcess, total: int) -> range:
    start = process.start_page or 1
    end = process.end_page if process.end_page not in (None, -1, 0) else total
    assert end is not None
    if start < 1 or start > total:
        raise JobFailedError("InvalidArgument", f"StartPage {start} is outside the document's {total} page(s)")
    return range(start, min(end, total, start + MAX_DOC_PAGES - 1) + 1)


def _stitch(images: list[Any]) -> Any:
    from PIL import Image

    width = max(image.width for image in images)
    canvas = Image.new("RGB", (width, sum(image.height for image in images)), "white")
    top = 0
    for image in images:
        canvas.paste(image, (0, top))
        top += image.height
    return canvas


def doc_process(ctx: JobContext) -> Tree:
    request: DocJobRequest = ctx.request
    process = request.operation.doc_process or DocProcess()
    stored = input_object(ctx, request.input.object)
    bucket, _region, template = output_target(ctx, request.operation.output)
    extension = stored.key.rsplit(".", 1)[-1] if "." in stored.key.rsplit("/", 1)[-1] else ""
    src_type = (process.src_type or extension).lower()
    if src_type != "pdf" and src_type not in TEXT_TYPES:
        raise JobFailedError(
            "UnsupportedDocument", f"the emulator previews PDF and plain text, not {src_type or 'this'}"
        )
    tgt = (process.tgt_type or "jpg").lower()
    if tgt not in ("jpg", "png", "pdf"):
        raise JobFailedError("InvalidArgument", f"TgtType must be jpg, png or pdf, got {tgt!r}")
    try:
        total = _page_count(stored, src_type)
        pages = _page_range(process, total)
        if tgt == "pdf":
            info = [_doc_to_pdf(ctx, stored, src_type, bucket, template)]
        else:
            info = _doc_to_images(ctx, stored, src_type, pages, process, (bucket, template, tgt))
    except imaging.MediaError as exc:
        raise media_failure(exc) from None
    result = DocProcessResult(
        page_info=info,
        tgt_type=tgt,
        task_id=ctx.job_id,
        total_page_count=total,
        succ_page_count=len(info) if tgt == "pdf" else len(pages),
        fail_page_count=0,
    )
    return {"DocProcessResult": wire_tree(result)}


def _doc_to_pdf(ctx: JobContext, stored: StoredObject, src_type: str, bucket: str, template: str) -> DocPageInfo:
    scratch = ctx.scratch()
    if src_type == "pdf":
        shutil.copyfile(stored.path, scratch)
    else:
        images = imaging.render_text_pages(stored.path.read_text("utf-8", errors="replace"))
        images[0].save(scratch, "PDF", save_all=True, append_images=images[1:])
    key = expand_output(template, job_id=ctx.job_id, input_key=stored.key, ext="pdf", number=1, page=1)
    put_output(ctx, bucket, key, scratch)
    return DocPageInfo(page_no=1, tgt_uri=key)


def _doc_to_images(
    ctx: JobContext,
    stored: StoredObject,
    src_type: str,
    pages: range,
    process: DocProcess,
    target: tuple[str, str, str],
) -> list[DocPageInfo]:
    bucket, template, tgt = target
    if len(pages) > 1 and not process.pic_pagination and "${Number}" not in template and "${Page}" not in template:
        raise JobFailedError("InvalidArgument", "Output.Object must contain ${Number} or ${Page} for several pages")
    rule = imaging.parse_image_rule(process.image_params) if process.image_params else None
    dpi = (process.image_dpi or 96) * (process.zoom or 100) // 100
    rendered = [(number, image) for number, image in _doc_pages(ctx, stored, src_type, pages, max(24, min(dpi, 600)))]
    if process.pic_pagination == 1:
        rendered = [(pages[0], _stitch([image for _, image in rendered[:20]]))]
    info = []
    for serial, (number, image) in enumerate(rendered, start=1):
        scratch = ctx.scratch()
        shaped = imaging.transform_image(image, rule) if rule else image
        imaging.save_image(shaped, scratch, tgt, process.quality)
        key = expand_output(template, job_id=ctx.job_id, input_key=stored.key, ext=tgt, number=serial, page=number)
        put_output(ctx, bucket, key, scratch)
        info.append(DocPageInfo(page_no=number, tgt_uri=key))
        ctx.report(100 * serial // max(len(rendered), 1))
    return info
