"""Server-side encryption headers: validated, remembered with the object, echoed — never applied.

The emulator keeps bytes in the clear. ``x-cos-server-side-encryption: AES256`` (SSE-COS) is stored and sent
back on every answer about the object. SSE-C (``x-cos-server-side-encryption-customer-algorithm`` /
``-key`` / ``-key-MD5``) is checked as COS checks it (AES256, a 32-byte base64 key whose MD5 the third header
states) and only the key's MD5 is stored; reads of such an object must present the same key (400 without it,
403 with another), and the algorithm and key MD5 are echoed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from starlette.requests import Request

from ._cos_common import RefusedError

__all__ = ["sse_headers", "sse_of_request", "check_sse_read"]

_SSE = "x-cos-server-side-encryption"
_ALGORITHM = "x-cos-server-side-encryption-customer-algorithm"
_KEY = "x-cos-server-side-encryption-customer-key"
_KEY_MD5 = "x-cos-server-side-encryption-customer-key-md5"


def _customer_key_md5(request: Request, prefix: str = "") -> str | None:
    """The base64 MD5 of a valid SSE-C key the request carries, ``None`` without SSE-C headers."""
    names = [name.replace("x-cos-", prefix or "x-cos-", 1) for name in (_ALGORITHM, _KEY, _KEY_MD5)]
    values = [request.headers.get(name) for name in names]
    if not any(values):
        return None
    algorithm, key, key_md5 = values
    if algorithm != "AES256":
        raise RefusedError(400, "InvalidArgument", f"{names[0]} must be AES256")
    try:
        raw = base64.b64decode(key or "", validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise RefusedError(400, "InvalidArgument", f"{names[1]} must be a base64-encoded 256-bit key")
    actual = base64.b64encode(hashlib.md5(raw).digest()).decode()
    if key_md5 != actual:
        raise RefusedError(400, "InvalidArgument", f"{names[2]} does not match the key's MD5")
    return actual


def sse_of_request(request: Request) -> dict[str, Any]:
    """What a write asks for, as the object's ``extra`` entries (``sse`` or ``sse_c_key_md5``)."""
    extra: dict[str, Any] = {}
    sse = request.headers.get(_SSE)
    if sse is not None:
        if sse != "AES256":
            raise RefusedError(400, "InvalidArgument", f"{_SSE} must be AES256, not {sse!r}")
        extra["sse"] = sse
    key_md5 = _customer_key_md5(request)
    if key_md5 is not None:
        if sse is not None:
            raise RefusedError(400, "InvalidArgument", "SSE-COS and SSE-C cannot be combined")
        extra["sse_c_key_md5"] = key_md5
    return extra


def sse_headers(extra: dict[str, Any]) -> dict[str, str]:
    """The encryption headers of every answer about an object (or upload) written with ``extra``."""
    if "sse" in extra:
        return {_SSE: str(extra["sse"])}
    if "sse_c_key_md5" in extra:
        return {_ALGORITHM: "AES256", "x-cos-server-side-encryption-customer-key-MD5": str(extra["sse_c_key_md5"])}
    return {}


def check_sse_read(request: Request, extra: dict[str, Any], prefix: str = "") -> None:
    """An SSE-C object (its ``extra``) is read, or copied with ``prefix="x-cos-copy-source-"``, with its key only."""
    expected = extra.get("sse_c_key_md5")
    if expected is None:
        return
    given = _customer_key_md5(request, prefix)
    if given is None:
        raise RefusedError(
            400, "InvalidRequest", "The object was stored using SSE-C; the request must provide the same key."
        )
    if given != expected:
        raise RefusedError(403, "AccessDenied", "The SSE-C key does not match the one the object was stored with.")
