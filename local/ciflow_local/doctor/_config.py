"""What the doctor checks against: the deployment's variables, its functions, and what those need from CI."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import httpx

from ciflow.client import CiClient, Endpoint, RetryPolicy
from ciflow.config import CoreSettings, load_settings
from ciflow.errors import ConfigError
from ciflow.signing import Credentials

from ..deploy import FUNCTIONS

__all__ = [
    "ALL_FUNCTIONS",
    "API_ENDPOINT_VARIABLE",
    "LAYER_NAME",
    "SERVICE_NAMES",
    "DoctorConfig",
    "SettingsProblems",
    "credentials_from",
    "patched_environ",
]

#: The deployment's functions, by key (``ciflow_local.deploy.FUNCTIONS``).
ALL_FUNCTIONS = tuple(spec.key for spec in FUNCTIONS)
#: The layer ``deploy/layer/serverless.yml`` publishes.
LAYER_NAME = "ciflow-core"
#: Doctor-only override of the Tencent Cloud API 3.0 endpoint (never a function setting).
API_ENDPOINT_VARIABLE = "CIFLOW_DOCTOR_API_ENDPOINT"
#: CI's service families as the checks name them.
SERVICE_NAMES = {
    "media": "media processing",
    "file": "file processing",
    "doc": "document processing",
    "pic": "picture processing",
    "moderation": "content moderation",
}
#: ``settings_problems(function, env) -> {variable: problem}`` (``ciflow_local.deploy``).
SettingsProblems = Callable[[str, Mapping[str, str]], dict[str, str]]
_PREVIEW_SERVICES = {"image": "pic", "video": "media", "document": "doc"}
_SERVICES = {"moderate": ("moderation",), "transcode": ("media",), "hash": ("file",), "unzip": ("file",)}
_QUEUE_ID_FAMILIES = {"transcode": "media", "hash": "file", "unzip": "file"}


@dataclass(frozen=True)
class DoctorConfig:
    """One doctor run: ``env`` (environment plus env file), the functions deployed, endpoints and limits."""

    env: Mapping[str, str]
    functions: tuple[str, ...] = ALL_FUNCTIONS
    api_endpoint: str | None = None
    timeout: float = 10.0
    layer_name: str = LAYER_NAME
    skip: frozenset[str] = frozenset()
    settings_problems: SettingsProblems | None = None
    clock: Callable[[], float] = time.time

    def uses(self, *functions: str) -> bool:
        return any(function in self.functions for function in functions)

    def preview_kinds(self) -> list[str]:
        raw = self.env.get("CIFLOW_PREVIEWS_KINDS", "").strip()
        kinds = [part.strip() for part in raw.split(",") if part.strip()] if raw else list(_PREVIEW_SERVICES)
        return [kind for kind in kinds if kind in _PREVIEW_SERVICES]

    def services(self) -> dict[str, list[str]]:
        """CI service -> the configured functions that need it."""
        needed: dict[str, list[str]] = {}
        for function in self.functions:
            names: tuple[str, ...] = _SERVICES.get(function, ())
            if function == "previews":
                names = tuple(_PREVIEW_SERVICES[kind] for kind in self.preview_kinds())
            for name in names:
                needed.setdefault(name, []).append(function)
        return needed

    def queue_families(self) -> dict[str, list[str]]:
        """Queue family of ``CIFLOW_QUEUE_ID`` -> the functions that submit jobs to it."""
        families: dict[str, list[str]] = {}
        for function in self.functions:
            family = _QUEUE_ID_FAMILIES.get(function)
            if function == "previews" and "video" in self.preview_kinds():
                family = "media"
            if family:
                families.setdefault(family, []).append(function)
        return families

    def core_settings(self) -> CoreSettings:
        """Region, bucket and endpoint; ``ConfigError`` names what is wrong."""
        return load_settings(CoreSettings, self.env)

    def client(self, endpoint: Endpoint | None = None) -> CiClient:
        """A client of the bucket's hosts (or ``endpoint``), one attempt per call, the doctor's timeout."""
        settings = self.core_settings()
        credentials = credentials_from(self.env)
        if credentials is None:
            raise ConfigError({"TENCENTCLOUD_SECRETID": "not set"})
        timeout = httpx.Timeout(self.timeout)
        return CiClient(endpoint or settings.client_endpoint(), credentials, timeout=timeout, retry=RetryPolicy(1))


def credentials_from(env: Mapping[str, str]) -> Credentials | None:
    """The credentials ``env`` names, or ``None`` when SecretId or SecretKey is missing."""
    secret_id, secret_key = env.get("TENCENTCLOUD_SECRETID", ""), env.get("TENCENTCLOUD_SECRETKEY", "")
    if not secret_id or not secret_key:
        return None
    return Credentials(secret_id, secret_key, env.get("TENCENTCLOUD_SESSIONTOKEN") or None)


@contextlib.contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` carries ``values`` for the block (sinks read their secrets from it), then is restored."""
    changed = {name: os.environ.get(name) for name, value in values.items() if os.environ.get(name) != value}
    os.environ.update({name: values[name] for name in changed})
    try:
        yield
    finally:
        for name, previous in changed.items():
            if previous is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = previous
