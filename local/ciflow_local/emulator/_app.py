"""The emulator's HTTP front: routes by Host like COS/CI do, checks the COS signature, answers COS-shaped errors.

Services plug in as ``ServiceApi`` objects: ``cos`` (object API), ``ci`` (job and management APIs) and ``pic``
(the bucket's CI binding).
"""

import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ciflow.signing import Credentials, cos_authorization

__all__ = ["Target", "ServiceApi", "error_response", "EmulatorApp", "DEFAULT_CREDENTIALS"]

#: ``<bucket>.<cos|ci|pic>.<region>.myqcloud.com``, or the bucket-less ``ci.<region>.myqcloud.com`` (account listings).
_HOST = re.compile(
    r"^(?:(?P<bucket>[a-z0-9][a-z0-9-]*-\d+)\.)?(?P<service>cos|ci|pic)\.(?P<region>[a-z0-9-]+)\.myqcloud\.com(:\d+)?$"
)
#: Credentials the emulator accepts out of the box (the demo and tests use them).
DEFAULT_CREDENTIALS = Credentials("AKIDciflowlocalemulator", "ciflow-local-emulator-secret-key")


@dataclass(frozen=True)
class Target:
    """What a request addresses: the service, bucket and region from Host; the decoded key from the path."""

    service: str
    bucket: str
    region: str
    key: str
    params: Mapping[str, str]
    request_id: str


class ServiceApi(Protocol):
    async def handle(self, request: Request, target: Target) -> Response: ...


def error_response(status: int, code: str, message: str, target: Target | None, resource: str = "") -> Response:
    """The ``<Error>`` body COS and CI send, with the request id header of the service."""
    request_id = target.request_id if target else uuid.uuid4().hex
    body = (
        "<?xml version='1.0' encoding='utf-8' ?><Error>"
        f"<Code>{code}</Code><Message>{_escape(message)}</Message><Resource>{_escape(resource)}</Resource>"
        f"<RequestId>{request_id}</RequestId><TraceId>{uuid.uuid4().hex}</TraceId></Error>"
    )
    service = {"pic": "ci"}.get(target.service, target.service) if target else "cos"
    return Response(
        body, status_code=status, media_type="application/xml", headers={f"x-{service}-request-id": request_id}
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class EmulatorApp:
    """An ASGI app serving COS and CI for any bucket, authenticating every request with the COS signature."""

    def __init__(
        self,
        services: Mapping[str, ServiceApi],
        *,
        credentials: Mapping[str, Credentials] | None = None,
        clock_skew_seconds: int = 900,
    ) -> None:
        self.services = dict(services)
        self.credentials = dict(credentials or {DEFAULT_CREDENTIALS.secret_id: DEFAULT_CREDENTIALS})
        self.clock_skew_seconds = clock_skew_seconds
        self.app = Starlette(
            routes=[Route("/{path:path}", self._dispatch, methods=["GET", "HEAD", "PUT", "POST", "DELETE"])]
        )

    async def __call__(self, scope: object, receive: object, send: object) -> None:
        await self.app(scope, receive, send)  # type: ignore[arg-type]

    def _target(self, request: Request) -> Target | None:
        match = _HOST.match(request.headers.get("host", ""))
        if match is None or (match["bucket"] is None and match["service"] != "ci"):
            return None
        raw_path = request.scope.get("raw_path", b"/").decode("latin-1").split("?", 1)[0]
        from urllib.parse import unquote

        key = unquote(raw_path)[1:]
        query = request.scope.get("query_string", b"").decode("latin-1")
        params = dict(parse_qsl(query, keep_blank_values=True))
        return Target(match["service"], match["bucket"] or "", match["region"], key, params, uuid.uuid4().hex)

    def _authenticate(self, request: Request, target: Target) -> Response | None:
        """``None`` when the signature verifies; else the error response COS would send."""
        header = request.headers.get("authorization", "")
        fields = dict(part.split("=", 1) for part in header.split("&") if "=" in part)
        if not header or "q-signature" not in fields:
            return error_response(403, "AccessDenied", "Authorization header is missing or malformed", target)
        credentials = self.credentials.get(fields.get("q-ak", ""))
        if credentials is None:
            return error_response(403, "InvalidAccessKeyId", "The access key id does not exist", target)
        start, _, end = fields.get("q-key-time", "").partition(";")
        now = time.time()
        if not (start.isdigit() and end.isdigit()) or not int(start) - self.clock_skew_seconds <= now <= int(end):
            return error_response(403, "AccessDenied", "Request has expired", target)
        if credentials.token is not None:
            token_header = "x-ci-security-token" if target.service == "ci" else "x-cos-security-token"
            if request.headers.get(token_header) != credentials.token:
                return error_response(403, "InvalidAccessKeyId", "The security token is missing or invalid", target)
        signed_names = [name for name in fields.get("q-header-list", "").split(";") if name]
        headers = [(name, request.headers.get(name, "")) for name in signed_names]
        query = request.scope.get("query_string", b"").decode("latin-1")
        params = parse_qsl(query, keep_blank_values=True)
        expected = cos_authorization(
            credentials, request.method, "/" + target.key, params, headers, fields["q-key-time"]
        )
        if expected.rsplit("q-signature=", 1)[-1] != fields["q-signature"]:
            return error_response(403, "SignatureDoesNotMatch", "The calculated signature does not match", target)
        return None

    async def _dispatch(self, request: Request) -> Response:
        target = self._target(request)
        if target is None:
            return error_response(400, "InvalidHost", "Host must be <bucket>.<cos|ci|pic>.<region>.myqcloud.com", None)
        refused = self._authenticate(request, target)
        if refused is not None:
            return refused
        service = self.services.get(target.service)
        if service is None:
            return error_response(501, "NotImplemented", f"no {target.service} service here", target)
        response = await service.handle(request, target)
        response.headers.setdefault(f"x-{'cos' if target.service == 'cos' else 'ci'}-request-id", target.request_id)
        return response
