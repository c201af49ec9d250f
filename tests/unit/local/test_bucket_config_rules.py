"""The bucket configuration checkers, CORS matching and lifecycle expiry, without HTTP."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from ciflow_local.emulator._bucket_config_acl import acl_from_body, acl_from_headers, check_policy
from ciflow_local.emulator._bucket_config_enforce import cors_rule, expired_keys, expiry_time
from ciflow_local.emulator._bucket_config_rules import KINDS
from ciflow_local.emulator._bucket_config_tree import ConfigRefusedError, parse_time

BUCKET = "examplebucket-1250000000"
DAY = 86400


@dataclass(frozen=True)
class Obj:
    key: str
    size: int
    last_modified: float


def refused(kind: str, tree: dict[str, object], item_id: str = "") -> ConfigRefusedError:
    with pytest.raises(ConfigRefusedError) as caught:
        KINDS[kind].check(tree, BUCKET, item_id)
    return caught.value


def test_expiry_days_round_up_to_the_next_midnight_utc() -> None:
    rule = {"Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": "1"}}
    assert expiry_time(rule, 10 * DAY + 5) == 12 * DAY
    assert expiry_time(rule, 10 * DAY) == 11 * DAY
    assert expiry_time({**rule, "Status": "Disabled"}, 0) is None
    dated = {"Status": "Enabled", "Expiration": {"Date": "2018-04-24T00:00:00+08:00"}}
    assert expiry_time(dated, 0) == parse_time("2018-04-23T16:00:00Z")


def test_expired_keys_filter_by_prefix_size_and_tags() -> None:
    config = {
        "Rule": [
            {"Status": "Enabled", "Prefix": "old/", "Expiration": {"Days": "1"}},  # the legacy form
            {"Status": "Enabled", "Filter": {"And": {"Prefix": "", "Tag": {"Key": "a"}}}, "Expiration": {"Days": "1"}},
            {
                "Status": "Enabled",
                "Filter": {"ObjectSizeLessThan": "100"},
                "Expiration": {"Date": "1970-01-05T00:00:00Z"},
            },
        ]
    }
    objects = [Obj("old/a", 1000, 0), Obj("new/b", 1000, 0), Obj("new/tiny", 5, 0)]
    assert expired_keys(config, objects, 2 * DAY) == ["old/a"]
    assert expired_keys(config, objects, 4 * DAY) == ["old/a", "new/tiny"]


def test_cors_rule_matching() -> None:
    config = {
        "CORSRule": [
            {"AllowedOrigin": "https://*.example.com", "AllowedMethod": "GET", "AllowedHeader": "x-cos-*"},
            {"AllowedOrigin": ["*"], "AllowedMethod": ["PUT", "POST"]},
        ]
    }
    assert cors_rule(config, "https://a.example.com", "GET", ["X-Cos-Meta-A"]) is config["CORSRule"][0]
    assert cors_rule(config, "https://a.example.com", "GET", ["range"]) is None
    assert cors_rule(config, "http://anywhere", "PUT") is config["CORSRule"][1]
    assert cors_rule(config, "http://anywhere", "DELETE") is None


def test_checkers_refuse_what_cos_refuses() -> None:
    assert refused("cors", {"CORSRule": {"AllowedOrigin": "*", "AllowedMethod": "PATCH"}}).code == "InvalidArgument"
    assert refused("cors", {"CORSRule": {"AllowedMethod": "GET"}}).code == "MalformedXML"
    assert refused("lifecycle", {"Rule": {"Status": "On", "Filter": "", "Expiration": {"Days": "1"}}}).status == 400
    assert refused("lifecycle", {"Rule": {"Status": "Enabled", "Filter": ""}}).code == "MalformedXML"
    no_days: dict[str, object] = {"Rule": {"Status": "Enabled", "Filter": "", "Expiration": {"Days": "0"}}}
    assert refused("lifecycle", no_days).code == "InvalidArgument"
    assert refused("website", {"ErrorDocument": {"Key": "e.html"}}).code == "MalformedXML"
    assert refused("tagging", {"TagSet": {"Tag": [{"Key": "", "Value": "v"}]}}).code == "InvalidTag"
    assert refused("inventory", {"Id": "a"}, "b").code == "InvalidArgument"
    assert refused("inventory", {}, "bad id!").code == "InvalidArgument"
    assert refused("object-lock", {"ObjectLockEnabled": "Disabled"}).code == "MalformedXML"
    bad_target: dict[str, object] = {"Role": "r", "Rule": {"Status": "Enabled", "Destination": {"Bucket": "elsewhere"}}}
    assert refused("replication", bad_target).code == "InvalidArgument"


def test_policy_and_acl_inputs() -> None:
    huge = b"[" * 50_000 + b"]" * 50_000
    deep = b'{"a":' * 3000 + b"1" + b"}" * 3000
    for body in (b"{", huge, deep, b"[]", b'{"Statement": [{"Effect": "maybe", "Action": "a", "Resource": "r"}]}'):
        with pytest.raises(ConfigRefusedError) as caught:
            check_policy(body)
        assert caught.value.code in ("MalformedPolicy", "PolicyTooLarge")
    kept = check_policy(b'{"version": "2.0", "Statement": [{"effect": "Deny", "action": ["*"], "resource": ["*"]}]}')
    assert json.loads(kept)["Statement"][0]["effect"] == "Deny"
    assert acl_from_headers({}, BUCKET) is None
    with pytest.raises(ConfigRefusedError):
        acl_from_headers({"x-cos-grant-read": "id=unquoted"}, BUCKET)
    with pytest.raises(ConfigRefusedError) as caught:
        acl_from_body(
            b"<AccessControlPolicy><Owner><ID>o</ID></Owner><AccessControlList><Grant><Grantee>"
            b"<ID>x</ID></Grantee><Permission>READ</Permission></Grant></AccessControlList>"
            b"</AccessControlPolicy>",
            BUCKET,
        )
    assert caught.value.code == "MalformedXML"
