"""TC3-HMAC-SHA256 and the legacy HMAC scheme against their published vectors."""

import pytest

from ciflow.signing import Credentials, hmac_v1_params, hmac_v1_signature, tc3_headers, tc3_signature

TC3_PAYLOAD = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
TC3_CONTENT_TYPE = "application/json; charset=utf-8"


@pytest.mark.parametrize(
    ("secret_key", "expected"),
    [
        (
            "Gu5t9xGARNpq86cd98joQYCN3*******",
            "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c",
        ),
        (
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168",
        ),
    ],
)
def test_tc3_published_vector(secret_key: str, expected: str) -> None:
    signature = tc3_signature(
        secret_key,
        service="cvm",
        host="cvm.tencentcloudapi.com",
        payload=TC3_PAYLOAD,
        timestamp=1551113065,
        content_type=TC3_CONTENT_TYPE,
    )
    assert signature == expected


def test_tc3_headers_carry_scope_action_and_token() -> None:
    creds = Credentials("AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******", "Gu5t9xGARNpq86cd98joQYCN3*******", token="tk")
    headers = tc3_headers(
        creds,
        service="cvm",
        host="cvm.tencentcloudapi.com",
        action="DescribeInstances",
        version="2017-03-12",
        region="ap-guangzhou",
        payload=TC3_PAYLOAD,
        timestamp=1551113065,
        content_type=TC3_CONTENT_TYPE,
    )
    assert headers["Authorization"] == (
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, "
        "SignedHeaders=content-type;host, "
        "Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
    )
    assert headers["X-TC-Action"] == "DescribeInstances"
    assert headers["X-TC-Timestamp"] == "1551113065"
    assert headers["X-TC-Token"] == "tk"


def test_hmac_v1_published_vector() -> None:
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
    signature = hmac_v1_signature(
        "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        method="GET",
        host="cvm.tencentcloudapi.com",
        path="/",
        params=params,
    )
    assert signature == "EliP9YW3pW28FpsEdkXt/+WcGeI="


def test_hmac_v1_params_adds_common_fields_and_signs_underscores_as_dots() -> None:
    creds = Credentials("AKIDid", "key-123456", token="session")
    signed = hmac_v1_params(
        creds,
        method="POST",
        host="cmq-gz.public.tencenttdmq.com",
        path="/v2/index.php",
        action="SendMessage",
        params={"queueName": "q1", "msgBody": "hello", "msg_tag": "t"},
        nonce=42,
        timestamp=1700000000,
    )
    assert signed["Token"] == "session"
    assert signed["SignatureMethod"] == "HmacSHA256"
    unsigned = {k: v for k, v in signed.items() if k != "Signature"}
    assert signed["Signature"] == hmac_v1_signature(
        "key-123456",
        method="POST",
        host="cmq-gz.public.tencenttdmq.com",
        path="/v2/index.php",
        params=unsigned,
        signature_method="HmacSHA256",
    )
    # Changing the underscore key changes the signature source (msg.tag), so it is part of what is signed.
    altered = dict(unsigned, msg_tag="u")
    assert (
        hmac_v1_signature(
            "key-123456",
            method="POST",
            host="cmq-gz.public.tencenttdmq.com",
            path="/v2/index.php",
            params=altered,
            signature_method="HmacSHA256",
        )
        != signed["Signature"]
    )
