"""The COS request signature against the official documentation's vectors, byte for byte."""

import httpx

from ciflow.signing import Credentials, cos_authorization, cos_key_time, sign_request, signed_headers

DOC_CREDENTIALS = Credentials("AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q", "BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz")
HOST = "examplebucket-1250000000.cos.ap-beijing.myqcloud.com"


def signature_of(authorization: str) -> str:
    return dict(part.split("=", 1) for part in authorization.split("&"))["q-signature"]


def test_put_object_vector() -> None:
    headers = [
        ("Date", "Thu, 16 May 2019 06:45:51 GMT"),
        ("Host", HOST),
        ("Content-Type", "text/plain"),
        ("Content-Length", "13"),
        ("Content-MD5", "mQ/fVh815F3k6TAUm8m0eg=="),
        ("x-cos-acl", "private"),
        ("x-cos-grant-read", 'uin="100000000011"'),
    ]
    auth = cos_authorization(DOC_CREDENTIALS, "PUT", "/exampleobject(腾讯云)", [], headers, "1557989151;1557996351")
    assert auth == (
        "q-sign-algorithm=sha1&q-ak=AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q"
        "&q-sign-time=1557989151;1557996351&q-key-time=1557989151;1557996351"
        "&q-header-list=content-length;content-md5;content-type;date;host;x-cos-acl;x-cos-grant-read"
        "&q-url-param-list=&q-signature=3b8851a11a569213c17ba8fa7dcf2abec6935172"
    )


def test_get_object_with_params_vector() -> None:
    params = [
        ("response-content-type", "application/octet-stream"),
        ("response-cache-control", "max-age=600"),
    ]
    headers = [("Date", "Thu, 16 May 2019 06:55:53 GMT"), ("Host", HOST)]
    auth = cos_authorization(DOC_CREDENTIALS, "GET", "/exampleobject(腾讯云)", params, headers, "1557989753;1557996953")
    assert signature_of(auth) == "01681b8c9d798a678e43b685a9f1bba0f6c0e012"
    assert "&q-url-param-list=response-cache-control;response-content-type&" in auth
    assert "&q-header-list=date;host&" in auth


def test_range_vector() -> None:
    headers = [("Host", "bucket1-1254000000.cos.ap-beijing.myqcloud.com"), ("Range", "bytes=0-3")]
    auth = cos_authorization(DOC_CREDENTIALS, "GET", "/testfile", [], headers, "1417773892;1417853898")
    assert signature_of(auth) == "4b6cbab14ce01381c29032423481ebffd514e8be"


def test_signed_header_selection_matches_the_sdk_rules() -> None:
    chosen = signed_headers(
        [
            ("Host", "h"),
            ("Content-Type", "a"),
            ("Date", "d"),
            ("User-Agent", "u"),
            ("x-cos-meta-a", "1"),
            ("X-CI-Foo", "2"),
            ("Pic-Operations", "{}"),
            ("Accept", "*/*"),
        ]
    )
    assert [name for name, _ in chosen] == [
        "Host",
        "Content-Type",
        "x-cos-meta-a",
        "X-CI-Foo",
        "Pic-Operations",
    ]


def test_key_time_is_backdated_and_bounded() -> None:
    assert cos_key_time(1_000_000.9, expires_in=600) == "999940;1000600"


def test_temporary_credentials_send_and_sign_the_token_header() -> None:
    creds = Credentials("AKIDx", "secretsecret", token="tok-123")
    ci = httpx.Request("POST", "https://b-1250000000.ci.ap-beijing.myqcloud.com/jobs", content=b"<Request/>")
    cos = httpx.Request("GET", "https://b-1250000000.cos.ap-beijing.myqcloud.com/k")
    sign_request(ci, creds, "1;2")
    sign_request(cos, creds, "1;2")
    assert ci.headers["x-ci-security-token"] == "tok-123"
    assert "x-cos-security-token" not in ci.headers
    assert cos.headers["x-cos-security-token"] == "tok-123"
    assert "x-ci-security-token" in ci.headers["authorization"].split("q-header-list=")[1].split("&")[0]
    assert "x-cos-security-token" in cos.headers["authorization"].split("q-header-list=")[1].split("&")[0]


def test_service_extension_decides_token_header_behind_an_endpoint_override() -> None:
    creds = Credentials("AKIDx", "secretsecret", token="tok-123")
    request = httpx.Request("POST", "http://127.0.0.1:9000/jobs", extensions={"ciflow.service": "ci"})
    sign_request(request, creds, "1;2")
    assert request.headers["x-ci-security-token"] == "tok-123"
