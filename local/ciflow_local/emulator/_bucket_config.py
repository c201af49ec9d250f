"""Bucket configuration APIs (``GET``/``PUT``/``DELETE /?cors`` …): kept per bucket, answered as COS does.

``BucketConfigApi(root)`` keeps every configuration in ``root/bucket_config.sqlite3`` (a restart keeps them) and
serves the bucket-level requests whose query names one of ``SUBRESOURCES``:

- XML configurations (``cors``, ``lifecycle``, ``website``, ``logging``, ``referer``, ``tagging``, ``inventory``
  by ``id``, ``encryption``, ``object-lock``, ``domain``, ``replication``, ``origin``, ``accelerate``,
  ``intelligenttiering``): checked and normalised by ``_bucket_config_rules``; ``PUT`` answers 200, ``DELETE``
  204 (also when nothing was set), ``GET`` the stored body or, while nothing is stored, the 404 COS sends
  (``NoSuchCORSConfiguration`` …) or its default (``logging``, ``referer``, ``accelerate``, ``intelligenttiering``:
  an empty root, as COS answers). ``inventory`` and ``intelligent-tiering`` (the SDK's ``_v2`` calls) are kept by
  ``id``; ``GET`` without ``id`` lists them, 100 a page, in the order they were created; ``POST /?inventory&id=``
  (a one-time inventory) is accepted and runs nowhere.
- ``acl``: ``x-cos-acl`` / ``x-cos-grant-*`` or an ``AccessControlPolicy`` body (``_bucket_config_acl``); a bucket
  without one answers ``private``.
- ``policy``: a JSON body, answered back as JSON; ``NoSuchBucketPolicy`` while absent.

Bodies are read up to 1 MiB, their ``Content-MD5`` checked, XML parsed by ``ciflow.codec.parse_xml`` (no DTDs,
no entities): garbage and hostile XML are ``400 MalformedXML``.

Enforcement hooks for the object API: ``preflight`` answers ``OPTIONS`` on any key per the CORS rules (403
``AccessForbidden`` when none matches), ``cors_headers`` gives the ``Access-Control-*`` headers to add to an actual
response with ``Origin``; ``apply_lifecycle(store, bucket, now)`` deletes the objects the bucket's lifecycle makes
due by ``now`` ("lifecycle expiry on demand": nothing runs on a timer; ``apply_all_lifecycles`` does every bucket)
and ``expired_keys`` only names them; ``forget_bucket`` drops a deleted bucket's configurations.

Not emulated: the effects of the other configurations (website hosting, referer checks, logging, replication,
inventory reports, encryption at rest, object lock retention, tiering, acceleration), domain certificates
(``?domaincertificate``), and the ``default`` intelligent-tiering rule the cloud derives from the v1 API.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ciflow.codec import element_to_tree, local_name, parse_xml, tree_to_xml
from ciflow.errors import XmlError

from ._app import Target, error_response
from ._bucket_config_acl import acl_from_body, acl_from_headers, acl_xml, check_policy, default_acl
from ._bucket_config_enforce import cors_response_headers, cors_rule, expired_keys
from ._bucket_config_rules import KINDS, Kind
from ._bucket_config_store import ConfigStore
from ._bucket_config_tree import ConfigRefusedError, Tree, as_list, leaf
from ._cos_common import check_digest, content_md5, small_body
from ._storage import ObjectStore

__all__ = ["SUBRESOURCES", "BucketConfigApi", "ConfigStore"]

#: The query names this module serves on the bucket (``GET /?cors`` …).
SUBRESOURCES: frozenset[str] = frozenset(KINDS) | {"acl", "policy"}

_MAX_BODY = 1024 * 1024
_INVENTORY_PAGE = 100


def _xml(root: str, tree: Tree) -> Response:
    return Response(tree_to_xml(root, tree), media_type="application/xml")


def _parse(body: bytes, root: str) -> Tree:
    """The body as a plain tree under ``root``; ``{}`` for an empty root; ``MalformedXML`` otherwise."""
    try:
        element = parse_xml(body, max_bytes=_MAX_BODY)
        if local_name(element.tag) != root:
            raise ConfigRefusedError(400, "MalformedXML", f"The root element must be <{root}>")
        tree = element_to_tree(element)
    except XmlError as exc:
        raise ConfigRefusedError(400, "MalformedXML", f"The XML you provided was not well-formed: {exc}") from None
    if isinstance(tree, str):
        if tree.strip():
            raise ConfigRefusedError(400, "MalformedXML", f"<{root}> must hold elements, not text")
        return {}
    return dict(tree)


class BucketConfigApi:
    """Serves ``SUBRESOURCES`` on bucket URLs (``target.key`` empty); see the module docstring."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.store = ConfigStore(self.root / "bucket_config.sqlite3")

    def close(self) -> None:
        self.store.close()

    def tagged_buckets(self, key: str, value: str | None = None) -> list[str]:
        """The buckets tagged ``key`` (with ``value`` when given): for ``GET Service``'s ``tagkey``/``tagvalue``."""
        found = []
        for bucket, stored in self.store.everywhere("tagging"):
            tag_set = json.loads(stored).get("TagSet")
            for tag in as_list(tag_set, "Tag"):
                if leaf(tag, "Key") == key and (value is None or leaf(tag, "Value") == value):
                    found.append(bucket)
                    break
        return sorted(found)

    def forget_bucket(self, bucket: str) -> None:
        """Call when a bucket is deleted: a bucket created again under the name starts unconfigured, as in COS."""
        self.store.forget(bucket)

    # -- the request handler ------------------------------------------------------------------------------

    async def handle(self, request: Request, target: Target) -> Response:
        try:
            return await self._route(request, target)
        except ConfigRefusedError as refused:
            resource = f"{target.bucket}.cos.{target.region}.myqcloud.com/"
            return error_response(refused.status, refused.code, refused.message, target, resource)

    @staticmethod
    def subresource(target: Target) -> str | None:
        """The sub-resource a request names (the first of its query names in ``SUBRESOURCES``)."""
        return next((name for name in target.params if name in SUBRESOURCES), None)

    async def _route(self, request: Request, target: Target) -> Response:
        name = self.subresource(target)
        if name is None or target.key:
            raise ConfigRefusedError(400, "InvalidArgument", "not a bucket configuration request")
        if name == "acl":
            return await self._acl(request, target)
        if name == "policy":
            return await self._policy(request, target)
        kind = KINDS[name]
        if request.method not in kind.methods:
            raise ConfigRefusedError(405, "MethodNotAllowed", f"{request.method} is not allowed on ?{name}")
        item_id = target.params.get("id", "") if kind.by_id else ""
        if kind.by_id and not item_id:
            if request.method == "GET":
                return self._list(kind, target)
            raise ConfigRefusedError(400, "InvalidArgument", f"?{name} needs an id parameter")
        if request.method == "GET":
            return self._get(kind, target.bucket, item_id)
        if request.method == "DELETE":
            self.store.delete(target.bucket, name, item_id)
            return Response(status_code=204)
        body = await _body(request)
        if kind.empty_clears and not body.strip():
            self.store.delete(target.bucket, name, item_id)
            return Response(status_code=200)
        tree = _parse(body, kind.root)
        if request.method == "POST":
            return self._post_inventory(tree, target.bucket, item_id)
        return self._put(kind, tree, target.bucket, item_id)

    def _default_tiering(self, bucket: str) -> Tree | None:
        """The v2 API's ``default`` rule: the v1 configuration (``?intelligenttiering``) in v2 form."""
        stored = self.store.get(bucket, "intelligenttiering")
        v1 = json.loads(stored) if stored else {}
        if v1.get("Status") != "Enabled":
            return None
        found = v1.get("Transition")
        transition: Tree = found if isinstance(found, dict) else {}
        tier = {"AccessTier": "INFREQUENT", "Days": transition.get("Days", "30")}
        tier.update({"RequestFrequent": transition["RequestFrequent"]} if "RequestFrequent" in transition else {})
        return {"Id": "default", "Status": "Enabled", "Tiering": tier}

    def _get(self, kind: Kind, bucket: str, item_id: str) -> Response:
        stored = self.store.get(bucket, kind.name, item_id)
        if stored is not None:
            return _xml(kind.root, json.loads(stored))
        derived = self._default_tiering(bucket) if (kind.name, item_id) == ("intelligent-tiering", "default") else None
        if derived is not None:
            return _xml(kind.root, derived)
        if kind.missing is not None:
            status, code = kind.missing
            raise ConfigRefusedError(status, code, f"The bucket has no {kind.name} configuration")
        return _xml(kind.root, dict(kind.default or {}))

    def _put(self, kind: Kind, tree: Tree, bucket: str, item_id: str) -> Response:
        if kind.empty_clears and not tree:
            self.store.delete(bucket, kind.name)  # an empty BucketLoggingStatus turns logging off
            return Response(status_code=200)
        tree = kind.check(tree, bucket, item_id)
        if kind.name == "domain":
            self._check_domains_free(tree, bucket)
        if kind.name == "intelligenttiering":
            self._check_tiering_change(tree, bucket)
        if (kind.name, item_id) == ("intelligent-tiering", "default") and self._default_tiering(bucket):
            raise ConfigRefusedError(400, "InvalidArgument", "The default rule cannot be modified")
        self.store.put(bucket, kind.name, item_id, json.dumps(tree, ensure_ascii=False))
        return Response(status_code=200)

    def _check_domains_free(self, tree: Tree, bucket: str) -> None:
        wanted = {str(leaf(rule, "Name")).lower() for rule in as_list(tree, "DomainRule")}
        for other, value in self.store.everywhere("domain"):
            taken = {str(leaf(rule, "Name")).lower() for rule in as_list(json.loads(value), "DomainRule")}
            if other != bucket and wanted & taken:
                raise ConfigRefusedError(
                    409, "RecordAlreadyExist", f"{sorted(wanted & taken)[0]} serves another bucket"
                )

    def _check_tiering_change(self, tree: Tree, bucket: str) -> None:
        stored = self.store.get(bucket, "intelligenttiering")
        current = json.loads(stored) if stored else {}
        if current.get("Status") == "Enabled" and current != tree:
            raise ConfigRefusedError(400, "InvalidArgument", "Not support modify intelligent tiering configuration")

    def _post_inventory(self, tree: Tree, bucket: str, item_id: str) -> Response:
        """A one-time inventory: refused when the id names a kept configuration; nothing is produced."""
        destination = tree.get("Destination")
        if not isinstance(destination, dict) or not isinstance(destination.get("COSBucketDestination"), dict):
            raise ConfigRefusedError(400, "MalformedXML", "<Destination><COSBucketDestination> is required")
        if self.store.get(bucket, "inventory", item_id) is not None:
            raise ConfigRefusedError(409, "DuplicateInventoryId", f"inventory {item_id!r} already exists")
        return Response(status_code=200)

    def _list(self, kind: Kind, target: Target) -> Response:
        token = target.params.get("continuation-token", "")
        if token and not token.isdigit():
            raise ConfigRefusedError(400, "InvalidArgument", "continuation-token is not one this bucket gave")
        rows = self.store.page(target.bucket, kind.name, int(token or 0), _INVENTORY_PAGE + 1)
        truncated = len(rows) > _INVENTORY_PAGE
        rows = rows[:_INVENTORY_PAGE]
        root, item = kind.listing
        items = [json.loads(value) for _, _, value in rows]
        derived = self._default_tiering(target.bucket) if kind.name == "intelligent-tiering" and not token else None
        if derived is not None and not any(found.get("Id") == "default" for found in items):
            items.insert(0, derived)
        tree: Tree = {item: items}
        tree["IsTruncated"] = "true" if truncated else "false"
        if token:
            tree["ContinuationToken"] = token
        if truncated:
            tree["NextContinuationToken"] = str(rows[-1][0])
        return _xml(root, tree)

    async def _acl(self, request: Request, target: Target) -> Response:
        if request.method == "GET":
            stored = self.store.get(target.bucket, "acl")
            acl = json.loads(stored) if stored else default_acl(target.bucket)
            return Response(acl_xml(acl), media_type="application/xml")
        if request.method != "PUT":
            raise ConfigRefusedError(405, "MethodNotAllowed", f"{request.method} is not allowed on ?acl")
        body = await _body(request)
        from_headers = acl_from_headers(request.headers, target.bucket)
        if body.strip() and from_headers is not None:
            raise ConfigRefusedError(
                400, "InvalidRequest", "set an ACL by headers or by an AccessControlPolicy body, not both"
            )
        if from_headers is None and not body.strip():
            raise ConfigRefusedError(400, "InvalidRequest", "an ACL needs x-cos-acl, x-cos-grant-* or a body")
        acl = from_headers if from_headers is not None else acl_from_body(body, target.bucket)
        self.store.put(target.bucket, "acl", "", json.dumps(acl))
        return Response(status_code=200)

    async def _policy(self, request: Request, target: Target) -> Response:
        if request.method == "GET":
            stored = self.store.get(target.bucket, "policy")
            if stored is None:
                raise ConfigRefusedError(404, "NoSuchBucketPolicy", "The bucket policy does not exist")
            return Response(stored, media_type="application/json")
        if request.method == "DELETE":
            self.store.delete(target.bucket, "policy")
            return Response(status_code=204)
        if request.method != "PUT":
            raise ConfigRefusedError(405, "MethodNotAllowed", f"{request.method} is not allowed on ?policy")
        self.store.put(target.bucket, "policy", "", check_policy(await _body(request)))
        return Response(status_code=200)

    # -- enforcement hooks --------------------------------------------------------------------------------

    def _cors(self, bucket: str) -> Tree | None:
        stored = self.store.get(bucket, "cors")
        return None if stored is None else dict(json.loads(stored))

    def preflight(self, request: Request, target: Target) -> Response:
        """``OPTIONS`` on any key of the bucket, answered per its CORS rules (unauthenticated, as in COS)."""
        origin = request.headers.get("origin")
        method = request.headers.get("access-control-request-method")
        if not origin or not method:
            return error_response(
                400, "InvalidRequest", "Origin and Access-Control-Request-Method are required", target
            )
        asked = request.headers.get("access-control-request-headers", "").split(",")
        config = self._cors(target.bucket)
        rule = None if config is None else cors_rule(config, origin, method, asked)
        if rule is None:
            return error_response(403, "AccessForbidden", "CORSResponse: This CORS request is not allowed", target)
        headers = cors_response_headers(rule, origin, preflight=True, request_headers=asked)
        return Response(status_code=200, headers=headers)

    def cors_headers(self, request: Request, target: Target) -> dict[str, str]:
        """The ``Access-Control-*`` headers for an actual request carrying ``Origin``; ``{}`` when none apply."""
        origin = request.headers.get("origin")
        if not origin:
            return {}
        config = self._cors(target.bucket)
        rule = None if config is None else cors_rule(config, origin, request.method)
        return {} if rule is None else cors_response_headers(rule, origin, preflight=False)

    def lifecycle(self, bucket: str) -> Tree | None:
        """The bucket's stored ``LifecycleConfiguration`` tree, ``None`` when it has none."""
        stored = self.store.get(bucket, "lifecycle")
        return None if stored is None else dict(json.loads(stored))

    def expired_keys(self, store: ObjectStore, bucket: str, now: float) -> list[str]:
        """The keys of ``bucket`` its lifecycle makes due by ``now`` (seconds since the epoch); deletes nothing."""
        config = self.lifecycle(bucket)
        return [] if config is None else expired_keys(config, _objects(store, bucket), now)

    def apply_lifecycle(self, store: ObjectStore, bucket: str, now: float) -> list[str]:
        """Lifecycle expiry on demand: delete what ``expired_keys`` names; returns the keys deleted."""
        deleted = []
        for key in self.expired_keys(store, bucket, now):
            if store.delete(bucket, key):
                deleted.append(key)
        return deleted

    def apply_all_lifecycles(self, store: ObjectStore, now: float) -> dict[str, list[str]]:
        """``apply_lifecycle`` on every bucket with a lifecycle configuration: ``{bucket: keys deleted}``."""
        buckets = sorted(bucket for bucket, _ in self.store.everywhere("lifecycle"))
        return {bucket: self.apply_lifecycle(store, bucket, now) for bucket in buckets}


def _objects(store: ObjectStore, bucket: str) -> Iterator[Any]:
    marker = ""
    while True:
        batch = list(store.list(bucket, "", marker, 1000))
        yield from batch
        if len(batch) < 1000:
            return
        marker = batch[-1].key


async def _body(request: Request) -> bytes:
    """The request body (at most ``_MAX_BODY`` bytes), checked against ``Content-MD5`` when it has one."""
    expected = content_md5(request)
    body = await small_body(request, limit=_MAX_BODY)
    check_digest(expected, hashlib.md5(body).digest())
    return body
