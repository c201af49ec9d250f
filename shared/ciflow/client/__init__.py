"""The HTTP client: operations built as pure data, signed and sent by a sync or an async client."""

from ._clients import DEFAULT_LIMITS, DEFAULT_TIMEOUT, AsyncCiClient, CiClient
from ._deadline import Deadline
from ._endpoint import Endpoint, Service
from ._exchange import RetryPolicy, read_response
from ._operation import Operation, RetryMode, build_request, encode_key_path, encode_query

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
    "build_request",
    "encode_key_path",
    "encode_query",
    "read_response",
]
