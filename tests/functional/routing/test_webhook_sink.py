"""The webhook sink against a real local HTTP server that verifies every request: retries, refusals, timeouts."""

import io
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ciflow.client import Deadline
from ciflow.logging import configure_logging
from ciflow.results import JobResult, ObjectLocation
from ciflow.routing import DeliveryError
from ciflow.routing._webhook import WebhookSink, webhook_id

from .webhook_receiver import SECRET, Receiver, ReceiverServer


def make_result(job_id: str = "j9d1e2f3a4b5", state: str = "Success") -> JobResult:
    return JobResult(
        kind="media",
        event="TaskFinish",
        job_id=job_id,
        state=state,
        succeeded=state == "Success",
        input=ObjectLocation(bucket="media-1250000000", region="ap-guangzhou", key="uploads/视频 1.mp4"),
        outputs=[ObjectLocation(key="out/j9d1e2f3a4b5.mp4")],
        route="transcode",
        correlation_id="abc123",
        step="transcode-0",
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with ReceiverServer() as running:
        yield running


def sink_for(receiver: Receiver, **kwargs: Any) -> WebhookSink:
    kwargs.setdefault("base_delay", 0.0)
    kwargs.setdefault("timeout", httpx.Timeout(2.0))
    return WebhookSink(receiver.url, SECRET, **kwargs)


def test_a_result_is_posted_as_json_with_valid_standard_webhooks_headers(receiver: Receiver) -> None:
    result = make_result()
    with sink_for(receiver) as sink:
        sink.deliver(result)
    (request,) = receiver.requests
    assert request.verified, request.reason
    assert request.path == "/hooks/ciflow"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == webhook_id(result)
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 5
    assert request.headers["webhook-signature"].startswith("v1,")
    assert json.loads(request.body) == result.model_dump(mode="json")
    assert JobResult.model_validate_json(request.body) == result


def test_server_errors_are_retried_with_the_same_id_until_accepted(receiver: Receiver) -> None:
    receiver.fail(2, 503)
    result = make_result()
    with sink_for(receiver, attempts=4) as sink:
        sink.deliver(result)
    assert len(receiver.requests) == 3
    assert all(request.verified for request in receiver.requests)
    assert {request.headers["webhook-id"] for request in receiver.requests} == {webhook_id(result)}


@pytest.mark.parametrize("status", [500, 502, 504, 408, 429])
def test_retryable_answers_are_retried(receiver: Receiver, status: int) -> None:
    receiver.fail(1, status)
    with sink_for(receiver, attempts=2) as sink:
        sink.deliver(make_result())
    assert len(receiver.requests) == 2


def test_attempts_bound_the_retries_and_the_error_is_transient(receiver: Receiver) -> None:
    receiver.fail(10, 503)
    with sink_for(receiver, attempts=3) as sink, pytest.raises(DeliveryError) as info:
        sink.deliver(make_result())
    assert len(receiver.requests) == 3
    assert info.value.transient
    assert info.value.sink == "webhook"
    assert "HTTP 503" in str(info.value)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 413, 422])
def test_client_errors_are_permanent_and_not_retried(receiver: Receiver, status: int) -> None:
    receiver.fail(1, status)
    with sink_for(receiver, attempts=4, name="hooks") as sink, pytest.raises(DeliveryError) as info:
        sink.deliver(make_result())
    assert len(receiver.requests) == 1
    assert not info.value.transient
    assert info.value.sink == "hooks"
    assert f"HTTP {status}" in str(info.value)


def test_a_redirect_is_not_followed_and_is_permanent(receiver: Receiver) -> None:
    receiver.plan.append((302, {"location": receiver.url + "/elsewhere"}))
    with sink_for(receiver) as sink, pytest.raises(DeliveryError) as info:
        sink.deliver(make_result())
    assert [request.path for request in receiver.requests] == ["/hooks/ciflow"]
    assert not info.value.transient


def test_a_receiver_with_another_secret_refuses_and_that_is_permanent(receiver: Receiver) -> None:
    other = WebhookSink(receiver.url, "whsec_" + "b3RoZXItc2VjcmV0LW9mLTI0LWJ5dGVz", base_delay=0.0)
    with other, pytest.raises(DeliveryError) as info:
        other.deliver(make_result())
    (request,) = receiver.requests
    assert (request.verified, request.reason) == (False, "bad_signature")
    assert not info.value.transient
    assert "HTTP 401" in str(info.value)


def test_a_hanging_receiver_hits_the_explicit_timeout_then_the_retry_succeeds(receiver: Receiver) -> None:
    receiver.plan.append(("hang", 5.0))
    result = make_result()
    started = time.monotonic()
    with sink_for(receiver, timeout=httpx.Timeout(0.3), attempts=2) as sink:
        sink.deliver(result)
    assert time.monotonic() - started < 2.0
    assert len(receiver.requests) == 2
    # Both attempts carry the same id: a receiver that did process the first one can drop the second.
    assert receiver.requests[0].headers["webhook-id"] == receiver.requests[1].headers["webhook-id"]


def test_a_receiver_that_always_hangs_gives_a_transient_error(receiver: Receiver) -> None:
    receiver.plan.extend([("hang", 5.0)] * 2)
    started = time.monotonic()
    with sink_for(receiver, timeout=httpx.Timeout(0.2), attempts=2) as sink, pytest.raises(DeliveryError) as info:
        sink.deliver(make_result())
    assert time.monotonic() - started < 2.0
    assert info.value.transient
    assert "ReadTimeout" in str(info.value)


def test_the_deadline_bounds_retries(receiver: Receiver) -> None:
    receiver.fail(1000, 503)
    started = time.monotonic()
    with sink_for(receiver, attempts=1000, base_delay=0.05, max_delay=0.1) as sink, pytest.raises(DeliveryError):
        sink.deliver(make_result(), deadline=Deadline.after(0.6))
    elapsed = time.monotonic() - started
    assert elapsed < 1.2
    assert 2 <= len(receiver.requests) < 1000


def test_the_deadline_caps_each_attempts_timeout(receiver: Receiver) -> None:
    receiver.plan.append(("hang", 5.0))
    started = time.monotonic()
    with sink_for(receiver, timeout=httpx.Timeout(10.0)) as sink, pytest.raises(DeliveryError) as info:
        sink.deliver(make_result(), deadline=Deadline.after(0.4))
    assert time.monotonic() - started < 1.5
    assert info.value.transient


def test_a_passed_deadline_sends_nothing(receiver: Receiver) -> None:
    with sink_for(receiver) as sink, pytest.raises(DeliveryError) as info:
        sink.deliver(make_result(), deadline=Deadline.after(0.0))
    assert receiver.requests == []
    assert info.value.transient


def test_retry_after_is_honoured(receiver: Receiver) -> None:
    receiver.plan.append((503, {"retry-after": "1"}))
    started = time.monotonic()
    with sink_for(receiver, attempts=2) as sink:
        sink.deliver(make_result())
    assert time.monotonic() - started >= 0.95
    assert len(receiver.requests) == 2


def test_a_retry_after_longer_than_we_wait_ends_retrying_transiently(receiver: Receiver) -> None:
    receiver.plan.append((429, {"retry-after": "3600"}))
    with sink_for(receiver, attempts=5, max_delay=2.0) as sink, pytest.raises(DeliveryError) as info:
        sink.deliver(make_result())
    assert len(receiver.requests) == 1
    assert info.value.transient


def test_a_refused_connection_is_transient() -> None:
    with ReceiverServer() as gone:
        url = gone.url + "?token=tok-0123456789abcdef"
    sink = WebhookSink(url, SECRET, attempts=2, base_delay=0.0, timeout=httpx.Timeout(1.0))
    with sink, pytest.raises(DeliveryError) as info:
        sink.deliver(make_result())
    assert info.value.transient
    assert "ConnectError" in str(info.value)
    assert "tok-0123456789abcdef" not in str(info.value)


def test_a_caller_supplied_client_is_used_and_left_open(receiver: Receiver) -> None:
    with httpx.Client(headers={"user-agent": "ciflow-test"}) as client:
        sink = WebhookSink(receiver.url, SECRET, client=client)
        sink.deliver(make_result())
        sink.close()
        assert not client.is_closed
    assert receiver.requests[0].headers["user-agent"] == "ciflow-test"
    assert receiver.requests[0].verified


def test_the_secret_and_the_url_token_never_reach_the_log(receiver: Receiver) -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", service="ciflow-test", stream=stream)
    try:
        receiver.fail(1, 503)
        token_url = receiver.url + "?token=tok-0123456789abcdef"
        with WebhookSink(token_url, SECRET, attempts=2, base_delay=0.0) as sink:
            sink.deliver(make_result())
    finally:
        configure_logging("INFO")
    output = stream.getvalue()
    lines = [json.loads(line) for line in output.splitlines()]
    assert any(line["message"] == "webhook retry" and line["url"] == receiver.url for line in lines)
    assert SECRET not in output
    assert SECRET.removeprefix("whsec_") not in output
    assert "tok-0123456789abcdef" not in output
    assert receiver.requests[-1].path == "/hooks/ciflow?token=tok-0123456789abcdef"


@pytest.mark.parametrize("url", ["ftp://example.com/hook", "/relative/hook", "https:///no-host", "http://[::1"])
def test_only_http_urls_are_accepted(url: str) -> None:
    with pytest.raises(ValueError, match="url"):
        WebhookSink(url, SECRET)


def test_the_sink_refuses_a_weak_secret_without_echoing_it() -> None:
    with pytest.raises(ValueError, match="16 bytes") as info:
        WebhookSink("https://example.com/hook", "tiny-secret")
    assert "tiny-secret" not in str(info.value)
