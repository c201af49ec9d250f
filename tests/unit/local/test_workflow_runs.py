"""The emulator's workflow executions without jobs: which nodes are due, when a run ends, what starts it."""

from __future__ import annotations

from typing import Any

from ciflow_local.emulator._records import JobRecord
from ciflow_local.emulator._workflow_runs import admits, first_output
from ciflow_local.emulator._workflows import WorkflowStore

BUCKET = "flows-1250000000"
#: A -> (B, C); B and C -> D (a join); D -> End.
DIAMOND = {
    "MediaWorkflow": {
        "Name": "diamond",
        "State": "Active",
        "Topology": {
            "Dependencies": {"Start": "A", "A": "B,C", "B": "D", "C": "D", "D": "End"},
            "Nodes": {
                "Start": {"Type": "Start", "Input": {"ObjectPrefix": "in/"}},
                **{name: {"Type": "Transcode", "Operation": {}} for name in "ABCD"},
            },
        },
    }
}


class Runner:
    """Records each node started (and on what); ``fail`` names nodes that fail at once."""

    def __init__(self, fail: frozenset[str] = frozenset()) -> None:
        self.started: list[tuple[str, str]] = []
        self.fail = fail

    def __call__(self, name: str, node: Any, key: str, run_id: str) -> dict[str, Any]:
        self.started.append((name, key))
        state = "Failed" if name in self.fail else "Submitted"
        return {"Type": "Transcode", "JobId": f"j-{name}", "Name": name, "State": state, "Code": "", "Message": ""}


def finish(store: WorkflowStore, run_id: str, name: str, state: str, output: str) -> None:
    store.finish_task(run_id, {"Name": name, "JobId": f"j-{name}", "State": state, "Code": state, "Message": ""})
    if state == "Success":
        store.advance(run_id, output)


def state_of(store: WorkflowStore, run_id: str) -> str:
    return str(store.execution(BUCKET, run_id)["State"])


def test_nodes_run_in_dependency_order_a_join_waits_for_every_branch_and_the_end_is_claimed_once() -> None:
    store, runner = WorkflowStore(), Runner()
    workflow_id = str(store.create(BUCKET, DIAMOND)["WorkflowId"])
    run_id = store.trigger(BUCKET, workflow_id, "in/a.mp4", runner=runner)
    assert runner.started == [("A", "in/a.mp4")]
    finish(store, run_id, "A", "Success", "out/a.mp4")
    assert sorted(runner.started[1:]) == [("B", "out/a.mp4"), ("C", "out/a.mp4")]
    finish(store, run_id, "B", "Success", "out/b.mp4")
    assert [name for name, _ in runner.started] == ["A", "B", "C"]  # D waits for C too
    assert state_of(store, run_id) == "Running"
    assert store.claim_finish(run_id) is None
    finish(store, run_id, "C", "Success", "out/c.mp4")
    assert runner.started[-1] == ("D", "out/c.mp4")
    finish(store, run_id, "D", "Success", "out/d.mp4")
    assert state_of(store, run_id) == "Success"
    ended = store.claim_finish(run_id)
    assert ended is not None
    assert [task["Name"] for task in ended["Tasks"]] == ["A", "B", "C", "D"]
    assert ended["BucketId"] == BUCKET
    assert store.claim_finish(run_id) is None  # WorkflowFinish goes out once


def test_a_failed_node_ends_its_branch_and_the_run_fails_once_the_others_end() -> None:
    store, runner = WorkflowStore(), Runner()
    run_id = store.trigger(BUCKET, str(store.create(BUCKET, DIAMOND)["WorkflowId"]), "in/a.mp4", runner=runner)
    finish(store, run_id, "A", "Success", "out/a.mp4")
    finish(store, run_id, "B", "Failed", "")
    assert state_of(store, run_id) == "Running"  # C is still running
    finish(store, run_id, "C", "Success", "out/c.mp4")
    assert "D" not in [name for name, _ in runner.started]  # one predecessor failed: never due
    assert state_of(store, run_id) == "Failed"


def test_a_node_that_cannot_start_fails_at_once_and_a_node_without_input_fails_labelled() -> None:
    store = WorkflowStore()
    run_id = store.trigger(BUCKET, str(store.create(BUCKET, DIAMOND)["WorkflowId"]), "in/a.mp4", runner=None)
    [task] = store.execution(BUCKET, run_id)["Tasks"]
    assert (task["Name"], task["State"], task["Code"]) == ("A", "Failed", "NotSupported")
    assert state_of(store, run_id) == "Failed"
    other, runner = WorkflowStore(), Runner()
    run_id = other.trigger(BUCKET, str(other.create(BUCKET, DIAMOND)["WorkflowId"]), "in/a.mp4", runner=runner)
    finish(other, run_id, "A", "Success", "")  # A wrote nothing the next nodes could read
    codes = {task["Name"]: task["Code"] for task in other.execution(BUCKET, run_id)["Tasks"]}
    assert codes == {"A": "Success", "B": "NoInput", "C": "NoInput"}


def test_uploads_match_active_workflows_by_prefix_and_time_and_the_ext_filter() -> None:
    store = WorkflowStore()
    store.create(BUCKET, DIAMOND)
    assert store.active_for(BUCKET, "in/a.mp4", uploaded_at=2e9)
    assert store.active_for(BUCKET, "other/a.mp4", uploaded_at=2e9) == []
    assert store.active_for(BUCKET, "in/a.mp4", uploaded_at=0.0) == []  # uploaded before the workflow existed
    video_only = {"ExtFilter": {"State": "On", "Video": "true"}}
    assert admits(video_only, "in/a.MP4")
    assert not admits(video_only, "in/a.txt")
    assert admits({"ExtFilter": {"State": "Off"}}, "in/a.txt")
    assert admits({"ExtFilter": {"State": "On", "Custom": "true", "CustomExts": "txt/csv"}}, "in/a.csv")


def record(result: dict[str, Any], request: dict[str, Any] | None = None) -> JobRecord:
    return JobRecord(
        1, "j1", "jobs", "Transcode", "Success", 100, BUCKET, "ap-guangzhou", None, "in/a.mp4", 0.0, 0.0, 1.0,
        None, None, request or {}, result, None,
    )  # fmt: skip


def test_the_next_node_reads_the_first_object_a_job_wrote() -> None:
    written = {"MediaResult": {"OutputFile": {"ObjectPrefix": "out/", "ObjectName": ["p-0.ts", "p-1.ts"]}}}
    assert first_output(record(written)) == "out/p-0.ts"
    plain = {"Operation": {"Output": {"Object": "out/x.mp4"}}}
    assert first_output(record({}, plain)) == "out/x.mp4"
    assert first_output(record({}, {"Operation": {"Output": {"Object": "out/${Number}.jpg"}}})) is None
