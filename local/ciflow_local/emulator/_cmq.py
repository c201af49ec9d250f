"""TDMQ CMQ's HTTP data plane on loopback: signed ``/v2/index.php`` form POSTs over queues kept in SQLite.

Actions: ``SendMessage`` (``queueName``, ``msgBody``, ``delaySeconds``), ``PublishMessage`` (``topicName``,
``msgBody``, ``msgTag.n`` or ``routingKey``), ``ReceiveMessage`` (``queueName``, ``visibilityTimeout``;
``pollingWaitSeconds`` is ignored: an empty queue answers code 7000 at once) and ``DeleteMessage``
(``queueName``, ``receiptHandle``). Every request is checked like CMQ does: the legacy HMAC (``HmacSHA256`` or
``HmacSHA1``) over ``METHOD + host + path + '?' + sorted raw k=v``, the ``Token`` of temporary credentials and
the ``Timestamp``; a failure answers code 4100. Answers are ``{"code":0,"message":"","requestId":…,…}``.

Queues and topics are created on first use and shared by every region. Topics keep no subscriptions: a
message published to topic ``T`` lands in queue ``T-sub`` (with its tags), where tests and tools read it.
"""

from __future__ import annotations

import hmac
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ciflow.signing import Credentials, hmac_v1_signature

from ._app import DEFAULT_CREDENTIALS

__all__ = ["CMQ_PATH", "TOPIC_QUEUE_SUFFIX", "CmqApi", "CmqMessage", "CmqQueues"]

CMQ_PATH = "/v2/index.php"
#: Topic ``T`` fans out to the queue ``T + TOPIC_QUEUE_SUFFIX``.
TOPIC_QUEUE_SUFFIX = "-sub"
_DEFAULT_VISIBILITY_SECONDS = 30
_CODE_BAD_PARAM = 4000
_CODE_AUTH = 4100
_CODE_NO_MESSAGE = 7000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    msg_id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    tags TEXT NOT NULL,
    enqueued REAL NOT NULL,
    visible_at REAL NOT NULL,
    first_dequeued REAL,
    dequeue_count INTEGER NOT NULL DEFAULT 0,
    receipt TEXT
);
CREATE INDEX IF NOT EXISTS messages_queue ON messages (queue, visible_at);
"""


@dataclass(frozen=True)
class CmqMessage:
    """One message of a queue; ``receipt_handle`` is set while it is received and not yet visible again."""

    queue: str
    msg_id: str
    body: str
    tags: tuple[str, ...]
    enqueued: float
    dequeue_count: int
    receipt_handle: str | None


class CmqQueues:
    """The emulated queues, in one SQLite file (``send``/``publish``/``receive``/``delete``); thread-safe."""

    def __init__(self, path: Path, *, clock: Any = time.time) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._clock = clock

    def send(self, queue: str, body: str, *, delay_seconds: int = 0, tags: Sequence[str] = ()) -> str:
        """Enqueue ``body``; returns its message id."""
        msg_id = uuid.uuid4().hex
        now = self._clock()
        with self._lock:
            self._db.execute(
                "INSERT INTO messages (queue, msg_id, body, tags, enqueued, visible_at) VALUES (?, ?, ?, ?, ?, ?)",
                (queue, msg_id, body, json.dumps(list(tags)), now, now + max(0, delay_seconds)),
            )
        return msg_id

    def publish(self, topic: str, body: str, *, tags: Sequence[str] = ()) -> str:
        """Publish to ``topic``: the message lands in queue ``topic + TOPIC_QUEUE_SUFFIX``."""
        return self.send(topic + TOPIC_QUEUE_SUFFIX, body, tags=tags)

    def receive(self, queue: str, *, visibility_timeout: int = _DEFAULT_VISIBILITY_SECONDS) -> CmqMessage | None:
        """The oldest visible message, hidden for ``visibility_timeout`` seconds under a new receipt handle."""
        now = self._clock()
        with self._lock:
            row = self._db.execute(
                "SELECT seq FROM messages WHERE queue = ? AND visible_at <= ? ORDER BY seq LIMIT 1", (queue, now)
            ).fetchone()
            if row is None:
                return None
            self._db.execute(
                "UPDATE messages SET visible_at = ?, receipt = ?, dequeue_count = dequeue_count + 1,"
                " first_dequeued = COALESCE(first_dequeued, ?) WHERE seq = ?",
                (now + visibility_timeout, uuid.uuid4().hex, now, row[0]),
            )
            return self._message("seq = ?", (row[0],))[0]

    def delete(self, queue: str, receipt_handle: str) -> bool:
        """Remove the message received under ``receipt_handle``; ``False`` when no such handle is current."""
        with self._lock:
            cursor = self._db.execute("DELETE FROM messages WHERE queue = ? AND receipt = ?", (queue, receipt_handle))
            return cursor.rowcount > 0

    def messages(self, queue: str) -> list[CmqMessage]:
        """Every message of ``queue`` in order, visible or not (for inspection)."""
        with self._lock:
            return self._message("queue = ? ORDER BY seq", (queue,))

    def _message(self, where: str, args: tuple[Any, ...]) -> list[CmqMessage]:
        rows = self._db.execute(
            f"SELECT queue, msg_id, body, tags, enqueued, dequeue_count, receipt FROM messages WHERE {where}",  # noqa: S608
            args,
        ).fetchall()
        return [CmqMessage(q, m, b, tuple(json.loads(t)), e, c, r) for q, m, b, t, e, c, r in rows]

    def publish_callback(self, region: str, mode: str, name: str, body: bytes) -> None:
        """The job engine's ``TdmqPublisher``: a callback to queue or topic ``name`` (the region is ignored)."""
        text = body.decode("utf-8")
        if mode.lower() == "topic":
            self.publish(name, text)
        else:
            self.send(name, text)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _answer(code: int, message: str = "", **fields: Any) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "requestId": uuid.uuid4().hex, **fields})


class _RefusedError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class CmqApi:
    """The ASGI app of the data plane over ``queues``, accepting ``credentials`` (by secret id)."""

    def __init__(
        self,
        queues: CmqQueues,
        *,
        credentials: Mapping[str, Credentials] | None = None,
        clock_skew_seconds: int = 900,
    ) -> None:
        self.queues = queues
        self.credentials = dict(credentials or {DEFAULT_CREDENTIALS.secret_id: DEFAULT_CREDENTIALS})
        self.clock_skew_seconds = clock_skew_seconds
        self.app = Starlette(routes=[Route(CMQ_PATH, self._dispatch, methods=["GET", "POST"])])

    async def __call__(self, scope: object, receive: object, send: object) -> None:
        await self.app(scope, receive, send)  # type: ignore[arg-type]

    async def _dispatch(self, request: Request) -> JSONResponse:
        if request.method == "POST":
            params = dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))
        else:
            params = dict(request.query_params)
        try:
            self._authenticate(request, params)
            return self._act(params)
        except _RefusedError as exc:
            return _answer(exc.code, str(exc))

    def _authenticate(self, request: Request, params: Mapping[str, str]) -> None:
        credentials = self.credentials.get(params.get("SecretId", ""))
        if credentials is None:
            raise _RefusedError(_CODE_AUTH, "the SecretId does not exist")
        method = params.get("SignatureMethod", "HmacSHA1")
        if method not in ("HmacSHA1", "HmacSHA256"):
            raise _RefusedError(_CODE_BAD_PARAM, f"unsupported SignatureMethod {method!r}")
        timestamp = params.get("Timestamp", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > self.clock_skew_seconds:
            raise _RefusedError(_CODE_AUTH, "the Timestamp is missing or outside the allowed window")
        if credentials.token is not None and params.get("Token") != credentials.token:
            raise _RefusedError(_CODE_AUTH, "the Token is missing or invalid")
        signed = {key: value for key, value in params.items() if key != "Signature"}
        expected = hmac_v1_signature(
            credentials.secret_key,
            method=request.method,
            host=request.headers.get("host", ""),
            path=request.url.path,
            params=signed,
            signature_method=method,
        )
        if not _same(expected, params.get("Signature", "")):
            raise _RefusedError(_CODE_AUTH, "the signature does not match")

    def _act(self, params: Mapping[str, str]) -> JSONResponse:
        action = params.get("Action", "")
        if action == "SendMessage":
            delay = _int(params, "delaySeconds", 0)
            return _answer(0, msgId=self.queues.send(_name(params, "queueName"), _body(params), delay_seconds=delay))
        if action == "PublishMessage":
            tags = [value for key, value in sorted(params.items()) if key.startswith("msgTag.")]
            if "routingKey" in params:
                tags = [params["routingKey"]]
            return _answer(0, msgId=self.queues.publish(_name(params, "topicName"), _body(params), tags=tags))
        if action == "ReceiveMessage":
            return self._receive(params)
        if action == "DeleteMessage":
            if not self.queues.delete(_name(params, "queueName"), params.get("receiptHandle", "")):
                raise _RefusedError(_CODE_BAD_PARAM, "the receiptHandle is invalid or expired")
            return _answer(0)
        raise _RefusedError(_CODE_BAD_PARAM, f"unsupported Action {action!r}")

    def _receive(self, params: Mapping[str, str]) -> JSONResponse:
        timeout = _int(params, "visibilityTimeout", _DEFAULT_VISIBILITY_SECONDS)
        message = self.queues.receive(_name(params, "queueName"), visibility_timeout=timeout)
        if message is None:
            return _answer(_CODE_NO_MESSAGE, "no message")
        return _answer(
            0,
            msgId=message.msg_id,
            msgBody=message.body,
            receiptHandle=message.receipt_handle,
            enqueueTime=int(message.enqueued),
            dequeueCount=message.dequeue_count,
            msgTag=list(message.tags),
        )


def _same(left: str, right: str) -> bool:
    return hmac.compare_digest(left.encode(), right.encode())


def _name(params: Mapping[str, str], key: str) -> str:
    value = params.get(key, "")
    if not value:
        raise _RefusedError(_CODE_BAD_PARAM, f"{key} is required")
    return value


def _body(params: Mapping[str, str]) -> str:
    if "msgBody" not in params:
        raise _RefusedError(_CODE_BAD_PARAM, "msgBody is required")
    return params["msgBody"]


def _int(params: Mapping[str, str], key: str, default: int) -> int:
    value = params.get(key, "")
    if not value:
        return default
    if not value.isdigit():
        raise _RefusedError(_CODE_BAD_PARAM, f"{key} must be a non-negative integer")
    return int(value)
