"""The sync and async clients: the same operations, signed by the same Auth, sent over pooled connections."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import httpx
from tenacity import AsyncRetrying, Retrying

from ..signing import CosAuth, Credentials, CredentialsProvider
from ._deadline import Deadline
from ._endpoint import Endpoint
from ._exchange import RetryPolicy, attempt_timeout, read_response, retrying_kwargs, transport_error
from ._operation import Operation, build_request

__all__ = ["CiClient", "AsyncCiClient", "DEFAULT_TIMEOUT", "DEFAULT_LIMITS"]

T = TypeVar("T")

#: Explicit everywhere: SCF functions have hard time limits, so nothing may wait forever.
DEFAULT_TIMEOUT = httpx.Timeout(connect=3.0, read=15.0, write=15.0, pool=3.0)
#: Enough for bounded concurrent submissions from one invocation; idle connections survive warm starts.
DEFAULT_LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=64, keepalive_expiry=60.0)


#: Connection pools of the sync client: its connections split over this many independent pools.
POOL_SHARDS = 8


class _ShardedTransport(httpx.BaseTransport):
    """``DEFAULT_LIMITS`` as ``POOL_SHARDS`` small pools, each thread keeping to one.

    httpcore's pool does its bookkeeping under one lock, in time that grows with the connections it holds: 32
    threads sending through one 64-connection pool spend more time queueing for that lock than on the wire. Small
    pools keep the same connections (every one kept alive between invocations) without the contention.
    """

    def __init__(self, limits: httpx.Limits, shards: int) -> None:
        per_shard = httpx.Limits(
            max_connections=-(-(limits.max_connections or 64) // shards),
            max_keepalive_connections=-(-(limits.max_keepalive_connections or 64) // shards),
            keepalive_expiry=limits.keepalive_expiry,
        )
        self._shards = [httpx.HTTPTransport(limits=per_shard) for _ in range(shards)]
        self._next = itertools.count()
        self._mine = threading.local()

    def _shard(self) -> httpx.HTTPTransport:
        shard: httpx.HTTPTransport | None = getattr(self._mine, "shard", None)
        if shard is None:
            shard = self._mine.shard = self._shards[next(self._next) % len(self._shards)]
        return shard

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._shard().handle_request(request)

    def close(self) -> None:
        for shard in self._shards:
            shard.close()


class _Cookies(httpx.Cookies):
    """httpx's cookie jar, minus its cost on answers that set no cookie (every COS and CI answer).

    httpx hands every response to ``extract_cookies``, which wraps request and response for ``http.cookiejar``
    (a ``urllib`` Request with its URL parsed again, an ``email`` Message of every header) before the jar finds
    no ``Set-Cookie``: tens of microseconds per request, more than signing it. Without such a header the jar
    would add nothing, so skipping it changes nothing; a response that does set one is handled as before.
    """

    def extract_cookies(self, response: httpx.Response) -> None:
        headers = response.headers
        if "set-cookie" in headers or "set-cookie2" in headers:
            super().extract_cookies(response)


def _without_idle_cookie_cost(http: httpx.Client | httpx.AsyncClient) -> None:
    # The client's jar is private state (``cookies=`` copies into a plain ``httpx.Cookies``); its type is checked
    # by the client tests, so an httpx that renames it fails there, not silently here.
    http._cookies = _Cookies(http.cookies.jar)


class _ClientBase:
    def __init__(
        self,
        endpoint: Endpoint,
        credentials: Credentials | CredentialsProvider,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.endpoint = endpoint
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.auth = CosAuth(credentials, clock=clock)

    def build(self, operation: Operation[Any], deadline: Deadline | None) -> httpx.Request:
        request = build_request(operation, self.endpoint)
        request.extensions["timeout"] = attempt_timeout(self.timeout, deadline).as_dict()
        return request


class CiClient(_ClientBase):
    """Synchronous client. Keep one per process (module level in a handler) to reuse connections."""

    def __init__(
        self,
        endpoint: Endpoint,
        credentials: Credentials | CredentialsProvider,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(endpoint, credentials, timeout=timeout, retry=retry, clock=clock)
        pools = transport or _ShardedTransport(DEFAULT_LIMITS, POOL_SHARDS)
        self._http = httpx.Client(timeout=timeout, limits=DEFAULT_LIMITS, transport=pools)
        _without_idle_cookie_cost(self._http)

    def send(self, operation: Operation[T], *, deadline: Deadline | None = None) -> T:
        """Send, retrying as the operation allows within ``deadline``; the result or a typed CiflowError."""
        for attempt in Retrying(**retrying_kwargs(self.retry, operation, deadline)):
            with attempt:
                request = self.build(operation, deadline)
                try:
                    response = self._http.send(request, auth=self.auth)
                except httpx.HTTPError as exc:
                    raise transport_error(operation, exc) from exc
                return read_response(operation, response)
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    def paginate(self, operation: Operation[T], *, deadline: Deadline | None = None) -> Iterator[T]:
        """Every page of a paged operation, in order."""
        current: Operation[T] | None = operation
        while current is not None:
            page = self.send(current, deadline=deadline)
            yield page
            current = current.next_page(page) if current.next_page else None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncCiClient(_ClientBase):
    """Asynchronous client over the same operations; for concurrent submissions from one invocation."""

    def __init__(
        self,
        endpoint: Endpoint,
        credentials: Credentials | CredentialsProvider,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(endpoint, credentials, timeout=timeout, retry=retry, clock=clock)
        self._http = httpx.AsyncClient(timeout=timeout, limits=DEFAULT_LIMITS, transport=transport)
        _without_idle_cookie_cost(self._http)

    async def send(self, operation: Operation[T], *, deadline: Deadline | None = None) -> T:
        """Send, retrying as the operation allows within ``deadline``; the result or a typed CiflowError."""
        async for attempt in AsyncRetrying(**retrying_kwargs(self.retry, operation, deadline)):
            with attempt:
                request = self.build(operation, deadline)
                try:
                    response = await self._http.send(request, auth=self.auth)
                except httpx.HTTPError as exc:
                    raise transport_error(operation, exc) from exc
                return read_response(operation, response)
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    async def paginate(self, operation: Operation[T], *, deadline: Deadline | None = None) -> AsyncIterator[T]:
        """Every page of a paged operation, in order."""
        current: Operation[T] | None = operation
        while current is not None:
            page = await self.send(current, deadline=deadline)
            yield page
            current = current.next_page(page) if current.next_page else None

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncCiClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
