"""Reading a TDMQ CMQ queue over the HTTP data plane: ``ReceiveMessage`` one at a time, ``DeleteMessage`` once done.

A received message stays hidden for ``visibility_timeout`` seconds; one not deleted by then is received
again, so a reader that fails half way loses nothing. Requests are signed as the sink's (legacy HMAC with
``HmacSHA256``, the ``Token`` of temporary credentials), from credentials read for every request.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..client import DEFAULT_TIMEOUT, Deadline
from ..errors import CiflowError
from ..signing import Credentials, CredentialsProvider, environment_credentials, hmac_v1_params, static_credentials
from ._cmq_wire import DATA_PLANE_PATH

__all__ = ["CmqQueueReader", "CmqReadError", "ReceivedMessage"]

#: ``ReceiveMessage`` on an empty queue (the data plane's "no message").
_NO_MESSAGE = 7000


class CmqReadError(CiflowError):
    """A receive or delete the queue refused or did not answer; ``transient`` when a later try may succeed."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class ReceivedMessage:
    msg_id: str
    body: str
    receipt_handle: str
    dequeue_count: int


class _Answer(BaseModel):
    model_config = ConfigDict(defer_build=True, populate_by_name=True)

    code: int
    message: str = ""
    request_id: str = Field(default="", alias="requestId")
    msg_id: str = Field(default="", alias="msgId")
    msg_body: str = Field(default="", alias="msgBody")
    receipt_handle: str = Field(default="", alias="receiptHandle")
    dequeue_count: int = Field(default=1, alias="dequeueCount")


class CmqQueueReader:
    """One CMQ queue, read and acknowledged; ``endpoint`` is the data plane's URL (``https://cmq-<region>…``)."""

    def __init__(
        self,
        endpoint: str,
        queue: str,
        *,
        credentials: Credentials | CredentialsProvider | None = None,
        visibility_timeout: int = 300,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.time,
        http: httpx.Client | None = None,
    ) -> None:
        url = httpx.URL(endpoint)
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"CMQ endpoint must be an http(s) URL, got {endpoint!r}")
        if not queue:
            raise ValueError("a CMQ queue name is required")
        self.queue = queue
        self.url = url.copy_with(path=url.path if url.path not in ("", "/") else DATA_PLANE_PATH)
        self.host = url.netloc.decode("ascii")
        self.visibility_timeout = visibility_timeout
        if credentials is None:
            credentials = environment_credentials()
        self._credentials = static_credentials(credentials) if isinstance(credentials, Credentials) else credentials
        self._clock = clock
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=timeout)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> CmqQueueReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def request(self, action: str, params: dict[str, str]) -> httpx.Request:
        """The signed form POST of one action (pure apart from the clock, the nonce and the credentials)."""
        signed = hmac_v1_params(
            self._credentials(),
            method="POST",
            host=self.host,
            path=self.url.path,
            action=action,
            params={"queueName": self.queue, **params},
            nonce=secrets.randbelow(2**31 - 1) + 1,
            timestamp=int(self._clock()),
            signature_method="HmacSHA256",
        )
        return httpx.Request(
            "POST",
            self.url,
            content=urlencode(signed).encode(),
            headers={"Host": self.host, "Content-Type": "application/x-www-form-urlencoded"},
        )

    def _call(self, action: str, params: dict[str, str], deadline: Deadline | None) -> _Answer:
        timeout = min(deadline.remaining(), 10.0) if deadline is not None else None
        if timeout is not None and timeout <= 0:
            raise CmqReadError(f"{action} {self.queue!r}: no time left", transient=True)
        request = self.request(action, params)
        if timeout is not None:  # the deadline bounds each request, not only the client's default timeout
            request.extensions["timeout"] = httpx.Timeout(timeout).as_dict()
        try:
            response = self._http.send(request)
        except httpx.HTTPError as exc:
            raise CmqReadError(f"{action} {self.queue!r}: {type(exc).__name__}", transient=True) from None
        if response.status_code != 200:
            status = response.status_code
            raise CmqReadError(f"{action} {self.queue!r}: HTTP {status}", transient=status >= 500 or status == 429)
        try:
            return _Answer.model_validate_json(response.content)
        except ValidationError:
            raise CmqReadError(f"{action} {self.queue!r}: HTTP 200 but not a CMQ answer", transient=False) from None

    def receive(self, *, deadline: Deadline | None = None) -> ReceivedMessage | None:
        """The next visible message, hidden for ``visibility_timeout`` seconds; ``None`` when the queue is empty."""
        answer = self._call("ReceiveMessage", {"visibilityTimeout": str(self.visibility_timeout)}, deadline)
        if answer.code == _NO_MESSAGE:
            return None
        if answer.code != 0:
            raise CmqReadError(f"ReceiveMessage {self.queue!r}: code {answer.code}: {answer.message}", transient=True)
        return ReceivedMessage(answer.msg_id, answer.msg_body, answer.receipt_handle, answer.dequeue_count)

    def delete(self, message: ReceivedMessage, *, deadline: Deadline | None = None) -> None:
        """Acknowledge ``message``: it is gone from the queue."""
        answer = self._call("DeleteMessage", {"receiptHandle": message.receipt_handle}, deadline)
        if answer.code != 0:
            raise CmqReadError(f"DeleteMessage {self.queue!r}: code {answer.code}: {answer.message}", transient=True)
