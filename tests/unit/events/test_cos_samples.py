"""Every COS sample under events/ parses and derives the ObjectRef its file describes."""

from datetime import datetime, timezone
from urllib.parse import unquote, urlsplit

import pytest

from ciflow.events import CosEvent, EventError, ObjectRef, parse_cos_event
from tests.unit.events._samples import APPID, cos_samples, load

UTC = timezone.utc

# file -> one row per record: bucket, region, key, etag, size, content type, event name
EXPECTED: dict[str, list[tuple[str, str, str, str | None, int, str | None, str]]] = {
    "cos-put.json": [
        ("media-1250000000", "ap-guangzhou", "uploads/2026/视频 final+cut.mp4",
         "8e0b617ca298a564c3331da28dcb50df", 1048576, "video/mp4", "cos:ObjectCreated:Put"),
    ],
    "cos-put-image-jpg.json": [
        ("media-1250000000", "ap-guangzhou", "camera/2026-11-22/IMG 0042.jpg",
         "8e04444413f260c3e70a9ed97c7f9776", 3481244, "image/jpeg", "cos:ObjectCreated:Put"),
    ],
    "cos-put-image-png.json": [
        ("media-1250000000", "ap-guangzhou", "avatars/user+42/头像.png",
         "312fbbc72f4082374fabb6daec6118e1", 48213, "image/png", "cos:ObjectCreated:Post"),
    ],
    "cos-put-video-mp4.json": [
        ("media-1250000000", "ap-guangzhou", "uploads/2026/clip 100%.mp4",
         "37759a94b2298131e29fb5739c36c19a", 73400320, "video/mp4", "cos:ObjectCreated:Put"),
    ],
    "cos-put-video-mov.json": [
        ("media-1250000000", "ap-guangzhou", "raw/IMG_1234.MOV",
         "6ce7fc65315cc2accb04e7d32100bd5c", 157286400, "video/quicktime", "cos:ObjectCreated:Put"),
    ],
    "cos-put-audio-mp3.json": [
        ("media-1250000000", "ap-guangzhou", "podcasts/ep 12 \u2013 intro?.mp3",
         "e9bede952129e3ba453bb651a7fc1701", 9437184, "audio/mpeg", "cos:ObjectCreated:Put"),
    ],
    "cos-put-audio-m4a.json": [
        ("media-1250000000", "ap-guangzhou", "voice/memo#3.m4a",
         "3eab28a292a679a3af75637e00b2f2f6", 524288, "audio/x-m4a", "cos:ObjectCreated:Put"),
    ],
    "cos-put-text-txt.json": [
        ("media-1250000000", "ap-guangzhou", "notes/readme.txt",
         "95c4f3ae205cbb7faff5b155e09844c9", 2048, "text/plain; charset=utf-8", "cos:ObjectCreated:Put"),
    ],
    "cos-put-document-pdf.json": [
        ("media-1250000000", "ap-guangzhou", "reports/Q3 report (final).pdf",
         "ae152b310c6f58b982c60c3c64add873", 1835008, "application/pdf", "cos:ObjectCreated:Put"),
    ],
    "cos-put-document-docx.json": [
        ("media-1250000000", "ap-guangzhou", "contracts/合同 v2.docx", "080ccc87e00e4e7528896a5b3e29c28f", 65536,
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "cos:ObjectCreated:Copy"),
    ],
    "cos-put-archive-zip.json": [
        ("media-1250000000", "ap-guangzhou", "archives/batch-2026-11-22.zip",
         "1f32914154134b849aa4d17b26fef812", 268435456, "application/zip", "cos:ObjectCreated:Put"),
    ],
    "cos-multi-record.json": [
        ("media-1250000000", "ap-guangzhou", "uploads/batch/cover.jpg",
         "e9e7c4c95a741685804ac9b12a868639", 204800, "image/jpeg", "cos:ObjectCreated:Put"),
        ("media-1250000000", "ap-guangzhou", "uploads/batch/视频 最终 版.mp4",
         "c892a5082e29af3beb95b824fb2fd419", 52428800, "video/mp4", "cos:ObjectCreated:Put"),
        ("media-1250000000", "ap-guangzhou", "uploads/batch/c++ 100%+done.txt",
         "d7819792f144eac39b52812e1374ff83", 12, "text/plain", "cos:ObjectCreated:Put"),
        ("media-1250000000", "ap-guangzhou", "uploads/batch/report?v=2#final.pdf",
         "ad24f97966e46767b3e052716bce3345", 99999, "application/pdf", "cos:ObjectCreated:Put"),
    ],
    "cos-put-iso-time.json": [
        ("media-1250000000", "ap-guangzhou", "uploads/scan.png", None, 1029, None, "cos:ObjectCreated:Put"),
    ],
    "cos-complete-multipart.json": [
        ("media-1250000000", "ap-guangzhou", "uploads/big/lecture 01.mp4",
         "deeede9898ccda58e3021b6a7645dfbc-640", 5368709120, "video/mp4", "cos:ObjectCreated:CompleteMultipartUpload"),
    ],
    "cos-delete.json": [
        ("media-1250000000", "ap-guangzhou", "uploads/old photo.jpg", None, 0, None, "cos:ObjectRemove:Delete"),
    ],
}  # fmt: skip

MEDIA_KINDS = {"jpg", "png", "mp4", "mov", "mp3", "m4a", "txt", "pdf", "docx", "zip"}


def refs_of(event: CosEvent) -> list[ObjectRef]:
    refs = []
    for _, item in event.records_or_errors():
        assert not isinstance(item, EventError), item
        refs.append(item)
    return refs


def test_every_cos_sample_has_expectations() -> None:
    assert set(cos_samples()) == set(EXPECTED)


def test_samples_cover_every_media_kind_the_handlers_take() -> None:
    created = {
        ref.extension
        for name in cos_samples()
        for ref in refs_of(parse_cos_event(load(name)))
        if ref.event_name.startswith("cos:ObjectCreated:")
    }
    assert created >= MEDIA_KINDS


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_derives_the_expected_object_refs(name: str) -> None:

    event = parse_cos_event(load(name))
    assert not event.errors
    got = [
        (ref.bucket, ref.region, ref.key, ref.etag, ref.size, ref.content_type, ref.event_name)
        for ref in refs_of(event)
    ]
    assert got == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_key_and_url_agree(name: str) -> None:

    for record in load(name)["Records"]:
        obj, bucket = record["cos"]["cosObject"], record["cos"]["cosBucket"]
        prefix = f"/{bucket['appid']}/{bucket['name']}/"
        assert obj["key"].startswith(prefix)
        url = urlsplit(obj["url"])
        assert not url.query
        assert not url.fragment  # '?' and '#' in keys are encoded
        assert url.hostname == f"{bucket['name']}-{APPID}.cos.{url.hostname.split('.')[2]}.myqcloud.com"
        assert unquote(url.path)[1:] == obj["key"][len(prefix) :]


def test_multi_record_sample_keeps_order_and_odd_keys() -> None:
    event = parse_cos_event(load("cos-multi-record.json"))
    assert len(event) == len(event.records) == 4
    assert [index for index, _ in event.records_or_errors()] == [0, 1, 2, 3]
    keys = [ref.key for ref in refs_of(event)]
    assert "uploads/batch/c++ 100%+done.txt" in keys  # '+' stays a plus, '%' stays a percent sign
    assert len({ref.identity for ref in refs_of(event)}) == 4


def test_unix_and_iso_event_times_are_utc() -> None:
    (unix,) = refs_of(parse_cos_event(load("cos-put.json")))
    (iso,) = refs_of(parse_cos_event(load("cos-put-iso-time.json")))
    assert unix.event_time == datetime(2026, 11, 22, 7, 0, tzinfo=UTC)  # 1795330800
    assert iso.event_time == datetime(2026, 11, 22, 3, 10, tzinfo=UTC)  # "2026-11-22T03:10:00.000Z"


def test_version_facts_of_samples() -> None:
    (versioned,) = refs_of(parse_cos_event(load("cos-put-video-mp4.json")))
    assert versioned.version_id == "MTg0NDUxNTc1NjIzMTQ1MjAwODk"
    assert versioned.version == "MTg0NDUxNTc1NjIzMTQ1MjAwODk"
    (plain,) = refs_of(parse_cos_event(load("cos-put.json")))
    assert plain.version_id is None  # "vid": ""
    assert plain.identity == "media-1250000000/uploads/2026/视频 final+cut.mp4@8e0b617ca298a564c3331da28dcb50df"
    (no_etag,) = refs_of(parse_cos_event(load("cos-put-iso-time.json")))
    assert no_etag.version == "size-1029"


def test_custom_metadata_loses_its_prefix_and_system_headers_stay_out() -> None:
    (ref,) = refs_of(parse_cos_event(load("cos-put-image-jpg.json")))
    assert ref.metadata == {"device": "phone", "album": "trip"}
    (doc_shape,) = refs_of(parse_cos_event(load("cos-put-iso-time.json")))
    assert doc_shape.metadata == {"mykey": "myvalue"}


@pytest.mark.parametrize(
    ("name", "is_create"),
    [
        ("cos-put.json", True),
        ("cos-put-image-png.json", True),  # Post
        ("cos-put-document-docx.json", True),  # Copy
        ("cos-complete-multipart.json", True),
        ("cos-delete.json", False),
    ],
)
def test_is_create_covers_every_created_variant_and_only_those(name: str, is_create: bool) -> None:
    (record,) = parse_cos_event(load(name)).records
    assert record.is_create is is_create
    assert record.event.is_create is is_create
