"""The RabbitMQ sink against the real broker on 127.0.0.1:5672: confirms, properties, routing failures, outages.

Every test declares its own durable exchange and queue (unique names) and deletes them afterwards. Outages
are staged with a local TCP proxy in front of the broker that can drop or freeze its connections.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import pika
import pytest
from pika.adapters.blocking_connection import BlockingChannel

from ciflow.client import Deadline
from ciflow.results import JobResult, ObjectLocation
from ciflow.routing import DeliveryError
from ciflow.routing._amqp import AmqpSink

pytestmark = pytest.mark.rabbitmq

HOST, PORT = "127.0.0.1", 5672
URL = f"amqp://guest:guest@{HOST}:{PORT}/%2F"
T0 = 1_700_000_000


@pytest.fixture(scope="session")
def broker() -> Iterator[pika.BlockingConnection]:
    """An admin connection to the RabbitMQ server CI starts; unreachable is a failure, never a skip."""
    parameters = pika.URLParameters(URL)
    parameters.socket_timeout = parameters.stack_timeout = 5
    parameters.connection_attempts = 1
    try:
        connection = pika.BlockingConnection(parameters)
    except pika.exceptions.AMQPError as exc:
        pytest.fail(f"RabbitMQ on {HOST}:{PORT} is unreachable ({exc!r}); CI starts it (.ci/run)")
    yield connection
    connection.close()


@dataclass
class Topology:
    exchange: str
    queue: str
    routing_key: str
    channel: BlockingChannel

    def bind(self, routing_key: str) -> None:
        self.channel.queue_bind(self.queue, self.exchange, routing_key=routing_key)

    def drain(self, expected: int, timeout: float = 5.0) -> list[tuple[pika.spec.BasicProperties, bytes]]:
        """Consume exactly ``expected`` messages (acking them), then check nothing else is waiting."""
        messages: list[tuple[pika.spec.BasicProperties, bytes]] = []
        until = time.monotonic() + timeout
        while len(messages) < expected and time.monotonic() < until:
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                time.sleep(0.02)
                continue
            messages.append((properties, body))
        assert len(messages) == expected, f"got {len(messages)} of {expected} messages"
        assert self.channel.basic_get(self.queue, auto_ack=True)[0] is None, "more messages than expected"
        return messages


@pytest.fixture
def topology(broker: pika.BlockingConnection) -> Iterator[Topology]:
    suffix = uuid.uuid4().hex[:12]
    channel = broker.channel()
    exchange, queue, key = f"ciflow.test.{suffix}", f"ciflow.test.{suffix}.results", "results"
    channel.exchange_declare(exchange, exchange_type="direct", durable=True)
    channel.queue_declare(queue, durable=True)
    channel.queue_bind(queue, exchange, routing_key=key)
    yield Topology(exchange, queue, key, channel)
    if channel.is_closed:
        channel = broker.channel()
    channel.queue_delete(queue)
    channel.exchange_delete(exchange)
    channel.close()


@pytest.fixture
def make_sink() -> Iterator[Callable[..., AmqpSink]]:

    sinks: list[AmqpSink] = []

    def make(url: str = URL, **options: Any) -> AmqpSink:
        sinks.append(AmqpSink(url, **{"clock": lambda: T0, **options}))
        return sinks[-1]

    yield make
    for sink in sinks:
        sink.close()


def make_result(**overrides: Any) -> JobResult:
    values: dict[str, Any] = {
        "kind": "media",
        "event": "TaskFinish",
        "job_id": "j8d1f6c2a5b3e11ee9a7d525400f3a2b1",
        "tag": "Transcode",
        "state": "Success",
        "succeeded": True,
        "input": ObjectLocation(bucket="media-1250000000", region="ap-guangzhou", key="uploads/视频 1.mp4"),
        "route": "transcode",
        "correlation_id": "3f2a9c0d1e4b5a6c7d8e",
        "step": "transcode-0",
        "user_data_valid": True,
    }
    values.update(overrides)
    return JobResult(**values)


class Proxy:
    """A TCP proxy to the broker whose connections can be dropped (RST-like close) or frozen (no bytes pass)."""

    def __init__(self, target: tuple[str, int] = (HOST, PORT)) -> None:
        self.target = target
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.frozen = threading.Event()
        self.closed = threading.Event()
        self.sockets: list[socket.socket] = []
        self.threads: list[threading.Thread] = []
        self._start(self._accept)

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"

    def _start(self, target: Callable[..., object], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self.threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            self._start(self._pump, client, upstream)
            self._start(self._pump, upstream, client)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while True:
                data = source.recv(65536)
                if not data:
                    break
                while self.frozen.is_set() and not self.closed.is_set():
                    time.sleep(0.01)
                sink.sendall(data)
        self._close(source, sink)

    @staticmethod
    def _close(*sockets: socket.socket) -> None:
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def drop(self) -> None:
        """Cut every open connection, as a broker restart or an idle timeout would."""
        self._close(*self.sockets)
        self.sockets.clear()

    def refuse(self) -> None:
        """Stop accepting: new connections are refused (shutdown also wakes the blocked accept)."""
        self._close(self.server)

    def close(self) -> None:
        self.closed.set()
        self.frozen.clear()
        self._close(self.server, *self.sockets)
        for thread in self.threads:
            thread.join(timeout=5)


@pytest.fixture
def proxy() -> Iterator[Proxy]:
    proxy = Proxy()
    yield proxy
    proxy.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return cast(int, sock.getsockname()[1])


# -- delivery -------------------------------------------------------------------------------------------------------


def test_a_delivered_result_is_in_the_queue_with_its_properties(
    topology: Topology, make_sink: Callable[..., AmqpSink]
) -> None:
    sink = make_sink(exchange=topology.exchange, routing_key=topology.routing_key)
    result = make_result()

    sink.deliver(result, deadline=Deadline.after(10))

    [(properties, body)] = topology.drain(1)
    assert body == result.model_dump_json().encode()
    assert JobResult.model_validate_json(body) == result
    assert properties.content_type == "application/json"
    assert properties.content_encoding == "utf-8"
    assert properties.delivery_mode == 2
    assert properties.message_id == "media:j8d1f6c2a5b3e11ee9a7d525400f3a2b1:Success"
    assert properties.correlation_id == "3f2a9c0d1e4b5a6c7d8e"
    assert properties.timestamp == T0
    assert properties.app_id == "ciflow"
    assert properties.type == "ciflow.result.media"
    assert properties.headers == {
        "route": "transcode",
        "kind": "media",
        "state": "Success",
        "tag": "Transcode",
        "job_id": "j8d1f6c2a5b3e11ee9a7d525400f3a2b1",
        "succeeded": True,
        "schema_version": 1,
    }


def test_headers_leave_out_what_a_result_does_not_have(topology: Topology, make_sink: Callable[..., AmqpSink]) -> None:
    sink = make_sink(exchange=topology.exchange, routing_key=topology.routing_key)

    result = make_result(kind="unknown", job_id=None, tag=None, state=None, route=None, succeeded=False)
    sink.deliver(result)

    [(properties, _)] = topology.drain(1)
    assert properties.headers == {"kind": "unknown", "succeeded": False, "schema_version": 1}
    assert properties.message_id == result.dedupe_key
    assert properties.message_id.startswith("unknown:content-")


def test_one_connection_serves_many_deliveries(topology: Topology, make_sink: Callable[..., AmqpSink]) -> None:
    sink = make_sink(exchange=topology.exchange, routing_key=topology.routing_key)

    sink.deliver(make_result(job_id="j1"))
    connection = sink._connection
    for n in range(2, 6):
        sink.deliver(make_result(job_id=f"j{n}"))

    assert sink._connection is connection
    ids = [properties.message_id for properties, _ in topology.drain(5)]
    assert ids == [f"media:j{n}:Success" for n in range(1, 6)]


def test_the_routing_key_may_be_computed_from_the_result(
    topology: Topology, make_sink: Callable[..., AmqpSink]
) -> None:
    topology.bind("ciflow.media.Success")
    sink = make_sink(exchange=topology.exchange, routing_key=lambda r: f"ciflow.{r.kind}.{r.state}")

    sink.deliver(make_result())
    with pytest.raises(DeliveryError, match="unroutable"):
        sink.deliver(make_result(state="Failed"))

    [(properties, _)] = topology.drain(1)
    assert properties.headers["state"] == "Success"


def test_concurrent_deliveries_from_many_threads_are_all_confirmed(
    topology: Topology, make_sink: Callable[..., AmqpSink]
) -> None:
    sink = make_sink(exchange=topology.exchange, routing_key=topology.routing_key)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for n in range(10):
                sink.deliver(make_result(job_id=f"w{worker}-{n}"))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    ids = {properties.message_id for properties, _ in topology.drain(60)}
    assert ids == {f"media:w{worker}-{n}:Success" for worker in range(6) for n in range(10)}


# -- refusals --------------------------------------------------------------------------------------------------------


def test_an_unroutable_routing_key_is_a_permanent_error_and_the_sink_keeps_working(
    topology: Topology, make_sink: Callable[..., AmqpSink]
) -> None:
    lost = make_sink(exchange=topology.exchange, routing_key="nobody-listens")
    good = make_sink(exchange=topology.exchange, routing_key=topology.routing_key)

    with pytest.raises(DeliveryError, match="unroutable") as raised:
        lost.deliver(make_result())

    assert raised.value.transient is False
    assert raised.value.sink == "rabbitmq"
    assert "nobody-listens" in str(raised.value)
    good.deliver(make_result())
    topology.drain(1)
    # The confirm channel survives a returned message: the same connection delivers next time.
    connection = lost._connection
    topology.bind("nobody-listens")
    lost.deliver(make_result(job_id="late"))
    assert lost._connection is connection
    topology.drain(1)


def test_a_missing_exchange_is_permanent_and_the_channel_recovers(
    topology: Topology, make_sink: Callable[..., AmqpSink], broker: pika.BlockingConnection
) -> None:
    exchange = topology.exchange + ".later"
    sink = make_sink(exchange=exchange, routing_key=topology.routing_key)

    with pytest.raises(DeliveryError, match="404") as raised:
        sink.deliver(make_result())
    assert raised.value.transient is False

    topology.channel.exchange_declare(exchange, exchange_type="direct", durable=True)
    try:
        topology.channel.queue_bind(topology.queue, exchange, routing_key=topology.routing_key)
        sink.deliver(make_result())
        topology.drain(1)
    finally:
        topology.channel.exchange_delete(exchange)


def test_wrong_credentials_are_permanent_and_never_echo_the_password(
    make_sink: Callable[..., AmqpSink], topology: Topology
) -> None:
    sink = make_sink(
        f"amqp://guest:not-the-password-42@{HOST}:{PORT}/%2F", exchange=topology.exchange, routing_key="results"
    )

    with pytest.raises(DeliveryError) as raised:
        sink.deliver(make_result())

    assert raised.value.transient is False
    assert "not-the-password-42" not in str(raised.value)
    assert "not-the-password-42" not in repr(sink)


def test_an_unknown_vhost_is_permanent(make_sink: Callable[..., AmqpSink], topology: Topology) -> None:
    sink = make_sink(
        f"amqp://guest:guest@{HOST}:{PORT}/no-such-vhost-{uuid.uuid4().hex[:6]}", exchange="x", routing_key="r"
    )

    with pytest.raises(DeliveryError) as raised:
        sink.deliver(make_result())

    assert raised.value.transient is False


# -- outages ---------------------------------------------------------------------------------------------------------


def test_an_unreachable_broker_is_a_transient_error(make_sink: Callable[..., AmqpSink]) -> None:
    sink = make_sink(f"amqp://guest:guest@127.0.0.1:{closed_port()}/%2F", exchange="x", routing_key="r")

    started = time.monotonic()
    with pytest.raises(DeliveryError, match="cannot reach the broker") as raised:
        sink.deliver(make_result())

    assert raised.value.transient is True
    assert time.monotonic() - started < 5


def test_a_broker_that_never_answers_times_out_at_connect(make_sink: Callable[..., AmqpSink]) -> None:
    silent = socket.create_server(("127.0.0.1", 0))  # accepts TCP, never speaks AMQP
    try:
        port = silent.getsockname()[1]
        sink = make_sink(f"amqp://guest:guest@127.0.0.1:{port}/%2F", exchange="x", routing_key="r", connect_timeout=0.5)
        started = time.monotonic()
        with pytest.raises(DeliveryError) as raised:
            sink.deliver(make_result())
        assert raised.value.transient is True
        assert time.monotonic() - started < 3
    finally:
        silent.close()


def test_a_dropped_connection_is_replaced_once(
    topology: Topology, make_sink: Callable[..., AmqpSink], proxy: Proxy
) -> None:
    sink = make_sink(proxy.url, exchange=topology.exchange, routing_key=topology.routing_key)
    sink.deliver(make_result(job_id="before"))
    first = sink._connection

    proxy.drop()
    time.sleep(0.1)
    sink.deliver(make_result(job_id="after"))

    assert sink._connection is not first
    ids = [properties.message_id for properties, _ in topology.drain(2)]
    assert ids == ["media:before:Success", "media:after:Success"]


def test_a_broker_that_stops_confirming_hits_the_publish_timeout(
    topology: Topology, make_sink: Callable[..., AmqpSink], proxy: Proxy
) -> None:
    sink = make_sink(proxy.url, exchange=topology.exchange, routing_key=topology.routing_key, publish_timeout=0.5)
    sink.deliver(make_result(job_id="before"))

    proxy.frozen.set()
    started = time.monotonic()
    with pytest.raises(DeliveryError, match=r"no publisher confirm within 0\.5s") as raised:
        sink.deliver(make_result(job_id="stuck"))
    elapsed = time.monotonic() - started

    assert raised.value.transient is True
    assert elapsed < 3
    proxy.frozen.clear()
    proxy.drop()
    sink.deliver(make_result(job_id="after"))  # a new connection
    ids = {properties.message_id for properties, _ in topology.drain(2)}
    assert ids == {"media:before:Success", "media:after:Success"}


def test_the_deadline_caps_the_publish_wait(
    topology: Topology, make_sink: Callable[..., AmqpSink], proxy: Proxy
) -> None:
    sink = make_sink(proxy.url, exchange=topology.exchange, routing_key=topology.routing_key, publish_timeout=30)
    sink.deliver(make_result(job_id="before"))
    topology.drain(1)

    proxy.frozen.set()
    started = time.monotonic()
    with pytest.raises(DeliveryError) as raised:
        sink.deliver(make_result(job_id="stuck"), deadline=Deadline.after(0.5))

    assert raised.value.transient is True
    assert time.monotonic() - started < 3


def test_a_computed_routing_key_over_255_bytes_is_a_permanent_error(make_sink: Callable[..., AmqpSink]) -> None:
    sink = make_sink(exchange="x", routing_key=lambda r: "é" * 128)

    with pytest.raises(DeliveryError, match="over 255 bytes") as raised:
        sink.deliver(make_result())

    assert raised.value.transient is False
    assert sink._connection is None


def test_an_expired_deadline_publishes_nothing(topology: Topology, make_sink: Callable[..., AmqpSink]) -> None:
    sink = make_sink(exchange=topology.exchange, routing_key=topology.routing_key)

    with pytest.raises(DeliveryError, match="deadline") as raised:
        sink.deliver(make_result(), deadline=Deadline.after(-1))

    assert raised.value.transient is True
    assert sink._connection is None


@pytest.mark.parametrize(
    ("url", "options", "message"),
    [
        ("http://127.0.0.1:5672/", {}, "amqp://"),
        (URL, {"publish_timeout": 0}, "positive"),
        (URL, {"routing_key": "k" * 256}, "255 bytes"),
    ],
)
def test_bad_configuration_is_refused(url: str, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AmqpSink(url, **{"exchange": "x", "routing_key": "r", **options})


def test_a_connection_that_dies_under_the_publish_is_replaced_once(
    topology: Topology, make_sink: Callable[..., AmqpSink], proxy: Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = make_sink(proxy.url, exchange=topology.exchange, routing_key=topology.routing_key)
    sink.deliver(make_result(job_id="before"))
    first = sink._connection
    # Skip the idle check, so the loss is only found by the publish itself.
    monkeypatch.setattr(first, "process_data_events", lambda time_limit=None: None)

    proxy.drop()
    time.sleep(0.1)
    sink.deliver(make_result(job_id="after"))

    assert sink._connection is not first
    ids = [properties.message_id for properties, _ in topology.drain(2)]
    assert ids == ["media:before:Success", "media:after:Success"]


def test_a_second_drop_in_one_delivery_is_a_transient_error(
    topology: Topology, make_sink: Callable[..., AmqpSink], proxy: Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = make_sink(proxy.url, exchange=topology.exchange, routing_key=topology.routing_key)
    sink.deliver(make_result(job_id="before"))
    monkeypatch.setattr(sink._connection, "process_data_events", lambda time_limit=None: None)
    proxy.drop()
    proxy.refuse()  # nothing to reconnect to
    time.sleep(0.1)

    with pytest.raises(DeliveryError, match="cannot reach the broker") as raised:
        sink.deliver(make_result(job_id="after"))

    assert raised.value.transient is True
    topology.drain(1)
