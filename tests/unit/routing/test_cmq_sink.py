"""The CMQ sink over respx: the exact signed form (data plane) and headers (API 3.0), and every error mapping.

Signatures are recomputed here from the documented algorithms (tencent-anchors §5.1 and §6), not by calling
the signing helpers; the two oracles are first pinned to the published vectors.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import respx

from ciflow.client import Deadline, RetryPolicy
from ciflow.results import JobResult, ObjectLocation
from ciflow.routing import DeliveryError, Sink
from ciflow.routing._cmq import CmqSink
from ciflow.signing import Credentials, environment_credentials

T0 = 1_700_000_000
ROLE = Credentials("AKIDroleid", "role-secret-key", token="role-session-token")
LONG_LIVED = Credentials("AKIDlongid", "long-secret-key")
DATA_PLANE = "https://cmq-gz.public.tencenttdmq.com"
DATA_PLANE_URL = DATA_PLANE + "/v2/index.php"
API3 = "https://tdmq.tencentcloudapi.com"
NO_WAIT = RetryPolicy(attempts=3, base_delay=0.0, max_delay=0.0)


# -- independent oracles ------------------------------------------------------------------------------------------


def v1_signature(
    secret_key: str, method: str, host: str, path: str, params: dict[str, str], digest: Any = hashlib.sha256
) -> str:
    """§5.1: base64(HMAC(key, METHOD + host + path + '?' + k=v sorted by key, raw values, '_' in keys as '.'))."""
    pairs = "&".join(f"{key.replace('_', '.')}={params[key]}" for key in sorted(params))
    source = f"{method}{host}{path}?{pairs}"
    return base64.b64encode(hmac.new(secret_key.encode(), source.encode(), digest).digest()).decode()


def tc3_authorization(
    secret_id: str, secret_key: str, *, service: str, host: str, payload: bytes, timestamp: float, content_type: str
) -> tuple[str, str]:
    """§6: TC3-HMAC-SHA256 over POST / with content-type;host signed."""
    date = datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%d")
    headers = f"content-type:{content_type}\nhost:{host}\n"
    canonical = "\n".join(["POST", "/", "", headers, "content-type;host", hashlib.sha256(payload).hexdigest()])
    scope = f"{date}/{service}/tc3_request"
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = ("TC3" + secret_key).encode()
    for part in (date, service, "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders=content-type;host, Signature={signature}",
        signature,
    )


def test_the_v1_oracle_reproduces_the_published_vector() -> None:
    params = {
        "Action": "DescribeInstances",
        "InstanceIds.0": "ins-09dx96dg",
        "Limit": "20",
        "Nonce": "11886",
        "Offset": "0",
        "Region": "ap-guangzhou",
        "SecretId": "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
        "Timestamp": "1465185768",
        "Version": "2017-03-12",
    }
    signature = v1_signature(
        "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", "GET", "cvm.tencentcloudapi.com", "/", params, digest=hashlib.sha1
    )
    assert signature == "EliP9YW3pW28FpsEdkXt/+WcGeI="


def test_the_tc3_oracle_reproduces_the_published_vector() -> None:
    payload = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
    _, signature = tc3_authorization(
        "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******",
        "Gu5t9xGARNpq86cd98joQYCN3*******",
        service="cvm",
        host="cvm.tencentcloudapi.com",
        payload=payload,
        timestamp=1551113065,
        content_type="application/json; charset=utf-8",
    )
    assert signature == "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"


# -- fixtures ---------------------------------------------------------------------------------------------------


def make_result(**overrides: Any) -> JobResult:
    values: dict[str, Any] = {
        "kind": "media",
        "event": "TaskFinish",
        "job_id": "j8d1f6c2a5b3e11ee9a7d525400f3a2b1",
        "tag": "Transcode",
        "state": "Success",
        "succeeded": True,
        "input": ObjectLocation(bucket="media-1250000000", region="ap-guangzhou", key="uploads/视频 final+cut&=.mp4"),
        "outputs": [ObjectLocation(key="out/a b.mp4")],
        "route": "transcode",
        "correlation_id": "3f2a9c0d1e4b5a6c7d8e",
        "step": "transcode-0",
        "user_data_valid": True,
    }
    values.update(overrides)
    return JobResult(**values)


def plane_ok(msg_id: str = "msg-1", request_id: str = "req-1") -> httpx.Response:
    return httpx.Response(200, json={"code": 0, "message": "", "requestId": request_id, "msgId": msg_id})


def plane_error(code: int, message: str = "boom") -> httpx.Response:
    return httpx.Response(200, json={"code": code, "message": message, "requestId": "req-e"})


def api3_ok(msg_id: str = "msg-3") -> httpx.Response:
    return httpx.Response(200, json={"Response": {"Result": True, "MsgId": msg_id, "RequestId": "req-3"}})


def api3_error(code: str, message: str = "boom") -> httpx.Response:
    return httpx.Response(200, json={"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "req-e"}})


def form_of(request: httpx.Request) -> dict[str, str]:
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    pairs = parse_qsl(request.content.decode(), keep_blank_values=True, strict_parsing=True)
    form = dict(pairs)
    assert len(form) == len(pairs), "no parameter may repeat"
    return form


def sink(endpoint: str = DATA_PLANE, **options: Any) -> CmqSink:
    defaults: dict[str, Any] = {
        "target": "queue",
        "destination": "ciflow-results",
        "credentials": ROLE,
        "clock": lambda: T0 + 0.75,
        "nonce": itertools.count(11886).__next__,
        "retry": NO_WAIT,
    }
    return CmqSink(endpoint, **{**defaults, **options})


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


# -- the data plane -----------------------------------------------------------------------------------------------


def test_a_cmq_sink_has_the_sink_shape() -> None:
    queue: Sink = sink(name="results")  # mypy checks the protocol in the module itself
    assert queue.name == "results"
    assert callable(queue.deliver)


def test_send_message_posts_the_exact_signed_form(router: respx.MockRouter) -> None:
    route = router.post(DATA_PLANE_URL).mock(return_value=plane_ok())
    result = make_result()

    sink().deliver(result)

    request = route.calls.last.request
    assert request.url == DATA_PLANE_URL
    assert request.headers["host"] == "cmq-gz.public.tencenttdmq.com"
    form = form_of(request)
    signature = form.pop("Signature")
    assert form == {
        "Action": "SendMessage",
        "RequestClient": "ciflow",
        "SecretId": "AKIDroleid",
        "Nonce": "11886",
        "Timestamp": str(T0),
        "SignatureMethod": "HmacSHA256",
        "Token": "role-session-token",
        "queueName": "ciflow-results",
        "msgBody": result.model_dump_json(),
        "delaySeconds": "0",
    }
    assert signature == v1_signature("role-secret-key", "POST", "cmq-gz.public.tencenttdmq.com", "/v2/index.php", form)
    assert JobResult.model_validate_json(form["msgBody"]) == result


def test_long_lived_keys_send_no_token_and_delay_is_sent(router: respx.MockRouter) -> None:
    route = router.post(DATA_PLANE_URL).mock(return_value=plane_ok())

    sink(credentials=LONG_LIVED, delay_seconds=30).deliver(make_result())

    form = form_of(route.calls.last.request)
    assert "Token" not in form
    assert (form["SecretId"], form["delaySeconds"]) == ("AKIDlongid", "30")
    signature = form.pop("Signature")
    assert signature == v1_signature("long-secret-key", "POST", "cmq-gz.public.tencenttdmq.com", "/v2/index.php", form)


def test_publish_message_sends_numbered_tags(router: respx.MockRouter) -> None:
    route = router.post(DATA_PLANE_URL).mock(return_value=plane_ok())
    result = make_result()

    sink(target="topic", destination="ciflow-topic", tags=["transcode", "success"]).deliver(result)

    form = form_of(route.calls.last.request)
    signature = form.pop("Signature")
    assert form == {
        "Action": "PublishMessage",
        "RequestClient": "ciflow",
        "SecretId": "AKIDroleid",
        "Nonce": "11886",
        "Timestamp": str(T0),
        "SignatureMethod": "HmacSHA256",
        "Token": "role-session-token",
        "topicName": "ciflow-topic",
        "msgBody": result.model_dump_json(),
        "msgTag.1": "transcode",
        "msgTag.2": "success",
    }
    assert signature == v1_signature("role-secret-key", "POST", "cmq-gz.public.tencenttdmq.com", "/v2/index.php", form)


def test_publish_message_with_a_routing_key_computed_from_the_result(router: respx.MockRouter) -> None:
    route = router.post(DATA_PLANE_URL).mock(return_value=plane_ok())

    topic = sink(target="topic", destination="t", routing_key=lambda r: f"{r.route}.{r.kind}.{r.state}")
    topic.deliver(make_result())
    topic.deliver(make_result(state="Failed", succeeded=False))

    first, second = (form_of(call.request) for call in route.calls)
    assert first["routingKey"] == "transcode.media.Success"
    assert second["routingKey"] == "transcode.media.Failed"
    assert not any(key.startswith("msgTag") for key in first)
    for form in (first, second):
        signature = form.pop("Signature")
        assert signature == v1_signature(
            "role-secret-key", "POST", "cmq-gz.public.tencenttdmq.com", "/v2/index.php", form
        )


def test_tags_may_be_computed_per_result(router: respx.MockRouter) -> None:
    route = router.post(DATA_PLANE_URL).mock(return_value=plane_ok())

    sink(target="topic", destination="t", tags=lambda r: [r.kind, r.state or "none"]).deliver(make_result())

    form = form_of(route.calls.last.request)
    assert (form["msgTag.1"], form["msgTag.2"]) == ("media", "Success")


def test_the_endpoint_is_used_verbatim_port_and_path_included(router: respx.MockRouter) -> None:
    endpoint = "http://gz.mqadapter.cmq.tencentyun.com:8080/v2/index.php"
    route = router.post(endpoint).mock(return_value=plane_ok())

    sink(endpoint).deliver(make_result())

    request = route.calls.last.request
    assert request.url == endpoint
    assert request.headers["host"] == "gz.mqadapter.cmq.tencentyun.com:8080"
    form = form_of(request)
    signature = form.pop("Signature")
    assert signature == v1_signature(
        "role-secret-key", "POST", "gz.mqadapter.cmq.tencentyun.com:8080", "/v2/index.php", form
    )


def test_credentials_time_and_nonce_are_read_for_every_delivery(router: respx.MockRouter) -> None:
    route = router.post(DATA_PLANE_URL).mock(return_value=plane_ok())
    environ = {"TENCENTCLOUD_SECRETID": "AKIDfirst", "TENCENTCLOUD_SECRETKEY": "first-key"}
    now = iter([T0, T0 + 60])
    queue = sink(credentials=environment_credentials(environ), clock=lambda: next(now))

    queue.deliver(make_result())
    environ.update(
        TENCENTCLOUD_SECRETID="AKIDsecond", TENCENTCLOUD_SECRETKEY="second-key", TENCENTCLOUD_SESSIONTOKEN="tok-2"
    )
    queue.deliver(make_result())

    first, second = (form_of(call.request) for call in route.calls)
    assert (first["SecretId"], first["Timestamp"], first["Nonce"], "Token" in first) == (
        "AKIDfirst",
        str(T0),
        "11886",
        False,
    )
    assert (second["SecretId"], second["Timestamp"], second["Nonce"], second["Token"]) == (
        "AKIDsecond",
        str(T0 + 60),
        "11887",
        "tok-2",
    )
    for form, key in ((first, "first-key"), (second, "second-key")):
        signature = form.pop("Signature")
        assert signature == v1_signature(key, "POST", "cmq-gz.public.tencenttdmq.com", "/v2/index.php", form)


# -- API 3.0 ----------------------------------------------------------------------------------------------------


def test_send_cmq_msg_carries_the_exact_tc3_headers_and_payload(router: respx.MockRouter) -> None:
    route = router.post(API3 + "/").mock(return_value=api3_ok())
    result = make_result()

    sink(API3, protocol="api3", region="gz").deliver(result)

    request = route.calls.last.request
    payload = request.content
    assert json.loads(payload) == {
        "QueueName": "ciflow-results",
        "MsgContent": result.model_dump_json(),
        "DelaySeconds": 0,
    }
    authorization, _ = tc3_authorization(
        "AKIDroleid",
        "role-secret-key",
        service="tdmq",
        host="tdmq.tencentcloudapi.com",
        payload=payload,
        timestamp=T0,
        content_type="application/json",
    )
    expected = {
        "authorization": authorization,
        "content-type": "application/json",
        "host": "tdmq.tencentcloudapi.com",
        "x-tc-action": "SendCmqMsg",
        "x-tc-timestamp": str(T0),
        "x-tc-version": "2020-02-17",
        "x-tc-region": "ap-guangzhou",
        "x-tc-token": "role-session-token",
    }
    assert {name: request.headers.get(name) for name in expected} == expected
    assert int(request.headers["content-length"]) == len(payload)


def test_publish_cmq_msg_sends_tags_or_the_routing_key_as_msg_tag(router: respx.MockRouter) -> None:
    route = router.post(API3 + "/").mock(return_value=api3_ok())

    sink(API3, protocol="api3", region="ap-shanghai", target="topic", destination="t", tags=["a", "b"]).deliver(
        make_result()
    )
    sink(
        API3,
        protocol="api3",
        region="sh",
        target="topic",
        destination="t",
        routing_key="ciflow.media",
        credentials=LONG_LIVED,
    ).deliver(make_result())
    sink(API3, protocol="api3", region="sh", target="topic", destination="t").deliver(make_result())

    tagged, keyed, bare = (call.request for call in route.calls)
    assert json.loads(tagged.content)["MsgTag"] == ["a", "b"]
    assert json.loads(keyed.content)["MsgTag"] == ["ciflow.media"]
    assert "MsgTag" not in json.loads(bare.content)
    assert (tagged.headers["x-tc-action"], tagged.headers["x-tc-region"]) == ("PublishCmqMsg", "ap-shanghai")
    assert "x-tc-token" not in keyed.headers
    authorization, _ = tc3_authorization(
        "AKIDlongid",
        "long-secret-key",
        service="tdmq",
        host="tdmq.tencentcloudapi.com",
        payload=keyed.content,
        timestamp=T0,
        content_type="application/json",
    )
    assert keyed.headers["authorization"] == authorization


def test_api3_endpoint_override_with_a_port_signs_that_host(router: respx.MockRouter) -> None:
    endpoint = "https://tdmq.ap-guangzhou.tencentcloudapi.com:8443"
    route = router.post(endpoint + "/").mock(return_value=api3_ok())

    sink(endpoint, protocol="api3", region="gz").deliver(make_result())

    request = route.calls.last.request
    authorization, _ = tc3_authorization(
        "AKIDroleid",
        "role-secret-key",
        service="tdmq",
        host="tdmq.ap-guangzhou.tencentcloudapi.com:8443",
        payload=request.content,
        timestamp=T0,
        content_type="application/json",
    )
    assert request.headers["host"] == "tdmq.ap-guangzhou.tencentcloudapi.com:8443"
    assert request.headers["authorization"] == authorization


# -- error mapping -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "transient", "calls"),
    [
        (4000, False, 1),  # invalid parameter
        (4100, False, 1),  # authentication failed
        (4400, False, 1),  # message too large for the queue
        (4440, False, 1),  # queue does not exist
        (6030, False, 1),  # topic has no (matching) subscription
        (4420, True, 3),  # QPS throttling
        (4480, True, 3),  # frequency limit
        (6000, True, 3),  # server internal error / send failed
    ],
)
def test_data_plane_codes_map_to_permanent_or_retried_transient_errors(
    router: respx.MockRouter, code: int, transient: bool, calls: int
) -> None:
    route = router.post(DATA_PLANE_URL).mock(return_value=plane_error(code, "(10110)nope"))

    with pytest.raises(DeliveryError) as raised:
        sink().deliver(make_result())

    assert raised.value.transient is transient
    assert raised.value.sink == "cmq"
    assert f"code {code}: (10110)nope" in str(raised.value)
    assert route.call_count == calls


def test_a_transient_code_then_success_delivers(router: respx.MockRouter) -> None:
    route = router.post(DATA_PLANE_URL).mock(side_effect=[plane_error(6000), plane_error(4420), plane_ok()])

    sink().deliver(make_result())

    assert route.call_count == 3
    nonces = [form_of(call.request)["Nonce"] for call in route.calls]
    assert nonces == ["11886", "11887", "11888"]  # every attempt is signed afresh
    for call in route.calls:
        form = form_of(call.request)
        signature = form.pop("Signature")
        assert signature == v1_signature(
            "role-secret-key", "POST", "cmq-gz.public.tencenttdmq.com", "/v2/index.php", form
        )


@pytest.mark.parametrize(
    ("response", "transient", "calls"),
    [
        (httpx.Response(503, text="Service Unavailable"), True, 3),
        (httpx.Response(502, text="Bad Gateway"), True, 3),
        (httpx.Response(429, text="slow down"), True, 3),
        (httpx.Response(403, text="Forbidden"), False, 1),
        (httpx.Response(404, text="<html>not found</html>"), False, 1),
        (httpx.Response(200, text="<html>a proxy page</html>"), False, 1),
        (httpx.Response(200, json={"unexpected": True}), False, 1),
        (httpx.Response(200, json={"code": 0, "requestId": "r"}), True, 3),  # accepted without a msgId
    ],
)
def test_http_statuses_and_odd_bodies(
    router: respx.MockRouter, response: httpx.Response, transient: bool, calls: int
) -> None:
    route = router.post(DATA_PLANE_URL).mock(return_value=response)

    with pytest.raises(DeliveryError) as raised:
        sink().deliver(make_result())

    assert (raised.value.transient, route.call_count) == (transient, calls)


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError("connection refused"),
        httpx.ConnectTimeout("connect timed out"),
        httpx.ReadTimeout("read timed out"),
        httpx.RemoteProtocolError("server disconnected"),
    ],
)
def test_network_errors_are_retried_then_delivered(router: respx.MockRouter, error: httpx.TransportError) -> None:
    route = router.post(DATA_PLANE_URL).mock(side_effect=[error, plane_ok()])

    sink().deliver(make_result())

    assert route.call_count == 2


def test_network_errors_on_every_attempt_give_a_transient_error(router: respx.MockRouter) -> None:
    route = router.post(DATA_PLANE_URL).mock(side_effect=httpx.ConnectError("connection refused"))

    with pytest.raises(DeliveryError) as raised:
        sink().deliver(make_result())

    assert raised.value.transient is True
    assert "ConnectError" in str(raised.value)
    assert route.call_count == 3


@pytest.mark.parametrize(
    ("code", "transient", "calls"),
    [
        ("RequestLimitExceeded", True, 3),
        ("RequestLimitExceeded.UinLimitExceeded", True, 3),
        ("InternalError", True, 3),
        ("InternalError.SystemError", True, 3),
        ("FailedOperation.CmqBackendError", True, 3),
        ("ResourceNotFound.Topic", False, 1),
        ("InvalidParameterValue", False, 1),
        ("AuthFailure.SignatureFailure", False, 1),
        ("AuthFailure.SecretIdNotFound", False, 1),
        ("UnauthorizedOperation", False, 1),
        ("FailedOperation.MaxMessageSizeError", False, 1),
    ],
)
def test_api3_response_errors_map_to_permanent_or_transient(
    router: respx.MockRouter, code: str, transient: bool, calls: int
) -> None:
    route = router.post(API3 + "/").mock(return_value=api3_error(code, "no way"))

    with pytest.raises(DeliveryError) as raised:
        sink(API3, protocol="api3", region="gz").deliver(make_result())

    assert (raised.value.transient, route.call_count) == (transient, calls)
    assert f"{code}: no way (request id req-e)" in str(raised.value)


def test_api3_throttling_then_success(router: respx.MockRouter) -> None:
    route = router.post(API3 + "/").mock(side_effect=[api3_error("RequestLimitExceeded"), api3_ok()])

    sink(API3, protocol="api3", region="gz").deliver(make_result())

    assert route.call_count == 2


def test_api3_result_false_is_not_delivered(router: respx.MockRouter) -> None:
    router.post(API3 + "/").mock(
        return_value=httpx.Response(200, json={"Response": {"Result": False, "RequestId": "r"}})
    )

    with pytest.raises(DeliveryError, match="not accepted") as raised:
        sink(API3, protocol="api3", region="gz").deliver(make_result())

    assert raised.value.transient is True


# -- size, deadline, configuration ------------------------------------------------------------------------------


def test_a_result_over_the_message_limit_is_refused_before_sending(router: respx.MockRouter) -> None:
    route = router.post(DATA_PLANE_URL).mock(return_value=plane_ok())
    big = make_result(details={"blob": "x" * 70_000})

    with pytest.raises(DeliveryError, match=r"over the 65536-byte CMQ message limit") as raised:
        sink().deliver(big)

    assert raised.value.transient is False
    assert route.call_count == 0


def test_the_limit_counts_utf8_bytes_and_is_configurable(router: respx.MockRouter) -> None:
    route = router.post(DATA_PLANE_URL).mock(return_value=plane_ok())
    result = make_result()
    size = len(result.model_dump_json().encode())
    assert size > len(result.model_dump_json())  # non-ASCII key: bytes, not characters

    sink(max_message_bytes=size).deliver(result)
    with pytest.raises(DeliveryError, match=f"is {size} bytes"):
        sink(max_message_bytes=size - 1).deliver(result)

    assert route.call_count == 1


def test_an_expired_deadline_sends_nothing(router: respx.MockRouter) -> None:
    route = router.post(DATA_PLANE_URL).mock(return_value=plane_ok())

    with pytest.raises(DeliveryError, match="deadline") as raised:
        sink().deliver(make_result(), deadline=Deadline.after(-1))

    assert raised.value.transient is True
    assert route.call_count == 0


def test_retries_stop_when_the_next_wait_would_pass_the_deadline(router: respx.MockRouter) -> None:
    route = router.post(DATA_PLANE_URL).mock(return_value=plane_error(6000))
    slow = RetryPolicy(attempts=5, base_delay=5.0, max_delay=5.0)

    with pytest.raises(DeliveryError) as raised:
        sink(retry=slow).deliver(make_result(), deadline=Deadline.after(1.0))

    assert raised.value.transient is True
    assert route.call_count == 1


def test_each_attempts_timeout_is_capped_by_the_deadline(router: respx.MockRouter) -> None:
    seen = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return plane_ok()

    router.post(DATA_PLANE_URL).mock(side_effect=answer)
    sink(timeout=httpx.Timeout(connect=3.0, read=15.0, write=15.0, pool=3.0)).deliver(
        make_result(), deadline=Deadline.after(2.0)
    )

    assert 0 < seen[0]["read"] <= 2.0
    assert 0 < seen[0]["connect"] <= 2.0


def test_missing_credentials_are_a_permanent_error(router: respx.MockRouter) -> None:
    route = router.post(DATA_PLANE_URL).mock(return_value=plane_ok())

    with pytest.raises(DeliveryError, match="TENCENTCLOUD_SECRETID") as raised:
        sink(credentials=environment_credentials({})).deliver(make_result())

    assert raised.value.transient is False
    assert route.call_count == 0


def test_errors_never_carry_the_secret_key_or_token(router: respx.MockRouter) -> None:
    router.post(DATA_PLANE_URL).mock(return_value=plane_error(4100, "authentication failed"))

    with pytest.raises(DeliveryError) as raised:
        sink().deliver(make_result())

    assert "role-secret-key" not in str(raised.value)
    assert "role-session-token" not in str(raised.value)
    assert "role-secret-key" not in repr(sink())


@pytest.mark.parametrize(
    ("endpoint", "options", "message"),
    [
        (DATA_PLANE, {"target": "bucket"}, "target"),
        (DATA_PLANE, {"protocol": "grpc"}, "protocol"),
        (DATA_PLANE, {"destination": ""}, "name is required"),
        ("cmq-gz.public.tencenttdmq.com", {}, "http"),
        ("ftp://cmq-gz.public.tencenttdmq.com", {}, "http"),
        (DATA_PLANE + "/v2/index.php?x=1", {}, "query"),
        (DATA_PLANE, {"tags": ["a"]}, "topics only"),
        (DATA_PLANE, {"target": "topic", "tags": ["a"], "routing_key": "k"}, "not both"),
        (DATA_PLANE, {"target": "topic", "tags": "abc"}, "not one string"),
        (DATA_PLANE, {"target": "topic", "tags": ["x" * 65]}, "1-64"),
        (DATA_PLANE, {"target": "topic", "routing_key": "@file"}, "'@'"),
        (DATA_PLANE, {"delay_seconds": -1}, "delay_seconds"),
        (API3, {"protocol": "api3"}, "region"),
        (API3, {"protocol": "api3", "region": "moon-base"}, "unknown region"),
        (API3 + "/v2/index.php", {"protocol": "api3", "region": "gz"}, "no path"),
    ],
)
def test_bad_configuration_is_refused_at_construction(endpoint: str, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sink(endpoint, **options)


def test_a_computed_tag_that_is_too_long_is_refused(router: respx.MockRouter) -> None:
    route = router.post(DATA_PLANE_URL).mock(return_value=plane_ok())

    with pytest.raises(DeliveryError, match="1-64") as raised:
        sink(target="topic", destination="t", routing_key=lambda r: "k" * 80).deliver(make_result())

    assert raised.value.transient is False

    assert route.call_count == 0


def test_an_owned_client_is_closed_and_a_shared_one_is_not() -> None:
    shared = httpx.Client()
    with sink(http=shared):
        pass
    assert not shared.is_closed
    shared.close()

    owned = sink()
    owned.close()
    assert owned._http.is_closed
