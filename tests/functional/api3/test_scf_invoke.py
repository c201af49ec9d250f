"""SCF ``Invoke`` over respx: signed as the official SDK signs, the event as ``ClientContext``, refusals typed."""

import json
from types import SimpleNamespace
from typing import Any, cast

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st
from tencentcloud.common import abstract_client, credential
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.http.request import RequestInternal

from ciflow.api3 import SCF_ENDPOINT, SCF_HOST, Api3Error, ScfInvoker
from ciflow.signing import Credentials, tc3_headers

CREDS = Credentials("AKIDscfinvoketest", "scf-invoke-secret-key", token="session-token")
NOW = 1_800_000_000
EVENT = {"Records": [{"cos": {"cosObject": {"key": "/1250000000/media/uploads/hash/a b+c.bin"}}}]}
OK = {"Response": {"Result": {"FunctionRequestId": "fn-1", "InvokeResult": 0}, "RequestId": "req-1"}}


def sdk_request(creds: Credentials, region: str, params: dict[str, Any], timestamp: int) -> RequestInternal:
    """The official SDK's signed request for ``Invoke`` (its clock fixed at ``timestamp``)."""
    client = CommonClient(
        "scf", "2018-04-16", credential.Credential(creds.secret_id, creds.secret_key, creds.token), region
    )
    request = RequestInternal(SCF_HOST, "POST", "/")
    fixed = SimpleNamespace(time=lambda: timestamp)
    original, abstract_client.time = abstract_client.time, fixed
    try:
        client._build_req_with_tc3_signature("Invoke", params, request)
    finally:
        abstract_client.time = original
    return request


def invoker(**kwargs: Any) -> ScfInvoker:
    return ScfInvoker("ap-guangzhou", credentials=CREDS, clock=lambda: NOW, **kwargs)


texts = st.text(st.characters(blacklist_categories=cast(Any, ("Cs",))), max_size=30)
events = st.dictionaries(st.text(max_size=8), st.one_of(texts, st.integers(), st.lists(texts, max_size=3)), max_size=4)


@settings(max_examples=60, deadline=None)
@given(
    secret=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40),
    region=st.sampled_from(["ap-guangzhou", "ap-shanghai", "na-siliconvalley"]),
    event=events,
    timestamp=st.integers(min_value=1_500_000_000, max_value=2_100_000_000),
)
def test_the_signature_is_the_official_sdks(secret: str, region: str, event: dict[str, Any], timestamp: int) -> None:
    creds = Credentials("AKIDoracle", secret, token="tok")
    ours = ScfInvoker(region, credentials=creds, clock=lambda: timestamp, namespace="ns", qualifier="$LATEST")
    request = ours.request("ciflow-hash", event)
    params = json.loads(request.content)
    sdk = sdk_request(creds, region, params, timestamp)
    # The SDK serialises with its own spacing: signed over its bytes, our signer gives its Authorization.
    payload = sdk.data.encode() if isinstance(sdk.data, str) else sdk.data
    again = tc3_headers(
        creds, service="scf", host=SCF_HOST, action="Invoke", version="2018-04-16", region=region,
        payload=payload, timestamp=timestamp,
    )  # fmt: skip
    assert again["Authorization"] == sdk.header["Authorization"]
    for name in ("Content-Type", "Host", "X-TC-Action", "X-TC-Version", "X-TC-Region", "X-TC-Timestamp", "X-TC-Token"):
        assert request.headers[name] == sdk.header[name], name
    assert json.loads(sdk.data) == params


def test_an_event_invocation_carries_the_event_as_client_context() -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(f"{SCF_ENDPOINT}/").respond(200, json=OK)
        with invoker(namespace="prod", qualifier="$LATEST") as scf:
            answer = scf.invoke("ciflow-hash", EVENT)
    assert (answer.function, answer.request_id, answer.function_request_id) == ("ciflow-hash", "req-1", "fn-1")
    sent = route.calls.last.request
    assert json.loads(sent.content) == {
        "FunctionName": "ciflow-hash",
        "InvocationType": "Event",
        "ClientContext": json.dumps(EVENT, ensure_ascii=False, separators=(",", ":")),
        "Namespace": "prod",
        "Qualifier": "$LATEST",
    }
    assert json.loads(json.loads(sent.content)["ClientContext"]) == EVENT
    assert sent.headers["X-TC-Action"] == "Invoke"
    assert sent.headers["X-TC-Version"] == "2018-04-16"
    assert sent.headers["X-TC-Region"] == "ap-guangzhou"
    assert sent.headers["X-TC-Timestamp"] == str(NOW)
    assert sent.headers["X-TC-Token"] == "session-token"
    assert sent.headers["Authorization"].startswith(
        "TC3-HMAC-SHA256 Credential=AKIDscfinvoketest/2027-01-15/scf/tc3_request, SignedHeaders=content-type;host, "
        "Signature="
    )


def test_a_stand_in_endpoint_is_sent_and_signed_for_scfs_host() -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post("http://127.0.0.1:8123/").respond(200, json=OK)
        with invoker(endpoint="http://127.0.0.1:8123") as scf:
            scf.invoke("ciflow-hash", EVENT)
    sent = route.calls.last.request
    assert sent.headers["Host"] == SCF_HOST
    expected = tc3_headers(
        CREDS, service="scf", host=SCF_HOST, action="Invoke", version="2018-04-16", region="ap-guangzhou",
        payload=sent.content, timestamp=NOW,
    )  # fmt: skip
    assert sent.headers["Authorization"] == expected["Authorization"]


@pytest.mark.parametrize(
    ("answer", "code", "transient"),
    [
        (httpx.Response(200, json={"Response": {"Error": {"Code": "ResourceNotFound.Function", "Message": "no"}}}),
         "ResourceNotFound.Function", False),
        (httpx.Response(200, json={"Response": {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "x"}}}),
         "AuthFailure.SignatureFailure", False),
        (httpx.Response(200, json={"Response": {"Error": {"Code": "RequestLimitExceeded", "Message": "slow"}}}),
         "RequestLimitExceeded", True),
        (httpx.Response(200, json={"Response": {"Error": {"Code": "InternalError.System", "Message": "x"}}}),
         "InternalError.System", True),
        (httpx.Response(502, text="bad gateway"), "HTTP502", True),
        (httpx.Response(429, text="slow down"), "HTTP429", True),
        (httpx.Response(200, text="<html>captive portal</html>"), "NotApi3", False),
        (httpx.ConnectError("refused"), "ConnectError", True),
    ],
)  # fmt: skip
def test_refusals_are_typed_retryable_or_not(answer: Any, code: str, transient: bool) -> None:
    with respx.mock() as mock:
        route = mock.post(f"{SCF_ENDPOINT}/")
        if isinstance(answer, Exception):
            route.side_effect = answer
        else:
            route.return_value = answer
        with invoker() as scf, pytest.raises(Api3Error) as refused:
            scf.invoke("ciflow-hash", EVENT)
    assert (refused.value.code, refused.value.transient) == (code, transient)


def test_without_credentials_nothing_is_sent() -> None:
    def missing() -> Credentials:
        raise ValueError("no role credentials")

    with respx.mock(assert_all_called=False) as mock:
        route = mock.post(f"{SCF_ENDPOINT}/").respond(200, json=OK)
        with ScfInvoker("ap-guangzhou", credentials=missing) as scf, pytest.raises(Api3Error) as refused:
            scf.invoke("ciflow-hash", EVENT)
    assert refused.value.code == "NoCredentials"
    assert not route.called


def test_an_endpoint_must_be_http() -> None:
    with pytest.raises(ValueError, match="http"):
        ScfInvoker("ap-guangzhou", endpoint="scf.tencentcloudapi.com", credentials=CREDS)
