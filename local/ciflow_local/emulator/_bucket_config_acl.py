"""Bucket ACLs (``x-cos-acl``, ``x-cos-grant-*`` headers or an ``AccessControlPolicy`` body) and bucket policies.

An ACL is kept as ``{"owner": {"ID", "DisplayName"}, "grants": [{"type", "id" | "uri", "name", "permission"}]}``
and answered with the ``xsi:type`` attribute COS puts on every ``<Grantee>`` (the SDK turns it into ``Type``).
The owner is ``qcs::cam::uin/<appid>:uin/<appid>`` (the emulator knows no account uin; listings use the appid too).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from xml.etree.ElementTree import Element

from ciflow.codec import local_name, parse_xml, tree_depth_within
from ciflow.errors import XmlError

from ._bucket_config_tree import ConfigRefusedError

__all__ = [
    "ALL_USERS",
    "AUTHENTICATED_USERS",
    "acl_from_body",
    "acl_from_headers",
    "acl_xml",
    "check_policy",
    "default_acl",
]

ALL_USERS = "http://cam.qcloud.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://cam.qcloud.com/groups/global/AuthenticatedUsers"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_PERMISSIONS = frozenset({"READ", "WRITE", "READ_ACP", "WRITE_ACP", "FULL_CONTROL"})
_GRANT_HEADERS = {
    "x-cos-grant-read": "READ",
    "x-cos-grant-write": "WRITE",
    "x-cos-grant-read-acp": "READ_ACP",
    "x-cos-grant-write-acp": "WRITE_ACP",
    "x-cos-grant-full-control": "FULL_CONTROL",
}
_CANNED: dict[str, tuple[tuple[str, str], ...]] = {
    "private": (),
    "public-read": ((ALL_USERS, "READ"),),
    "public-read-write": ((ALL_USERS, "READ"), (ALL_USERS, "WRITE")),
    "authenticated-read": ((AUTHENTICATED_USERS, "READ"),),
}
_GRANTEE = re.compile(r'^\s*(?P<kind>id|uri)\s*=\s*"(?P<value>[^"]+)"\s*$')
_MAX_GRANTS = 100
_MAX_POLICY_BYTES = 20 * 1024
_MAX_POLICY_DEPTH = 20


def _owner(bucket: str) -> dict[str, str]:
    appid = bucket.rsplit("-", 1)[-1]
    uin = f"qcs::cam::uin/{appid}:uin/{appid}"
    return {"ID": uin, "DisplayName": uin}


def _user(uin: str, permission: str, name: str | None = None) -> dict[str, str]:
    return {"type": "CanonicalUser", "id": uin, "name": name or uin, "permission": permission}


def _group(uri: str, permission: str) -> dict[str, str]:
    return {"type": "Group", "uri": uri, "permission": permission}


def default_acl(bucket: str, canned: str = "private") -> dict[str, Any]:
    """A canned ACL: the owner's ``FULL_CONTROL`` and the canned grants to groups."""
    owner = _owner(bucket)
    grants = [_user(owner["ID"], "FULL_CONTROL", owner["DisplayName"])]
    grants += [_group(uri, permission) for uri, permission in _CANNED[canned]]
    return {"owner": owner, "grants": grants}


def acl_from_headers(headers: Mapping[str, str], bucket: str) -> dict[str, Any] | None:
    """The ACL ``x-cos-acl`` and ``x-cos-grant-*`` set; ``None`` when the request has none of them."""
    canned = headers.get("x-cos-acl")
    named = {name: headers[name] for name in _GRANT_HEADERS if name in headers}
    if canned is None and not named:
        return None
    if canned is not None and canned not in _CANNED:
        raise ConfigRefusedError(400, "InvalidArgument", f"x-cos-acl must be one of {sorted(_CANNED)}, not {canned!r}")
    acl = default_acl(bucket, canned or "private")
    for header, value in named.items():
        permission = _GRANT_HEADERS[header]
        for part in value.split(","):
            match = _GRANTEE.match(part)
            if match is None:
                raise ConfigRefusedError(
                    400, "InvalidArgument", f'{header} takes id="…" or uri="…" items, not {part!r}'
                )
            if match["kind"] == "id":
                acl["grants"].append(_user(match["value"], permission))
            else:
                acl["grants"].append(_group(match["value"], permission))
    if len(acl["grants"]) > _MAX_GRANTS:
        raise ConfigRefusedError(400, "InvalidArgument", f"an ACL holds at most {_MAX_GRANTS} grants")
    return acl


def _child(element: Element, name: str) -> Element | None:
    for child in element:
        if local_name(child.tag) == name:
            return child
    return None


def _text(element: Element | None, name: str) -> str | None:
    child = None if element is None else _child(element, name)
    return None if child is None else (child.text or "").strip()


def _malformed(message: str) -> ConfigRefusedError:
    return ConfigRefusedError(400, "MalformedXML", f"The XML you provided was not well-formed: {message}")


def _grantee_type(grantee: Element) -> str | None:
    for name, value in grantee.attrib.items():
        if local_name(name) == "type":
            return value
    return _text(grantee, "Type")  # what the SDK sends: format_xml writes Type as an element


def acl_from_body(body: bytes, bucket: str) -> dict[str, Any]:
    """The ACL an ``AccessControlPolicy`` body sets."""
    try:
        root = parse_xml(body)
    except XmlError as exc:
        raise _malformed(str(exc)) from None
    if local_name(root.tag) != "AccessControlPolicy":
        raise _malformed("the root element must be <AccessControlPolicy>")
    owner_id = _text(_child(root, "Owner"), "ID")
    if not owner_id:
        raise _malformed("<Owner><ID> is required")
    owner = {"ID": owner_id, "DisplayName": _text(_child(root, "Owner"), "DisplayName") or owner_id}
    listing = _child(root, "AccessControlList")
    grants: list[dict[str, str]] = []
    for grant in [] if listing is None else [child for child in listing if local_name(child.tag) == "Grant"]:
        grantee, permission = _child(grant, "Grantee"), _text(grant, "Permission")
        if grantee is None or permission not in _PERMISSIONS:
            raise _malformed(f"every <Grant> needs a <Grantee> and a <Permission> among {sorted(_PERMISSIONS)}")
        kind = _grantee_type(grantee)
        if kind == "CanonicalUser":
            uin = _text(grantee, "ID")
            if not uin:
                raise _malformed("a CanonicalUser <Grantee> needs an <ID>")
            grants.append(_user(uin, permission, _text(grantee, "DisplayName")))
        elif kind == "Group":
            uri = _text(grantee, "URI")
            if not uri:
                raise _malformed("a Group <Grantee> needs a <URI>")
            grants.append(_group(uri, permission))
        else:
            raise _malformed(f"a <Grantee> is of type CanonicalUser or Group, not {kind!r}")
    if len(grants) > _MAX_GRANTS:
        raise ConfigRefusedError(400, "InvalidArgument", f"an ACL holds at most {_MAX_GRANTS} grants")
    return {"owner": owner, "grants": grants}


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def acl_xml(acl: Mapping[str, Any]) -> bytes:
    """``GET /?acl``'s body, ``xsi:type`` on every grantee as COS sends it."""
    owner = acl["owner"]
    out = [
        '<?xml version="1.0" encoding="utf-8"?><AccessControlPolicy>',
        f"<Owner><ID>{_escape(owner['ID'])}</ID><DisplayName>{_escape(owner['DisplayName'])}</DisplayName></Owner>",
        "<AccessControlList>",
    ]
    for grant in acl["grants"]:
        out.append(f'<Grant><Grantee xmlns:xsi="{_XSI}" xsi:type="{_escape(grant["type"])}">')
        if grant["type"] == "Group":
            out.append(f"<URI>{_escape(grant['uri'])}</URI>")
        else:
            out.append(f"<ID>{_escape(grant['id'])}</ID><DisplayName>{_escape(grant['name'])}</DisplayName>")
        out.append(f"</Grantee><Permission>{grant['permission']}</Permission></Grant>")
    out.append("</AccessControlList></AccessControlPolicy>")
    return "".join(out).encode()


def _malformed_policy(message: str) -> ConfigRefusedError:
    return ConfigRefusedError(400, "MalformedPolicy", message)


def check_policy(body: bytes) -> str:
    """A bucket policy (JSON: ``Statement`` of ``Effect``/``Action``/``Resource``), as the text to keep."""
    if len(body) > _MAX_POLICY_BYTES:
        raise ConfigRefusedError(400, "PolicyTooLarge", f"a bucket policy is at most {_MAX_POLICY_BYTES} bytes")
    try:
        policy = json.loads(body)
    except (ValueError, RecursionError):
        raise _malformed_policy("the policy is not valid JSON") from None
    if not isinstance(policy, dict) or not tree_depth_within(policy, _MAX_POLICY_DEPTH):
        raise _malformed_policy("the policy must be a JSON object of modest depth")
    version = policy.get("version", policy.get("Version", "2.0"))
    if version != "2.0":
        raise _malformed_policy(f"the policy version must be 2.0, not {version!r}")
    statements = policy.get("Statement", policy.get("statement"))
    if not isinstance(statements, list) or not statements:
        raise _malformed_policy("the policy needs a non-empty Statement list")
    for statement in statements:
        if not isinstance(statement, dict):
            raise _malformed_policy("every statement must be an object")
        found = {name.lower(): value for name, value in statement.items()}
        if str(found.get("effect", "")).lower() not in ("allow", "deny"):
            raise _malformed_policy("every statement needs an Effect of allow or deny")
        if not found.get("action") or not found.get("resource"):
            raise _malformed_policy("every statement needs an Action and a Resource")
    return json.dumps(policy, ensure_ascii=False, separators=(",", ":"))
