"""The COS/CI request signature (q-sign-algorithm=sha1): a pure function, the httpx.Auth that applies it, and
the server's check of a received request (``check_cos_authorization``)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import time
from collections.abc import Callable, Generator, Iterable
from urllib.parse import quote

import httpx

from ._credentials import Credentials, CredentialsProvider, static_credentials

__all__ = [
    "SERVICE_EXTENSION",
    "CosAuth",
    "check_cos_authorization",
    "cos_authorization",
    "cos_key_time",
    "sign_request",
    "signed_headers",
    "token_header_for",
]

# Exactly the headers the official SDK signs (cos_auth.filter_headers), so signatures agree byte for byte.
_SIGNED_HEADERS = frozenset(
    {
        "cache-control",
        "content-disposition",
        "content-encoding",
        "content-type",
        "content-md5",
        "content-length",
        "expect",
        "expires",
        "host",
        "if-match",
        "if-modified-since",
        "if-none-match",
        "if-unmodified-since",
        "origin",
        "range",
        "transfer-encoding",
        "pic-operations",
    }
)
_SIGNED_PREFIXES = ("x-cos-", "x-ci-")
_SAFE = "-_.~"

#: Request extension naming the service a request is for ("ci" or "cos"): decides the token header
#: even when an endpoint override hides the service from the host name.
SERVICE_EXTENSION = "ciflow.service"


def signed_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The headers COS signs: a fixed set plus every ``x-cos-*``/``x-ci-*`` header."""
    return [(k, v) for k, v in headers if (low := k.lower()) in _SIGNED_HEADERS or low.startswith(_SIGNED_PREFIXES)]


# Most names and values need no escaping at all; checking that first skips quote() on the hot path.
_NEEDS_QUOTING = re.compile(r"[^A-Za-z0-9\-_.~]")


def _quote(text: str) -> str:
    return _quoted(text) if _NEEDS_QUOTING.search(text) else text


@functools.lru_cache(maxsize=256)
def _quoted(text: str) -> str:
    # The values that need escaping repeat request after request (content types, Content-MD5 of equal bodies,
    # the session token): quote() costs microseconds, a cache hit a fraction of one.
    return quote(text, _SAFE)


@functools.lru_cache(maxsize=64)
def _sign_key(secret_key: str, key_time: str) -> bytes:
    """HMAC(SecretKey, KeyTime) in hex: the same for every request signed within one key time."""
    return hmac.digest(secret_key.encode(), key_time.encode(), "sha1").hex().encode()


def _canonical(pairs: Iterable[tuple[str, str]]) -> tuple[str, str]:
    """Encode, lower-case and sort pairs; return (key list, k=v string) as the signature wants them."""
    encoded = sorted((_quote(k).lower(), _quote(v)) for k, v in pairs)
    return ";".join(k for k, _ in encoded), "&".join(f"{k}={v}" for k, v in encoded)


def cos_key_time(now: float, expires_in: int = 600, backdate: int = 60) -> str:
    """The ``start;end`` validity window; back-dated like the SDK so a slightly slow clock still verifies."""
    start = int(now)
    return f"{start - backdate};{start + expires_in}"


def cos_authorization(
    credentials: Credentials,
    method: str,
    path: str,
    params: Iterable[tuple[str, str]],
    headers: Iterable[tuple[str, str]],
    key_time: str,
) -> str:
    """The Authorization value for a request; ``path`` is the decoded path (the raw object key after ``/``).

    Every header given is signed: ``signed_headers`` picks the ones the official SDK signs.
    """
    header_list, header_string = _canonical(headers)
    param_list, param_string = _canonical(params)
    http_string = f"{method.lower()}\n{path}\n{param_string}\n{header_string}\n"
    string_to_sign = f"sha1\n{key_time}\n{hashlib.sha1(http_string.encode()).hexdigest()}\n"
    signature = hmac.digest(_sign_key(credentials.secret_key, key_time), string_to_sign.encode(), "sha1").hex()
    return (
        f"q-sign-algorithm=sha1&q-ak={credentials.secret_id}&q-sign-time={key_time}&q-key-time={key_time}"
        f"&q-header-list={header_list}&q-url-param-list={param_list}&q-signature={signature}"
    )


def check_cos_authorization(
    credentials: Credentials,
    authorization: str,
    method: str,
    path: str,
    params: Iterable[tuple[str, str]],
    headers: Iterable[tuple[str, str]],
    *,
    now: float | None = None,
) -> str | None:
    """Why ``authorization`` does not verify for a received request, or ``None`` when it does.

    The server's side of ``cos_authorization``: ``path`` is the decoded request path, ``params`` the decoded
    query pairs and ``headers`` every header field as received (values are compared trimmed, as HTTP parses
    them). Every header and parameter the signature lists must have been received exactly once; with ``now``,
    the key time must also cover it.
    """
    fields = dict(part.split("=", 1) for part in authorization.split("&") if "=" in part)
    missing = {"q-sign-algorithm", "q-ak", "q-key-time", "q-header-list", "q-url-param-list", "q-signature"}
    missing -= fields.keys()
    if missing:
        return f"missing {', '.join(sorted(missing))}"
    if fields["q-sign-algorithm"] != "sha1":
        return f"unsupported q-sign-algorithm {fields['q-sign-algorithm']!r}"
    if fields["q-ak"] != credentials.secret_id:
        return f"q-ak {fields['q-ak']!r} is not the credentials' SecretId"
    key_time = fields["q-key-time"]
    start, _, end = key_time.partition(";")
    if not (start.isdigit() and end.isdigit()):
        return f"malformed q-key-time {key_time!r}"
    if now is not None and not int(start) <= now <= int(end):
        return f"q-key-time {key_time} does not cover {int(now)}"

    def pick(kind: str, listed: str, received: Iterable[tuple[str, str]]) -> list[tuple[str, str]] | str:
        by_name: dict[str, list[tuple[str, str]]] = {}
        for name, value in received:
            by_name.setdefault(_quote(name).lower(), []).append((name, value))
        chosen = []
        for name in filter(None, listed.split(";")):
            found = by_name.get(name, [])
            if len(found) != 1:
                return f"signed {kind} {name!r} received {len(found)} times"
            chosen.append(found[0])
        return chosen

    signed_header_pairs = pick("header", fields["q-header-list"], ((k, v.strip(" \t")) for k, v in headers))
    if isinstance(signed_header_pairs, str):
        return signed_header_pairs
    signed_param_pairs = pick("parameter", fields["q-url-param-list"], params)
    if isinstance(signed_param_pairs, str):
        return signed_param_pairs
    expected = cos_authorization(credentials, method, path, signed_param_pairs, signed_header_pairs, key_time)
    expected_fields = dict(part.split("=", 1) for part in expected.split("&"))
    for name in ("q-header-list", "q-url-param-list", "q-signature"):
        if not hmac.compare_digest(expected_fields[name], fields[name]):
            return f"{name} does not match (expected {expected_fields[name]!r}, got {fields[name]!r})"
    return None


def token_header_for(request: httpx.Request) -> str:
    """``x-ci-security-token`` for CI requests, ``x-cos-security-token`` for COS ones (as the SDK does)."""
    service = request.extensions.get(SERVICE_EXTENSION)
    if service is None:
        service = "ci" if ".ci." in request.url.host else "cos"
    return "x-ci-security-token" if service == "ci" else "x-cos-security-token"


class CosAuth(httpx.Auth):
    """Signs each request with the COS signature; temporary credentials add a signed token header.

    Credentials and time are read per request: role credentials rotate, and tests pin the clock.
    """

    def __init__(
        self,
        credentials: Credentials | CredentialsProvider,
        *,
        clock: Callable[[], float] = time.time,
        expires_in: int = 600,
    ) -> None:
        self._provider = static_credentials(credentials) if isinstance(credentials, Credentials) else credentials
        self._clock = clock
        self._expires_in = expires_in

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        sign_request(request, self._provider(), cos_key_time(self._clock(), self._expires_in))
        yield request


def sign_request(request: httpx.Request, credentials: Credentials, key_time: str) -> None:
    """Add the token header (if any) and the Authorization header to ``request`` in place."""
    if credentials.token:
        request.headers[token_header_for(request)] = credentials.token
    request.headers["Authorization"] = cos_authorization(
        credentials,
        request.method,
        request.url.path,
        request.url.params.multi_items() if request.url.query else (),
        signed_headers(request.headers.items()),
        key_time,
    )
