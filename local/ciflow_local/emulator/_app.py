"""The emulator's HTTP front: routes by Host like COS/CI do, checks the COS signature, answers COS-shaped errors.

Services plug in as ``ServiceApi`` objects: ``cos`` (object API), ``ci`` (job and management APIs) and ``pic``
(the bucket's CI binding). With ``buckets`` (``_service.Buckets``), GetService (``GET /`` on
``service.cos.myqcloud.com`` or ``cos.<region>.myqcloud.com``) and PUT/HEAD/DELETE Bucket are answered here.

The signature is checked as COS checks it: from the ``Authorization`` header or, for presigned URLs, from the
``q-*`` query parameters; only the headers named in ``q-header-list`` and the query parameters named in
``q-url-param-list`` are covered. Every error carries the full ``<Error>`` body (``Resource`` included), so the
official SDK's ``CosServiceError`` reads its code. Responses leave with the header names COS uses (``ETag``,
``Content-Length``, ``Last-Modified``…; ``x-cos-*`` lower-case), ``Date`` and ``Server: tencent-cos`` (``CosFront``).
A request in absolute form (``GET http://<host>/<key>``, what HTTP clients send to a proxy) is served as if it had
come straight to ``<host>``, so an SDK configured with ``Proxies={"http": emulator.url}`` works unchanged.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ciflow.logging import get_logger
from ciflow.signing import Credentials, cos_authorization

from ._answers import CiAnswer, Refusal

__all__ = [
    "DEFAULT_CREDENTIALS",
    "AUTH_PARAMS",
    "BucketService",
    "CosFront",
    "EmulatorApp",
    "ServiceApi",
    "Target",
    "answer_response",
    "canonical_header_name",
    "error_response",
]

#: ``<bucket>.<cos|ci|pic>.<region>.myqcloud.com``, the bucket-less ``ci.<region>``/``cos.<region>`` hosts (account
#: listings, GetService of a region) and GetService's ``service.cos.myqcloud.com``.
_HOST = re.compile(
    r"^(?:(?:(?P<bucket>[a-z0-9][a-z0-9-]*-\d+)\.)?(?P<service>cos|ci|pic)\.(?P<region>[a-z0-9-]+)"
    r"|(?P<global>service\.cos))\.myqcloud\.com(:\d+)?$"
)
#: Credentials the emulator accepts out of the box (the demo and tests use them).
DEFAULT_CREDENTIALS = Credentials("AKIDciflowlocalemulator", "ciflow-local-emulator-secret-key")
#: The query parameters of a presigned URL that carry its signature (never part of what is signed).
AUTH_PARAMS = frozenset(
    {"q-sign-algorithm", "q-ak", "q-sign-time", "q-key-time", "q-header-list", "q-url-param-list", "q-signature"}
)
_SAFE = "-_.~"
_METHODS = frozenset({"GET", "HEAD", "PUT", "POST", "DELETE"})
#: Answers a CORS preflight (``OPTIONS`` on a COS host, unauthenticated as in COS): ``_bucket_config``'s ``preflight``.
Preflight = Callable[[Request, "Target"], Response]

_log = get_logger(__name__)


@dataclass(frozen=True)
class Target:
    """What a request addresses: the service, bucket and region from Host; the decoded key from the path.

    ``params`` are the query parameters without a presigned URL's ``q-*`` signature fields. An empty ``bucket``
    and ``region`` with service ``cos`` is GetService's ``service.cos.myqcloud.com``.
    """

    service: str
    bucket: str
    region: str
    key: str
    params: Mapping[str, str]
    request_id: str

    @property
    def resource(self) -> str:
        """What COS names in an error's ``<Resource>``: ``<bucket>.cos.<region>.myqcloud.com/<key>``."""
        if not self.region:  # GetService's host, or a target made up without one (injected faults)
            global_host = self.service == "cos" and not self.bucket and not self.key
            return f"service.cos.myqcloud.com/{self.key}" if global_host else "/" + self.key
        host = ".".join(part for part in (self.bucket, self.service, self.region) if part)
        return f"{host}.myqcloud.com/{self.key}"


class ServiceApi(Protocol):
    async def handle(self, request: Request, target: Target) -> Response: ...


class BucketService(Protocol):
    """GetService and the bucket-level calls, answered before the services (``_service.Buckets``)."""

    def refusal(self, request: Request, target: Target) -> Response | None: ...

    def handles(self, request: Request, target: Target) -> bool: ...

    async def handle(self, request: Request, target: Target, secret_id: str) -> Response: ...

    def written(self, bucket: str, region: str) -> None: ...


def error_response(
    status: int, code: str, message: str, target: Target | None, resource: str | None = None
) -> Response:
    """The ``<Error>`` body COS and CI send, with the request and trace id headers of the service.

    ``resource`` defaults to ``target.resource`` (``<bucket>.cos.<region>.myqcloud.com/<key>``).
    """
    request_id = target.request_id if target else uuid.uuid4().hex
    trace_id = uuid.uuid4().hex
    if not resource:
        resource = target.resource if target else "/"
    body = (
        "<?xml version='1.0' encoding='utf-8' ?><Error>"
        f"<Code>{code}</Code><Message>{_escape(message)}</Message><Resource>{_escape(resource)}</Resource>"
        f"<RequestId>{request_id}</RequestId><TraceId>{trace_id}</TraceId></Error>"
    )
    service = {"pic": "ci"}.get(target.service, target.service) if target else "cos"
    headers = {f"x-{service}-request-id": request_id, f"x-{service}-trace-id": trace_id}
    return Response(body, status_code=status, media_type="application/xml", headers=headers)


def answer_response(answer: Response | CiAnswer, target: Target) -> Response:
    """The response of a plain-data answer (``_answers``): its body, or the ``<Error>`` of a ``Refusal``
    (``resource`` defaulting to the target's); a ready response passes through."""
    if isinstance(answer, Response):
        return answer
    if isinstance(answer, Refusal):
        return error_response(answer.status, answer.code, answer.message, target, answer.resource)
    headers = dict(answer.headers)
    return Response(answer.body, status_code=answer.status, media_type=answer.media_type, headers=headers)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# -- response header names --------------------------------------------------------------------------------------

#: Names whose canonical form is not plain Title-Case.
_CANONICAL = {b"etag": b"ETag", b"content-md5": b"Content-MD5", b"www-authenticate": b"WWW-Authenticate"}


def canonical_header_name(name: bytes) -> bytes:
    """``etag`` -> ``ETag``, ``content-length`` -> ``Content-Length``; ``x-*`` names stay lower-case as COS sends
    them (``x-cos-request-id``, ``x-cos-meta-*`` as stored)."""
    low = name.lower()
    if low.startswith(b"x-"):
        return low
    known = _CANONICAL.get(low)
    if known is not None:
        return known
    return b"-".join(part[:1].upper() + part[1:] for part in low.split(b"-"))


class CosFront:
    """ASGI wrapper: absolute-form request targets served as origin-form; response header names as COS writes
    them, plus ``Date`` and ``Server: tencent-cos``. Idempotent (wrapping twice changes nothing)."""

    #: Tells ``BackgroundServer`` not to add uvicorn's own (lower-case) ``date`` and ``server`` headers.
    sends_date_and_server = True

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        scope = _origin_form(scope)

        async def send_canonical(message: dict[str, Any]) -> None:
            if message.get("type") == "http.response.start":
                headers = [(canonical_header_name(name), value) for name, value in message.get("headers", [])]
                names = {name for name, _ in headers}
                if b"Date" not in names:
                    headers.append((b"Date", formatdate(time.time(), usegmt=True).encode()))
                if b"Server" not in names:
                    headers.append((b"Server", b"tencent-cos"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_canonical)


def _origin_form(scope: dict[str, Any]) -> dict[str, Any]:
    """``http://host/path`` as the request target (a client talking to a proxy) becomes ``/path`` with that Host."""
    raw_path: bytes = scope.get("raw_path") or scope.get("path", "/").encode()
    if not raw_path.lower().startswith((b"http://", b"https://")):
        return scope
    parts = urlsplit(raw_path.decode("latin-1"))
    path = parts.path or "/"
    headers = list(scope.get("headers", []))
    if not any(name.lower() == b"host" for name, _ in headers):
        headers.append((b"host", parts.netloc.encode("latin-1")))
    return {**scope, "raw_path": path.encode("latin-1"), "path": unquote(path), "headers": headers}


# -- the app ----------------------------------------------------------------------------------------------------


def _quote(text: str) -> str:
    return quote(text, _SAFE)


def _covered(listed: str, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The pairs a signature's ``q-header-list``/``q-url-param-list`` names (names matched encoded and lower-cased,
    as COS lists them); a listed name the request lacks is signed as empty."""
    names = {name for name in listed.split(";") if name}
    covered = [(name, value) for name, value in pairs if _quote(name).lower() in names]
    present = {_quote(name).lower() for name, _ in covered}
    return covered + [(unquote(name), "") for name in sorted(names - present)]


def _utf8_headers(request: Request) -> list[tuple[str, str]]:
    """Header pairs with values read as UTF-8, as clients sign them (Starlette reads them as Latin-1); values that
    are not UTF-8 keep their Latin-1 reading."""
    pairs: list[tuple[str, str]] = []
    for name, value in request.scope.get("headers", []):
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            text = value.decode("latin-1")
        pairs.append((name.decode("latin-1"), text))
    return pairs


class EmulatorApp:
    """An ASGI app serving COS and CI for any bucket, authenticating every request with the COS signature."""

    sends_date_and_server = True

    def __init__(
        self,
        services: Mapping[str, ServiceApi],
        *,
        credentials: Mapping[str, Credentials] | None = None,
        clock_skew_seconds: int = 900,
        buckets: BucketService | None = None,
        preflight: Preflight | None = None,
    ) -> None:
        self.services = dict(services)
        self.credentials = dict(credentials or {DEFAULT_CREDENTIALS.secret_id: DEFAULT_CREDENTIALS})
        self.clock_skew_seconds = clock_skew_seconds
        self.buckets = buckets
        self.preflight = preflight
        # Every method reaches ``_dispatch``: the ones COS does not serve get its 405 body, not Starlette's text.
        methods = [*_METHODS, "OPTIONS", "PATCH", "TRACE", "CONNECT"]
        self.app = CosFront(Starlette(routes=[Route("/{path:path}", self._dispatch, methods=methods)]))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    def _target(self, request: Request) -> Target | None:
        match = _HOST.match(request.headers.get("host", ""))
        if match is None or (match["global"] is None and match["bucket"] is None and match["service"] == "pic"):
            return None
        raw_path = request.scope.get("raw_path", b"/").decode("latin-1").split("?", 1)[0]
        key = unquote(raw_path)[1:]
        query = request.scope.get("query_string", b"").decode("latin-1")
        params = {k: v for k, v in parse_qsl(query, keep_blank_values=True) if k not in AUTH_PARAMS}
        service = "cos" if match["global"] else match["service"]
        return Target(service, match["bucket"] or "", match["region"] or "", key, params, uuid.uuid4().hex)

    def _authenticate(self, request: Request, target: Target) -> Response | None:
        """``None`` when the signature verifies; else the error response COS would send."""
        query = parse_qsl(request.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        header = request.headers.get("authorization", "")
        fields = dict(part.split("=", 1) for part in header.split("&") if "=" in part)
        presigned = "q-signature" not in fields
        if presigned:  # a presigned URL: the signature's fields are query parameters
            fields = {name: value for name, value in query if name in AUTH_PARAMS}
        if "q-signature" not in fields:
            return error_response(403, "AccessDenied", "Access Denied.", target)
        credentials = self.credentials.get(fields.get("q-ak", ""))
        if credentials is None:
            message = "The access key Id format you provided is invalid."
            return error_response(403, "InvalidAccessKeyId", message, target)
        key_time = fields.get("q-key-time", "")
        start, _, end = key_time.partition(";")
        now = time.time()
        if not (start.isdigit() and end.isdigit()) or not int(start) - self.clock_skew_seconds <= now <= int(end):
            return error_response(403, "AccessDenied", "Request has expired", target)
        if credentials.token is not None:
            token_header = "x-ci-security-token" if target.service == "ci" else "x-cos-security-token"
            token = request.headers.get(token_header) or (dict(query).get(token_header) if presigned else None)
            if token != credentials.token:
                return error_response(403, "InvalidAccessKeyId", "The security token is missing or invalid", target)
        headers = _covered(fields.get("q-header-list", ""), _utf8_headers(request))
        params = _covered(fields.get("q-url-param-list", ""), query)
        expected = cos_authorization(credentials, request.method, "/" + target.key, params, headers, key_time)
        if expected.rsplit("q-signature=", 1)[-1] != fields["q-signature"]:
            message = "The Signature you specified is invalid."
            return error_response(403, "SignatureDoesNotMatch", message, target)
        return None

    async def _dispatch(self, request: Request) -> Response:
        target = self._target(request)
        if target is None:
            message = "Host must be <bucket>.<cos|ci|pic>.<region>.myqcloud.com"
            return error_response(400, "InvalidHost", message, None, (request.headers.get("host") or "") + "/")
        if request.method not in _METHODS:
            if request.method == "OPTIONS" and self.preflight is not None and target.service == "cos" and target.bucket:
                return self._stamped(self.preflight(request, target), target)
            message = f"{request.method} is not allowed on this resource"
            return error_response(405, "MethodNotAllowed", message, target)
        try:
            return await self._serve(request, target)
        except Exception:
            _log.exception("emulator request failed", method=request.method, resource=target.resource)
            message = "We encountered an internal error. Please try again."
            return self._bodiless(request, error_response(500, "InternalError", message, target), target)

    async def _serve(self, request: Request, target: Target) -> Response:
        refused = self._authenticate(request, target)
        if refused is None and self.buckets is not None and target.service == "cos":
            refused = self.buckets.refusal(request, target)
        if refused is not None:
            return self._bodiless(request, refused, target)
        if self.buckets is not None and self.buckets.handles(request, target):
            secret_id = _signer(request)
            return self._stamped(await self.buckets.handle(request, target, secret_id), target)
        service = self.services.get(target.service)
        if service is None:
            return error_response(501, "NotImplemented", f"no {target.service} service here", target)
        response = await service.handle(request, target)
        if (
            self.buckets is not None
            and target.service == "cos"
            and request.method in ("PUT", "POST")
            and response.status_code < 300
        ):
            self.buckets.written(target.bucket, target.region)
        return self._stamped(response, target)

    @staticmethod
    def _stamped(response: Response, target: Target) -> Response:
        response.headers.setdefault(f"x-{'cos' if target.service == 'cos' else 'ci'}-request-id", target.request_id)
        return response

    @staticmethod
    def _bodiless(request: Request, response: Response, target: Target) -> Response:
        """HEAD errors carry the status and headers only (the body's length is not announced either)."""
        if request.method != "HEAD":
            return response
        kept = {name: value for name, value in response.headers.items() if name.startswith("x-")}
        return Response(status_code=response.status_code, headers=kept)


def _signer(request: Request) -> str:
    """The SecretId that signed the request (already verified)."""
    header = request.headers.get("authorization", "")
    fields = dict(part.split("=", 1) for part in header.split("&") if "=" in part)
    if "q-ak" in fields:
        return fields["q-ak"]
    query = dict(parse_qsl(request.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
    return str(query.get("q-ak", ""))
