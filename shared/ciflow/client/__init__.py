"""The HTTP client: operations built as pure data, signed and sent by a sync or an async client.

Building a request needs only ``Operation``/``build_request``; the clients (and their retry library) load
when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from ._deadline import Deadline
from ._endpoint import Endpoint, Service
from ._operation import Operation, RetryMode, build_request, encode_key_path, encode_query, header_items

if TYPE_CHECKING:
    from ._clients import DEFAULT_LIMITS, DEFAULT_TIMEOUT, AsyncCiClient, CiClient
    from ._exchange import RetryPolicy, StopAtDeadline, attempt_timeout, read_response

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUT",
    "AsyncCiClient",
    "CiClient",
    "Deadline",
    "Endpoint",
    "Operation",
    "RetryMode",
    "RetryPolicy",
    "Service",
    "StopAtDeadline",
    "attempt_timeout",
    "build_request",
    "encode_key_path",
    "encode_query",
    "header_items",
    "read_response",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "DEFAULT_LIMITS": "._clients",
        "DEFAULT_TIMEOUT": "._clients",
        "AsyncCiClient": "._clients",
        "CiClient": "._clients",
        "RetryPolicy": "._exchange",
        "StopAtDeadline": "._exchange",
        "attempt_timeout": "._exchange",
        "read_response": "._exchange",
    },
)
