"""Bucket location, symlinks, archive restore, SELECT and CRC64 of the emulator's COS API, judged by the official
SDK (its XML parsing, its error parsing and its own ``EventStream`` reader for SELECT)."""

from __future__ import annotations

import gzip
import json
import struct
import time
import zlib
from collections.abc import Iterator
from typing import Any

import crcmod  # type: ignore[import-untyped]
import pytest
from qcloud_cos import CosS3Client

from ciflow_local.emulator._app import EmulatorApp
from ciflow_local.emulator._cos import CosApi
from ciflow_local.emulator._crc64 import crc64
from ciflow_local.emulator._select import event_message, parse_request, run_select
from ciflow_local.emulator._storage import ObjectStore
from tests.e2e.emulator.conftest import BUCKET, REGION, serving
from tests.e2e.emulator.cos_sdk import raw_request, refusal, sdk_client

CSV_INPUT = {"CompressionType": "NONE", "CSV": {"FileHeaderInfo": "USE"}}
JSON_LINES = {"CompressionType": "NONE", "JSON": {"Type": "LINES"}}
PEOPLE = b'name,age,city\nann,34,Paris\nbob,19,Oslo\n"cy, jr",41,Paris\ndee,27,Rome\n'


@pytest.fixture
def sdk(cos_app_url: str) -> CosS3Client:
    return sdk_client(cos_app_url)


@pytest.fixture
def slow_restore(store: ObjectStore) -> Iterator[CosS3Client]:
    """An SDK client on a COS API whose restores take half a second."""
    with serving(EmulatorApp({"cos": CosApi(store, restore_delay=0.5)})) as url:
        yield sdk_client(url)


# -- location -------------------------------------------------------------------------------------------


def test_bucket_location_is_the_region(sdk: CosS3Client) -> None:
    assert sdk.get_bucket_location(Bucket=BUCKET) == {"LocationConstraint": REGION}


# -- symlinks -------------------------------------------------------------------------------------------


def test_symlink_is_made_read_and_followed(sdk: CosS3Client) -> None:
    sdk.put_object(Bucket=BUCKET, Key="docs/target.txt", Body=b"hello")
    made = sdk.put_symlink(Bucket=BUCKET, SymlinkName="link.txt", SymlinkTarget="docs/target.txt")
    assert "x-cos-request-id" in made
    assert "x-cos-version-id" not in made  # versioning never configured
    assert sdk.get_symlink(Bucket=BUCKET, SymlinkName="link.txt")["x-cos-symlink-target"] == "docs/target.txt"

    got = sdk.get_object(Bucket=BUCKET, Key="link.txt")
    assert got["Body"].get_raw_stream().read() == b"hello"
    head = sdk.head_object(Bucket=BUCKET, Key="link.txt")
    assert head["Content-Length"] == "5"
    assert head["ETag"] == sdk.head_object(Bucket=BUCKET, Key="docs/target.txt")["ETag"]

    sdk.put_object(Bucket=BUCKET, Key="docs/target.txt", Body=b"changed")  # followed as the target is now
    assert sdk.get_object(Bucket=BUCKET, Key="link.txt")["Body"].get_raw_stream().read() == b"changed"
    sdk.delete_object(Bucket=BUCKET, Key="docs/target.txt")
    assert refusal(sdk.get_object, Bucket=BUCKET, Key="link.txt").get_error_code() == "NoSuchKey"
    sdk.delete_object(Bucket=BUCKET, Key="link.txt")
    assert refusal(sdk.get_symlink, Bucket=BUCKET, SymlinkName="link.txt").get_error_code() == "NoSuchKey"


def test_symlink_refusals(sdk: CosS3Client) -> None:
    sdk.put_object(Bucket=BUCKET, Key="plain.txt", Body=b"x")
    not_link = refusal(sdk.get_symlink, Bucket=BUCKET, SymlinkName="plain.txt")
    assert (not_link.get_status_code(), not_link.get_error_code()) == (400, "NotSymlink")
    to_itself = refusal(sdk.put_symlink, Bucket=BUCKET, SymlinkName="self", SymlinkTarget="self")
    assert to_itself.get_error_code() == "InvalidArgument"
    no_target = refusal(raw_request, sdk, "PUT", "nowhere", {"symlink": ""})
    assert no_target.get_error_code() == "InvalidArgument"


def test_symlink_on_a_versioned_bucket(sdk: CosS3Client) -> None:
    sdk.put_bucket_versioning(Bucket=BUCKET, Status="Enabled")
    sdk.put_object(Bucket=BUCKET, Key="t.txt", Body=b"v")
    first = sdk.put_symlink(Bucket=BUCKET, SymlinkName="s", SymlinkTarget="t.txt")["x-cos-version-id"]
    sdk.put_symlink(Bucket=BUCKET, SymlinkName="s", SymlinkTarget="other.txt")
    old = sdk.get_symlink(Bucket=BUCKET, SymlinkName="s", VersionId=first)
    assert (old["x-cos-symlink-target"], old["x-cos-version-id"]) == ("t.txt", first)
    assert sdk.get_symlink(Bucket=BUCKET, SymlinkName="s")["x-cos-symlink-target"] == "other.txt"
    missing = refusal(sdk.get_symlink, Bucket=BUCKET, SymlinkName="s", VersionId="invalid-version-id")
    assert missing.get_error_code() == "NoSuchVersion"


# -- restore ---------------------------------------------------------------------------------------------


def restore(client: CosS3Client, key: str, days: int = 1, tier: str = "Expedited") -> None:
    client.restore_object(Bucket=BUCKET, Key=key, RestoreRequest={"Days": days, "CASJobParameters": {"Tier": tier}})


def test_archived_object_is_readable_only_once_restored(slow_restore: CosS3Client) -> None:
    sdk = slow_restore
    sdk.put_object(Bucket=BUCKET, Key="cold.bin", Body=b"frozen", StorageClass="ARCHIVE")
    head = sdk.head_object(Bucket=BUCKET, Key="cold.bin")
    assert head["x-cos-storage-class"] == "ARCHIVE"
    assert "x-cos-restore" not in head
    refused = refusal(sdk.get_object, Bucket=BUCKET, Key="cold.bin")
    assert (refused.get_status_code(), refused.get_error_code()) == (403, "InvalidObjectState")
    copy_source = {"Bucket": BUCKET, "Key": "cold.bin", "Region": REGION}
    assert refusal(sdk.copy_object, Bucket=BUCKET, Key="c", CopySource=copy_source).get_status_code() == 403

    restore(sdk, "cold.bin", days=2)
    assert sdk.head_object(Bucket=BUCKET, Key="cold.bin")["x-cos-restore"] == 'ongoing-request="true"'
    again = refusal(restore, sdk, "cold.bin")
    assert (again.get_status_code(), again.get_error_code()) == (409, "RestoreAlreadyInProgress")
    assert refusal(sdk.get_object, Bucket=BUCKET, Key="cold.bin").get_error_code() == "InvalidObjectState"

    time.sleep(0.6)
    restored = sdk.head_object(Bucket=BUCKET, Key="cold.bin")["x-cos-restore"]
    assert restored.startswith('ongoing-request="false", expiry-date="')
    expiry = time.mktime(time.strptime(restored.split('expiry-date="')[1].rstrip('"'), "%a, %d %b %Y %H:%M:%S GMT"))
    assert abs(expiry - time.timezone - (time.time() + 2 * 86400)) < 60
    assert sdk.get_object(Bucket=BUCKET, Key="cold.bin")["Body"].get_raw_stream().read() == b"frozen"
    restore(sdk, "cold.bin", days=3)  # already restored: 200, the expiry moves


def test_restore_refusals(sdk: CosS3Client) -> None:
    sdk.put_object(Bucket=BUCKET, Key="warm.txt", Body=b"w")
    standard = refusal(restore, sdk, "warm.txt")
    assert (standard.get_status_code(), standard.get_error_code()) == (403, "InvalidObjectState")
    assert refusal(restore, sdk, "absent.txt").get_error_code() == "NoSuchKey"
    sdk.put_object(Bucket=BUCKET, Key="deep.bin", Body=b"d", StorageClass="DEEP_ARCHIVE")
    assert refusal(restore, sdk, "deep.bin", days=0).get_error_code() == "InvalidArgument"
    assert refusal(restore, sdk, "deep.bin", tier="Instant").get_error_code() == "InvalidArgument"
    restore(sdk, "deep.bin", tier="Bulk")  # immediate by default
    assert sdk.get_object(Bucket=BUCKET, Key="deep.bin")["Body"].get_raw_stream().read() == b"d"


# -- select ----------------------------------------------------------------------------------------------


def select(sdk: CosS3Client, key: str, sql: str, input_format: dict[str, Any], output: dict[str, Any]) -> Any:
    response = sdk.select_object_content(
        Bucket=BUCKET,
        Key=key,
        Expression=sql,
        ExpressionType="SQL",
        InputSerialization=input_format,
        OutputSerialization=output,
        RequestProgress={"Enabled": "TRUE"},
    )
    return response["Payload"]


def test_select_csv_with_header_where_and_limit(sdk: CosS3Client) -> None:
    sdk.put_object(Bucket=BUCKET, Key="people.csv", Body=PEOPLE)
    sql = "SELECT name, CAST(age AS INT) AS years FROM COSObject WHERE city = 'Paris' OR age < 20 LIMIT 2"
    events = list(select(sdk, "people.csv", sql, CSV_INPUT, {"JSON": {"RecordDelimiter": "\n"}}))
    records = b"".join(event["Records"]["Payload"] for event in events if "Records" in event)
    assert [json.loads(line) for line in records.splitlines()] == [
        {"name": "ann", "years": 34},
        {"name": "bob", "years": 19},
    ]
    kinds = [next(iter(event)) for event in events]
    assert kinds[-3:] == ["Progress", "Stats", "End"]
    stats = events[-2]["Stats"]["Details"]
    assert stats == {
        "BytesScanned": str(len(PEOPLE)),
        "BytesProcessed": str(len(PEOPLE)),
        "BytesReturned": str(len(records)),
    }


def test_select_csv_positions_quoting_and_and(sdk: CosS3Client) -> None:
    sdk.put_object(Bucket=BUCKET, Key="people.csv", Body=PEOPLE)
    ignore = {"CompressionType": "NONE", "CSV": {"FileHeaderInfo": "IGNORE"}}
    sql = "select _1, _3 from COSObject where CAST(_2 AS INT) >= 27 and not _3 = 'Rome'"
    payload = select(sdk, "people.csv", sql, ignore, {"CSV": {"FieldDelimiter": ";"}}).get_select_result()
    assert payload == b"ann;Paris\ncy, jr;Paris\n"
    always = {"CSV": {"QuoteFields": "ALWAYS", "RecordDelimiter": "|"}}
    quoted = select(sdk, "people.csv", "SELECT * FROM COSObject LIMIT 1", CSV_INPUT, always).get_select_result()
    assert quoted == b'"ann","34","Paris"|'


def test_select_json_lines_like_the_sdk_suite(sdk: CosS3Client, tmp_path: Any) -> None:
    body = "".join(json.dumps({"name": f"n{i}", "age": str(i), "tags": {"k": i}}) + "\n" for i in range(100))
    sdk.put_object(Bucket=BUCKET, Key="rows.json", Body=body.encode())
    csv_out = {"CSV": {"RecordDelimiter": "\n"}}
    rows = select(sdk, "rows.json", "Select * from COSObject", JSON_LINES, csv_out).get_select_result()
    assert rows.splitlines()[3] == b'n3,3,"{""k"":3}"'
    assert len(rows.splitlines()) == 100
    sql = "SELECT s.name, s.tags.k FROM COSObject s WHERE s.age > 96 OR s.name = 'n0'"
    picked = select(sdk, "rows.json", sql, JSON_LINES, {"JSON": {}}).get_select_result()
    assert [json.loads(line) for line in picked.splitlines()] == [
        {"name": "n0", "k": 0},
        {"name": "n97", "k": 97},
        {"name": "n98", "k": 98},
        {"name": "n99", "k": 99},
    ]
    target = tmp_path / "out.csv"
    select(sdk, "rows.json", "SELECT name FROM COSObject LIMIT 3", JSON_LINES, csv_out).get_select_result_to_file(
        str(target)
    )
    assert target.read_bytes() == b"n0\nn1\nn2\n"


def test_select_json_document_gzip(sdk: CosS3Client) -> None:
    document = json.dumps({"a": {"b": [1, 2]}, "n": None, "ok": True}).encode()
    sdk.put_object(Bucket=BUCKET, Key="doc.json.gz", Body=gzip.compress(document))
    gzipped = {"CompressionType": "GZIP", "JSON": {"Type": "DOCUMENT"}}
    sql = "SELECT d.a.b, d.ok, d.n FROM COSObject d WHERE d.n IS NULL AND d.ok = TRUE"
    assert select(sdk, "doc.json.gz", sql, gzipped, {"JSON": {}}).get_select_result() == (
        b'{"b":[1,2],"ok":true,"n":null}\n'
    )


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT COUNT(*) FROM COSObject",
        "SELECT * FROM other",
        "SELECT * FROM COSObject WHERE name LIKE 'a%'",
        "SELECT age + 1 FROM COSObject",
        "SELECT * FROM COSObject LIMIT x",
        "DELETE FROM COSObject",
    ],
)
def test_select_refuses_sql_it_does_not_understand(sdk: CosS3Client, sql: str) -> None:
    sdk.put_object(Bucket=BUCKET, Key="people.csv", Body=PEOPLE)
    refused = refusal(select, sdk, "people.csv", sql, CSV_INPUT, {"CSV": {}})
    assert (refused.get_status_code(), refused.get_error_code()) == (400, "InvalidExpression")


def test_select_request_refusals(sdk: CosS3Client, store: ObjectStore) -> None:
    sdk.put_object(Bucket=BUCKET, Key="people.csv", Body=PEOPLE)
    parquet = {"CompressionType": "NONE", "Parquet": {}}
    assert refusal(select, sdk, "people.csv", "SELECT * FROM COSObject", parquet, {"CSV": {}}).get_status_code() == 400
    missing = refusal(select, sdk, "absent.csv", "SELECT * FROM COSObject", CSV_INPUT, {"CSV": {}})
    assert missing.get_error_code() == "NoSuchKey"
    sdk.put_object(Bucket=BUCKET, Key="cold.csv", Body=PEOPLE, StorageClass="ARCHIVE")
    cold = refusal(select, sdk, "cold.csv", "SELECT * FROM COSObject", CSV_INPUT, {"CSV": {}})
    assert cold.get_error_code() == "InvalidObjectState"
    wrong_type = refusal(raw_request, sdk, "POST", "people.csv", {"select": "", "select-type": "1"}, b"<x/>")
    assert wrong_type.get_error_code() == "InvalidArgument"


def test_select_bad_records_end_the_stream_with_an_error(sdk: CosS3Client) -> None:
    sdk.put_object(Bucket=BUCKET, Key="bad.json", Body=b'{"a": 1}\nnot json\n')
    stream = select(sdk, "bad.json", "SELECT * FROM COSObject", JSON_LINES, {"JSON": {}})
    try:
        refused = refusal(lambda: list(stream))
    finally:
        stream._rt.close()
    assert refused.get_error_code() == "InvalidJsonType"


def test_event_stream_messages_carry_valid_crcs() -> None:
    request = parse_request(
        b"<SelectRequest><Expression>SELECT * FROM COSObject</Expression><ExpressionType>SQL</ExpressionType>"
        b"<InputSerialization><CSV/></InputSerialization><OutputSerialization><CSV/></OutputSerialization>"
        b"</SelectRequest>"
    )
    for message in run_select(request, b"1,2\n3,4\n"):
        total, headers_length, prelude_crc = struct.unpack(">III", message[:12])
        assert total == len(message)
        assert prelude_crc == zlib.crc32(message[:8])
        assert struct.unpack(">I", message[-4:])[0] == zlib.crc32(message[:-4])
        assert headers_length < total
    assert event_message({":message-type": "event", ":event-type": "End"})[12:13] == bytes([len(":message-type")])


# -- CRC64 -----------------------------------------------------------------------------------------------


def test_crc64_header_matches_the_sdks_crc(sdk: CosS3Client, tmp_path: Any) -> None:
    reference = crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, xorOut=0xFFFFFFFFFFFFFFFF, rev=True)
    data = bytes(range(256)) * 4099
    assert crc64(b"123456789") == reference(b"123456789")
    sdk.put_object(Bucket=BUCKET, Key="crc.bin", Body=data)
    assert sdk.head_object(Bucket=BUCKET, Key="crc.bin")["x-cos-hash-crc64ecma"] == str(reference(data))
    got = sdk.get_object(Bucket=BUCKET, Key="crc.bin")
    assert got["Body"].get_raw_stream().read() == data
    assert got["x-cos-hash-crc64ecma"] == str(reference(data))
    sdk.download_file(Bucket=BUCKET, Key="crc.bin", DestFilePath=str(tmp_path / "crc.bin"), EnableCRC=True)
    assert (tmp_path / "crc.bin").read_bytes() == data
    sdk.put_object(Bucket=BUCKET, Key="crc.bin", Body=b"new")  # a replaced object is hashed again
    assert sdk.head_object(Bucket=BUCKET, Key="crc.bin")["x-cos-hash-crc64ecma"] == str(reference(b"new"))
