"""What the deploy tool's reading produces (functions, routes, problems), its variable rules and SCF's limits.

Modelled on the public sources of the Serverless Components CLI's variable resolver, the ``multi-scf``
(0.3.14: ``src/formatter.ts``, ``serverless.component.yml``), ``apigateway`` (0.4.2) and ``layer``
components and ``tencent-component-toolkit`` (2.27.6: ``modules/scf``, ``modules/apigw``, ``modules/triggers``),
plus SCF's documented limits; the facts and their sources are in docs/deploy.md. The readers are in _readers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ENV_REFERENCE",
    "JS_UNDEFINED",
    "Problem",
    "ScfFunction",
    "ApiRoute",
    "InstancePlan",
    "UNDEFINED",
    "js_string",
    "resolve",
]

#: What an unset ``${env:X}`` becomes: JavaScript ``undefined``, written as this text wherever it is stringified.
UNDEFINED = "undefined"
ENV_REFERENCE = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")

# multi-scf 0.3.14 serverless.component.yml: the engine checks these inputs (top level only) before deploying.
MULTI_SCF_RUNTIMES = frozenset({
    "Python2.7", "Python3.6", "Python3.7", "Nodejs6.10", "Nodejs8.9", "Nodejs10.15", "Nodejs12.16",
    "Nodejs14.18", "Nodejs16.13", "Php5", "Php7", "Php7.4", "Php8.0", "Go1", "Java8", "Java11", "CustomRuntime",
})  # fmt: skip
MULTI_SCF_REGIONS = frozenset({
    "ap-beijing", "ap-chengdu", "ap-chongqing", "ap-guangzhou", "ap-hongkong", "ap-mumbai", "ap-seoul",
    "ap-shanghai", "ap-shanghai-fsi", "ap-shenzhen-fsi", "ap-singapore", "ap-tokyo", "eu-frankfurt",
    "na-siliconvalley", "na-toronto",
})  # fmt: skip
# SCF's own Python runtimes (CreateFunction's Runtime), which the toolkit passes through unchecked.
SCF_PYTHON_RUNTIMES = frozenset({"Python2.7", "Python3.6", "Python3.7", "Python3.9", "Python3.10"})
MEMORY_SIZES = frozenset({64, *range(128, 3072 + 1, 128)})
COS_EVENTS = frozenset({
    "cos:ObjectCreated:*", "cos:ObjectCreated:Put", "cos:ObjectCreated:Post", "cos:ObjectCreated:Copy",
    "cos:ObjectCreated:CompleteMultipartUpload", "cos:ObjectCreated:Origin", "cos:ObjectCreated:Replication",
    "cos:ObjectRemove:*", "cos:ObjectRemove:Delete", "cos:ObjectRemove:DeleteMarkerCreated",
    "cos:ObjectRestore:Post", "cos:ObjectRestore:Completed",
})  # fmt: skip
COS_TRIGGER_HOST = re.compile(r"^[a-z0-9][a-z0-9-]*-\d{6,}\.cos\.[a-z]{2}-[a-z]+(?:-[a-z]+)?(?:-\d+)?\.myqcloud\.com$")
RESERVED_PREFIXES = ("TENCENTCLOUD_", "SCF_", "QCLOUD_", "_SCF_")
ENV_BYTES_LIMIT = 4096  # SCF: all of a function's environment variables together
APIGW_METHODS = frozenset({"ANY", "GET", "POST", "PUT", "DELETE", "HEAD"})
APIGW_SERVICE_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]{0,48}[a-zA-Z0-9]?$")


@dataclass(frozen=True)
class Problem:
    """Something the deploy would refuse (``error``), or accept and get wrong (``warning``)."""

    severity: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.where}: {self.message}"


@dataclass
class ScfFunction:
    """What CreateFunction would be called with for one function (and the triggers bound to it)."""

    key: str
    name: str
    runtime: str
    handler: str
    memory_mb: Any
    timeout_s: Any
    role: str | None
    layers: list[tuple[str, str]]
    variables: dict[str, str]
    triggers: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ApiRoute:
    """One API Gateway route and the function behind it."""

    method: str
    path: str
    function_name: str
    integrated_response: bool
    service_timeout_s: int


@dataclass
class InstancePlan:
    """One instance read as the component reads it: the functions, routes and layer it creates, the problems."""

    component: str
    name: str
    region: str
    functions: list[ScfFunction] = field(default_factory=list)
    routes: list[ApiRoute] = field(default_factory=list)
    layer: tuple[str, list[str]] | None = None
    problems: list[Problem] = field(default_factory=list)

    def error(self, where: str, message: str) -> None:
        self.problems.append(Problem("error", where, message))

    def warn(self, where: str, message: str) -> None:
        self.problems.append(Problem("warning", where, message))


class _Undefined:
    """JavaScript ``undefined`` standing alone (a whole value that was one unset variable)."""

    def __repr__(self) -> str:
        return UNDEFINED


JS_UNDEFINED = _Undefined()


def resolve(value: Any, env: Mapping[str, str]) -> Any:
    """``${env:X}`` replaced as the CLI does: a whole-value reference to an unset X is ``undefined``; inside a
    larger string it is the text ``undefined``. Set-but-empty values stay empty strings."""
    if isinstance(value, dict):
        return {key: resolve(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, env) for item in value]
    if not isinstance(value, str):
        return value
    whole = ENV_REFERENCE.fullmatch(value)
    if whole:
        return env.get(whole.group(1), JS_UNDEFINED)
    return ENV_REFERENCE.sub(lambda match: env.get(match.group(1), UNDEFINED), value)


def js_string(value: Any) -> str:
    """How JavaScript stringifies a value into an API parameter (``String(x)``)."""
    if value is JS_UNDEFINED:
        return UNDEFINED
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)
