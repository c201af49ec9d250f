"""CI's admin APIs (queues, buckets, play keys, templates, workflows, cancel) judged by the official SDK."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from qcloud_cos import CosS3Client
from qcloud_cos.ai_recognition import AIRecognitionClient
from qcloud_cos.cos_exception import CosServiceError

from ciflow_local.emulator import DEFAULT_CREDENTIALS, CiSetup, Emulator, Faults

from ._sdk_client import BUCKET, REGION, sdk_client

NOTIFY = {"Type": "Url", "Url": "http://www.demo.com", "Event": "TaskFinish", "State": "On", "ResultFormat": "JSON"}
WORKFLOW = {
    "MediaWorkflow": {
        "Name": "image-inspect",
        "State": "Paused",
        "Topology": {
            "Dependencies": {"Start": "ImageInspectNode", "ImageInspectNode": "End"},
            "Nodes": {
                "Start": {"Type": "Start", "Input": {"ObjectPrefix": "test", "ExtFilter": {"State": "On"}}},
                "ImageInspectNode": {
                    "Type": "ImageInspect",
                    "Operation": {"ImageInspect": {"AutoProcess": "true", "ProcessType": "BackupObject"}},
                },
            },
        },
    }
}


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(tmp_path / "data", faults=Faults(slow_job_ms=1500)) as running:
        yield running


@pytest.fixture
def client(emulator: Emulator) -> CosS3Client:
    return sdk_client(emulator.url, DEFAULT_CREDENTIALS)


@pytest.mark.parametrize(
    ("get", "update"),
    [
        ("ci_get_media_queue", "ci_update_media_queue"),
        ("ci_get_media_pic_queue", "ci_update_media_pic_queue"),
        ("ci_get_doc_queue", "ci_update_doc_queue"),
        ("ci_get_asr_queue", "ci_update_asr_queue"),
        ("ci_get_ai_queue", "ci_update_ai_queue"),
    ],
)
def test_queue_update_is_kept_and_listed(client: CosS3Client, get: str, update: str) -> None:
    queue_id = getattr(client, get)(Bucket=BUCKET)["QueueList"][0]["QueueId"]
    body = {"Name": "renamed", "QueueID": queue_id, "State": "Paused", "NotifyConfig": NOTIFY}
    answer = getattr(client, update)(Bucket=BUCKET, QueueId=queue_id, Request=body, ContentType="application/xml")
    assert answer["Queue"][0]["QueueId"] == queue_id
    assert answer["Queue"][0]["NotifyConfig"]["Url"] == "http://www.demo.com"
    listed = getattr(client, get)(Bucket=BUCKET, QueueIds=queue_id)["QueueList"][0]
    assert (listed["Name"], listed["State"], listed["NotifyConfig"]["State"]) == ("renamed", "Paused", "On")
    with pytest.raises(CosServiceError) as refused:
        getattr(client, update)(Bucket=BUCKET, QueueId="pnothere", Request=body)
    assert refused.value.get_error_code() == "QueueNotFound"


def test_bucket_listings_on_the_regional_host(client: CosS3Client) -> None:
    client.ci_get_media_queue(Bucket=BUCKET)  # the emulator lists the buckets it has seen
    for name, element in (
        ("ci_get_media_bucket", "MediaBucketList"),
        ("ci_get_doc_bucket", "DocBucketList"),
        ("ci_get_asr_bucket", "AsrBucketList"),
        ("ci_get_pic_bucket", "PicBucketList"),
    ):
        answer = getattr(client, name)(Regions=REGION, BucketNames=BUCKET, PageNumber=1, PageSize=10)
        listed = answer[element]
        listed = listed[0] if isinstance(listed, list) else listed
        assert listed["BucketId"] == BUCKET, name
    assert client.ci_get_ai_bucket(BucketName=BUCKET, PageSize="1")["AiBucketList"]["BucketId"] == BUCKET


@pytest.mark.parametrize("service", ["ai", "pic", "asr"])
@pytest.mark.parametrize("accept", [None, "application/json"])
def test_open_and_close_services(emulator: Emulator, service: str, accept: str | None) -> None:
    client = sdk_client(emulator.url, DEFAULT_CREDENTIALS, AIRecognitionClient)
    extra = {"Accept": accept} if accept else {}
    _, closed = getattr(client, f"ci_close_{service}_bucket")(Bucket=BUCKET, **extra)
    assert closed["BucketName"] == BUCKET
    assert not emulator.ci.is_active(BUCKET, service)
    with pytest.raises(CosServiceError) as refused:
        getattr(client, f"ci_get_{'media_pic' if service == 'pic' else service}_queue")(Bucket=BUCKET)
    assert refused.value.get_error_code() == "MediaBucketUnBinded"
    _, opened = getattr(client, f"ci_open_{service}_bucket")(Bucket=BUCKET, **extra)
    assert opened[f"{service.title()}Bucket"]["Name"] == BUCKET
    assert emulator.ci.is_active(BUCKET, service)


def test_hls_play_keys(client: CosS3Client) -> None:
    headers, first = client.ci_get_hls_play_key(BUCKET)
    assert headers["Content-Type"] == "application/xml"
    assert len(first["PlayKeyList"]["MasterPlayKey"]) == 32
    master, backup = "40c502079d484466b2e9e046ce11ae07", "128d75fd2b6b4f958ccbb6fc38f60f04"
    headers, data = client.ci_update_hls_play_key(
        Bucket=BUCKET, MasterPlayKey=master, BackupPlayKey=backup, Accept="application/json"
    )
    assert headers["Content-Type"] == "application/json"
    assert data["PlayKeyList"] == {"MasterPlayKey": master, "BackupPlayKey": backup}
    assert client.ci_get_hls_play_key(BUCKET)[1]["PlayKeyList"]["BackupPlayKey"] == backup


def test_template_lifecycle(client: CosS3Client) -> None:
    snapshot = {"Name": "snap_1", "Tag": "Snapshot", "Snapshot": {"Mode": "Interval", "Width": "128", "Count": "1"}}
    created = client.ci_create_template(Bucket=BUCKET, Template=snapshot)["Template"]
    template_id = created["TemplateId"]
    assert (created["Tag"], created["Category"], created["Snapshot"]["Width"]) == ("Snapshot", "Custom", "128")
    transcode = {"Name": "trans_1", "Tag": "Transcode", "Container": {"Format": "mp4"}, "Video": {"Codec": "H.264"}}
    trans = client.ci_create_template(Bucket=BUCKET, Template=transcode)["Template"]
    assert trans["TransTpl"] == {"Container": {"Format": "mp4"}, "Video": {"Codec": "H.264"}}
    changed = {**snapshot, "Snapshot": {"Mode": "Average", "Width": "64"}}
    updated = client.ci_update_template(Bucket=BUCKET, TemplateId=template_id, Template=changed)["Template"]
    assert (updated["TemplateId"], updated["Snapshot"]["Mode"]) == (template_id, "Average")
    found = client.ci_get_template(Bucket=BUCKET, Ids=f"{template_id},tmissing")
    assert found["TemplateList"][0]["Snapshot"]["Width"] == "64"
    assert found["NonExistTIDs"]["TemplateId"] == "tmissing"
    page = client.ci_get_template(Bucket=BUCKET, PageSize=1)
    assert (page["TotalCount"], len(page["TemplateList"])) == ("2", 1)
    assert client.ci_delete_template(Bucket=BUCKET, TemplateId=template_id)["TemplateId"] == template_id
    with pytest.raises(CosServiceError):
        client.ci_delete_template(Bucket=BUCKET, TemplateId=template_id)
    with pytest.raises(CosServiceError) as refused:
        client.ci_create_template(Bucket=BUCKET, Template={"Name": "x", "Tag": "NoSuchTag"})
    assert refused.value.get_error_code() == "InvalidArgument"


def test_asr_template_through_its_own_calls(client: CosS3Client) -> None:
    created = client.ci_create_asr_template(Bucket=BUCKET, Name="asr_1", EngineModelType="16k_zh", ChannelNum=1)
    template_id = created["Template"]["TemplateId"]
    assert created["Template"]["SpeechRecognition"]["EngineModelType"] == "16k_zh"
    assert client.ci_get_asr_template(Bucket=BUCKET, Ids=template_id)["TemplateList"][0]["Tag"] == "SpeechRecognition"
    assert client.ci_delete_asr_template(Bucket=BUCKET, TemplateId=template_id)["TemplateId"] == template_id


def test_workflow_lifecycle_and_executions(client: CosS3Client) -> None:
    client.put_object(Bucket=BUCKET, Key="test.png", Body=b"not really a png")
    created = client.ci_create_workflow(Bucket=BUCKET, Body=WORKFLOW, ContentType="application/xml")
    workflow_id = created["MediaWorkflow"]["WorkflowId"]
    assert created["MediaWorkflow"]["State"] == "Paused"
    node = WORKFLOW["MediaWorkflow"]["Topology"]["Nodes"]["ImageInspectNode"]  # type: ignore[index]
    node["Operation"]["ImageInspect"]["ProcessType"] = "SwitchObjectToPrivate"
    updated = client.ci_update_workflow(Bucket=BUCKET, WorkflowId=workflow_id, Body=WORKFLOW)["MediaWorkflow"]
    assert updated["Topology"]["Nodes"]["ImageInspectNode"]["Operation"]["ImageInspect"]["ProcessType"] == (
        "SwitchObjectToPrivate"
    )
    active = client.ci_update_workflow_state(Bucket=BUCKET, WorkflowId=workflow_id, UpdateState="active")
    assert active["MediaWorkflow"]["State"] == "Active"
    listed = client.ci_get_workflow(Bucket=BUCKET, Ids=workflow_id, Name="image-inspect")
    assert listed["MediaWorkflowList"][0]["WorkflowId"] == workflow_id
    run_id = client.ci_trigger_workflow(Bucket=BUCKET, WorkflowId=workflow_id, Key="test.png")["InstanceId"]
    execution = client.ci_get_workflowexecution(Bucket=BUCKET, RunId=run_id)["WorkflowExecution"][0]
    assert (execution["RunId"], execution["Object"], execution["State"]) == (run_id, "test.png", "Failed")
    assert execution["Tasks"]["Code"] == "NotSupported"  # recorded, not run: the emulator does not run nodes
    executions = client.ci_list_workflowexecution(Bucket=BUCKET, WorkflowId=workflow_id)
    assert executions["WorkflowExecutionList"]["RunId"] == run_id
    later = time.strftime("%Y-%m-%dT%H:%M:%S+0800", time.gmtime(time.time() + 8 * 3600 + 60))
    assert "WorkflowExecutionList" not in client.ci_list_workflowexecution(
        Bucket=BUCKET, WorkflowId=workflow_id, StartCreationTime=later
    )
    with pytest.raises(CosServiceError) as missing:
        client.ci_trigger_workflow(Bucket=BUCKET, WorkflowId=workflow_id, Key="absent.png")
    assert missing.value.get_error_code() == "NoSuchKey"
    assert client.ci_delete_workflow(Bucket=BUCKET, WorkflowId=workflow_id)["WorkflowId"] == workflow_id
    assert client.ci_get_workflow(Bucket=BUCKET, Ids=workflow_id)["NonExistIDs"] == workflow_id


def test_cancel_a_queued_job(emulator: Emulator, client: CosS3Client) -> None:
    client.put_object(Bucket=BUCKET, Key="in.txt", Body=b"hash me")
    job = {
        "Tag": "FileHashCode",
        "Input": {"Object": "in.txt"},
        "Operation": {"FileHashCodeConfig": {"Type": "MD5"}},
    }
    submitted = client.ci_create_media_jobs(Bucket=BUCKET, Jobs=job, Lst={}, ContentType="application/xml")
    job_id = submitted["JobsDetail"][0]["JobId"]
    assert client.ci_cancel_jobs(Bucket=BUCKET, JobID=job_id, ContentType="application/xml") == ""
    assert emulator.engine.wait(job_id).state == "Cancel"
    with pytest.raises(CosServiceError) as refused:
        client.ci_cancel_jobs(Bucket=BUCKET, JobID=job_id)
    assert refused.value.get_error_code() == "InvalidJobState"


def test_unbound_bucket_refuses_admin_listings(tmp_path: Path) -> None:
    with Emulator(tmp_path / "data", ci_setup=CiSetup(inactive=frozenset({"asr"}))) as running:
        client = sdk_client(running.url, DEFAULT_CREDENTIALS)
        with pytest.raises(CosServiceError) as refused:
            client.ci_get_asr_queue(Bucket=BUCKET)
        assert refused.value.get_error_code() == "MediaBucketUnBinded"
        assert client.ci_get_ai_queue(Bucket=BUCKET)["QueueList"][0]["Category"] == "AIProcess"


def test_cancel_a_queued_video_moderation(emulator: Emulator, client: CosS3Client) -> None:
    client.put_object(Bucket=BUCKET, Key="clip.mp4", Body=b"not really a video")
    submitted = client.ci_auditing_video_submit(Bucket=BUCKET, Key="clip.mp4", Callback="http://127.0.0.1:9/cb")
    job_id = submitted["JobsDetail"]["JobId"]
    cancelled = client.ci_auditing_live_video_cancle(Bucket=BUCKET, JobID=job_id)
    assert (cancelled["JobsDetail"]["JobId"], cancelled["JobsDetail"]["State"]) == (job_id, "Cancel")
    assert emulator.engine.wait(job_id).state == "Cancel"
    with pytest.raises(CosServiceError) as missing:
        client.ci_auditing_live_video_cancle(Bucket=BUCKET, JobID="avnothere")
    assert missing.value.get_error_code() == "ResourceNotFound"


def test_report_badcase_is_kept(emulator: Emulator, client: CosS3Client) -> None:
    answer = client.ci_auditing_report_badcase(
        Bucket=BUCKET, ContentType=2, Label="Ads", SuggestedLabel="Normal", Text="MTIzNDU2", JobId="st1"
    )
    assert answer["RequestId"]
    with pytest.raises(CosServiceError) as refused:
        client.ci_auditing_report_badcase(Bucket=BUCKET, ContentType=2, Label="Ads", SuggestedLabel="Normal")
    assert refused.value.get_error_code() == "InvalidArgument"


def test_speech_recognition_jobs_run_on_asr_jobs_for_the_sdk(emulator: Emulator, client: CosS3Client) -> None:
    def jobs(answer: dict[str, Any]) -> list[dict[str, Any]]:
        detail = answer["JobsDetail"]
        return detail if isinstance(detail, list) else [detail]

    client.put_object(Bucket=BUCKET, Key="talk.mp3", Body=b"not really audio")
    [submitted] = jobs(
        client.ci_create_asr_job(
            Bucket=BUCKET,
            InputObject="talk.mp3",
            OutputBucket=BUCKET,
            OutputRegion="ap-guangzhou",
            OutputObject="talk.txt",
            SpeechRecognition={"EngineModelType": "16k_zh", "ChannelNum": "1"},
        )
    )
    job_id = submitted["JobId"]
    assert submitted["Tag"] == "SpeechRecognition"
    emulator.engine.wait(job_id)
    [described] = jobs(client.ci_get_asr_job(Bucket=BUCKET, JobID=job_id))
    assert (described["JobId"], described["Tag"]) == (job_id, "SpeechRecognition")
    assert described["State"] in ("Success", "Failed")  # the bytes are no audio: a real probe may refuse them
    assert job_id in [job["JobId"] for job in jobs(client.ci_list_asr_jobs(Bucket=BUCKET, QueueId=""))]


def test_apis_the_emulator_cannot_do_answer_501(client: CosS3Client) -> None:
    client.put_object(Bucket=BUCKET, Key="test.png", Body=b"x")
    calls: tuple[Callable[[], object], ...] = (
        lambda: client.ci_auditing_virus_submit(Bucket=BUCKET, Key="test.png"),
        lambda: client.ci_auditing_html_submit(Bucket=BUCKET, Url="https://cloud.tencent.com/product/ci"),
    )
    for call in calls:
        with pytest.raises(CosServiceError) as refused:
            call()
        assert (refused.value.get_status_code(), refused.value.get_error_code()) == (501, "NotImplemented")
