"""Bucket versioning on the emulator, judged by the official SDK: the switch, versions kept by overwrite and
delete, ``versionId`` reads and deletes, delete markers, and the ``ListVersionsResult`` listing."""

from __future__ import annotations

import pytest
from qcloud_cos import CosS3Client

from ciflow_local.emulator._storage import ObjectStore
from tests.e2e.emulator.conftest import BUCKET, REGION
from tests.e2e.emulator.cos_sdk import raw_request, refusal, sdk_client


@pytest.fixture
def sdk(cos_app_url: str) -> CosS3Client:
    return sdk_client(cos_app_url)


def body(sdk: CosS3Client, key: str, **kwargs: str) -> bytes:
    data: bytes = sdk.get_object(Bucket=BUCKET, Key=key, **kwargs)["Body"].get_raw_stream().read()
    return data


def test_versioning_switch(sdk: CosS3Client) -> None:
    assert "Status" not in sdk.get_bucket_versioning(Bucket=BUCKET)
    sdk.put_bucket_versioning(Bucket=BUCKET, Status="Enabled")
    assert sdk.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    sdk.put_bucket_versioning(Bucket=BUCKET, Status="Suspended")
    assert sdk.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Suspended"


def test_unversioned_bucket_sends_no_version_headers(sdk: CosS3Client, store: ObjectStore) -> None:
    assert "x-cos-version-id" not in sdk.put_object(Bucket=BUCKET, Key="k", Body=b"1")
    assert "x-cos-delete-marker" not in sdk.delete_object(Bucket=BUCKET, Key="k")
    assert store.archived(BUCKET, "") == []


def test_overwrite_and_delete_keep_versions(sdk: CosS3Client, store: ObjectStore) -> None:
    sdk.put_object(Bucket=BUCKET, Key="doc.txt", Body=b"before versioning")
    sdk.put_bucket_versioning(Bucket=BUCKET, Status="Enabled")
    v1 = sdk.put_object(Bucket=BUCKET, Key="doc.txt", Body=b"one")["x-cos-version-id"]
    v2 = sdk.put_object(Bucket=BUCKET, Key="doc.txt", Body=b"two")["x-cos-version-id"]
    assert len({"null", v1, v2}) == 3
    head = sdk.head_object(Bucket=BUCKET, Key="doc.txt")
    assert head["x-cos-version-id"] == v2
    assert body(sdk, "doc.txt") == b"two"
    assert body(sdk, "doc.txt", VersionId=v1) == b"one"
    assert body(sdk, "doc.txt", VersionId="null") == b"before versioning"
    missing = refusal(sdk.get_object, Bucket=BUCKET, Key="doc.txt", VersionId="bm90LWEtdmVyc2lvbg")
    assert (missing.get_status_code(), missing.get_error_code()) == (404, "NoSuchVersion")

    deleted = sdk.delete_object(Bucket=BUCKET, Key="doc.txt")
    assert deleted["x-cos-delete-marker"] == "true"
    marker = deleted["x-cos-version-id"]
    assert refusal(sdk.get_object, Bucket=BUCKET, Key="doc.txt").get_error_code() == "NoSuchKey"
    assert body(sdk, "doc.txt", VersionId=v2) == b"two"  # the data outlives the delete

    listed = sdk.list_objects_versions(Bucket=BUCKET, Prefix="doc")
    assert [(m["Key"], m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarker"]] == [("doc.txt", marker, "true")]
    assert [(v["VersionId"], v["IsLatest"], v["Size"]) for v in listed["Version"]] == [
        (v2, "false", "3"),
        (v1, "false", "3"),
        ("null", "false", "17"),
    ]
    assert "Contents" not in sdk.list_objects(Bucket=BUCKET)  # a plain listing shows current objects only

    # Removing the marker for good brings the newest version back.
    removed = sdk.delete_object(Bucket=BUCKET, Key="doc.txt", VersionId=marker)
    assert removed["x-cos-delete-marker"] == "true"
    assert body(sdk, "doc.txt") == b"two"
    # Removing the current version promotes the one before it.
    sdk.delete_object(Bucket=BUCKET, Key="doc.txt", VersionId=v2)
    assert body(sdk, "doc.txt") == b"one"
    assert sdk.head_object(Bucket=BUCKET, Key="doc.txt")["x-cos-version-id"] == v1
    gone = refusal(sdk.get_object, Bucket=BUCKET, Key="doc.txt", VersionId=v2)
    assert gone.get_error_code() == "NoSuchVersion"


def test_reading_a_delete_marker_version_is_405(sdk: CosS3Client) -> None:
    sdk.put_bucket_versioning(Bucket=BUCKET, Status="Enabled")
    sdk.put_object(Bucket=BUCKET, Key="m", Body=b"x")
    marker = sdk.delete_object(Bucket=BUCKET, Key="m")["x-cos-version-id"]
    error = refusal(sdk.get_object, Bucket=BUCKET, Key="m", VersionId=marker)
    assert (error.get_status_code(), error.get_error_code()) == (405, "MethodNotAllowed")


def test_suspended_versioning_overwrites_the_null_version(sdk: CosS3Client) -> None:
    sdk.put_bucket_versioning(Bucket=BUCKET, Status="Enabled")
    kept = sdk.put_object(Bucket=BUCKET, Key="s", Body=b"kept")["x-cos-version-id"]
    sdk.put_bucket_versioning(Bucket=BUCKET, Status="Suspended")
    assert sdk.put_object(Bucket=BUCKET, Key="s", Body=b"n1")["x-cos-version-id"] == "null"
    sdk.put_object(Bucket=BUCKET, Key="s", Body=b"n2")
    versions = sdk.list_objects_versions(Bucket=BUCKET)["Version"]
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [("null", "true"), (kept, "false")]
    assert body(sdk, "s", VersionId="null") == b"n2"


def test_list_versions_pages_with_markers_and_rolls_up(sdk: CosS3Client) -> None:
    sdk.put_bucket_versioning(Bucket=BUCKET, Status="Enabled")
    ids = [sdk.put_object(Bucket=BUCKET, Key="a", Body=str(n).encode())["x-cos-version-id"] for n in range(3)]
    sdk.put_object(Bucket=BUCKET, Key="dir/x", Body=b"x")
    first = sdk.list_objects_versions(Bucket=BUCKET, MaxKeys=2)
    assert first["IsTruncated"] == "true"
    assert [v["VersionId"] for v in first["Version"]] == [ids[2], ids[1]]
    assert (first["NextKeyMarker"], first["NextVersionIdMarker"]) == ("a", ids[1])
    rest = sdk.list_objects_versions(Bucket=BUCKET, KeyMarker="a", VersionIdMarker=ids[1], Delimiter="/")
    assert [v["VersionId"] for v in rest["Version"]] == [ids[0]]
    assert [p["Prefix"] for p in rest["CommonPrefixes"]] == ["dir/"]
    assert rest["IsTruncated"] == "false"


def test_version_id_on_calls_that_do_not_honour_it_is_501(sdk: CosS3Client) -> None:
    sdk.put_object(Bucket=BUCKET, Key="k", Body=b"x")
    error = refusal(raw_request, sdk, "GET", "k", {"acl": "", "versionId": "null"})
    assert (error.get_status_code(), error.get_error_code()) == (501, "NotImplemented")


def test_multi_delete_on_a_versioned_bucket(sdk: CosS3Client) -> None:
    sdk.put_bucket_versioning(Bucket=BUCKET, Status="Enabled")
    v1 = sdk.put_object(Bucket=BUCKET, Key="a", Body=b"1")["x-cos-version-id"]
    v2 = sdk.put_object(Bucket=BUCKET, Key="a", Body=b"2")["x-cos-version-id"]
    sdk.put_object(Bucket=BUCKET, Key="b", Body=b"b")
    result = sdk.delete_objects(
        Bucket=BUCKET, Delete={"Object": [{"Key": "a", "VersionId": v2}, {"Key": "b"}], "Quiet": "false"}
    )
    by_key = {item["Key"]: item for item in result["Deleted"]}
    assert by_key["a"]["VersionId"] == v2
    assert by_key["b"]["DeleteMarker"] == "true"
    assert by_key["b"]["DeleteMarkerVersionId"]
    assert body(sdk, "a") == b"1"  # only that version went
    assert sdk.head_object(Bucket=BUCKET, Key="a")["x-cos-version-id"] == v1


def test_copy_from_a_version(sdk: CosS3Client) -> None:
    sdk.put_bucket_versioning(Bucket=BUCKET, Status="Enabled")
    old = sdk.put_object(Bucket=BUCKET, Key="src", Body=b"old")["x-cos-version-id"]
    sdk.put_object(Bucket=BUCKET, Key="src", Body=b"new")
    source = {"Bucket": BUCKET, "Key": "src", "Region": REGION, "VersionId": old}
    sdk.copy_object(Bucket=BUCKET, Key="restored", CopySource=source)
    assert body(sdk, "restored") == b"old"
    part_upload = sdk.create_multipart_upload(Bucket=BUCKET, Key="by-part")["UploadId"]
    copied = sdk.upload_part_copy(Bucket=BUCKET, Key="by-part", PartNumber=1, UploadId=part_upload, CopySource=source)
    assert copied["ETag"] == '"149603e6c03516362a8da23f624db945"'  # md5(b"old")
    marker = sdk.delete_object(Bucket=BUCKET, Key="src")["x-cos-version-id"]
    missing = refusal(sdk.copy_object, Bucket=BUCKET, Key="x", CopySource={**source, "VersionId": "bm9uZQ"})
    assert (missing.get_status_code(), missing.get_error_code()) == (404, "NoSuchVersion")
    to_marker = refusal(sdk.copy_object, Bucket=BUCKET, Key="x", CopySource={**source, "VersionId": marker})
    assert (to_marker.get_status_code(), to_marker.get_error_code()) == (400, "InvalidRequest")
