"""CI's read-only management calls the doctor makes: CI binding, service activation listings, queue listings.

``GET /`` on ``<bucket>.pic.<region>.myqcloud.com`` answers ``<CIStatus>on|off</CIStatus>``. The activation
listings (``/mediabucket``, ``/file_bucket``, ``/docbucket``, ``/picbucket``) and queue listings (``/queue``,
``/file_queue``, ``/docqueue``, ``/picqueue``) are sent to the bucket's CI host, as the official Go SDK sends them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from ciflow.client import Endpoint, Operation, Service
from ciflow.codec import element_to_tree, local_name, parse_xml

__all__ = [
    "BUCKET_APIS",
    "QUEUE_APIS",
    "PicHostEndpoint",
    "QueueListing",
    "ci_status",
    "describe_service_buckets",
    "describe_queues",
]

#: Service -> (listing path, list element).
BUCKET_APIS = {
    "media": ("/mediabucket", "MediaBucketList"),
    "file": ("/file_bucket", "FileBucketList"),
    "doc": ("/docbucket", "DocBucketList"),
    "pic": ("/picbucket", "PicBucketList"),
}
#: Queue family -> listing path.
QUEUE_APIS = {"media": "/queue", "file": "/file_queue", "doc": "/docqueue", "pic": "/picqueue"}


@dataclass(frozen=True)
class PicHostEndpoint(Endpoint):
    """The bucket's ``pic`` host (CI binding); an override URL receives the request with that host in ``Host``."""

    def virtual_host(self, service: Service) -> str:
        return f"{self.bucket}.pic.{self.region}.myqcloud.com"

    def base_url(self, service: Service) -> tuple[str, str]:
        if self.override is not None and "{" in self.override:
            url = self.override.format(bucket=self.bucket, service="pic", region=self.region).rstrip("/")
            return url, urlsplit(url).netloc
        return super().base_url(service)


def _tree(response: httpx.Response) -> dict[str, Any]:
    element = parse_xml(response.content)
    tree = element_to_tree(element)
    return {"#root": local_name(element.tag), **(tree if isinstance(tree, dict) else {"#text": tree})}


def _listed(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def ci_status() -> Operation[str]:
    """``GET /`` on the pic host: ``on`` when CI is bound to the bucket, ``off`` when not."""

    def read(response: httpx.Response) -> str:
        tree = _tree(response)
        return str(tree.get("#text", "")).strip() if tree["#root"] == "CIStatus" else ""

    # "cos": temporary credentials' token goes in x-cos-security-token, as for the bucket's other non-CI hosts.
    return Operation("DescribeCiStatus", "GET", "cos", "/", read=read)


def describe_service_buckets(service: str, bucket: str, region: str) -> Operation[list[str]]:
    """The buckets named ``bucket`` in ``region`` with ``service`` activated (empty when it is not)."""
    path, element = BUCKET_APIS[service]

    def read(response: httpx.Response) -> list[str]:
        entries = _listed(_tree(response).get(element))
        return [str(e.get("BucketId") or e.get("Name")) for e in entries if isinstance(e, dict)]

    params = (("bucketNames", bucket), ("regions", region), ("pageSize", "100"))
    return Operation(f"Describe{service.title()}Buckets", "GET", "ci", path, read=read, params=params)


@dataclass(frozen=True)
class QueueListing:
    """Queues found (id -> state) and ids CI says do not exist (``NonExistPIDs``)."""

    states: dict[str, str]
    missing: list[str]


def _missing(value: Any) -> list[str]:
    found: list[str] = []
    for item in _listed(value):
        if isinstance(item, dict):  # /docqueue nests them: <NonExistPIDs><QueueID>B</QueueID></NonExistPIDs>
            found.extend(str(queue_id) for queue_id in _listed(item.get("QueueID") or item.get("QueueId")))
        else:
            found.append(str(item))
    return found


def describe_queues(family: str, queue_ids: tuple[str, ...] = ()) -> Operation[QueueListing]:
    """``GET /queue`` (or the family's own listing) for ``queue_ids``, or the first 100 queues."""

    def read(response: httpx.Response) -> QueueListing:
        tree = _tree(response)
        queues = [q for q in _listed(tree.get("QueueList")) if isinstance(q, dict)]
        states = {str(q.get("QueueId")): str(q.get("State")) for q in queues}
        return QueueListing(states, _missing(tree.get("NonExistPIDs")))

    params: list[tuple[str, str]] = [("queueIds", ",".join(queue_ids))] if queue_ids else [("pageSize", "100")]
    if family == "media":
        params.append(("category", "CateAll"))
    return Operation(
        f"Describe{family.title()}Queues", "GET", "ci", QUEUE_APIS[family], read=read, params=tuple(params)
    )
