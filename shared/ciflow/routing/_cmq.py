"""TDMQ CMQ queue and topic sink over the CMQ HTTP data plane (legacy HMAC) or the API 3.0 actions (TC3)."""

# The sink: checked settings, retries within the deadline, the Sink contract. What goes over the wire (requests of
# either protocol, reading the answers) is ``_cmq_wire``'s.

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter
from tenacity.stop import stop_base

from ..client import DEFAULT_LIMITS, DEFAULT_TIMEOUT, Deadline, RetryPolicy, StopAtDeadline, attempt_timeout
from ..errors import CiflowError, DeadlineExceededError
from ..logging import get_logger
from ..regions import normalise_region
from ..results import JobResult
from ..signing import Credentials, CredentialsProvider, environment_credentials, static_credentials
from ._cmq_wire import (
    ACTIONS,
    API3_ENDPOINT,
    API3_VERSION,
    CMQ_MAX_MESSAGE_BYTES,
    DATA_PLANE_PATH,
    Accepted,
    CmqProtocol,
    CmqTarget,
    api3_message,
    check_tag,
    data_plane_message,
    read_answer,
)
from ._sink import DeliveryError

if TYPE_CHECKING:
    from ._sink import Sink

__all__ = [
    "API3_ENDPOINT",
    "API3_VERSION",
    "CMQ_MAX_MESSAGE_BYTES",
    "CmqProtocol",
    "CmqSink",
    "CmqTarget",
    "DATA_PLANE_PATH",
]

_log = get_logger("ciflow.routing")


def _random_nonce() -> int:
    return secrets.randbelow(2**31 - 1) + 1


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, DeliveryError) and exc.transient


class CmqSink:
    """Send each result to a TDMQ CMQ queue (``target="queue"``) or publish it to a topic (``"topic"``).

    ``endpoint`` is used verbatim (the console's address, ports and ``http``/``https`` included): for the data
    plane ``https://cmq-gz.public.tencenttdmq.com`` (``/v2/index.php`` is added when the URL has no path) or the
    VPC host; for API 3.0 ``https://tdmq.tencentcloudapi.com`` (``region`` required, ``gz`` or ``ap-guangzhou``).
    Topics get ``tags`` (data plane ``msgTag.n``, API 3.0 ``MsgTag``) or one ``routing_key`` (``routingKey``;
    API 3.0 sends it as the single ``MsgTag``), each fixed or computed from the result.

    Credentials, time and nonce are read for every attempt (role credentials rotate). Throttling, server
    errors, 5xx and network failures are retried with jittered backoff within ``deadline`` and
    ``retry.attempts``; a request whose answer was lost may have been enqueued, so delivery is at least once
    (consumers deduplicate by the body's ``kind``/``job_id``/``state``).
    """

    def __init__(
        self,
        endpoint: str,
        *,
        target: CmqTarget,
        destination: str,
        protocol: CmqProtocol = "data-plane",
        region: str | None = None,
        name: str = "cmq",
        credentials: Credentials | CredentialsProvider | None = None,
        delay_seconds: int = 0,
        tags: Sequence[str] | Callable[[JobResult], Sequence[str]] = (),
        routing_key: str | Callable[[JobResult], str] | None = None,
        max_message_bytes: int = CMQ_MAX_MESSAGE_BYTES,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], int] = _random_nonce,
        http: httpx.Client | None = None,
    ) -> None:
        if target not in ("queue", "topic"):
            raise ValueError(f"target must be 'queue' or 'topic', got {target!r}")
        if protocol not in ("data-plane", "api3"):
            raise ValueError(f"protocol must be 'data-plane' or 'api3', got {protocol!r}")
        if not destination:
            raise ValueError(f"a CMQ {target} name is required")
        url = httpx.URL(endpoint)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"CMQ endpoint must be an http(s) URL, got {endpoint!r}")
        if url.query or url.fragment:
            raise ValueError(f"CMQ endpoint must not carry a query or fragment, got {endpoint!r}")
        if target == "queue" and (tags or routing_key is not None):
            raise ValueError("tags and routing_key apply to topics only")
        if tags and routing_key is not None:
            raise ValueError("a topic message carries tags or one routing key, not both")
        if isinstance(tags, str):
            raise ValueError("tags must be a sequence of strings, not one string")
        if not callable(tags):
            tags = tuple(check_tag(tag, "tag") for tag in tags)
        if isinstance(routing_key, str):
            check_tag(routing_key, "routing key")
        if delay_seconds < 0:  # the upper bound is the queue's own setting (code 4000/10692 beyond it)
            raise ValueError(f"delay_seconds must not be negative, got {delay_seconds}")
        if max_message_bytes < 1:
            raise ValueError("max_message_bytes must be positive")

        if protocol == "data-plane":
            # ``region`` is optional here (the data plane's host names it) but still checked below.
            path = url.path if url.path not in ("", "/") else DATA_PLANE_PATH
        else:
            if url.path not in ("", "/"):
                raise ValueError(f"an API 3.0 endpoint has no path (TC3 signs '/'), got {endpoint!r}")
            if region is None:
                raise ValueError("the API 3.0 protocol needs a region (X-TC-Region)")
            path = "/"
        self.name = name
        self.target: CmqTarget = target
        self.destination = destination
        self.protocol: CmqProtocol = protocol
        self.region = normalise_region(region) if region is not None else None
        self.action = ACTIONS[(protocol, target)]
        self.url = url.copy_with(path=path)
        #: The host as sent in ``Host`` and signed: ``host[:port]``, exactly as the endpoint names it.
        self.host = url.netloc.decode("ascii")
        self.delay_seconds = delay_seconds
        self.max_message_bytes = max_message_bytes
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._tags = tags
        self._routing_key = routing_key
        if credentials is None:
            credentials = environment_credentials()
        self._credentials = static_credentials(credentials) if isinstance(credentials, Credentials) else credentials
        self._clock = clock
        self._nonce = nonce
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=timeout, limits=DEFAULT_LIMITS)

    def __repr__(self) -> str:
        return f"CmqSink(name={self.name!r}, {self.target}={self.destination!r}, {self.protocol} {self.url})"

    # -- the Sink contract ------------------------------------------------------------------------------------

    def deliver(self, result: JobResult, *, deadline: Deadline | None = None) -> None:
        """Send ``result.model_dump_json()``; return once CMQ answered with a message id."""
        body = result.model_dump_json()
        size = len(body.encode())
        if size > self.max_message_bytes:
            raise DeliveryError(
                self.name,
                f"result {result.dedupe_key} is {size} bytes as JSON, over the {self.max_message_bytes}-byte CMQ "
                f"message limit of {self.target} {self.destination!r} (max_message_bytes); not sent",
                transient=False,
            )
        try:
            tags = self._tags_for(result)
        except ValueError as exc:  # a computed tag or routing key that CMQ would refuse
            raise DeliveryError(self.name, str(exc), transient=False) from exc
        stop: stop_base = stop_after_attempt(self.retry.attempts)
        if deadline is not None:
            stop = stop | StopAtDeadline(deadline)
        retrying = Retrying(
            stop=stop,
            # base * 2^n plus up to one base of jitter, as the CI client does.
            wait=wait_exponential_jitter(
                multiplier=self.retry.base_delay, max=self.retry.max_delay, jitter=self.retry.base_delay
            ),
            retry=retry_if_exception(_is_transient),
            before_sleep=self._log_retry,
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                accepted = self._attempt(body, tags, deadline)
                _log.debug(
                    "delivered",
                    sink=self.name,
                    target=self.target,
                    destination=self.destination,
                    msg_id=accepted.msg_id,
                    request_id=accepted.request_id,
                    dedupe_key=result.dedupe_key,
                )
                return
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> CmqSink:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- one attempt ------------------------------------------------------------------------------------------

    def _tags_for(self, result: JobResult) -> list[str]:
        if self.target == "queue":
            return []
        if self._routing_key is not None:
            key = self._routing_key if isinstance(self._routing_key, str) else self._routing_key(result)
            return [check_tag(key, "routing key")]
        tags = self._tags(result) if callable(self._tags) else self._tags
        if isinstance(tags, str):
            raise ValueError("a tags function must return a sequence of strings, not one string")
        return [check_tag(tag, "tag") for tag in tags]

    def _attempt(self, body: str, tags: list[str], deadline: Deadline | None) -> Accepted:
        try:
            timeout = attempt_timeout(self.timeout, deadline)
        except DeadlineExceededError:
            raise DeliveryError(self.name, "deadline passed before the message could be sent", transient=True) from None
        try:
            credentials = self._credentials()
        except (CiflowError, ValueError) as exc:
            raise DeliveryError(self.name, f"no credentials: {exc}", transient=False) from exc
        request = self.build_request(body, tags, credentials)
        request.extensions["timeout"] = timeout.as_dict()
        try:
            response = self._http.send(request)
        except httpx.HTTPError as exc:
            raise DeliveryError(
                self.name, f"{self.action} to {self.host}: {type(exc).__name__}: {exc}", transient=True
            ) from exc
        return self._read(response)

    def build_request(self, body: str, tags: Sequence[str], credentials: Credentials) -> httpx.Request:
        """The signed request for one attempt (pure apart from the clock and the nonce)."""
        timestamp = int(self._clock())
        if self.protocol == "data-plane":
            return self._data_plane_request(body, tags, credentials, timestamp)
        return self._api3_request(body, tags, credentials, timestamp)

    def _data_plane_request(
        self, body: str, tags: Sequence[str], credentials: Credentials, timestamp: int
    ) -> httpx.Request:
        return data_plane_message(
            credentials,
            url=self.url,
            host=self.host,
            action=self.action,
            target=self.target,
            destination=self.destination,
            body=body,
            tags=tags,
            routing_key=self._routing_key is not None,
            delay_seconds=self.delay_seconds,
            nonce=self._nonce(),
            timestamp=timestamp,
        )

    def _api3_request(self, body: str, tags: Sequence[str], credentials: Credentials, timestamp: int) -> httpx.Request:
        assert self.region is not None  # checked in __init__
        return api3_message(
            credentials,
            url=self.url,
            host=self.host,
            region=self.region,
            action=self.action,
            target=self.target,
            destination=self.destination,
            body=body,
            tags=tags,
            delay_seconds=self.delay_seconds,
            timestamp=timestamp,
        )

    # -- reading the answer -----------------------------------------------------------------------------------

    def _read(self, response: httpx.Response) -> Accepted:
        what = f"{self.action} {self.target} {self.destination!r}"
        return read_answer(response, self.protocol, sink=self.name, what=what)

    def _log_retry(self, retry_state: RetryCallState) -> None:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        _log.warning(
            "retrying delivery",
            sink=self.name,
            attempt=retry_state.attempt_number,
            wait_s=round(retry_state.upcoming_sleep, 3),
            detail=str(error) if error else None,
        )


if TYPE_CHECKING:

    def _is_a_sink(sink: CmqSink) -> Sink:  # mypy proves the structural match
        return sink
