"""Faults scoped to object-name prefixes: a share of COS ``PUT``/``DELETE`` requests on keys under the prefixes
answered ``503`` before the service sees them (nothing happens), or cut after it did the work (the write took
effect; the answer's headers promise a body that never comes and the connection closes)."""

import threading
from random import Random
from typing import Any
from urllib.parse import unquote

from ._app import Target, error_response

__all__ = ["PrefixFaultInjector", "WRITE_METHODS"]

#: The requests these faults hit: writes and deletes of one object.
WRITE_METHODS = frozenset({"PUT", "DELETE"})


def _key(scope: dict[str, Any]) -> str:
    raw_path = bytes(scope.get("raw_path") or scope.get("path", "/").encode()).decode("latin-1")
    return unquote(raw_path.split("?", 1)[0])[1:]


def _is_cos(scope: dict[str, Any]) -> bool:
    host = next((v.decode("latin-1").lower() for k, v in scope.get("headers", []) if k.lower() == b"host"), "")
    return ".cos." in host or host.startswith("cos.")


class PrefixFaultInjector:
    """ASGI middleware over the emulator: ``error_rate`` of the COS writes under ``prefixes`` get 503 without
    reaching the service; ``cut_rate`` of them reach it and then lose their answer. ``injected`` counts both."""

    def __init__(self, app: Any, prefixes: tuple[str, ...], error_rate: float, cut_rate: float, rng: Random) -> None:
        self.app = app
        self.prefixes = prefixes
        self.error_rate = error_rate
        self.cut_rate = cut_rate
        self._rng = rng
        self._lock = threading.Lock()
        self.injected = {"error": 0, "cut": 0}

    def _hit(self, scope: dict[str, Any]) -> bool:
        if scope.get("type") != "http" or scope.get("method") not in WRITE_METHODS or not _is_cos(scope):
            return False
        return _key(scope).startswith(self.prefixes)

    def _draw(self) -> str | None:
        with self._lock:
            roll = self._rng.random()
        if roll < self.error_rate:
            fault = "error"
        elif roll < self.error_rate + self.cut_rate:
            fault = "cut"
        else:
            return None
        with self._lock:
            self.injected[fault] += 1
        return fault

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        fault = self._draw() if self._hit(scope) else None
        if fault is None:
            await self.app(scope, receive, send)
        elif fault == "error":
            target = Target("cos", "", "", _key(scope), {}, "fault-marker")
            message = "Please reduce your request rate (injected on a marker write)"
            await error_response(503, "ServiceUnavailable", message, target)(scope, receive, send)
        else:
            await self._cut(scope, receive, send)

    async def _cut(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Serve the request, then send its status with a body length one past what follows, and stop: the
        server closes the connection and the client cannot tell whether the write happened."""
        messages: list[dict[str, Any]] = []

        async def keep(message: dict[str, Any]) -> None:
            messages.append(message)

        await self.app(scope, receive, keep)
        start = next((m for m in messages if m["type"] == "http.response.start"), None)
        if start is None:
            return
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        status = 200 if start["status"] in (204, 304) else start["status"]  # a 204 cannot promise a body
        await send({**start, "status": status, "headers": [*headers, (b"content-length", b"1")]})
