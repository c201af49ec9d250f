"""Reading a picture job's ``Operation`` (PicProcess) into a result's outputs and details."""

from __future__ import annotations

from typing import Any

from ..models.pictures import PicOperation
from ._parts import Details, Hashes, Outputs, Reader, _locations, _output_objects, _put, _tag_reader


def _picture(operation: PicOperation, _ok: bool, outputs: Outputs, _h: Hashes, details: Details) -> None:
    """The images the job reports writing (else its result's object), and the first one's format and size."""
    images = operation.outputs  # a property, built on each read
    outputs.extend(_locations(operation.output, [image.key for image in images]))
    result = operation.pic_process_result
    if not outputs and result is not None:
        outputs.extend(_locations(operation.output, [result.object_name]))
    if images:
        image = images[0]
        _put(details, "format", image.format)
        _put(details, "width", image.width)
        _put(details, "height", image.height)
        _put(details, "size", image.size)
    _put(details, "template_id", operation.template_id)


#: (operation type, reader) in the order they are tried: ``_normalise`` calls the first that matches.
READERS: tuple[tuple[type[Any], Reader], ...] = ((PicOperation, _tag_reader(_picture, _output_objects)),)
