"""Defects the fuzzer found, each pinned by the smallest input that showed it."""

import json
from collections.abc import Iterator
from typing import Any

import pytest

from ciflow.codec import MAX_XML_DEPTH, tree_depth_within
from ciflow.errors import DecodeError
from ciflow.models.callbacks import parse_callback
from tests.fuzz.harness import CallbackTarget
from tests.fuzz.strategies import APIGW_EVENTS, TOKEN


def nested(depth: int) -> object:
    """``depth`` lists, one inside the other."""
    value: object = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def json_event(body: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(json.dumps(APIGW_EVENTS[0]))
    event["headers"]["content-type"] = "application/json"
    event["queryStringParameters"] = {"token": TOKEN}
    event["body"], event["isBase64Encoded"] = body, False
    return event


@pytest.fixture
def callback() -> Iterator[CallbackTarget]:
    target = CallbackTarget()
    yield target
    target.close()


@pytest.mark.parametrize("depth", [300, 900])
def test_json_nested_too_deep_for_the_serialiser_is_a_bad_request_not_a_500(
    callback: CallbackTarget, depth: int
) -> None:
    # Found: a report without a JobId is keyed by a digest of its content; pydantic refuses to serialise
    # nesting past a few hundred levels, so the callback answered 500 ("Maximum serialization depth exceeded").
    body = json.dumps({"EventName": "Odd", "Nest": nested(depth)})
    assert callback(json_event(body)) == 400


def test_json_as_deep_as_xml_may_be_is_still_routed(callback: CallbackTarget) -> None:
    body = json.dumps({"EventName": "Odd", "Nest": nested(MAX_XML_DEPTH - 1)})
    assert callback(json_event(body)) == 200
    assert callback.counts["delivered"] == 1


def test_the_depth_cap_is_the_xml_one_and_counts_the_root() -> None:
    assert tree_depth_within(nested(MAX_XML_DEPTH))
    assert not tree_depth_within(nested(MAX_XML_DEPTH + 1))
    assert tree_depth_within({"a": {"b": "c"}}, 2)
    assert not tree_depth_within({"a": {"b": {}}}, 2)
    assert tree_depth_within(nested(50_000), 10) is False  # measured without recursion
    with pytest.raises(DecodeError, match="deeper than"):
        parse_callback(json.dumps({"EventName": "TaskFinish", "JobsDetail": nested(150)}), "application/json")
