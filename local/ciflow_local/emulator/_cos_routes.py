"""Which COS request is which: the sub-resource a query names, and the tables of what the emulator serves.

A query parameter named like one of COS's sub-resources (``?acl``, ``?uploads``, ``?live`` …) selects an API of
its own; any other parameter is an option of the plain call (``prefix``, ``response-content-type`` …) and is
ignored when the call does not know it, as COS does. A sub-resource the emulator does not serve on that level
is answered ``501 NotImplemented`` — never mistaken for the plain call. A served sub-resource asked with
another method is ``405 MethodNotAllowed``.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._cos_common import RefusedError

__all__ = [
    "BUCKET_CONFIG_SUBRESOURCES",
    "BUCKET_ROUTES",
    "OBJECT_ROUTES",
    "SUBRESOURCES",
    "VERSION_AWARE",
    "route_name",
]

#: Sub-resources of COS's bucket and object APIs (and the services that share its hosts).
SUBRESOURCES = frozenset(
    {
        "accelerate",
        "acl",
        "append",
        "ci-process",
        "comp",
        "cors",
        "delete",
        "domain",
        "domaincertificate",
        "encryption",
        "image_process",
        "intelligenttiering",
        "inventory",
        "legal-hold",
        "lifecycle",
        "live",
        "location",
        "logging",
        "notification",
        "object-lock",
        "origin",
        "policy",
        "referer",
        "rename",
        "replication",
        "restore",
        "retention",
        "select",
        "symlink",
        "tagging",
        "torrent",
        "uploadId",
        "uploads",
        "versioning",
        "versions",
        "vod",
        "website",
    }
)
#: Bucket configuration sub-resources, answered by the ``bucket_config`` service ``CosApi`` is given (501 without).
BUCKET_CONFIG_SUBRESOURCES = frozenset(
    {
        "acl",
        "cors",
        "encryption",
        "inventory",
        "lifecycle",
        "logging",
        "object-lock",
        "policy",
        "referer",
        "tagging",
        "website",
    }
)
#: The handlers that honour ``versionId``; with any other it is refused (501) rather than ignored.
VERSION_AWARE = frozenset({"get", "delete", "get_symlink"})

#: ``(method, sub-resource or "")`` -> handler name, on an object (``/<key>``).
OBJECT_ROUTES: Mapping[tuple[str, str], str] = {
    ("GET", ""): "get",
    ("HEAD", ""): "get",
    ("PUT", ""): "put",
    ("DELETE", ""): "delete",
    ("GET", "acl"): "get_acl",
    ("PUT", "acl"): "put_acl",
    ("GET", "tagging"): "get_tagging",
    ("PUT", "tagging"): "put_tagging",
    ("DELETE", "tagging"): "delete_tagging",
    ("PUT", "symlink"): "put_symlink",
    ("GET", "symlink"): "get_symlink",
    ("POST", "restore"): "restore",
    ("POST", "select"): "select",
    ("POST", "append"): "append",
    ("POST", "uploads"): "initiate",
    ("PUT", "uploadId"): "upload_part",
    ("GET", "uploadId"): "list_parts",
    ("POST", "uploadId"): "complete",
    ("DELETE", "uploadId"): "abort",
    **{(method, "ci-process"): "ci_process" for method in ("GET", "HEAD", "PUT", "POST", "DELETE")},
}
#: The same on the bucket (``/``); bucket configuration goes to ``bucket_config`` before this table.
BUCKET_ROUTES: Mapping[tuple[str, str], str] = {
    ("GET", ""): "list",
    ("HEAD", ""): "head_bucket",
    ("PUT", ""): "head_bucket",
    ("GET", "location"): "get_location",
    ("POST", "delete"): "delete_many",
    ("GET", "uploads"): "list_uploads",
    ("GET", "versioning"): "get_versioning",
    ("PUT", "versioning"): "put_versioning",
    ("GET", "versions"): "list_versions",
    **{(method, "ci-process"): "ci_process" for method in ("GET", "HEAD", "PUT", "POST", "DELETE")},
}


def route_name(
    method: str, params: Mapping[str, str], routes: Mapping[tuple[str, str], str], level: str
) -> tuple[str, str]:
    """``(handler name, sub-resource)`` of a request; raises the 501/405 COS-shaped refusal otherwise."""
    named = sorted(SUBRESOURCES.intersection(params))
    if "ci-process" in named:
        named = ["ci-process"]  # CI's parameters may look like anything
    if len(named) > 1:
        raise RefusedError(501, "NotImplemented", f"the emulator does not implement ?{'&'.join(named)}")
    sub = named[0] if named else ""
    handler = routes.get((method, sub))
    if handler is not None and "versionId" in params and handler not in VERSION_AWARE:
        raise RefusedError(501, "NotImplemented", f"the emulator does not implement {method} ?{sub}&versionId")
    if handler is not None:
        return handler, sub
    if sub and any(served == sub for _, served in routes):
        raise RefusedError(405, "MethodNotAllowed", f"{method} is not allowed on ?{sub}")
    if not sub:
        raise RefusedError(405, "MethodNotAllowed", f"{method} is not allowed on the {level} resource")
    raise RefusedError(501, "NotImplemented", f"the emulator does not implement {method} ?{sub} on the {level}")
