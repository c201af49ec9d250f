"""The transcode concern's workflow mode through the upload pipeline over respx: one trigger per upload, its RunId
recorded as the step's job, and a trigger whose answer was lost looked up before it is ever sent again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from ciflow.concerns.transcode import WORKFLOW_STEP, TranscodeSettings
from ciflow.concerns.transcode import plan as transcode_plan
from ciflow.config import load_settings
from ciflow.handlers import UploadRunner
from ciflow.handlers._outcome import RetryableInvocationError
from ciflow.idempotency import IdempotencyRecord, MemoryStore

from .test_pipeline import CI, CONTEXT, ENV, event, make_client

WORKFLOW_ID = "w" + "0123456789abcdef" * 2
KEY = "in/clip.mp4"


def triggered(run_id: str) -> httpx.Response:
    return httpx.Response(
        200, content=f"<Response><RequestId>r</RequestId><InstanceId>{run_id}</InstanceId></Response>"
    )


def executions(*runs: tuple[str, str]) -> httpx.Response:
    """A ``GET /workflowexecution`` page listing ``(run id, object)`` runs created now."""
    items = "".join(
        f"<WorkflowExecutionList><RunId>{run_id}</RunId><WorkflowId>{WORKFLOW_ID}</WorkflowId><State>Running</State>"
        f"<CreateTime>2099-01-01T00:00:00+0800</CreateTime><Object>{key}</Object></WorkflowExecutionList>"
        for run_id, key in runs
    )
    return httpx.Response(200, content=f"<Response><RequestId>r</RequestId>{items}</Response>".encode())


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def runner(store: MemoryStore) -> Iterator[UploadRunner[TranscodeSettings]]:
    settings = load_settings(TranscodeSettings, {**ENV, "CIFLOW_TRANSCODE_WORKFLOW_ID": WORKFLOW_ID})
    with make_client() as client:
        yield UploadRunner("transcode", settings, transcode_plan, client=client, store=store)


def handle(runner: UploadRunner[TranscodeSettings]) -> dict[str, Any]:
    try:
        return runner.handle(event(KEY), CONTEXT)
    except RetryableInvocationError as exc:
        return exc.summary.as_dict()


def ledger_record(store: MemoryStore) -> IdempotencyRecord:
    """The upload's one ledger record."""
    (record,) = [record for record in store.records() if record.key.startswith("transcode:")]
    return record


def ledger_jobs(store: MemoryStore) -> dict[str, str]:
    return dict(ledger_record(store).jobs)


@respx.mock
def test_an_upload_triggers_the_workflow_once_and_records_the_run(
    runner: UploadRunner[TranscodeSettings], store: MemoryStore
) -> None:
    trigger = respx.post(f"{CI}/triggerworkflow").mock(return_value=triggered("i-run-1"))
    assert handle(runner)["submitted"] == 1
    assert handle(runner)["submitted"] == 0  # a redelivery: already done
    assert trigger.call_count == 1
    params = dict(trigger.calls[0].request.url.params)
    assert params == {"workflowId": WORKFLOW_ID, "object": KEY}
    assert ledger_jobs(store) == {WORKFLOW_STEP: "i-run-1"}


@respx.mock
def test_a_lost_trigger_answer_is_found_in_the_executions_not_triggered_again(
    runner: UploadRunner[TranscodeSettings], store: MemoryStore
) -> None:
    trigger = respx.post(f"{CI}/triggerworkflow").mock(side_effect=httpx.ReadTimeout("answer lost"))
    listing = respx.get(f"{CI}/workflowexecution").mock(return_value=executions(("i-run-7", KEY)))
    first = handle(runner)
    assert first["failed"] == 1
    assert ledger_jobs(store) == {WORKFLOW_STEP: "pending"}  # the intent stays: the trigger may have run
    again = handle(runner)
    assert again["submitted"] == 1
    assert trigger.call_count == 1  # never sent twice blindly
    query = dict(listing.calls[0].request.url.params)
    assert (query["workflowId"], query["name"]) == (WORKFLOW_ID, KEY)
    assert "startCreationTime" in query
    assert ledger_jobs(store) == {WORKFLOW_STEP: "i-run-7"}


@respx.mock
def test_a_lost_trigger_that_ran_nothing_is_sent_again(
    runner: UploadRunner[TranscodeSettings], store: MemoryStore
) -> None:
    trigger = respx.post(f"{CI}/triggerworkflow").mock(
        side_effect=[httpx.ReadTimeout("answer lost"), triggered("i-run-2")]
    )
    respx.get(f"{CI}/workflowexecution").mock(return_value=executions(("i-other", "in/another.mp4")))
    handle(runner)
    assert handle(runner)["submitted"] == 1
    assert trigger.call_count == 2
    assert ledger_jobs(store) == {WORKFLOW_STEP: "i-run-2"}


@respx.mock
def test_two_candidate_runs_leave_the_step_unresolved(
    runner: UploadRunner[TranscodeSettings], store: MemoryStore
) -> None:
    trigger = respx.post(f"{CI}/triggerworkflow").mock(side_effect=httpx.ReadTimeout("answer lost"))
    respx.get(f"{CI}/workflowexecution").mock(return_value=executions(("i-a", KEY), ("i-b", KEY)))
    handle(runner)
    again = handle(runner)
    assert again["failed"] == 1
    assert "AmbiguousRunError" in again["outcomes"][0]["error"]
    assert trigger.call_count == 1
    assert ledger_record(store).payload["permanent"] is False  # the cleanup reports it later; not given up at once


def test_workflow_mode_needs_a_workflow_id_shaped_like_one() -> None:
    with pytest.raises(Exception, match="CIFLOW_TRANSCODE_WORKFLOW_ID"):
        load_settings(TranscodeSettings, {**ENV, "CIFLOW_TRANSCODE_WORKFLOW_ID": "not-a-workflow"})
    settings = load_settings(TranscodeSettings, {**ENV, "CIFLOW_TRANSCODE_WORKFLOW_ID": WORKFLOW_ID})
    assert settings.workflow_id == WORKFLOW_ID  # enough on its own: no other output is required
