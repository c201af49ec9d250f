"""Hostile callback bodies: wrong shapes and unstorable text are typed DecodeErrors, never TypeErrors."""

import json
from typing import Any

import pytest

from ciflow.errors import DecodeError, XmlError
from ciflow.models.callbacks import TaskFinish, parse_callback


@pytest.mark.parametrize(
    "body",
    [
        {"EventName": {"a": 1}},
        {"EventName": ["TaskFinish"]},
        {"EventName": "TaskFinish", "JobsDetail": [{"Tag": {"a": 1}, "JobId": "j1"}]},
        {"EventName": "TaskFinish", "JobsDetail": [{"Tag": ["Transcode"], "JobId": "j1"}]},
    ],
)
def test_objects_where_names_belong_are_decode_errors(body: dict[str, Any]) -> None:
    with pytest.raises(DecodeError):
        parse_callback(json.dumps(body).encode(), "application/json")


def test_an_event_name_with_children_in_xml_is_a_decode_error() -> None:
    with pytest.raises(DecodeError):
        parse_callback(b"<Response><EventName><A>1</A></EventName></Response>", "application/xml")


@pytest.mark.parametrize("escaped", ["\\ud800", "\\uDFFF", "x\\udc00y", "\\ude00\\ud83d"])
def test_a_lone_surrogate_escape_is_refused_at_parse_time(escaped: str) -> None:
    body = ('{"EventName": "TaskFinish", "JobsDetail": [{"JobId": "' + escaped + '", "Tag": "Transcode"}]}').encode()
    with pytest.raises(DecodeError, match="surrogate"):
        parse_callback(body, "application/json")


def test_a_lone_surrogate_in_a_key_is_refused_too() -> None:
    with pytest.raises(DecodeError, match="surrogate"):
        parse_callback(b'{"EventName": "TaskFinish", "\\ud800": 1}', "application/json")


def test_bytes_that_are_not_utf8_are_refused() -> None:
    body = '{"EventName": "TaskFinish", "JobsDetail": [{"JobId": "\ud800"}]}'.encode("utf-8", "surrogatepass")
    with pytest.raises(DecodeError):
        parse_callback(body, "application/json")
    with pytest.raises(XmlError):
        parse_callback(b"<Response><JobId>\xed\xa0\x80</JobId></Response>", "application/xml")


def test_escaped_surrogate_pairs_and_other_escapes_still_read() -> None:
    body = b'{"EventName": "TaskFinish", "JobsDetail": [{"JobId": "j\\ud83d\\ude00\\u4e2d\\\\ud800", "Tag": "x"}]}'
    callback = parse_callback(body, "application/json")
    assert isinstance(callback, TaskFinish)
    assert callback.jobs_detail[0].job_id == "j\U0001f600中\\ud800"
