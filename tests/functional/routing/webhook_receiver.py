"""A real HTTP webhook receiver for tests: verifies every request with ``verify_webhook`` and follows a script."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import cast

from ciflow.routing._webhook import WebhookVerificationError, verify_webhook

SECRET = "whsec_" + "c2VjcmV0LWtleS1mb3ItdGhlLXdlYmhvb2stdGVzdHM="  # base64 of 30 bytes


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    reason: str | None


@dataclass
class Receiver:
    """``plan`` holds the answers to the next requests, in order: an int status, ``("hang", seconds)`` or
    ``(status, {header: value})``; when it is empty every verified request gets 204."""

    url: str = ""
    secret: str = SECRET
    plan: deque[object] = field(default_factory=deque)
    requests: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, times: int, status: int = 503) -> None:
        self.plan.extend([status] * times)

    @property
    def verified(self) -> list[Received]:
        return [request for request in self.requests if request.verified]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _answer(self, status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            reason: str | None
            try:
                verify_webhook(receiver.secret, headers, body)
            except WebhookVerificationError as exc:
                verified, reason = False, exc.reason
            else:
                verified, reason = True, None
            with receiver.lock:
                receiver.requests.append(Received(self.path, headers, body, verified, reason))
                action = receiver.plan.popleft() if receiver.plan else None
            if not verified:
                self._answer(401, body=f"signature: {reason}".encode())
            elif action is None:
                self._answer(204)
            elif isinstance(action, int):
                self._answer(action, body=b"planned failure")
            elif isinstance(action, tuple) and action[0] == "hang":
                receiver.release.wait(action[1])
                self.close_connection = True
            else:
                status, extra = cast(tuple[int, dict[str, str]], action)
                self._answer(status, extra)

    return Handler


class ReceiverServer:
    def __init__(self) -> None:
        self.receiver = Receiver()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.receiver))
        self.server.daemon_threads = True
        host, port = cast(tuple[str, int], self.server.server_address[:2])
        self.receiver.url = f"http://{host}:{port}/hooks/ciflow"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self.receiver

    def __exit__(self, *exc_info: object) -> None:
        self.receiver.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
