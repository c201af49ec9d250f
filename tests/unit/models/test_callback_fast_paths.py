"""The callback hot path's shortcuts decide exactly as the slow paths they skip: depth, safe XML, tags, results."""

import json
from datetime import datetime, timezone

import pytest

from ciflow.codec import MAX_XML_DEPTH, parse_xml
from ciflow.errors import DecodeError, UnsafeXmlError
from ciflow.models import JobDetail
from ciflow.models.callbacks import RawCallback, TaskFinish, detail_model, parse_callback
from ciflow.results import JobResult, ObjectLocation
from ciflow.results._model import job_result


def nested(depth: int) -> object:
    """``depth`` lists, one inside the other."""
    value: object = "leaf"
    for _ in range(depth):
        value = [value]
    return value


def odd(nest: object) -> str:
    return json.dumps({"EventName": "Odd", "Nest": nest})


def test_a_wide_shallow_json_body_with_more_brackets_than_the_cap_is_walked_and_kept() -> None:
    # 300 containers, 3 levels: the bracket count cannot clear it, the walk does.
    body = odd([{"Key": "k", "Value": ["v"]} for _ in range(150)])
    assert body.count("{") + body.count("[") > MAX_XML_DEPTH
    callback = parse_callback(body.encode(), "application/json")
    assert isinstance(callback, RawCallback)
    assert len(callback.tree["Nest"]) == 150


def test_brackets_inside_strings_only_make_the_count_cautious() -> None:
    body = odd({"Text": "[{" * 200})
    callback = parse_callback(body, "application/json")
    assert isinstance(callback, RawCallback)
    assert callback.tree["Nest"]["Text"] == "[{" * 200


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-le", "utf-32-be"])
def test_the_depth_cap_holds_in_every_json_encoding(encoding: str) -> None:
    # The root object is one level: MAX_XML_DEPTH - 1 lists under it are the deepest body allowed.
    assert isinstance(parse_callback(odd(nested(MAX_XML_DEPTH - 1)).encode(encoding), "application/json"), RawCallback)
    with pytest.raises(DecodeError, match="deeper than"):
        parse_callback(odd(nested(MAX_XML_DEPTH)).encode(encoding), "application/json")


def test_the_depth_cap_holds_for_text_bodies() -> None:
    assert isinstance(parse_callback(odd(nested(MAX_XML_DEPTH - 1)), "application/json"), RawCallback)
    with pytest.raises(DecodeError, match="deeper than"):
        parse_callback(odd(nested(MAX_XML_DEPTH)), None)


def test_xml_with_exclamation_marks_but_no_declaration_parses_directly() -> None:
    element = parse_xml(b"<Response><Message>Done! 100%!</Message></Response>")
    assert element.findtext("Message") == "Done! 100%!"


def test_a_declaration_after_an_exclamation_mark_is_still_refused() -> None:
    body = b'<?xml version="1.0"?><!-- ok! --><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    with pytest.raises(UnsafeXmlError):
        parse_xml(body)


@pytest.mark.parametrize("key", ["Tag", "tag"])
def test_a_detail_is_typed_by_its_tag_under_either_spelling(key: str) -> None:
    tree = {"EventName": "TaskFinish", "JobsDetail": {key: "FileHashCode", "JobId": "j1", "Operation": {}}}
    callback = parse_callback(json.dumps(tree), "application/json")
    assert isinstance(callback, TaskFinish)
    assert type(callback.jobs_detail[0]) is detail_model("FileHashCode") is not JobDetail


def test_a_null_tag_is_not_looked_up_under_its_lowercase_spelling() -> None:
    # ``Tag`` present (null) wins over ``tag``: the entry is a plain JobDetail, as before.
    tree = {"EventName": "TaskFinish", "JobsDetail": {"Tag": None, "tag": "FileHashCode", "JobId": "j1"}}
    callback = parse_callback(json.dumps(tree), "application/json")
    assert isinstance(callback, TaskFinish)
    assert type(callback.jobs_detail[0]) is JobDetail


def test_job_result_is_the_model_built_from_keywords() -> None:
    when = datetime(2022, 6, 27, 15, 23, 10, tzinfo=timezone.utc)
    fields = {
        "kind": "media",
        "event": "TaskFinish",
        "job_id": "j1",
        "succeeded": True,
        "input": ObjectLocation(bucket="b-1250000000", key="in.mp4"),
        "outputs": [ObjectLocation(key="out.mp4")],
        "details": {"duration": 1.5},
        "finished_at": when,
        "error_code": None,
    }
    built = job_result(fields)
    assert built == JobResult(**fields)
    assert built.model_fields_set == JobResult(**fields).model_fields_set
    with pytest.raises(ValueError, match="kind"):
        job_result({**fields, "kind": "film"})
