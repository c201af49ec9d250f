"""The COS event the cleanup delivers again names the very upload (and ledger record) the handler recorded."""

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ciflow.cleanup._drive import SENDER, upload_event
from ciflow.concerns.hash import HashSettings
from ciflow.config import load_settings
from ciflow.events import ObjectRef, parse_cos_event
from ciflow.handlers import upload_facts
from ciflow.handlers._filters import skip_reason

BUCKET = "media-1250000000"


def payload_of(ref: ObjectRef) -> dict[str, Any]:
    """What the upload pipeline keeps in a ledger record about its object (the pipeline's own function)."""
    return upload_facts("hash", ref)


def parsed(event: dict[str, Any]) -> ObjectRef:
    ((_, ref),) = list(parse_cos_event(event).records_or_errors())
    assert isinstance(ref, ObjectRef), ref
    return ref


keys = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(
    lambda key: not key.startswith("/")
)


@given(
    key=st.one_of(keys, st.sampled_from(["a b+c.mp4", "100%.jpg", "q?x=1#frag", "目录/视频 1.mp4", "%2F/+"])),
    size=st.one_of(st.none(), st.integers(min_value=0, max_value=2**40)),
    etag=st.one_of(st.none(), st.text("0123456789abcdef", min_size=32, max_size=32)),
    version_id=st.one_of(st.none(), st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=8, max_size=20)),
)
def test_the_event_parses_back_to_the_recorded_upload(
    key: str, size: int | None, etag: str | None, version_id: str | None
) -> None:
    ref = ObjectRef(
        BUCKET, "ap-shanghai", key, size=size, etag=etag, version_id=version_id,
        content_type="video/mp4", metadata={"owner": "team a", "Source": "cam-1"},
    )  # fmt: skip
    back = parsed(upload_event(payload_of(ref), 1_800_000_000))
    assert back.identity == ref.identity  # the handler takes over the very record the cleanup read
    assert (back.bucket, back.region, back.key) == (ref.bucket, ref.region, ref.key)
    assert (back.size, back.etag, back.version_id) == (size, etag, version_id)
    assert (back.content_type, dict(back.metadata)) == ("video/mp4", {"owner": "team a", "Source": "cam-1"})
    assert back.event_name == "cos:ObjectCreated:Put"
    assert back.event_time is not None
    assert back.event_time.timestamp() == 1_800_000_000


def test_the_event_has_the_shape_scf_delivers() -> None:
    ref = ObjectRef(BUCKET, "ap-guangzhou", "uploads/hash/a b.bin", size=10, etag="e" * 32)
    (record,) = upload_event(payload_of(ref), 1_800_000_000)["Records"]
    cos_object = record["cos"]["cosObject"]
    assert cos_object["key"] == "/1250000000/media/uploads/hash/a b.bin"
    assert cos_object["url"] == "https://media-1250000000.cos.ap-guangzhou.myqcloud.com/uploads/hash/a%20b.bin"
    assert cos_object["meta"]["ETag"] == '"' + "e" * 32 + '"'
    assert record["cos"]["cosBucket"] == {
        "name": "media",
        "appid": "1250000000",
        "region": "ap-guangzhou",
        "cosRegion": "ap-guangzhou",
    }
    assert (record["event"]["eventSource"], record["event"]["reservedInfo"]) == ("qcs::cos", SENDER)


@pytest.mark.parametrize(
    ("version", "size", "etag"),
    [("size-4096", 4096, None), ("0123456789abcdef0123456789abcdef", None, "0123456789abcdef0123456789abcdef")],
)
def test_a_record_kept_before_object_facts_still_names_its_upload(
    version: str, size: int | None, etag: str | None
) -> None:
    payload = {"concern": "hash", "bucket": BUCKET, "region": "ap-guangzhou", "key": "in/a.bin", "version": version}
    back = parsed(upload_event(payload, 1_800_000_000))
    assert back.version == version
    assert (back.size, back.etag) == (size, etag)


def test_a_version_id_record_kept_before_object_facts_keeps_its_identity() -> None:
    payload = {"concern": "hash", "bucket": BUCKET, "region": "ap-guangzhou", "key": "in/a.bin", "version": "MTg0NDY3"}
    assert parsed(upload_event(payload, 0)).identity == f"{BUCKET}/in/a.bin@MTg0NDY3"


def test_the_handler_takes_the_event_as_an_upload() -> None:
    settings = load_settings(
        HashSettings,
        {
            "CIFLOW_REGION": "ap-guangzhou",
            "CIFLOW_BUCKET": BUCKET,
            "CIFLOW_USERDATA_SECRET": "userdata-secret-0123456789",
            "CIFLOW_CALLBACK_TYPE": "Queue",
            "CIFLOW_FILTER_PREFIXES": "uploads/hash/",
            "CIFLOW_FILTER_CONTENT_TYPES": "application/*",
            "CIFLOW_MIN_SIZE": "1",
        },
    )
    ref = ObjectRef(BUCKET, "ap-guangzhou", "uploads/hash/a.bin", size=5, etag="f" * 32, content_type="application/zip")
    assert skip_reason(parsed(upload_event(payload_of(ref), 0)), settings) is None
