"""A tiny raw HTTP/1.1 capture server on loopback: records each request's bytes, answers a fixed 200.

Nothing here parses HTTP the way a framework would: the point is to see exactly what a client put on the
wire (duplicate header lines, whitespace, the request target as sent). Requests on one connection are read
one after another (keep-alive), so pooled clients work unchanged.
"""

from __future__ import annotations

import socketserver
import threading
from dataclasses import dataclass
from urllib.parse import unquote, unquote_plus

__all__ = ["CaptureServer", "Captured"]

_LIST_BODY = (
    b"<ListBucketResult><Name>b</Name><Prefix></Prefix><Marker></Marker><MaxKeys>1000</MaxKeys>"
    b"<IsTruncated>false</IsTruncated></ListBucketResult>"
)
_COPY_BODY = b'<CopyObjectResult><ETag>"e"</ETag><LastModified>2026-01-01T00:00:00Z</LastModified></CopyObjectResult>'


@dataclass(frozen=True)
class Captured:
    """One request as it arrived: the raw head, the parsed request line and header lines, and the body."""

    raw: bytes
    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def raw_path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def raw_query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""

    @property
    def path(self) -> str:
        """The decoded path, as a server decodes it (``%XX`` only; ``+`` is a plus in a path)."""
        return unquote(self.raw_path, errors="strict")

    @property
    def params(self) -> list[tuple[str, str]]:
        """Decoded query pairs, form-style (``+`` is a space), as COS decodes them."""
        pairs = []
        for part in self.raw_query.split("&") if self.raw_query else []:
            name, _, value = part.partition("=")
            pairs.append((unquote_plus(name, errors="strict"), unquote_plus(value, errors="strict")))
        return pairs

    def header_lines(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def header(self, name: str) -> str:
        (value,) = self.header_lines(name)
        return value


def _body_for(method: str, target: str, headers: list[tuple[str, str]]) -> bytes:
    if method == "GET" and target.split("?", 1)[0] == "/":
        return _LIST_BODY
    if method == "PUT" and any(k.lower() == "x-cos-copy-source" for k, _ in headers):
        return _COPY_BODY
    return b""


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        while True:
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                line = self.rfile.readline(65537)
                if not line:
                    return
                head += line
            lines = head[:-4].split(b"\r\n")
            method, target, _version = lines[0].decode("ascii").split(" ", 2)
            headers = []
            for line in lines[1:]:
                try:
                    text = line.decode()  # clients send non-ASCII values (x-cos-meta-*) as UTF-8
                except UnicodeDecodeError:
                    text = line.decode("latin-1")
                name, _, value = text.partition(":")
                # Keep the value exactly as sent, but drop the single conventional space after the colon.
                headers.append((name, value[1:] if value.startswith(" ") else value))
            length = sum(int(v) for k, v in headers if k.lower() == "content-length")
            body = self.rfile.read(length) if length else b""
            self.server.record(Captured(head, method, target, tuple(headers), body))
            answer = b"" if method == "HEAD" else _body_for(method, target, headers)
            self.wfile.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nx-cos-request-id: capture\r\n"
                b"Content-Length: " + str(len(answer)).encode() + b"\r\n\r\n" + answer
            )
            self.wfile.flush()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.captured: list[Captured] = []
        self._lock = threading.Lock()

    def record(self, request: Captured) -> None:
        with self._lock:
            self.captured.append(request)


class CaptureServer:
    """``with CaptureServer() as server:`` a loopback server; ``server.take()`` pops what arrived so far."""

    def __init__(self) -> None:
        self._server = _Server()
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def take(self) -> list[Captured]:
        with self._server._lock:
            taken, self._server.captured = self._server.captured, []
        return taken

    def __enter__(self) -> CaptureServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
