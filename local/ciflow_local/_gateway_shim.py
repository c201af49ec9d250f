"""API Gateway, locally: ``POST /callback`` becomes SCF's API Gateway event for the callback function, and its
answer an integrated response."""

import base64
import threading
import time
import traceback
import uuid
from collections.abc import Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._hosting import CALLBACK_FUNCTION, FunctionHost, Invocation
from .emulator import BackgroundServer

__all__ = ["ApiGatewayShim", "api_gateway_event", "integrated_response"]

_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/x-www-form-urlencoded")


def _is_text(content_type: str, body: bytes) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    textual = kind.startswith(_TEXT_TYPES) or kind.endswith(("+xml", "+json")) or not kind
    if not textual:
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def api_gateway_event(
    method: str,
    path: str,
    headers: Mapping[str, str],
    query: Mapping[str, list[str]],
    body: bytes,
    *,
    source_ip: str = "127.0.0.1",
    stage: str = "release",
) -> dict[str, Any]:
    """SCF's integrated API Gateway event for one HTTP request (body base64 when it is not text)."""
    text = _is_text(headers.get("content-type", ""), body)
    flat_query = {name: values[-1] if len(values) == 1 else values for name, values in query.items()}
    return {
        "requestContext": {
            "serviceId": "service-ciflowlocal",
            "path": path,
            "httpMethod": method,
            "requestId": str(uuid.uuid4()),
            "identity": {"secretId": ""},
            "sourceIp": source_ip,
            "stage": stage,
        },
        "headers": {name.lower(): value for name, value in headers.items()},
        "body": body.decode("utf-8") if text else base64.b64encode(body).decode("ascii"),
        "isBase64Encoded": not text,
        "pathParameters": {},
        "queryStringParameters": flat_query,
        "headerParameters": {},
        "stageVariables": {"stage": stage},
        "path": path,
        "queryString": flat_query,
        "httpMethod": method,
    }


def integrated_response(answer: Any) -> Response:
    """The HTTP response API Gateway makes of a function's integrated answer (502 for anything else)."""
    if not isinstance(answer, Mapping) or not isinstance(answer.get("statusCode"), int):
        return Response('{"message":"invalid integrated response"}', 502, media_type="application/json")
    body = answer.get("body") or ""
    raw = base64.b64decode(body) if answer.get("isBase64Encoded") else str(body).encode("utf-8")
    headers = {str(k): str(v) for k, v in (answer.get("headers") or {}).items()}
    return Response(raw, status_code=answer["statusCode"], headers=headers)


class ApiGatewayShim:
    """API Gateway in front of the callback function: ``POST <url>/callback`` -> SCF event -> integrated response."""

    def __init__(self, host: FunctionHost, function: str = CALLBACK_FUNCTION, *, path: str = "/callback") -> None:
        self.host = host
        self.function = function
        self.path = path
        self.invocations: list[Invocation] = []
        self._lock = threading.Lock()
        app = Starlette(routes=[Route(path, self._handle, methods=["GET", "POST", "PUT", "DELETE"])])
        self._server = BackgroundServer(app)

    @property
    def url(self) -> str:
        """Where CI is told to POST: the callback URL without its token."""
        return self._server.url + self.path

    def start(self) -> str:
        self._server.start()
        return self.url

    def stop(self) -> None:
        self._server.stop()

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        query: dict[str, list[str]] = {}
        for name, value in request.query_params.multi_items():
            query.setdefault(name, []).append(value)
        event = api_gateway_event(
            request.method,
            self.path,
            dict(request.headers),
            query,
            body,
            source_ip=request.client.host if request.client else "127.0.0.1",
        )
        record = Invocation(self.function, "", 1, time.time())
        with self._lock:
            self.invocations.append(record)
        try:
            answer = await run_in_threadpool(self.host.call, self.function, event)
        except Exception as exc:  # API Gateway answers 502 when the function errors
            record.error = f"{type(exc).__name__}: {exc}"
            record.finished = time.time()
            traceback.print_exc(file=self.host.log_stream)
            return Response('{"message":"function error"}', 502, media_type="application/json")
        record.result, record.finished = answer, time.time()
        return integrated_response(answer)
