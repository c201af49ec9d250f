"""The callback function's probe: an authenticated ``{"ciflowProbe": nonce}`` is echoed (200) and routes nothing;
without a valid token it is refused like any callback; anything else is not a probe."""

import json
from typing import Any

import pytest

from ciflow.callback import CallbackRunner, CallbackSettings
from ciflow.client import CiClient, Deadline, Endpoint, RetryPolicy
from ciflow.config import load_settings
from ciflow.idempotency import MemoryStore
from ciflow.results import JobResult
from ciflow.signing import Credentials
from ciflow_local._shims import api_gateway_event

TOKEN = "callback-token-0123456789"
CONTEXT = {"request_id": "r1", "function_name": "callback", "time_limit_in_ms": 30000}


class Recorder:
    name = "queue"

    def __init__(self) -> None:
        self.delivered: list[JobResult] = []

    def deliver(self, result: JobResult, *, deadline: Deadline | None = None) -> None:
        self.delivered.append(result)


class NoDeadLetters:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, result: JobResult, *, sink: str, reason: str, transient: bool) -> None:
        self.items.append(reason)


@pytest.fixture
def parts() -> tuple[CallbackRunner, Recorder, NoDeadLetters]:
    env = {
        "CIFLOW_REGION": "ap-guangzhou",
        "CIFLOW_BUCKET": "media-1250000000",
        "CIFLOW_CALLBACK_TOKEN": TOKEN,
        "CIFLOW_USERDATA_SECRET": "userdata-secret-0123456789",
        "CIFLOW_SINKS": json.dumps({"queue": {"type": "local-queue"}}),
        "CIFLOW_IDEMPOTENCY_STORE": "memory",
        "CIFLOW_CALLBACK_STRICT": "true",  # a probe is answered before any CI lookup
    }
    client = CiClient(Endpoint("ap-guangzhou", "media-1250000000"), Credentials("AKIDx", "k"), retry=RetryPolicy(1))
    sink, dead = Recorder(), NoDeadLetters()
    runner = CallbackRunner(
        load_settings(CallbackSettings, env),
        sinks={"queue": sink},
        dead_letters=dead,
        client=client,
        store=MemoryStore(),
    )
    return runner, sink, dead


def post(runner: CallbackRunner, body: bytes, token: str | None) -> tuple[int, Any]:
    query = {"token": [token]} if token is not None else {}
    event = api_gateway_event("POST", "/callback", {"content-type": "application/json"}, query, body)
    answer = runner.handle(event, CONTEXT)
    return answer["statusCode"], json.loads(answer["body"])


def test_an_authenticated_probe_is_echoed_and_routes_nothing(
    parts: tuple[CallbackRunner, Recorder, NoDeadLetters],
) -> None:
    runner, sink, dead = parts
    status, body = post(runner, b'{"ciflowProbe": "n0nce-1.2_3~"}', TOKEN)
    assert (status, body) == (200, {"ciflowProbe": "n0nce-1.2_3~"})
    assert sink.delivered == []
    assert dead.items == []


@pytest.mark.parametrize(("token", "status"), [(None, 401), ("x" * 32, 403)])
def test_a_probe_without_a_valid_token_is_refused(
    parts: tuple[CallbackRunner, Recorder, NoDeadLetters], token: str | None, status: int
) -> None:
    runner, sink, _ = parts
    answer_status, body = post(runner, b'{"ciflowProbe": "abc"}', token)
    assert answer_status == status
    assert "ciflowProbe" not in body
    assert sink.delivered == []


@pytest.mark.parametrize(
    "body",
    [b'{"ciflowProbe": "a b"}', b'{"ciflowProbe": "abc", "JobsDetail": []}', b'{"ciflowProbe": 7}'],
)
def test_bodies_that_are_not_exactly_a_probe_are_not_echoed(
    parts: tuple[CallbackRunner, Recorder, NoDeadLetters], body: bytes
) -> None:
    runner, _, _ = parts
    status, answer = post(runner, body, TOKEN)
    assert "ciflowProbe" not in answer
    assert status != 200 or "results" in answer
