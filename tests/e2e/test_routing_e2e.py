"""Result routing over real loopback HTTP: CmqSink into the emulated TDMQ CMQ, CI's TDMQ callbacks landing in
it, and the callback function routing an emulator job's report to a signed webhook and the local queue."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from ciflow import operations as ops
from ciflow.callback import CallbackRunner
from ciflow.callback._settings import CallbackSettings
from ciflow.client import CiClient, RetryPolicy
from ciflow.config import load_settings
from ciflow.models.callbacks import TaskFinish, parse_callback
from ciflow.models.files import FileHashCodeJobRequest
from ciflow.results import JobResult, ObjectLocation
from ciflow.routing import (
    CmqSink,
    DeadLetterStore,
    DeliveryError,
    SqliteQueueSink,
    WebhookSink,
    WebhookVerificationError,
    verify_webhook,
)
from ciflow.signing import Credentials, hmac_v1_params
from ciflow_local._invoke import scf_context
from ciflow_local._shims import api_gateway_event
from ciflow_local.emulator import DEFAULT_CREDENTIALS, Emulator

REGION = "ap-guangzhou"
BUCKET = "routing-1250000000"
CALLBACK_TOKEN = "local-callback-token-0123456789"
WEBHOOK_SECRET = "local-webhook-secret-0123456789"
FAST_RETRY = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.05)


def cmq_call(emulator: Emulator, action: str, params: dict[str, str], credentials: Credentials) -> dict[str, Any]:
    """One signed data-plane request, built with the production signer."""
    host = emulator.cmq_url.removeprefix("http://")
    signed = hmac_v1_params(
        credentials,
        method="POST",
        host=host,
        path="/v2/index.php",
        action=action,
        params=params,
        nonce=uuid.uuid4().int % 2**31,
        timestamp=int(time.time()),
    )
    answer: dict[str, Any] = httpx.post(f"{emulator.cmq_url}/v2/index.php", data=signed).json()
    return answer


def a_result(job_id: str) -> JobResult:
    return JobResult(
        kind="file",
        event="TaskFinish",
        job_id=job_id,
        tag="FileHashCode",
        state="Success",
        succeeded=True,
        input=ObjectLocation(bucket=BUCKET, region=REGION, key="in/a.txt"),
        hashes={"md5": hashlib.md5(b"a").hexdigest()},
    )


def hash_job(client: CiClient, emulator: Emulator, queue: str) -> str:
    """A FileHashCode job reporting by TDMQ to ``queue``; returns its id once the callback was stored."""
    key = f"in/{uuid.uuid4().hex}.txt"
    client.send(ops.put_object(key, b"routing"))
    request = FileHashCodeJobRequest.model_validate(
        {
            "Input": {"Object": key},
            "Operation": {"FileHashCodeConfig": {"Type": "MD5"}},
            "CallBackType": "TDMQ",
            "CallBackMqConfig": {"MqRegion": "gz", "MqMode": "Queue", "MqName": queue},
        }
    )
    job_id = client.send(ops.submit_file_job(request)).jobs_detail[0].job_id
    assert job_id
    assert emulator.engine.wait(job_id, delivered=True).callback_status == "delivered"
    return job_id


# -- (a) CmqSink against the emulated data plane ---------------------------------------------------------


def test_cmq_sink_delivers_a_result_that_is_received_back(emulator: Emulator) -> None:
    result = a_result("f" + uuid.uuid4().hex)
    with CmqSink(
        emulator.cmq_url,
        protocol="data-plane",
        target="queue",
        destination="results",
        credentials=DEFAULT_CREDENTIALS,
        retry=FAST_RETRY,
    ) as sink:
        sink.deliver(result)
    received = cmq_call(emulator, "ReceiveMessage", {"queueName": "results"}, DEFAULT_CREDENTIALS)
    assert received["code"] == 0, received
    assert received["msgBody"] == result.model_dump_json()
    assert JobResult.model_validate_json(received["msgBody"]) == result
    params = {"queueName": "results", "receiptHandle": received["receiptHandle"]}
    assert cmq_call(emulator, "DeleteMessage", params, DEFAULT_CREDENTIALS)["code"] == 0
    assert cmq_call(emulator, "ReceiveMessage", {"queueName": "results"}, DEFAULT_CREDENTIALS)["code"] == 7000


def test_cmq_topic_publish_lands_in_the_inspection_queue_with_its_tags(emulator: Emulator) -> None:
    result = a_result("f" + uuid.uuid4().hex)
    with CmqSink(
        emulator.cmq_url, target="topic", destination="events", tags=("file", "ok"), credentials=DEFAULT_CREDENTIALS
    ) as sink:
        sink.deliver(result)
    [message] = emulator.cmq.messages("events-sub")
    assert (message.body, message.tags) == (result.model_dump_json(), ("file", "ok"))


def test_cmq_sink_with_a_wrong_secret_key_fails_permanently(emulator: Emulator) -> None:
    wrong = Credentials(DEFAULT_CREDENTIALS.secret_id, "not-the-emulator-secret-key")
    with (
        CmqSink(emulator.cmq_url, target="queue", destination="refused", credentials=wrong, retry=FAST_RETRY) as sink,
        pytest.raises(DeliveryError) as caught,
    ):
        sink.deliver(a_result("f" + uuid.uuid4().hex))
    assert not caught.value.transient
    assert "code 4100" in str(caught.value)
    assert emulator.cmq.messages("refused") == []


# -- (b) CI's TDMQ callbacks -------------------------------------------------------------------------------


def test_tdmq_callback_of_a_ci_job_lands_in_the_emulated_queue(emulator: Emulator, client: CiClient) -> None:
    job_id = hash_job(client, emulator, "ci-results")
    received = cmq_call(emulator, "ReceiveMessage", {"queueName": "ci-results"}, DEFAULT_CREDENTIALS)
    assert received["code"] == 0, received
    parsed = parse_callback(received["msgBody"].encode(), "application/xml")
    assert isinstance(parsed, TaskFinish)
    [detail] = parsed.jobs_detail
    assert (detail.job_id, detail.tag, detail.state) == (job_id, "FileHashCode", "Success")
    assert detail.operation is not None
    assert detail.operation.file_hash_code_result.md5 == hashlib.md5(b"routing").hexdigest()


# -- (c) the callback function routing to a signed webhook ------------------------------------------------


@dataclass
class WebhookReceiver:
    """A local HTTP server that verifies every POST with ``verify_webhook`` (400 when it does not verify)."""

    verified: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def webhook() -> Iterator[tuple[str, WebhookReceiver]]:
    receiver = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            try:
                verify_webhook(WEBHOOK_SECRET, dict(self.headers.items()), body)
            except WebhookVerificationError as exc:
                with receiver.lock:
                    receiver.refused.append(exc.reason)
                self.send_response(400)
            else:
                with receiver.lock:
                    receiver.verified.append(json.loads(body))
                self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", receiver
    finally:
        server.shutdown()
        server.server_close()


def test_callback_function_routes_an_emulator_report_to_a_verified_webhook(
    emulator: Emulator, client: CiClient, webhook: tuple[str, WebhookReceiver], tmp_path: Path
) -> None:
    url, receiver = webhook
    job_id = hash_job(client, emulator, "for-the-callback")
    [message] = emulator.cmq.messages("for-the-callback")
    settings = load_settings(
        CallbackSettings,
        {
            "CIFLOW_REGION": REGION,
            "CIFLOW_BUCKET": BUCKET,
            "CIFLOW_CALLBACK_TOKEN": CALLBACK_TOKEN,
            "CIFLOW_USERDATA_SECRET": "local-user-data-secret-0123456789",
            "CIFLOW_IDEMPOTENCY_STORE": "memory",
            "CIFLOW_SINKS": json.dumps({"hook": {"type": "webhook"}, "local": {"type": "local-queue"}}),
        },
    )
    queue = SqliteQueueSink(tmp_path / "queue.sqlite3", name="local")
    dead_letters = DeadLetterStore(tmp_path / "dead.sqlite3")
    with WebhookSink(url, WEBHOOK_SECRET, name="hook", attempts=1) as hook:
        runner = CallbackRunner(
            settings, sinks={"hook": hook, "local": queue}, dead_letters=dead_letters, client=client
        )
        event = api_gateway_event(
            "POST",
            "/callback",
            {"content-type": "application/xml"},
            {"token": [CALLBACK_TOKEN]},
            message.body.encode(),
        )
        answer = runner.handle(event, scf_context("callback"))
        assert answer["statusCode"] == 200, answer
        assert json.loads(answer["body"])["routed"] == 1
        again = runner.handle(event, scf_context("callback"))  # CI retried: deduplicated, not re-sent
        assert json.loads(again["body"])["duplicate"] == 1
        forged = dict(event, queryString={"token": "x" * 32}, queryStringParameters={"token": "x" * 32})
        assert runner.handle(forged, scf_context("callback"))["statusCode"] == 403
    assert receiver.refused == []
    [delivered] = receiver.verified
    assert (delivered["job_id"], delivered["state"], delivered["kind"]) == (job_id, "Success", "file")
    [queued] = queue.list()
    assert queued.payload["job_id"] == job_id
    assert dead_letters.count() == 0
    queue.close()
    dead_letters.close()
