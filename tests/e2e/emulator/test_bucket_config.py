"""Bucket configuration APIs (``_bucket_config``) judged by the official SDK (cos-python-sdk-v5) over loopback.

Until ``CosApi`` routes the sub-resources itself, ``wired`` below does what the coordinator's wiring does: bucket
requests naming one of ``SUBRESOURCES`` go to ``BucketConfigApi``, object responses get ``cors_headers`` and
``OPTIONS`` is answered by ``preflight`` before the signature check. The last test goes through ``Emulator``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from qcloud_cos import CosConfig, CosS3Client
from qcloud_cos.cos_exception import CosServiceError
from starlette.requests import Request
from starlette.responses import Response

from ciflow_local.emulator import Emulator
from ciflow_local.emulator._app import DEFAULT_CREDENTIALS, EmulatorApp, Target
from ciflow_local.emulator._bucket_config import SUBRESOURCES, BucketConfigApi
from ciflow_local.emulator._cos import CosApi
from ciflow_local.emulator._storage import ObjectStore
from tests.e2e.emulator.conftest import BUCKET, REGION, serving

HOST = f"{BUCKET}.cos.{REGION}.myqcloud.com"


class WiredCos:
    """``CosApi`` with the bucket configuration API routed in, as ``_cos`` will do it."""

    def __init__(self, cos: CosApi, config: BucketConfigApi) -> None:
        self.cos, self.config = cos, config

    async def handle(self, request: Request, target: Target) -> Response:
        if not target.key and SUBRESOURCES.intersection(target.params):
            return await self.config.handle(request, target)
        response = await self.cos.handle(request, target)
        response.headers.update(self.config.cors_headers(request, target))
        return response


class WithPreflight:
    """``OPTIONS`` answered by ``preflight`` before authentication (browsers send no signature), as ``_app`` will."""

    def __init__(self, app: EmulatorApp, config: BucketConfigApi) -> None:
        self.app, self.config = app, config

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            request = Request(scope, receive)
            target = self.app._target(request)
            assert target is not None
            await self.config.preflight(request, target)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def sdk_client(url: str) -> CosS3Client:
    parts = urlsplit(url)
    config = CosConfig(
        Region=REGION,
        SecretId=DEFAULT_CREDENTIALS.secret_id,
        SecretKey=DEFAULT_CREDENTIALS.secret_key,
        Scheme="http",
        IP=parts.hostname,
        Port=parts.port,
    )
    return CosS3Client(config, retry=1)


@pytest.fixture
def config_api(tmp_path: Path) -> Iterator[BucketConfigApi]:
    api = BucketConfigApi(tmp_path / "config")
    yield api
    api.close()


@pytest.fixture
def url(store: ObjectStore, config_api: BucketConfigApi) -> Iterator[str]:
    app = EmulatorApp({"cos": WiredCos(CosApi(store), config_api)})
    with serving(WithPreflight(app, config_api)) as base:
        yield base


@pytest.fixture
def sdk(url: str) -> CosS3Client:
    return sdk_client(url)


def service_error(call: Any, **kwargs: Any) -> CosServiceError:
    with pytest.raises(CosServiceError) as caught:
        call(Bucket=BUCKET, **kwargs)
    return caught.value


# -- round trips through the SDK --------------------------------------------------------------------------------

CORS = {
    "CORSRule": [
        {
            "ID": "1234",
            "AllowedOrigin": ["http://www.qq.com"],
            "AllowedMethod": ["GET", "PUT"],
            "AllowedHeader": ["x-cos-meta-test"],
            "ExposeHeader": ["x-cos-meta-test1"],
            "MaxAgeSeconds": "500",
        }
    ]
}


def test_cors_put_get_delete(sdk: CosS3Client) -> None:
    assert service_error(sdk.get_bucket_cors).get_error_code() == "NoSuchCORSConfiguration"
    sdk.put_bucket_cors(Bucket=BUCKET, CORSConfiguration=CORS)
    assert sdk.get_bucket_cors(Bucket=BUCKET) == CORS
    sdk.delete_bucket_cors(Bucket=BUCKET)
    error = service_error(sdk.get_bucket_cors)
    assert (error.get_status_code(), error.get_error_code()) == (404, "NoSuchCORSConfiguration")


def test_lifecycle_round_trip_keeps_what_the_sdk_suite_puts(sdk: CosS3Client) -> None:
    lifecycle = {
        "Rule": [
            {
                "ID": "r1",
                "Status": "Enabled",
                "Filter": {"Tag": [{"Key": "datalevel", "Value": "backup"}]},
                "Transition": [{"Days": "30", "StorageClass": "STANDARD_IA"}],
                "Expiration": {"Days": "3650"},
            },
            {
                "ID": "r2",
                "Status": "Disabled",
                "Filter": {"Prefix": "tmp/"},
                "Expiration": {"Date": "2018-04-24T00:00:00+08:00"},
            },
        ]
    }
    sdk.put_bucket_lifecycle(Bucket=BUCKET, LifecycleConfiguration=lifecycle)
    assert sdk.get_bucket_lifecycle(Bucket=BUCKET) == lifecycle
    sdk.delete_bucket_lifecycle(Bucket=BUCKET)
    assert service_error(sdk.get_bucket_lifecycle).get_error_code() == "NoSuchLifecycleConfiguration"


def test_website_answers_the_url_redirect_cos_adds(sdk: CosS3Client) -> None:
    website = {
        "IndexDocument": {"Suffix": "index.html"},
        "ErrorDocument": {"Key": "error.html"},
        "RoutingRules": [
            {"Condition": {"HttpErrorCodeReturnedEquals": "404"}, "Redirect": {"ReplaceKeyWith": "404.html"}},
            {"Condition": {"KeyPrefixEquals": "aaa/"}, "Redirect": {"ReplaceKeyPrefixWith": "ccc/"}},
        ],
    }
    sdk.put_bucket_website(Bucket=BUCKET, WebsiteConfiguration=website)
    expected = json.loads(json.dumps(website))
    for rule in expected["RoutingRules"]:
        rule["Redirect"]["URLRedirect"] = "Enabled"
    assert sdk.get_bucket_website(Bucket=BUCKET) == expected
    sdk.delete_bucket_website(Bucket=BUCKET)
    assert service_error(sdk.get_bucket_website).get_error_code() == "NoSuchWebsiteConfiguration"


def test_tagging_referer_logging_and_policy(sdk: CosS3Client, config_api: BucketConfigApi) -> None:
    assert service_error(sdk.get_bucket_tagging).get_error_code() == "NoSuchTagSet"
    tagging = {"TagSet": {"Tag": [{"Key": "key0", "Value": "value0"}]}}
    sdk.put_bucket_tagging(Bucket=BUCKET, Tagging=tagging)
    assert sdk.get_bucket_tagging(Bucket=BUCKET) == tagging
    assert config_api.tagged_buckets("key0") == config_api.tagged_buckets("key0", "value0") == [BUCKET]
    assert config_api.tagged_buckets("key0", "other") == []
    sdk.delete_bucket_tagging(Bucket=BUCKET)
    assert service_error(sdk.get_bucket_tagging).get_error_code() == "NoSuchTagSet"

    referer = {
        "Status": "Enabled",
        "RefererType": "White-List",
        "EmptyReferConfiguration": "Allow",
        "DomainList": {"Domain": ["*.qq.com", "*.qcloud.com"]},
    }
    sdk.put_bucket_referer(Bucket=BUCKET, RefererConfiguration=referer)
    assert sdk.get_bucket_referer(Bucket=BUCKET) == referer
    sdk.delete_bucket_referer(Bucket=BUCKET)
    assert sdk.get_bucket_referer(Bucket=BUCKET) == {"RefererConfiguration": None}

    logging = {"LoggingEnabled": {"TargetBucket": "logs-1250000000", "TargetPrefix": "test"}}
    sdk.put_bucket_logging(Bucket=BUCKET, BucketLoggingStatus=logging)
    assert sdk.get_bucket_logging(Bucket=BUCKET) == logging

    policy = {
        "Statement": [
            {
                "Principal": {"qcs": ["qcs::cam::anyone:anyone"]},
                "Action": ["name/cos:GetObject", "name/cos:HeadObject"],
                "Effect": "allow",
                "Resource": [f"qcs::cos:{REGION}:uid/1250000000:{BUCKET}/*"],
            }
        ],
        "Version": "2.0",
    }
    assert service_error(sdk.get_bucket_policy).get_error_code() == "NoSuchBucketPolicy"
    sdk.put_bucket_policy(Bucket=BUCKET, Policy=policy)
    assert json.loads(sdk.get_bucket_policy(Bucket=BUCKET)["Policy"]) == policy
    sdk.delete_bucket_policy(Bucket=BUCKET)
    assert service_error(sdk.get_bucket_policy).get_status_code() == 404
    error = service_error(sdk.put_bucket_policy, Policy={"Statement": []})
    assert (error.get_status_code(), error.get_error_code()) == (400, "MalformedPolicy")


INVENTORY = {
    "Destination": {
        "COSBucketDestination": {
            "AccountId": "2832742109",
            "Bucket": f"qcs::cos:{REGION}::{BUCKET}",
            "Format": "CSV",
            "Prefix": "list1",
            "Encryption": {"SSECOS": None},
        }
    },
    "IsEnabled": "True",
    "Filter": {"Prefix": "filterPrefix"},
    "IncludedObjectVersions": "All",
    "OptionalFields": {"Field": ["Size", "LastModifiedDate", "ETag"]},
    "Schedule": {"Frequency": "Daily"},
}


def test_inventory_by_id_and_listed_in_creation_order(sdk: CosS3Client) -> None:
    assert service_error(sdk.get_bucket_inventory, Id="test").get_error_code() == "NoSuchInventoryConfiguration"
    sdk.put_bucket_inventory(Bucket=BUCKET, Id="test", InventoryConfiguration=INVENTORY)
    assert sdk.get_bucket_inventory(Bucket=BUCKET, Id="test") == {"Id": "test", **INVENTORY}
    sdk.delete_bucket_inventory(Bucket=BUCKET, Id="test")
    sdk.delete_bucket_inventory(Bucket=BUCKET, Id="test")  # absent: still 204
    for number in range(150):
        sdk.put_bucket_inventory(Bucket=BUCKET, Id=f"ID-{number}", InventoryConfiguration=INVENTORY)
    seen, token = [], ""
    while True:
        page = sdk.list_bucket_inventory_configurations(Bucket=BUCKET, ContinuationToken=token)
        seen += [conf["Id"] for conf in page["InventoryConfiguration"]]
        if page["IsTruncated"] == "false":
            break
        token = page["NextContinuationToken"]
    assert seen == [f"ID-{number}" for number in range(150)]
    error = service_error(sdk.post_bucket_inventory, Id="ID-1", InventoryConfiguration=INVENTORY)
    assert (error.get_status_code(), error.get_error_code()) == (409, "DuplicateInventoryId")


def test_encryption_object_lock_domain_replication_origin_tiering(sdk: CosS3Client) -> None:
    assert service_error(sdk.get_bucket_encryption).get_error_code() == "NoSuchEncryptionConfiguration"
    # The SDK's own suite PUTs a misspelt rule and reads AES256 back from COS.
    sdk.put_bucket_encryption(BUCKET, {"Rule": [{"ApplySideEncryptionConfiguration": {"SSEAlgorithm": "AES256"}}]})
    rule = sdk.get_bucket_encryption(BUCKET)["Rule"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    sdk.delete_bucket_encryption(BUCKET)

    sdk.put_bucket_object_lock(Bucket=BUCKET, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    assert sdk.get_bucket_object_lock(Bucket=BUCKET)["ObjectLockEnabled"] == "Enabled"

    domain = {"DomainRule": [{"Name": "tiedu-gz.coshelper.com", "Type": "REST", "Status": "ENABLED"}]}
    assert service_error(sdk.get_bucket_domain).get_error_code() == "DomainConfigNotFoundError"
    sdk.put_bucket_domain(Bucket=BUCKET, DomainConfiguration=domain)
    assert sdk.get_bucket_domain(Bucket=BUCKET)["DomainRule"] == domain["DomainRule"]
    sdk.put_bucket_domain(Bucket=BUCKET, DomainConfiguration=domain)  # its own domain again: fine
    with pytest.raises(CosServiceError) as taken:
        sdk.put_bucket_domain(Bucket="other-1250000000", DomainConfiguration=domain)
    assert (taken.value.get_status_code(), taken.value.get_error_code()) == (409, "RecordAlreadyExist")
    sdk.delete_bucket_domain(Bucket=BUCKET)

    replication = {
        "Role": "qcs::cam::uin/2779643970:uin/2779643970",
        "Rule": [
            {
                "ID": "123",
                "Status": "Enabled",
                "Prefix": "中文",
                "Destination": {"Bucket": "qcs::cos:ap-shanghai::replicationsh-1250000000", "StorageClass": "Standard"},
            }
        ],
    }
    assert service_error(sdk.get_bucket_replication).get_error_code() == "ReplicationConfigurationnotFoundError"
    sdk.put_bucket_replication(Bucket=BUCKET, ReplicationConfiguration=replication)
    assert sdk.get_bucket_replication(Bucket=BUCKET) == replication
    sdk.delete_bucket_replication(Bucket=BUCKET)

    origin = {
        "OriginRule": [
            {
                "RulePriority": "1",
                "OriginType": "Mirror",
                "OriginCondition": {"HTTPStatusCode": "404"},
                "OriginParameter": {"Protocol": "HTTP"},
                "OriginInfo": {"HostInfo": {"HostName": "examplebucket-1250000000.cos.ap-shanghai.myqcloud.com"}},
            }
        ]
    }
    sdk.put_bucket_origin(Bucket=BUCKET, OriginConfiguration=origin)
    assert sdk.get_bucket_origin(Bucket=BUCKET) == origin
    sdk.delete_bucket_origin(Bucket=BUCKET)

    assert sdk.get_bucket_intelligenttiering(Bucket=BUCKET) == {"IntelligentTieringConfiguration": None}
    tiering = {"Status": "Enabled", "Transition": {"Days": "30", "RequestFrequent": "1"}}
    sdk.put_bucket_intelligenttiering(Bucket=BUCKET, IntelligentTieringConfiguration=tiering)
    assert sdk.get_bucket_intelligenttiering(Bucket=BUCKET) == tiering
    changed = {"Status": "Enabled", "Transition": {"Days": "60", "RequestFrequent": "1"}}
    error = service_error(sdk.put_bucket_intelligenttiering, IntelligentTieringConfiguration=changed)
    assert error.get_error_msg() == "Not support modify intelligent tiering configuration"
    # The v2 API shows the v1 configuration as its "default" rule, which it cannot change.
    default = {
        "Id": "default",
        "Status": "Enabled",
        "Tiering": {"AccessTier": "INFREQUENT", "Days": "30", "RequestFrequent": "1"},
    }
    assert sdk.get_bucket_intelligenttiering_v2(Bucket=BUCKET, Id="default") == default
    assert (
        sdk.list_bucket_intelligenttiering_configurations(Bucket=BUCKET)["IntelligentTieringConfiguration"] == default
    )
    error = service_error(sdk.put_bucket_intelligenttiering_v2, IntelligentTieringConfiguration=default, Id="default")
    assert error.get_error_msg() == "The default rule cannot be modified"


def test_intelligent_tiering_by_id(sdk: CosS3Client) -> None:
    error = service_error(sdk.get_bucket_intelligenttiering_v2, Id="archive")
    assert (error.get_status_code(), error.get_error_code()) == (404, "NoSuchConfiguration")
    rules = {"Status": "Enabled", "Tiering": [{"AccessTier": "INFREQUENT", "Days": "30", "RequestFrequent": "1"}]}
    sdk.put_bucket_intelligenttiering_v2(Bucket=BUCKET, IntelligentTieringConfiguration=rules, Id="archive")
    sdk.put_bucket_intelligenttiering_v2(Bucket=BUCKET, IntelligentTieringConfiguration=rules, Id="other")
    got = sdk.get_bucket_intelligenttiering_v2(Bucket=BUCKET, Id="archive")
    assert got == {"Id": "archive", "Status": "Enabled", "Tiering": rules["Tiering"][0]}
    listed = sdk.list_bucket_intelligenttiering_configurations(Bucket=BUCKET)
    assert [conf["Id"] for conf in listed["IntelligentTieringConfiguration"]] == ["archive", "other"]
    assert sdk.get_bucket_intelligenttiering(Bucket=BUCKET) == {"IntelligentTieringConfiguration": None}


# -- ACL --------------------------------------------------------------------------------------------------------

OWNER = "qcs::cam::uin/1250000000:uin/1250000000"


def test_acl_defaults_to_private_and_follows_canned_acls_and_grant_headers(sdk: CosS3Client) -> None:
    acl = sdk.get_bucket_acl(Bucket=BUCKET)
    assert acl["CannedACL"] == "private"
    assert acl["Owner"] == {"ID": OWNER, "DisplayName": OWNER}
    assert acl["AccessControlList"]["Grant"] == [
        {"Grantee": {"Type": "CanonicalUser", "ID": OWNER, "DisplayName": OWNER}, "Permission": "FULL_CONTROL"}
    ]
    sdk.put_bucket_acl(Bucket=BUCKET, ACL="public-read")
    assert sdk.get_bucket_acl(Bucket=BUCKET)["CannedACL"] == "public-read"
    sdk.put_bucket_acl(Bucket=BUCKET, ACL="public-read-write")
    assert sdk.get_bucket_acl(Bucket=BUCKET)["CannedACL"] == "public-read-write"
    user = "qcs::cam::uin/123:uin/456"
    sdk.put_bucket_acl(Bucket=BUCKET, ACL="private", GrantRead=f'id="{user}",id="qcs::cam::uin/123:uin/123"')
    grants = sdk.get_bucket_acl(Bucket=BUCKET)["AccessControlList"]["Grant"]
    assert [(grant["Grantee"].get("ID"), grant["Permission"]) for grant in grants] == [
        (OWNER, "FULL_CONTROL"),
        (user, "READ"),
        ("qcs::cam::uin/123:uin/123", "READ"),
    ]
    error = service_error(sdk.put_bucket_acl, ACL="public-read-writ")
    assert (error.get_status_code(), error.get_error_code()) == (400, "InvalidArgument")


def test_acl_from_an_access_control_policy_body(sdk: CosS3Client) -> None:
    grantee = "qcs::cam::uin/100000000002:uin/100000000002"
    policy: dict[str, Any] = {
        "AccessControlList": {
            "Grant": [
                {"Grantee": {"DisplayName": grantee, "Type": "CanonicalUser", "ID": grantee}, "Permission": "WRITE"},
                {
                    "Grantee": {"Type": "Group", "URI": "http://cam.qcloud.com/groups/global/AllUsers"},
                    "Permission": "READ",
                },
            ]
        },
        "Owner": {"DisplayName": OWNER, "ID": OWNER},
    }
    sdk.put_bucket_acl(Bucket=BUCKET, AccessControlPolicy=policy)
    acl = sdk.get_bucket_acl(Bucket=BUCKET)
    assert acl["AccessControlList"]["Grant"] == policy["AccessControlList"]["Grant"]
    assert acl["Owner"] == policy["Owner"]
    assert acl["CannedACL"] == "public-read"
    # Headers and a body at once are refused (the SDK suite's "illegal" case).
    error = service_error(sdk.put_bucket_acl, ACL="private", AccessControlPolicy=policy)
    assert error.get_status_code() == 400


# -- refusals: garbage, hostile XML, digests, methods ------------------------------------------------------------


def signed(url: str) -> httpx.Client:
    """A raw client with the COS signature (to send bodies the SDK never would)."""
    from ciflow.signing import cos_authorization

    def sign(request: httpx.Request) -> None:
        now = int(time.time())
        key_time = f"{now - 60};{now + 600}"
        params = list(httpx.QueryParams(request.url.query).multi_items())
        request.headers["Authorization"] = cos_authorization(
            DEFAULT_CREDENTIALS, request.method, request.url.path, params, [], key_time
        )

    return httpx.Client(base_url=url, headers={"Host": HOST}, event_hooks={"request": [sign]})


HOSTILE = [
    b"not xml at all",
    b"<CORSConfiguration><CORSRule>",
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
    b"<CORSConfiguration><CORSRule><AllowedOrigin>&b;</AllowedOrigin></CORSRule></CORSConfiguration>",
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><CORSConfiguration>&x;'
    b"</CORSConfiguration>",
    b"<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>",  # the wrong root
    b"<CORSConfiguration>" + b"<a>" * 200 + b"</a>" * 200 + b"</CORSConfiguration>",
    b"<CORSConfiguration></CORSConfiguration>",
]


@pytest.mark.parametrize("body", HOSTILE)
def test_garbage_and_hostile_bodies_are_malformed_xml(url: str, body: bytes) -> None:
    with signed(url) as client:
        answer = client.put("/", params={"cors": ""}, content=body)
        assert answer.status_code == 400
        assert b"<Code>MalformedXML</Code>" in answer.content
        assert client.get("/", params={"cors": ""}).status_code == 404


def test_content_md5_is_checked_and_unknown_methods_refused(url: str) -> None:
    body = b"<AccelerateConfiguration><Status>Enabled</Status></AccelerateConfiguration>"
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with signed(url) as client:
        answer = client.put("/", params={"accelerate": ""}, content=body, headers={"Content-MD5": wrong})
        assert (answer.status_code, b"<Code>BadDigest</Code>" in answer.content) == (400, True)
        assert b"<AccelerateConfiguration></AccelerateConfiguration>" in client.get("/?accelerate").content
        assert client.put("/", params={"accelerate": ""}, content=body).status_code == 200
        assert b"<Status>Enabled</Status><Type>COS</Type>" in client.get("/", params={"accelerate": ""}).content
        refused = client.delete("/", params={"accelerate": ""})
        assert (refused.status_code, b"MethodNotAllowed" in refused.content) == (405, True)
        bad_tags = b"<Tagging><TagSet><Tag><Key>k</Key><Value>1</Value></Tag><Tag><Key>k</Key><Value>2</Value></Tag>"
        answer = client.put("/", params={"tagging": ""}, content=bad_tags + b"</TagSet></Tagging>")
        assert (answer.status_code, b"<Code>InvalidTag</Code>" in answer.content) == (400, True)


def test_configurations_survive_a_restart(tmp_path: Path, store: ObjectStore) -> None:
    api = BucketConfigApi(tmp_path / "config")
    with serving(EmulatorApp({"cos": WiredCos(CosApi(store), api)})) as base:
        sdk_client(base).put_bucket_cors(Bucket=BUCKET, CORSConfiguration=CORS)
    api.close()
    again = BucketConfigApi(tmp_path / "config")
    with serving(EmulatorApp({"cos": WiredCos(CosApi(store), again)})) as base:
        assert sdk_client(base).get_bucket_cors(Bucket=BUCKET) == CORS
    again.close()


# -- enforcement: CORS and lifecycle expiry ----------------------------------------------------------------------


def test_cors_preflight_and_actual_request_headers(url: str, sdk: CosS3Client, store: ObjectStore) -> None:
    preflight = {"Host": HOST, "Origin": "http://www.qq.com", "Access-Control-Request-Method": "PUT"}
    with httpx.Client(base_url=url) as raw:
        assert raw.options("/any/key.txt", headers=preflight).status_code == 403  # no CORS rules yet
        sdk.put_bucket_cors(Bucket=BUCKET, CORSConfiguration=CORS)
        allowed = raw.options(
            "/any/key.txt", headers={**preflight, "Access-Control-Request-Headers": "X-Cos-Meta-Test"}
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "http://www.qq.com"
        assert allowed.headers["access-control-allow-methods"] == "GET,PUT"
        assert allowed.headers["access-control-allow-headers"] == "X-Cos-Meta-Test"
        assert allowed.headers["access-control-max-age"] == "500"
        assert allowed.headers["access-control-expose-headers"] == "x-cos-meta-test1"
        for refused in (
            {**preflight, "Origin": "http://evil.example"},
            {**preflight, "Access-Control-Request-Method": "DELETE"},
            {**preflight, "Access-Control-Request-Headers": "x-other"},
        ):
            answer = raw.options("/any/key.txt", headers=refused)
            assert (answer.status_code, b"AccessForbidden" in answer.content) == (403, True)
        assert raw.options("/k", headers={"Host": HOST}).status_code == 400
    store.put_bytes(BUCKET, "page.html", b"<p>hi</p>")
    with signed(url) as client:
        answer = client.get("/page.html", headers={"Origin": "http://www.qq.com"})
        assert answer.headers["access-control-allow-origin"] == "http://www.qq.com"
        assert answer.headers["access-control-expose-headers"] == "x-cos-meta-test1"
        assert "access-control-allow-origin" not in client.get("/page.html", headers={"Origin": "http://x.org"}).headers
        assert "access-control-allow-origin" not in client.get("/page.html").headers


def test_apply_lifecycle_deletes_what_is_due(config_api: BucketConfigApi, store: ObjectStore, sdk: CosS3Client) -> None:
    for key in ("tmp/a", "tmp/b", "keep/c", "logs/big", "logs/small"):
        store.put_bytes(BUCKET, key, b"x" * (2048 if key == "logs/big" else 10))
    written = store.head(BUCKET, "tmp/a")
    assert written is not None
    lifecycle = {
        "Rule": [
            {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": "1"}},
            {"ID": "off", "Status": "Disabled", "Filter": {"Prefix": "keep/"}, "Expiration": {"Days": "1"}},
            {
                "ID": "tag",
                "Status": "Enabled",
                "Filter": {"Tag": {"Key": "a", "Value": "b"}},
                "Expiration": {"Days": "1"},
            },
            {
                "ID": "big",
                "Status": "Enabled",
                "Filter": {"And": {"Prefix": "logs/", "ObjectSizeGreaterThan": "1024"}},
                "Expiration": {"Days": "2"},
            },
        ]
    }
    assert config_api.apply_lifecycle(store, BUCKET, time.time() + 10 * 86400) == []  # no lifecycle yet
    sdk.put_bucket_lifecycle(Bucket=BUCKET, LifecycleConfiguration=lifecycle)
    midnight_after_a_day = (int(written.last_modified + 86400) // 86400 + 1) * 86400
    assert config_api.expired_keys(store, BUCKET, midnight_after_a_day - 1) == []
    assert config_api.expired_keys(store, BUCKET, midnight_after_a_day) == ["tmp/a", "tmp/b"]
    assert config_api.apply_lifecycle(store, BUCKET, midnight_after_a_day + 86400) == ["logs/big", "tmp/a", "tmp/b"]
    assert [stored.key for stored in store.list(BUCKET)] == ["keep/c", "logs/small"]
    store.put_bytes(BUCKET, "tmp/again", b"x")
    assert config_api.apply_all_lifecycles(store, time.time() + 3 * 86400) == {BUCKET: ["tmp/again"]}
    config_api.forget_bucket(BUCKET)
    assert config_api.lifecycle(BUCKET) is None
    assert service_error(sdk.get_bucket_lifecycle).get_error_code() == "NoSuchLifecycleConfiguration"


# -- through the whole Emulator (passes once _cos.py routes SUBRESOURCES to BucketConfigApi) ---------------------


def test_emulator_serves_bucket_configuration_to_the_sdk(tmp_path: Path) -> None:
    with Emulator(tmp_path / "emu") as emulator:
        sdk = sdk_client(emulator.url)
        sdk.put_bucket_cors(Bucket=BUCKET, CORSConfiguration=CORS)
        assert sdk.get_bucket_cors(Bucket=BUCKET) == CORS
        tagging = {"TagSet": {"Tag": [{"Key": "key0", "Value": "value0"}]}}
        sdk.put_bucket_tagging(Bucket=BUCKET, Tagging=tagging)
        assert sdk.get_bucket_tagging(Bucket=BUCKET) == tagging
        sdk.put_bucket_acl(Bucket=BUCKET, ACL="public-read")
        assert sdk.get_bucket_acl(Bucket=BUCKET)["CannedACL"] == "public-read"
        sdk.delete_bucket_cors(Bucket=BUCKET)
        assert service_error(sdk.get_bucket_cors).get_error_code() == "NoSuchCORSConfiguration"
        sdk.put_object(Bucket=BUCKET, Key="k.txt", Body=b"x")  # object calls still reach CosApi
        assert sdk.get_object(Bucket=BUCKET, Key="k.txt")["Body"].get_raw_stream().read() == b"x"


def test_emulator_answers_cors_preflight_and_actual_requests(tmp_path: Path) -> None:
    """``OPTIONS`` answered by the stored rules (unauthenticated, as COS); object answers carry the CORS headers."""
    with Emulator(tmp_path / "emu") as emulator:
        sdk = sdk_client(emulator.url)
        sdk.put_bucket_cors(Bucket=BUCKET, CORSConfiguration=CORS)
        sdk.put_object(Bucket=BUCKET, Key="page.html", Body=b"<p>hi</p>")
        asked = {"Host": HOST, "Origin": "http://www.qq.com", "Access-Control-Request-Method": "PUT"}
        preflight = httpx.options(f"{emulator.url}/page.html", headers=asked)
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-methods"] == "GET,PUT"
        refused = httpx.options(f"{emulator.url}/page.html", headers={**asked, "Origin": "http://evil.example"})
        assert refused.status_code == 403
        with signed(emulator.url) as client:
            actual = client.get("/page.html", headers={"Origin": "http://www.qq.com"})
        assert actual.headers["access-control-allow-origin"] == "http://www.qq.com"


def test_emulator_filters_get_service_by_tag_forgets_a_deleted_buckets_configuration_and_expires_on_demand(
    tmp_path: Path,
) -> None:
    with Emulator(tmp_path / "emu") as emulator:
        sdk = sdk_client(emulator.url)
        # GetService goes to service.cos.myqcloud.com whatever IP says: through the emulator as an HTTP proxy.
        service = CosS3Client(
            CosConfig(
                Region=REGION,
                SecretId=DEFAULT_CREDENTIALS.secret_id,
                SecretKey=DEFAULT_CREDENTIALS.secret_key,
                Scheme="http",
                Proxies={"http": emulator.url},
            ),
            retry=1,
        )
        other = "other-1250000000"
        sdk.create_bucket(Bucket=other)
        sdk.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": {"Tag": [{"Key": "team", "Value": "media"}]}})
        sdk.put_bucket_tagging(Bucket=other, Tagging={"TagSet": {"Tag": [{"Key": "team", "Value": "web"}]}})
        listed = service.list_buckets(TagKey="team", TagValue="media")["Buckets"]["Bucket"]
        names = [entry["Name"] for entry in (listed if isinstance(listed, list) else [listed])]
        assert names == [BUCKET]

        sdk.delete_bucket(Bucket=other)
        sdk.create_bucket(Bucket=other)
        with pytest.raises(CosServiceError) as gone:
            sdk.get_bucket_tagging(Bucket=other)
        assert gone.value.get_error_code() == "NoSuchTagSet"  # the deleted bucket's tags went with it

        rule = {"ID": "tmp", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled", "Expiration": {"Days": "1"}}
        sdk.put_bucket_lifecycle(Bucket=BUCKET, LifecycleConfiguration={"Rule": [rule]})
        sdk.put_object(Bucket=BUCKET, Key="tmp/old.bin", Body=b"x")
        sdk.put_object(Bucket=BUCKET, Key="keep/old.bin", Body=b"x")
        assert emulator.apply_lifecycle() == {BUCKET: []}  # not due yet
        assert emulator.apply_lifecycle(time.time() + 3 * 86400) == {BUCKET: ["tmp/old.bin"]}
        assert service_error(sdk.head_object, Key="tmp/old.bin").get_status_code() == 404
        assert sdk.head_object(Bucket=BUCKET, Key="keep/old.bin")["Content-Length"] == "1"
