"""Object tags: ``PUT``/``GET``/``DELETE /<key>?tagging`` and the ``x-cos-tagging`` header of a write.

Tags are kept in the object's ``extra`` and read back in the order they were set. COS's limits are checked:
at most 10 tags, keys of 1-128 and values of 0-256 characters, no key twice (``400 InvalidTag``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import Response

from ciflow.codec import element_to_tree, parse_xml
from ciflow.errors import CiflowError

from ._app import Target
from ._cos_common import RefusedError, small_body
from ._storage import ObjectStore

__all__ = ["ObjectTagging", "header_tags"]

_MAX_TAGS = 10
_MAX_KEY = 128
_MAX_VALUE = 256


def _checked(tags: list[tuple[str, str]]) -> list[dict[str, str]]:
    keys = [key for key, _ in tags]
    if len(tags) > _MAX_TAGS:
        raise RefusedError(400, "InvalidTag", f"An object can have at most {_MAX_TAGS} tags.")
    if len(set(keys)) != len(keys):
        raise RefusedError(400, "InvalidTag", "A tag key may appear only once.")
    for key, value in tags:
        if not 1 <= len(key) <= _MAX_KEY or len(value) > _MAX_VALUE:
            raise RefusedError(400, "InvalidTag", f"Tag keys are 1-{_MAX_KEY} and values 0-{_MAX_VALUE} characters.")
    return [{"Key": key, "Value": value} for key, value in tags]


def header_tags(request: Request) -> list[dict[str, str]] | None:
    """The tags of ``x-cos-tagging: k1=v1&k2=v2`` (URL-encoded), or ``None`` without the header."""
    value = request.headers.get("x-cos-tagging")
    if value is None:
        return None
    return _checked(parse_qsl(value, keep_blank_values=True))


def _body_tags(body: bytes) -> list[dict[str, str]]:
    try:
        tree = element_to_tree(parse_xml(body))
    except (CiflowError, ValueError) as exc:
        raise RefusedError(400, "MalformedXML", f"The XML you provided was not well-formed: {exc}") from None
    tag_set = tree.get("TagSet") if isinstance(tree, dict) else None
    items: Any = tag_set.get("Tag", []) if isinstance(tag_set, dict) else None
    if items is None:
        raise RefusedError(400, "MalformedXML", "Tagging needs a TagSet.")
    pairs: list[tuple[str, str]] = []
    for item in items if isinstance(items, list) else [items]:
        if not isinstance(item, dict) or not isinstance(item.get("Key"), str):
            raise RefusedError(400, "MalformedXML", "Each Tag needs a Key and a Value.")
        value = item.get("Value")
        pairs.append((item["Key"], value if isinstance(value, str) else ""))
    return _checked(pairs)


class ObjectTagging:
    """``?tagging`` on an object of ``store``."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def _set(self, target: Target, tags: list[dict[str, str]] | None) -> None:
        if not self.store.update_extra(target.bucket, target.key, {"tags": tags}):
            raise RefusedError(404, "NoSuchKey", "The specified key does not exist.")

    async def put(self, request: Request, target: Target) -> Response:
        self._set(target, _body_tags(await small_body(request)))
        return Response(status_code=200)

    async def delete(self, request: Request, target: Target) -> Response:
        self._set(target, None)
        return Response(status_code=204)

    async def get(self, request: Request, target: Target) -> Response:
        stored = self.store.head(target.bucket, target.key)
        if stored is None:
            raise RefusedError(404, "NoSuchKey", "The specified key does not exist.")
        tags = "".join(
            f"<Tag><Key>{escape(tag['Key'])}</Key><Value>{escape(tag['Value'])}</Value></Tag>"
            for tag in stored.extra.get("tags") or []
        )
        body = f'<?xml version="1.0" encoding="UTF-8"?><Tagging><TagSet>{tags}</TagSet></Tagging>'
        return Response(body, media_type="application/xml")
