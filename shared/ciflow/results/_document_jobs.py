"""Reading a document job's ``Operation`` (DocProcess) into a result's outputs and details."""

from __future__ import annotations

from typing import Any

from ..models.documents import DocProcessOperation
from ._parts import Details, Hashes, Outputs, Reader, _locations, _put


def _document(operation: DocProcessOperation, _ok: bool, outputs: Outputs, _h: Hashes, details: Details) -> None:
    result = operation.doc_process_result
    if result is None:
        return
    outputs.extend(_locations(operation.output, [page.tgt_uri for page in result.page_info]))
    _put(details, "total_page_count", result.total_page_count)
    _put(details, "succ_page_count", result.succ_page_count)
    _put(details, "fail_page_count", result.fail_page_count)
    _put(details, "total_sheet_count", result.total_sheet_count)
    _put(details, "tgt_type", result.tgt_type)


#: (operation type, reader) in the order they are tried: ``_normalise`` calls the first that matches.
READERS: tuple[tuple[type[Any], Reader], ...] = ((DocProcessOperation, _document),)
