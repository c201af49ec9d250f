"""One client per process and endpoint, so warm invocations reuse pooled connections."""

import functools

from ..client import CiClient, Endpoint, RetryPolicy
from ..signing import environment_credentials
from ._settings import CoreSettings, timeout_of

__all__ = ["shared_client"]


def shared_client(settings: CoreSettings) -> CiClient:
    """The process-wide sync client for these settings; credentials are re-read from the environment per request."""
    return _client(settings.client_endpoint(), settings.connect_timeout, settings.read_timeout, settings.retry_policy())


@functools.lru_cache(maxsize=8)
def _client(endpoint: Endpoint, connect_timeout: float, read_timeout: float, retry: RetryPolicy) -> CiClient:
    # Keyed on what shapes the client, not the whole settings object (handler settings hold lists).
    return CiClient(endpoint, environment_credentials(), timeout=timeout_of(connect_timeout, read_timeout), retry=retry)
