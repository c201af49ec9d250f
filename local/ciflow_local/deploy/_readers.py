"""The components' readings of serverless.yml: multi-scf (merge, env, triggers), apigateway and layer inputs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ._component import (
    APIGW_METHODS,
    APIGW_SERVICE_NAME,
    COS_EVENTS,
    COS_TRIGGER_HOST,
    ENV_BYTES_LIMIT,
    ENV_REFERENCE,
    JS_UNDEFINED,
    MEMORY_SIZES,
    MULTI_SCF_REGIONS,
    MULTI_SCF_RUNTIMES,
    RESERVED_PREFIXES,
    SCF_PYTHON_RUNTIMES,
    ApiRoute,
    InstancePlan,
    ScfFunction,
    js_string,
    resolve,
)

__all__ = ["read_instance", "unset_references"]

# multi-scf's CONFIGS: what the common inputs default to.
_DEFAULTS = {"type": "event", "namespace": "default", "runtime": "Nodejs12.16", "description": "Created by Serverless"}


def unset_references(value: Any, env: Mapping[str, str], path: str = "") -> dict[str, list[str]]:
    """Unset variable -> the places (dotted paths) that reference it."""
    found: dict[str, list[str]] = {}
    if isinstance(value, dict):
        items: list[tuple[str, Any]] = [(f"{path}.{key}" if path else str(key), item) for key, item in value.items()]
    elif isinstance(value, list):
        items = [(f"{path}[{index}]", item) for index, item in enumerate(value)]
    else:
        for name in ENV_REFERENCE.findall(value if isinstance(value, str) else ""):
            if name not in env:
                found.setdefault(name, []).append(path)
        return found
    for where, item in items:
        for name, places in unset_references(item, env, where).items():
            found.setdefault(name, []).extend(places)
    return found


def read_instance(document: Mapping[str, Any], env: Mapping[str, str], base_dir: Path | None = None) -> InstancePlan:
    """One serverless.yml (parsed YAML) read with ``env`` as the deploy environment, from folder ``base_dir``."""
    resolved = resolve(dict(document), env)
    inputs = resolved.get("inputs") or {}
    component = js_string(resolved.get("component", ""))
    region = js_string(inputs.get("region", "ap-guangzhou"))
    plan = InstancePlan(component=component, name=js_string(resolved.get("name", "")), region=region)
    for name, places in sorted(unset_references(dict(document), env).items()):
        plan.error("${env:" + name + "}", f"unset when deploying: becomes 'undefined' at {', '.join(places[:3])}")
    reader = _READERS.get(component)
    if reader is None:
        plan.error("component", f"not one ciflow deploys: {component!r}")
        return plan
    reader(plan, resolved, inputs, base_dir)
    return plan


def _check_multi_scf_inputs(plan: InstancePlan, inputs: Mapping[str, Any]) -> None:
    """The engine's input check (serverless.component.yml): top-level keys only; memory/timeout only warn."""
    region = inputs.get("region")
    if region is not JS_UNDEFINED and region not in MULTI_SCF_REGIONS:
        plan.error("inputs.region", f"{js_string(region)!r} is not in multi-scf's region allow-list")
    if "runtime" in inputs and inputs["runtime"] not in MULTI_SCF_RUNTIMES:
        plan.error("inputs.runtime", f"{js_string(inputs['runtime'])!r} is not in multi-scf's runtime allow-list")
    if "memorySize" in inputs and inputs["memorySize"] not in MEMORY_SIZES:
        plan.warn("inputs.memorySize", f"{inputs['memorySize']!r} is not 64 or 128..3072 in steps of 128")
    if "timeout" in inputs and not (isinstance(inputs["timeout"], int) and inputs["timeout"] >= 1):
        plan.warn("inputs.timeout", f"{inputs['timeout']!r} is below 1")


def _variables(plan: InstancePlan, where: str, merged: Mapping[str, Any]) -> dict[str, str]:
    """``environments: [{key, value}]`` -> SCF's variables, values stringified as the toolkit sends them."""
    if "environments" not in merged and "environment" in merged:
        plan.warn(where, "'environment' is ignored by multi-scf 0.3.14, which reads 'environments'")
    entries = merged.get("environments") or []
    variables: dict[str, str] = {}
    for entry in entries if isinstance(entries, list) else []:
        key = js_string(entry.get("key")) if isinstance(entry, dict) else "[object Object]"
        value = entry.get("value") if isinstance(entry, dict) else None
        if key.startswith(RESERVED_PREFIXES):
            plan.error(where, f"variable {key} uses a prefix SCF reserves")
        variables[key] = js_string(value)  # an unset reference is reported once, where it is read
    size = sum(len(key.encode()) + len(value.encode()) for key, value in variables.items())
    if size > ENV_BYTES_LIMIT:
        plan.error(where, f"environment variables total {size} bytes; SCF allows {ENV_BYTES_LIMIT}")
    return variables


def _layers(plan: InstancePlan, where: str, merged: Mapping[str, Any]) -> list[tuple[str, str]]:
    layers: list[tuple[str, str]] = []
    for layer in merged.get("layers") or []:
        name, version = js_string(layer.get("name")), layer.get("version")
        if version is JS_UNDEFINED or version in (None, ""):
            plan.error(where, f"layer {name}: version unset, so the toolkit drops it: the function starts without it")
            continue
        layers.append((name, js_string(version)))
    return layers


def _scf_function(plan: InstancePlan, key: str, merged: Mapping[str, Any], base_dir: Path | None) -> ScfFunction:
    where = f"functions.{key}"
    runtime, handler = js_string(merged.get("runtime")), js_string(merged.get("handler"))
    if runtime.startswith("Python") and runtime not in SCF_PYTHON_RUNTIMES:
        plan.error(where, f"SCF has no runtime {runtime!r}")
    memory, timeout = merged.get("memorySize", 128), merged.get("timeout", 3)
    if memory not in MEMORY_SIZES:
        plan.error(where, f"memorySize {memory!r}: SCF takes 64 or 128..3072 in steps of 128")
    if not (isinstance(timeout, int) and 1 <= timeout <= 900):
        plan.error(where, f"timeout {timeout!r}: SCF takes 1..900 seconds")
    role = merged.get("role")
    if not role or role is JS_UNDEFINED:
        plan.error(where, "no role: SCF injects no TENCENTCLOUD_SECRETID/SECRETKEY/SESSIONTOKEN, every call is refused")
    _check_handler(plan, where, handler, merged, base_dir)
    return ScfFunction(
        key=key,
        name=js_string(merged.get("name")),
        runtime=runtime,
        handler=handler,
        memory_mb=memory,
        timeout_s=timeout,
        role=js_string(role) if role and role is not JS_UNDEFINED else None,
        layers=_layers(plan, where, merged),
        variables=_variables(plan, where, merged),
    )


def _check_handler(
    plan: InstancePlan, where: str, handler: str, merged: Mapping[str, Any], base_dir: Path | None
) -> None:
    module, _, attribute = handler.rpartition(".")
    if not module or not attribute:
        plan.error(where, f"handler {handler!r} is not '<file path without .py>.<function>'")
        return
    src = merged.get("src")
    folder = src.get("src") if isinstance(src, dict) else src
    if base_dir is not None and isinstance(folder, str):
        source = (base_dir / folder / f"{module}.py").resolve()
        if not source.is_file():
            plan.error(where, f"handler file {source} does not exist")
        elif f"{attribute} = " not in source.read_text() and f"def {attribute}(" not in source.read_text():
            plan.error(where, f"{source} defines no {attribute}")


def _read_multi_scf(
    plan: InstancePlan, document: Mapping[str, Any], inputs: Mapping[str, Any], base: Path | None
) -> None:
    _check_multi_scf_inputs(plan, inputs)
    common = {key: value for key, value in inputs.items() if key not in {"functions", "triggers"}}
    common.update({key: inputs.get(key) or default for key, default in _DEFAULTS.items()})
    name, stage = plan.name, js_string(document.get("stage") or "dev")
    app = js_string(document.get("app") or name)
    by_key: dict[str, ScfFunction] = {}
    for key, function in (inputs.get("functions") or {}).items():
        merged = {**common, **function}  # Object.assign: a key the function sets replaces the common one whole
        merged["name"] = merged.get("name") or f"{name}-{stage}-{app}-{key}"
        by_key[key] = _scf_function(plan, key, merged, base)
    plan.functions = list(by_key.values())
    cos_rules: list[tuple[str, str, str, str]] = []
    for index, trigger in enumerate(inputs.get("triggers") or []):
        _bind_trigger(plan, f"triggers[{index}]", trigger, by_key, cos_rules)


def _bind_trigger(
    plan: InstancePlan,
    where: str,
    trigger: Mapping[str, Any],
    by_key: Mapping[str, ScfFunction],
    cos_rules: list[tuple[str, str, str, str]],
) -> None:
    kind, parameters = js_string(trigger.get("type")), trigger.get("parameters") or {}
    if kind == "apigw":
        for api in parameters.get("apis") or []:
            key = js_string(api.get("function"))
            if key not in by_key:
                plan.error(where, f"the component throws 'Function {key} not in deploy list': the deploy aborts")
                continue
            # formatTriggerInputs replaces api.function with its own object: isIntegratedResponse is lost.
            route = ApiRoute(js_string(api.get("method")), js_string(api.get("path")), by_key[key].name, False, 15)
            plan.routes.append(route)
            by_key[key].triggers.append(f"apigw {route.method} {route.path} (integrated response off)")
        return
    key = js_string(trigger.get("function"))
    if key not in by_key:
        plan.error(where, f"the component throws 'Function {key} not in deploy list': the deploy aborts")
        return
    if kind == "cos":
        by_key[key].triggers.append(_cos_trigger(plan, where, key, parameters, cos_rules))
    elif kind == "timer":
        cron = js_string(parameters.get("cronExpression"))
        if len(cron.split()) != 7:
            plan.error(where, f"cronExpression {cron!r}: SCF's timer takes 7 fields (second .. year)")
        by_key[key].triggers.append(f"timer {cron} argument={js_string(parameters.get('argument', ''))!r}")
    else:
        plan.error(where, f"trigger type {kind!r} is not one ciflow uses")


def _cos_trigger(
    plan: InstancePlan,
    where: str,
    key: str,
    parameters: Mapping[str, Any],
    cos_rules: list[tuple[str, str, str, str]],
) -> str:
    bucket, events = js_string(parameters.get("bucket")), js_string(parameters.get("events"))
    rule = parameters.get("filter") or {}
    prefix, suffix = js_string(rule.get("prefix", "")), js_string(rule.get("suffix", ""))
    if not COS_TRIGGER_HOST.match(bucket):
        plan.error(where, f"COS trigger bucket {bucket!r} is not '<name>-<appid>.cos.<region>.myqcloud.com'")
    if events not in COS_EVENTS:
        plan.error(where, f"COS event {events!r} is not one COS sends")
    for other_key, other_bucket, other_events, other_prefix in cos_rules:
        same_target = other_bucket == bucket and other_events == events
        if same_target and (prefix.startswith(other_prefix) or other_prefix.startswith(prefix)):
            plan.error(where, f"COS refuses rules that overlap: {key} {prefix!r} and {other_key} {other_prefix!r}")
    cos_rules.append((key, bucket, events, prefix))
    enabled = parameters.get("enable") is True
    if not enabled:
        plan.warn(where, f"COS trigger of {key} is not enabled")
    return f"cos {bucket} {events} prefix={prefix!r} suffix={suffix!r}" + ("" if enabled else " (disabled)")


def _read_apigateway(
    plan: InstancePlan, document: Mapping[str, Any], inputs: Mapping[str, Any], base: Path | None
) -> None:
    service = js_string(inputs.get("serviceName", "serverless"))
    if not APIGW_SERVICE_NAME.match(service):
        plan.error("inputs.serviceName", f"{service!r} does not match the component's pattern")
    if not set(inputs.get("protocols") or ["http"]) <= {"http", "https"}:
        plan.error("inputs.protocols", "only http and https")
    if js_string(inputs.get("environment", "release")) not in {"release", "test", "prepub"}:
        plan.error("inputs.environment", "must be release, test or prepub")
    for index, endpoint in enumerate(inputs.get("endpoints") or []):
        where, function = f"endpoints[{index}]", endpoint.get("function") or {}
        method, timeout = js_string(endpoint.get("method", "ANY")), endpoint.get("serviceTimeout", 15)
        if method not in APIGW_METHODS:
            plan.error(where, f"method {method!r} is not in the component's allow-list")
        if not (isinstance(timeout, int) and 1 <= timeout <= 1800):
            plan.error(where, f"serviceTimeout {timeout!r}: the component takes 1..1800")
        if not function.get("functionName"):
            plan.error(where, "the toolkit throws '\"endpoints.function.functionName\" is required'")
            continue
        integrated = function.get("isIntegratedResponse") is True
        plan.routes.append(
            ApiRoute(method, js_string(endpoint.get("path", "/")), function["functionName"], integrated, timeout)
        )


def _read_layer(plan: InstancePlan, document: Mapping[str, Any], inputs: Mapping[str, Any], base: Path | None) -> None:
    runtimes = [js_string(runtime) for runtime in inputs.get("runtimes") or []]
    unknown = [runtime for runtime in runtimes if runtime.startswith("Python") and runtime not in SCF_PYTHON_RUNTIMES]
    if unknown:
        plan.error("inputs.runtimes", f"SCF has no runtimes {unknown}")
    src = inputs.get("src")
    if base is not None and isinstance(src, str) and not (base / src).is_dir():
        plan.warn("inputs.src", f"{(base / src).resolve()} does not exist yet: `make layer` builds it")
    plan.layer = (js_string(inputs.get("name")), runtimes)


_READERS: dict[str, Callable[[InstancePlan, Mapping[str, Any], Mapping[str, Any], Path | None], None]] = {
    "multi-scf": _read_multi_scf,
    "apigateway": _read_apigateway,
    "layer": _read_layer,
}
