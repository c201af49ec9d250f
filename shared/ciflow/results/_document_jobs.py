"""Reading a document job's ``Operation`` (DocProcess) into a result's outputs and details."""

from __future__ import annotations

from typing import Any

from ..models.documents import DocProcessOperation
from ._model import ObjectLocation
from ._parts import Reader, _location, _put


def _read_document(
    operation: DocProcessOperation,
    _succeeded: bool,
    outputs: list[ObjectLocation],
    _hashes: dict[str, str],
    details: dict[str, Any],
) -> None:
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


#: (operation type, reader) in the order they are tried: ``_normalise`` calls the first that matches.
READERS: tuple[tuple[type[Any], Reader], ...] = ((DocProcessOperation, _read_document),)
