"""CI's batch (inventory-triggered) jobs, judged by the official SDK: each selected object runs as a real job."""

from __future__ import annotations

import gzip
import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from qcloud_cos import CosS3Client
from qcloud_cos.cos_exception import CosServiceError

from ciflow_local._samples import generate_samples
from ciflow_local.emulator import DEFAULT_CREDENTIALS, CiSetup, Emulator, Faults

from ._sdk_client import BUCKET, sdk_client

TERMINAL = {"Success", "Failed", "Cancel"}
HASH_JOB = {"Tag": "FileHashCode", "JobParam": {"FileHashCodeConfig": {"Type": "MD5"}}}
#: The body of the SDK suite's own test_ci_create_inventory_trigger_jobs.
IMAGE_INSPECT = {
    "Name": "image-inspect-auto-move-batch-process",
    "Type": "Job",
    "Input": {"Object": "test.png"},
    "Operation": {"Tag": "ImageInspect", "JobParam": {"ImageInspect": {"AutoProcess": "false"}}},
}


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(tmp_path / "data") as running:
        yield running


@pytest.fixture
def client(emulator: Emulator) -> CosS3Client:
    return sdk_client(emulator.url, DEFAULT_CREDENTIALS)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return generate_samples(tmp_path_factory.mktemp("samples"))["clip.mp4"].path.read_bytes()


def create(client: CosS3Client, body: dict[str, Any]) -> dict[str, Any]:
    detail: dict[str, Any] = client.ci_create_inventory_trigger_jobs(
        Bucket=BUCKET, JobBody=body, ContentType="application/xml"
    )["JobsDetail"][0]
    return detail


def wait(client: CosS3Client, job_id: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        detail: dict[str, Any] = client.ci_get_inventory_trigger_jobs(Bucket=BUCKET, JobID=job_id)["JobsDetail"][0]
        if detail["State"] in TERMINAL or time.monotonic() > deadline:
            return detail
        time.sleep(0.05)


def hash_jobs(client: CosS3Client, emulator: Emulator) -> dict[str, dict[str, Any]]:
    """The FileHashCode jobs of the bucket, by input object."""
    listed = client.ci_list_media_jobs(Bucket=BUCKET, Tag="FileHashCode", QueueId="", Size=100)
    jobs = listed.get("JobsDetail") or []
    return {job["Input"]["Object"]: job for job in (jobs if isinstance(jobs, list) else [jobs])}


def test_prefix_batch_runs_one_real_job_per_object(client: CosS3Client, emulator: Emulator) -> None:
    contents = {f"batch/{n}.txt": f"object {n}".encode() for n in range(3)}
    for key, data in contents.items():
        client.put_object(Bucket=BUCKET, Key=key, Body=data)
    client.put_object(Bucket=BUCKET, Key="batch/folder/", Body=b"")
    client.put_object(Bucket=BUCKET, Key="elsewhere.txt", Body=b"not selected")
    body = {"Name": "hash-all", "Type": "Job", "Input": {"Prefix": "batch/"}, "Operation": {**HASH_JOB}}
    created = create(client, body)
    assert created["JobId"].startswith("b")
    assert (created["Type"], created["Name"], created["Input"]["Prefix"]) == ("Job", "hash-all", "batch/")
    assert created["State"] in {"Running", "Success"}
    assert created["Operation"]["Tag"] == "FileHashCode"
    finished = wait(client, created["JobId"])
    assert (finished["State"], finished["Code"]) == ("Success", "Success")
    assert finished["EndTime"] != "-"
    jobs = hash_jobs(client, emulator)
    assert set(jobs) == set(contents)  # one job per object under the prefix, no folder marker, nothing else
    for key, data in contents.items():
        assert jobs[key]["State"] == "Success"
        assert jobs[key]["Operation"]["FileHashCodeResult"]["MD5"] == hashlib.md5(data).hexdigest()


def test_batch_output_names_the_batch_job(client: CosS3Client, clip: bytes) -> None:
    for name in ("a", "b"):
        client.put_object(Bucket=BUCKET, Key=f"videos/{name}.mp4", Body=clip)
    body = {
        "Name": "covers",
        "Type": "Job",
        "Input": {"Prefix": "videos/"},
        "Operation": {
            "Tag": "Snapshot",
            "UserData": "batch",
            "JobParam": {"Snapshot": {"Mode": "Interval", "Count": "1"}},
            "Output": {
                "Region": "ap-guangzhou",
                "Bucket": BUCKET,
                "Object": "out/${InventoryTriggerJobId}/${InputName}-${Number}.jpg",
            },
        },
    }
    batch_id = create(client, body)["JobId"]
    assert wait(client, batch_id)["State"] == "Success"
    written = client.list_objects(Bucket=BUCKET, Prefix=f"out/{batch_id}/")["Contents"]
    assert sorted(item["Key"] for item in written) == [f"out/{batch_id}/a-0.jpg", f"out/{batch_id}/b-0.jpg"]


def test_sdk_suite_body_fails_honestly(client: CosS3Client) -> None:
    missing = wait(client, create(client, IMAGE_INSPECT)["JobId"])
    assert (missing["State"], missing["Code"]) == ("Failed", "NoSuchKey")
    assert missing["Message"] == "1 of 1 objects failed; first: test.png: object test.png does not exist"
    client.put_object(Bucket=BUCKET, Key="test.png", Body=b"png-ish")
    unsupported = wait(client, create(client, IMAGE_INSPECT)["JobId"])
    assert (unsupported["State"], unsupported["Code"]) == ("Failed", "NotSupported")
    assert "does not run ImageInspect jobs" in unsupported["Message"]


def test_one_failure_fails_the_batch_after_the_rest_ran(client: CosS3Client, emulator: Emulator) -> None:
    client.put_object(Bucket=BUCKET, Key="mixed/ok.txt", Body=b"fine")
    client.put_object(Bucket=BUCKET, Key="mixed/sub/also.txt", Body=b"fine too")
    listing = "\n".join(
        [f"http://{BUCKET}.cos.ap-guangzhou.myqcloud.com/mixed/ok.txt", "mixed/sub/also.txt", "mixed/absent.txt", ""]
    )
    client.put_object(Bucket=BUCKET, Key="lists/urls.txt", Body=listing.encode())
    body = {"Name": "from-urls", "Type": "Job", "Input": {"UrlFile": "lists/urls.txt"}, "Operation": HASH_JOB}
    finished = wait(client, create(client, body)["JobId"])
    assert (finished["State"], finished["Code"]) == ("Failed", "NoSuchKey")
    assert finished["Message"].startswith("1 of 3 objects failed; first: mixed/absent.txt")
    assert {key: job["State"] for key, job in hash_jobs(client, emulator).items()} == {
        "mixed/ok.txt": "Success",
        "mixed/sub/also.txt": "Success",
    }


def test_manifest_input_and_time_interval(client: CosS3Client, emulator: Emulator) -> None:
    client.put_object(Bucket=BUCKET, Key="inv/one file.txt", Body=b"1")
    client.put_object(Bucket=BUCKET, Key="inv/two.txt", Body=b"2")
    rows = f'"{BUCKET}","inv/one%20file.txt","1"\n"{BUCKET}","inv/two.txt","1"\n'
    client.put_object(Bucket=BUCKET, Key="inventory/data/part-1.csv.gz", Body=gzip.compress(rows.encode()))
    manifest = {
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, Size",
        "files": [{"key": "inventory/data/part-1.csv.gz"}],
    }
    client.put_object(Bucket=BUCKET, Key="inventory/manifest.json", Body=json.dumps(manifest).encode())
    body = {"Name": "inv", "Type": "Job", "Input": {"Manifest": "inventory/manifest.json"}, "Operation": HASH_JOB}
    assert wait(client, create(client, body)["JobId"])["State"] == "Success"
    assert set(hash_jobs(client, emulator)) == {"inv/one file.txt", "inv/two.txt"}
    future = time.strftime("%Y-%m-%dT%H:%M:%S+0800", time.gmtime(time.time() + 8 * 3600 + 3600))
    later = {**body, "Operation": {**HASH_JOB, "TimeInterval": {"Start": future}}}
    nothing = wait(client, create(client, later)["JobId"])
    assert nothing["State"] == "Success"  # no object uploaded after Start: nothing to run
    assert len(hash_jobs(client, emulator)) == 2


def test_list_filters_and_pages(client: CosS3Client) -> None:
    client.put_object(Bucket=BUCKET, Key="l/x.txt", Body=b"x")
    ids = [
        create(client, {"Name": f"job-{n}", "Type": "Job", "Input": {"Prefix": "l/"}, "Operation": HASH_JOB})["JobId"]
        for n in range(3)
    ]
    for job_id in ids:
        wait(client, job_id)
    assert "JobsDetail" not in client.ci_list_inventory_trigger_jobs(Bucket=BUCKET)  # the SDK's default Type Workflow
    first = client.ci_list_inventory_trigger_jobs(Bucket=BUCKET, Type="Job", Size=2)
    assert [job["JobId"] for job in first["JobsDetail"]] == ids[:0:-1]  # newest first
    rest = client.ci_list_inventory_trigger_jobs(Bucket=BUCKET, Type="Job", Size=2, NextToken=first["NextToken"])
    assert [job["JobId"] for job in rest["JobsDetail"]] == [ids[0]]
    assert "NextToken" not in rest
    ascending = client.ci_list_inventory_trigger_jobs(Bucket=BUCKET, Type="Job", OrderByTime="Asc")
    assert [job["JobId"] for job in ascending["JobsDetail"]] == ids
    by_name = client.ci_list_inventory_trigger_jobs(Bucket=BUCKET, Type="Job", Name="job-1")
    assert [job["JobId"] for job in by_name["JobsDetail"]] == [ids[1]]
    by_id = client.ci_list_inventory_trigger_jobs(Bucket=BUCKET, Type="Job", JobId=ids[2], States="Success")
    assert [job["JobId"] for job in by_id["JobsDetail"]] == [ids[2]]
    assert "JobsDetail" not in client.ci_list_inventory_trigger_jobs(Bucket=BUCKET, Type="Job", States="Running")
    later = time.strftime("%Y-%m-%dT%H:%M:%S+0800", time.gmtime(time.time() + 8 * 3600 + 60))
    assert "JobsDetail" not in client.ci_list_inventory_trigger_jobs(Bucket=BUCKET, Type="Job", StartCreationTime=later)
    with pytest.raises(CosServiceError) as refused:
        client.ci_list_inventory_trigger_jobs(Bucket=BUCKET, Size=101)
    assert refused.value.get_error_code() == "InvalidArgument"
    unknown = client.ci_get_inventory_trigger_jobs(Bucket=BUCKET, JobID="b" + "0" * 32)
    assert unknown["NonExistJobIds"] == "b" + "0" * 32


def test_cancel_stops_the_jobs_not_started(tmp_path: Path) -> None:
    with Emulator(tmp_path / "slow", faults=Faults(slow_job_ms=2000)) as slow:
        client = sdk_client(slow.url, DEFAULT_CREDENTIALS)
        for n in range(4):
            client.put_object(Bucket=BUCKET, Key=f"c/{n}.txt", Body=b"x")
        job_id = create(client, {"Name": "stop-me", "Type": "Job", "Input": {"Prefix": "c/"}, "Operation": HASH_JOB})[
            "JobId"
        ]
        assert client.ci_delete_inventory_trigger_jobs(Bucket=BUCKET, JobId=job_id).status_code == 200
        detail = client.ci_get_inventory_trigger_jobs(Bucket=BUCKET, JobID=job_id)["JobsDetail"][0]
        assert detail["State"] == "Cancel"
        jobs = hash_jobs(client, slow)
        assert len(jobs) == 4
        assert {job["State"] for job in jobs.values()} <= {"Cancel", "Running", "Success"}
        assert "Cancel" in {job["State"] for job in jobs.values()}
        again = client.ci_list_inventory_trigger_jobs(Bucket=BUCKET, Type="Job", States="Cancel")
        assert again["JobsDetail"][0]["JobId"] == job_id
        with pytest.raises(CosServiceError) as missing:
            client.ci_delete_inventory_trigger_jobs(Bucket=BUCKET, JobId="b" + "0" * 32)
        assert missing.value.get_error_code() == "ResourceNotFound"


def test_workflow_batch_triggers_executions(client: CosS3Client, clip: bytes) -> None:
    client.put_object(Bucket=BUCKET, Key="wf/in.mp4", Body=clip)
    workflow = {
        "MediaWorkflow": {
            "Name": "covers",
            "State": "Active",
            "Topology": {
                "Dependencies": {"Start": "Cover", "Cover": "End"},
                "Nodes": {
                    "Start": {"Type": "Start", "Input": {"ObjectPrefix": "wf/"}},
                    "Cover": {
                        "Type": "Snapshot",
                        "Operation": {
                            "Snapshot": {"Mode": "Interval", "Count": "1"},
                            "Output": {"Region": "ap-guangzhou", "Bucket": BUCKET, "Object": "wf-out/${Number}.jpg"},
                        },
                    },
                },
            },
        }
    }
    workflow_id = client.ci_create_workflow(Bucket=BUCKET, Body=workflow)["MediaWorkflow"]["WorkflowId"]
    body = {"Name": "by-workflow", "Input": {"Prefix": "wf/"}, "Operation": {"WorkflowIds": workflow_id}}
    created = create(client, body)
    assert created["Type"] == "Workflow"
    assert wait(client, created["JobId"])["State"] == "Success"
    executions = client.ci_list_workflowexecution(Bucket=BUCKET, WorkflowId=workflow_id)["WorkflowExecutionList"]
    assert (executions["Object"], executions["State"]) == ("wf/in.mp4", "Success")
    assert client.head_object(Bucket=BUCKET, Key="wf-out/0.jpg")
    listed = client.ci_list_inventory_trigger_jobs(Bucket=BUCKET, WorkflowId=workflow_id)
    assert listed["JobsDetail"][0]["JobId"] == created["JobId"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"Type": "Job", "Input": {"Prefix": "a"}, "Operation": HASH_JOB}, "InvalidArgument"),
        ({"Name": "n", "Type": "Job", "Input": {}, "Operation": HASH_JOB}, "InvalidArgument"),
        ({"Name": "n", "Type": "Job", "Input": {"Prefix": "a"}, "Operation": {"JobParam": {}}}, "InvalidArgument"),
        ({"Name": "n", "Type": "Other", "Input": {"Prefix": "a"}, "Operation": HASH_JOB}, "InvalidArgument"),
        ({"Name": "n", "Input": {"Prefix": "a"}, "Operation": {"WorkflowIds": "w" + "0" * 32}}, "ResourceNotFound"),
        ({"Name": "n", "Input": {"Prefix": "a"}, "Operation": HASH_JOB}, "InvalidArgument"),  # Workflow: no ids
        (
            {
                "Name": "n",
                "Type": "Job",
                "Input": {"Prefix": "a"},
                "Operation": {**HASH_JOB, "TimeInterval": {"Start": "x"}},
            },
            "InvalidArgument",
        ),
        (
            {
                "Name": "n",
                "Type": "Job",
                "Input": {"Prefix": "a"},
                "Operation": {"Tag": "Snapshot", "JobParam": {"Snapshot": {"Count": "many"}}},
            },
            "InvalidArgument",
        ),
    ],
)
def test_refused_requests(client: CosS3Client, body: dict[str, Any], code: str) -> None:
    with pytest.raises(CosServiceError) as refused:
        create(client, body)
    assert refused.value.get_error_code() == code


def test_unbound_bucket_is_refused(tmp_path: Path) -> None:
    with Emulator(tmp_path / "unbound", ci_setup=CiSetup(bound=False)) as running:
        client = sdk_client(running.url, DEFAULT_CREDENTIALS)
        with pytest.raises(CosServiceError) as refused:
            create(client, {"Name": "n", "Type": "Job", "Input": {"Prefix": "a"}, "Operation": HASH_JOB})
        assert refused.value.get_error_code() == "MediaBucketUnBinded"
