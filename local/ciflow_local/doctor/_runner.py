"""The checks in order, each skipped (with the reason) when what it needs already failed or was not asked for."""

from __future__ import annotations

from ciflow.client import CiClient
from ciflow.config import CoreSettings
from ciflow.errors import ConfigError

from ._bucket import check_binding, check_bucket, check_queues, check_services
from ._callback import check_callback
from ._config import DoctorConfig
from ._layer import check_layer
from ._report import CheckResult, Status, skip
from ._settings import check_credentials, check_settings
from ._sinks import check_sinks

__all__ = ["GROUPS", "run_doctor"]

#: Check groups ``--skip`` accepts.
GROUPS = ("settings", "credentials", "bucket", "ci", "queues", "layer", "callback", "sinks")


def _ci(config: DoctorConfig, client: CiClient, settings: CoreSettings) -> list[CheckResult]:
    """CI binding, each needed service, then the queues the settings name."""
    if "ci" in config.skip:
        return [skip("ci", "not checked (--skip ci)")]
    if not config.services():
        return [skip("ci", "no configured function uses CI")]
    binding = check_binding(config, settings)
    services = check_services(config, client, settings, binding)
    queues = check_queues(config, client, services) if "queues" not in config.skip else []
    return [binding, *services, *queues]


def _cloud(config: DoctorConfig, credentials: CheckResult) -> list[CheckResult]:
    """Bucket, CI binding and services, queues: all over the bucket's hosts with the given credentials."""
    if credentials.status is not Status.OK:
        return [skip("bucket", "no credentials: see credentials")]
    try:
        settings = config.core_settings()
    except ConfigError as exc:
        return [skip("bucket", f"{', '.join(exc.problems)} not valid: see settings")]
    with config.client() as client:
        if "bucket" in config.skip:
            bucket = skip("bucket", "not checked (--skip bucket)")
        else:
            bucket = check_bucket(client, settings)
        if bucket.status is Status.FAIL:
            return [bucket, skip("ci", "the bucket is unreachable: see bucket")]
        return [bucket, *_ci(config, client, settings)]


def run_doctor(config: DoctorConfig) -> list[CheckResult]:
    """Every check's result, in the order a deploy needs them."""
    results: list[CheckResult] = []
    if "settings" not in config.skip:
        results += check_settings(config)
    credentials = check_credentials(config)
    if "credentials" not in config.skip:
        results.append(credentials)
    results += _cloud(config, credentials)
    if "layer" not in config.skip:
        ok_credentials = credentials.status is Status.OK
        results.append(check_layer(config) if ok_credentials else skip("layer", "no credentials: see credentials"))
    if config.uses("callback") and "callback" not in config.skip:
        results += check_callback(config)
    if config.uses("callback") and "sinks" not in config.skip:
        results += check_sinks(config)
    return results
