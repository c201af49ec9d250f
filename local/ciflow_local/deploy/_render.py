"""serverless.yml files rendered from the manifest: layer, routing functions, the callback's API, upload functions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ._manifest import (
    APP,
    FUNCTIONS,
    LAYER,
    RUNTIME,
    ApigwTrigger,
    CosTrigger,
    FunctionSpec,
    TimerTrigger,
    sink_secret_variables,
)

__all__ = ["INSTANCES", "Instance", "render_all", "render_instance", "write_all"]


@dataclass(frozen=True)
class Instance:
    """One Serverless Framework instance: a folder under ``deploy/`` with its own serverless.yml."""

    folder: str
    component: str
    purpose: str


#: In deploy order: each needs only what the ones before it created.
INSTANCES: tuple[Instance, ...] = (
    Instance("layer", "layer", "the core and its dependencies as the SCF layer ciflow-core (built by `make layer`)"),
    Instance("routing", "multi-scf", "the callback and cleanup functions, and the cleanup's timer"),
    Instance(
        "api",
        "apigateway",
        "API Gateway in front of the callback function, answering with the function's own status code",
    ),
    Instance("uploads", "multi-scf", "the five upload functions, each on a COS trigger of its own prefix"),
)
_ROUTING = ("callback", "cleanup")


def _ref(name: str) -> str:
    return "${env:" + name + "}"


def _function(spec: FunctionSpec, present: Mapping[str, str]) -> dict[str, Any]:
    # Every key is set per function: multi-scf merges a function over the common inputs shallowly, and its
    # input check reads only the common `runtime`, whose allow-list (0.3.14) stops at Python3.7.
    return {
        "name": spec.name,
        "handler": spec.handler,
        "runtime": RUNTIME,
        "description": spec.description,
        "memorySize": spec.memory_mb,
        "timeout": spec.timeout_s,
        "role": spec.role,
        "layers": [{"name": LAYER, "version": _ref("CIFLOW_LAYER_VERSION")}],
        "environments": _environment_for(spec, present),
    }


def _environment_for(spec: FunctionSpec, present: Mapping[str, str]) -> list[dict[str, str]]:
    fixed = spec.fixed_environment
    wanted = set(spec.required_in(present)) | (set(present) & (spec.variables() | sink_secret_variables(spec, present)))
    entries = [{"key": key, "value": value} for key, value in fixed.items()]
    entries += [{"key": name, "value": _ref(name)} for name in sorted(wanted - set(fixed))]
    return entries


def _trigger(spec: FunctionSpec) -> dict[str, Any]:
    trigger = spec.trigger
    if isinstance(trigger, CosTrigger):
        return {
            "type": "cos",
            "function": spec.key,
            "parameters": {
                "bucket": f"{_ref('CIFLOW_BUCKET')}.cos.{_ref('CIFLOW_REGION')}.myqcloud.com",
                "events": trigger.events,
                "filter": {"prefix": trigger.prefix, "suffix": trigger.suffix},
                "enable": True,
            },
        }
    if isinstance(trigger, TimerTrigger):
        return {
            "type": "timer",
            "function": spec.key,
            "parameters": {
                "name": trigger.name,
                "cronExpression": trigger.cron,
                "enable": True,
                "argument": trigger.argument,
            },
        }
    raise ValueError(f"{spec.key}: an API Gateway route is its own instance (deploy/api), not a multi-scf trigger")


def _multi_scf(folder: str, keys: Iterable[str], present: Mapping[str, str]) -> dict[str, Any]:
    specs = [spec for spec in FUNCTIONS if spec.key in set(keys)]
    return {
        "app": APP,
        "component": "multi-scf",
        "name": f"{APP}-{folder}",
        "inputs": {
            "src": {"src": "../../functions", "exclude": ["**/__pycache__/**", "README.md"]},
            "region": _ref("CIFLOW_REGION"),
            "functions": {spec.key: _function(spec, present) for spec in specs},
            "triggers": [_trigger(spec) for spec in specs if not isinstance(spec.trigger, ApigwTrigger)],
        },
    }


def _api() -> dict[str, Any]:
    (spec,) = [spec for spec in FUNCTIONS if isinstance(spec.trigger, ApigwTrigger)]
    assert isinstance(spec.trigger, ApigwTrigger)
    return {
        "app": APP,
        "component": "apigateway",
        "name": f"{APP}-api",
        "inputs": {
            "region": _ref("CIFLOW_REGION"),
            "serviceName": spec.trigger.service,
            "protocols": ["https"],
            "environment": "release",
            "endpoints": [
                {
                    "path": spec.trigger.path,
                    "method": spec.trigger.method,
                    "apiName": f"{APP}_{spec.key}",
                    "serviceTimeout": spec.timeout_s,
                    "function": {
                        "functionName": spec.name,
                        "functionQualifier": "$LATEST",
                        "isIntegratedResponse": True,
                    },
                }
            ],
        },
    }


def _layer() -> dict[str, Any]:
    return {
        "app": APP,
        "component": "layer",
        "name": LAYER,
        "inputs": {
            "name": LAYER,
            "region": _ref("CIFLOW_REGION"),
            # Packages at the zip root: SCF mounts layers at /opt and puts /opt on PYTHONPATH.
            "src": "../../dist/layer",
            "runtimes": [RUNTIME],
            "description": "ciflow core (signing, safe XML, typed CI models, httpx client) and its dependencies",
        },
    }


def _document(instance: Instance, present: Mapping[str, str]) -> dict[str, Any]:
    if instance.folder == "layer":
        return _layer()
    if instance.folder == "api":
        return _api()
    keys = _ROUTING if instance.folder == "routing" else [s.key for s in FUNCTIONS if s.key not in _ROUTING]
    return _multi_scf(instance.folder, keys, present)


def _header(instance: Instance) -> str:
    return (
        "# Rendered by `ciflow deploy render` from local/ciflow_local/deploy/_manifest.py: edit that, not this.\n"
        f"# Instance {instance.folder!r} ({instance.component}): {instance.purpose}.\n"
        "# Deploy order and commands: docs/deploy.md. Every ${env:X} here must be set when you deploy:\n"
        "# `ciflow deploy check --env-file F` says so before anything is created.\n"
    )


def render_instance(instance: Instance, present: Mapping[str, str] | None = None) -> str:
    """serverless.yml text of ``instance``, referencing the variables ``present`` sets besides the required."""
    document = _document(instance, present or {})
    body: str = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120)
    return _header(instance) + body


def render_all(present: Mapping[str, str] | None = None) -> dict[str, str]:
    """``deploy/<folder>/serverless.yml`` relative path -> text, for every instance."""
    return {f"{instance.folder}/serverless.yml": render_instance(instance, present) for instance in INSTANCES}


def write_all(root: Path, present: Mapping[str, str] | None = None) -> list[Path]:
    """Write every instance's serverless.yml under ``root`` (the ``deploy/`` folder); the paths written."""
    written = []
    for relative, text in render_all(present).items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
