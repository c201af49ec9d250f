"""The callback function for end-to-end tests, served on loopback as API Gateway would, routing to a local queue."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ciflow import operations as ops
from ciflow.callback import CallbackRunner, CallbackSettings
from ciflow.client import CiClient, Operation
from ciflow.config import load_settings
from ciflow.models import JobDetail
from ciflow.models.media import MediaJobsResponse
from ciflow.routing import DeadLetterStore, SqliteQueueSink
from ciflow_local._invoke import scf_context
from ciflow_local._shims import api_gateway_event
from ciflow_local.emulator import Emulator

__all__ = [
    "CALLBACK_TOKEN",
    "USER_DATA_SECRET",
    "HostedCallback",
    "hosted_callback",
    "run_job",
    "serve_callback",
]

CALLBACK_TOKEN = "local-callback-token-0123456789"
USER_DATA_SECRET = "local-user-data-secret-0123456789"
#: An SCF handler: (event, context) -> integrated response.
Handle = Callable[[dict[str, Any], Any], dict[str, Any]]


@contextmanager
def serve_callback(handle: Handle) -> Iterator[str]:
    """Serve ``handle`` at ``POST /callback`` on a loopback port; yields the URL (the caller adds ``?token=``).

    The query string is passed on as API Gateway does, so the token each caller put in its URL is the one checked.
    """

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            query = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
            event = api_gateway_event("POST", "/callback", dict(self.headers.items()), query, body)
            answer = handle(event, scf_context("callback"))
            self.send_response(int(answer["statusCode"]))
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass  # the test's output is the assertions, not an access log

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/callback"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class HostedCallback:
    """The hosted callback function: where CI reports to, what it answered, and what it routed."""

    url: str
    queue: SqliteQueueSink
    token: str = CALLBACK_TOKEN
    secret: str = USER_DATA_SECRET
    answers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def callback_url(self) -> str:
        """The URL a job's ``Callback`` (or a workflow's ``NotifyConfig.Url``) names: with its token."""
        return f"{self.url}?token={self.token}"

    def results(self) -> list[dict[str, Any]]:
        """Every normalised result routed so far, oldest first."""
        return [message.payload for message in self.queue.list("all", limit=1000)]

    def routed(self, job_id: str) -> list[dict[str, Any]]:
        """The results routed for ``job_id`` so far (a job or a workflow run)."""
        return [result for result in self.results() if result.get("job_id") == job_id]

    def wait_routed(self, job_id: str, *, kind: str | None = None, timeout: float = 90.0) -> list[dict[str, Any]]:
        """``routed(job_id)`` (of ``kind`` only, when given) once there is one; fails after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            found = [result for result in self.routed(job_id) if kind is None or result["kind"] == kind]
            if found:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"no result of {job_id} routed in {timeout:g} s: {self.answers[-1:]}")
            time.sleep(0.1)


@contextmanager
def hosted_callback(work: Path, *, region: str, bucket: str) -> Iterator[HostedCallback]:
    """The callback function of ``bucket``, routing every result to one ``local-queue`` sink, served on loopback."""
    settings = load_settings(
        CallbackSettings,
        {
            "CIFLOW_REGION": region,
            "CIFLOW_BUCKET": bucket,
            "CIFLOW_CALLBACK_TOKEN": CALLBACK_TOKEN,
            "CIFLOW_USERDATA_SECRET": USER_DATA_SECRET,
            "CIFLOW_IDEMPOTENCY_STORE": "memory",
            "CIFLOW_SINKS": json.dumps({"local": {"type": "local-queue"}}),
        },
    )
    with (
        SqliteQueueSink(work / "queue.sqlite3", name="local") as queue,
        DeadLetterStore(work / "dead.sqlite3") as dead,
    ):
        runner = CallbackRunner(settings, sinks={"local": queue}, dead_letters=dead)
        answers: list[dict[str, Any]] = []

        def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
            answer = runner.handle(event, context)
            answers.append(answer)
            return answer

        with serve_callback(handle) as url:
            yield HostedCallback(url, queue, answers=answers)


def run_job(
    client: CiClient,
    emulator: Emulator,
    hosted: HostedCallback,
    request: Any,
    *,
    submit: Callable[[Any], Operation[MediaJobsResponse]] = ops.submit_media_job,
    describe: Callable[[str], Operation[MediaJobsResponse]] = ops.describe_media_jobs,
    kind: str = "media",
) -> tuple[Any, dict[str, Any]]:
    """Submit a job of one tag (its ``Callback`` the hosted function), wait until it ran and its callback was
    delivered; (its detail described typed and successful, the one result of ``kind`` routed for it)."""
    operation = request.operation
    [submitted] = client.send(submit(request)).jobs_detail
    assert submitted.job_id
    assert submitted.tag == request.tag
    record = emulator.engine.wait(submitted.job_id, timeout=60, delivered=True)
    assert record.callback_status == "delivered", record
    [detail] = client.send(describe(submitted.job_id)).jobs_detail
    assert type(detail) is not JobDetail, "described untyped"
    assert isinstance(detail.operation, type(operation)), "described untyped"
    assert detail.state == "Success", (detail.code, detail.message)
    routed = hosted.routed(submitted.job_id)
    assert len(routed) == 1, f"the callback was not routed once to the local queue: {hosted.answers[-1:]}"
    assert (routed[0]["kind"], routed[0]["tag"], routed[0]["state"]) == (kind, request.tag, "Success")
    return detail, routed[0]
