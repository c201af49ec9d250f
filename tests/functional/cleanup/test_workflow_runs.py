"""The cleanup reads a workflow step's run back: an ended run is routed as its WorkflowFinish, a running one waits."""

from collections.abc import Iterator

import httpx
import pytest
import respx

from ciflow.client import CiClient, Deadline, Endpoint, RetryPolicy
from ciflow.signing import Credentials
from tests.support.fake_cos import FakeCos

from .test_cleanup import BUCKET, CI, COS, WHEN, ListSink, cleanup, ledger, xml


@pytest.fixture
def router() -> Iterator[respx.Router]:
    with respx.mock(assert_all_called=False) as mock:
        FakeCos(page_limit=2).mount(mock, COS)
        yield mock


@pytest.fixture
def client(router: respx.Router) -> Iterator[CiClient]:
    credentials = Credentials("AKIDcleanup", "cleanup-secret-key")
    with CiClient(Endpoint("ap-guangzhou", BUCKET), credentials, retry=RetryPolicy(attempts=1)) as ci_client:
        yield ci_client


def execution(run_id: str, state: str) -> httpx.Response:
    task_state = "Running" if state == "Running" else "Success"
    return xml(
        f"<WorkflowExecution><RunId>{run_id}</RunId><WorkflowId>w1</WorkflowId><Name>flow</Name>"
        f"<State>{state}</State><CreateTime>{WHEN}</CreateTime><Object>in/a.mp4</Object>"
        f"<Tasks><Type>Transcode</Type><Name>Transcode_1</Name><JobId>j1</JobId><State>{task_state}</State></Tasks>"
        "</WorkflowExecution>"
    )


def test_an_ended_run_is_routed_once_and_a_running_one_is_left_for_later(
    client: CiClient, router: respx.Router
) -> None:
    sink = ListSink()
    runner = cleanup(client, sink)
    ledger(runner, "transcode:a", "transcode", {"workflow": "i-ended"})
    ledger(runner, "transcode:b", "transcode", {"workflow": "i-running"})
    ended = router.get(f"{CI}/workflowexecution/i-ended").mock(return_value=execution("i-ended", "Success"))
    running = router.get(f"{CI}/workflowexecution/i-running").mock(return_value=execution("i-running", "Running"))
    first = runner.run(["reconcile"], Deadline.after(30))["ledger"]
    assert (first["jobs"], first["routed"], first["unfinished"], first["unknown"]) == (2, 1, 1, 0)
    [result] = sink.delivered
    assert (result.kind, result.job_id, result.state, result.event) == (
        "workflow",
        "i-ended",
        "Success",
        "WorkflowFinish",
    )
    assert [task["name"] for task in result.details["tasks"]] == ["Transcode_1"]
    second = runner.run(["reconcile"], Deadline.after(30))["ledger"]
    assert second["routed"] == 0
    assert (ended.call_count, running.call_count) == (1, 2)  # the routed run is marked and never read again


def test_a_run_ci_no_longer_knows_is_missing(client: CiClient, router: respx.Router) -> None:
    runner = cleanup(client)
    ledger(runner, "transcode:a", "transcode", {"workflow": "i-gone"})
    router.get(f"{CI}/workflowexecution/i-gone").mock(
        return_value=httpx.Response(404, content=b"<Error><Code>ResourceNotFound</Code></Error>")
    )
    summary = runner.run(["reconcile"], Deadline.after(30))["ledger"]
    assert (summary["missing"], summary["errors"], summary["unknown"]) == (1, 0, 0)
