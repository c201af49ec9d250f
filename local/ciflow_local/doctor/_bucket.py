"""Checks 3-5: the bucket answers a signed listing, CI is bound with each needed service, named queues are Active."""

from __future__ import annotations

from ciflow import operations as ops
from ciflow.client import CiClient
from ciflow.config import CoreSettings
from ciflow.errors import CiflowError, ServiceError

from ._ci import BUCKET_APIS, QUEUE_APIS, PicHostEndpoint, QueueListing, ci_status, describe_queues
from ._ci import describe_service_buckets as describe_buckets
from ._config import SERVICE_NAMES, DoctorConfig
from ._report import CheckResult, Status, fail, ok, skip

__all__ = ["explain_bucket_error", "check_bucket", "check_binding", "check_services", "check_queues"]

_BUCKET_FIXES = {
    "NoSuchBucket": "CIFLOW_BUCKET must name an existing bucket as <name>-<appid> in CIFLOW_REGION; check both",
    "AccessDenied": "grant these credentials cos:GetBucket on the bucket (and check the bucket policy and ACL); "
    "'Request has expired' means this machine's clock is off",
    "SignatureDoesNotMatch": "TENCENTCLOUD_SECRETKEY does not belong to TENCENTCLOUD_SECRETID (or a proxy changed "
    "the request); use the pair from the CAM console",
    "InvalidAccessKeyId": "TENCENTCLOUD_SECRETID is unknown, or temporary credentials lack (or carry an expired) "
    "TENCENTCLOUD_SESSIONTOKEN",
}
_ACTIVATE = {
    "media": "activate media processing for the bucket (CI console, or POST /mediabucket on its CI host)",
    "file": "activate file processing for the bucket (CI console, or POST /file_bucket on its CI host)",
    "doc": "turn on document processing (file preview) for the bucket in the CI console",
    "pic": "activate asynchronous picture processing for the bucket (CI console, or POST /picbucket)",
}
_UNBOUND = "MediaBucketUnBinded"


def explain_bucket_error(error: CiflowError) -> tuple[str, str]:
    """(detail, fix) for a failed bucket request."""
    if isinstance(error, ServiceError):
        detail = f"HTTP {error.status_code} {error.code or '(no code)'}: {error.message or ''}".strip()
        fix = _BUCKET_FIXES.get(error.code or "")
        if fix is None and error.status_code == 404:
            fix = _BUCKET_FIXES["NoSuchBucket"]
        if fix is None and error.status_code == 403:
            fix = _BUCKET_FIXES["AccessDenied"]
        return detail, fix or "see the error code in the COS error-code list"
    return str(error), "check CIFLOW_REGION, CIFLOW_ENDPOINT and that this machine reaches the COS endpoint"


def check_bucket(client: CiClient, settings: CoreSettings) -> CheckResult:
    """``bucket``: a signed listing of one key answers."""
    try:
        client.send(ops.list_objects(max_keys=1))
    except CiflowError as error:
        detail, fix = explain_bucket_error(error)
        return fail("bucket", f"{settings.bucket} in {settings.region}: {detail}", fix)
    return ok("bucket", f"{settings.bucket} in {settings.region} answers a signed listing")


def check_binding(config: DoctorConfig, settings: CoreSettings) -> CheckResult:
    """``ci.binding``: the pic host says ``<CIStatus>on</CIStatus>`` for the bucket."""
    endpoint = PicHostEndpoint(settings.region, settings.bucket, settings.scheme, settings.endpoint)
    name = "ci.binding"
    try:
        with config.client(endpoint) as pic:
            status = pic.send(ci_status())
    except CiflowError as error:
        detail, _ = explain_bucket_error(error)
        fix = "let these credentials read the bucket's CI settings (or run the doctor as the bucket's owner)"
        return fail(name, f"could not read the bucket's CI status: {detail}", fix)
    if status != "on":
        fix = "bind CI to the bucket (CI console: Bucket management > Bind bucket, or PUT / on its pic host)"
        return fail(name, f"CI is not bound to {settings.bucket} (CIStatus {status or 'missing'})", fix)
    return ok(name, f"CI is bound to {settings.bucket}")


def _service(client: CiClient, settings: CoreSettings, service: str, users: list[str]) -> CheckResult:
    name, label = f"ci.{service}", SERVICE_NAMES[service]
    if service == "moderation":
        return ok(name, f"{label} ({', '.join(users)}) needs only CI bound to the bucket (it is)")
    try:
        buckets = client.send(describe_buckets(service, settings.bucket, settings.region))
    except CiflowError as error:
        detail, _ = explain_bucket_error(error)
        return fail(name, f"GET {BUCKET_APIS[service][0]} failed: {detail}", _ACTIVATE[service])
    if settings.bucket not in buckets:
        detail = f"{label} is not activated for {settings.bucket} (needed by {', '.join(users)})"
        return fail(name, detail, _ACTIVATE[service])
    return ok(name, f"{label} active (needed by {', '.join(users)})")


def check_services(
    config: DoctorConfig, client: CiClient, settings: CoreSettings, binding: CheckResult
) -> list[CheckResult]:
    """One ``ci.<service>`` result per service a configured function needs (skipped while CI is not bound)."""
    results = []
    for service, users in config.services().items():
        if binding.status is not Status.OK:
            results.append(skip(f"ci.{service}", "CI is not bound to the bucket: see ci.binding"))
        else:
            results.append(_service(client, settings, service, users))
    return results


def _queue_names(config: DoctorConfig) -> list[tuple[str, str, str, list[str]]]:
    """(check name, variable, family, functions) for every queue variable a configured function reads."""
    named = [
        (f"queue:CIFLOW_QUEUE_ID({family})", "CIFLOW_QUEUE_ID", family, users)
        for family, users in config.queue_families().items()
    ]
    kinds = config.preview_kinds() if config.uses("previews") else []
    if "image" in kinds:
        named.append(("queue:CIFLOW_PREVIEWS_PIC_QUEUE_ID", "CIFLOW_PREVIEWS_PIC_QUEUE_ID", "pic", ["previews"]))
    if "document" in kinds:
        named.append(("queue:CIFLOW_PREVIEWS_DOC_QUEUE_ID", "CIFLOW_PREVIEWS_DOC_QUEUE_ID", "doc", ["previews"]))
    return named


def _queue(client: CiClient, name: str, variable: str, family: str, queue_id: str) -> CheckResult:
    path = QUEUE_APIS[family]
    try:
        listing: QueueListing = client.send(describe_queues(family, (queue_id,)))
    except ServiceError as error:
        if error.code == _UNBOUND:
            return fail(name, f"{path} refused: {error.message}", _ACTIVATE[family])
        return fail(
            name, f"GET {path} failed: {explain_bucket_error(error)[0]}", "grant the credentials CI's describe actions"
        )
    except CiflowError as error:
        return fail(name, f"GET {path} failed: {error}", "check the network and CIFLOW_ENDPOINT")
    state = listing.states.get(queue_id)
    if state is None:
        known = _known_queues(client, family)
        fix = f"set {variable} to one of this bucket's {family} queues ({known}) or unset it to use the default queue"
        return fail(name, f"{variable}={queue_id} is not a {family} queue of the bucket (NonExistPIDs)", fix)
    if state != "Active":
        fix = f"resume the queue (CI console, or PUT {path}/{queue_id} with State Active)"
        return fail(name, f"{variable}={queue_id} is {state}: its jobs wait", fix)
    return ok(name, f"{variable}={queue_id} is an Active {family} queue")


def _known_queues(client: CiClient, family: str) -> str:
    try:
        listing = client.send(describe_queues(family))
    except CiflowError:
        return "could not list them"
    return ", ".join(f"{queue_id} {state}" for queue_id, state in listing.states.items()) or "none"


def check_queues(config: DoctorConfig, client: CiClient, services: list[CheckResult]) -> list[CheckResult]:
    """Every queue id the settings name is found by its family's listing and is Active."""
    failed = {result.name.removeprefix("ci.") for result in services if result.status is not Status.OK}
    results = []
    for name, variable, family, users in _queue_names(config):
        queue_id = config.env.get(variable, "").strip()
        if not queue_id:
            results.append(skip(name, f"{variable} not set: {', '.join(users)} use the service's default queue"))
        elif family in failed:
            results.append(skip(name, f"{SERVICE_NAMES[family]} is not usable: see ci.{family}"))
        else:
            results.append(_queue(client, name, variable, family, queue_id))
    return results
