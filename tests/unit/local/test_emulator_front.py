"""The emulator front's pure pieces: header names, error resources, signed-list coverage, absolute-form targets."""

from __future__ import annotations

from pathlib import Path

import pytest
from qcloud_cos.cos_exception import CosServiceError

from ciflow.signing import cos_authorization
from ciflow_local.emulator._app import (
    DEFAULT_CREDENTIALS,
    Target,
    _covered,
    _origin_form,
    canonical_header_name,
    error_response,
)
from ciflow_local.emulator._service import Buckets
from ciflow_local.emulator._storage import ObjectStore


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        (b"etag", b"ETag"),
        (b"content-length", b"Content-Length"),
        (b"content-md5", b"Content-MD5"),
        (b"last-modified", b"Last-Modified"),
        (b"ACCEPT-RANGES", b"Accept-Ranges"),
        (b"x-cos-request-id", b"x-cos-request-id"),
        (b"X-Cos-Meta-Owner", b"x-cos-meta-owner"),
        (b"x-cos-hash-crc64ecma", b"x-cos-hash-crc64ecma"),
    ],
)
def test_canonical_header_names(name: bytes, canonical: bytes) -> None:
    assert canonical_header_name(name) == canonical


@pytest.mark.parametrize(
    ("target", "resource"),
    [
        (
            Target("cos", "b-1250000000", "ap-guangzhou", "a/b c.txt", {}, "r"),
            "b-1250000000.cos.ap-guangzhou.myqcloud.com/a/b c.txt",
        ),
        (
            Target("ci", "b-1250000000", "ap-guangzhou", "jobs", {}, "r"),
            "b-1250000000.ci.ap-guangzhou.myqcloud.com/jobs",
        ),
        (Target("ci", "", "ap-guangzhou", "mediabucket", {}, "r"), "ci.ap-guangzhou.myqcloud.com/mediabucket"),
        (Target("cos", "", "", "", {}, "r"), "service.cos.myqcloud.com/"),
    ],
)
def test_every_error_names_its_resource_and_the_sdk_reads_it(target: Target, resource: str) -> None:
    response = error_response(404, "NoSuchKey", "The specified key does not exist.", target)
    error = CosServiceError("GET", bytes(response.body).decode(), 404)
    assert (error.get_error_code(), error.get_resource_location(), error.get_request_id()) == (
        "NoSuchKey",
        resource,
        "r",
    )
    assert response.headers[f"x-{target.service}-trace-id"] == error.get_trace_id()


def test_an_explicit_resource_wins() -> None:
    target = Target("cos", "b-1250000000", "ap-guangzhou", "k", {}, "r")
    body = bytes(error_response(400, "InvalidArgument", "a < b & c", target, "/k").body).decode()
    error = CosServiceError("PUT", body, 400)
    assert (error.get_resource_location(), error.get_error_msg()) == ("/k", "a < b & c")


def test_only_listed_names_are_covered_and_missing_ones_sign_empty() -> None:
    pairs = [("Prefix", "a/b"), ("max-keys", "5"), ("cancel", ""), ("X Odd", "1")]
    covered = _covered("max-keys;prefix;x%20odd;absent", pairs)
    assert sorted(covered) == sorted([("Prefix", "a/b"), ("max-keys", "5"), ("X Odd", "1"), ("absent", "")])
    assert _covered("", pairs) == []


def test_a_signature_over_some_parameters_verifies_with_extra_ones_present() -> None:
    signed = cos_authorization(DEFAULT_CREDENTIALS, "PUT", "/jobs/j1", [], [("host", "h")], "1;2")
    params = _covered("", [("cancel", "")])
    headers = _covered("host", [("host", "h"), ("user-agent", "sdk")])
    assert cos_authorization(DEFAULT_CREDENTIALS, "PUT", "/jobs/j1", params, headers, "1;2") == signed


def test_absolute_form_targets_become_origin_form() -> None:
    scope = {"type": "http", "raw_path": b"http://b-1.cos.r.myqcloud.com/a%20b/c", "path": "", "headers": []}
    served = _origin_form(scope)
    assert (served["raw_path"], served["path"]) == (b"/a%20b/c", "/a b/c")
    assert served["headers"] == [(b"host", b"b-1.cos.r.myqcloud.com")]
    plain = {"type": "http", "raw_path": b"/k", "path": "/k", "headers": []}
    assert _origin_form(plain) is plain


def test_buckets_exist_when_created_written_or_holding_objects(tmp_path: Path) -> None:
    store = ObjectStore(tmp_path / "cos")
    buckets = Buckets(store, default_region="ap-shanghai")
    try:
        assert not buckets.exists("a-1")
        store.put_bytes("a-1", "k", b"job output")  # written behind the API's back (a CI job)
        assert buckets.exists("a-1")
        assert buckets.create("b-1", "ap-beijing")
        assert not buckets.create("b-1", "ap-beijing")
        buckets.written("c-1", "ap-guangzhou")
        assert [(name, region) for name, region, _ in buckets.listed()] == [
            ("a-1", "ap-shanghai"),
            ("b-1", "ap-beijing"),
            ("c-1", "ap-guangzhou"),
        ]
        buckets.forget("b-1")
        assert not buckets.exists("b-1")
        strict = Buckets(store, strict=True)
        strict.written("d-1", "ap-guangzhou")  # a strict account creates buckets only on request
        assert not strict.exists("d-1")
        strict.close()
    finally:
        buckets.close()
        store.close()
