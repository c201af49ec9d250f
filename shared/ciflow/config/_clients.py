"""One client per process and settings, so warm invocations reuse pooled connections."""

from __future__ import annotations

import functools

from ..client import CiClient
from ..signing import environment_credentials
from ._settings import CoreSettings

__all__ = ["shared_client"]


@functools.lru_cache(maxsize=8)
def shared_client(settings: CoreSettings) -> CiClient:
    """The process-wide sync client for these settings; credentials are re-read from the environment per request."""
    return CiClient(
        settings.client_endpoint(),
        environment_credentials(),
        timeout=settings.client_timeout(),
        retry=settings.retry_policy(),
    )
