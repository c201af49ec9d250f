"""Template and queue operations: create/update/delete/describe templates (``/template``), describe/update queues.

Each builder is one line over ``_ci``'s generic builders; the model modules load when an operation is built.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..client import Operation
from ..codec import CiModel
from ._ci import _call, _endpoint, _item, _plain_id, _query, _submit

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


def create_template(request: CiModel) -> Operation[TemplateResponse]:
    """``POST /template``: a template of the request's Tag (``templates.template_request``). Not retried blindly:
    a second create after an unseen success makes a duplicate (CI refuses the name)."""
    return _submit("CreateMediaTemplate", _endpoint("/template", "templates.TemplateResponse"), request)


def update_template(template_id: str, request: CiModel) -> Operation[TemplateResponse]:
    """``PUT /template/<TemplateId>``: new parameters (same body as create; the Tag cannot change)."""
    target = _endpoint("/template", "templates.TemplateResponse")
    return _item("UpdateMediaTemplate", "PUT", target, "template id", template_id, request)


def delete_template(template_id: str) -> Operation[DeleteTemplateResponse]:
    """``DELETE /template/<TemplateId>``."""
    target = _endpoint("/template", "templates.DeleteTemplateResponse")
    return _item("DeleteMediaTemplate", "DELETE", target, "template id", template_id)


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
    target = _endpoint("/template", "templates.TemplatesResponse")
    wanted = ",".join(_plain_id("template id", item) for item in ids)
    pages = ("pageNumber", page_number), ("pageSize", page_size)
    params = _query(("tag", tag), ("category", category), ("ids", wanted), ("name", name), *pages)
    return _call("DescribeMediaTemplates", "GET", target, params)


def describe_media_queues(
    *,
    queue_ids: Iterable[str] = (),
    state: str | None = None,
    category: str | None = None,
    page_number: int | None = None,
    page_size: int | None = None,
) -> Operation[QueuesResponse]:
    """``GET /queue`` (DescribeMediaQueues): by ``queue_ids`` (unknown ones in ``NonExistPIDs``), else a page."""
    target = _endpoint("/queue", "queues.QueuesResponse")
    wanted = ",".join(_plain_id("queue id", item) for item in queue_ids)
    pages = ("pageNumber", page_number), ("pageSize", page_size)
    params = _query(("queueIds", wanted), ("state", state), ("category", category), *pages)
    return _call("DescribeMediaQueues", "GET", target, params)


def update_media_queue(queue_id: str, update: QueueUpdate) -> Operation[QueueResponse]:
    """``PUT /queue/<QueueId>`` (UpdateMediaQueue): name, state and ``NotifyConfig``."""
    return _item("UpdateMediaQueue", "PUT", _endpoint("/queue", "queues.QueueResponse"), "queue id", queue_id, update)
