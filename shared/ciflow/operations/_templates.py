"""Template and queue operations: create/update/delete/describe templates (``/template``), describe/update queues.

Pure builders like ``_ci``: the model modules load when an operation is built.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..client import Operation
from ..codec import CiModel, to_xml
from ._ci import _model, _reader

if TYPE_CHECKING:
    from ..models.queues import QueueResponse, QueuesResponse, QueueUpdate
    from ..models.templates import DeleteTemplateResponse, TemplateResponse, TemplatesResponse

__all__ = [
    "create_template",
    "update_template",
    "delete_template",
    "describe_templates",
    "describe_media_queues",
    "update_media_queue",
]


def _plain_id(kind: str, value: str) -> str:
    if not value or "/" in value or "," in value:
        raise ValueError(f"invalid {kind} id {value!r}")
    return value


def create_template(request: CiModel) -> Operation[TemplateResponse]:
    """``POST /template``: a template of the request's Tag (``templates.template_request``). Not retried blindly:
    a second create after an unseen success makes a duplicate (CI refuses the name)."""
    response: type[TemplateResponse] = _model("templates", "TemplateResponse")
    return Operation(
        "CreateMediaTemplate", "POST", "ci", "/template", read=_reader(response), body=to_xml(request), retry="submit"
    )


def update_template(template_id: str, request: CiModel) -> Operation[TemplateResponse]:
    """``PUT /template/<TemplateId>``: new parameters (same body as create; the Tag cannot change)."""
    response: type[TemplateResponse] = _model("templates", "TemplateResponse")
    path = "/template/" + _plain_id("template", template_id)
    return Operation("UpdateMediaTemplate", "PUT", "ci", path, read=_reader(response), body=to_xml(request))


def delete_template(template_id: str) -> Operation[DeleteTemplateResponse]:
    """``DELETE /template/<TemplateId>``."""
    response: type[DeleteTemplateResponse] = _model("templates", "DeleteTemplateResponse")
    path = "/template/" + _plain_id("template", template_id)
    return Operation("DeleteMediaTemplate", "DELETE", "ci", path, read=_reader(response))


def describe_templates(
    *,
    tag: str | None = None,
    ids: Iterable[str] = (),
    name: str | None = None,
    category: str | None = None,
    page_number: int | None = None,
    page_size: int | None = None,
) -> Operation[TemplatesResponse]:
    """``GET /template`` (DescribeMediaTemplates): by ``ids``, else a page filtered by tag, name prefix, category."""
    response: type[TemplatesResponse] = _model("templates", "TemplatesResponse")
    wanted = [_plain_id("template", item) for item in ids]
    pairs = (
        ("tag", tag),
        ("category", category),
        ("ids", ",".join(wanted) or None),
        ("name", name),
        ("pageNumber", None if page_number is None else str(page_number)),
        ("pageSize", None if page_size is None else str(page_size)),
    )
    params = tuple((key, value) for key, value in pairs if value)
    return Operation("DescribeMediaTemplates", "GET", "ci", "/template", read=_reader(response), params=params)


def describe_media_queues(
    *,
    queue_ids: Iterable[str] = (),
    state: str | None = None,
    category: str | None = None,
    page_number: int | None = None,
    page_size: int | None = None,
) -> Operation[QueuesResponse]:
    """``GET /queue`` (DescribeMediaQueues): by ``queue_ids`` (unknown ones in ``NonExistPIDs``), else a page."""
    response: type[QueuesResponse] = _model("queues", "QueuesResponse")
    pairs = (
        ("queueIds", ",".join(_plain_id("queue", item) for item in queue_ids) or None),
        ("state", state),
        ("category", category),
        ("pageNumber", None if page_number is None else str(page_number)),
        ("pageSize", None if page_size is None else str(page_size)),
    )
    params = tuple((key, value) for key, value in pairs if value)
    return Operation("DescribeMediaQueues", "GET", "ci", "/queue", read=_reader(response), params=params)


def update_media_queue(queue_id: str, update: QueueUpdate) -> Operation[QueueResponse]:
    """``PUT /queue/<QueueId>`` (UpdateMediaQueue): name, state and ``NotifyConfig``."""
    response: type[QueueResponse] = _model("queues", "QueueResponse")
    path = "/queue/" + _plain_id("queue", queue_id)
    return Operation("UpdateMediaQueue", "PUT", "ci", path, read=_reader(response), body=to_xml(update))
