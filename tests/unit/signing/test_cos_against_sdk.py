"""Our Authorization equals the official SDK's (cos-python-sdk-v5) for arbitrary requests."""

from types import SimpleNamespace
from typing import cast

import httpx
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from qcloud_cos import cos_auth

from ciflow.client import Endpoint, Operation, build_request
from ciflow.signing import Credentials, cos_key_time, sign_request

CREDS = Credentials("AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q", "BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz")
NOW = 1_700_000_000
EXPIRE = 600

key_chars = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00")
keys = st.text(key_chars, min_size=1, max_size=40).filter(lambda k: not k.startswith("/"))
odd_keys = st.one_of(
    keys,
    st.sampled_from(["a b+c.mp4", "100%.jpg", "q?x=1#frag", "目录/视频 1.mp4", "a/../b", "./x", "+/%2F/%25"]),
)
param_names = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzABC-_.~ /+%?"), min_size=1, max_size=12)
param_values = st.text(key_chars, max_size=20)
header_names = st.one_of(
    st.sampled_from(["Content-Type", "Content-MD5", "Range", "If-Match", "Cache-Control", "User-Agent", "Accept"]),
    st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-"), min_size=1, max_size=10).map(
        lambda s: f"x-cos-meta-{s}"
    ),
    st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz-"), min_size=1, max_size=10).map(lambda s: f"x-ci-{s}"),
)
header_values = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=30)


def sdk_authorization(request: httpx.Request, key: str, params: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(cos_auth.time, "time", lambda: NOW)
    conf = SimpleNamespace(
        _secret_id=CREDS.secret_id,
        _secret_key=CREDS.secret_key,
        _credential_inst=None,
        _anonymous=False,
        _sign_params=True,
        _sign_host=True,
    )
    prepared = requests.Request(request.method, str(request.url)).prepare()
    prepared.headers = requests.structures.CaseInsensitiveDict(dict(request.headers))
    signed = cos_auth.CosS3Auth(conf, key, params=params, expire=EXPIRE)(prepared)
    return cast(str, signed.headers["Authorization"])


@settings(max_examples=300, deadline=None)
@given(
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD"]),
    key=odd_keys,
    params=st.dictionaries(param_names, param_values, max_size=4).filter(
        lambda p: len({k.lower() for k in p}) == len(p)
    ),
    headers=st.dictionaries(header_names, header_values, max_size=5).filter(
        lambda h: len({k.lower() for k in h}) == len(h)
    ),
)
def test_authorization_equals_official_sdk(
    method: str, key: str, params: dict[str, str], headers: dict[str, str]
) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        operation = Operation(
            "Probe",
            method,
            "cos",
            "/" + key,
            read=lambda r: r,
            params=tuple(params.items()),
            headers=tuple(headers.items()),
        )
        request = build_request(operation, Endpoint("ap-beijing", "examplebucket-1250000000"))
        # What we sign is what the server decodes: the raw key and the decoded parameters.
        assert request.url.path == "/" + key
        assert dict(request.url.params.multi_items()) == params
        sign_request(request, CREDS, cos_key_time(NOW, EXPIRE))
        assert request.headers["Authorization"] == sdk_authorization(request, key, params, monkeypatch)
