"""API Gateway integrated requests and responses as SCF sees them: headers in any case, body maybe base64."""

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._errors import BodyTooLargeError, EventError

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


def _is_base64(event: Mapping[str, Any]) -> bool:
    return event.get("isBase64Encoded") is True or str(event.get("isBase64Encoded")).lower() == "true"


def _body(event: Mapping[str, Any], max_body_bytes: int) -> bytes:
    """The raw body bytes, its size checked before it is decoded; ``BodyTooLargeError`` over the limit.

    Text that cannot be UTF-8 (a lone surrogate) is kept byte for byte (``surrogatepass``) rather than
    refused here, so the caller still checks the token first and the body's parser refuses the bytes.
    """
    raw_body = event.get("body")
    if raw_body is None:
        return b""
    if not isinstance(raw_body, str):
        raise EventError("API Gateway body is not a string")
    encoded = _is_base64(event)
    # A lower bound of the size, known before any work: base64 holds 3 bytes per 4 characters (less up to 2 of
    # padding); a character is at least one UTF-8 byte.
    estimate = len(raw_body) // 4 * 3 - 2 if encoded else len(raw_body)
    if estimate > max_body_bytes:
        raise BodyTooLargeError(estimate, max_body_bytes)
    if encoded:
        try:
            body = base64.b64decode(raw_body, validate=True)
        except (binascii.Error, ValueError):
            raise EventError("isBase64Encoded is set but the body is not base64") from None
    else:
        body = raw_body.encode("utf-8", "surrogatepass")
    if len(body) > max_body_bytes:
        raise BodyTooLargeError(len(body), max_body_bytes)
    return body


def parse_api_request(event: Any, *, max_body_bytes: int = MAX_BODY_BYTES) -> ApiRequest:
    """Read SCF's API Gateway event; a malformed one (or a bad base64 body) is an ``EventError``.

    A body over ``max_body_bytes`` is a ``BodyTooLargeError`` (an ``EventError``), raised before decoding.
    """
    if not isinstance(event, Mapping):
        raise EventError("API Gateway event is not an object")
    raw_context = event.get("requestContext")
    context: Mapping[str, Any] = raw_context if isinstance(raw_context, Mapping) else {}
    method = str(event.get("httpMethod") or context.get("httpMethod") or "").upper()
    if not method:
        raise EventError("API Gateway event has no httpMethod")
    body = _body(event, max_body_bytes)
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
