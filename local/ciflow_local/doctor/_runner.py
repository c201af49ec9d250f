"""The checks in order, each skipped (with the reason) when what it needs already failed or was not asked for."""

from __future__ import annotations

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


def _cloud(config: DoctorConfig, credentials: CheckResult) -> list[CheckResult]:
    """Bucket, CI binding and services, queues: all over the bucket's hosts with the given credentials."""
    if credentials.status is not Status.OK:
        return [skip("bucket", "no credentials: see credentials")]
    try:
        settings = config.core_settings()
    except ConfigError as exc:
        return [skip("bucket", f"{', '.join(exc.problems)} not valid: see settings")]
    results: list[CheckResult] = []
    with config.client() as client:
        bucket = (
            check_bucket(config, client, settings)
            if "bucket" not in config.skip
            else skip("bucket", "not checked (--skip bucket)")
        )
        results.append(bucket)
        if bucket.status is Status.FAIL:
            return [*results, skip("ci", "the bucket is unreachable: see bucket")]
        if "ci" in config.skip or not config.services():
            return [
                *results,
                skip("ci", "not checked (--skip ci)" if "ci" in config.skip else "no configured function uses CI"),
            ]
        binding = check_binding(config, client, settings)
        services = check_services(config, client, settings, binding)
        results += [binding, *services]
        if "queues" not in config.skip:
            results += check_queues(config, client, services)
    return results


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
