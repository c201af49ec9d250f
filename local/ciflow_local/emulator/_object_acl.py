"""Object ACLs: ``PUT /<key>?acl`` (``x-cos-acl``, ``x-cos-grant-*`` headers, or an ``AccessControlPolicy`` body)
and ``GET /<key>?acl``, answered with what was set.

A canned ACL reads back as the owner's ``FULL_CONTROL`` (plus ``AllUsers`` ``READ`` for ``public-read``) with
the header grants after it, and ``x-cos-acl`` names it (the SDK tells ``default`` from that header). A body
replaces the whole list: it reads back grant for grant.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ciflow.codec import element_to_tree, parse_xml
from ciflow.errors import CiflowError

from ._app import Target
from ._cos_common import RefusedError, request_acl, small_body
from ._storage import ObjectStore, StoredObject

__all__ = ["ObjectAcl", "header_grants"]

ALL_USERS = "http://cam.qcloud.com/groups/global/AllUsers"
_GRANT_HEADERS = {
    "x-cos-grant-read": "READ",
    "x-cos-grant-write": "WRITE",
    "x-cos-grant-read-acp": "READ_ACP",
    "x-cos-grant-write-acp": "WRITE_ACP",
    "x-cos-grant-full-control": "FULL_CONTROL",
}
_PERMISSIONS = frozenset(_GRANT_HEADERS.values())
_GRANTEE = re.compile(r'\s*(?P<kind>id|uri)\s*=\s*"(?P<value>[^"]*)"\s*(?:,|$)')


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def header_grants(request: Request) -> list[dict[str, str]]:
    """The grants of ``x-cos-grant-*`` headers (``id="qcs::cam::uin/1:uin/2",uri="…"``); 400 when malformed."""
    grants: list[dict[str, str]] = []
    for header, permission in _GRANT_HEADERS.items():
        value = request.headers.get(header)
        if value is None:
            continue
        position = 0
        while position < len(value):
            match = _GRANTEE.match(value, position)
            if match is None or match.end() == position:
                raise RefusedError(400, "InvalidArgument", f'{header} must list id="…" or uri="…" grantees')
            kind = "URI" if match["kind"] == "uri" else "ID"
            grants.append({kind: match["value"], "Permission": permission})
            position = match.end()
    return grants


def _body_grants(body: bytes) -> list[dict[str, str]]:
    try:
        tree = element_to_tree(parse_xml(body))
    except (CiflowError, ValueError) as exc:
        raise RefusedError(400, "MalformedXML", f"The XML you provided was not well-formed: {exc}") from None
    listing = tree.get("AccessControlList") if isinstance(tree, dict) else None
    items = listing.get("Grant", []) if isinstance(listing, dict) else []
    grants: list[dict[str, str]] = []
    for item in items if isinstance(items, list) else [items]:
        grantee = item.get("Grantee") if isinstance(item, dict) else None
        permission = item.get("Permission") if isinstance(item, dict) else None
        if not isinstance(grantee, dict) or permission not in _PERMISSIONS:
            raise RefusedError(400, "MalformedXML", "Each Grant needs a Grantee and a valid Permission.")
        if grantee.get("URI"):
            grants.append({"URI": str(grantee["URI"]), "Permission": str(permission)})
        elif grantee.get("ID"):
            grants.append({"ID": str(grantee["ID"]), "Permission": str(permission)})
        else:
            raise RefusedError(400, "MalformedXML", "A Grantee needs an ID or a URI.")
    return grants


def _owner_id(bucket: str) -> str:
    uin = bucket.rsplit("-", 1)[-1]
    return f"qcs::cam::uin/{uin}:uin/{uin}"


def _grant_xml(grant: dict[str, str]) -> str:
    xsi = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    if "URI" in grant:
        grantee = f'<Grantee {xsi} xsi:type="Group"><URI>{_escape(grant["URI"])}</URI></Grantee>'
    else:
        who = _escape(grant["ID"])
        grantee = f'<Grantee {xsi} xsi:type="CanonicalUser"><ID>{who}</ID><DisplayName>{who}</DisplayName></Grantee>'
    return f"<Grant>{grantee}<Permission>{grant['Permission']}</Permission></Grant>"


class ObjectAcl:
    """``GET``/``PUT /<key>?acl`` over ``store``."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    async def put(self, request: Request, target: Target) -> Response:
        body = await small_body(request)
        grants = header_grants(request)
        if body.strip():
            if grants or "x-cos-acl" in request.headers:
                raise RefusedError(400, "InvalidRequest", "Set an ACL by headers or by body, not both.")
            grants = _body_grants(body)
            acl = "public-read" if {"URI": ALL_USERS, "Permission": "READ"} in grants else "private"
            done = self.store.set_acl(target.bucket, target.key, acl, grants, exact=True)
        elif "x-cos-acl" in request.headers or grants:
            done = self.store.set_acl(target.bucket, target.key, request_acl(request), grants)
        else:
            raise RefusedError(400, "InvalidRequest", "PUT ?acl needs x-cos-acl, x-cos-grant-* or a body.")
        if not done:
            raise RefusedError(404, "NoSuchKey", "The specified key does not exist.")
        return Response(status_code=200)

    async def get(self, request: Request, target: Target) -> Response:
        stored = self.store.head(target.bucket, target.key)
        if stored is None:
            raise RefusedError(404, "NoSuchKey", "The specified key does not exist.")
        owner = _escape(_owner_id(target.bucket))
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><AccessControlPolicy>'
            f"<Owner><ID>{owner}</ID><DisplayName>{owner}</DisplayName></Owner><AccessControlList>"
            + "".join(_grant_xml(grant) for grant in self.grants(stored))
            + "</AccessControlList></AccessControlPolicy>"
        )
        headers = {} if stored.extra.get("grants_exact") else {"x-cos-acl": stored.acl}
        return Response(body, media_type="application/xml", headers=headers)

    @staticmethod
    def grants(stored: StoredObject) -> list[dict[str, Any]]:
        explicit: list[dict[str, Any]] = list(stored.extra.get("grants", []))
        if stored.extra.get("grants_exact"):
            return explicit
        implied = [{"ID": _owner_id(stored.bucket), "Permission": "FULL_CONTROL"}]
        if stored.acl == "public-read":
            implied.append({"URI": ALL_USERS, "Permission": "READ"})
        return implied + explicit
