"""Conditional requests, object ACLs, append and SSE headers on the emulator, judged by the official SDK."""

from __future__ import annotations

import base64
import hashlib
from email.utils import formatdate

import pytest
from qcloud_cos import CosS3Client

from ciflow_local.emulator._storage import ObjectStore
from tests.e2e.emulator.conftest import BUCKET, REGION
from tests.e2e.emulator.cos_sdk import raw_request, refusal, sdk_client

ALL_USERS_READ = {
    "Grantee": {"Type": "Group", "URI": "http://cam.qcloud.com/groups/global/AllUsers"},
    "Permission": "READ",
}
OWNER = "qcs::cam::uin/1250000000:uin/1250000000"


@pytest.fixture
def sdk(cos_app_url: str) -> CosS3Client:
    return sdk_client(cos_app_url)


def status_and_code(error: object) -> tuple[int, str]:
    return error.get_status_code(), error.get_error_code()  # type: ignore[attr-defined]


# -- conditions -------------------------------------------------------------------------------------


def test_put_if_none_match_star_refuses_an_existing_key(sdk: CosS3Client, store: ObjectStore) -> None:
    sdk.put_object(Bucket=BUCKET, Key="once.txt", Body=b"first", IfNoneMatch="*")
    error = refusal(sdk.put_object, Bucket=BUCKET, Key="once.txt", Body=b"second", IfNoneMatch="*")
    assert status_and_code(error) == (412, "PreconditionFailed")
    assert sdk.get_object(Bucket=BUCKET, Key="once.txt")["Body"].get_raw_stream().read() == b"first"
    forbid = refusal(raw_request, sdk, "PUT", "once.txt", {}, b"x", {"x-cos-forbid-overwrite": "true"})
    assert status_and_code(forbid) == (409, "FileAlreadyExists")
    assert not list((store.root / "tmp").iterdir())  # refused bodies leave nothing behind


def test_get_and_head_preconditions(sdk: CosS3Client) -> None:
    etag = sdk.put_object(Bucket=BUCKET, Key="c.txt", Body=b"content")["ETag"]
    past, future = formatdate(0, usegmt=True), formatdate(4102444800, usegmt=True)
    got = sdk.get_object(Bucket=BUCKET, Key="c.txt", IfMatch=etag)
    assert got["Body"].get_raw_stream().read() == b"content"
    assert status_and_code(refusal(sdk.get_object, Bucket=BUCKET, Key="c.txt", IfMatch='"0"')) == (
        412,
        "PreconditionFailed",
    )
    assert status_and_code(refusal(sdk.get_object, Bucket=BUCKET, Key="c.txt", IfUnmodifiedSince=past)) == (
        412,
        "PreconditionFailed",
    )
    head = refusal(sdk.head_object, Bucket=BUCKET, Key="c.txt", IfMatch='"0"')
    assert head.get_status_code() == 412
    for name, value in (("If-None-Match", etag), ("If-Modified-Since", future)):
        answer = raw_request(sdk, "GET", "c.txt", {}, headers={name: value})
        assert answer.status_code == 304
        assert answer.content == b""
        assert answer.headers["ETag"] == etag
    assert sdk.head_object(Bucket=BUCKET, Key="c.txt", IfModifiedSince=past)["ETag"] == etag
    assert sdk.head_object(Bucket=BUCKET, Key="c.txt", IfNoneMatch='"other"')["ETag"] == etag


# -- object ACL -------------------------------------------------------------------------------------


def test_object_acl_canned_header_grants_and_body(sdk: CosS3Client) -> None:
    sdk.put_object(Bucket=BUCKET, Key="acl.txt", Body=b"x")
    fresh = sdk.get_object_acl(Bucket=BUCKET, Key="acl.txt")
    assert fresh["CannedACL"] == "default"
    assert fresh["Owner"]["ID"] == OWNER
    assert fresh["AccessControlList"]["Grant"][0]["Permission"] == "FULL_CONTROL"

    sdk.put_object_acl(Bucket=BUCKET, Key="acl.txt", ACL="public-read", GrantRead='id="qcs::cam::uin/1:uin/2"')
    public = sdk.get_object_acl(Bucket=BUCKET, Key="acl.txt")
    assert public["CannedACL"] == "public-read"
    grants = public["AccessControlList"]["Grant"]
    assert ALL_USERS_READ in grants
    assert {
        "Grantee": {"Type": "CanonicalUser", "ID": "qcs::cam::uin/1:uin/2", "DisplayName": "qcs::cam::uin/1:uin/2"},
        "Permission": "READ",
    } in grants

    policy = {
        "Owner": {"ID": OWNER},
        "AccessControlList": {
            "Grant": [{"Grantee": {"ID": "qcs::cam::uin/1:uin/3", "Type": "CanonicalUser"}, "Permission": "WRITE_ACP"}]
        },
    }
    sdk.put_object_acl(Bucket=BUCKET, Key="acl.txt", AccessControlPolicy=policy)
    exact = sdk.get_object_acl(Bucket=BUCKET, Key="acl.txt")
    assert exact["CannedACL"] == "private"
    assert [(g["Grantee"]["ID"], g["Permission"]) for g in exact["AccessControlList"]["Grant"]] == [
        ("qcs::cam::uin/1:uin/3", "WRITE_ACP")
    ]
    assert status_and_code(refusal(sdk.get_object_acl, Bucket=BUCKET, Key="none.txt")) == (404, "NoSuchKey")
    assert status_and_code(refusal(sdk.put_object_acl, Bucket=BUCKET, Key="none.txt", ACL="private")) == (
        404,
        "NoSuchKey",
    )
    bad = refusal(sdk.put_object_acl, Bucket=BUCKET, Key="acl.txt", ACL="public-read-write-all")
    assert status_and_code(bad) == (400, "InvalidArgument")


def test_put_object_acl_is_kept_and_overwrite_resets_it(sdk: CosS3Client) -> None:
    sdk.put_object(Bucket=BUCKET, Key="p.txt", Body=b"x", ACL="public-read")
    assert sdk.get_object_acl(Bucket=BUCKET, Key="p.txt")["CannedACL"] == "public-read"
    sdk.put_object(Bucket=BUCKET, Key="p.txt", Body=b"y")
    assert sdk.get_object_acl(Bucket=BUCKET, Key="p.txt")["CannedACL"] == "default"


# -- append -----------------------------------------------------------------------------------------


def test_append_object(sdk: CosS3Client) -> None:
    first = sdk.append_object(Bucket=BUCKET, Key="log.txt", Position=0, Data=b"test")
    assert first["x-cos-next-append-position"] == "4"
    second = sdk.append_object(Bucket=BUCKET, Key="log.txt", Position=4, Data=b" more")
    assert second["x-cos-next-append-position"] == "9"
    assert second["ETag"] == f'"{hashlib.md5(b"test more").hexdigest()}"'
    error = refusal(sdk.append_object, Bucket=BUCKET, Key="log.txt", Position=4, Data=b"again")
    assert status_and_code(error) == (409, "PositionNotEqualToLength")
    head = sdk.head_object(Bucket=BUCKET, Key="log.txt")
    assert head["Content-Length"] == "9"
    assert head["x-cos-object-type"] == "appendable"
    sdk.put_object(Bucket=BUCKET, Key="plain.txt", Body=b"x")
    plain = refusal(sdk.append_object, Bucket=BUCKET, Key="plain.txt", Position=1, Data=b"y")
    assert status_and_code(plain) == (409, "ObjectNotAppendable")
    assert sdk.get_object(Bucket=BUCKET, Key="log.txt")["Body"].get_raw_stream().read() == b"test more"


# -- server-side encryption headers ----------------------------------------------------------------

KEY = b"01234567890123456789012345678901"
SSE_C = {
    "SSECustomerAlgorithm": "AES256",
    "SSECustomerKey": base64.b64encode(KEY).decode(),
    "SSECustomerKeyMD5": base64.b64encode(hashlib.md5(KEY).digest()).decode(),
}


def test_sse_cos_is_stored_and_echoed(sdk: CosS3Client) -> None:
    put = sdk.put_object(Bucket=BUCKET, Key="sse.txt", Body=b"x", ServerSideEncryption="AES256")
    assert put["x-cos-server-side-encryption"] == "AES256"
    assert sdk.head_object(Bucket=BUCKET, Key="sse.txt")["x-cos-server-side-encryption"] == "AES256"
    bad = refusal(sdk.put_object, Bucket=BUCKET, Key="sse2.txt", Body=b"x", ServerSideEncryption="DES")
    assert status_and_code(bad) == (400, "InvalidArgument")


def test_sse_c_needs_the_same_key_to_read(sdk: CosS3Client, tmp_path: object) -> None:
    put = sdk.put_object(Bucket=BUCKET, Key="ssec.txt", Body=b"00000", **SSE_C)
    assert put["x-cos-server-side-encryption-customer-algorithm"] == "AES256"
    got = sdk.get_object(Bucket=BUCKET, Key="ssec.txt", **SSE_C)
    assert got["x-cos-server-side-encryption-customer-algorithm"] == "AES256"
    assert got["Body"].get_raw_stream().read() == b"00000"
    assert refusal(sdk.head_object, Bucket=BUCKET, Key="ssec.txt").get_status_code() == 400
    assert status_and_code(refusal(sdk.get_object, Bucket=BUCKET, Key="ssec.txt")) == (400, "InvalidRequest")
    other = b"01234567890123456789012345678902"
    wrong = {
        **SSE_C,
        "SSECustomerKey": base64.b64encode(other).decode(),
        "SSECustomerKeyMD5": base64.b64encode(hashlib.md5(other).digest()).decode(),
    }
    assert status_and_code(refusal(sdk.get_object, Bucket=BUCKET, Key="ssec.txt", **wrong)) == (403, "AccessDenied")
    mismatched = {**SSE_C, "SSECustomerKeyMD5": wrong["SSECustomerKeyMD5"]}
    assert status_and_code(refusal(sdk.put_object, Bucket=BUCKET, Key="x", Body=b"x", **mismatched)) == (
        400,
        "InvalidArgument",
    )
    copy = sdk.copy_object(
        Bucket=BUCKET,
        Key="ssec-copy.txt",
        CopySource={"Bucket": BUCKET, "Key": "ssec.txt", "Region": REGION},
        **wrong,
        CopySourceSSECustomerAlgorithm="AES256",
        CopySourceSSECustomerKey=SSE_C["SSECustomerKey"],
        CopySourceSSECustomerKeyMD5=SSE_C["SSECustomerKeyMD5"],
    )
    assert copy["x-cos-server-side-encryption-customer-algorithm"] == "AES256"
    assert sdk.get_object(Bucket=BUCKET, Key="ssec-copy.txt", **wrong)["Body"].get_raw_stream().read() == b"00000"


def test_sse_c_multipart_upload_file(sdk: CosS3Client, tmp_path: object) -> None:
    from pathlib import Path

    source = Path(str(tmp_path)) / "big.bin"
    data = b"z" * (1024 * 1024 + 7)
    source.write_bytes(data)
    answer = sdk.upload_file(Bucket=BUCKET, Key="ssec-big.bin", LocalFilePath=str(source), PartSize=1, **SSE_C)
    assert answer["ETag"].endswith('-2"')
    assert sdk.get_object(Bucket=BUCKET, Key="ssec-big.bin", **SSE_C)["Body"].get_raw_stream().read() == data
    assert status_and_code(refusal(sdk.get_object, Bucket=BUCKET, Key="ssec-big.bin")) == (400, "InvalidRequest")
