"""Bucket calls through the official SDK: the service listing, create/head/delete, and bucket configurations."""

import json
from typing import Any

import pytest
from qcloud_cos import CosServiceError

from .conftest import REGION

OWN = "conformance-buckets-1250000000"


@pytest.fixture(scope="module")
def bucket(sdk: Any) -> str:
    sdk.create_bucket(Bucket=OWN)
    return OWN


def test_create_head_list_delete_bucket(sdk: Any) -> None:
    name = "conformance-made-1250000000"
    sdk.create_bucket(Bucket=name)
    head = sdk.head_bucket(Bucket=name)
    assert head["x-cos-bucket-region"] == REGION
    assert sdk.bucket_exists(Bucket=name) is True

    listed = sdk.list_buckets()
    buckets = listed["Buckets"]["Bucket"]
    entry = next(item for item in (buckets if isinstance(buckets, list) else [buckets]) if item["Name"] == name)
    assert entry["Location"] == REGION
    assert entry["CreationDate"].endswith("Z")

    with pytest.raises(CosServiceError) as again:
        sdk.create_bucket(Bucket=name)
    assert again.value.get_status_code() == 409
    assert again.value.get_error_code() == "BucketAlreadyOwnedByYou"

    sdk.delete_bucket(Bucket=name)
    assert sdk.bucket_exists(Bucket=name) is False
    with pytest.raises(CosServiceError) as gone:
        sdk.delete_bucket(Bucket=name)
    assert gone.value.get_error_code() == "NoSuchBucket"


def test_delete_bucket_not_empty_is_refused(sdk: Any) -> None:
    name = "conformance-full-1250000000"
    sdk.create_bucket(Bucket=name)
    sdk.put_object(Bucket=name, Key="keep.txt", Body=b"x")
    with pytest.raises(CosServiceError) as refused:
        sdk.delete_bucket(Bucket=name)
    assert refused.value.get_status_code() == 409
    assert refused.value.get_error_code() == "BucketNotEmpty"


def test_bucket_acl(sdk: Any, bucket: str) -> None:
    sdk.put_bucket_acl(Bucket=bucket, ACL="public-read")
    acl = sdk.get_bucket_acl(Bucket=bucket)
    grants = acl["AccessControlList"]["Grant"]
    permissions = {grant["Permission"] for grant in (grants if isinstance(grants, list) else [grants])}
    assert "READ" in permissions
    assert acl["Owner"]["ID"].startswith("qcs::cam::uin/")


def test_bucket_cors(sdk: Any, bucket: str) -> None:
    rule = {
        "ID": "web",
        "AllowedOrigin": ["https://example.com"],
        "AllowedMethod": ["GET", "PUT"],
        "MaxAgeSeconds": "60",
    }
    sdk.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRule": [rule]})
    got = sdk.get_bucket_cors(Bucket=bucket)
    assert got["CORSRule"][0]["ID"] == "web"
    assert got["CORSRule"][0]["AllowedMethod"] == ["GET", "PUT"]
    assert got["CORSRule"][0]["AllowedOrigin"] == ["https://example.com"]
    sdk.delete_bucket_cors(Bucket=bucket)
    with pytest.raises(CosServiceError) as gone:
        sdk.get_bucket_cors(Bucket=bucket)
    assert gone.value.get_error_code() == "NoSuchCORSConfiguration"


def test_bucket_lifecycle(sdk: Any, bucket: str) -> None:
    rule = {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": "3"}}
    sdk.put_bucket_lifecycle(Bucket=bucket, LifecycleConfiguration={"Rule": [rule]})
    got = sdk.get_bucket_lifecycle(Bucket=bucket)
    assert got["Rule"][0]["ID"] == "tmp"
    assert got["Rule"][0]["Filter"]["Prefix"] == "tmp/"
    assert got["Rule"][0]["Expiration"]["Days"] == "3"
    sdk.delete_bucket_lifecycle(Bucket=bucket)
    with pytest.raises(CosServiceError) as gone:
        sdk.get_bucket_lifecycle(Bucket=bucket)
    assert gone.value.get_error_code() == "NoSuchLifecycleConfiguration"


def test_bucket_tagging(sdk: Any, bucket: str) -> None:
    tags = {"TagSet": {"Tag": [{"Key": "team", "Value": "media"}, {"Key": "env", "Value": "local"}]}}
    sdk.put_bucket_tagging(Bucket=bucket, Tagging=tags)
    got = sdk.get_bucket_tagging(Bucket=bucket)
    assert {tag["Key"]: tag["Value"] for tag in got["TagSet"]["Tag"]} == {"team": "media", "env": "local"}
    sdk.delete_bucket_tagging(Bucket=bucket)
    with pytest.raises(CosServiceError) as gone:
        sdk.get_bucket_tagging(Bucket=bucket)
    assert gone.value.get_status_code() == 404


def test_bucket_referer(sdk: Any, bucket: str) -> None:
    config = {"Status": "Enabled", "RefererType": "White-List", "DomainList": {"Domain": ["*.example.com"]}}
    sdk.put_bucket_referer(Bucket=bucket, RefererConfiguration=config)
    got = sdk.get_bucket_referer(Bucket=bucket)
    assert got["Status"] == "Enabled"
    assert got["RefererType"] == "White-List"
    assert got["DomainList"]["Domain"] == ["*.example.com"]


def test_bucket_website(sdk: Any, bucket: str) -> None:
    sdk.put_bucket_website(Bucket=bucket, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    assert sdk.get_bucket_website(Bucket=bucket)["IndexDocument"]["Suffix"] == "index.html"
    sdk.delete_bucket_website(Bucket=bucket)
    with pytest.raises(CosServiceError) as gone:
        sdk.get_bucket_website(Bucket=bucket)
    assert gone.value.get_status_code() == 404


def test_bucket_policy(sdk: Any, bucket: str) -> None:
    policy = {
        "version": "2.0",
        "Statement": [
            {
                "Principal": {"qcs": ["qcs::cam::anyone:anyone"]},
                "Effect": "allow",
                "Action": ["name/cos:GetObject"],
                "Resource": [f"qcs::cos:{REGION}:uid/1250000000:{bucket}/public/*"],
            }
        ],
    }
    sdk.put_bucket_policy(Bucket=bucket, Policy=policy)
    got = json.loads(sdk.get_bucket_policy(Bucket=bucket)["Policy"])
    assert got["Statement"][0]["Action"] == ["name/cos:GetObject"]
    sdk.delete_bucket_policy(Bucket=bucket)
    with pytest.raises(CosServiceError) as gone:
        sdk.get_bucket_policy(Bucket=bucket)
    assert gone.value.get_status_code() == 404


def test_bucket_encryption(sdk: Any, bucket: str) -> None:
    rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    sdk.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rule": [rule]})
    got = sdk.get_bucket_encryption(Bucket=bucket)
    assert got["Rule"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    sdk.delete_bucket_encryption(Bucket=bucket)


def test_bucket_logging(sdk: Any, bucket: str) -> None:
    status = {"LoggingEnabled": {"TargetBucket": bucket, "TargetPrefix": "logs/"}}
    sdk.put_bucket_logging(Bucket=bucket, BucketLoggingStatus=status)
    got = sdk.get_bucket_logging(Bucket=bucket)
    assert got["LoggingEnabled"] == {"TargetBucket": bucket, "TargetPrefix": "logs/"}


def test_bucket_inventory(sdk: Any, bucket: str) -> None:
    config = {
        "Destination": {
            "COSBucketDestination": {
                "Bucket": f"qcs::cos:{REGION}::{bucket}",
                "Format": "CSV",
                "Prefix": "inventory",
            }
        },
        "IsEnabled": "True",
        "Filter": {"Prefix": "media/"},
        "IncludedObjectVersions": "Current",
        "OptionalFields": {"Field": ["Size", "ETag"]},
        "Schedule": {"Frequency": "Weekly"},
    }
    sdk.put_bucket_inventory(Bucket=bucket, Id="weekly", InventoryConfiguration=config)
    got = sdk.get_bucket_inventory(Bucket=bucket, Id="weekly")
    assert got["Id"] == "weekly"
    assert got["Schedule"]["Frequency"] == "Weekly"
    assert got["Filter"]["Prefix"] == "media/"
    assert got["OptionalFields"]["Field"] == ["Size", "ETag"]
    sdk.delete_bucket_inventory(Bucket=bucket, Id="weekly")
    with pytest.raises(CosServiceError) as gone:
        sdk.get_bucket_inventory(Bucket=bucket, Id="weekly")
    assert gone.value.get_status_code() == 404


def test_bucket_object_lock(sdk: Any) -> None:
    name = "conformance-worm-1250000000"
    sdk.create_bucket(Bucket=name)
    sdk.put_bucket_object_lock(Bucket=name, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    assert sdk.get_bucket_object_lock(Bucket=name)["ObjectLockEnabled"] == "Enabled"


def test_bucket_location(sdk: Any, bucket: str) -> None:
    """``GET /?location``: the region the bucket's host names."""
    assert sdk.get_bucket_location(Bucket=bucket) == {"LocationConstraint": "ap-guangzhou"}


def test_list_buckets_filters(sdk: Any) -> None:
    tagged, plain = "conformance-tagged-1250000000", "conformance-plain-1250000000"
    sdk.create_bucket(Bucket=tagged)
    sdk.create_bucket(Bucket=plain)
    sdk.put_bucket_tagging(Bucket=tagged, Tagging={"TagSet": {"Tag": [{"Key": "team", "Value": "video"}]}})
    listed = sdk.list_buckets(TagKey="team", TagValue="video")
    buckets = listed["Buckets"]["Bucket"]
    assert [item["Name"] for item in (buckets if isinstance(buckets, list) else [buckets])] == [tagged]
    elsewhere = sdk.list_buckets(Region="ap-beijing")
    assert not (elsewhere.get("Buckets") or {}).get("Bucket")
    here = sdk.list_buckets(Region=REGION)["Buckets"]["Bucket"]
    assert {tagged, plain} <= {item["Name"] for item in (here if isinstance(here, list) else [here])}
