"""Check 7: the callback URL refuses a probe without the token (401) and echoes one with it (200).

The probe is the JSON body ``{"ciflowProbe": "<nonce>"}``; the callback function answers it with the same body
and routes nothing. Told apart: a 200 without a token (token not checked), API Gateway's envelope of the
function's answer (integrated response off), another 200 (not ciflow's function), 4xx, 5xx and timeouts.
"""

from __future__ import annotations

import json
import secrets
import urllib.parse
from typing import Any

import httpx

from ._config import DoctorConfig
from ._report import CheckResult, fail, ok, skip

__all__ = ["PROBE_FIELD", "probe_body", "envelope_of", "check_callback"]

PROBE_FIELD = "ciflowProbe"
_INTEGRATED = (
    "enable the integrated response on the API (serverless.yml apigw trigger: isIntegratedResponse: true), "
    "so API Gateway passes the function's status and body through"
)
_DEPLOY = "deploy the current callback function (functions/callback) with the current ciflow-core layer behind it"


def probe_body(nonce: str) -> bytes:
    return json.dumps({PROBE_FIELD: nonce}).encode()


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def envelope_of(body: Any) -> dict[str, Any] | None:
    """The function's own answer when API Gateway returned it as a JSON body (integrated response off)."""
    if isinstance(body, dict) and isinstance(body.get("statusCode"), int) and "body" in body:
        return body
    return None


def _url(raw: str, token: str | None) -> str:
    """The callback URL without any token of its own, plus ``token`` when given."""
    parts = urllib.parse.urlsplit(raw)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True) if k != "token"]
    if token is not None:
        query.append(("token", token))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def _post(config: DoctorConfig, url: str, nonce: str) -> httpx.Response | str:
    """The answer, or why there is none."""
    try:
        with httpx.Client(timeout=config.timeout, follow_redirects=False) as http:
            return http.post(url, content=probe_body(nonce), headers={"content-type": "application/json"})
    except httpx.TimeoutException:
        return f"no answer within {config.timeout:g} s"
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"


def _common_failure(name: str, answer: httpx.Response | str) -> CheckResult | None:
    """Failures both probes report the same way: no answer, an envelope, a 5xx, a 404."""
    if isinstance(answer, str):
        return fail(name, answer, "check CIFLOW_CALLBACK_URL, that the API is published, and the function's timeout")
    envelope = envelope_of(_json(answer))
    if answer.status_code == 200 and envelope is not None:
        detail = f"200 wrapping the function's answer (statusCode {envelope['statusCode']}): integrated response is off"
        return fail(name, detail, _INTEGRATED)
    if answer.status_code >= 500:
        fix = "read the callback function's logs (a cold-start ConfigError or a crash); 502 also means an answer "
        return fail(name, f"HTTP {answer.status_code}: {answer.text[:200]}", fix + "API Gateway could not read")
    if answer.status_code == 404:
        return fail(name, "HTTP 404: no API at this path", "check CIFLOW_CALLBACK_URL (path and release stage)")
    return None


def _unauthenticated(config: DoctorConfig, url: str) -> CheckResult:
    name = "callback.auth"
    answer = _post(config, _url(url, None), secrets.token_hex(8))
    failure = _common_failure(name, answer)
    if failure is not None:
        return failure
    assert isinstance(answer, httpx.Response)
    if answer.status_code == 401:
        return ok(name, "a request without the token is refused (401)")
    if answer.status_code == 200:
        return fail(name, "answered 200 without a token: the token is not checked", _DEPLOY)
    detail = f"HTTP {answer.status_code} without a token (expected 401 from the callback function)"
    return fail(name, detail, "let API Gateway pass requests through unauthenticated (authType NONE): CI cannot sign")


def _authenticated(config: DoctorConfig, url: str, token: str) -> CheckResult:
    name = "callback.probe"
    nonce = secrets.token_hex(12)
    answer = _post(config, _url(url, token), nonce)
    failure = _common_failure(name, answer)
    if failure is not None:
        return failure
    assert isinstance(answer, httpx.Response)
    status = answer.status_code
    if status == 403:
        return fail(
            name, "403: the function refuses CIFLOW_CALLBACK_TOKEN", "give the function this token (or fix it here)"
        )
    if status == 401:
        return fail(name, "401: the token did not reach the function", "keep the query string on the API (token=…)")
    if status != 200:
        return fail(name, f"HTTP {status}: {answer.text[:200]}", _DEPLOY)
    body = _json(answer)
    if isinstance(body, dict) and body.get(PROBE_FIELD) == nonce:
        return ok(name, "the probe was echoed (200): token accepted, function answering")
    return fail(name, f"answered 200 without echoing the probe: {answer.text[:120]!r}", _DEPLOY)


def check_callback(config: DoctorConfig) -> list[CheckResult]:
    """``callback.auth`` and ``callback.probe`` (skipped when no URL is set and results come another way)."""
    url, token = config.env.get("CIFLOW_CALLBACK_URL", ""), config.env.get("CIFLOW_CALLBACK_TOKEN", "")
    if not url:
        kind = config.env.get("CIFLOW_CALLBACK_TYPE")
        if kind == "TDMQ":
            return [skip("callback", "CIFLOW_CALLBACK_TYPE=TDMQ: CI publishes results to TDMQ, no callback URL")]
        if kind == "Queue":
            return [skip("callback", "CIFLOW_CALLBACK_TYPE=Queue: the CI queue's own NotifyConfig reports results")]
        fix = "set CIFLOW_CALLBACK_URL to the callback function's API Gateway URL (scf deploy prints it)"
        return [fail("callback", "CIFLOW_CALLBACK_URL not set", fix)]
    if not token:
        return [fail("callback", "CIFLOW_CALLBACK_TOKEN not set", "set the token the callback function checks")]
    return [_unauthenticated(config, url), _authenticated(config, url, token)]
