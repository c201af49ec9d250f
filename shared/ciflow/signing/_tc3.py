"""Tencent Cloud API 3.0 signature (TC3-HMAC-SHA256): pure header builder, used for TDMQ actions."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone

from ._credentials import Credentials

__all__ = ["tc3_headers", "tc3_signature"]

_ALGORITHM = "TC3-HMAC-SHA256"


def _hmac256(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def tc3_signature(
    secret_key: str,
    *,
    service: str,
    host: str,
    payload: bytes,
    timestamp: int,
    content_type: str = "application/json",
    method: str = "POST",
    canonical_query: str = "",
) -> str:
    """The hex signature of one request; the payload must be the exact bytes that are sent."""
    date = datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%d")
    canonical_request = "\n".join(
        [
            method,
            "/",
            canonical_query,
            f"content-type:{content_type}\nhost:{host}\n",
            "content-type;host",
            hashlib.sha256(payload).hexdigest(),
        ]
    )
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = f"{_ALGORITHM}\n{timestamp}\n{scope}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
    signing_key = _hmac256(_hmac256(_hmac256(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    return hmac.new(signing_key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def tc3_headers(
    credentials: Credentials,
    *,
    service: str,
    host: str,
    action: str,
    version: str,
    region: str,
    payload: bytes,
    timestamp: int,
    content_type: str = "application/json",
) -> dict[str, str]:
    """Every header an API 3.0 POST needs, Authorization included."""
    signature = tc3_signature(
        credentials.secret_key,
        service=service,
        host=host,
        payload=payload,
        timestamp=timestamp,
        content_type=content_type,
    )
    date = datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%d")
    headers = {
        "Authorization": (
            f"{_ALGORITHM} Credential={credentials.secret_id}/{date}/{service}/tc3_request, "
            f"SignedHeaders=content-type;host, Signature={signature}"
        ),
        "Content-Type": content_type,
        "Host": host,
        "X-TC-Action": action,
        "X-TC-Timestamp": str(timestamp),
        "X-TC-Version": version,
        "X-TC-Region": region,
    }
    if credentials.token:
        headers["X-TC-Token"] = credentials.token
    return headers
