"""The emulator's CI account and SCF API over loopback: bindings, activations, queue listings in the documented
XML shapes, jobs refused for unbound buckets and unknown queues, and TC3-checked GetLayerVersion."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from ciflow import operations as ops
from ciflow.client import CiClient, Endpoint, Operation, RetryPolicy, Service
from ciflow.codec import element_to_tree, parse_xml
from ciflow.errors import ServiceError
from ciflow.models.files import FileHashCodeJobRequest
from ciflow.signing import Credentials, tc3_headers
from ciflow_local.emulator import (
    DEFAULT_CREDENTIALS,
    SCF_HOST,
    CiSetup,
    Emulator,
    add_ci_setup_options,
    ci_setup_from_args,
)

REGION = "ap-guangzhou"
BUCKET = "account-1250000000"


@dataclass(frozen=True)
class HostEndpoint(Endpoint):
    """Sends to the emulator with ``host`` (a pic or bucket-less CI host) in ``Host``."""

    host: str = ""

    def virtual_host(self, service: Service) -> str:
        return self.host


def raw(path: str, method: str = "GET", **params: str) -> Operation[bytes]:
    return Operation("Raw", method, "ci", path, read=lambda r: r.content, params=tuple(params.items()))


def tree(body: bytes) -> dict[str, Any]:
    return cast(dict[str, Any], element_to_tree(parse_xml(body)))


@pytest.fixture
def emulator(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Emulator]:
    setup = getattr(request, "param", None) or CiSetup()
    with Emulator(tmp_path / "emu", ci_setup=setup) as emu:
        yield emu


_OPEN: list[CiClient] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def client(emulator: Emulator, host: str | None = None) -> CiClient:
    """The production client aimed at the emulator (closed after the test)."""
    endpoint = HostEndpoint(REGION, BUCKET, "http", emulator.url, host=host) if host else None
    opened = CiClient(
        endpoint or Endpoint(REGION, BUCKET, "http", emulator.url), DEFAULT_CREDENTIALS, retry=RetryPolicy(1)
    )
    _OPEN.append(opened)
    return opened


def hash_job(queue_id: str | None = None) -> FileHashCodeJobRequest:
    return FileHashCodeJobRequest.model_validate(
        {"Input": {"Object": "in/a.txt"}, "QueueId": queue_id, "Operation": {"FileHashCodeConfig": {"Type": "MD5"}}}
    )


def test_binding_is_queried_and_changed_on_the_pic_host(emulator: Emulator) -> None:
    pic = client(emulator, f"{BUCKET}.pic.{REGION}.myqcloud.com")
    status = Operation("Status", "GET", "cos", "/", read=lambda r: r.content)
    assert b"<CIStatus>on</CIStatus>" in pic.send(status)
    pic.send(Operation("Unbind", "PUT", "cos", "/", read=lambda r: r.content, params=(("unbind", ""),)))
    assert b"<CIStatus>off</CIStatus>" in pic.send(status)
    assert not emulator.ci.is_bound(BUCKET)
    pic.send(Operation("Bind", "PUT", "cos", "/", read=lambda r: r.content))
    assert emulator.ci.is_bound(BUCKET)


def test_activation_listings_on_the_bucketless_host_follow_post_and_delete(emulator: Emulator) -> None:
    account = client(emulator, f"ci.{REGION}.myqcloud.com")
    listed = tree(account.send(raw("/mediabucket", bucketNames=BUCKET, regions=REGION)))
    assert listed["MediaBucketList"]["BucketId"] == BUCKET
    assert (listed["TotalCount"], listed["PageNumber"], listed["PageSize"]) == ("1", "1", "10")
    bucket_host = client(emulator)
    assert tree(bucket_host.send(raw("/mediabucket", "DELETE"))).keys() == {"RequestId"}
    assert "MediaBucketList" not in tree(account.send(raw("/mediabucket", bucketNames=BUCKET)))
    created = tree(bucket_host.send(raw("/mediabucket", "POST")))
    assert created["MediaBucket"]["BucketId"] == BUCKET
    other_region = tree(account.send(raw("/file_bucket", bucketNames=BUCKET, regions="ap-beijing")))
    assert "FileBucketList" not in other_region


def test_queue_listings_answer_in_each_familys_documented_shape(emulator: Emulator) -> None:
    ci = client(emulator)
    media = tree(ci.send(raw("/queue", queueIds=f"{emulator.ci.media_queue_id},A,B")))
    assert media["QueueList"]["QueueId"] == emulator.ci.media_queue_id
    assert (media["QueueList"]["State"], media["QueueList"]["Category"]) == ("Active", "Transcoding")
    assert media["NonExistPIDs"] == ["A", "B"]
    assert "TotalCount" not in media
    doc = tree(ci.send(raw("/docqueue", queueIds="B,C")))
    assert doc["NonExistPIDs"] == {"QueueID": ["B", "C"]}
    assert "QueueList" not in doc
    paged = tree(ci.send(raw("/picqueue", pageSize="5")))
    assert (paged["TotalCount"], paged["QueueList"]["Category"]) == ("1", "PicProcessing")
    emulator.ci.set_queue_state(emulator.ci.file_queue_id, "Paused")
    assert tree(ci.send(raw("/file_queue", state="Active")))["TotalCount"] == "0"


@pytest.mark.parametrize("emulator", [CiSetup(bound=False)], indirect=True)
def test_an_unbound_bucket_refuses_jobs_and_queue_listings_with_media_bucket_unbinded(emulator: Emulator) -> None:
    ci = client(emulator)
    for operation in cast(tuple[Operation[Any], ...], (ops.submit_file_job(hash_job()), raw("/queue"))):
        with pytest.raises(ServiceError) as refused:
            ci.send(operation)
        assert (refused.value.status_code, refused.value.code) == (400, "MediaBucketUnBinded")
    with pytest.raises(ServiceError) as sync:
        ci.send(ops.file_hash("in/a.txt"))
    assert sync.value.code == "MediaBucketUnBinded"


@pytest.mark.parametrize("emulator", [CiSetup(inactive=frozenset({"file"}))], indirect=True)
def test_an_inactive_service_refuses_only_its_own_jobs(emulator: Emulator) -> None:
    ci = client(emulator)
    ci.send(ops.put_object("in/a.txt", b"a"))
    with pytest.raises(ServiceError) as refused:
        ci.send(ops.submit_file_job(hash_job()))
    assert "file processing service is not activated" in refused.value.message
    with pytest.raises(ServiceError):
        ci.send(ops.submit_media_job(hash_job()))  # FileHashCode through /jobs is still file processing
    assert emulator.ci.is_active(BUCKET, "media")


@pytest.mark.parametrize("emulator", [CiSetup(strict_queues=True)], indirect=True)
def test_strict_queues_refuse_an_unknown_queue_and_accept_the_familys_own(emulator: Emulator) -> None:
    ci = client(emulator)
    ci.send(ops.put_object("in/a.txt", b"a"))
    with pytest.raises(ServiceError) as refused:
        ci.send(ops.submit_file_job(hash_job("p" + "0" * 32)))
    assert refused.value.code == "QueueNotFound"
    with pytest.raises(ServiceError):
        ci.send(ops.submit_file_job(hash_job(emulator.ci.media_queue_id)))
    answer = ci.send(ops.submit_file_job(hash_job(emulator.ci.file_queue_id)))
    assert answer.jobs_detail[0].queue_id == emulator.ci.file_queue_id


def test_jobs_may_name_any_queue_by_default(emulator: Emulator) -> None:
    ci = client(emulator)
    ci.send(ops.put_object("in/a.txt", b"a"))
    assert ci.send(ops.submit_file_job(hash_job("p" + "1" * 32))).jobs_detail[0].job_id


def get_layer(
    emulator: Emulator, payload: dict[str, Any], credentials: Credentials = DEFAULT_CREDENTIALS, **over: str
) -> dict[str, Any]:
    body = json.dumps(payload).encode()
    headers = tc3_headers(
        credentials,
        service="scf",
        host=SCF_HOST,
        action=over.get("action", "GetLayerVersion"),
        version=over.get("version", "2018-04-16"),
        region=REGION,
        payload=body,
        timestamp=int(time.time()),
    )
    answer: dict[str, Any] = httpx.post(emulator.api_url + "/", content=body, headers=headers).json()["Response"]
    assert answer["RequestId"]
    return answer


def test_get_layer_version_answers_published_versions_and_scf_errors(emulator: Emulator) -> None:
    assert get_layer(emulator, {"LayerName": "ciflow-core", "LayerVersion": 1})["Error"]["Code"] == (
        "ResourceNotFound.Layer"
    )
    assert emulator.scf.publish_layer("ciflow-core") == 1
    assert emulator.scf.publish_layer("ciflow-core", runtimes=("Python3.9",)) == 2
    found = get_layer(emulator, {"LayerName": "ciflow-core", "LayerVersion": 2})
    assert (found["LayerVersion"], found["Status"], found["CompatibleRuntimes"]) == (2, "Active", ["Python3.9"])
    missing = get_layer(emulator, {"LayerName": "ciflow-core", "LayerVersion": 3})
    assert missing["Error"]["Code"] == "ResourceNotFound.LayerVersion"
    assert get_layer(emulator, {}, action="ListFunctions")["Error"]["Code"] == "InvalidAction"
    assert get_layer(emulator, {}, version="2017-01-01")["Error"]["Code"] == "NoSuchVersion"


def test_get_layer_version_checks_the_tc3_signature(emulator: Emulator) -> None:
    wrong_key = Credentials(DEFAULT_CREDENTIALS.secret_id, "not-the-key")
    payload = {"LayerName": "ciflow-core", "LayerVersion": 1}
    assert get_layer(emulator, payload, wrong_key)["Error"]["Code"] == "AuthFailure.SignatureFailure"
    unknown = Credentials("AKIDunknown", "k")
    assert get_layer(emulator, payload, unknown)["Error"]["Code"] == "AuthFailure.SecretIdNotFound"


def test_the_emulator_command_options_describe_a_ci_setup() -> None:
    parser = argparse.ArgumentParser()
    add_ci_setup_options(parser)
    setup = ci_setup_from_args(parser.parse_args(["--ci-unbound", "--ci-inactive", "media,doc", "--ci-strict-queues"]))
    assert setup == CiSetup(bound=False, inactive=frozenset({"media", "doc"}), strict_queues=True)
    assert ci_setup_from_args(parser.parse_args([])) == CiSetup()
    with pytest.raises(SystemExit):
        parser.parse_args(["--ci-inactive", "video"])
    with pytest.raises(ValueError, match="unknown CI services"):
        CiSetup(inactive=frozenset({"video"}))
