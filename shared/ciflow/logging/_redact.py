"""Secrets never reach a log line: sensitive keys are masked and known secret values scrubbed from the output."""

from __future__ import annotations

import os
import re
from collections.abc import MutableMapping
from typing import Any

__all__ = ["REDACTED", "register_secret", "redact_sensitive_keys", "scrub_secret_values"]

REDACTED = "[REDACTED]"

_SENSITIVE_KEY = re.compile(r"secret|token|password|passwd|authorization|signature|credential|cookie|api[-_]?key", re.I)
# Signature material that may sit inside an otherwise harmless string (an Authorization value, a signed URL).
_SIGNATURE_PATTERNS = (
    re.compile(r"(q-signature=)[0-9a-fA-F]{20,}"),
    re.compile(r"(Signature=)[0-9a-fA-F]{20,}"),
    re.compile(r"(Signature=)[A-Za-z0-9+/%]{20,}={0,2}"),
    re.compile(r"(v1,)[A-Za-z0-9+/]{20,}={0,2}"),
    re.compile(r"(q-ak=)[A-Za-z0-9]{8,}"),
)
_ENVIRONMENT_SECRETS = ("TENCENTCLOUD_SECRETKEY", "TENCENTCLOUD_SESSIONTOKEN")
_MIN_SECRET_LENGTH = 6
_registered: set[str] = set()


def register_secret(value: str | None) -> None:
    """Scrub this value from every later log line (webhook secrets, callback tokens, passwords)."""
    if value and len(value) >= _MIN_SECRET_LENGTH:
        _registered.add(value)


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: REDACTED if _SENSITIVE_KEY.search(str(k)) else _mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask(item) for item in value]
    return value


def redact_sensitive_keys(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask values whose key names a secret, at any depth."""
    for key, value in list(event_dict.items()):
        event_dict[key] = REDACTED if _SENSITIVE_KEY.search(key) else _mask(value)
    return event_dict


def scrub_secret_values(_: Any, __: str, rendered: str) -> str:
    """structlog processor after rendering: remove live credentials, registered secrets and signatures."""
    secrets = set(_registered)
    for name in _ENVIRONMENT_SECRETS:
        value = os.environ.get(name)
        if value and len(value) >= _MIN_SECRET_LENGTH:
            secrets.add(value)
    for secret in sorted(secrets, key=len, reverse=True):
        if secret in rendered:
            rendered = rendered.replace(secret, REDACTED)
    for pattern in _SIGNATURE_PATTERNS:
        rendered = pattern.sub(rf"\g<1>{REDACTED}", rendered)
    return rendered
