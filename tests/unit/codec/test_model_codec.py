"""The generic codec: XML and JSON trees into models and back, with CI's value conventions."""

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import Field

from ciflow.codec import (
    CiBool,
    CiFloat,
    CiInt,
    CiModel,
    CiTime,
    ListOf,
    decode_tree,
    from_xml,
    to_xml,
    tree_to_xml,
)
from ciflow.errors import DecodeError, MalformedXmlError
from tests.support.xmltree import lossless_equal_xml


class Md5Info(CiModel):
    object_name: str | None = None
    md5: str | None = None


class OutputFile(CiModel):
    bucket: str | None = None
    object_name: ListOf[str] = Field(default_factory=list)
    md5_info: ListOf[Md5Info] = Field(default_factory=list)


class Detail(CiModel):
    job_id: str | None = None
    progress: CiInt = None
    duration: CiFloat = None
    ignore_error: CiBool = None
    creation_time: CiTime = None
    end_time: CiTime = None
    output_file: OutputFile | None = None
    ci_param: str | None = Field(default=None, alias="CIParam")


BODY = b"""<Response>
  <JobId>j123</JobId><Progress>100</Progress><Duration>1014.950000</Duration><IgnoreError>false</IgnoreError>
  <CreationTime>2022-06-30T15:29:42+0800</CreationTime><EndTime>-</EndTime>
  <OutputFile><Bucket>b-1</Bucket><ObjectName>0.jpg</ObjectName><ObjectName>1.jpg</ObjectName>
    <Md5Info><ObjectName>0.jpg</ObjectName><Md5>aa</Md5></Md5Info></OutputFile>
  <CIParam>imageMogr2/thumbnail/!50p</CIParam>
  <NewField><Nested>kept</Nested></NewField>
</Response>"""


def test_xml_values_become_typed() -> None:
    detail = from_xml(Detail, BODY, root="Response")
    assert detail.job_id == "j123"
    assert detail.progress == 100
    assert detail.duration == pytest.approx(1014.95)
    assert detail.ignore_error is False
    assert detail.creation_time == datetime(2022, 6, 30, 15, 29, 42, tzinfo=timezone(timedelta(hours=8)))
    assert detail.end_time is None
    assert detail.ci_param == "imageMogr2/thumbnail/!50p"


def test_repeated_elements_become_lists_and_a_single_one_a_list_of_one() -> None:
    detail = from_xml(Detail, BODY)
    assert detail.output_file is not None
    assert detail.output_file.object_name == ["0.jpg", "1.jpg"]
    assert [m.md5 for m in detail.output_file.md5_info] == ["aa"]


def test_unknown_elements_are_kept_not_fatal() -> None:
    detail = from_xml(Detail, BODY)
    assert detail.model_extra == {"NewField": {"Nested": "kept"}}


def test_round_trip_is_lossless() -> None:
    assert lossless_equal_xml(BODY, to_xml(from_xml(Detail, BODY), "Response")) is None


def test_none_is_never_emitted() -> None:
    xml = to_xml(Detail(job_id="j1"), "Request")
    assert xml == b'<?xml version="1.0" encoding="utf-8"?><Request><JobId>j1</JobId></Request>'


def test_text_is_escaped_on_output() -> None:
    xml = to_xml(Detail(job_id="a<b>&c"), "Request")
    assert b"<JobId>a&lt;b&gt;&amp;c</JobId>" in xml
    assert from_xml(Detail, xml).job_id == "a<b>&c"


def test_json_tree_with_collapsed_arrays_and_string_scalars() -> None:
    tree = {
        "JobId": "j1",
        "Progress": "50",
        "OutputFile": {"ObjectName": "only.mp4", "Md5Info": {"Md5": "x"}},
    }
    detail = decode_tree(Detail, tree)
    assert detail.progress == 50
    assert detail.output_file is not None
    assert detail.output_file.object_name == ["only.mp4"]
    assert detail.output_file.md5_info[0].md5 == "x"


def test_empty_elements_are_unset_values_and_empty_containers() -> None:
    detail = from_xml(Detail, b"<Response><Progress/><OutputFile/><JobId/></Response>")
    assert detail.progress is None
    assert detail.output_file == OutputFile()
    assert detail.job_id == ""


def test_mismatch_is_a_typed_decode_error_naming_the_field() -> None:
    with pytest.raises(DecodeError, match="Progress"):
        from_xml(Detail, b"<Response><Progress>lots</Progress></Response>")


def test_root_is_checked_when_asked() -> None:
    with pytest.raises(MalformedXmlError, match="Response"):
        from_xml(Detail, b"<Error><Code>x</Code></Error>", root="Response")


def test_time_formats_of_every_ci_api() -> None:
    for text in ("2022-08-09T14:54:17+0800", "2022-08-09T14:54:17+08:00", "2022-08-09 14:54:17+0800"):
        detail = decode_tree(Detail, {"CreationTime": text})
        assert detail.creation_time == datetime(2022, 8, 9, 14, 54, 17, tzinfo=timezone(timedelta(hours=8)))
    assert decode_tree(Detail, {"CreationTime": "--"}).creation_time is None
    # Written in the job API's format when built in code or changed; a decoded time keeps its own spelling.
    moment = datetime(2022, 8, 9, 14, 54, 17, tzinfo=timezone(timedelta(hours=8)))
    assert b"<CreationTime>2022-08-09T14:54:17+0800</CreationTime>" in to_xml(Detail(creation_time=moment))
    decoded = decode_tree(Detail, {"CreationTime": "2022-08-09 14:54:17+0800"})
    assert b"<CreationTime>2022-08-09 14:54:17+0800</CreationTime>" in to_xml(decoded)
    decoded.creation_time = moment + timedelta(seconds=1)
    assert b"<CreationTime>2022-08-09T14:54:18+0800</CreationTime>" in to_xml(decoded)


def test_tree_to_xml_writes_booleans_and_integral_floats_as_ci_expects() -> None:
    assert tree_to_xml("R", {"A": True, "B": 2.0, "C": 2.5, "D": [1, 2]}, prolog=False) == (
        b"<R><A>true</A><B>2</B><C>2.5</C><D>1</D><D>2</D></R>"
    )
