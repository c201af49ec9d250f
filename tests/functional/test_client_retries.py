"""Retry rules: idempotent calls retry transient failures; job submissions never risk a duplicate."""

import httpx
import pytest
import respx

from ciflow import operations as ops
from ciflow.client import AsyncCiClient, CiClient, Deadline, Operation, RetryPolicy
from ciflow.errors import (
    AmbiguousSubmitError,
    DeadlineExceededError,
    RequestNotSentError,
    ServerError,
    ThrottledError,
    TransportError,
)
from tests.functional.conftest import CI, COS, CREDS, ENDPOINT, NO_WAIT

SUBMIT_OK = b"<Response><JobsDetail><JobId>j1</JobId><State>Submitted</State></JobsDetail></Response>"


def submit_operation() -> Operation[bytes]:
    return Operation("SubmitProbe", "POST", "ci", "/jobs", read=lambda r: r.content, body=b"<Request/>", retry="submit")


@respx.mock
def test_idempotent_get_retries_5xx_then_succeeds(client: CiClient) -> None:
    route = respx.head(f"{COS}/k").mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(500),
            httpx.Response(200, headers={"Content-Length": "1"}),
        ]
    )
    assert client.send(ops.head_object("k")).content_length == 1
    assert route.call_count == 3
    signatures = {call.request.headers["authorization"] for call in route.calls}
    assert len(signatures) >= 1  # each attempt is signed afresh by the Auth flow


@respx.mock
def test_idempotent_get_gives_up_after_the_policy_attempts(client: CiClient) -> None:
    route = respx.head(f"{COS}/k").mock(return_value=httpx.Response(502))
    with pytest.raises(ServerError):
        client.send(ops.head_object("k"))
    assert route.call_count == NO_WAIT.attempts


@respx.mock
def test_network_errors_on_reads_are_retried(client: CiClient) -> None:
    route = respx.head(f"{COS}/k").mock(side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200)])
    client.send(ops.head_object("k"))
    assert route.call_count == 2


@respx.mock
def test_4xx_is_not_retried(client: CiClient) -> None:
    route = respx.head(f"{COS}/k").mock(return_value=httpx.Response(400))
    with pytest.raises(Exception, match="400"):
        client.send(ops.head_object("k"))
    assert route.call_count == 1


@respx.mock
def test_submit_5xx_is_surfaced_not_retried(client: CiClient) -> None:
    route = respx.post(f"{CI}/jobs").mock(
        return_value=httpx.Response(500, content=b"<Error><Code>InternalError</Code></Error>")
    )
    with pytest.raises(ServerError):
        client.send(submit_operation())
    assert route.call_count == 1


@respx.mock
def test_submit_read_timeout_is_ambiguous_not_retried(client: CiClient) -> None:
    route = respx.post(f"{CI}/jobs").mock(side_effect=httpx.ReadTimeout("no answer"))
    with pytest.raises(AmbiguousSubmitError, match="may have been created"):
        client.send(submit_operation())
    assert route.call_count == 1


@respx.mock
def test_submit_connect_failure_provably_not_sent_is_retried(client: CiClient) -> None:
    route = respx.post(f"{CI}/jobs").mock(
        side_effect=[
            httpx.ConnectError("refused"),
            httpx.ConnectTimeout("t"),
            httpx.Response(200, content=SUBMIT_OK),
        ]
    )
    assert client.send(submit_operation()) == SUBMIT_OK
    assert route.call_count == 3


@respx.mock
def test_submit_throttled_is_retried_because_it_was_refused_unprocessed(client: CiClient) -> None:
    route = respx.post(f"{CI}/jobs").mock(
        side_effect=[
            httpx.Response(429),
            httpx.Response(503, content=b"<Error><Code>SlowDown</Code></Error>"),
            httpx.Response(200, content=SUBMIT_OK),
        ]
    )
    assert client.send(submit_operation()) == SUBMIT_OK
    assert route.call_count == 3


@respx.mock
def test_connect_failures_exhausted_raise_request_not_sent(client: CiClient) -> None:
    respx.post(f"{CI}/jobs").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(RequestNotSentError) as caught:
        client.send(submit_operation())
    assert isinstance(caught.value, TransportError)
    assert caught.value.transient


@respx.mock
def test_deadline_stops_retrying_when_the_next_wait_would_overrun() -> None:
    slow = RetryPolicy(attempts=10, base_delay=5.0, max_delay=5.0)
    with CiClient(ENDPOINT, CREDS, retry=slow) as client:
        route = respx.head(f"{COS}/k").mock(return_value=httpx.Response(503))
        with pytest.raises(ServerError):
            client.send(ops.head_object("k"), deadline=Deadline.after(0.5))
    assert route.call_count == 1


def test_expired_deadline_sends_nothing(client: CiClient) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.head(f"{COS}/k").mock(return_value=httpx.Response(200))
        with pytest.raises(DeadlineExceededError):
            client.send(ops.head_object("k"), deadline=Deadline.after(-1))
        assert route.call_count == 0


@respx.mock
def test_attempt_timeout_is_capped_by_the_deadline(client: CiClient) -> None:
    route = respx.head(f"{COS}/k").mock(return_value=httpx.Response(200))
    client.send(ops.head_object("k"), deadline=Deadline.after(1.0))
    timeout = route.calls.last.request.extensions["timeout"]
    assert 0 < timeout["read"] <= 1.0
    assert 0 < timeout["connect"] <= 1.0


@respx.mock
def test_throttled_error_type(client: CiClient) -> None:
    respx.head(f"{COS}/k").mock(return_value=httpx.Response(429))
    with pytest.raises(ThrottledError):
        client.send(ops.head_object("k"))


@respx.mock
async def test_async_client_follows_the_same_rules(async_client: AsyncCiClient) -> None:
    route = respx.post(f"{CI}/jobs").mock(side_effect=httpx.ReadTimeout("no answer"))
    with pytest.raises(AmbiguousSubmitError):
        await async_client.send(submit_operation())
    assert route.call_count == 1
    head = respx.head(f"{COS}/k").mock(side_effect=[httpx.Response(503), httpx.Response(200)])
    await async_client.send(ops.head_object("k"))
    assert head.call_count == 2
    assert head.calls.last.request.headers["x-cos-security-token"] == "test-session-token"


def test_credentials_are_read_for_every_request() -> None:
    tokens = iter(["tok-1", "tok-2"])
    from ciflow.signing import Credentials

    def provider() -> Credentials:
        return Credentials("AKIDrot", "rotating-secret", token=next(tokens))

    with respx.mock() as mock, CiClient(ENDPOINT, provider, retry=NO_WAIT) as client:
        route = mock.head(f"{COS}/k").mock(return_value=httpx.Response(200))
        client.send(ops.head_object("k"))
        client.send(ops.head_object("k"))
    assert [c.request.headers["x-cos-security-token"] for c in route.calls] == ["tok-1", "tok-2"]
