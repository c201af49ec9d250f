"""TDMQ for RabbitMQ (AMQP 0-9-1) sink over pika: persistent JSON messages, delivered only once confirmed."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from ..client import Deadline
from ..logging import get_logger
from ..results import JobResult
from ._sink import DeliveryError

if TYPE_CHECKING:
    import pika
    from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

    from ._sink import Sink

__all__ = ["AmqpSink"]

_log = get_logger("ciflow.routing")

# Broker replies that no retry will change: the exchange is missing (404), access is refused (403), an
# argument does not match (406), the vhost is not allowed (530).
_PERMANENT_REPLY_CODES = frozenset({403, 404, 406, 530})
#: AMQP short strings (exchange names, routing keys) hold at most 255 bytes.
_MAX_SHORTSTR = 255


class _PublishTimeoutError(Exception):
    """No confirm (ack, nack or return) arrived within the publish timeout; the connection was torn down."""


class AmqpSink:
    """Publish each result to ``exchange`` with ``routing_key`` (fixed, or computed from the result).

    ``url`` is an AMQP URL (``amqp://user:password@host:5672/vhost``; TDMQ vhosts such as ``amqp-xxxx|name`` are
    percent-encoded); pika options in its query (``heartbeat``, ``socket_timeout``…) win over the keyword
    defaults here. The channel is in publisher-confirm mode and every publish is ``mandatory``: ``deliver``
    returns only once the broker acked the message, and raises ``DeliveryError`` when it was returned as
    unroutable (permanent) or nacked (transient). Messages are persistent ``application/json`` with
    ``message_id`` = ``result.dedupe_key`` and ``route``/``kind``/``state``/… headers.

    One connection is reused across deliveries (a lock serialises them: pika connections are not
    thread-safe); a connection found dropped is replaced once per delivery. Connect, publish-confirm and
    blocked-connection waits are bounded, and never outlast the caller's deadline.
    """

    def __init__(
        self,
        url: str,
        *,
        exchange: str,
        routing_key: str | Callable[[JobResult], str],
        name: str = "rabbitmq",
        connect_timeout: float = 5.0,
        publish_timeout: float = 10.0,
        blocked_connection_timeout: float = 30.0,
        heartbeat: int = 60,
        clock: Callable[[], float] = time.time,
    ) -> None:
        try:
            import pika  # noqa: F401  (fail at configuration time, not at the first delivery)
        except ImportError as exc:  # pragma: no cover - the extra is installed wherever the sink is configured
            raise ImportError("AmqpSink needs pika: install the ciflow[amqp] extra") from exc
        parts = urlsplit(url)
        if parts.scheme not in ("amqp", "amqps") or not parts.hostname:
            raise ValueError("AMQP sink URL must look like amqp://user:password@host:5672/vhost")
        if len(exchange.encode()) > _MAX_SHORTSTR or (
            isinstance(routing_key, str) and len(routing_key.encode()) > _MAX_SHORTSTR
        ):
            raise ValueError("AMQP exchange names and routing keys hold at most 255 bytes")
        if min(connect_timeout, publish_timeout, blocked_connection_timeout) <= 0:
            raise ValueError("AMQP timeouts must be positive")
        self.name = name
        self.exchange = exchange
        self._routing_key = routing_key
        self.connect_timeout = connect_timeout
        self.publish_timeout = publish_timeout
        self.blocked_connection_timeout = blocked_connection_timeout
        self.heartbeat = heartbeat
        self._url = url
        self._url_options = set(parse_qs(parts.query))
        vhost = unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
        #: Where messages go, for logs and errors: never the credentials.
        self.where = f"{parts.scheme}://{parts.hostname}:{parts.port or (5671 if parts.scheme == 'amqps' else 5672)}"
        self.where += f" vhost {vhost!r} exchange {exchange!r}"
        self._clock = clock
        self._lock = threading.Lock()
        self._connection: BlockingConnection | None = None
        self._channel: BlockingChannel | None = None

    def __repr__(self) -> str:
        return f"AmqpSink(name={self.name!r}, {self.where})"

    # -- the Sink contract ------------------------------------------------------------------------------------

    def deliver(self, result: JobResult, *, deadline: Deadline | None = None) -> None:
        """Publish ``result.model_dump_json()``; return once the broker confirmed it."""
        body = result.model_dump_json().encode()
        routing_key = self._routing_key if isinstance(self._routing_key, str) else self._routing_key(result)
        if len(routing_key.encode()) > _MAX_SHORTSTR:
            raise DeliveryError(self.name, f"routing key {routing_key[:40]!r}… is over 255 bytes", transient=False)
        properties = self._properties(result)
        with self._lock:
            before = self._connection
            channel = self._ready_channel(deadline)
            reused = before is not None and self._connection is before
            try:
                self._publish(channel, routing_key, body, properties, deadline)
            except DeliveryError:
                raise
            except Exception as exc:
                if not (reused and self._is_dropped_connection(exc)):
                    raise self._error_for(exc, routing_key) from exc
                # A connection that died while idle (broker restart, heartbeat missed during a frozen SCF
                # instance): open a new one and publish again, once.
                _log.warning("amqp connection dropped; reconnecting", sink=self.name, error=repr(exc))
                self._discard()
                channel = self._ready_channel(deadline)
                try:
                    self._publish(channel, routing_key, body, properties, deadline)
                except DeliveryError:
                    raise
                except Exception as retry_exc:
                    raise self._error_for(retry_exc, routing_key) from retry_exc
        _log.debug("delivered", sink=self.name, routing_key=routing_key, dedupe_key=result.dedupe_key)

    def close(self) -> None:
        """Close the connection (a later delivery opens a new one)."""
        with self._lock:
            self._discard()

    def __enter__(self) -> AmqpSink:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- connection management (under the lock) ---------------------------------------------------------------

    def _remaining(self, limit: float, deadline: Deadline | None) -> float:
        if deadline is None:
            return limit
        left = deadline.remaining()
        if left <= 0:
            raise DeliveryError(self.name, f"deadline passed before publishing to {self.where}", transient=True)
        return min(limit, left)

    def _parameters(self, deadline: Deadline | None) -> pika.URLParameters:
        import pika

        parameters = pika.URLParameters(self._url)
        connect = self._remaining(self.connect_timeout, deadline)
        defaults: dict[str, object] = {
            "socket_timeout": connect,
            "stack_timeout": connect,
            "connection_attempts": 1,
            "retry_delay": 0,
            "blocked_connection_timeout": self.blocked_connection_timeout,
            "heartbeat": self.heartbeat,
        }
        for option, value in defaults.items():
            if option not in self._url_options:
                setattr(parameters, option, value)
        # The deadline caps connection establishment even when the URL names its own timeouts.
        for option in ("socket_timeout", "stack_timeout"):
            current = getattr(parameters, option)
            if current is None or current > connect:
                setattr(parameters, option, connect)
        parameters.client_properties = {"connection_name": f"ciflow {self.name}", "product": "ciflow"}
        return parameters

    def _ready_channel(self, deadline: Deadline | None) -> BlockingChannel:
        """The open confirm-mode channel, reconnecting (or reopening the channel) when needed."""
        if self._connection is not None and self._connection.is_open:
            try:
                # Surfaces a connection the broker closed while we were idle, before anything is published.
                self._connection.process_data_events(time_limit=0)
            except Exception as exc:
                _log.info("amqp connection found closed; reconnecting", sink=self.name, error=repr(exc))
                self._discard()
        if self._connection is None or not self._connection.is_open:
            self._discard()
            import pika

            try:
                self._connection = pika.BlockingConnection(self._parameters(deadline))
            except DeliveryError:
                raise
            except Exception as exc:
                raise self._error_for(exc, None) from exc
        if self._channel is None or not self._channel.is_open:
            try:
                channel = self._connection.channel()
                channel.confirm_delivery()
            except Exception as exc:
                self._discard()
                raise self._error_for(exc, None) from exc
            self._channel = channel
        return self._channel

    def _discard(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except Exception as exc:  # already broken: nothing left to release
                _log.debug("amqp close failed", sink=self.name, error=repr(exc))

    # -- publishing -------------------------------------------------------------------------------------------

    def _properties(self, result: JobResult) -> pika.BasicProperties:
        import pika

        headers: dict[str, object] = {
            "route": result.route,
            "kind": result.kind,
            "state": result.state,
            "tag": result.tag,
            "job_id": result.job_id,
            "succeeded": result.succeeded,
            "schema_version": result.schema_version,
        }
        return pika.BasicProperties(
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,  # persistent
            message_id=result.dedupe_key,
            correlation_id=result.correlation_id,
            timestamp=int(self._clock()),
            type=f"ciflow.result.{result.kind}",
            app_id="ciflow",
            headers={key: value for key, value in headers.items() if value is not None},
        )

    def _publish(
        self,
        channel: BlockingChannel,
        routing_key: str,
        body: bytes,
        properties: pika.BasicProperties,
        deadline: Deadline | None,
    ) -> None:
        timeout = self._remaining(self.publish_timeout, deadline)
        with self._confirm_timer(timeout):
            channel.basic_publish(self.exchange, routing_key, body, properties=properties, mandatory=True)

    @contextmanager
    def _confirm_timer(self, timeout: float) -> Iterator[None]:
        """Tear the connection down if the broker has not confirmed within ``timeout``.

        BlockingChannel.basic_publish waits for the confirm without a limit of its own; the timer runs on the
        connection's I/O loop (as pika's own blocked-connection timeout does), so the wait ends with
        ``_PublishTimeoutError``. Without those internals, heartbeats and the blocked timeout still bound it.
        """
        impl: Any = getattr(self._connection, "_impl", None)
        if impl is None or not all(
            hasattr(impl, attribute)
            for attribute in ("_adapter_call_later", "_adapter_remove_timeout", "_terminate_stream")
        ):
            yield  # pragma: no cover - pika 1.3/1.4 have them
            return

        def expire() -> None:
            impl._terminate_stream(_PublishTimeoutError(f"no publisher confirm within {timeout:.3g}s"))

        handle = impl._adapter_call_later(timeout, expire)
        try:
            yield
        finally:
            impl._adapter_remove_timeout(handle)

    # -- errors -----------------------------------------------------------------------------------------------

    @staticmethod
    def _is_dropped_connection(exc: BaseException) -> bool:
        from pika import exceptions

        if isinstance(exc, _PublishTimeoutError) or _cause(exc, _PublishTimeoutError) is not None:
            return False
        return isinstance(
            exc,
            exceptions.StreamLostError
            | exceptions.ConnectionWrongStateError
            | exceptions.ChannelWrongStateError
            | exceptions.ConnectionClosedByBroker
            | ConnectionError,
        )

    def _error_for(self, exc: BaseException, routing_key: str | None) -> DeliveryError:
        """Type a pika failure: permanent when only a configuration change can fix it."""
        from pika import exceptions

        if isinstance(exc, DeliveryError):
            return exc
        where = self.where if routing_key is None else f"{self.where} routing key {routing_key!r}"
        transient = True
        if isinstance(exc, exceptions.UnroutableError):
            message, transient = "unroutable: the broker returned the message (no queue is bound for it)", False
        elif isinstance(exc, exceptions.NackError):
            message = "the broker nacked the message (internal error)"
        elif isinstance(exc, exceptions.ChannelClosedByBroker | exceptions.ConnectionClosedByBroker):
            closed = "channel" if isinstance(exc, exceptions.ChannelClosedByBroker) else "connection"
            message = f"broker closed the {closed}: {exc.reply_code} {exc.reply_text}"
            transient = exc.reply_code not in _PERMANENT_REPLY_CODES
            if isinstance(exc, exceptions.ChannelClosedByBroker):
                self._channel = None
        elif isinstance(exc, exceptions.ProbableAuthenticationError | exceptions.AuthenticationError):
            message, transient = "authentication refused (check the user and password)", False
        elif isinstance(exc, exceptions.ProbableAccessDeniedError):
            message, transient = "access to the virtual host refused", False
        elif (timeout := _cause(exc, _PublishTimeoutError)) is not None:
            message = f"{timeout}; the connection was closed and the message may or may not have been routed"
        elif isinstance(exc, exceptions.ConnectionBlockedTimeout):
            message = "the broker blocked publishing (resource alarm) past the blocked-connection timeout"
        elif isinstance(exc, exceptions.AMQPConnectionError | OSError):
            message = f"cannot reach the broker: {type(exc).__name__}: {_describe(exc)}"
        else:
            message = f"{type(exc).__name__}: {_describe(exc)}"
        if transient and not isinstance(exc, exceptions.NackError | exceptions.ChannelClosedByBroker):
            self._discard()
        return DeliveryError(self.name, f"{where}: {message}", transient=transient)


def _cause(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """``exc`` or the exception pika wrapped in it (its args), when it is a ``kind``."""
    if isinstance(exc, kind):
        return exc
    for arg in getattr(exc, "args", ()):
        if isinstance(arg, kind):
            return arg
    return None


def _describe(exc: BaseException) -> str:
    text = str(exc) or repr(exc)
    return text[:300]


if TYPE_CHECKING:

    def _is_a_sink(sink: AmqpSink) -> Sink:  # mypy proves the structural match
        return sink
