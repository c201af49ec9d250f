"""API Gateway integrated requests and responses as SCF sees them: headers in any case, body maybe base64."""

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._errors import EventError

__all__ = ["ApiRequest", "parse_api_request", "api_response"]

#: API Gateway refuses larger requests; anything bigger is not from it.
MAX_BODY_BYTES = 6 * 1024 * 1024


@dataclass(frozen=True)
class ApiRequest:
    """One integrated request: method, path, lower-cased headers, query parameters and the raw body bytes."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    request_id: str | None = None
    source_ip: str | None = None

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


def _string_map(value: Any, *, lower: bool) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    out: dict[str, str] = {}
    for key, item in value.items():
        if item is None:
            continue
        text = ",".join(str(v) for v in item) if isinstance(item, list) else str(item)
        out[str(key).lower() if lower else str(key)] = text
    return out


def parse_api_request(event: Any, *, max_body_bytes: int = MAX_BODY_BYTES) -> ApiRequest:
    """Read SCF's API Gateway event; a malformed one (or a bad base64 body) is an ``EventError``."""
    if not isinstance(event, Mapping):
        raise EventError("API Gateway event is not an object")
    raw_context = event.get("requestContext")
    context: Mapping[str, Any] = raw_context if isinstance(raw_context, Mapping) else {}
    method = str(event.get("httpMethod") or context.get("httpMethod") or "").upper()
    if not method:
        raise EventError("API Gateway event has no httpMethod")
    raw_body = event.get("body")
    if raw_body is None:
        body = b""
    elif isinstance(raw_body, str):
        if event.get("isBase64Encoded") is True or str(event.get("isBase64Encoded")).lower() == "true":
            try:
                body = base64.b64decode(raw_body, validate=True)
            except (binascii.Error, ValueError):
                raise EventError("isBase64Encoded is set but the body is not base64") from None
        else:
            body = raw_body.encode()
    else:
        raise EventError("API Gateway body is not a string")
    if len(body) > max_body_bytes:
        raise EventError(f"body of {len(body)} bytes is over the {max_body_bytes}-byte limit")
    query = _string_map(event.get("queryStringParameters"), lower=False) or _string_map(
        event.get("queryString"), lower=False
    )
    return ApiRequest(
        method=method,
        path=str(event.get("path") or context.get("path") or "/"),
        headers=_string_map(event.get("headers"), lower=True),
        query=query,
        body=body,
        request_id=context.get("requestId"),
        source_ip=context.get("sourceIp"),
    )


def api_response(status: int, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The integrated response API Gateway expects (anything else becomes its own 5xx)."""
    return {
        "isBase64Encoded": False,
        "statusCode": status,
        "headers": {"Content-Type": "application/json; charset=utf-8"},
        "body": json.dumps(body or {}, ensure_ascii=False, default=str),
    }
