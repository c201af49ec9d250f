"""A decoded body re-encodes to exactly itself: blanks, unknown elements, spellings and shapes kept, nothing added;
what the caller changes or sets wins; a model built in code serialises as it always has."""

import copy
import pickle
from datetime import datetime
from typing import Any

import pytest
from pydantic import Field, field_validator

from ciflow.codec import (
    CiBool,
    CiFloat,
    CiInt,
    CiModel,
    CiTime,
    ListOf,
    decode_tree,
    from_xml,
    to_tree,
    to_xml,
)
from ciflow.errors import DecodeError, MalformedXmlError, UnsafeXmlError
from ciflow.models import media
from ciflow.models.callbacks import TaskFinish, parse_callback
from tests.support.models import CHINA
from tests.support.xmltree import equivalent_xml, lossless_equal_json, lossless_equal_xml


class Mq(CiModel):
    mq_region: str | None = None
    mq_mode: str = "Queue"


class Audio(CiModel):
    codec: str = "aac"
    samplerate: CiInt = None


class Item(CiModel):
    name: str | None = None
    size: CiInt = None


class Job(CiModel):
    tag: str = "Transcode"
    job_id: str | None = None
    progress: CiInt = None
    duration: CiFloat = None
    ignore_error: CiBool = None
    start_time: CiTime = None
    creation_time: CiTime = None
    audio: Audio | None = None
    video: Audio | None = None
    mq: Mq | None = Field(default=None, alias="MqConfig")
    items: ListOf[Item] = Field(default_factory=list)
    names: ListOf[str] = Field(default_factory=list)
    ci_param: str | None = Field(default=None, alias="CIParam")


def again(body: bytes) -> bytes:
    return to_xml(from_xml(Job, body), "Response")


def same_xml(body: bytes, out: bytes) -> None:
    difference = lossless_equal_xml(body, out)
    assert difference is None, difference


# --------------------------------------------------------------------------------------------------
# Blanks, unknown elements, nothing added
# --------------------------------------------------------------------------------------------------


def test_blank_xml_elements_survive() -> None:
    body = (
        b"<Response><JobId/><StartTime>-</StartTime><CreationTime></CreationTime><Progress/><Duration></Duration>"
        b"<Audio/><Video></Video><Items/><Names></Names><IgnoreError/></Response>"
    )
    job = from_xml(Job, body)
    assert (job.start_time, job.creation_time, job.progress, job.items) == (None, None, None, [])
    assert job.audio == Audio()  # an empty container, whose default codec must not appear on the wire
    out = to_xml(job, "Response")
    same_xml(body, out)
    assert b"aac" not in out


def test_blank_json_values_survive() -> None:
    tree: dict[str, Any] = {
        "JobId": "",
        "StartTime": "-",
        "CreationTime": "",
        "Progress": "",
        "Audio": "",
        "Video": {},
        "Items": [],
        "Names": "",
        "CIParam": None,
        "MqConfig": {"MqRegion": "-"},
    }
    assert lossless_equal_json(tree, to_tree(decode_tree(Job, tree))) is None


def test_unknown_elements_survive_where_they_were() -> None:
    body = (
        b"<Response><NewFirst>x &amp; y &lt;z&gt;</NewFirst><JobId>j1</JobId>"
        b"<NewThing><A>1</A><A>2</A><B><C/></B></NewThing><Progress>5</Progress>"
        b"<Audio><Codec>mp3</Codec><Channels>2</Channels></Audio><Later/></Response>"
    )
    job = from_xml(Job, body)
    assert job.model_extra == {"NewFirst": "x & y <z>", "NewThing": {"A": ["1", "2"], "B": {"C": ""}}, "Later": ""}
    same_xml(body, to_xml(job, "Response"))


def test_nothing_is_added_to_a_decoded_body() -> None:
    body = b"<Request><JobId>j1</JobId><MqConfig><MqRegion>bj</MqRegion></MqConfig></Request>"
    out = to_xml(from_xml(Job, body), "Request")
    same_xml(body, out)
    assert b"<Tag>" not in out
    assert b"MqMode" not in out


def test_a_decoded_request_without_tag_gets_none_but_a_built_one_has_its_tag() -> None:
    body = (
        b"<Request><Input><Object>in.mp4</Object></Input><Operation><TemplateId>t1</TemplateId></Operation></Request>"
    )
    decoded = from_xml(media.TranscodeJobRequest, body)
    assert decoded.tag == "Transcode"
    same_xml(body, to_xml(decoded))
    built = media.TranscodeJobRequest.model_validate(decoded.model_dump())
    assert b"<Tag>Transcode</Tag>" in to_xml(built)


class Located(CiModel):
    object: str | None = None


class LocatedInLanguage(Located):
    lang: str | None = None


class Holder(CiModel):
    """Holds a sub-model typed by its declared base: the base's serializer cannot write the subclass's fields."""

    input: Located | None = None

    @field_validator("input", mode="before")
    @classmethod
    def _richer(cls, value: Any) -> Any:
        return LocatedInLanguage.model_validate(value) if isinstance(value, dict) else value


def test_elements_the_serialising_model_cannot_write_survive() -> None:
    tree = {"Input": {"Object": "a.pdf", "Lang": "en"}}
    holder = decode_tree(Holder, tree)
    assert isinstance(holder.input, LocatedInLanguage)
    assert holder.model_dump(by_alias=True) == {"Input": {"Object": "a.pdf"}}  # what the model alone writes
    assert lossless_equal_json(tree, to_tree(holder)) is None


# --------------------------------------------------------------------------------------------------
# Spellings and shapes
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("element", "text"),
    [
        ("Progress", "007"),
        ("Progress", " 100 "),
        ("Duration", "1014.950000"),
        ("Duration", "10"),
        ("Duration", "1e3"),
        ("IgnoreError", "false"),
        ("IgnoreError", "True"),
        ("IgnoreError", "1"),
        ("CreationTime", "2022-08-09 14:54:17+0800"),
        ("CreationTime", "2022-08-09T14:54:17+08:00"),
        ("CreationTime", "2017-06-17T15:09:26.000Z"),
        ("CreationTime", "2020-04-10T18:20:30Z"),
        ("JobId", "  spaced  "),
    ],
)
def test_number_time_and_bool_spellings_are_kept(element: str, text: str) -> None:
    body = f"<Response><{element}>{text}</{element}></Response>".encode()
    out = again(body)
    assert f"<{element}>{text}</{element}>".encode() in out


def test_json_scalars_keep_their_types() -> None:
    tree = {"Progress": 10, "Duration": 10, "IgnoreError": True, "JobId": 123, "Items": [{"Size": "5"}]}
    job = decode_tree(Job, tree)
    assert (job.duration, job.job_id, job.items[0].size) == (10.0, "123", 5)
    out = to_tree(job)
    assert lossless_equal_json(tree, out) is None
    assert type(out["Duration"]) is int
    assert type(out["JobId"]) is int


@pytest.mark.parametrize(
    "items",
    [{"Name": "a"}, [{"Name": "a"}], [{"Name": "a"}, {"Name": "b"}], "only", ["only"]],
    ids=["single-object", "array-of-one", "array", "single-text", "array-of-one-text"],
)
def test_one_item_and_list_shapes_are_kept(items: Any) -> None:
    key = "Names" if "only" in str(items) else "Items"
    tree = {key: items}
    assert lossless_equal_json(tree, to_tree(decode_tree(Job, tree))) is None


# --------------------------------------------------------------------------------------------------
# The caller's changes win; models built in code are as before
# --------------------------------------------------------------------------------------------------

BODY = (
    b"<Response><JobId>j1</JobId><Progress>007</Progress><CreationTime>2022-08-09 14:54:17+0800</CreationTime>"
    b"<Items><Name>a</Name><Size>1</Size></Items><Unknown>u</Unknown><EndTime>-</EndTime></Response>"
)


def test_changed_fields_win_in_their_place() -> None:
    job = from_xml(Job, BODY)
    job.progress = 50
    job.creation_time = datetime(2023, 1, 2, 3, 4, 5, tzinfo=CHINA)
    job.items[0].name = "b"
    job.job_id = None
    assert to_xml(job, "Response") == (
        b'<?xml version="1.0" encoding="utf-8"?><Response><Progress>50</Progress>'
        b"<CreationTime>2023-01-02T03:04:05+0800</CreationTime><Items><Name>b</Name><Size>1</Size></Items>"
        b"<Unknown>u</Unknown><EndTime>-</EndTime></Response>"
    )


def test_a_value_set_to_what_it_was_keeps_its_spelling() -> None:
    job = from_xml(Job, BODY)
    job.progress = 7
    job.creation_time = datetime(2022, 8, 9, 14, 54, 17, tzinfo=CHINA)
    same_xml(BODY, to_xml(job, "Response"))


def test_fields_the_caller_sets_are_emitted_even_when_the_input_lacked_them() -> None:
    job = from_xml(Job, BODY)
    job.ci_param = "imageMogr2/thumbnail/!50p"
    job.mq = Mq(mq_region="gz")  # a new sub-model serialises as one built in code: its default included
    job.items.append(Item(name="c"))
    tree = to_tree(job)
    assert list(tree)[-2:] == ["MqConfig", "CIParam"]  # after the source's elements, in the model's order
    assert tree["MqConfig"] == {"MqRegion": "gz", "MqMode": "Queue"}
    assert tree["Items"] == [{"Name": "a", "Size": "1"}, {"Name": "c"}]
    assert tree["Progress"] == "007"


def test_an_emptied_list_and_a_cleared_container_are_gone() -> None:
    job = from_xml(Job, b"<Response><Items><Name>a</Name></Items><Audio><Codec>mp3</Codec></Audio></Response>")
    job.items = []
    job.audio = None
    assert to_xml(job, "Response") == b'<?xml version="1.0" encoding="utf-8"?><Response></Response>'


def test_copies_and_pickles_stay_lossless_and_model_copy_updates_win() -> None:
    job = from_xml(Job, BODY)
    for twin in (copy.copy(job), copy.deepcopy(job), pickle.loads(pickle.dumps(job))):  # noqa: S301 - our bytes
        same_xml(BODY, to_xml(twin, "Response"))
    updated = job.model_copy(update={"progress": 8})
    assert to_tree(updated)["Progress"] == 8
    assert to_tree(job)["Progress"] == "007"


def test_a_model_built_in_code_serialises_as_before() -> None:
    job = Job(job_id="j1", progress=7, mq=Mq(mq_region="bj"), items=[Item(name="a")])
    assert to_xml(job, "Request") == (
        b'<?xml version="1.0" encoding="utf-8"?><Request><Tag>Transcode</Tag><JobId>j1</JobId>'
        b"<Progress>7</Progress><MqConfig><MqRegion>bj</MqRegion><MqMode>Queue</MqMode></MqConfig>"
        b"<Items><Name>a</Name></Items></Request>"
    )


def test_decoded_and_built_models_with_the_same_values_are_equal() -> None:
    assert from_xml(Job, b"<Request><Tag>Transcode</Tag><JobId>j</JobId></Request>") == Job(job_id="j")


def test_only_the_root_remembers_its_source() -> None:
    job = from_xml(Job, b"<Response><MqConfig><MqRegion>bj</MqRegion></MqConfig></Response>")
    assert job.mq is not None
    assert to_tree(job.mq) == {"MqRegion": "bj", "MqMode": "Queue"}  # re-encoded alone: as built in code


def test_documented_json_callback_round_trips_through_a_real_model() -> None:
    body = b'{"EventName":"TaskFinish","JobsDetail":{"JobId":"j1","Tag":"Snapshot","State":"Success","Progress":100}}'
    callback = parse_callback(body)
    assert isinstance(callback, TaskFinish)
    assert to_tree(callback) == {
        "EventName": "TaskFinish",
        "JobsDetail": {"JobId": "j1", "Tag": "Snapshot", "State": "Success", "Progress": 100},
    }


# --------------------------------------------------------------------------------------------------
# Odd and hostile input
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        ({"Progress": "lots"}, "Progress"),
        (["JobId"], "Job"),
        ({"Items": "text"}, "Items"),
        ({"CreationTime": "yesterday"}, "CreationTime"),
    ],
)
def test_odd_trees_are_still_typed_decode_errors(tree: Any, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decode_tree(Job, tree)


def test_hostile_xml_is_still_refused_before_decoding() -> None:
    with pytest.raises(UnsafeXmlError):
        from_xml(Job, b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><Response><JobId>&x;</JobId></Response>')
    with pytest.raises(MalformedXmlError):
        from_xml(Job, b"<Response><JobId>j</Response>")


def test_deep_unknown_elements_and_an_empty_document_round_trip() -> None:
    deep = "".join(f"<L{i}>" for i in range(90)) + "x" + "".join(f"</L{i}>" for i in reversed(range(90)))
    body = f"<Response><JobId>j</JobId>{deep}</Response>".encode()
    same_xml(body, again(body))
    same_xml(b"<Response/>", again(b"<Response/>"))


# --------------------------------------------------------------------------------------------------
# The strict comparison sees what the loose one forgave
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "changed"),
    [
        (b"<R><A>-</A></R>", b"<R/>"),
        (b"<R><A/></R>", b"<R/>"),
        (b"<R><A>10</A></R>", b"<R><A>10.0</A></R>"),
        (b"<R><T>2022-08-09 14:54:17+0800</T></R>", b"<R><T>2022-08-09T14:54:17+0800</T></R>"),
        (b"<R><A>1</A><B>2</B></R>", b"<R><B>2</B><A>1</A></R>"),
        (b'<R><A k="v">1</A></R>', b"<R><A>1</A></R>"),
    ],
)
def test_lossless_comparison_sees_blanks_spellings_order_and_attributes(original: bytes, changed: bytes) -> None:
    assert equivalent_xml(original, changed)
    assert lossless_equal_xml(original, changed) is not None
    assert lossless_equal_xml(original, b"  " + original) is None


def test_lossless_json_comparison_compares_scalar_types() -> None:
    assert lossless_equal_json({"A": 10}, {"A": 10.0}) == "$.A: 10 came back as 10.0"
    assert lossless_equal_json({"A": True}, {"A": 1}) is not None
    assert lossless_equal_json({"A": [1]}, {"A": 1}) is not None
    assert lossless_equal_json({"A": "-"}, {}) is not None
    assert lossless_equal_json({"A": [1, {"B": ""}]}, {"A": [1, {"B": ""}]}) is None
