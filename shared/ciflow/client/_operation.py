"""Operations are data: what to send and how to read the answer. Building the httpx.Request is pure."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar
from urllib.parse import quote

import httpx

from ..signing import SERVICE_EXTENSION
from ._endpoint import Endpoint, Service

__all__ = ["Operation", "RetryMode", "build_request", "encode_key_path", "encode_query", "header_items"]

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
    headers: dict[str, str] = {"Host": host}
    headers.update(operation.headers)
    if operation.body is not None and "Content-Type" not in headers and "content-type" not in headers:
        headers["Content-Type"] = "application/xml"
    return httpx.Request(
        operation.method,
        _parsed_url(url),
        headers=headers,
        content=operation.body,
        extensions={SERVICE_EXTENSION: operation.service},
    )


def header_items(headers: Mapping[str, str | None]) -> tuple[tuple[str, str], ...]:
    """Drop unset headers; keep the rest in order."""
    return tuple((k, v) for k, v in headers.items() if v is not None)
