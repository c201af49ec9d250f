"""COS object calls through the official SDK: what the SDK hands back, value by value."""

import hashlib
from typing import Any

import pytest
import requests
from qcloud_cos import CosConfig, CosS3Client, CosServiceError

from ciflow_local.emulator import DEFAULT_CREDENTIALS, Emulator

from .conftest import BUCKET, REGION


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


def read(sdk: Any, key: str, **kwargs: Any) -> bytes:
    body: bytes = sdk.get_object(Bucket=BUCKET, Key=key, **kwargs)["Body"].get_raw_stream().read()
    return body


def test_put_get_head_delete_object(sdk: Any, key: str) -> None:
    data = b"conformance \x00\xff bytes"
    put = sdk.put_object(
        Bucket=BUCKET, Key=key, Body=data, ContentType="text/plain", Metadata={"x-cos-meta-origin": "sdk"}
    )
    assert put["ETag"] == md5_etag(data)

    got = sdk.get_object(Bucket=BUCKET, Key=key)
    assert got["Body"].get_raw_stream().read() == data
    assert got["ETag"] == md5_etag(data)
    assert got["Content-Length"] == str(len(data))
    assert got["Content-Type"] == "text/plain"
    assert got["x-cos-meta-origin"] == "sdk"

    head = sdk.head_object(Bucket=BUCKET, Key=key)
    assert head["ETag"] == md5_etag(data)
    assert head["Content-Length"] == str(len(data))
    assert head["x-cos-meta-origin"] == "sdk"
    assert "Last-Modified" in head
    assert sdk.object_exists(Bucket=BUCKET, Key=key) is True

    sdk.delete_object(Bucket=BUCKET, Key=key)
    assert sdk.object_exists(Bucket=BUCKET, Key=key) is False


def test_get_object_range(sdk: Any, key: str) -> None:
    sdk.put_object(Bucket=BUCKET, Key=key, Body=b"0123456789")
    got = sdk.get_object(Bucket=BUCKET, Key=key, Range="bytes=2-5")
    assert got["Body"].get_raw_stream().read() == b"2345"
    assert got["Content-Range"] == "bytes 2-5/10"
    assert got["Content-Length"] == "4"


def test_missing_object_errors(sdk: Any) -> None:
    with pytest.raises(CosServiceError) as got:
        sdk.get_object(Bucket=BUCKET, Key="no/such/object")
    assert got.value.get_status_code() == 404
    assert got.value.get_error_code() == "NoSuchKey"
    assert got.value.get_request_id()
    assert got.value.get_resource_location().endswith("/no/such/object")

    with pytest.raises(CosServiceError) as head:
        sdk.head_object(Bucket=BUCKET, Key="no/such/object")
    assert head.value.get_status_code() == 404


@pytest.mark.parametrize(
    "name", ["中文 key+plus %25 & ~tilde.txt", "a/./b/../c", "space at end ", "semi;colon=eq?q#hash"]
)
def test_special_keys_round_trip(sdk: Any, name: str) -> None:
    key = f"special/{name}"
    sdk.put_object(Bucket=BUCKET, Key=key, Body=name.encode())
    assert read(sdk, key) == name.encode()
    listed = sdk.list_objects(Bucket=BUCKET, Prefix=key)
    assert [item["Key"] for item in listed["Contents"]] == [key]


def test_list_objects_prefix_delimiter_and_pages(sdk: Any) -> None:
    keys = ["listing/a.txt", "listing/b.txt", "listing/dir/c.txt", "listing/dir/d.txt", "listing/zz/e.txt"]
    for index, key in enumerate(keys):
        sdk.put_object(Bucket=BUCKET, Key=key, Body=b"x" * index)

    one_level = sdk.list_objects(Bucket=BUCKET, Prefix="listing/", Delimiter="/")
    assert [item["Key"] for item in one_level["Contents"]] == ["listing/a.txt", "listing/b.txt"]
    assert [item["Size"] for item in one_level["Contents"]] == ["0", "1"]
    assert [p["Prefix"] for p in one_level["CommonPrefixes"]] == ["listing/dir/", "listing/zz/"]
    assert one_level["IsTruncated"] == "false"

    seen: list[str] = []
    marker = ""
    pages = 0
    while True:
        page = sdk.list_objects(Bucket=BUCKET, Prefix="listing/", MaxKeys=2, Marker=marker)
        pages += 1
        seen += [item["Key"] for item in page["Contents"]]
        if page["IsTruncated"] == "false":
            break
        marker = page["NextMarker"]
    assert seen == keys
    assert pages == 3


def test_copy_object(sdk: Any, key: str) -> None:
    data = b"copy me"
    sdk.put_object(Bucket=BUCKET, Key=key, Body=data, Metadata={"x-cos-meta-kept": "yes"})
    source = {"Bucket": BUCKET, "Key": key, "Region": REGION}
    copied = sdk.copy_object(Bucket="conformance-copy-1250000000", Key="copied.txt", CopySource=source)
    assert copied["ETag"] == md5_etag(data)
    assert "LastModified" in copied
    head = sdk.head_object(Bucket="conformance-copy-1250000000", Key="copied.txt")
    assert head["x-cos-meta-kept"] == "yes"
    got = sdk.get_object(Bucket="conformance-copy-1250000000", Key="copied.txt")
    assert got["Body"].get_raw_stream().read() == data


def test_delete_objects(sdk: Any) -> None:
    keys = [f"batch/{index}" for index in range(3)]
    for key in keys:
        sdk.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    answer = sdk.delete_objects(Bucket=BUCKET, Delete={"Object": [{"Key": key} for key in keys], "Quiet": "false"})
    assert sorted(item["Key"] for item in answer["Deleted"]) == keys
    assert "Contents" not in sdk.list_objects(Bucket=BUCKET, Prefix="batch/")


def test_wrong_secret_is_refused(emulator: Emulator) -> None:
    config = CosConfig(
        Region=REGION,
        SecretId=DEFAULT_CREDENTIALS.secret_id,
        SecretKey="not-the-secret",
        Scheme="http",
        Proxies={"http": emulator.url},
    )
    with pytest.raises(CosServiceError) as refused:
        CosS3Client(config, retry=0).head_object(Bucket=BUCKET, Key="whatever")
    assert refused.value.get_status_code() == 403
    with pytest.raises(CosServiceError) as listing:
        CosS3Client(config, retry=0).list_objects(Bucket=BUCKET)
    assert listing.value.get_error_code() == "SignatureDoesNotMatch"


def test_ip_port_configuration_serves_cos_calls(emulator: Emulator) -> None:
    """The SDK's ``IP``/``Port`` options also reach the emulator for COS calls (Host stays the bucket's)."""
    host, port = emulator.url.removeprefix("http://").split(":")
    config = CosConfig(
        Region=REGION,
        SecretId=DEFAULT_CREDENTIALS.secret_id,
        SecretKey=DEFAULT_CREDENTIALS.secret_key,
        Scheme="http",
        IP=host,
        Port=int(port),
    )
    client = CosS3Client(config, retry=0)
    client.put_object(Bucket=BUCKET, Key="ip-port/hello.txt", Body=b"via ip")
    assert client.get_object(Bucket=BUCKET, Key="ip-port/hello.txt")["Body"].get_raw_stream().read() == b"via ip"


def test_object_acl(sdk: Any, key: str) -> None:
    sdk.put_object(Bucket=BUCKET, Key=key, Body=b"acl")
    sdk.put_object_acl(Bucket=BUCKET, Key=key, ACL="public-read")
    acl = sdk.get_object_acl(Bucket=BUCKET, Key=key)
    grants = acl["AccessControlList"]["Grant"]
    grants = grants if isinstance(grants, list) else [grants]
    assert {grant["Permission"] for grant in grants} >= {"FULL_CONTROL", "READ"}
    assert acl["Owner"]["ID"].startswith("qcs::cam::uin/")


def test_multipart_upload_low_level(sdk: Any, key: str) -> None:
    parts = [b"a" * (1024 * 1024), b"b" * 1024]
    upload_id = sdk.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    assert upload_id
    etags = []
    for number, data in enumerate(parts, start=1):
        answer = sdk.upload_part(Bucket=BUCKET, Key=key, Body=data, PartNumber=number, UploadId=upload_id)
        assert answer["ETag"] == md5_etag(data)
        etags.append({"PartNumber": str(number), "ETag": answer["ETag"]})
    listed = sdk.list_parts(Bucket=BUCKET, Key=key, UploadId=upload_id)
    assert [part["PartNumber"] for part in listed["Part"]] == ["1", "2"]
    assert [part["Size"] for part in listed["Part"]] == [str(len(data)) for data in parts]
    done = sdk.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={"Part": etags})
    assert done["Key"] == key
    digests = b"".join(hashlib.md5(data).digest() for data in parts)
    assert done["ETag"] == f'"{hashlib.md5(digests).hexdigest()}-2"'
    assert read(sdk, key) == b"".join(parts)


def test_multipart_abort_and_listing(sdk: Any, key: str) -> None:
    upload_id = sdk.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    uploads = sdk.list_multipart_uploads(Bucket=BUCKET, Prefix=key)["Upload"]
    uploads = uploads if isinstance(uploads, list) else [uploads]
    assert [(item["Key"], item["UploadId"]) for item in uploads] == [(key, upload_id)]
    sdk.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id)
    assert "Upload" not in sdk.list_multipart_uploads(Bucket=BUCKET, Prefix=key)
    with pytest.raises(CosServiceError) as gone:
        sdk.list_parts(Bucket=BUCKET, Key=key, UploadId=upload_id)
    assert gone.value.get_error_code() == "NoSuchUpload"


def test_upload_file_and_download_file(sdk: Any, tmp_path: Any) -> None:
    data = bytes(range(256)) * (12 * 4096)  # 12 MiB: three 5 MiB parts at most
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    sdk.upload_file(Bucket=BUCKET, Key="transfer/big.bin", LocalFilePath=str(source), PartSize=5, MAXThread=2)
    head = sdk.head_object(Bucket=BUCKET, Key="transfer/big.bin")
    assert head["Content-Length"] == str(len(data))
    assert head["ETag"].endswith('-3"')
    target = tmp_path / "back.bin"
    sdk.download_file(Bucket=BUCKET, Key="transfer/big.bin", DestFilePath=str(target), PartSize=5)
    assert target.read_bytes() == data


def test_presigned_urls(sdk: Any, emulator: Emulator, key: str) -> None:
    proxies = {"http": emulator.url}
    put_url = sdk.get_presigned_url(Bucket=BUCKET, Key=key, Method="PUT", Expired=300)
    assert requests.put(put_url, data=b"presigned", proxies=proxies, timeout=10).status_code == 200
    get_url = sdk.get_presigned_download_url(Bucket=BUCKET, Key=key, Expired=300)
    got = requests.get(get_url, proxies=proxies, timeout=10)
    assert got.status_code == 200
    assert got.content == b"presigned"
    tampered = requests.get(get_url.replace(key.split("/")[0], "other"), proxies=proxies, timeout=10)
    assert tampered.status_code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in tampered.content


def test_append_object(sdk: Any, key: str) -> None:
    first = sdk.append_object(Bucket=BUCKET, Key=key, Position=0, Data=b"head-")
    assert first["x-cos-next-append-position"] == "5"
    second = sdk.append_object(Bucket=BUCKET, Key=key, Position=5, Data=b"tail")
    assert second["x-cos-next-append-position"] == "9"
    assert read(sdk, key) == b"head-tail"
    with pytest.raises(CosServiceError) as wrong:
        sdk.append_object(Bucket=BUCKET, Key=key, Position=3, Data=b"x")
    assert wrong.value.get_status_code() == 409
    assert wrong.value.get_error_code() == "PositionNotEqualToLength"


def test_put_object_if_none_match(sdk: Any, key: str) -> None:
    sdk.put_object(Bucket=BUCKET, Key=key, Body=b"first", IfNoneMatch="*")
    with pytest.raises(CosServiceError) as refused:
        sdk.put_object(Bucket=BUCKET, Key=key, Body=b"second", IfNoneMatch="*")
    assert refused.value.get_status_code() == 412
    assert refused.value.get_error_code() == "PreconditionFailed"
    assert read(sdk, key) == b"first"


def test_object_tagging(sdk: Any, key: str) -> None:
    """Tags by body and by ``x-cos-tagging`` on the write; read back in order; deleted; COS's limits refused."""
    tagging = {"TagSet": {"Tag": [{"Key": "team", "Value": "media"}, {"Key": "tier", "Value": "hot cold"}]}}
    sdk.put_object(Bucket=BUCKET, Key=key, Body=b"tagged")
    sdk.put_object_tagging(Bucket=BUCKET, Key=key, Tagging=tagging)
    assert sdk.get_object_tagging(Bucket=BUCKET, Key=key) == tagging
    sdk.delete_object_tagging(Bucket=BUCKET, Key=key)
    assert not (sdk.get_object_tagging(Bucket=BUCKET, Key=key).get("TagSet") or {}).get("Tag")
    sdk.put_object(Bucket=BUCKET, Key=key, Body=b"tagged", Tagging="k1=v1&k2=v%202")
    assert sdk.get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"]["Tag"] == [
        {"Key": "k1", "Value": "v1"},
        {"Key": "k2", "Value": "v 2"},
    ]
    too_many = {"TagSet": {"Tag": [{"Key": f"k{n}", "Value": "v"} for n in range(11)]}}
    with pytest.raises(CosServiceError) as refused:
        sdk.put_object_tagging(Bucket=BUCKET, Key=key, Tagging=too_many)
    assert (refused.value.get_status_code(), refused.value.get_error_code()) == (400, "InvalidTag")
    with pytest.raises(CosServiceError) as missing:
        sdk.get_object_tagging(Bucket=BUCKET, Key=f"{key}.absent")
    assert missing.value.get_error_code() == "NoSuchKey"
    assert read(sdk, key) == b"tagged"


def test_versioning(sdk: Any) -> None:
    bucket = "conformance-versioned-1250000000"
    sdk.create_bucket(Bucket=bucket)
    sdk.put_bucket_versioning(Bucket=bucket, Status="Enabled")
    assert sdk.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    first = sdk.put_object(Bucket=bucket, Key="doc.txt", Body=b"v1")["x-cos-version-id"]
    second = sdk.put_object(Bucket=bucket, Key="doc.txt", Body=b"v2")["x-cos-version-id"]
    assert first != second
    old = sdk.get_object(Bucket=bucket, Key="doc.txt", VersionId=first)
    assert old["Body"].get_raw_stream().read() == b"v1"
    assert old["x-cos-version-id"] == first

    listed = sdk.list_objects_versions(Bucket=bucket, Prefix="doc.txt")
    versions = listed["Version"] if isinstance(listed["Version"], list) else [listed["Version"]]
    assert [(v["VersionId"], v["IsLatest"]) for v in versions] == [(second, "true"), (first, "false")]

    sdk.delete_object(Bucket=bucket, Key="doc.txt")
    assert sdk.object_exists(Bucket=bucket, Key="doc.txt") is False
    markers = sdk.list_objects_versions(Bucket=bucket, Prefix="doc.txt")["DeleteMarker"]
    marker = markers[0] if isinstance(markers, list) else markers
    assert marker["IsLatest"] == "true"
    assert read_version(sdk, bucket, second) == b"v2"


def read_version(sdk: Any, bucket: str, version_id: str) -> bytes:
    got = sdk.get_object(Bucket=bucket, Key="doc.txt", VersionId=version_id)
    body: bytes = got["Body"].get_raw_stream().read()
    return body


def test_symlink(sdk: Any, key: str) -> None:
    sdk.put_object(Bucket=BUCKET, Key=key, Body=b"linked")
    made = sdk.put_symlink(Bucket=BUCKET, SymlinkName=f"{key}.lnk", SymlinkTarget=key)
    assert made["x-cos-request-id"]
    assert sdk.get_symlink(Bucket=BUCKET, SymlinkName=f"{key}.lnk")["x-cos-symlink-target"] == key
    assert read(sdk, f"{key}.lnk") == b"linked"
    with pytest.raises(CosServiceError) as missing:
        sdk.get_symlink(Bucket=BUCKET, SymlinkName=f"{key}.none")
    assert missing.value.get_error_code() == "NoSuchKey"


def test_restore_object(sdk: Any, key: str) -> None:
    sdk.put_object(Bucket=BUCKET, Key=key, Body=b"cold", StorageClass="ARCHIVE")
    with pytest.raises(CosServiceError) as frozen:
        read(sdk, key)
    assert (frozen.value.get_status_code(), frozen.value.get_error_code()) == (403, "InvalidObjectState")
    assert (
        sdk.restore_object(Bucket=BUCKET, Key=key, RestoreRequest={"Days": 1, "CASJobParameters": {"Tier": "Bulk"}})
        is None
    )
    assert sdk.head_object(Bucket=BUCKET, Key=key)["x-cos-restore"].startswith('ongoing-request="false", expiry-date=')
    assert read(sdk, key) == b"cold"
    sdk.put_object(Bucket=BUCKET, Key=f"{key}.std", Body=b"warm")
    with pytest.raises(CosServiceError) as standard:
        sdk.restore_object(Bucket=BUCKET, Key=f"{key}.std", RestoreRequest={"Days": 1})
    assert standard.value.get_error_code() == "InvalidObjectState"


def test_select_object_content(sdk: Any, key: str) -> None:
    sdk.put_object(Bucket=BUCKET, Key=key, Body=b"id,score\n1,7\n2,12\n3,30\n")
    answer = sdk.select_object_content(
        Bucket=BUCKET,
        Key=key,
        Expression="SELECT id FROM COSObject WHERE CAST(score AS INT) > 10",
        ExpressionType="SQL",
        InputSerialization={"CompressionType": "NONE", "CSV": {"FileHeaderInfo": "USE"}},
        OutputSerialization={"JSON": {"RecordDelimiter": "\n"}},
    )
    events = list(answer["Payload"])
    assert events[0] == {"Records": {"Payload": b'{"id":"2"}\n{"id":"3"}\n'}}
    assert events[-2]["Stats"]["Details"]["BytesReturned"] == "22"
    assert events[-1] == {"End": {}}
