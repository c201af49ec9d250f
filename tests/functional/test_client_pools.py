"""The sync client's connection pools: a burst of 64 threads keeps every connection alive for the next burst."""

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ciflow import operations as ops
from ciflow.client import DEFAULT_LIMITS, CiClient, Endpoint
from tests.functional.conftest import CREDS, NO_WAIT


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    connections: set[tuple[str, int]]
    lock: threading.Lock


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as COS

    def do_HEAD(self) -> None:
        time.sleep(0.05)  # as a remote COS: the burst's requests overlap, every pool fills
        server = self.server
        assert isinstance(server, _Server)
        with server.lock:
            server.connections.add(self.client_address)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[_Server]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.connections, httpd.lock = set(), threading.Lock()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def burst(client: CiClient, threads: int, requests_each: int) -> None:
    def one_thread(index: int) -> None:
        for request in range(requests_each):
            client.send(ops.head_object(f"k{index}-{request}"))

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one_thread, range(threads)))


def test_a_second_burst_reuses_the_connections_of_the_first(server: _Server) -> None:
    endpoint = Endpoint(
        "ap-guangzhou", "b-1250000000", scheme="http", override=f"http://127.0.0.1:{server.server_port}"
    )
    with CiClient(endpoint, CREDS, retry=NO_WAIT) as client:
        burst(client, 64, 3)
        first = set(server.connections)
        burst(client, 64, 3)
    assert len(first) <= (DEFAULT_LIMITS.max_connections or 0)
    # Pools that keep fewer connections alive than they open close and reopen them all through each burst.
    assert server.connections == first, "the second burst opened new connections: the pools closed some"
