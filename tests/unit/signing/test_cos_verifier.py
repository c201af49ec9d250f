"""check_cos_authorization: the server's side of the COS signature, used to check what clients put on the wire."""

from typing import Any

import pytest

from ciflow.signing import Credentials, check_cos_authorization, cos_authorization, cos_key_time

CREDS = Credentials("AKIDverifier", "verifier-secret")
NOW = 1_700_000_000
KEY_TIME = cos_key_time(NOW, 600)
PATH = "/dir/a b+c.txt"
PARAMS = [("prefix", "a b"), ("acl", "")]
HEADERS = [
    ("Host", "b-1250000000.cos.ap-guangzhou.myqcloud.com"),
    ("Content-Type", "text/plain"),
    ("x-cos-meta-t", "视"),
]
AUTH = cos_authorization(CREDS, "PUT", PATH, PARAMS, HEADERS, KEY_TIME)


def check(**changes: Any) -> str | None:

    arguments = {
        "credentials": CREDS,
        "authorization": AUTH,
        "method": "PUT",
        "path": PATH,
        "params": PARAMS,
        "headers": [*HEADERS, ("User-Agent", "unsigned")],
        "now": NOW,
    }
    return check_cos_authorization(**{**arguments, **changes})


def test_a_correct_signature_verifies_whatever_the_order_and_case_of_names() -> None:
    assert check() is None
    assert check(headers=[(k.upper(), v) for k, v in reversed(HEADERS)], params=list(reversed(PARAMS))) is None
    assert check(method="put") is None


def test_received_values_are_read_trimmed_as_http_parses_them() -> None:
    assert check(headers=[(k, f" {v}\t") for k, v in HEADERS]) is None


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"method": "GET"}, "q-signature does not match"),
        ({"path": "/dir/a b c.txt"}, "q-signature does not match"),
        ({"params": [("prefix", "a+b"), ("acl", "")]}, "q-signature does not match"),
        ({"params": [("prefix", "a b")]}, "signed parameter 'acl' received 0 times"),
        ({"headers": [*HEADERS[:1], ("Content-Type", "text/html"), HEADERS[2]]}, "q-signature does not match"),
        ({"headers": [*HEADERS, ("content-type", "text/plain")]}, "signed header 'content-type' received 2 times"),
        ({"headers": HEADERS[:2]}, "signed header 'x-cos-meta-t' received 0 times"),
        ({"now": NOW + 601}, "does not cover"),
        ({"now": NOW - 61}, "does not cover"),
        ({"credentials": Credentials("AKIDother", "verifier-secret")}, "is not the credentials' SecretId"),
        ({"credentials": Credentials("AKIDverifier", "other-secret")}, "q-signature does not match"),
        ({"authorization": AUTH.replace("q-sign-algorithm=sha1", "q-sign-algorithm=md5")}, "unsupported"),
        ({"authorization": AUTH.split("&q-signature=")[0]}, "missing q-signature"),
        ({"authorization": AUTH.replace("q-header-list=", "q-header-list=x-cos-extra;")}, "received 0 times"),
        # A header left out of the list after signing: the signature covered it.
        ({"authorization": AUTH.replace("content-type;", "")}, "q-signature does not match"),
        # The list must be the canonical (sorted) one the signature was computed with.
        ({"authorization": AUTH.replace("content-type;host", "host;content-type")}, "q-header-list does not match"),
    ],
)
def test_anything_that_differs_from_what_was_signed_is_refused_with_its_reason(
    changes: dict[str, Any], reason: str
) -> None:
    problem = check(**changes)
    assert problem is not None
    assert reason in problem
