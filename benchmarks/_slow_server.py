"""A loopback stand-in for COS and CI that answers every request after a fixed delay (benchmarks only).

Job submissions get a JobsDetail with a fresh job id; object PUT/GET/DELETE keep bytes in memory and honour
``x-cos-forbid-overwrite`` (so the COS-marker idempotency store works against it); GET on the bucket lists them.
A delay of 0 makes it the "instant server" of the per-function figures. ``GET /__bench/requests`` answers (at
once) the requests served since the last such call, by method, and resets the counts.
Run: python benchmarks/_slow_server.py PORT DELAY_MS
"""

import json
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

OBJECTS: dict[str, bytes] = {}
LOCK = threading.Lock()
#: Requests answered since the last ``GET /__bench/requests`` (which reads and resets them), by method.
REQUESTS: dict[str, int] = {}
STATS_PATH = "/__bench/requests"


def listing(target: str) -> bytes:
    """GET Bucket (list objects, v1) over the stored objects: ``prefix``, ``marker`` and ``max-keys``."""
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(target).query, keep_blank_values=True))
    prefix, marker = query.get("prefix", ""), query.get("marker", "")
    limit = int(query.get("max-keys") or 1000)
    with LOCK:
        names = sorted(urllib.parse.unquote(path[1:]) for path in OBJECTS)
    matching = [name for name in names if name.startswith(prefix) and name > marker]
    page, truncated = matching[:limit], len(matching) > limit
    contents = "".join(
        f"<Contents><Key>{escape(name)}</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified>"
        f'<ETag>"0"</ETag><Size>0</Size><StorageClass>STANDARD</StorageClass></Contents>'
        for name in page
    )
    next_marker = f"<NextMarker>{escape(page[-1])}</NextMarker>" if truncated else ""
    return (
        f"<ListBucketResult><Name>bucket</Name><Prefix>{escape(prefix)}</Prefix><Marker>{escape(marker)}</Marker>"
        f"<MaxKeys>{limit}</MaxKeys><IsTruncated>{str(truncated).lower()}</IsTruncated>{next_marker}{contents}"
        "</ListBucketResult>"
    ).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    delay = 0.05

    def log_message(self, *args: object) -> None:
        return

    # Each response leaves in one send, at the flush after the request: written unbuffered as headers then
    # body, with Nagle's algorithm on, the body waited for the client's delayed ACK of the headers (up to 40 ms
    # per request on Linux), which measured the harness and not the code (httpcore sets TCP_NODELAY already).
    wbufsize = -1
    disable_nagle_algorithm = True

    def _reply(self, status: int, body: bytes = b"") -> None:
        with LOCK:
            REQUESTS[self.command] = REQUESTS.get(self.command, 0) + 1
        time.sleep(self.delay)
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "application/xml")
        self.send_header("x-cos-request-id", uuid.uuid4().hex)
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def do_POST(self) -> None:
        self._body()
        job_id = "j" + uuid.uuid4().hex
        self._reply(
            200,
            f"<Response><JobsDetail><Code>Success</Code><JobId>{job_id}</JobId><State>Submitted</State>"
            f"</JobsDetail></Response>".encode(),
        )

    def do_PUT(self) -> None:
        body = self._body()
        with LOCK:
            if self.headers.get("x-cos-forbid-overwrite") == "true" and self.path in OBJECTS:
                conflict = True
            else:
                OBJECTS[self.path], conflict = body, False
        if conflict:
            self._reply(409, b"<Error><Code>FileAlreadyExists</Code><Message>exists</Message></Error>")
        else:
            self._reply(200)

    def do_GET(self) -> None:
        if self.path == STATS_PATH:  # answered at once, not counted
            with LOCK:
                counts = json.dumps(REQUESTS).encode()
                REQUESTS.clear()
            self.send_response(200)
            self.send_header("Content-Length", str(len(counts)))
            self.end_headers()
            self.wfile.write(counts)
            return
        if self.path == "/" or self.path.startswith("/?"):
            self._reply(200, listing(self.path))
            return
        with LOCK:
            body = OBJECTS.get(self.path)
        if body is None:
            self._reply(404, b"<Error><Code>NoSuchKey</Code></Error>")
        else:
            self._reply(200, body)

    def do_DELETE(self) -> None:
        with LOCK:
            OBJECTS.pop(self.path, None)
        self._reply(204)


class Server(ThreadingHTTPServer):
    # socketserver's default listen backlog is 5: a fan-out opening dozens of connections at once overflows it,
    # and each dropped SYN costs the client a 1 s retransmit (or a failed connect). The kernel caps this at
    # net.core.somaxconn.
    request_queue_size = 1024
    daemon_threads = True


if __name__ == "__main__":
    Handler.delay = int(sys.argv[2]) / 1000
    server = Server(("127.0.0.1", int(sys.argv[1])), Handler)
    server.serve_forever()
