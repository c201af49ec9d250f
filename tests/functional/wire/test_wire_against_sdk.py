"""What ciflow's production client puts on the wire equals what the official SDK puts there.

Each example is one random COS operation (put, get, head, delete, list, copy) with random keys (unicode,
spaces, ``+``, ``%``, ``?``, ``#``, a leading ``/``, dot segments), random user headers (``x-cos-meta-*``,
``content-type``, case variants of one name, whitespace around values) and random list parameters. It is sent
once by ``CiClient`` and once by ``cos-python-sdk-v5`` to a raw loopback capture server; the two captured
requests are compared: method, decoded path and query, header set, and whether each Authorization verifies,
checked both by ciflow's verifier and by the SDK's own signing function recomputed over the captured request.

Deliberate differences, and only these, are tolerated (each is asserted where it applies):

* ``User-Agent``, ``Accept``, ``Accept-Encoding`` and ``Connection`` are each library's own; unsigned.
* ``Authorization`` differs in its time window (the SDK signs for 10000 s, ciflow for 600 s), so the two are
  compared by validity, not by text.
* The SDK sends ``Content-Length: 0`` on a body-less ``DELETE``; ciflow sends none.
* The SDK sends empty ``marker=`` and ``delimiter=`` parameters on a list; ciflow leaves them out.
* The SDK encodes a space in a query value as ``+``, ciflow as ``%20`` (both decode to a space); an empty
  value is ``prefix=`` from the SDK and a bare ``prefix`` from ciflow (as COS documents ``?acl``). Queries
  are compared decoded.
* Dot segments: ciflow sends ``.``/``..`` segments encoded (``%2E``) so the key survives; the SDK lets its URL
  library resolve a trailing one away (``a/..`` becomes ``/``, a request for another resource, which its
  own signature no longer matches) and refuses a GET whose key resolves to nothing. For those keys only
  ciflow's request is checked.
* A copy source key starting with ``//``: the SDK strips two leading slashes there (and one from the
  destination key); ciflow strips one from both, so one string always names one object.
* Header values: ciflow trims surrounding whitespace; the SDK is given the trimmed value (it would refuse a
  leading space and send a trailing one untrimmed, see ``test_sdk_header_whitespace_behaviour``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast
from unittest import mock
from urllib.parse import quote

import pytest
import requests
from hypothesis import event, given, note, settings
from hypothesis import strategies as st
from qcloud_cos import CosConfig, CosS3Client, cos_auth
from qcloud_cos.cos_exception import CosClientError

from ciflow import operations as ops
from ciflow.client import CiClient, Endpoint, RetryPolicy
from ciflow.signing import Credentials, check_cos_authorization
from tests.functional.wire.capture import Captured, CaptureServer
from tests.functional.wire.conftest import WIRE_PROFILE

REGION = "ap-guangzhou"
BUCKET = "media-1250000000"
HOST = f"{BUCKET}.cos.{REGION}.myqcloud.com"
CREDS = Credentials("AKIDwireCaptureTestId0000000000000", "wireCaptureSecretKey000000000000", token="wire-token")

#: Headers each library sets for itself; never signed by either, so never compared.
OWN_HEADERS = frozenset({"user-agent", "accept", "accept-encoding", "connection", "authorization"})

# RFC 3986: a path is segments of pchar; '%' only as a well-formed escape.
_PCHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})"
LEGAL_PATH = re.compile(rf"^/(?:{_PCHAR}|/)*$")
LEGAL_QUERY_PART = re.compile(r"^(?:[A-Za-z0-9\-._~!$'()*+,;:@/?]|%[0-9A-Fa-f]{2})*$")
# ciflow is stricter: only unreserved characters and upper-case escapes, so nothing is left to interpretation.
CIFLOW_PATH = re.compile(r"^/(?:[A-Za-z0-9\-._~/]|%[0-9A-F]{2})*$")
CIFLOW_QUERY_PART = re.compile(r"^(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})*$")


# --- strategies -------------------------------------------------------------------------------------------

key_chars = st.one_of(
    st.sampled_from(list("ab/ .+%?#&=~-_*:@!$'()[],;\\\"<>^`{}|")),
    st.sampled_from(["..", "./", "/.", "视频", "é", "\u00a0", "\t", "🎞"]),
    st.characters(blacklist_categories=cast(Any, ("Cs",))),
)
keys = st.builds(
    lambda lead, parts: lead + "".join(parts),
    st.sampled_from(["", "", "", "/", "//"]),
    st.lists(key_chars, min_size=1, max_size=12),
).filter(lambda k: (k[1:] if k.startswith("/") else k) != "")
query_text = st.text(
    st.one_of(st.sampled_from(list("ab/ +%&=?#;视")), st.characters(blacklist_categories=cast(Any, ("Cs",)))),
    max_size=10,
)


def _case_variant(name: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(name), max_size=len(name)).map(
        lambda upper: "".join(c.upper() if u else c.lower() for c, u in zip(name, upper, strict=True))
    )


meta_names = st.text(st.sampled_from("abcdefgxyz0123456789-"), min_size=1, max_size=8)
user_header_names = st.one_of(
    st.sampled_from(
        [
            "content-type",
            "Cache-Control",
            "Content-Disposition",
            "Content-Encoding",
            "Content-Language",  # not signed by either library
            "Expires",
            "x-cos-storage-class",
            "x-cos-acl",
            "x-cos-forbid-overwrite",
        ]
    ),
    meta_names.map(lambda n: f"x-cos-meta-{n}"),
).flatmap(_case_variant)
value_core = st.text(
    st.one_of(st.characters(min_codepoint=0x21, max_codepoint=0x7E), st.sampled_from([" ", "视", "é"])), max_size=16
)
header_values = st.builds(
    lambda lead, core, trail: lead + core + trail,
    st.sampled_from(["", "", " ", "\t", "  "]),
    value_core,
    st.sampled_from(["", "", " ", "\t ", "  "]),
)
metadata = st.dictionaries(meta_names, value_core.map(str.strip), max_size=3)
acls = st.sampled_from([None, "private", "public-read"])


@dataclass
class Case:
    """One operation, as both libraries are asked to perform it, and what the wire must then show."""

    kind: str
    key: str = ""
    ciflow: Callable[[], Any] = field(default=lambda: None, repr=False)
    sdk: Callable[[CosS3Client], Any] = field(default=lambda c: None, repr=False)
    #: Lower-cased header name -> value the request must carry (the caller's intent, merged and trimmed).
    expect_headers: dict[str, str] = field(default_factory=dict)
    expect_params: list[tuple[str, str]] | None = None
    #: Headers whose values may deliberately differ from the SDK's (see the module docstring).
    sdk_differs: frozenset[str] = frozenset()


def _merged(*groups: dict[str, str | None]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for group in groups:
        for name, value in group.items():
            if value is not None:
                merged[name.lower()] = value.strip(" \t")
    return merged


@st.composite
def put_cases(draw: st.DrawFn) -> Case:
    key, body = draw(keys), draw(st.binary(max_size=64))
    content_type = draw(st.sampled_from(["application/octet-stream", "text/plain", "video/mp4"]))
    meta, acl, forbid = draw(metadata), draw(acls), draw(st.booleans())
    user = draw(st.dictionaries(user_header_names, header_values, max_size=5))
    meta_headers: dict[str, str | None] = {f"x-cos-meta-{n}": v for n, v in meta.items()}
    extra: dict[str, str | None] = {"x-cos-forbid-overwrite": "true" if forbid else None, **meta_headers}
    sdk_meta = {k: v for k, v in extra.items() if v is not None} | {k: v.strip(" \t") for k, v in user.items()}
    return Case(
        "put",
        key,
        lambda: ops.put_object(
            key, body, content_type=content_type, metadata=meta, forbid_overwrite=forbid, acl=acl, headers=user
        ),
        lambda c: (
            c.put_object(
                Bucket=BUCKET, Body=body, Key=key, EnableMD5=True, ContentType=content_type, ACL=acl, Metadata=sdk_meta
            )
            if acl
            else c.put_object(
                Bucket=BUCKET, Body=body, Key=key, EnableMD5=True, ContentType=content_type, Metadata=sdk_meta
            )
        ),
        _merged({"content-type": content_type, "x-cos-acl": acl}, extra, dict(user)),
    )


@st.composite
def get_cases(draw: st.DrawFn) -> Case:
    key = draw(keys)
    first = draw(st.none() | st.integers(0, 10**9))
    last = None if first is None else draw(st.none() | st.integers(first, first + 10**6))
    byte_range = None if first is None else (first, last)
    header = None if first is None else f"bytes={first}-{'' if last is None else last}"
    return Case(
        "get",
        key,
        lambda: ops.get_object(key, byte_range=byte_range),
        lambda c: (
            c.get_object(Bucket=BUCKET, Key=key, Range=header) if header else c.get_object(Bucket=BUCKET, Key=key)
        ),
        _merged({"range": header}),
    )


@st.composite
def simple_cases(draw: st.DrawFn) -> Case:
    kind, key = draw(st.sampled_from(["head", "delete"])), draw(keys)
    if kind == "head":
        return Case(kind, key, lambda: ops.head_object(key), lambda c: c.head_object(Bucket=BUCKET, Key=key))
    return Case(kind, key, lambda: ops.delete_object(key), lambda c: c.delete_object(Bucket=BUCKET, Key=key))


@st.composite
def list_cases(draw: st.DrawFn) -> Case:
    prefix, marker, delimiter = draw(query_text), draw(query_text), draw(st.sampled_from(["", "/", "+", "视"]))
    max_keys = draw(st.integers(1, 1000))
    params = [("prefix", prefix), ("max-keys", str(max_keys)), ("encoding-type", "url")]
    params += [(n, v) for n, v in (("marker", marker), ("delimiter", delimiter)) if v]
    return Case(
        "list",
        "",
        lambda: ops.list_objects(prefix, marker=marker, delimiter=delimiter, max_keys=max_keys),
        lambda c: c.list_objects(
            Bucket=BUCKET, Prefix=prefix, Marker=marker, Delimiter=delimiter, MaxKeys=max_keys, EncodingType="url"
        ),
        expect_params=params,
    )


@st.composite
def copy_cases(draw: st.DrawFn) -> Case:
    key, source_key = draw(keys), draw(keys)
    source_bucket = draw(st.sampled_from(["src-1250000000", BUCKET]))
    source_region = draw(st.sampled_from([REGION, "ap-beijing"]))
    replace = draw(st.none() | metadata)
    content_type = draw(st.sampled_from(["text/plain", "image/png"]))
    acl = draw(acls)
    source = {"Bucket": source_bucket, "Region": source_region, "Key": source_key}
    source_path = quote(stored(source_key), "/-_.~")
    meta_headers = {f"x-cos-meta-{n}": v for n, v in (replace or {}).items()}
    sdk_kwargs: dict[str, Any] = {"ACL": acl} if acl else {}
    if replace is not None:
        sdk_kwargs |= {"ContentType": content_type, "Metadata": meta_headers}
    return Case(
        "copy",
        key,
        lambda: ops.copy_object(
            key,
            source_bucket=source_bucket,
            source_region=source_region,
            source_key=source_key,
            replace_metadata=replace,
            content_type=content_type,
            acl=acl,
        ),
        lambda c: c.copy_object(
            Bucket=BUCKET,
            Key=key,
            CopySource=source,
            CopyStatus="Copy" if replace is None else "Replaced",
            **sdk_kwargs,
        ),
        _merged(
            {
                "x-cos-metadata-directive": "Copy" if replace is None else "Replaced",
                "content-type": content_type if replace is not None else None,
                "x-cos-acl": acl,
            },
            dict(meta_headers),
            {"x-cos-copy-source": f"{source_bucket}.cos.{source_region}.myqcloud.com/{source_path}"},
        ),
        # The SDK strips a leading "/" from a copy source key twice (get_copy_source_info, then format_path), so
        # "//a" copies from "a" while as a destination "//a" names "/a"; ciflow strips one in both places.
        sdk_differs=frozenset({"x-cos-copy-source"}) if source_key.startswith("//") else frozenset(),
    )


# Picked uniformly (one_of with composites drifted towards copy); put, whose headers matter most, twice.
cases = st.sampled_from([put_cases, put_cases, get_cases, simple_cases, list_cases, copy_cases]).flatmap(
    lambda make: make()
)


# --- the two clients and the checks ----------------------------------------------------------------------


@dataclass
class Rig:
    server: CaptureServer
    ciflow: CiClient
    sdk: CosS3Client

    def send_ciflow(self, case: Case) -> Captured:
        self.ciflow.send(case.ciflow())
        (captured,) = self.server.take()
        return captured

    def send_sdk(self, case: Case) -> Captured | None:
        if case.kind == "get" and resolves_to_nothing(stored(case.key)):
            # The SDK refuses a GET whose key resolves, as a path, to nothing (path_simplify_check).
            with pytest.raises(CosClientError, match="Key is invalid"):
                case.sdk(self.sdk)
            assert self.server.take() == []
            return None
        case.sdk(self.sdk)
        (captured,) = self.server.take()
        return captured


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    with CaptureServer() as server:
        endpoint = Endpoint(REGION, BUCKET, scheme="http", override=server.url)
        config = CosConfig(
            Region=REGION,
            SecretId=CREDS.secret_id,
            SecretKey=CREDS.secret_key,
            Token=CREDS.token,
            IP="127.0.0.1",
            Port=server.port,
            Scheme="http",
        )
        with CiClient(endpoint, CREDS, retry=RetryPolicy(attempts=1)) as ciflow:
            yield Rig(server, ciflow, CosS3Client(config, retry=0))


def stored(key: str) -> str:
    return key[1:] if key.startswith("/") else key


def sdk_sends_dot_segment(key: str) -> bool:
    """Whether the SDK's request target has a ``.``/``..`` segment (its URL library then resolves it away).

    The SDK builds the path as ``quote(key, '/-_.~').replace('./', '.%2F')`` (``CosConfig.uri``), which hides
    every dot segment but a trailing one.
    """
    target = quote(stored(key), "/-_.~").replace("./", ".%2F")
    return any(segment in {".", ".."} for segment in target.split("/"))


def resolves_to_nothing(key: str) -> bool:
    depth = 0
    for segment in key.split("/"):
        if segment == "..":
            depth = max(depth - 1, 0)
        elif segment not in {"", "."}:
            depth += 1
    return depth == 0


def header_map(captured: Captured) -> dict[str, str]:
    """Lower-cased name -> value; asserts no name came twice (the bug of issue 13)."""
    names = [name.lower() for name, _ in captured.headers]
    assert len(names) == len(set(names)), f"duplicate header lines: {captured.raw!r}"
    return {name.lower(): value for name, value in captured.headers}


def sdk_recomputed_signature(captured: Captured) -> str:
    """The SDK's own CosS3Auth run over the request as captured: the q-signature it would have produced."""
    fields = dict(part.split("=", 1) for part in captured.header("authorization").split("&"))
    start, end = (int(t) for t in fields["q-key-time"].split(";"))
    now = start + 60
    conf = SimpleNamespace(
        _secret_id=CREDS.secret_id,
        _secret_key=CREDS.secret_key,
        _credential_inst=None,
        _anonymous=False,
        _sign_params=True,
        _sign_host=True,
    )
    received = requests.structures.CaseInsensitiveDict(
        {name: value for name, value in captured.headers if name.lower() != "authorization"}
    )
    request = SimpleNamespace(method=captured.method, url=f"http://{HOST}/", headers=received)
    auth = cos_auth.CosS3Auth(conf, captured.path, params=dict(captured.params), expire=end - now)
    with mock.patch.object(cos_auth.time, "time", return_value=now):
        auth(request)
    return str(request.headers["Authorization"]).rsplit("q-signature=", 1)[1]


def assert_signature_verifies(captured: Captured) -> None:
    authorization = captured.header("authorization")
    problem = check_cos_authorization(
        CREDS, authorization, captured.method, captured.path, captured.params, captured.headers, now=time.time()
    )
    assert problem is None, f"ciflow's verifier: {problem}\n{captured.raw!r}"
    assert sdk_recomputed_signature(captured) == authorization.rsplit("q-signature=", 1)[1], captured.raw


def comparable_headers(captured: Captured) -> dict[str, str]:
    headers = {k: v for k, v in header_map(captured).items() if k not in OWN_HEADERS}
    if captured.method == "DELETE" and headers.get("content-length") == "0":
        del headers["content-length"]  # the SDK's; ciflow sends none for a body-less DELETE
    return headers


def comparable_params(captured: Captured) -> list[tuple[str, str]]:
    # The SDK's empty marker= and delimiter= mean "none": ciflow leaves them out.
    return sorted((n, v) for n, v in captured.params if not (n in {"marker", "delimiter"} and v == ""))


def check_ciflow_request(case: Case, ours: Captured) -> None:
    expected_method = {"put": "PUT", "copy": "PUT", "get": "GET", "list": "GET", "head": "HEAD", "delete": "DELETE"}
    assert ours.method == expected_method[case.kind]
    assert CIFLOW_PATH.match(ours.raw_path), ours.raw_path
    assert ours.path == ("/" if case.kind == "list" else "/" + stored(case.key))
    for part in ours.raw_query.split("&") if ours.raw_query else []:
        for piece in part.split("=", 1):
            assert CIFLOW_QUERY_PART.match(piece), ours.raw_query
    if case.expect_params is not None:
        assert sorted(ours.params) == sorted(case.expect_params)
    headers = header_map(ours)
    assert headers["host"] == HOST
    assert headers["x-cos-security-token"] == CREDS.token
    for name, value in case.expect_headers.items():
        assert headers.get(name) == value, (name, ours.raw)
    assert_signature_verifies(ours)


@settings(settings.get_profile(WIRE_PROFILE))
@given(case=cases)
def test_ciflow_and_the_sdk_put_the_same_request_on_the_wire(rig: Rig, case: Case) -> None:
    event(case.kind)
    ours = rig.send_ciflow(case)
    note(f"ciflow: {ours.raw!r}")
    check_ciflow_request(case, ours)

    theirs = rig.send_sdk(case)
    if theirs is None:
        event("sdk refused the key")
        return
    note(f"sdk:    {theirs.raw!r}")
    assert theirs.method == ours.method
    assert LEGAL_PATH.match(theirs.raw_path), theirs.raw_path
    for part in theirs.raw_query.split("&") if theirs.raw_query else []:
        for piece in part.split("=", 1):
            assert LEGAL_QUERY_PART.match(piece), theirs.raw_query
    assert comparable_params(theirs) == comparable_params(ours)
    differs = case.sdk_differs
    assert {k: v for k, v in comparable_headers(theirs).items() if k not in differs} == {
        k: v for k, v in comparable_headers(ours).items() if k not in differs
    }
    if case.kind != "list" and sdk_sends_dot_segment(case.key):
        event("sdk resolved a dot segment away")
        assert theirs.path != ours.path  # the SDK's URL library resolved the dot segment away
        return
    assert theirs.path == ours.path
    assert_signature_verifies(theirs)


# --- single behaviours the property relies on, pinned with the SDK ----------------------------------------


def test_the_capture_sees_duplicate_header_lines(rig: Rig) -> None:
    """The checks above could fail: a raw request with a header line twice is caught by ``header_map``."""
    import socket

    with socket.create_connection(("127.0.0.1", rig.server.port)) as sock:
        sock.sendall(b"GET /k HTTP/1.1\r\nHost: h\r\nContent-Type: a\r\ncontent-type: b\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    (captured,) = rig.server.take()
    with pytest.raises(AssertionError, match="duplicate header lines"):
        header_map(captured)


def test_a_request_signed_over_other_values_fails_both_verifications(rig: Rig) -> None:
    rig.ciflow.send(ops.put_object("a.txt", b"x", content_type="text/plain"))
    (captured,) = rig.server.take()
    tampered = Captured(
        captured.raw,
        captured.method,
        captured.target,
        tuple((k, "text/html" if k.lower() == "content-type" else v) for k, v in captured.headers),
        captured.body,
    )
    with pytest.raises(AssertionError, match="q-signature does not match"):
        assert_signature_verifies(tampered)
    authorization = tampered.header("authorization").rsplit("q-signature=", 1)[1]
    assert sdk_recomputed_signature(tampered) != authorization


def test_sdk_header_whitespace_behaviour(rig: Rig) -> None:
    """Why ciflow trims: the SDK refuses leading whitespace and sends (and signs) trailing whitespace as is."""
    with pytest.raises(CosClientError, match="leading whitespace"):
        rig.sdk.put_object(Bucket=BUCKET, Body=b"x", Key="a", Metadata={"x-cos-meta-a": " v"})
    rig.sdk.put_object(Bucket=BUCKET, Body=b"x", Key="a", Metadata={"x-cos-meta-a": "v "})
    (theirs,) = rig.server.take()
    assert theirs.header("x-cos-meta-a") == "v "
    # Signed untrimmed: a server that reads the value as HTTP defines it (trimmed) cannot verify it.
    problem = check_cos_authorization(
        CREDS, theirs.header("authorization"), theirs.method, theirs.path, theirs.params, theirs.headers
    )
    assert problem is not None
    assert "q-signature does not match" in problem
    rig.ciflow.send(ops.put_object("a", b"x", metadata={"a": " v "}))
    (ours,) = rig.server.take()
    assert ours.header("x-cos-meta-a") == "v"
    assert_signature_verifies(ours)


def test_a_callers_host_wins_in_ciflow_as_in_the_sdks_default_configuration(rig: Rig) -> None:
    """Without an IP override the SDK sends a caller's Host (once) and signs it; ciflow always does.

    With IP/Port configured (as in the rig) the SDK overwrites a caller's Host with the bucket's instead.
    """
    other = "other-1250000000.cos.ap-guangzhou.myqcloud.com"
    rig.sdk.put_object(Bucket=BUCKET, Body=b"x", Key="a", Metadata={"Host": other})
    (theirs,) = rig.server.take()
    assert theirs.header_lines("host") == [HOST]
    by_domain = CosConfig(
        Region=REGION,
        SecretId=CREDS.secret_id,
        SecretKey=CREDS.secret_key,
        Domain=f"127.0.0.1:{rig.server.port}",
        Scheme="http",
    )
    CosS3Client(by_domain, retry=0).put_object(Bucket=BUCKET, Body=b"x", Key="a", Metadata={"host": other})
    (theirs,) = rig.server.take()
    assert theirs.header_lines("host") == [other]
    assert_signature_verifies(theirs)

    rig.ciflow.send(ops.put_object("a", b"x", headers={"host": other}))
    (ours,) = rig.server.take()
    assert ours.header_lines("host") == [other]
    assert "host" in ours.header("authorization").split("q-header-list=")[1].split("&")[0].split(";")
    assert_signature_verifies(ours)
