"""Check 6: SCF API 3.0 ``GetLayerVersion`` finds ``ciflow-core`` at ``CIFLOW_LAYER_VERSION`` and it is Active."""

from __future__ import annotations

import json
from typing import Any

import httpx

from ciflow.signing import tc3_headers

from ._config import API_ENDPOINT_VARIABLE, DoctorConfig, credentials_from
from ._report import CheckResult, fail, ok

__all__ = ["SCF_HOST", "SCF_VERSION", "ApiError", "get_layer_version", "check_layer"]

SCF_HOST = "scf.tencentcloudapi.com"
SCF_VERSION = "2018-04-16"
_PUBLISH = (
    "build and publish the layer (make layer; cd layer && scf deploy) and set CIFLOW_LAYER_VERSION to its version"
)


class ApiError(Exception):
    """An API 3.0 ``Response.Error``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


def get_layer_version(config: DoctorConfig, name: str, version: int) -> dict[str, Any]:
    """The ``Response`` of ``GetLayerVersion``; ``ApiError`` for its ``Error``, ``httpx.HTTPError`` for transport."""
    credentials = credentials_from(config.env)
    assert credentials is not None, "checked by the caller"
    payload = json.dumps({"LayerName": name, "LayerVersion": version}).encode()
    region = config.env.get("CIFLOW_REGION") or config.env.get("TENCENTCLOUD_REGION") or "ap-guangzhou"
    headers = tc3_headers(
        credentials,
        service="scf",
        host=SCF_HOST,
        action="GetLayerVersion",
        version=SCF_VERSION,
        region=region,
        payload=payload,
        timestamp=int(config.clock()),
    )
    base = (config.api_endpoint or config.env.get(API_ENDPOINT_VARIABLE) or f"https://{SCF_HOST}").rstrip("/")
    with httpx.Client(timeout=config.timeout) as http:
        response = http.post(base + "/", content=payload, headers=headers)
    try:
        answer = response.json()["Response"]
    except (ValueError, KeyError, TypeError):
        raise ApiError("InvalidResponse", f"HTTP {response.status_code}, not an API 3.0 answer") from None
    error = answer.get("Error")
    if isinstance(error, dict):
        raise ApiError(str(error.get("Code")), str(error.get("Message")))
    return dict(answer)


def _fix_for(code: str) -> str:
    if code in ("ResourceNotFound.LayerVersion", "ResourceNotFound.Layer"):
        return _PUBLISH
    if code.startswith("AuthFailure"):
        return "check TENCENTCLOUD_SECRETID/SECRETKEY/SESSIONTOKEN (and this machine's clock)"
    if code.startswith("UnauthorizedOperation"):
        return "grant the credentials scf:GetLayerVersion"
    return "see the SCF API error code list"


def check_layer(config: DoctorConfig) -> CheckResult:
    name = f"layer:{config.layer_name}"
    raw = config.env.get("CIFLOW_LAYER_VERSION", "").strip()
    if not raw:
        return fail(name, "CIFLOW_LAYER_VERSION not set", _PUBLISH)
    if not raw.isdigit() or int(raw) < 1:
        return fail(name, f"CIFLOW_LAYER_VERSION={raw!r} is not a version number", _PUBLISH)
    try:
        answer = get_layer_version(config, config.layer_name, int(raw))
    except ApiError as error:
        return fail(name, f"GetLayerVersion {config.layer_name} {raw}: {error}", _fix_for(error.code))
    except httpx.HTTPError as error:
        fix = f"check the network (or --api-endpoint / {API_ENDPOINT_VARIABLE} when checking the emulator)"
        return fail(name, f"SCF API unreachable: {type(error).__name__}: {error}", fix)
    status, runtimes = answer.get("Status"), ", ".join(answer.get("CompatibleRuntimes") or []) or "none"
    if status != "Active":
        return fail(name, f"version {raw} is {status}", f"wait for it to publish, or {_PUBLISH}")
    return ok(name, f"version {raw} is Active (runtimes: {runtimes})")
