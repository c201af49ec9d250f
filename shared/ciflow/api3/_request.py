"""API 3.0 requests: a JSON POST to ``/`` signed with TC3-HMAC-SHA256, and ``{"Response": …}`` answers read."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ..errors import CiflowError
from ..signing import Credentials, tc3_headers

__all__ = ["API3_CONTENT_TYPE", "Api3Error", "Api3Target", "api3_request", "read_api3"]

API3_CONTENT_TYPE = "application/json"
#: Error codes a later attempt may clear, by prefix (throttling, internal errors, a backend not ready).
_TRANSIENT_PREFIXES = ("RequestLimitExceeded", "InternalError", "ResourceUnavailable", "FailedOperation.Timeout")


class Api3Error(CiflowError):
    """An API 3.0 call refused (``code`` from ``Response.Error``) or not answered as API 3.0 answers."""

    def __init__(self, action: str, code: str, message: str, *, request_id: str = "", transient: bool) -> None:
        super().__init__(f"{action}: {code}: {message} (request id {request_id or '-'})")
        self.action, self.code, self.message, self.request_id = action, code, message, request_id
        self.transient = transient


@dataclass(frozen=True)
class Api3Target:
    """Where a product's API 3.0 requests go: ``url`` is sent to, ``host`` is signed and sent in ``Host``
    (they differ only when an emulator or proxy stands in for the product's host)."""

    url: str
    host: str
    service: str
    version: str
    region: str


def api3_request(
    target: Api3Target, action: str, document: Mapping[str, Any], credentials: Credentials, *, timestamp: int
) -> httpx.Request:
    """The signed POST of ``document`` (compact JSON, UTF-8) as ``action``; pure apart from its inputs."""
    payload = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    headers = tc3_headers(
        credentials,
        service=target.service,
        host=target.host,
        action=action,
        version=target.version,
        region=target.region,
        payload=payload,
        timestamp=timestamp,
        content_type=API3_CONTENT_TYPE,
    )
    return httpx.Request("POST", httpx.URL(target.url).copy_with(path="/"), content=payload, headers=headers)


def read_api3(action: str, response: httpx.Response) -> dict[str, Any]:
    """``Response`` of a successful answer; ``Api3Error`` for an error answer, a 5xx/429 or a non-API body."""
    status = response.status_code
    if status != 200:
        snippet = response.text[:200].strip()
        raise Api3Error(action, f"HTTP{status}", snippet, transient=status >= 500 or status == 429)
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    answer = body.get("Response") if isinstance(body, dict) else None
    if not isinstance(answer, dict):
        snippet = response.text[:200]
        raise Api3Error(action, "NotApi3", f"HTTP 200 but not an API 3.0 answer: {snippet!r}", transient=False)
    request_id = str(answer.get("RequestId") or "")
    error = answer.get("Error")
    if isinstance(error, dict):
        code = str(error.get("Code") or "Unknown")
        transient = code.startswith(_TRANSIENT_PREFIXES)
        raise Api3Error(action, code, str(error.get("Message") or ""), request_id=request_id, transient=transient)
    return answer
