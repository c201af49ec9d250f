"""Logs are one JSON object per line with invocation context, and never carry a secret."""

import io
import json
from collections.abc import Callable, Iterator
from typing import Any, Protocol, cast

import httpx
import pytest
import respx

from ciflow import operations as ops
from ciflow.client import CiClient, Endpoint, RetryPolicy
from ciflow.errors import ServerError
from ciflow.logging import (
    REDACTED,
    bind_correlation,
    bind_invocation,
    configure_logging,
    correlation,
    get_logger,
    log_invocation,
    register_secret,
)
from ciflow.signing import environment_credentials

SECRET_KEY = "sk-VERY-SECRET-0123456789"
TOKEN = "session-token-ABCDEFGHIJ"
WEBHOOK_SECRET = "whsec-topsecret-42"


class LogLines(Protocol):
    """The ``log_lines`` fixture: the JSON lines logged so far, and ``raw()`` for the text itself."""

    raw: Callable[[], str]

    def __call__(self) -> list[dict[str, Any]]: ...


@pytest.fixture
def log_lines(monkeypatch: pytest.MonkeyPatch) -> Iterator[LogLines]:
    monkeypatch.setenv("TENCENTCLOUD_SECRETID", "AKIDlogtest")
    monkeypatch.setenv("TENCENTCLOUD_SECRETKEY", SECRET_KEY)
    monkeypatch.setenv("TENCENTCLOUD_SESSIONTOKEN", TOKEN)
    stream = io.StringIO()
    configure_logging("DEBUG", service="ciflow-test", stream=stream)

    def lines() -> list[dict[str, Any]]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    lines.raw = stream.getvalue  # type: ignore[attr-defined]
    yield cast(LogLines, lines)
    configure_logging("INFO")


def test_lines_carry_service_invocation_and_correlation(log_lines: LogLines) -> None:
    bind_invocation({"function_name": "transcode", "request_id": "req-1", "memory_limit_in_mb": 128})
    bind_correlation(object_key="in/a b.mp4")
    with correlation(job_id="j1"):
        get_logger("t").info("submitted", records=1)
    get_logger("t").info("done")
    first, second = log_lines()
    assert first["service"] == "ciflow-test"
    assert first["function_name"] == "transcode"
    assert first["function_request_id"] == "req-1"
    assert first["object_key"] == "in/a b.mp4"
    assert first["job_id"] == "j1"
    assert first["message"] == "submitted"
    assert first["level"] == "info"
    assert "job_id" not in second


def test_cold_start_is_true_only_for_the_first_invocation(log_lines: LogLines) -> None:
    import ciflow.logging._context as context

    context._state["cold"] = True

    @log_invocation
    def handler(event: Any, context: Any) -> dict[str, bool]:

        return {"ok": True}

    handler({}, {"function_name": "f", "request_id": "a"})
    handler({}, {"function_name": "f", "request_id": "b"})
    finished = [line for line in log_lines() if line["message"] == "invocation finished"]
    assert [line["cold_start"] for line in finished] == [True, False]
    assert [line["function_request_id"] for line in finished] == ["a", "b"]


def test_level_filters() -> None:
    stream = io.StringIO()
    configure_logging("WARNING", stream=stream)
    get_logger().info("hidden")
    get_logger().warning("shown")
    configure_logging("INFO")
    assert [json.loads(line)["message"] for line in stream.getvalue().splitlines()] == ["shown"]


def test_no_secret_reaches_a_log_line(log_lines: LogLines) -> None:
    register_secret(WEBHOOK_SECRET)
    log = get_logger("probe")
    credentials = environment_credentials()()
    with respx.mock() as mock:
        route = mock.head(url__startswith="https://media-1250000000.cos.ap-guangzhou.myqcloud.com/").mock(
            side_effect=[httpx.Response(503), httpx.Response(500)]
        )
        client = CiClient(
            Endpoint("ap-guangzhou", "media-1250000000"),
            environment_credentials(),
            retry=RetryPolicy(attempts=2, base_delay=0, max_delay=0),
        )
        with pytest.raises(ServerError) as caught:
            client.send(ops.head_object("k"))
        signed = route.calls.last.request
    authorization = signed.headers["authorization"]
    signature = authorization.rsplit("q-signature=", 1)[1]
    # Everything a careless handler might log:
    log.info("credentials", credentials=credentials, secret_key=credentials.secret_key, token=credentials.token)
    log.info("request", headers=dict(signed.headers), url=str(signed.url))
    log.info("authorization in text", detail=f"sent {authorization}")
    log.info("webhook", config={"url": "https://hook", "secret": WEBHOOK_SECRET}, note=f"signed with {WEBHOOK_SECRET}")
    log.error("failed", error=str(caught.value))
    try:
        raise RuntimeError(f"boom with {SECRET_KEY} and {TOKEN}")
    except RuntimeError:
        log.exception("crash")
    raw = log_lines.raw()
    assert raw.count("\n") >= 7  # every call above produced a line (retry warning included)
    for secret in (SECRET_KEY, TOKEN, WEBHOOK_SECRET, signature):
        assert secret not in raw
    assert REDACTED in raw
    assert "retrying" in raw


def test_level_and_service_default_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIFLOW_LOG_LEVEL", "error")
    monkeypatch.setenv("CIFLOW_SERVICE", "from-env")
    stream = io.StringIO()
    configure_logging(stream=stream)
    get_logger().warning("hidden")
    get_logger().error("shown")
    configure_logging("INFO")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(line["message"], line["service"]) for line in lines] == [("shown", "from-env")]
