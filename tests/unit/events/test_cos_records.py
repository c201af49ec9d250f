"""COS events: region and bucket derivation, times, version facts, malformed events and records."""

from datetime import datetime, timezone
from types import EllipsisType
from typing import Any, cast

import pytest

from ciflow.errors import DecodeError
from ciflow.events import CosRecord, EventError, ObjectRef, is_create_event, object_ref, parse_cos_event
from tests.unit.events._samples import APPID, cos_record

UTC = timezone.utc


def ref_of(record: dict[str, Any]) -> ObjectRef:
    return object_ref(CosRecord.model_validate(record))


def items(event: dict[str, Any]) -> list[Any]:
    return list(parse_cos_event(event).records_or_errors())


# -- region -------------------------------------------------------------------------------------------------


def test_region_prefers_cos_region() -> None:
    record = cos_record(region="ap-guangzhou", bucket__cosRegion="ap-shanghai", bucket__region="bj")
    assert ref_of(record).region == "ap-shanghai"


def test_region_falls_back_to_the_url_host() -> None:
    record = cos_record(region="ap-chengdu", bucket__cosRegion=..., bucket__region="sh")
    assert ref_of(record).region == "ap-chengdu"
    record = cos_record(region="ap-chengdu", bucket__cosRegion="not a region", bucket__region="sh")
    assert ref_of(record).region == "ap-chengdu"


def test_region_falls_back_to_the_short_code() -> None:
    record = cos_record(url=None, bucket__cosRegion=..., bucket__region="cd")
    assert ref_of(record).region == "ap-chengdu"
    other_host = "https://cdn.example.com/uploads/a.mp4"
    record = cos_record(url=other_host, bucket__cosRegion=..., bucket__region="hk")
    assert ref_of(record).region == "ap-hongkong"


def test_url_host_of_another_bucket_does_not_give_the_region() -> None:
    url = f"http://other-{APPID}.cos.ap-beijing.myqcloud.com/uploads/a.mp4"
    record = cos_record(url=url, bucket__cosRegion=..., bucket__region="sh")
    assert ref_of(record).region == "ap-shanghai"


def test_no_usable_region_is_a_record_error() -> None:
    record = cos_record(url=None, bucket__cosRegion=..., bucket__region="mars")
    ((index, error),) = items({"Records": [record]})
    assert index == 0
    assert isinstance(error, EventError)
    assert "region" in str(error)


# -- bucket -------------------------------------------------------------------------------------------------


def test_full_bucket_is_name_dash_appid() -> None:
    assert ref_of(cos_record(name="photos")).bucket == f"photos-{APPID}"


def test_name_that_already_carries_the_appid_is_not_doubled() -> None:
    record = cos_record(bucket__name=f"media-{APPID}")
    assert ref_of(record).bucket == f"media-{APPID}"
    assert ref_of(record).key == "uploads/a.mp4"


def test_appid_missing_is_read_from_the_url_host() -> None:
    record = cos_record(bucket__appid=...)
    assert ref_of(record).bucket == f"media-{APPID}"
    assert "appid" in str(items({"Records": [cos_record(url=None, bucket__appid=...)]})[0][1])


def test_numeric_appid_is_accepted() -> None:
    assert ref_of(cos_record(bucket__appid=int(APPID))).bucket == f"media-{APPID}"


# -- object facts -------------------------------------------------------------------------------------------


def test_etag_loses_its_quotes_and_meta_names_are_case_insensitive() -> None:
    record = cos_record(
        meta__ETag=...,
        meta__etag='"abc-2"',
        **cast(dict[str, Any], {"meta__Content-Type": ...}),
        **{"meta__content-type": "image/png"},
    )
    ref = ref_of(record)
    assert ref.etag == "abc-2"
    assert ref.content_type == "image/png"


def test_blank_etag_and_content_type_are_none() -> None:
    ref = ref_of(cos_record(meta__ETag='""', **{"meta__Content-Type": ""}))
    assert ref.etag is None
    assert ref.content_type is None


@pytest.mark.parametrize(("vid", "expected"), [("", None), (None, None), ("null", None), ("MTg0", "MTg0")])
def test_version_id(vid: str | None, expected: str | None) -> None:
    ref = ref_of(cos_record(obj__vid=vid))
    assert ref.version_id == expected
    assert ref.version == (expected or ref.etag)


def test_size_accepts_numeric_text_and_may_be_missing() -> None:
    assert ref_of(cos_record(obj__size="2048")).size == 2048
    assert ref_of(cos_record(obj__size=...)).size is None
    assert ref_of(cos_record(obj__size="")).size is None


def test_metadata_keeps_only_custom_entries() -> None:
    record = cos_record(
        **{"meta__X-Cos-Meta-Owner": "ops", "meta__x-cos-meta-": "empty name", "meta__x-cos-acl": "private"}
    )
    assert ref_of(record).metadata == {"uploader": "demo", "Owner": "ops"}


def test_null_meta_is_empty() -> None:
    ref = ref_of(cos_record(obj__meta=None))
    assert (ref.etag, ref.content_type, dict(ref.metadata)) == (None, None, {})


# -- times -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        1545205770,
        "1545205770",
        1545205770.0,
        1545205770000,  # milliseconds
        "2018-12-19T07:49:30Z",
        "2018-12-19T07:49:30.000Z",
        "2018-12-19T15:49:30+08:00",
        "2018-12-19T15:49:30+0800",
        "2018-12-19 07:49:30",  # no offset: UTC
    ],
)
def test_event_time_unix_or_iso(value: float | int | str) -> None:
    assert ref_of(cos_record(event__eventTime=value)).event_time == datetime(2018, 12, 19, 7, 49, 30, tzinfo=UTC)


@pytest.mark.parametrize("value", [None, "", ...])
def test_event_time_may_be_absent(value: EllipsisType | str | None) -> None:
    assert ref_of(cos_record(event__eventTime=value)).event_time is None


@pytest.mark.parametrize("value", ["yesterday", True, [1]])
def test_bad_event_time_fails_only_its_record(value: object) -> None:
    result = items({"Records": [cos_record(event__eventTime=value), cos_record("b.jpg")]})
    assert isinstance(result[0][1], EventError)
    assert "eventTime" in str(result[0][1])
    assert isinstance(result[1][1], ObjectRef)


# -- event names ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("cos:ObjectCreated:*", True),
        ("cos:ObjectCreated:Put", True),
        ("cos:ObjectCreated:Post", True),
        ("cos:ObjectCreated:Copy", True),
        ("cos:ObjectCreated:CompleteMultipartUpload", True),
        ("cos:ObjectCreated:Origin", True),
        ("cos:ObjectCreated:Replication", True),
        ("cos:ObjectRemove:Delete", False),
        ("cos:ObjectRemove:DeleteMarkerCreated", False),
        ("cos:ObjectRestore:Completed", False),
        ("cos:ObjectCreatedSoon", False),
    ],
)
def test_is_create(name: str, expected: bool) -> None:
    record = CosRecord.model_validate(cos_record(event__eventName=name))
    assert record.is_create is expected
    assert is_create_event(name) is expected
    assert record.object_ref().event_name == name


# -- malformed input -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (None, "got NoneType"),
        ([], "got list"),
        ("{}", "got str"),
        ({}, "no Records"),
        ({"Records": None}, "no Records"),
        ({"Records": {"cos": {}}}, "Records is a dict"),
        ({"Records": "x"}, "Records is a str"),
        ({"Type": "Timer"}, "no Records"),
    ],
)
def test_malformed_events_raise_a_typed_error(event: object, message: str) -> None:
    with pytest.raises(EventError, match=message) as caught:
        parse_cos_event(event)
    assert isinstance(caught.value, DecodeError)
    assert caught.value.index is None


def test_empty_records_is_an_empty_event() -> None:
    event = parse_cos_event({"Records": []})
    assert len(event) == 0
    assert list(event.records_or_errors()) == []


def test_malformed_records_fail_alone() -> None:
    no_bucket = cos_record("b.jpg")
    del no_bucket["cos"]["cosBucket"]
    no_event_name = cos_record("c.jpg", event__eventName=...)
    event = parse_cos_event(
        {"Records": [cos_record("a.jpg"), "not a record", no_bucket, no_event_name, {}, cos_record("z.jpg")]}
    )
    assert len(event) == 6
    assert [record.cos.cos_object.key for record in event.records] == [f"/{APPID}/media/a.jpg", f"/{APPID}/media/z.jpg"]
    assert [error.index for error in event.errors] == [1, 2, 3, 4]
    result = list(event.records_or_errors())
    assert [index for index, _ in result] == [0, 1, 2, 3, 4, 5]
    assert [type(item).__name__ for _, item in result] == [
        "ObjectRef", "EventError", "EventError", "EventError", "EventError", "ObjectRef",
    ]  # fmt: skip
    assert str(result[1][1]) == "record 1: expected an object, got str"
    assert "cos.cosBucket" in str(result[2][1])
    assert "event.eventName" in str(result[3][1])
    assert cast(ObjectRef, result[5][1]).key == "z.jpg"


def test_underivable_record_fails_alone_in_records_or_errors() -> None:
    bad = cos_record("b.jpg", url=None, obj__key=...)
    event = parse_cos_event({"Records": [cos_record("a.jpg"), bad]})
    assert len(event.records) == 2  # both fit the model
    (_, first), (index, second) = event.records_or_errors()
    assert isinstance(first, ObjectRef)
    assert isinstance(second, EventError)
    assert index == second.index == 1
    assert str(second).startswith("record 1: ")


def test_unknown_fields_are_tolerated_and_kept() -> None:
    record = cos_record(obj__storageTier="hot", event__traceId="t-1")
    record["brandNew"] = {"x": 1}
    parsed = CosRecord.model_validate(record)
    assert parsed.model_extra == {"brandNew": {"x": 1}}
    assert parsed.cos.cos_object.model_extra == {"storageTier": "hot"}
    assert parsed.object_ref().key == "uploads/a.mp4"


def test_doc_shape_record_without_new_fields_parses() -> None:
    record = {
        "cos": {
            "cosSchemaVersion": "1.0",
            "cosObject": {
                "url": "http://testpic-1253970026.cos.ap-chengdu.myqcloud.com/testfile",
                "meta": {"x-cos-request-id": "NWMxOWY4MGFfMjViMjU4NjRfMTUyMV8yNzhhZjM=", "Content-Type": ""},
                "vid": "",
                "key": "/1253970026/testpic/testfile",
                "size": 1029,
            },
            "cosBucket": {"region": "cd", "name": "testpic", "appid": "1253970026"},
            "cosNotificationId": "unkown",
        },
        "event": {
            "eventName": "cos:ObjectCreated:*",
            "eventVersion": "1.0",
            "eventTime": 1545205770,
            "eventSource": "qcs::cos",
            "requestParameters": {"requestSourceIP": "192.168.15.101", "requestHeaders": {"Authorization": "x"}},
            "eventQueue": "qcs:0:scf:cd:appid/1253970026:default.printevent.$LATEST",
            "reservedInfo": "",
            "reqid": 179398952,
        },
    }
    ref = ref_of(record)
    assert (ref.bucket, ref.region, ref.key, ref.size) == ("testpic-1253970026", "ap-chengdu", "testfile", 1029)
    assert ref.content_type is None
    assert ref.etag is None
