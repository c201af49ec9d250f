"""Compact, signed UserData: the route and correlation id a job carries to its callback, forgery-evident.

Part of the runtime layer: the upload pipeline signs it, ``results`` verifies it, ``routing`` re-exports it.

Format ``cf1.<route>.<correlation>.<step>.<signature>``: printable ASCII, well under CI's 1024 limit, and
the same for every redelivery of one upload (so duplicates can be found by it).
"""

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import DecodeError

__all__ = ["RouteTag", "ForgedUserDataError", "encode_user_data", "decode_user_data", "correlation_id_for"]

_VERSION = "cf1"
_PART = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SIGNATURE_CHARS = 22  # 132 bits of HMAC-SHA256, base64url


class ForgedUserDataError(DecodeError):
    """UserData that is not ours, or whose signature does not verify with any configured secret."""


@dataclass(frozen=True)
class RouteTag:
    """Where a job's result must go (``route``), which upload it belongs to, and which step it was."""

    route: str
    correlation_id: str
    step: str


def correlation_id_for(identity: str) -> str:
    """A short, stable id for an upload identity (``bucket/key@version``): 20 hex chars of its SHA-256."""
    return hashlib.sha256(identity.encode()).hexdigest()[:20]


def _signature(secret: str, body: str) -> str:
    digest = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:_SIGNATURE_CHARS]


def encode_user_data(tag: RouteTag, secret: str) -> str:
    """The signed UserData string for a job."""
    for name, value in (("route", tag.route), ("correlation id", tag.correlation_id), ("step", tag.step)):
        if not _PART.match(value):
            raise ValueError(f"{name} must be 1-64 of [A-Za-z0-9_-], got {value!r}")
    if not secret:
        raise ValueError("a UserData secret is required")
    body = f"{_VERSION}.{tag.route}.{tag.correlation_id}.{tag.step}"
    return f"{body}.{_signature(secret, body)}"


def decode_user_data(text: str, secrets: Iterable[str]) -> RouteTag:
    """Verify and read UserData; any of ``secrets`` may have signed it (rotation keeps two valid)."""
    parts = text.split(".")
    if len(parts) != 5 or parts[0] != _VERSION or not all(_PART.match(p) for p in parts[1:4]):
        raise ForgedUserDataError("UserData is not in ciflow's format")
    body, signature = text.rsplit(".", 1)
    if not any(hmac.compare_digest(_signature(secret, body), signature) for secret in secrets if secret):
        raise ForgedUserDataError("UserData signature does not verify")
    return RouteTag(route=parts[1], correlation_id=parts[2], step=parts[3])
