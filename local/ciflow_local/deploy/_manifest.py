"""The deployment in one place: each function's handler, settings model, limits, role, trigger and variables."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import AliasChoices

from ciflow.callback import CallbackSettings
from ciflow.cleanup import TASKS, CleanupSettings
from ciflow.concerns.hash import HashSettings
from ciflow.concerns.moderate import ModerateSettings
from ciflow.concerns.previews import PreviewsSettings
from ciflow.concerns.transcode import TranscodeSettings
from ciflow.concerns.unzip import UnzipSettings
from ciflow.config import CoreSettings, load_settings
from ciflow.errors import ConfigError
from ciflow.handlers import UploadSettings

__all__ = [
    "APP",
    "DEPLOY_VARIABLES",
    "FUNCTIONS",
    "LAYER",
    "RUNTIME",
    "ApigwTrigger",
    "CosTrigger",
    "FunctionSpec",
    "TimerTrigger",
    "function",
    "settings_problems",
    "sink_secret_variables",
]

#: The instance name in serverless.yml; every function is named ``<APP>-<key>``.
APP = "ciflow"
#: The core layer's name (layer/serverless.yml).
LAYER = "ciflow-core"
#: SCF's runtime name for CPython 3.10, the version the suite runs on.
RUNTIME = "Python3.10"
#: Read by the deploy itself, not by any function: where to deploy and which layer version to attach.
DEPLOY_VARIABLES = ("CIFLOW_REGION", "CIFLOW_LAYER_VERSION")
# Set by SCF itself: a deployment may not define them, and the settings read them only as fallbacks.
_PLATFORM_PREFIXES = ("TENCENTCLOUD_", "SCF_", "QCLOUD_")
# Set in every function's environment whatever the deployment: pydantic skips its plugin scan at cold start.
_ALWAYS = {"PYDANTIC_DISABLE_PLUGINS": "__all__"}


@dataclass(frozen=True)
class CosTrigger:
    """Object-created events under ``prefix`` (and ending in ``suffix``) of the deployment's bucket."""

    prefix: str
    suffix: str = ""
    events: str = "cos:ObjectCreated:*"


@dataclass(frozen=True)
class ApigwTrigger:
    """A POST route of an API Gateway service whose answer is the function's own status, headers and body."""

    path: str
    service: str
    method: str = "POST"


@dataclass(frozen=True)
class TimerTrigger:
    """SCF's seven-field cron (second minute hour day month weekday year); ``argument`` becomes ``Message``."""

    name: str
    cron: str
    argument: str


@dataclass(frozen=True)
class FunctionSpec:
    """One SCF function: what runs, with which settings, limits and role, woken by which trigger."""

    key: str
    settings: type[CoreSettings]
    trigger: CosTrigger | ApigwTrigger | TimerTrigger
    #: Variables without which the function cannot start (or, for uploads, would submit jobs nobody hears of).
    required: tuple[str, ...]
    description: str
    memory_mb: int = 128
    timeout_s: int = 60
    fixed: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{APP}-{self.key}"

    @property
    def handler(self) -> str:
        return f"{self.key}/index.main_handler"

    @property
    def role(self) -> str:
        """The execution role: SCF injects its temporary credentials as ``TENCENTCLOUD_*``."""
        return f"{APP}-{self.key}"

    @property
    def fixed_environment(self) -> dict[str, str]:
        return {**_ALWAYS, "CIFLOW_SERVICE": self.name, **self.fixed}

    def required_in(self, env: Mapping[str, str]) -> tuple[str, ...]:
        """``required`` as the deployment chose: TDMQ or queue-level callbacks need no callback URL or token."""
        if issubclass(self.settings, UploadSettings) and env.get("CIFLOW_CALLBACK_TYPE", "Url") in {"TDMQ", "Queue"}:
            return tuple(name for name in self.required if name not in _URL_CALLBACK)
        return self.required

    def variables(self) -> set[str]:
        """Every variable this function's settings read (first alias of each field), platform ones aside."""
        names: set[str] = set()
        for info in self.settings.model_fields.values():
            alias = info.validation_alias
            first = alias.choices[0] if isinstance(alias, AliasChoices) else alias
            if isinstance(first, str) and not first.startswith(_PLATFORM_PREFIXES):
                names.add(first)
        return names


_URL_CALLBACK = ("CIFLOW_CALLBACK_URL", "CIFLOW_CALLBACK_TOKEN")
_CORE = ("CIFLOW_REGION", "CIFLOW_BUCKET", "CIFLOW_USERDATA_SECRET")
_UPLOAD_REQUIRED = (*_CORE, *_URL_CALLBACK)
_CALLBACK_REQUIRED = (*_CORE, "CIFLOW_CALLBACK_TOKEN")


def _upload(key: str, settings: type[CoreSettings], description: str, suffix: str = "") -> FunctionSpec:
    prefix = f"uploads/{key}/"
    return FunctionSpec(
        key=key,
        settings=settings,
        trigger=CosTrigger(prefix=prefix, suffix=suffix),
        required=_UPLOAD_REQUIRED,
        description=description,
        fixed={"CIFLOW_FILTER_PREFIXES": prefix},  # the runtime guard matches the trigger's rule
    )


FUNCTIONS: tuple[FunctionSpec, ...] = (
    _upload("moderate", ModerateSettings, "ciflow: CI moderation of every upload"),
    _upload("transcode", TranscodeSettings, "ciflow: CI transcoding of every video and audio upload"),
    _upload("hash", HashSettings, "ciflow: MD5/SHA1/SHA256 of every upload"),
    _upload("unzip", UnzipSettings, "ciflow: CI extraction of every uploaded archive", suffix=".zip"),
    _upload("previews", PreviewsSettings, "ciflow: thumbnails, frames, covers and document pages"),
    FunctionSpec(
        key="callback",
        settings=CallbackSettings,
        # CI calls the function through API Gateway and retries on 5xx: the service waits as long as the function.
        trigger=ApigwTrigger(path="/callback", service="ciflow_callback"),
        required=_CALLBACK_REQUIRED,
        description="ciflow: CI job reports, verified, normalised and routed once",
        timeout_s=30,
    ),
    FunctionSpec(
        key="cleanup",
        settings=CleanupSettings,
        trigger=TimerTrigger(
            name="ciflow-cleanup",
            cron="0 */10 * * * * *",
            argument=",".join(TASKS),  # every task, in run order
        ),
        required=_CALLBACK_REQUIRED,
        description="ciflow: reconcile lost callbacks, cancel stuck jobs, purge temporary outputs",
        memory_mb=256,
        timeout_s=300,
        # Unfinished uploads are finished by invoking their function: the names are this manifest's.
        fixed={"CIFLOW_CLEANUP_FUNCTION_PREFIX": f"{APP}-"},
    ),
)


def function(key: str) -> FunctionSpec:
    """The function deployed under ``key``; KeyError names the known ones."""
    for spec in FUNCTIONS:
        if spec.key == key:
            return spec
    raise KeyError(f"no function {key!r}; functions: {', '.join(spec.key for spec in FUNCTIONS)}")


def _sink_secret_variables(env: Mapping[str, str]) -> dict[str, str]:
    """Variables that CIFLOW_SINKS names as secrets (webhook signing secret, AMQP URL) -> the sink needing it."""
    try:
        sinks = json.loads(env.get("CIFLOW_SINKS", "") or "{}")
    except ValueError:
        return {}  # the settings check reports the bad JSON
    wanted: dict[str, str] = {}
    if not isinstance(sinks, dict):
        return wanted
    for name, spec in sinks.items():
        kind = spec.get("type") if isinstance(spec, dict) else None
        if kind == "webhook":
            wanted[str(spec.get("secret_env", "CIFLOW_WEBHOOK_SECRET"))] = name
        elif kind == "amqp":
            wanted[str(spec.get("url_env", "CIFLOW_AMQP_URL"))] = name
    return wanted


def sink_secret_variables(spec: FunctionSpec, env: Mapping[str, str]) -> set[str]:
    """The secret variables the function's sinks read straight from the environment (routing functions only)."""
    return set(_sink_secret_variables(env)) if issubclass(spec.settings, CallbackSettings) else set()


def settings_problems(key: str, env: Mapping[str, str]) -> dict[str, str]:
    """Variable -> what is wrong, for function ``key`` deployed with ``env``; empty when it would start."""
    spec = function(key)
    problems: dict[str, str] = {}
    for name in spec.required_in(env):
        if not env.get(name, "").strip():
            problems[name] = "not set (required for a deployment)"
    try:
        load_settings(spec.settings, {**env, **spec.fixed_environment})
    except ConfigError as exc:
        for name, message in exc.problems.items():
            problems.setdefault(name, message)
    if issubclass(spec.settings, CallbackSettings):
        for variable, sink in _sink_secret_variables(env).items():
            if not env.get(variable, "").strip():
                problems.setdefault(variable, f"not set (secret of sink {sink!r})")
    return problems
