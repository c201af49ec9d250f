"""CI's template APIs (``/template`` on the bucket's CI host): create, update, describe and delete, per ``Tag``.

Templates are stored as documented, generically: the request's parameters (everything but ``Tag`` and ``Name``)
under the element the describe API reports for that tag (``TransTpl`` for ``Transcode`` and ``Animation``,
``Snapshot``, ``Watermark``, ``ConcatTemplate``, ``VideoProcess``, …), next to ``TemplateId``, ``Name``, ``Tag``,
``BucketId``, ``Category`` (``Custom``), ``CreateTime`` and ``UpdateTime``. A request whose only parameter is
already that element (``<Snapshot>…</Snapshot>``) is stored as sent; one listing the parameters at the top level
(``<Container>``, ``<Video>``, … for ``Transcode``) has them gathered under it. The parameters are not checked
beyond their shape: the emulator runs jobs from its own request models, not from templates. In memory, per bucket.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from ciflow.models.templates import TEMPLATE_KINDS

from .workers import ci_time

__all__ = ["TEMPLATE_CONTAINERS", "TemplateError", "TemplateStore", "paged"]

Tree = dict[str, Any]
T = TypeVar("T")

#: Tag -> the element holding a template's parameters in the answers: the core's table (``ciflow.models.templates``),
#: plus the tags whose templates the emulator stores without typed models (picture, speech, AI templates).
TEMPLATE_CONTAINERS = {
    **{tag: kind.container for tag, kind in TEMPLATE_KINDS.items()},
    "PicProcess": "PicProcess",
    "SpeechRecognition": "SpeechRecognition",
    "NoiseReduction": "NoiseReduction",
    "VideoEnhance": "VideoEnhance",
    "VideoTargetRec": "VideoTargetRec",
}
_NAME = re.compile(r"^[A-Za-z0-9_*-]{1,64}$")


class TemplateError(Exception):
    """A template request refused with ``status`` and CI's error ``code``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def paged(items: list[T], params: Mapping[str, str]) -> tuple[Tree, list[T]]:
    """A listing's page of ``items`` as ``pageNumber`` (default 1) and ``pageSize`` (default 10, at most 100) say,
    and its ``TotalCount``, ``PageNumber`` and ``PageSize``."""
    values = []
    for name, default, limit in (("pageNumber", 1, 10**6), ("pageSize", 10, 100)):
        text = params.get(name) or str(default)
        if not text.isdigit() or not 1 <= int(text) <= limit:
            raise TemplateError(400, "InvalidArgument", f"{name} must be a positive integer (pageSize at most 100)")
        values.append(int(text))
    number, size = values
    counts = {"TotalCount": str(len(items)), "PageNumber": str(number), "PageSize": str(size)}
    return counts, items[(number - 1) * size : number * size]


@dataclass
class _Template:
    template_id: str
    bucket: str
    tag: str
    name: str
    params: Tree
    created: float
    updated: float

    def tree(self) -> Tree:
        return {
            "TemplateId": self.template_id,
            "Name": self.name,
            "Tag": self.tag,
            "BucketId": self.bucket,
            "Category": "Custom",
            TEMPLATE_CONTAINERS[self.tag]: self.params,
            "CreateTime": ci_time(self.created),
            "UpdateTime": ci_time(self.updated),
        }


def _parsed(tree: Tree) -> tuple[str, str, Tree]:
    tag, name = tree.get("Tag"), tree.get("Name")
    if not isinstance(tag, str) or tag not in TEMPLATE_CONTAINERS:
        raise TemplateError(400, "InvalidArgument", f"Tag must be one of {', '.join(sorted(TEMPLATE_CONTAINERS))}")
    if not isinstance(name, str) or not _NAME.match(name):
        raise TemplateError(
            400, "InvalidArgument", "Name is required: up to 64 letters, digits, underscores, hyphens and asterisks"
        )
    container = TEMPLATE_CONTAINERS[tag]
    # The update docs' samples repeat TemplateId in the body: it names the template, it is no parameter.
    rest = {key: value for key, value in tree.items() if key not in ("Tag", "Name", "TemplateId")}
    if set(rest) == {container} and isinstance(rest[container], dict):
        return tag, name, rest[container]
    if container in rest:
        raise TemplateError(400, "InvalidArgument", f"<{container}> must be the only parameter when given")
    return tag, name, rest


class TemplateStore:
    """Every bucket's templates, in memory; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._templates: dict[str, _Template] = {}

    def create(self, bucket: str, request: Tree) -> Tree:
        tag, name, params = _parsed(request)
        now = time.time()
        template = _Template("t1" + secrets.token_hex(16), bucket, tag, name, params, now, now)
        with self._lock:
            self._templates[template.template_id] = template
        return template.tree()

    def _owned(self, bucket: str, template_id: str) -> _Template:
        template = self._templates.get(template_id)
        if template is None or template.bucket != bucket:
            raise TemplateError(404, "ResourceNotFound", f"template {template_id} does not exist")
        return template

    def update(self, bucket: str, template_id: str, request: Tree) -> Tree:
        tag, name, params = _parsed(request)
        with self._lock:
            template = self._owned(bucket, template_id)
            if tag != template.tag:
                raise TemplateError(400, "InvalidArgument", f"template {template_id} is a {template.tag} template")
            template.name, template.params, template.updated = name, params, time.time()
            return template.tree()

    def delete(self, bucket: str, template_id: str) -> None:
        with self._lock:
            self._owned(bucket, template_id)
            del self._templates[template_id]

    def get(self, bucket: str, template_id: str) -> Tree | None:
        """One template's tree (what a job naming ``TemplateId`` would use), or ``None``."""
        with self._lock:
            template = self._templates.get(template_id)
            return template.tree() if template is not None and template.bucket == bucket else None

    def describe(self, bucket: str, params: Mapping[str, str], request_id: str) -> Tree:
        """The describe API's answer: by ``ids`` (with ``NonExistTIDs``), else a filtered page."""
        tag = params.get("tag") or "All"
        category = params.get("category") or "Custom"
        if category not in ("Custom", "Official"):
            raise TemplateError(400, "InvalidArgument", "category must be Custom or Official")
        prefix = params.get("name", "")
        with self._lock:
            mine = [t for t in self._templates.values() if t.bucket == bucket and category == "Custom"]
        mine.sort(key=lambda t: t.created, reverse=True)
        ids = [item.strip() for item in params.get("ids", "").split(",") if item.strip()]
        if ids:
            found = {t.template_id: t for t in mine}
            answer: Tree = {"RequestId": request_id, "TemplateList": [found[i].tree() for i in ids if i in found]}
            missing = [i for i in ids if i not in found]
            if missing:
                answer["NonExistTIDs"] = {"TemplateId": missing}
            return answer
        chosen = [t for t in mine if (tag == "All" or t.tag == tag) and t.name.startswith(prefix)]
        counts, page = paged(chosen, params)
        return {"RequestId": request_id, **counts, "TemplateList": [t.tree() for t in page]}
