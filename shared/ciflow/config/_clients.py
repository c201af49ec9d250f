"""One client per process and endpoint, so warm invocations reuse pooled connections."""

import threading

from ..client import CiClient, Endpoint, RetryPolicy
from ..signing import environment_credentials
from ._settings import CoreSettings, timeout_of

__all__ = ["shared_client", "close_shared_clients"]

_Key = tuple[Endpoint, float, float, RetryPolicy]
_clients: dict[_Key, CiClient] = {}
# Handlers start records on a thread pool: without the lock two cold threads could each build (and leak) one.
_lock = threading.Lock()


def shared_client(settings: CoreSettings) -> CiClient:
    """The process-wide sync client for these settings; credentials are re-read from the environment per request."""
    # Keyed on what shapes the client, not the whole settings object (handler settings hold lists).
    key = (settings.client_endpoint(), settings.connect_timeout, settings.read_timeout, settings.retry_policy())
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = CiClient(
                key[0], environment_credentials(), timeout=timeout_of(key[1], key[2]), retry=key[3]
            )
        return client


def close_shared_clients() -> None:
    """Close and forget every shared client (local tooling that hosts functions and then shuts down)."""
    with _lock:
        clients = list(_clients.values())
        _clients.clear()
    for client in clients:
        client.close()
