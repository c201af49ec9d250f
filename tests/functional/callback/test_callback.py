"""The callback function end to end over respx: authenticate, normalise, dedupe, route, dead-letter, act."""

import base64
import json
from collections.abc import Iterator, Mapping
from typing import Any, cast

import httpx
import pytest
import respx

from ciflow.callback import CallbackRunner, CallbackSettings
from ciflow.client import CiClient, Deadline, Endpoint, RetryPolicy
from ciflow.config import load_settings
from ciflow.idempotency import MemoryStore
from ciflow.results import JobResult
from ciflow.routing import DeliveryError, RouteTag, encode_user_data
from ciflow.signing import Credentials

TOKEN = "callback-token-0123456789"
OLD_TOKEN = "callback-token-previous-000"
SECRET = "userdata-secret-0123456789"
COS = "https://media-1250000000.cos.ap-guangzhou.myqcloud.com"
CI = "https://media-1250000000.ci.ap-guangzhou.myqcloud.com"
CONTEXT = {"request_id": "r1", "function_name": "callback", "time_limit_in_ms": 30000}
SINKS = {"queue": {"type": "local-queue"}, "hooks": {"type": "webhook", "url": "https://hooks.example/ci"}}
ROUTES = [
    {"sinks": ["queue"]},
    {"sinks": ["hooks"], "tag": ["Transcode"], "state": ["Success"]},
]


class MemorySink:
    def __init__(self, name: str, failures: list[bool] | None = None) -> None:
        self.name = name
        self.delivered: list[JobResult] = []
        self.failures = failures or []

    def deliver(self, result: JobResult, *, deadline: Deadline | None = None) -> None:
        if self.failures and self.failures.pop(0):
            raise DeliveryError(self.name, "receiver down", transient=True)
        self.delivered.append(result)


class MemoryDeadLetters:
    def __init__(self, broken: bool = False) -> None:
        self.items: list[tuple[str | None, str, str]] = []
        self.broken = broken

    def add(self, result: JobResult, *, sink: str, reason: str, transient: bool) -> None:
        if self.broken:
            from ciflow.errors import CiflowError

            raise CiflowError("dead-letter store unavailable")
        self.items.append((result.job_id, sink, reason))


def settings(**extra: str) -> CallbackSettings:
    env = {
        "CIFLOW_REGION": "ap-guangzhou",
        "CIFLOW_BUCKET": "media-1250000000",
        "CIFLOW_CALLBACK_TOKEN": TOKEN,
        "CIFLOW_CALLBACK_TOKEN_PREVIOUS": OLD_TOKEN,
        "CIFLOW_USERDATA_SECRET": SECRET,
        "CIFLOW_SINKS": json.dumps(SINKS),
        "CIFLOW_ROUTES": json.dumps(ROUTES),
        "CIFLOW_IDEMPOTENCY_STORE": "memory",
        **extra,
    }
    return load_settings(CallbackSettings, env)


def runner(
    config: CallbackSettings | None = None, *, hooks: MemorySink | None = None, dead: MemoryDeadLetters | None = None
) -> CallbackRunner:
    client = CiClient(
        Endpoint("ap-guangzhou", "media-1250000000"),
        Credentials("AKIDcallback", "callback-secret-key"),
        retry=RetryPolicy(attempts=1, base_delay=0, max_delay=0),
    )
    sinks = {"queue": MemorySink("queue"), "hooks": hooks or MemorySink("hooks")}
    return CallbackRunner(
        config or settings(), sinks=sinks, dead_letters=dead or MemoryDeadLetters(), client=client, store=MemoryStore()
    )


def user_data(step: str = "mp4", route: str = "transcode") -> str:
    return encode_user_data(RouteTag(route=route, correlation_id="c0ffee", step=step), SECRET)


def task_finish_xml(job_id: str = "j1", state: str = "Success", tag: str = "Transcode", data: str | None = None) -> str:
    data = user_data() if data is None else data
    return (
        f"<Response><EventName>TaskFinish</EventName><JobsDetail><Code>Success</Code><JobId>{job_id}</JobId>"
        f"<Tag>{tag}</Tag><State>{state}</State><Input><BucketId>media-1250000000</BucketId>"
        f"<Region>ap-guangzhou</Region><Object>in/a b.mp4</Object></Input><Operation><MediaResult><OutputFile>"
        f"<Bucket>media-1250000000</Bucket><Region>ap-guangzhou</Region><ObjectName>out/{job_id}.mp4</ObjectName>"
        f"</OutputFile></MediaResult><UserData>{data}</UserData></Operation></JobsDetail></Response>"
    )


def api_event(
    body: str,
    *,
    token: str | None = TOKEN,
    content_type: str = "application/xml",
    base64_body: bool = False,
    method: str = "POST",
) -> dict[str, Any]:
    return {
        "requestContext": {"httpMethod": method, "requestId": "gw-1", "sourceIp": "203.0.113.9"},
        "httpMethod": method,
        "path": "/callback",
        "headers": {"Content-Type": content_type},
        "queryStringParameters": {"token": token} if token else {},
        "body": base64.b64encode(body.encode()).decode() if base64_body else body,
        "isBase64Encoded": base64_body,
    }


def answer(response: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
    assert set(response) == {"isBase64Encoded", "statusCode", "headers", "body"}
    return response["statusCode"], json.loads(response["body"])


def test_a_verified_report_is_routed_to_every_matching_sink() -> None:
    handler = runner()
    status, body = answer(handler.handle(api_event(task_finish_xml()), CONTEXT))
    assert (status, body["routed"]) == (200, 1)
    queued = cast(MemorySink, handler.sinks["queue"]).delivered[0]
    assert (queued.job_id, queued.tag, queued.state, queued.route, queued.step) == (
        "j1",
        "Transcode",
        "Success",
        "transcode",
        "mp4",
    )
    assert [o.key for o in queued.outputs] == ["out/j1.mp4"]
    assert cast(MemorySink, handler.sinks["hooks"]).delivered[0].job_id == "j1"


def test_rules_select_by_tag_and_state() -> None:
    handler = runner()
    handler.handle(api_event(task_finish_xml(state="Failed")), CONTEXT)
    assert len(cast(MemorySink, handler.sinks["queue"]).delivered) == 1
    assert cast(MemorySink, handler.sinks["hooks"]).delivered == []


@pytest.mark.parametrize(("token", "status"), [(None, 401), ("wrong-token-0123456789", 403), (OLD_TOKEN, 200)])
def test_tokens_missing_wrong_and_rotated(token: str | None, status: int) -> None:
    handler = runner()
    code, _ = answer(handler.handle(api_event(task_finish_xml(), token=token), CONTEXT))
    assert code == status
    assert len(cast(MemorySink, handler.sinks["queue"]).delivered) == (1 if status == 200 else 0)


def test_base64_json_report() -> None:
    body = json.dumps(
        {
            "EventName": "TaskFinish",
            "JobsDetail": {
                "JobId": "j9",
                "Tag": "Snapshot",
                "State": "Success",
                "Operation": {"UserData": user_data("snapshot", "previews")},
            },
        }
    )
    handler = runner()
    status, _ = answer(handler.handle(api_event(body, content_type="application/json", base64_body=True), CONTEXT))
    assert status == 200
    assert cast(MemorySink, handler.sinks["queue"]).delivered[0].route == "previews"


def test_a_repeated_report_routes_once() -> None:
    handler = runner()
    first = answer(handler.handle(api_event(task_finish_xml()), CONTEXT))[1]
    second = answer(handler.handle(api_event(task_finish_xml()), CONTEXT))[1]
    assert (first["routed"], second["duplicate"]) == (1, 1)
    assert len(cast(MemorySink, handler.sinks["queue"]).delivered) == 1
    third = answer(handler.handle(api_event(task_finish_xml(state="Failed")), CONTEXT))[1]
    assert third["routed"] == 1  # same job, new state: a new result


def test_a_failing_sink_dead_letters_and_still_answers_200() -> None:
    dead = MemoryDeadLetters()
    handler = runner(hooks=MemorySink("hooks", failures=[True]), dead=dead)
    status, body = answer(handler.handle(api_event(task_finish_xml()), CONTEXT))
    assert (status, body["dead-lettered"]) == (200, 1)
    assert dead.items == [("j1", "hooks", "hooks: receiver down")]
    assert len(cast(MemorySink, handler.sinks["queue"]).delivered) == 1


def test_when_even_the_dead_letter_store_fails_the_sender_is_asked_to_retry() -> None:
    handler = runner(hooks=MemorySink("hooks", failures=[True, False]), dead=MemoryDeadLetters(broken=True))
    status, _ = answer(handler.handle(api_event(task_finish_xml()), CONTEXT))
    assert status == 503
    cast(MemoryDeadLetters, handler.dead_letters).broken = False
    status, body = answer(handler.handle(api_event(task_finish_xml()), CONTEXT))
    assert (status, body["routed"]) == (200, 1)  # the retry is not mistaken for a duplicate


@pytest.mark.parametrize(
    ("event", "status"),
    [
        (api_event("<Response><JobsDetail>", content_type="application/xml"), 400),
        (api_event('<!DOCTYPE x [<!ENTITY a "b">]><Response/>'), 400),
        (api_event("not base64!", base64_body=False, content_type="application/json"), 400),
        (api_event(task_finish_xml(), method="GET"), 405),
        ({"no": "event"}, 400),
    ],
)
def test_bad_requests_get_4xx_and_route_nothing(event: dict[str, Any], status: int) -> None:
    handler = runner()
    code, body = answer(handler.handle(event, CONTEXT))
    assert code == status
    assert "error" in body
    assert cast(MemorySink, handler.sinks["queue"]).delivered == []


def test_unverified_user_data_and_unrouted_results_are_dead_lettered_not_dropped() -> None:
    dead = MemoryDeadLetters()
    handler = runner(settings(CIFLOW_ROUTES=json.dumps([{"sinks": ["queue"], "tag": ["Snapshot"]}])), dead=dead)
    answer(handler.handle(api_event(task_finish_xml(job_id="j-forged", data="cf1.x.y.z.bad")), CONTEXT))
    answer(handler.handle(api_event(task_finish_xml(job_id="j-unrouted")), CONTEXT))
    assert [(job, sink) for job, sink, _ in dead.items] == [("j-forged", "router"), ("j-unrouted", "router")]
    assert cast(MemorySink, handler.sinks["queue"]).delivered == []


def test_an_unknown_report_is_routed_raw() -> None:
    handler = runner()
    status, _ = answer(
        handler.handle(api_event('{"EventName": "SomethingNew", "x": 1}', content_type="application/json"), CONTEXT)
    )
    assert status == 200
    (result,) = cast(MemorySink, handler.sinks["queue"]).delivered
    assert result.kind == "unknown"
    assert result.raw == {"EventName": "SomethingNew", "x": 1}


@respx.mock
def test_strict_mode_trusts_only_what_ci_returns() -> None:
    handler = runner(settings(CIFLOW_CALLBACK_STRICT="true"))
    describe = respx.get(f"{CI}/jobs/j1").mock(
        return_value=httpx.Response(
            200, content=task_finish_xml(state="Failed").replace("<EventName>TaskFinish</EventName>", "").encode()
        )
    )
    status, _ = answer(handler.handle(api_event(task_finish_xml(state="Success")), CONTEXT))
    assert status == 200
    assert describe.called
    assert cast(MemorySink, handler.sinks["queue"]).delivered[0].state == "Failed"  # CI's word, not the caller's
    respx.get(f"{CI}/jobs/j2").mock(
        return_value=httpx.Response(200, content=b"<Response><NonExistJobIds>j2</NonExistJobIds></Response>")
    )
    status, _ = answer(handler.handle(api_event(task_finish_xml(job_id="j2")), CONTEXT))
    assert status == 403


@respx.mock
def test_a_blocking_verdict_quarantines_the_object_and_routes_the_result() -> None:
    handler = runner(settings(CIFLOW_MODERATION_BLOCK_ACTION="quarantine"))
    copy = respx.put(f"{COS}/quarantine/in/bad%20pic.jpg").mock(
        return_value=httpx.Response(200, content=b'<CopyObjectResult><ETag>"e"</ETag></CopyObjectResult>')
    )
    delete = respx.delete(f"{COS}/in/bad%20pic.jpg").mock(return_value=httpx.Response(204))
    body = json.dumps(
        {
            "EventName": "ReviewImage",
            "JobsDetail": {
                "JobId": "si1",
                "State": "Success",
                "Object": "in/bad pic.jpg",
                "BucketId": "media-1250000000",
                "Result": 1,
                "Label": "Porn",
                "Score": 99,
                "DataId": user_data("image", "moderate"),
                "PornInfo": {"HitFlag": 1, "Score": 99, "Label": "Porn"},
            },
        }
    )
    status, _ = answer(handler.handle(api_event(body, content_type="application/json"), CONTEXT))
    assert status == 200
    assert copy.calls.last.request.headers["x-cos-copy-source"].endswith("/in/bad%20pic.jpg")
    assert delete.called
    (result,) = cast(MemorySink, handler.sinks["queue"]).delivered
    assert result.details["moderation_action"] == "quarantined to quarantine/in/bad pic.jpg"
    assert result.verdict is not None
    assert result.verdict.result == 1


def test_unknown_sink_names_are_a_configuration_error() -> None:
    from ciflow.errors import ConfigError

    with pytest.raises(ConfigError):
        settings(CIFLOW_ROUTES=json.dumps([{"sinks": ["nowhere"]}]))


def documented_callbacks() -> Iterator[Any]:
    from pathlib import Path

    fixtures = Path(__file__).resolve().parents[2] / "fixtures" / "seed"
    for entry in json.loads((fixtures / "index.json").read_text()):
        if entry["role"] == "callback":
            kind = "application/xml" if entry["format"] == "xml" else "application/json"
            yield pytest.param((fixtures / entry["file"]).read_text(), kind, id=entry["file"])


@pytest.mark.parametrize(("body", "content_type"), list(documented_callbacks()))
def test_every_documented_callback_is_routed_through_api_gateway(body: str, content_type: str) -> None:
    handler = runner(settings(CIFLOW_UNVERIFIED_USERDATA="route"))
    for encoded in (False, True):
        event = api_event(body, content_type=content_type, base64_body=encoded)
        status, answered = answer(handler.handle(event, CONTEXT))
        assert status == 200, answered
    delivered = cast(MemorySink, handler.sinks["queue"]).delivered
    assert delivered, "a documented report was not routed"
    assert len(delivered) == answered["results"]  # the base64 copy was a duplicate, routed once
    assert all(result.kind != "unknown" for result in delivered)
