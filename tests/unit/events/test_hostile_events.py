"""Hostile trigger inputs: each bad record is its own typed EventError and never costs the good ones."""

from typing import Any

import pytest

from ciflow.events import EventError, ObjectRef, parse_api_request, parse_cos_event
from tests.unit.events._samples import cos_record


def items(event: dict[str, Any]) -> list[Any]:
    return list(parse_cos_event(event).records_or_errors())


@pytest.mark.parametrize("value", [2**70, -(2**70), 1e300, float("inf"), float("nan"), str(2**70), "9" * 400])
def test_an_out_of_range_event_time_fails_only_its_record(value: float | str) -> None:

    result = items({"Records": [cos_record("a.jpg"), cos_record(event__eventTime=value), cos_record("b.jpg")]})
    assert isinstance(result[1][1], EventError)
    assert result[1][1].index == 1
    assert "eventTime" in str(result[1][1])
    assert [ref.key for _, ref in (result[0], result[2])] == ["a.jpg", "b.jpg"]


@pytest.mark.parametrize("key", ["bad\ud800.jpg", "\udfff", "a/\udc80b"])
def test_a_key_with_a_lone_surrogate_is_a_permanent_per_record_error(key: str) -> None:
    result = items({"Records": [cos_record(key, url=None), cos_record("b.jpg")]})
    error = result[0][1]
    assert isinstance(error, EventError)
    assert error.transient is False
    assert "UTF-8" in str(error)
    assert isinstance(result[1][1], ObjectRef)


def test_a_lone_surrogate_in_object_metadata_fails_only_its_record() -> None:
    bad = cos_record(url=None)
    bad["cos"]["cosObject"]["meta"]["x-cos-meta-owner"] = "\ud800"
    result = items({"Records": [bad, cos_record("b.jpg")]})
    assert isinstance(result[0][1], EventError)
    assert isinstance(result[1][1], ObjectRef)


def api_event(body: str) -> dict[str, Any]:
    return {"httpMethod": "POST", "path": "/cb", "headers": {}, "queryStringParameters": {}, "body": body}


def test_a_body_with_a_lone_surrogate_is_read_so_the_token_can_be_checked_first() -> None:
    request = parse_api_request(api_event('{"JobId": "\ud800"}'))
    assert request.method == "POST"
    with pytest.raises(UnicodeDecodeError):
        request.body.decode("utf-8")


def test_an_oversized_body_is_refused_before_it_is_decoded() -> None:
    from ciflow.events import BodyTooLargeError

    with pytest.raises(BodyTooLargeError) as caught:
        parse_api_request(api_event("x" * 101), max_body_bytes=100)
    assert isinstance(caught.value, EventError)
    base64_event = {**api_event("A" * 1000), "isBase64Encoded": True}
    with pytest.raises(BodyTooLargeError):
        parse_api_request(base64_event, max_body_bytes=100)
    assert parse_api_request(api_event("x" * 100), max_body_bytes=100).body == b"x" * 100
