"""The webhook sink: results POSTed as JSON, signed per Standard Webhooks, retried with backoff; and the verifier."""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from typing import Literal

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter
from tenacity.stop import stop_base

from ..client import Deadline, StopAtDeadline
from ..errors import CiflowError
from ..logging import get_logger, register_secret
from ..results import JobResult
from ._sink import DeliveryError

__all__ = [
    "DEFAULT_WEBHOOK_TIMEOUT",
    "WebhookSink",
    "WebhookVerificationError",
    "sign_webhook",
    "verify_webhook",
    "webhook_id",
]

#: The spec recommends giving receivers 15-30 s to answer; connecting must be quick.
DEFAULT_WEBHOOK_TIMEOUT = httpx.Timeout(connect=3.0, read=15.0, write=15.0, pool=3.0)

_SECRET_PREFIX = "whsec_"  # noqa: S105 - the spec's serialisation prefix, not a secret
_MIN_KEY_BYTES = 16
# 408 Request Timeout and 429 Too Many Requests are the 4xx answers that say "later", not "never".
_RETRYABLE_4XX = frozenset({408, 429})

VerificationReason = Literal["missing_header", "bad_timestamp", "stale", "future", "bad_signature"]


class WebhookVerificationError(CiflowError, ValueError):
    """A webhook request did not verify; ``reason`` says why (never which signature was expected)."""

    def __init__(self, reason: VerificationReason, message: str) -> None:
        self.reason: VerificationReason = reason
        super().__init__(message)


def _signing_key(secret: str | bytes) -> bytes:
    """The HMAC key: a ``whsec_`` secret is base64-decoded (as the spec serialises it); bytes and other strings
    are used as they are (UTF-8). The error never echoes the secret."""
    if isinstance(secret, bytes):
        key = secret
    elif secret.startswith(_SECRET_PREFIX):
        encoded = secret[len(_SECRET_PREFIX) :]
        try:
            # Tolerate missing padding, as the reference libraries do; anything outside base64 is refused.
            key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("webhook secret: the part after 'whsec_' is not valid base64") from None
    else:
        key = secret.encode("utf-8")
    if len(key) < _MIN_KEY_BYTES:
        raise ValueError(f"webhook secret: the key must be at least {_MIN_KEY_BYTES} bytes (the spec asks for 24+)")
    return key


def _signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> bytes:
    return hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()


def sign_webhook(secret: str | bytes, msg_id: str, timestamp: int, body: bytes | str) -> str:
    """The ``webhook-signature`` value ``v1,<base64 HMAC-SHA256 of "{msg_id}.{timestamp}.{body}">``."""
    if "." in msg_id:
        raise ValueError("webhook id must not contain '.'")
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return "v1," + base64.b64encode(_signature(_signing_key(secret), msg_id, int(timestamp), raw)).decode("ascii")


def webhook_id(result: JobResult) -> str:
    """The ``webhook-id`` of a result: derived from its dedupe key, so every retry and redrive carries the same id
    (the receiver's idempotency key); hashed, so it never contains the ``.`` the signed content uses as delimiter."""
    return "msg_" + hashlib.sha256(result.dedupe_key.encode("utf-8")).hexdigest()[:32]


def verify_webhook(
    secret: str | bytes,
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    tolerance_seconds: float = 300,
    now: float | None = None,
) -> None:
    """Check a received webhook against the Standard Webhooks scheme, or raise ``WebhookVerificationError``.

    ``body`` must be the raw bytes received (re-serialised JSON does not verify). Header names are matched
    case-insensitively; ``webhook-signature`` may list several space-separated signatures (key rotation) and
    one valid ``v1`` entry suffices. The timestamp must be within ``tolerance_seconds`` of ``now`` (unix
    seconds, default the clock) in either direction. Comparisons are constant-time.
    """
    key = _signing_key(secret)
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = lowered.get("webhook-id", "")
    stamp = lowered.get("webhook-timestamp", "").strip()
    signatures = lowered.get("webhook-signature", "")
    missing = [name for name, value in (("webhook-id", msg_id), ("webhook-timestamp", stamp)) if not value]
    if not signatures.strip():
        missing.append("webhook-signature")
    if missing:
        raise WebhookVerificationError("missing_header", f"missing header(s): {', '.join(missing)}")
    if not stamp.isascii() or not stamp.isdigit():
        raise WebhookVerificationError("bad_timestamp", "webhook-timestamp is not integer unix seconds")
    timestamp = int(stamp)
    current = time.time() if now is None else now
    if timestamp < current - tolerance_seconds:
        raise WebhookVerificationError("stale", "webhook-timestamp is too old (possible replay)")
    if timestamp > current + tolerance_seconds:
        raise WebhookVerificationError("future", "webhook-timestamp is too far in the future")
    raw = body.encode("utf-8") if isinstance(body, str) else body
    expected = _signature(key, msg_id, timestamp, raw)
    matched = False
    for entry in signatures.split():
        version, _, encoded = entry.partition(",")
        if version != "v1":
            continue  # v1a (ed25519) and unknown schemes are for other verifiers
        try:
            candidate = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        matched = hmac.compare_digest(expected, candidate) or matched
    if not matched:
        raise WebhookVerificationError("bad_signature", "no webhook-signature entry matches")


# -- the sink -----------------------------------------------------------------------------------------------


class _RejectedError(DeliveryError):
    """One attempt's failure, with the server's ``Retry-After`` (seconds) when it gave one."""

    def __init__(self, sink: str, message: str, *, transient: bool, retry_after: float | None = None) -> None:
        super().__init__(sink, message, transient=transient)
        self.retry_after = retry_after


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _last_error(retry_state: RetryCallState) -> BaseException | None:
    return retry_state.outcome.exception() if retry_state.outcome else None


class _StopOnLongRetryAfter(stop_base):
    """Stop when the server asks for a longer pause than we are willing to wait (the redrive retries later)."""

    def __init__(self, max_delay: float) -> None:
        self._max_delay = max_delay

    def __call__(self, retry_state: RetryCallState) -> bool:
        error = _last_error(retry_state)
        return (
            isinstance(error, _RejectedError) and error.retry_after is not None and error.retry_after > self._max_delay
        )


class _Wait:
    """Jittered exponential backoff, lengthened to the server's ``Retry-After`` when it asks for more."""

    def __init__(self, base_delay: float, max_delay: float) -> None:
        self._backoff = wait_exponential_jitter(multiplier=base_delay, max=max_delay, jitter=base_delay)

    def __call__(self, retry_state: RetryCallState) -> float:
        delay = float(self._backoff(retry_state))
        error = _last_error(retry_state)
        if isinstance(error, _RejectedError) and error.retry_after is not None:
            delay = max(delay, error.retry_after)
        return delay


def _capped(timeout: httpx.Timeout, left: float | None) -> httpx.Timeout:
    if left is None:
        return timeout

    def cap(value: float | None) -> float:
        return left if value is None else min(value, left)

    return httpx.Timeout(
        connect=cap(timeout.connect), read=cap(timeout.read), write=cap(timeout.write), pool=cap(timeout.pool)
    )


class WebhookSink:
    """POSTs each result as JSON to ``url``, signed with the Standard Webhooks headers.

    ``webhook-id`` is stable per result (see ``webhook_id``), ``webhook-timestamp`` is the attempt's time.
    A 2xx answer is delivery. 5xx, 408, 429 and network failures are retried — jittered exponential backoff
    from ``base_delay`` capped at ``max_delay``, honouring ``Retry-After`` — at most ``attempts`` times and
    never past the deadline; every attempt's timeout is capped by the time left. A ``Retry-After`` longer than
    ``max_delay`` ends retrying at once (transient: the dead-letter redrive tries later). Redirects are not
    followed and, like other 4xx answers, are permanent failures. The secret is registered with the log
    scrubber; the URL's query (it may carry a token) never reaches a log line or an error message.
    """

    def __init__(
        self,
        url: str,
        secret: str | bytes,
        *,
        client: httpx.Client | None = None,
        timeout: float | httpx.Timeout = DEFAULT_WEBHOOK_TIMEOUT,
        attempts: int = 4,
        base_delay: float = 0.5,
        max_delay: float = 10.0,
        name: str = "webhook",
        clock: Callable[[], float] = time.time,
    ) -> None:
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            raise ValueError("webhook url is not a valid URL") from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(f"webhook url must be http(s)://host/…, not {parsed.copy_with(query=None)}")
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        if isinstance(secret, str):
            register_secret(secret)
            register_secret(secret.removeprefix(_SECRET_PREFIX))
        self._key = _signing_key(secret)
        self.url = url
        self.name = name
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._clock = clock
        self._owns_client = client is None
        self._http = client if client is not None else httpx.Client(timeout=self.timeout, follow_redirects=False)
        self._where = str(parsed.copy_with(query=None, fragment=None))

    def close(self) -> None:
        if self._owns_client:
            self._http.close()

    def __enter__(self) -> WebhookSink:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _stop(self, deadline: Deadline | None) -> stop_base:
        stop: stop_base = stop_after_attempt(self.attempts) | _StopOnLongRetryAfter(self.max_delay)
        return stop | StopAtDeadline(deadline) if deadline is not None else stop

    def deliver(self, result: JobResult, *, deadline: Deadline | None = None) -> None:
        body = json.dumps(result.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        msg_id = webhook_id(result)
        retrying = Retrying(
            stop=self._stop(deadline),
            wait=_Wait(self.base_delay, self.max_delay),
            retry=retry_if_exception(lambda exc: isinstance(exc, DeliveryError) and exc.transient),
            before_sleep=self._log_retry(msg_id),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                self._attempt(msg_id, body, deadline)

    def _attempt(self, msg_id: str, body: bytes, deadline: Deadline | None) -> None:
        left = None if deadline is None else deadline.remaining()
        if left is not None and left <= 0:
            raise DeliveryError(self.name, f"deadline passed before POST {self._where}", transient=True)
        timestamp = int(self._clock())
        signature = "v1," + base64.b64encode(_signature(self._key, msg_id, timestamp, body)).decode("ascii")
        request = self._http.build_request(
            "POST",
            self.url,
            content=body,
            headers={
                "content-type": "application/json",
                "webhook-id": msg_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": signature,
            },
            timeout=_capped(self.timeout, left),
        )
        try:
            response = self._http.send(request, follow_redirects=False)
        except httpx.HTTPError as exc:
            detail = str(exc).replace(self.url, self._where)
            message = f"POST {self._where}: {type(exc).__name__}" + (f": {detail}" if detail else "")
            raise DeliveryError(self.name, message, transient=not isinstance(exc, httpx.UnsupportedProtocol)) from exc
        status = response.status_code
        if 200 <= status < 300:
            return
        snippet = response.text[:200].strip()
        message = f"POST {self._where}: HTTP {status}" + (f": {snippet}" if snippet else "")
        transient = status >= 500 or status in _RETRYABLE_4XX
        retry_after = _retry_after(response) if transient else None
        raise _RejectedError(self.name, message, transient=transient, retry_after=retry_after)

    def _log_retry(self, msg_id: str) -> Callable[[RetryCallState], None]:
        def log(retry_state: RetryCallState) -> None:
            error = _last_error(retry_state)
            get_logger("ciflow.routing").warning(
                "webhook retry",
                sink=self.name,
                url=self._where,
                webhook_id=msg_id,
                attempt=retry_state.attempt_number,
                wait_s=round(retry_state.upcoming_sleep, 3),
                detail=str(error) if error else None,
            )

        return log
