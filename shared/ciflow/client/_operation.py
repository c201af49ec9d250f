"""Operations are data: what to send and how to read the answer. Building the httpx.Request is pure.

What goes on the wire, decided once here for every operation (the official SDK, cos-python-sdk-v5, is the
reference; ``tests/functional/wire`` compares the two request by request):

* **One header per name.** Names are compared case-insensitively and the last value given wins, so a
  caller's ``content-type`` replaces an operation's own ``Content-Type`` (the SDK merges the same way,
  through requests' case-insensitive headers). Two lines with one name would be signed comma-joined and
  parsed by the server in an order nobody chose.
* **A caller's ``Host`` wins too**, and is signed: it names the virtual host (bucket) the request is for,
  while the connection still goes to the endpoint's URL. This is what the SDK does in its default
  configuration (a ``Host`` in its headers is sent and signed); only there is no second, conflicting one.
* **Header values are trimmed** of leading and trailing spaces and tabs before they are signed and sent.
  HTTP defines a field value without that whitespace (RFC 9110 5.5), so the trimmed value is the one the
  server reads and checks the signature against. The SDK differs: it refuses leading whitespace
  (requests' ``InvalidHeader``) and sends and signs trailing whitespace as is, which a server that trims
  cannot verify. Values containing CR, LF or NUL are refused with ``ValueError`` before anything is sent.
* **Values are UTF-8 on the wire**, like the SDK's (``format_values``), so non-ASCII metadata works; the
  signature covers the percent-encoded UTF-8 bytes, as the SDK's does.
* **Object keys**: see ``ciflow.operations`` (one leading ``/`` is dropped, as the SDK does); every other
  character, ``.``/``..`` segments included, survives to the server (``encode_key_path``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar
from urllib.parse import quote

import httpx

from ..signing import SERVICE_EXTENSION
from ._endpoint import Endpoint, Service

__all__ = [
    "Operation",
    "RetryMode",
    "build_request",
    "encode_key_path",
    "encode_query",
    "header_items",
    "unique_headers",
]

T = TypeVar("T")

#: ``idempotent`` calls are retried on 5xx, 429 and network errors; ``submit`` calls (creating a job,
#: which costs money) only when the request provably never reached the server or was refused unprocessed.
RetryMode = Literal["idempotent", "submit"]

_QUERY_SAFE = "-_.~"


@dataclass(frozen=True)
class Operation(Generic[T]):
    """One API call: method, service, decoded path, params, headers, body, and the response reader."""

    name: str
    method: str
    service: Service
    path: str
    read: Callable[[httpx.Response], T]
    params: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    retry: RetryMode = "idempotent"
    #: Given this page's result, the operation for the next page (``None`` when done).
    next_page: Callable[[T], Operation[T] | None] | None = field(default=None, compare=False)


def encode_key_path(path: str) -> str:
    """Percent-encode a decoded path so any object key (``?``, ``#``, ``%``, ``+``, spaces, ``..``) survives.

    ``.`` and ``..`` segments are encoded too: URL normalisation would otherwise remove them from the key.
    """
    encoded = quote(path, safe="/-_.~")
    if "." not in path:
        return encoded
    return "/".join(
        segment.replace(".", "%2E") if segment in (".", "..") else segment for segment in encoded.split("/")
    )


def encode_query(params: Iterable[tuple[str, str]]) -> str:
    """``k=v`` pairs, RFC 3986-encoded; an empty value is sent bare (``?acl``), as COS documents it."""
    return "&".join(
        quote(k, _QUERY_SAFE) if v == "" else f"{quote(k, _QUERY_SAFE)}={quote(v, _QUERY_SAFE)}" for k, v in params
    )


@functools.lru_cache(maxsize=512)
def _parsed_url(url: str) -> httpx.URL:
    # httpx parses URLs in pure Python (tens of microseconds); job APIs hit the same few URLs over and
    # over, and URL objects are immutable, so a parsed one can be shared.
    return httpx.URL(url)


def build_request(operation: Operation[T], endpoint: Endpoint) -> httpx.Request:
    """The unsigned httpx.Request for an operation (signing is the client's Auth)."""
    base, host = endpoint.base_url(operation.service)
    url = base + encode_key_path(operation.path)
    if operation.params:
        url = f"{url}?{encode_query(operation.params)}"
    headers = _merge((("Host", host),), operation.headers)
    if operation.body is not None and "content-type" not in headers:
        headers["content-type"] = ("Content-Type", "application/xml")
    return httpx.Request(
        operation.method,
        _parsed_url(url),
        headers=[(name.encode("ascii"), value.encode()) for name, value in headers.values()],
        content=operation.body,
        extensions={SERVICE_EXTENSION: operation.service},
    )


_OWS = " \t"
_FORBIDDEN_IN_VALUES = re.compile(r"[\r\n\x00]")


def _merge(*groups: Iterable[tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """Lower-cased name -> (name as last given, trimmed value); a later value replaces an earlier one."""
    merged: dict[str, tuple[str, str]] = {}
    for group in groups:
        for name, value in group:
            if _FORBIDDEN_IN_VALUES.search(value):
                raise ValueError(f"header {name!r}: a value must not contain CR, LF or NUL: {value!r}")
            merged[name.lower()] = (name, value.strip(_OWS))
    return merged


def unique_headers(*groups: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """One header per name (case-insensitive), the last value given winning, values trimmed."""
    return tuple(_merge(*groups).values())


def header_items(headers: Mapping[str, str | None]) -> tuple[tuple[str, str], ...]:
    """Drop unset headers; one per name (case-insensitive, the last one wins), in order of first mention."""
    return unique_headers((k, v) for k, v in headers.items() if v is not None)
