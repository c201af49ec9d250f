"""The CMQ sink's wire format: the signed send/publish request of either protocol, and reading CMQ's answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..api3 import Api3Target, api3_request
from ..signing import Credentials, hmac_v1_params
from ._sink import DeliveryError

__all__ = [
    "ACTIONS",
    "API3_ENDPOINT",
    "API3_SERVICE",
    "API3_VERSION",
    "CMQ_MAX_MESSAGE_BYTES",
    "DATA_PLANE_PATH",
    "Accepted",
    "CmqProtocol",
    "CmqTarget",
    "api3_message",
    "check_tag",
    "data_plane_message",
    "read_answer",
]

CmqTarget = Literal["queue", "topic"]
#: ``data-plane``: ``SendMessage``/``PublishMessage`` form POSTs to ``/v2/index.php`` (HmacSHA256, ``Token``);
#: ``api3``: ``SendCmqMsg``/``PublishCmqMsg`` JSON POSTs signed with TC3-HMAC-SHA256.
CmqProtocol = Literal["data-plane", "api3"]

DATA_PLANE_PATH = "/v2/index.php"
API3_ENDPOINT = "https://tdmq.tencentcloudapi.com"
API3_SERVICE = "tdmq"
API3_VERSION = "2020-02-17"
#: A queue's or topic's default ``MaxMsgSize`` (1024-65536 bytes are configurable).
CMQ_MAX_MESSAGE_BYTES = 65536
#: API 3.0 limit per tag (or routing key); the data plane enforces the same.
_MAX_TAG_CHARS = 64

# Data-plane codes a later attempt may clear: QPS throttling (4420), frequency limit (4480), backlog full
# (4410), too many unacked/delayed messages (6070), server internal error / send failed (6000).
_TRANSIENT_CODES = frozenset({4410, 4420, 4480, 6000, 6070})
# API 3.0 codes a later attempt may clear; every ``RequestLimitExceeded*`` and ``InternalError*`` code too.
_TRANSIENT_API3_CODES = frozenset(
    {
        "FailedOperation.CmqBackendError",
        "FailedOperation.SendMsgFailed",
        "FailedOperation.SendMessageTimeoutError",
        "FailedOperation.InstanceNotReady",
        "ResourceUnavailable.SystemUpgrade",
    }
)
_TRANSIENT_API3_PREFIXES = ("RequestLimitExceeded", "InternalError")

#: The action of each (protocol, target).
ACTIONS: dict[tuple[CmqProtocol, CmqTarget], str] = {
    ("data-plane", "queue"): "SendMessage",
    ("data-plane", "topic"): "PublishMessage",
    ("api3", "queue"): "SendCmqMsg",
    ("api3", "topic"): "PublishCmqMsg",
}


def check_tag(value: str, what: str) -> str:
    """``value`` if CMQ accepts it as a message tag or routing key (``what`` names which); ValueError otherwise."""
    if not value or len(value) > _MAX_TAG_CHARS:
        raise ValueError(f"a CMQ {what} must be 1-{_MAX_TAG_CHARS} characters, got {value!r}")
    if value.startswith("@"):  # the data plane leaves '@'-values out of the signature (a PHP upload artefact)
        raise ValueError(f"a CMQ {what} must not start with '@', got {value!r}")
    return value


# -- requests ---------------------------------------------------------------------------------------------------


def data_plane_message(
    credentials: Credentials,
    *,
    url: httpx.URL,
    host: str,
    action: str,
    target: CmqTarget,
    destination: str,
    body: str,
    tags: Sequence[str],
    routing_key: bool,
    delay_seconds: int,
    nonce: int,
    timestamp: int,
) -> httpx.Request:
    """``SendMessage``/``PublishMessage`` as a signed form POST; a topic's ``tags`` are one routing key if asked."""
    params: dict[str, str] = {"RequestClient": "ciflow"}
    if target == "queue":
        params |= {"queueName": destination, "msgBody": body, "delaySeconds": str(delay_seconds)}
    else:
        params |= {"topicName": destination, "msgBody": body}
        if routing_key:
            params["routingKey"] = tags[0]
        else:
            params |= {f"msgTag.{n}": tag for n, tag in enumerate(tags, start=1)}
    signed = hmac_v1_params(
        credentials,
        method="POST",
        host=host,
        path=url.path,
        action=action,
        params=params,
        nonce=nonce,
        timestamp=timestamp,
        signature_method="HmacSHA256",
    )
    return httpx.Request(
        "POST",
        url,
        content=urlencode(signed).encode(),
        headers={"Host": host, "Content-Type": "application/x-www-form-urlencoded"},
    )


def api3_message(
    credentials: Credentials,
    *,
    url: httpx.URL,
    host: str,
    region: str,
    action: str,
    target: CmqTarget,
    destination: str,
    body: str,
    tags: Sequence[str],
    delay_seconds: int,
    timestamp: int,
) -> httpx.Request:
    """``SendCmqMsg``/``PublishCmqMsg`` as a TC3-signed JSON POST (a routing key is the single ``MsgTag``)."""
    document: dict[str, object]
    if target == "queue":
        document = {"QueueName": destination, "MsgContent": body, "DelaySeconds": delay_seconds}
    else:
        document = {"TopicName": destination, "MsgContent": body}
        if tags:
            document["MsgTag"] = list(tags)
    api3_target = Api3Target(str(url), host, API3_SERVICE, API3_VERSION, region)
    return api3_request(api3_target, action, document, credentials, timestamp=timestamp)


# -- answers ----------------------------------------------------------------------------------------------------


class _DataPlaneAnswer(BaseModel):
    """``{"code":0,"message":"","requestId":"…","msgId":"…"}``; code ≠ 0 is an error."""

    model_config = ConfigDict(defer_build=True, populate_by_name=True)

    code: int
    message: str = ""
    request_id: str = Field(default="", alias="requestId")
    msg_id: str | None = Field(default=None, alias="msgId")


class _Api3Error(BaseModel):
    model_config = ConfigDict(defer_build=True)

    code: str = Field(alias="Code")
    message: str = Field(default="", alias="Message")


class _Api3Body(BaseModel):
    model_config = ConfigDict(defer_build=True)

    error: _Api3Error | None = Field(default=None, alias="Error")
    result: bool | None = Field(default=None, alias="Result")
    msg_id: str | None = Field(default=None, alias="MsgId")
    request_id: str = Field(default="", alias="RequestId")


class _Api3Answer(BaseModel):
    """``{"Response": {"Result": true, "MsgId": "…", "RequestId": "…"}}`` or ``{"Response": {"Error": {…}}}``."""

    model_config = ConfigDict(defer_build=True)

    response: _Api3Body = Field(alias="Response")


@dataclass(frozen=True)
class Accepted:
    """CMQ took the message: its id and the request's."""

    msg_id: str
    request_id: str


class _Fail(Protocol):
    def __call__(self, message: str, *, transient: bool) -> DeliveryError: ...


def read_answer(response: httpx.Response, protocol: CmqProtocol, *, sink: str, what: str) -> Accepted:
    """The accepted message, or a ``DeliveryError`` of ``sink`` saying why not (``what``: the action and queue)."""

    def fail(message: str, *, transient: bool) -> DeliveryError:
        return DeliveryError(sink, f"{what}: {message}", transient=transient)

    status = response.status_code
    if status != 200:
        snippet = response.text[:200].strip()
        raise fail(f"HTTP {status} {snippet}".rstrip(), transient=status >= 500 or status == 429)
    try:
        if protocol == "data-plane":
            return _read_data_plane(_DataPlaneAnswer.model_validate_json(response.content), fail)
        return _read_api3(_Api3Answer.model_validate_json(response.content).response, fail)
    except ValidationError:
        # A 200 that is not a CMQ answer (a proxy page, a wrong endpoint) will not change by retrying.
        raise fail(f"HTTP 200 but not a CMQ answer: {response.text[:200].strip()!r}", transient=False) from None


def _read_data_plane(answer: _DataPlaneAnswer, fail: _Fail) -> Accepted:
    if answer.code != 0:
        raise fail(
            f"code {answer.code}: {answer.message} (request id {answer.request_id or '-'})",
            transient=answer.code in _TRANSIENT_CODES,
        )
    if not answer.msg_id:
        raise fail(f"code 0 without a msgId (request id {answer.request_id or '-'})", transient=True)
    return Accepted(answer.msg_id, answer.request_id)


def _read_api3(body: _Api3Body, fail: _Fail) -> Accepted:
    if body.error is not None:
        code = body.error.code
        transient = code in _TRANSIENT_API3_CODES or code.startswith(_TRANSIENT_API3_PREFIXES)
        raise fail(f"{code}: {body.error.message} (request id {body.request_id or '-'})", transient=transient)
    if body.result is not True or not body.msg_id:
        raise fail(
            f"not accepted (Result={body.result}, MsgId={body.msg_id!r}, request id {body.request_id or '-'})",
            transient=True,
        )
    return Accepted(body.msg_id, body.request_id)
