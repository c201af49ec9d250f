"""Workflows end to end: created and triggered through the production client (the transcode concern's workflow mode
included), run node after node by the emulator, their TaskFinish and WorkflowFinish routed by the callback function."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from ciflow import operations as ops
from ciflow.client import CiClient
from ciflow.concerns.transcode import TranscodeSettings
from ciflow.concerns.transcode import plan as transcode_plan
from ciflow.config import load_settings
from ciflow.handlers import UploadRunner
from ciflow.idempotency import MemoryStore
from ciflow.models.workflows import MediaWorkflow
from ciflow_local._events import cos_event
from ciflow_local._invoke import scf_context
from ciflow_local.emulator import Emulator
from ciflow_local.emulator.workers import ffmpeg
from tests.e2e.emulator.conftest import client_for
from tests.support.callback_host import HostedCallback

REGION = "ap-guangzhou"
BUCKET = "flows-1250000000"


def finish_of(hosted: HostedCallback, run_id: str) -> dict[str, Any]:
    """The routed WorkflowFinish result of ``run_id``."""
    return hosted.wait_routed(run_id, kind="workflow")[0]


def make_clip(path: Path, seconds: float, colour: str) -> bytes:
    args = ["-f", "lavfi", "-i", f"color=c={colour}:size=96x64:rate=10", "-f", "lavfi", "-i", "sine=frequency=440"]
    args += ["-t", f"{seconds:g}", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "5"]
    ffmpeg.run_ffmpeg([*args, "-c:a", "aac", "-shortest", str(path)], timeout=60)
    return path.read_bytes()


@pytest.fixture(scope="module")
def clips(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> None:
    """``in/main.mp4`` (1 s, blue) and ``intro/outro.mp4`` (1 s, red) in the bucket."""
    work = tmp_path_factory.mktemp("clips")
    with client_for(emulator.url, bucket=BUCKET) as uploader:
        uploader.send(ops.put_object("in/main.mp4", make_clip(work / "m.mp4", 1.0, "blue"), content_type="video/mp4"))
        uploader.send(
            ops.put_object("intro/outro.mp4", make_clip(work / "o.mp4", 1.0, "red"), content_type="video/mp4")
        )


def chain(notify_url: str, *, prefix: str = "never/", state: str = "Paused", fmt: str = "JSON") -> MediaWorkflow:
    """Start -> Transcode -> Concat (the input, then an outro) -> Segment (1 s pieces) -> End."""
    output = {"Region": REGION, "Bucket": BUCKET}
    outro = f"https://{BUCKET}.cos.{REGION}.myqcloud.com/intro/outro.mp4"
    nodes = {
        "Start": {
            "Type": "Start",
            "Input": {
                "ObjectPrefix": prefix,
                "QueueId": "p-media",
                "NotifyConfig": {"Url": notify_url, "Type": "Url", "Event": "TaskFinish,WorkflowFinish"}
                | {"ResultFormat": fmt},
                "ExtFilter": {"State": "On", "Video": "true"},
            },
        },
        "Transcode_1": {
            "Type": "Transcode",
            "Operation": {
                "Transcode": {"Container": {"Format": "mp4"}, "Video": {"Codec": "H.264", "Width": "64"}},
                "Output": {**output, "Object": "flow/${RunId}/trans.${Ext}"},
            },
        },
        "Concat_1": {
            "Type": "Concat",
            "Operation": {
                "ConcatTemplate": {"ConcatFragment": [{"Url": outro}], "Container": {"Format": "mp4"}},
                "Output": {**output, "Object": "flow/${RunId}/concat.mp4"},
            },
        },
        "Segment_1": {
            "Type": "Segment",
            "Operation": {
                "Segment": {"Format": "mp4", "Duration": "1"},
                "Output": {**output, "Object": "flow/${RunId}/part-${Number}"},
            },
        },
    }
    dependencies = {"Start": "Transcode_1", "Transcode_1": "Concat_1", "Concat_1": "Segment_1", "Segment_1": "End"}
    topology = {"Dependencies": dependencies, "Nodes": nodes}
    return MediaWorkflow.model_validate({"Name": "chain", "State": state, "Topology": topology})


def test_a_triggered_workflow_runs_its_chain_and_reports_it(
    emulator: Emulator, client: CiClient, hosted: HostedCallback, clips: None
) -> None:
    created = client.send(ops.create_workflow(chain(hosted.callback_url)))
    assert created.media_workflow is not None
    workflow_id = str(created.media_workflow.workflow_id)
    listed = client.send(ops.describe_workflows(workflow_id))
    assert [w.name for w in listed.media_workflow_list] == ["chain"]
    assert listed.media_workflow_list[0].topology is not None
    run_id = str(client.send(ops.trigger_workflow(workflow_id, "in/main.mp4")).instance_id)

    finished = finish_of(hosted, run_id)
    assert (finished["state"], finished["succeeded"]) == ("Success", True)
    assert [task["name"] for task in finished["details"]["tasks"]] == ["Transcode_1", "Concat_1", "Segment_1"]
    execution = client.send(ops.describe_workflow_execution(run_id)).workflow_execution
    assert execution is not None
    assert execution.state == "Success"
    assert {task.name: (task.state, task.type) for task in execution.tasks} == {
        "Transcode_1": ("Success", "Transcode"),
        "Concat_1": ("Success", "Concat"),
        "Segment_1": ("Success", "Segment"),
    }
    # every node's job ran on its predecessor's output: the concat is the 1 s transcode plus the 1 s outro
    jobs = {task.name: str(task.job_id) for task in execution.tasks}
    concat = client.send(ops.describe_media_jobs(jobs["Concat_1"])).jobs_detail[0]
    assert concat.input is not None
    assert concat.input.object == f"flow/{run_id}/trans.mp4"
    written = [obj.key for obj in emulator.store.list(BUCKET, f"flow/{run_id}/")]
    assert f"flow/{run_id}/concat.mp4" in written
    assert len([key for key in written if "/part-" in key]) >= 2  # 2 s cut into 1 s pieces

    task_reports = [
        r for r in hosted.results() if r["kind"] != "workflow" and r["details"].get("workflow_run_id") == run_id
    ]
    assert sorted(r["tag"] for r in task_reports) == ["Concat", "Segment", "Transcode"]
    assert all(r["state"] == "Success" and r["route"] is None for r in task_reports)  # no UserData: routed by rule


def test_the_transcode_concern_hands_an_upload_to_the_workflow(
    emulator: Emulator, client: CiClient, hosted: HostedCallback, clips: None
) -> None:
    created = client.send(ops.create_workflow(chain(hosted.callback_url, fmt="XML")))
    assert created.media_workflow is not None
    workflow_id = str(created.media_workflow.workflow_id)
    env = {
        "CIFLOW_REGION": REGION,
        "CIFLOW_BUCKET": BUCKET,
        "CIFLOW_USERDATA_SECRET": hosted.secret,
        "CIFLOW_CALLBACK_URL": hosted.url,
        "CIFLOW_CALLBACK_TOKEN": hosted.token,
        "CIFLOW_IDEMPOTENCY_STORE": "memory",
        "CIFLOW_TRANSCODE_WORKFLOW_ID": workflow_id,
    }
    settings = load_settings(TranscodeSettings, env)
    store = MemoryStore()
    runner = UploadRunner("transcode", settings, transcode_plan, client=client, store=store)
    event = cos_event(BUCKET, "in/main.mp4", region=REGION, content_type="video/mp4")
    summary = runner.handle(event, scf_context("transcode"))
    assert summary["submitted"] == 1
    assert runner.handle(event, scf_context("transcode"))["submitted"] == 0  # redelivered: not triggered again
    (record,) = list(store.records())
    run_id = record.jobs["workflow"]
    assert run_id.startswith("i")
    listed = client.send(ops.list_workflow_executions(workflow_id, name="in/main.mp4"))
    assert [run.run_id for run in listed.workflow_execution_list] == [run_id]
    assert finish_of(hosted, run_id)["state"] == "Success"  # the XML WorkflowFinish, routed


def test_uploads_trigger_active_workflows_and_unrunnable_nodes_fail_honestly(
    emulator: Emulator, client: CiClient, hosted: HostedCallback, clips: None
) -> None:
    workflow = chain(hosted.callback_url, prefix="auto/", state="Active", fmt="XML")
    assert workflow.topology is not None
    topology = workflow.topology.model_dump(by_alias=True)
    pack = {"Type": "StreamPack", "Operation": {"StreamPackInfo": {"IgnoreFailedStream": "true"}}}
    topology["Nodes"]["StreamPack_1"] = pack
    topology["Dependencies"] = {"Start": "StreamPack_1", "StreamPack_1": "End"}
    unrunnable = MediaWorkflow.model_validate({"Name": "pack", "State": "Active", "Topology": topology})
    created = client.send(ops.create_workflow(unrunnable))
    assert created.media_workflow is not None
    workflow_id = str(created.media_workflow.workflow_id)
    client.send(ops.put_object("auto/skip.txt", b"not a video"))  # ExtFilter: video only
    client.send(ops.put_object("other/clip.mp4", b"outside the prefix"))
    client.send(ops.put_object("auto/clip.mp4", b"a video by name"))
    deadline = time.monotonic() + 10
    runs: list[Any] = []
    while not runs and time.monotonic() < deadline:
        runs = client.send(ops.list_workflow_executions(workflow_id)).workflow_execution_list
        time.sleep(0.05)
    assert [run.object for run in runs] == ["auto/clip.mp4"]
    finished = finish_of(hosted, str(runs[0].run_id))
    assert finished["state"] == "Failed"
    assert [task["name"] for task in finished["details"]["tasks"]] == ["StreamPack_1"]
    execution = client.send(ops.describe_workflow_execution(str(runs[0].run_id))).workflow_execution
    assert execution is not None
    assert [(task.state, task.code) for task in execution.tasks] == [("Failed", "NotSupported")]
    client.send(ops.set_workflow_state(workflow_id, "paused"))
    client.send(ops.put_object("auto/again.mp4", b"paused: not run"))
    time.sleep(0.3)
    assert len(client.send(ops.list_workflow_executions(workflow_id)).workflow_execution_list) == 1
