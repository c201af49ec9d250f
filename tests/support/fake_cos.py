"""A tiny in-memory COS object API for respx: PUT (forbid-overwrite), GET, HEAD, DELETE, list, multi-delete.

Usage::

    fake = FakeCos()
    with respx.mock(assert_all_called=False) as router:
        fake.mount(router, COS)   # every request under the bucket's base URL goes to the fake
        client.send(ops.put_object("k", b"x", forbid_overwrite=True))

The fake is thread-safe (one lock), so concurrent clients see COS's answers: exactly one of several
``x-cos-forbid-overwrite`` PUTs of the same key gets 200, the others 409 ``FileAlreadyExists``.
``fail_next`` injects failures, including "applied but the answer was lost" (``apply=True``).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from urllib.parse import quote
from xml.etree.ElementTree import fromstring
from xml.sax.saxutils import escape

import httpx
import respx

__all__ = ["FakeCos", "StoredObject", "Fault"]


@dataclass
class StoredObject:
    body: bytes
    content_type: str
    etag: str
    last_modified: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    """Answer the next ``times`` matching requests with ``status``/``code``; ``apply`` handles them first."""

    method: str
    status: int
    code: str
    times: int
    apply: bool
    match: Callable[[httpx.Request], bool]


def _error(status: int, code: str, message: str, resource: str = "") -> httpx.Response:
    body = (
        f"<?xml version='1.0' encoding='utf-8'?><Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"<Resource>{escape(resource)}</Resource><RequestId>fake-request-id</RequestId>"
        "<TraceId>fake-trace-id</TraceId></Error>"
    ).encode()
    return httpx.Response(
        status, content=body, headers={"Content-Type": "application/xml", "x-cos-request-id": "fake-request-id"}
    )


class FakeCos:
    """One bucket's objects in a dict. ``page_limit`` caps ``max-keys`` like a server limit, to force paging."""

    def __init__(self, *, page_limit: int = 1000) -> None:
        self.objects: dict[str, StoredObject] = {}
        self.page_limit = page_limit
        #: ``(method, key or "/")`` of every request, in arrival order.
        self.calls: list[tuple[str, str]] = []
        #: Every request itself (headers, body), in the same order.
        self.requests: list[httpx.Request] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    # -- wiring ---------------------------------------------------------------------------------------

    def mount(self, router: respx.Router, base_url: str) -> respx.Route:
        """Send every request under ``base_url`` (the bucket's COS origin) to this fake."""
        return router.route(url__startswith=base_url.rstrip("/") + "/").mock(side_effect=self)

    def fail_next(
        self,
        method: str,
        *,
        status: int = 500,
        code: str = "InternalError",
        times: int = 1,
        apply: bool = False,
        match: Callable[[httpx.Request], bool] = lambda _: True,
    ) -> None:
        """Fail the next ``times`` ``method`` requests (that ``match``); with ``apply`` the change still happens."""
        with self._lock:
            self._faults.append(Fault(method.upper(), status, code, times, apply, match))

    def put(self, key: str, body: bytes, content_type: str = "application/octet-stream") -> None:
        """Store an object directly (test setup)."""
        with self._lock:
            self.objects[key] = self._stored(body, content_type, {})

    # -- the API --------------------------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            key = request.url.path[1:]
            self.calls.append((request.method, key or "/"))
            self.requests.append(request)
            fault = self._take_fault(request)
            if fault is not None and not fault.apply:
                return _error(fault.status, fault.code, "injected failure", "/" + key)
            response = self._handle(request, key)
            if fault is not None:
                return _error(fault.status, fault.code, "injected failure after applying", "/" + key)
            return response

    def _take_fault(self, request: httpx.Request) -> Fault | None:
        for fault in self._faults:
            if fault.method == request.method and fault.times > 0 and fault.match(request):
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _handle(self, request: httpx.Request, key: str) -> httpx.Response:
        method = request.method
        if not key:
            if method == "GET":
                return self._list(request)
            if method == "POST" and "delete" in request.url.params:
                return self._multi_delete(request)
            return _error(501, "NotImplemented", f"the fake has no {method} /")
        if method == "PUT":
            return self._put(request, key)
        if method in ("GET", "HEAD"):
            stored = self.objects.get(key)
            if stored is None:
                if method == "HEAD":
                    return httpx.Response(404, headers={"x-cos-request-id": "fake-request-id"})
                return _error(404, "NoSuchKey", "The specified key does not exist.", "/" + key)
            headers = {
                "Content-Type": stored.content_type,
                "ETag": stored.etag,
                "Last-Modified": stored.last_modified,
                **{f"x-cos-meta-{k}": v for k, v in stored.metadata.items()},
            }
            if method == "HEAD":
                headers["Content-Length"] = str(len(stored.body))
                return httpx.Response(200, headers=headers)
            return httpx.Response(200, content=stored.body, headers=headers)
        if method == "DELETE":
            self.objects.pop(key, None)
            return httpx.Response(204)
        return _error(501, "NotImplemented", f"the fake has no {method} of objects")

    @staticmethod
    def _stored(body: bytes, content_type: str, metadata: dict[str, str]) -> StoredObject:
        return StoredObject(
            body=body,
            content_type=content_type,
            etag=f'"{hashlib.md5(body).hexdigest()}"',
            last_modified=formatdate(usegmt=True),
            metadata=metadata,
        )

    def _put(self, request: httpx.Request, key: str) -> httpx.Response:
        if "x-cos-copy-source" in request.headers or request.url.params:
            return _error(501, "NotImplemented", "the fake stores plain PUTs only")
        body = request.content
        if request.headers.get("x-cos-forbid-overwrite", "").lower() == "true" and key in self.objects:
            return _error(409, "FileAlreadyExists", "The object already exists.", "/" + key)
        metadata = {
            name[len("x-cos-meta-") :]: value
            for name, value in request.headers.items()
            if name.lower().startswith("x-cos-meta-")
        }
        stored = self._stored(body, request.headers.get("content-type", "application/octet-stream"), metadata)
        self.objects[key] = stored
        return httpx.Response(200, headers={"ETag": stored.etag})

    def _list(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        prefix, marker, delimiter = params.get("prefix", ""), params.get("marker", ""), params.get("delimiter", "")
        max_keys = min(int(params.get("max-keys", "1000")), self.page_limit)
        url_encoded = params.get("encoding-type", "") == "url"

        def enc(text: str) -> str:
            return escape(quote(text, safe="/") if url_encoded else text)

        keys: list[str] = []
        prefixes: list[str] = []
        truncated = False
        for name in sorted(k for k in self.objects if k.startswith(prefix) and k > marker):
            if delimiter and delimiter in name[len(prefix) :]:
                common = name[: len(prefix) + name[len(prefix) :].index(delimiter) + len(delimiter)]
                if common in prefixes:
                    continue
                entry = common
            else:
                entry = name
            if len(keys) + len(prefixes) == max_keys:
                truncated = True
                break
            (prefixes if entry != name else keys).append(entry)
        last = max([*keys, *prefixes]) if truncated else ""
        contents = "".join(
            f"<Contents><Key>{enc(k)}</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified>"
            f"<ETag>{escape(self.objects[k].etag)}</ETag><Size>{len(self.objects[k].body)}</Size>"
            "<StorageClass>STANDARD</StorageClass></Contents>"
            for k in keys
        )
        commons = "".join(f"<CommonPrefixes><Prefix>{enc(p)}</Prefix></CommonPrefixes>" for p in prefixes)
        body = (
            "<?xml version='1.0' encoding='utf-8'?><ListBucketResult><Name>fake-bucket</Name>"
            + ("<EncodingType>url</EncodingType>" if url_encoded else "")
            + f"<Prefix>{enc(prefix)}</Prefix><Marker>{enc(marker)}</Marker><MaxKeys>{max_keys}</MaxKeys>"
            + (f"<Delimiter>{enc(delimiter)}</Delimiter>" if delimiter else "")
            + f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>"
            + (f"<NextMarker>{enc(last)}</NextMarker>" if truncated else "")
            + commons
            + contents
            + "</ListBucketResult>"
        ).encode()
        return httpx.Response(200, content=body, headers={"Content-Type": "application/xml"})

    def _multi_delete(self, request: httpx.Request) -> httpx.Response:
        root = fromstring(request.content)
        quiet = (root.findtext("Quiet") or "").lower() == "true"
        deleted = []
        for item in root.findall("Object"):
            name = item.findtext("Key") or ""
            self.objects.pop(name, None)
            deleted.append(name)
        entries = "" if quiet else "".join(f"<Deleted><Key>{escape(k)}</Key></Deleted>" for k in deleted)
        body = f"<?xml version='1.0' encoding='utf-8'?><DeleteResult>{entries}</DeleteResult>".encode()
        return httpx.Response(200, content=body, headers={"Content-Type": "application/xml"})
