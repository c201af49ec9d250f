"""Standard Webhooks signing and verification: the spec's published vector, rotation, replay and tampering."""

import base64
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ciflow.results import JobResult
from ciflow.routing._webhook import WebhookVerificationError, sign_webhook, verify_webhook, webhook_id

# The test vector of the Standard Webhooks reference libraries
# (standard-webhooks/standard-webhooks: libraries/python/tests/test_webhooks.py, test_sign_function).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_PAYLOAD = '{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def vector_headers(**overrides: str) -> dict[str, str]:
    headers = {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TIMESTAMP),
        "webhook-signature": VECTOR_SIGNATURE,
    }
    headers.update(overrides)
    return headers


def reason_of(secret: str | bytes, headers: Mapping[str, str], body: bytes | str, **kwargs: Any) -> str:
    with pytest.raises(WebhookVerificationError) as info:
        verify_webhook(secret, headers, body, **kwargs)
    return info.value.reason


def test_signing_reproduces_the_published_vector() -> None:
    assert sign_webhook(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_PAYLOAD) == VECTOR_SIGNATURE
    assert sign_webhook(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_PAYLOAD.encode()) == VECTOR_SIGNATURE


def test_the_whsec_secret_is_the_base64_of_the_key_bytes() -> None:
    key = base64.b64decode(VECTOR_SECRET.removeprefix("whsec_"))
    assert sign_webhook(key, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_PAYLOAD) == VECTOR_SIGNATURE
    # Without the prefix a string is the key's own text, not base64: a different key, a different signature.
    assert sign_webhook(VECTOR_SECRET.removeprefix("whsec_"), VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_PAYLOAD) != (
        VECTOR_SIGNATURE
    )
    unpadded = "whsec_" + base64.b64encode(b"k" * 25).decode().rstrip("=")
    assert sign_webhook(unpadded, "msg_1", 1, "{}") == sign_webhook(b"k" * 25, "msg_1", 1, "{}")


def test_the_published_vector_verifies_at_its_time() -> None:
    verify_webhook(VECTOR_SECRET, vector_headers(), VECTOR_PAYLOAD, now=VECTOR_TIMESTAMP)
    verify_webhook(VECTOR_SECRET, vector_headers(), VECTOR_PAYLOAD.encode(), now=VECTOR_TIMESTAMP + 299)


def test_header_names_are_case_insensitive() -> None:
    headers = {
        "Webhook-Id": VECTOR_ID,
        "WEBHOOK-TIMESTAMP": str(VECTOR_TIMESTAMP),
        "Webhook-Signature": VECTOR_SIGNATURE,
    }
    verify_webhook(VECTOR_SECRET, headers, VECTOR_PAYLOAD, now=VECTOR_TIMESTAMP)


def test_any_one_valid_v1_signature_among_several_verifies() -> None:
    rotated = " ".join(
        [
            "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
            "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==",
            "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            "v1,not*base64",
            "garbage",
            VECTOR_SIGNATURE,
        ]
    )
    headers = vector_headers(**{"webhook-signature": rotated})
    verify_webhook(VECTOR_SECRET, headers, VECTOR_PAYLOAD, now=VECTOR_TIMESTAMP)


def test_only_other_schemes_or_wrong_signatures_do_not_verify() -> None:
    header = "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="
    headers = vector_headers(**{"webhook-signature": header})
    assert reason_of(VECTOR_SECRET, headers, VECTOR_PAYLOAD, now=VECTOR_TIMESTAMP) == "bad_signature"


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_named(missing: str) -> None:
    headers = vector_headers()
    del headers[missing]
    with pytest.raises(WebhookVerificationError, match=missing) as info:
        verify_webhook(VECTOR_SECRET, headers, VECTOR_PAYLOAD, now=VECTOR_TIMESTAMP)
    assert info.value.reason == "missing_header"


@pytest.mark.parametrize("stamp", ["hello", "1614265330.0", "-1614265330", "1e9", "\uff11\uff16"])
def test_a_timestamp_must_be_integer_seconds(stamp: str) -> None:
    headers = vector_headers(**{"webhook-timestamp": stamp})
    assert reason_of(VECTOR_SECRET, headers, VECTOR_PAYLOAD, now=VECTOR_TIMESTAMP) == "bad_timestamp"


def test_old_and_future_timestamps_are_refused_outside_the_tolerance() -> None:
    headers = vector_headers()
    assert reason_of(VECTOR_SECRET, headers, VECTOR_PAYLOAD, now=VECTOR_TIMESTAMP + 301) == "stale"
    assert reason_of(VECTOR_SECRET, headers, VECTOR_PAYLOAD, now=VECTOR_TIMESTAMP - 301) == "future"
    verify_webhook(VECTOR_SECRET, headers, VECTOR_PAYLOAD, now=VECTOR_TIMESTAMP + 300)
    verify_webhook(VECTOR_SECRET, headers, VECTOR_PAYLOAD, now=VECTOR_TIMESTAMP - 300)
    kwargs = {"now": VECTOR_TIMESTAMP + 20, "tolerance_seconds": 10}
    assert reason_of(VECTOR_SECRET, headers, VECTOR_PAYLOAD, **kwargs) == "stale"


def test_the_default_clock_makes_the_2021_vector_stale() -> None:
    assert reason_of(VECTOR_SECRET, vector_headers(), VECTOR_PAYLOAD) == "stale"


def test_a_tampered_body_id_or_timestamp_does_not_verify() -> None:
    at = VECTOR_TIMESTAMP
    assert reason_of(VECTOR_SECRET, vector_headers(), '{"test": 2432232315}', now=at) == "bad_signature"
    assert reason_of(VECTOR_SECRET, vector_headers(), VECTOR_PAYLOAD + " ", now=at) == "bad_signature"
    headers = vector_headers(**{"webhook-id": "msg_other"})
    assert reason_of(VECTOR_SECRET, headers, VECTOR_PAYLOAD, now=at) == "bad_signature"
    headers = vector_headers(**{"webhook-timestamp": str(at + 1)})
    assert reason_of(VECTOR_SECRET, headers, VECTOR_PAYLOAD, now=at) == "bad_signature"
    other = "whsec_" + base64.b64encode(b"another key, 24 bytes...").decode()
    assert reason_of(other, vector_headers(), VECTOR_PAYLOAD, now=at) == "bad_signature"


@given(body=st.binary(max_size=256), flip=st.integers(min_value=0))
def test_every_signed_body_verifies_and_any_changed_byte_does_not(body: bytes, flip: int) -> None:
    secret = "whsec_" + base64.b64encode(bytes(range(32))).decode()
    headers = {"webhook-id": "msg_x", "webhook-timestamp": "1700000000"}
    headers["webhook-signature"] = sign_webhook(secret, "msg_x", 1700000000, body)
    verify_webhook(secret, headers, body, now=1700000000)
    if body:
        index = flip % len(body)
        changed = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1 :]
        with pytest.raises(WebhookVerificationError):
            verify_webhook(secret, headers, changed, now=1700000000)


def test_bad_secrets_are_refused_without_being_echoed() -> None:
    with pytest.raises(ValueError, match="base64") as info:
        sign_webhook("whsec_not base64 at all!!", "msg_1", 1, "{}")
    assert "not base64 at all" not in str(info.value)
    with pytest.raises(ValueError, match="at least 16 bytes") as info:
        verify_webhook("short-secret", vector_headers(), VECTOR_PAYLOAD)
    assert "short-secret" not in str(info.value)


def test_an_id_with_a_dot_is_refused_when_signing() -> None:
    with pytest.raises(ValueError, match=r"'\.'"):
        sign_webhook(VECTOR_SECRET, "msg.1", 1, "{}")


def test_webhook_ids_are_stable_per_result_and_safe_to_sign() -> None:
    done = JobResult(kind="media", event="TaskFinish", job_id="j.9d1e", state="Success")
    again = JobResult(kind="media", event="TaskFinish", job_id="j.9d1e", state="Success", tag="Transcode")
    failed = JobResult(kind="media", event="TaskFinish", job_id="j.9d1e", state="Failed")
    assert webhook_id(done) == webhook_id(again)
    assert webhook_id(done) != webhook_id(failed)
    assert webhook_id(done).startswith("msg_")
    assert "." not in webhook_id(done)
