"""Every instance under deploy/ read together: what SCF would run, and whether ciflow would work in it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml

from ._component import InstancePlan, ScfFunction
from ._manifest import FUNCTIONS, settings_problems
from ._readers import read_instance
from ._render import INSTANCES

__all__ = ["read_deployment", "describe", "errors_of", "not_passed"]

_SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|_URL$|KEY$")


def _load(path: Path) -> dict[str, object]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file (`ciflow deploy render` writes it)")
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ValueError(f"{path}: not a YAML mapping")
    return document


def read_deployment(root: Path, env: Mapping[str, str], folders: Iterable[str] | None = None) -> list[InstancePlan]:
    """Read ``root/<instance>/serverless.yml`` for each instance (all, or ``folders``), then check them together."""
    wanted = set(folders) if folders is not None else {instance.folder for instance in INSTANCES}
    plans = []
    for instance in INSTANCES:
        if instance.folder in wanted:
            path = root / instance.folder / "serverless.yml"
            plans.append(read_instance(_load(path), env, path.parent))
    _check_together(plans, complete=wanted == {instance.folder for instance in INSTANCES})
    return plans


def _check_together(plans: list[InstancePlan], *, complete: bool) -> None:
    functions = {function.name: (plan, function) for plan in plans for function in plan.functions}
    for plan in plans:
        for function in plan.functions:
            _check_function(plan, function)
    layers = [plan.layer for plan in plans if plan.layer is not None]
    for plan, function in functions.values():
        for name, _version in function.layers:
            for layer_name, runtimes in layers:
                if name == layer_name and function.runtime not in runtimes:
                    plan.error(function.key, f"layer {name} is built for {runtimes}, not {function.runtime}")
    _check_routes(plans, functions, complete=complete)


def _check_function(plan: InstancePlan, function: ScfFunction) -> None:
    key = function.handler.split("/", 1)[0]
    if key not in {spec.key for spec in FUNCTIONS}:
        plan.error(function.key, f"handler {function.handler} is not a ciflow function")
        return
    for variable, message in sorted(settings_problems(key, function.variables).items()):
        plan.error(function.key, f"fails at cold start: {variable}: {message}")
    if not any(name == "ciflow-core" for name, _ in function.layers):
        plan.error(function.key, "no ciflow-core layer: `import ciflow` fails at cold start")


def _check_routes(
    plans: list[InstancePlan], functions: Mapping[str, tuple[InstancePlan, ScfFunction]], *, complete: bool
) -> None:
    routed = set()
    for plan in plans:
        for route in plan.routes:
            routed.add(route.function_name)
            target = functions.get(route.function_name)
            if target is None:
                if complete:
                    plan.error(f"{route.method} {route.path}", f"function {route.function_name} is not deployed")
                continue
            if not route.integrated_response:
                plan.error(
                    f"{route.method} {route.path}",
                    "integrated response is off: API Gateway answers 200 with the function's return value as the"
                    " body, so CI never sees a 401 or 503 and never retries",
                )
            if isinstance(target[1].timeout_s, int) and route.service_timeout_s < target[1].timeout_s:
                plan.error(
                    f"{route.method} {route.path}",
                    f"serviceTimeout {route.service_timeout_s}s < the function's {target[1].timeout_s}s: API Gateway"
                    " gives up on calls the function still finishes",
                )
    for plan, function in functions.values():
        if complete and function.handler.startswith("callback/") and function.name not in routed:
            plan.error(function.key, "no API Gateway route reaches the callback function: CI cannot report jobs")


def not_passed(plans: Iterable[InstancePlan], present: Mapping[str, str]) -> list[str]:
    """Variables the env file sets and a function reads that its serverless.yml does not pass on: lost silently."""
    specs = {spec.name: spec for spec in FUNCTIONS}
    lost = []
    for plan in plans:
        for function in plan.functions:
            spec = specs.get(function.name)
            if spec is None:
                continue
            for variable in sorted((set(present) & spec.variables()) - set(function.variables)):
                lost.append(
                    f"{plan.name}: {function.key}: the env file sets {variable} but serverless.yml does not pass it"
                    " on: run `ciflow deploy render --env-file` with this file"
                )
    return lost


def errors_of(plans: Iterable[InstancePlan]) -> list[str]:
    return [f"{plan.name}: {problem}" for plan in plans for problem in plan.problems if problem.severity == "error"]


def _shown(name: str, value: str) -> str:
    if value == "undefined":
        return "'undefined'"
    return "(set, hidden)" if _SECRET_NAME.search(name) else value


def describe(plans: Iterable[InstancePlan]) -> str:
    """What each instance creates, one block per function, then its problems."""
    lines: list[str] = []
    for plan in plans:
        lines.append(f"== {plan.name} ({plan.component}, region {plan.region})")
        if plan.layer is not None:
            lines.append(f"  layer {plan.layer[0]} for {', '.join(plan.layer[1])}")
        for function in plan.functions:
            layers = ", ".join(f"{name}:{version}" for name, version in function.layers) or "none"
            lines.append(
                f"  function {function.name}: {function.runtime} {function.handler} {function.memory_mb} MB"
                f" {function.timeout_s} s role={function.role or 'NONE'} layers={layers}"
            )
            lines += [f"    trigger {trigger}" for trigger in function.triggers]
            lines += [f"    env {name}={_shown(name, value)}" for name, value in sorted(function.variables.items())]
        for route in plan.routes:
            integrated = "on" if route.integrated_response else "OFF"
            lines.append(
                f"  route {route.method} {route.path} -> {route.function_name}"
                f" (integrated response {integrated}, timeout {route.service_timeout_s} s)"
            )
        lines += [f"  {problem}" for problem in plan.problems]
    return "\n".join(lines)
