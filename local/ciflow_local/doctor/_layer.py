"""Check 6: SCF API 3.0 ``GetLayerVersion`` finds ``ciflow-core`` at ``CIFLOW_LAYER_VERSION`` and it is Active."""

from __future__ import annotations

from typing import Any

import httpx

from ciflow.api3 import SCF_HOST, SCF_VERSION, Api3Error, Api3Target, api3_request, read_api3

from ._config import API_ENDPOINT_VARIABLE, DoctorConfig, credentials_from
from ._report import CheckResult, fail, ok

__all__ = ["check_layer", "get_layer_version"]

_PUBLISH = (
    "build and publish the layer (make layer; cd deploy/layer && scf deploy --noValidation) and set"
    " CIFLOW_LAYER_VERSION to its version"
)


def get_layer_version(config: DoctorConfig, name: str, version: int) -> dict[str, Any]:
    """The ``Response`` of ``GetLayerVersion``; ``Api3Error`` for an error answer, ``httpx.HTTPError`` for transport."""
    credentials = credentials_from(config.env)
    assert credentials is not None, "checked by the caller"
    region = config.env.get("CIFLOW_REGION") or config.env.get("TENCENTCLOUD_REGION") or "ap-guangzhou"
    url = config.api_endpoint or config.env.get(API_ENDPOINT_VARIABLE) or f"https://{SCF_HOST}"
    target = Api3Target(url=url, host=SCF_HOST, service="scf", version=SCF_VERSION, region=region)
    document = {"LayerName": name, "LayerVersion": version}
    request = api3_request(target, "GetLayerVersion", document, credentials, timestamp=int(config.clock()))
    with httpx.Client(timeout=config.timeout) as http:
        return read_api3("GetLayerVersion", http.send(request))


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
    except Api3Error as error:
        return fail(name, f"{config.layer_name} version {raw}: {error}", _fix_for(error.code))
    except httpx.HTTPError as error:
        fix = f"check the network (or --api-endpoint / {API_ENDPOINT_VARIABLE} when checking the emulator)"
        return fail(name, f"SCF API unreachable: {type(error).__name__}: {error}", fix)
    status, runtimes = answer.get("Status"), ", ".join(answer.get("CompatibleRuntimes") or []) or "none"
    if status != "Active":
        return fail(name, f"version {raw} is {status}", f"wait for it to publish, or {_PUBLISH}")
    return ok(name, f"version {raw} is Active (runtimes: {runtimes})")
