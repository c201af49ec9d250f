"""Every error the core raises: one hierarchy, typed by what the caller should do about it."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "CiflowError",
    "ConfigError",
    "XmlError",
    "UnsafeXmlError",
    "XmlTooLargeError",
    "MalformedXmlError",
    "DecodeError",
    "TransportError",
    "RequestNotSentError",
    "AmbiguousSubmitError",
    "DeadlineExceededError",
    "ServiceError",
    "ClientError",
    "ServerError",
    "NotFoundError",
    "AccessDeniedError",
    "ConflictError",
    "PreconditionFailedError",
    "ThrottledError",
    "service_error_for",
]


class CiflowError(Exception):
    """Base of every error raised by ciflow."""

    #: True when repeating the same call later may succeed (network, 5xx, throttling).
    transient: bool = False


class ConfigError(CiflowError, ValueError):
    """Settings are missing or invalid; ``problems`` names every bad variable at once."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        lines = "; ".join(f"{name}: {why}" for name, why in sorted(self.problems.items()))
        super().__init__(f"invalid configuration ({len(self.problems)} problem(s)): {lines}")


class XmlError(CiflowError, ValueError):
    """An XML body was refused or could not be read."""


class UnsafeXmlError(XmlError):
    """The body declares a DTD, an entity or an external reference: refused before expansion."""


class XmlTooLargeError(XmlError):
    """The body is over the configured size limit: refused before parsing."""


class MalformedXmlError(XmlError):
    """The body is not well-formed XML."""


class DecodeError(CiflowError, ValueError):
    """A well-formed body does not match the model it should decode into."""


class TransportError(CiflowError):
    """The HTTP exchange failed below the protocol level (connect, read, timeout)."""

    transient = True


class RequestNotSentError(TransportError):
    """The request provably never reached the server (e.g. connection refused): safe to repeat."""


class AmbiguousSubmitError(TransportError):
    """A job-creating request may have been accepted: repeating it could create a duplicate job.

    Callers resolve it by looking the job up (by its UserData correlation id) before resubmitting.
    """

    transient = False


class DeadlineExceededError(CiflowError):
    """The caller's deadline passed before the call could complete."""

    transient = True


class ServiceError(CiflowError):
    """CI or COS answered with an error status; fields come from the error body and headers."""

    def __init__(
        self,
        status_code: int,
        code: str = "",
        message: str = "",
        *,
        request_id: str = "",
        trace_id: str = "",
        resource: str = "",
        method: str = "",
        url: str = "",
    ) -> None:
        self.status_code = status_code
        self.code = code
        self.message = message
        self.request_id = request_id
        self.trace_id = trace_id
        self.resource = resource
        self.method = method
        self.url = url
        detail = f"{code}: {message}" if message else code or "no error body"
        super().__init__(f"{method} {url} -> HTTP {status_code} {detail} (request id {request_id or '-'})")

    @property
    def transient(self) -> bool:  # type: ignore[override]
        return self.status_code >= 500 or self.status_code == 429 or self.code in _THROTTLE_CODES


class ClientError(ServiceError):
    """A 4xx answer: the request itself is wrong and repeating it will not help (except throttling)."""


class ServerError(ServiceError):
    """A 5xx answer: the service failed; the call may succeed later."""


class NotFoundError(ClientError):
    """404: no such key, bucket, job or template."""


class AccessDeniedError(ClientError):
    """403: signature, credentials or permissions were refused."""


class ConflictError(ClientError):
    """409: e.g. ``FileAlreadyExists`` for a PUT with ``x-cos-forbid-overwrite``."""


class PreconditionFailedError(ClientError):
    """412: an ``If-*`` condition was false."""


class ThrottledError(ServiceError):
    """429 or a ``SlowDown`` code: retry later, more slowly."""


_THROTTLE_CODES = frozenset({"SlowDown", "RequestLimitExceeded", "TooManyRequests"})

_BY_STATUS: Mapping[int, type[ServiceError]] = {
    403: AccessDeniedError,
    404: NotFoundError,
    409: ConflictError,
    412: PreconditionFailedError,
    429: ThrottledError,
}


def service_error_for(status_code: int, code: str = "") -> type[ServiceError]:
    """The most specific ServiceError subclass for an HTTP status and error code."""
    if code in _THROTTLE_CODES:
        return ThrottledError
    if status_code >= 500:
        return ServerError
    return _BY_STATUS.get(status_code, ClientError)
