"""A loopback stand-in for COS and CI that answers every request after a fixed delay (benchmarks only).

Job submissions get a JobsDetail with a fresh job id; object PUT/GET/DELETE keep bytes in memory and honour
``x-cos-forbid-overwrite`` (so the COS-marker idempotency store works against it).
Run: python benchmarks/_slow_server.py PORT DELAY_MS
"""

import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OBJECTS: dict[str, bytes] = {}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    delay = 0.05

    def log_message(self, *args: object) -> None:
        return

    def _reply(self, status: int, body: bytes = b"") -> None:
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


if __name__ == "__main__":
    Handler.delay = int(sys.argv[2]) / 1000
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.daemon_threads = True
    server.serve_forever()
