"""Invocation context on every log line: function name, request id, cold start, correlation ids."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import structlog

__all__ = ["bind_invocation", "bind_correlation", "correlation", "log_invocation", "is_cold_start"]

F = TypeVar("F", bound=Callable[..., Any])

_state = {"cold": True}


def is_cold_start() -> bool:
    """True until the first invocation of this process has been bound."""
    return _state["cold"]


def _context_value(context: Any, key: str) -> Any:
    if isinstance(context, Mapping):
        return context.get(key)
    return getattr(context, key, None)


def bind_invocation(context: Any) -> None:
    """Start a fresh logging context for one SCF invocation (SCF reuses the process between invocations)."""
    structlog.contextvars.clear_contextvars()
    fields = {
        "function_name": _context_value(context, "function_name"),
        "function_version": _context_value(context, "function_version"),
        "function_request_id": _context_value(context, "request_id"),
        "function_memory_size": _context_value(context, "memory_limit_in_mb"),
        "namespace": _context_value(context, "namespace"),
    }
    structlog.contextvars.bind_contextvars(
        cold_start=_state["cold"], **{k: v for k, v in fields.items() if v is not None}
    )
    _state["cold"] = False


def bind_correlation(**keys: Any) -> None:
    """Add correlation keys (``object_key``, ``job_id``, ``correlation_id``…) to every later line."""
    structlog.contextvars.bind_contextvars(**{k: v for k, v in keys.items() if v is not None})


@contextmanager
def correlation(**keys: Any) -> Iterator[None]:
    """Correlation keys for the lines logged inside the block only (one record of a multi-record event)."""
    tokens = structlog.contextvars.bind_contextvars(**{k: v for k, v in keys.items() if v is not None})
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)


def log_invocation(handler: F) -> F:
    """Decorate ``main_handler(event, context)``: bind the invocation, log its end or its failure."""
    log = structlog.get_logger("ciflow.handler")

    @functools.wraps(handler)
    def wrapper(event: Any, context: Any) -> Any:
        bind_invocation(context)
        try:
            result = handler(event, context)
        except Exception:
            log.exception("invocation failed")
            raise
        log.info("invocation finished")
        return result

    return wrapper  # type: ignore[return-value]
