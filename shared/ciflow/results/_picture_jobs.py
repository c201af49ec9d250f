"""Reading a picture job's ``Operation`` (PicProcess) into a result's outputs and details."""

from __future__ import annotations

from typing import Any

from ..models.pictures import PicOperation
from ._model import ObjectLocation
from ._parts import Reader, _declared_outputs, _location, _put


def _read_picture(
    operation: PicOperation,
    succeeded: bool,
    outputs: list[ObjectLocation],
    _hashes: dict[str, str],
    details: dict[str, Any],
) -> None:
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


#: (operation type, reader) in the order they are tried: ``_normalise`` calls the first that matches.
READERS: tuple[tuple[type[Any], Reader], ...] = ((PicOperation, _read_picture),)
