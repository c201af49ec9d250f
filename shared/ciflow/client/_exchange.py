"""What sync and async clients share: reading answers, typing failures, and when to try again."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from tenacity import RetryCallState, retry_if_exception, stop_after_attempt, wait_exponential_jitter
from tenacity.stop import stop_base

from ..codec import from_xml
from ..errors import (
    AmbiguousSubmitError,
    CiflowError,
    DeadlineExceededError,
    RequestNotSentError,
    ServiceError,
    ThrottledError,
    TransportError,
    XmlError,
    service_error_for,
)
from ._deadline import Deadline
from ._operation import Operation

__all__ = ["RetryPolicy", "StopAtDeadline", "read_response", "transport_error", "retrying_kwargs", "attempt_timeout"]

T = TypeVar("T")

# Failures before a single byte of the request left: repeating them can never duplicate anything.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, capped at ``max_delay``; retrying stops early when the next wait would
    pass the deadline."""

    attempts: int = 4
    base_delay: float = 0.1
    max_delay: float = 2.0


def _error_fields(response: httpx.Response) -> tuple[str, str, str, str, str]:
    """(code, message, request id, trace id, resource) from the error body and headers."""
    code = message = request_id = trace_id = resource = ""
    body = response.content
    if body.strip():
        if "json" in response.headers.get("content-type", ""):
            try:
                data: Any = json.loads(body)
            except ValueError:
                data = {}
            if isinstance(data, dict):
                code = str(data.get("code", data.get("Code", "")))
                message = str(data.get("message", data.get("Message", "")))
                request_id = str(data.get("request_id", data.get("RequestId", "")))
        else:
            from ..models.cos import ErrorBody

            try:
                error = from_xml(ErrorBody, body, max_bytes=64 * 1024)
            except (XmlError, CiflowError):
                message = body[:200].decode(errors="replace")
            else:
                code, message = error.code or "", error.message or ""
                request_id, trace_id, resource = (
                    error.request_id or "",
                    error.trace_id or "",
                    error.resource or "",
                )
    headers = response.headers
    request_id = request_id or headers.get("x-ci-request-id") or headers.get("x-cos-request-id", "")
    trace_id = trace_id or headers.get("x-ci-trace-id") or headers.get("x-cos-trace-id", "")
    return code, message, request_id, trace_id, resource


def read_response(operation: Operation[T], response: httpx.Response) -> T:
    """The operation's result, or the typed ServiceError the answer stands for."""
    if response.status_code < 300:
        return operation.read(response)
    code, message, request_id, trace_id, resource = _error_fields(response)
    error_type = service_error_for(response.status_code, code)
    raise error_type(
        response.status_code,
        code,
        message,
        request_id=request_id,
        trace_id=trace_id,
        resource=resource,
        method=response.request.method,
        url=str(response.request.url.copy_with(query=None)),
    )


def transport_error(operation: Operation[Any], exc: httpx.HTTPError) -> CiflowError:
    """Type a transport failure by whether the server may have seen (and acted on) the request."""
    where = f"{operation.name}: {type(exc).__name__}: {exc}"
    if isinstance(exc, _NOT_SENT):
        return RequestNotSentError(where)
    if operation.retry == "submit":
        return AmbiguousSubmitError(f"{where} (the job may have been created; look it up before resubmitting)")
    return TransportError(where)


def _should_retry(operation: Operation[Any]) -> Callable[[BaseException], bool]:
    def decide(exc: BaseException) -> bool:
        if isinstance(exc, RequestNotSentError | ThrottledError):
            return True
        if operation.retry == "submit":
            return False
        return isinstance(exc, TransportError | ServiceError) and exc.transient

    return decide


class StopAtDeadline(stop_base):
    """Stop retrying when the upcoming wait would end past the deadline."""

    def __init__(self, deadline: Deadline) -> None:
        self._deadline = deadline

    def __call__(self, retry_state: RetryCallState) -> bool:
        return retry_state.upcoming_sleep >= self._deadline.remaining()


def _log_retry(operation: Operation[Any]) -> Callable[[RetryCallState], None]:
    def log(retry_state: RetryCallState) -> None:
        import structlog

        error = retry_state.outcome.exception() if retry_state.outcome else None
        structlog.get_logger("ciflow.client").warning(
            "retrying",
            operation=operation.name,
            attempt=retry_state.attempt_number,
            wait_s=round(retry_state.upcoming_sleep, 3),
            error=type(error).__name__ if error else None,
            detail=str(error) if error else None,
        )

    return log


def retrying_kwargs(policy: RetryPolicy, operation: Operation[Any], deadline: Deadline | None) -> dict[str, Any]:
    """Keyword arguments for tenacity's Retrying/AsyncRetrying, identical for both clients."""
    stop: stop_base = stop_after_attempt(policy.attempts)
    if deadline is not None:
        stop = stop | StopAtDeadline(deadline)
    return {
        "stop": stop,
        # base * 2^n plus up to one base of jitter: spread out, yet never shorter than the backoff itself.
        "wait": wait_exponential_jitter(multiplier=policy.base_delay, max=policy.max_delay, jitter=policy.base_delay),
        "retry": retry_if_exception(_should_retry(operation)),
        "before_sleep": _log_retry(operation),
        "reraise": True,
    }


def attempt_timeout(timeout: httpx.Timeout, deadline: Deadline | None) -> httpx.Timeout:
    """The per-attempt timeout: the configured one, capped by the time left before the deadline."""
    if deadline is None:
        return timeout
    left = deadline.remaining()
    if left <= 0:
        raise DeadlineExceededError("deadline passed before the request could be sent")

    def cap(value: float | None) -> float:
        return left if value is None else min(value, left)

    return httpx.Timeout(
        connect=cap(timeout.connect), read=cap(timeout.read), write=cap(timeout.write), pool=cap(timeout.pool)
    )
