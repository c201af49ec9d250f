"""Shared pieces of the concern tests: environment, objects, deliveries and the XML leaves of a body."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from xml.etree.ElementTree import Element, fromstring

from ciflow.events import ObjectRef
from ciflow.handlers import Delivery, PlannedJob
from ciflow.models import MqConfig
from ciflow.routing import RouteTag, encode_user_data

BUCKET = "media-1250000000"
REGION = "ap-guangzhou"
SECRET = "userdata-secret-0123456789"
CALLBACK = "https://service-x.gz.apigw.tencentcs.com/release/callback?token=callback-token-0123456789"
CORRELATION = "0123456789abcdef0123"
ENV = {
    "CIFLOW_REGION": REGION,
    "CIFLOW_BUCKET": BUCKET,
    "CIFLOW_USERDATA_SECRET": SECRET,
    "CIFLOW_CALLBACK_URL": "https://service-x.gz.apigw.tencentcs.com/release/callback",
    "CIFLOW_CALLBACK_TOKEN": "callback-token-0123456789",
    "CIFLOW_IDEMPOTENCY_STORE": "memory",
}


def ref(key: str, size: int | None = 1024, content_type: str | None = None, bucket: str = BUCKET) -> ObjectRef:
    return ObjectRef(bucket=bucket, region=REGION, key=key, size=size, etag="e1", content_type=content_type)


def user_data(route: str, step: str) -> str:
    return encode_user_data(RouteTag(route=route, correlation_id=CORRELATION, step=step), SECRET)


def url_delivery(route: str, queue_id: str | None = "p-media-queue") -> Callable[[str], Delivery]:
    """What the pipeline hands a planner with a Url callback; records the steps it was asked for."""

    def delivery(step: str) -> Delivery:
        return Delivery(
            user_data=user_data(route, step),
            callback_url=CALLBACK,
            callback_format="JSON",
            callback_type="Url",
            mq_config=None,
            queue_id=queue_id,
        )

    return delivery


def tdmq_delivery(route: str) -> Callable[[str], Delivery]:
    def delivery(step: str) -> Delivery:
        return Delivery(
            user_data=user_data(route, step),
            callback_url=None,
            callback_format="XML",
            callback_type="TDMQ",
            mq_config=MqConfig(mq_region="gz", mq_name="ciflow-results", mq_mode="Queue"),
            queue_id=None,
        )

    return delivery


def body(job: PlannedJob) -> Element:
    assert job.operation.body is not None
    return fromstring(job.operation.body)


def leaves(element: Element, prefix: str = "") -> dict[str, Any]:
    """Every leaf of a body as ``path -> text`` (a list when the element repeats), the root name left out."""
    found: dict[str, list[str]] = {}

    def walk(node: Element, path: str) -> None:
        for child in node:
            child_path = f"{path}/{child.tag}" if path else child.tag
            if len(child):
                walk(child, child_path)
            else:
                found.setdefault(child_path, []).append(child.text or "")

    walk(element, prefix)
    return {path: texts[0] if len(texts) == 1 else texts for path, texts in found.items()}


def assert_request(job: PlannedJob, method: str, service: str, path: str, expected: Mapping[str, Any]) -> None:
    """The operation's HTTP shape, and its ``<Request>`` body equal to ``expected``, leaf by leaf."""
    assert (job.operation.method, job.operation.service, job.operation.path) == (method, service, path)
    root = body(job)
    assert root.tag == "Request"
    assert leaves(root) == dict(expected)


def steps(jobs: list[PlannedJob]) -> list[str]:
    return [job.step for job in jobs]
