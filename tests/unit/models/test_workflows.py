"""Workflow models and operations: node operations typed by node type, requests built as CI documents them."""

from __future__ import annotations

from datetime import datetime, timezone
from xml.etree.ElementTree import fromstring

import httpx
import pytest

from ciflow import operations as ops
from ciflow.codec import from_xml, to_xml
from ciflow.models.media import SnapshotOperation
from ciflow.models.workflows import (
    MediaWorkflow,
    MediaWorkflowRequest,
    TriggerWorkflowResponse,
    WorkflowExecutionListResponse,
    WorkflowNode,
    node_operation_model,
    successors,
)

WORKFLOW_ID = "w" + "0" * 32

BODY = b"""<Request><MediaWorkflow><Name>flow</Name><State>Paused</State><Topology>
<Dependencies><Start>Snapshot_1,Pack_1</Start><Snapshot_1>End</Snapshot_1><Pack_1></Pack_1></Dependencies>
<Nodes><Start><Type>Start</Type><Input><ObjectPrefix>in/</ObjectPrefix><QueueId>p1</QueueId>
<NotifyConfig><Url>http://cb</Url><Event>TaskFinish, WorkflowFinish</Event><Type>Url</Type></NotifyConfig>
<ExtFilter><State>On</State><Video>true</Video></ExtFilter></Input></Start>
<Snapshot_1><Type>Snapshot</Type><Operation><TemplateId>t1</TemplateId><Output><Object>a/${RunId}.jpg</Object></Output>
</Operation></Snapshot_1>
<Pack_1><Type>StreamPack</Type><Operation><StreamPackInfo><PackType>HLS</PackType></StreamPackInfo></Operation></Pack_1>
</Nodes></Topology></MediaWorkflow></Request>"""


def test_a_topology_is_typed_by_node_type_and_keeps_what_it_does_not_type() -> None:
    request = from_xml(MediaWorkflowRequest, BODY, root="Request")
    topology = request.media_workflow.topology
    assert topology is not None
    assert topology.successors("Start") == ["Snapshot_1", "Pack_1"]
    assert topology.successors("Snapshot_1") == []  # End ends the branch
    assert topology.successors("Pack_1") == []  # an empty element lists no successor
    start = topology.start
    assert start is not None
    assert start.notify_config is not None
    assert start.notify_config.events == frozenset({"TaskFinish", "WorkflowFinish"})
    snapshot = topology.nodes["Snapshot_1"].operation
    assert isinstance(snapshot, SnapshotOperation)
    assert snapshot.template_id == "t1"
    assert topology.nodes["Pack_1"].operation == {"StreamPackInfo": {"PackType": "HLS"}}
    again = fromstring(to_xml(request, "Request"))
    assert again.findtext("MediaWorkflow/Topology/Nodes/Pack_1/Operation/StreamPackInfo/PackType") == "HLS"
    assert again.findtext("MediaWorkflow/Topology/Nodes/Snapshot_1/Operation/Output/Object") == "a/${RunId}.jpg"


def test_node_operation_models_come_from_the_job_detail_tables() -> None:
    assert node_operation_model("Snapshot") is SnapshotOperation
    assert node_operation_model("NoSuchType") is None
    assert node_operation_model(None) is None
    assert WorkflowNode.model_validate({"Type": "NoSuchType", "Operation": "text"}).operation == "text"
    assert successors({"A": "B, End ,C"}, "A") == ["B", "C"]


def test_create_and_update_send_the_workflow_as_a_request_document() -> None:
    workflow = MediaWorkflow.model_validate(from_xml(MediaWorkflowRequest, BODY, root="Request").media_workflow)
    create = ops.create_workflow(workflow)
    assert (create.method, create.path, create.retry) == ("POST", "/workflow", "submit")
    assert create.body is not None
    assert fromstring(create.body).findtext("MediaWorkflow/Name") == "flow"
    update = ops.update_workflow(WORKFLOW_ID, workflow)
    assert (update.method, update.path) == ("PUT", f"/workflow/{WORKFLOW_ID}")
    with pytest.raises(ValueError, match="workflow id"):
        ops.update_workflow("w/../x", workflow)


def test_state_describe_delete_and_executions_paths_and_parameters() -> None:
    paused = ops.set_workflow_state(WORKFLOW_ID, "paused")
    assert (paused.method, paused.params, paused.body) == ("PUT", (("paused", ""),), None)
    with pytest.raises(ValueError, match="active"):
        ops.set_workflow_state(WORKFLOW_ID, "stopped")  # type: ignore[arg-type]
    described = ops.describe_workflows("w1", "w2", name="flo", page_size=5)
    assert described.params == (("ids", "w1,w2"), ("name", "flo"), ("pageSize", "5"))
    assert ops.delete_workflow(WORKFLOW_ID).path == f"/workflow/{WORKFLOW_ID}"
    assert ops.describe_workflow_execution("i1").path == "/workflowexecution/i1"
    since = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    listing = ops.list_workflow_executions(
        WORKFLOW_ID, name="in/a.mp4", states=("Running", "Failed"), start_creation_time=since
    )
    assert dict(listing.params) == {
        "workflowId": WORKFLOW_ID,
        "name": "in/a.mp4",
        "states": "Running,Failed",
        "startCreationTime": "2024-01-02T03:04:05+0000",
    }


def test_a_trigger_is_billed_so_never_blindly_retried_and_reads_the_run_id() -> None:
    trigger = ops.trigger_workflow(WORKFLOW_ID, "/in/视频 a.mp4", name="batch_1")
    assert (trigger.method, trigger.path, trigger.retry) == ("POST", "/triggerworkflow", "submit")
    assert trigger.params == (("workflowId", WORKFLOW_ID), ("object", "in/视频 a.mp4"), ("name", "batch_1"))
    answer = httpx.Response(200, content=b"<Response><RequestId>r</RequestId><InstanceId>i-1=</InstanceId></Response>")
    read = trigger.read(answer)
    assert isinstance(read, TriggerWorkflowResponse)
    assert read.instance_id == "i-1="
    with pytest.raises(ValueError, match="empty"):
        ops.trigger_workflow(WORKFLOW_ID, "")


def test_execution_listing_pages_follow_next_token() -> None:
    first = ops.list_workflow_executions(WORKFLOW_ID, size=1)
    page = WorkflowExecutionListResponse.model_validate({"NextToken": "7", "WorkflowExecutionList": [{"RunId": "i1"}]})
    assert first.next_page is not None
    following = first.next_page(page)
    assert following is not None
    assert dict(following.params)["nextToken"] == "7"
    assert following.next_page is not None
    assert following.next_page(WorkflowExecutionListResponse()) is None
