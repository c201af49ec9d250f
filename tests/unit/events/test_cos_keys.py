"""The object key: key field and url cross-checked; odd keys round-trip; the rule for disagreements."""

from typing import Any, cast
from urllib.parse import quote, unquote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ciflow.events import CosRecord, EventError, ObjectRef, parse_cos_event
from tests.unit.events._samples import APPID, cos_record, encoded

HOST = f"http://media-{APPID}.cos.ap-guangzhou.myqcloud.com"

ODD_KEYS = [
    "uploads/视频 final+cut.mp4",
    "a+b c.jpg",
    "100%.txt",
    "100%25.txt",  # looks encoded, is not
    "what?.pdf",
    "tag#1.png",
    "a/../b/./c.mp4",
    "dir//double/slash.zip",
    "ends with space .txt",
    "emoji 🎬/ünïcödé.mov",
    "semi;colon=eq&amp.docx",
    "~tilde-_.dots...m4a",
    "folder/",
]


def ref_of(record: dict[str, Any]) -> ObjectRef:
    return CosRecord.model_validate(record).object_ref()


def error_of(record: dict[str, Any]) -> EventError:
    ((_, item),) = parse_cos_event({"Records": [record]}).records_or_errors()
    assert isinstance(item, EventError)
    return item


@pytest.mark.parametrize("key", ODD_KEYS)
def test_odd_keys_round_trip(key: str) -> None:
    assert ref_of(cos_record(key)).key == key


keys = st.text(st.characters(blacklist_categories=cast(Any, ("Cs",))), min_size=1, max_size=40).filter(
    lambda k: not k.startswith("/")
)


@given(keys)
def test_any_key_round_trips_with_the_raw_key_field(key: str) -> None:
    assert ref_of(cos_record(key)).key == key


@given(keys)
def test_any_key_round_trips_from_the_url_alone(key: str) -> None:
    assert ref_of(cos_record(key, obj__key=...)).key == key


@given(keys)
def test_a_percent_encoded_key_field_is_decoded_when_the_url_confirms_it(key: str) -> None:
    assert ref_of(cos_record(key, obj__key=f"/{APPID}/media/{encoded(key)}")).key == key


def test_plus_in_the_url_path_is_a_literal_plus() -> None:
    record = cos_record("a+b.jpg", url=f"{HOST}/a+b.jpg", obj__key=...)
    assert ref_of(record).key == "a+b.jpg"
    assert unquote_plus("a+b.jpg") != "a+b.jpg"  # what the wrong decoder would have produced


def test_an_unencoded_url_is_not_decoded_and_the_key_field_wins() -> None:
    # Raw space, '?', '#' and non-ASCII in the url: decoding it would truncate or corrupt the key.
    for key in ["what?.pdf", "tag#1.png", "a b.jpg", "视频.mp4", "100%.txt"]:
        assert ref_of(cos_record(key, url=f"{HOST}/{key}")).key == key


def test_an_unencoded_url_alone_is_not_trusted() -> None:
    error = error_of(cos_record("what?.pdf", url=f"{HOST}/what?.pdf", obj__key=...))
    assert error.index == 0
    assert "no trustworthy object key" in str(error)


def test_missing_key_field_uses_the_url() -> None:
    assert ref_of(cos_record("a b.jpg", obj__key=...)).key == "a b.jpg"
    assert ref_of(cos_record("a b.jpg", obj__key="")).key == "a b.jpg"


def test_missing_url_uses_the_key_field() -> None:
    assert ref_of(cos_record("a b+c.jpg", url=None)).key == "a b+c.jpg"


def test_key_field_outside_its_bucket_prefix_falls_back_to_the_url() -> None:
    assert ref_of(cos_record("in/x.jpg", obj__key=f"/{APPID}/other/in/x.jpg")).key == "in/x.jpg"
    assert ref_of(cos_record("in/x.jpg", obj__key=f"/{APPID}/media/")).key == "in/x.jpg"


def test_key_field_without_leading_slash_is_accepted() -> None:
    assert ref_of(cos_record("in/x.jpg", url=None, obj__key=f"{APPID}/media/in/x.jpg")).key == "in/x.jpg"


def test_url_of_another_bucket_is_ignored() -> None:
    other = f"http://other-{APPID}.cos.ap-guangzhou.myqcloud.com/in/else.jpg"
    assert ref_of(cos_record("in/x.jpg", url=other)).key == "in/x.jpg"
    assert "no trustworthy object key" in str(error_of(cos_record("in/x.jpg", url=other, obj__key=...)))


def test_disagreeing_trusted_sources_prefer_the_key_field() -> None:
    # e.g. a url written with form encoding (space as '+'): the key field is the object's own name.
    record = cos_record("a b.jpg", url=f"{HOST}/a+b.jpg")
    assert ref_of(record).key == "a b.jpg"
    record = cos_record("in/x.jpg", url=f"{HOST}/in/y.jpg")
    assert ref_of(record).key == "in/x.jpg"


def test_url_with_escapes_that_are_not_utf8_is_not_trusted() -> None:
    assert ref_of(cos_record("x.bin", url=f"{HOST}/%FF%FE.bin")).key == "x.bin"
    assert isinstance(error_of(cos_record("x.bin", url=f"{HOST}/%FF%FE.bin", obj__key=...)), EventError)


def test_neither_source_gives_a_typed_error() -> None:
    error = error_of(cos_record("x.jpg", url=None, obj__key=...))
    assert isinstance(error, EventError)
    assert not error.transient


def test_encoding_used_by_the_samples_matches_the_sdk() -> None:
    # cos-python-sdk-v5 sends quote(path, '/-_.~'): '+' and '%' are always escaped.
    assert encoded("c++ 100%+done.txt") == quote("c++ 100%+done.txt", safe="/-_.~") == "c%2B%2B%20100%25%2Bdone.txt"
