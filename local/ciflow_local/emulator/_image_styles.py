"""CI's image styles: named processing rules of a bucket, kept on the pic host and applied by name.

``PUT /?style`` (``<AddStyle>`` with ``StyleName``/``StyleBody``), ``GET /?style`` (``<StyleList>`` of
``<StyleRule>``; a ``<GetStyle>`` body narrows it to the names it gives) and ``DELETE /?style`` (``<DeleteStyle>``)
on ``<bucket>.pic.<region>.myqcloud.com``, as the official SDK's ``ci_put_image_style``/``ci_get_image_style``/
``ci_delete_image_style`` send them. A style is applied where CI documents it: a ``Pic-Operations`` rule
``style/<name>`` (``_image_process``). ``StyledPicHost`` serves ``?style`` and hands every other pic-host request
to the host it wraps (``_manage.PicHostApi``). The styles live in memory, like the templates: a restart forgets them.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ciflow.codec import element_to_tree, local_name, parse_xml, tree_to_xml
from ciflow.errors import CiflowError

from ._account import UNBOUND_CODE, CiAccount
from ._app import ServiceApi, Target, error_response

__all__ = ["ImageStyles", "StyledPicHost", "MAX_STYLES"]

#: Styles a bucket may hold.
MAX_STYLES = 1000
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,256}$")
_MAX_BODY = 64 * 1024


class ImageStyles:
    """Each bucket's styles, name -> rule (``imageMogr2/thumbnail/!50p`` …), in the order they were added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._styles: dict[str, dict[str, str]] = {}

    def put(self, bucket: str, name: str, body: str) -> bool:
        """Add or replace a style; False when the bucket already holds ``MAX_STYLES`` others."""
        with self._lock:
            styles = self._styles.setdefault(bucket, {})
            if name not in styles and len(styles) >= MAX_STYLES:
                return False
            styles[name] = body
            return True

    def list(self, bucket: str, names: list[str] | None = None) -> list[tuple[str, str]]:
        """``(name, rule)`` of every style of ``bucket``, or of those of ``names`` it holds."""
        with self._lock:
            styles = dict(self._styles.get(bucket, {}))
        if names is None:
            return list(styles.items())
        return [(name, styles[name]) for name in names if name in styles]

    def rule(self, bucket: str, name: str) -> str | None:
        with self._lock:
            return self._styles.get(bucket, {}).get(name)

    def delete(self, bucket: str, name: str) -> bool:
        with self._lock:
            return self._styles.get(bucket, {}).pop(name, None) is not None


class _RefusedError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class StyledPicHost:
    """The pic host with ``?style``: style requests here, everything else to ``inner``."""

    def __init__(self, inner: ServiceApi, styles: ImageStyles, account: CiAccount) -> None:
        self.inner = inner
        self.styles = styles
        self.account = account

    async def handle(self, request: Request, target: Target) -> Response:
        if target.key or "style" not in target.params:
            return await self.inner.handle(request, target)
        try:
            refusal = self.account.refusal(target.bucket, "pic")
            if refusal is not None:
                raise _RefusedError(400, UNBOUND_CODE, refusal)
            if request.method == "PUT":
                return await self._put(request, target)
            if request.method == "GET":
                return await self._get(request, target)
            if request.method == "DELETE":
                return await self._delete(request, target)
            raise _RefusedError(405, "MethodNotAllowed", f"{request.method} is not allowed on ?style")
        except _RefusedError as refused:
            return error_response(refused.status, refused.code, refused.message, target, "/")

    async def _put(self, request: Request, target: Target) -> Response:
        body = await _body(request, "AddStyle", required=True)
        name = _style_name(body)
        rule = str(body.get("StyleBody") or "").strip()
        if not rule:
            raise _RefusedError(400, "InvalidArgument", "StyleBody is required")
        if not await run_in_threadpool(self.styles.put, target.bucket, name, rule):
            raise _RefusedError(400, "InvalidArgument", f"a bucket holds at most {MAX_STYLES} styles")
        return Response(b"", media_type="application/xml")

    async def _get(self, request: Request, target: Target) -> Response:
        body = await _body(request, "GetStyle", required=False)
        names = [_style_name(body)] if body.get("StyleName") else None
        found = self.styles.list(target.bucket, names)
        tree = {"StyleRule": [{"StyleName": name, "StyleBody": rule} for name, rule in found]}
        return Response(tree_to_xml("StyleList", tree), media_type="application/xml")

    async def _delete(self, request: Request, target: Target) -> Response:
        name = _style_name(await _body(request, "DeleteStyle", required=True))
        self.styles.delete(target.bucket, name)  # deleting a style that is not there changes nothing
        return Response(b"", media_type="application/xml")


async def _body(request: Request, root: str, *, required: bool) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > _MAX_BODY:
        raise _RefusedError(400, "InvalidArgument", f"request body over {_MAX_BODY} bytes")
    if not raw.strip():
        if required:
            raise _RefusedError(400, "MalformedXML", f"the body must be an <{root}> document")
        return {}
    try:
        element = parse_xml(raw, max_bytes=_MAX_BODY)
    except CiflowError as exc:
        raise _RefusedError(400, "MalformedXML", f"unreadable XML body: {exc}") from None
    if local_name(element.tag) != root:
        raise _RefusedError(400, "MalformedXML", f"the body must be an <{root}> document")
    tree = element_to_tree(element)
    return tree if isinstance(tree, dict) else {}


def _style_name(body: dict[str, Any]) -> str:
    name = str(body.get("StyleName") or "").strip()
    if not _NAME.match(name):
        raise _RefusedError(400, "InvalidArgument", "StyleName must be 1-256 letters, digits or _ . @ -")
    return name
