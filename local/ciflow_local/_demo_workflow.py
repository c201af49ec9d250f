"""The demo's workflow run: a CI workflow (Transcode → Concat → Segment) created in the emulator, one upload handed
to it by the transcode concern's workflow mode, its node reports and WorkflowFinish waited for, checked and shown.

The upload (``workflows/clip.mp4``) is under no function's trigger prefix and the workflow is paused (no upload
trigger): only the concern's ``POST /triggerworkflow`` starts it, once. The concern runs in process, over the
demo's client and the functions' shared ledger, the way its function would. The workflow's ``NotifyConfig`` is the
hosted callback function's URL with its token, so its reports are authenticated and routed like any job's.
"""

import itertools
import time
from pathlib import Path
from typing import Any

from ciflow import operations as ops
from ciflow.client import CiClient, Deadline
from ciflow.concerns.transcode import WORKFLOW_STEP, TranscodeSettings
from ciflow.concerns.transcode import plan as transcode_plan
from ciflow.config import load_settings
from ciflow.errors import CiflowError
from ciflow.handlers import UploadRunner
from ciflow.idempotency.settings import store_for
from ciflow.models.workflows import MediaWorkflow
from ciflow.results import JobResult
from ciflow.routing import SqliteQueueSink

from ._demo_wait import Printer
from ._events import cos_event
from ._hosting import local_environment
from ._invoke import scf_context
from ._report import JobRow, RoutedMessage, WorkflowRun
from ._samples import Sample
from ._shims import LocalFunctions
from .emulator import Emulator

__all__ = ["WORKFLOW_KEY", "NODES", "start_workflow", "finish_workflow", "split_messages", "workflow_lines"]

#: Where the demo puts the upload it hands to the workflow (no function triggers on it).
WORKFLOW_KEY = "workflows/clip.mp4"
#: The workflow's nodes in the order they run, each on the one before's output.
NODES = ("Transcode_1", "Concat_1", "Segment_1")
#: Seconds of media each node writes from the 2 s sample clip: transcoded, joined with the clip, then cut.
EXPECTED_SECONDS = (2.0, 4.0, 4.0)
#: A trigger refused by an injected fault is delivered again, as SCF retries an upload event.
_ATTEMPTS = 6


def _definition(bucket: str, region: str, notify_url: str) -> MediaWorkflow:
    """Start → Transcode (mp4) → Concat (the transcode, then the original clip) → Segment (1 s pieces) → End."""
    output = {"Region": region, "Bucket": bucket}
    fragment = f"https://{bucket}.cos.{region}.myqcloud.com/{WORKFLOW_KEY}"
    notify = {"State": "On", "Url": notify_url, "Type": "Url", "Event": "TaskFinish,WorkflowFinish"}
    nodes: dict[str, Any] = {
        "Start": {
            "Type": "Start",
            "Input": {"ObjectPrefix": "workflows/", "NotifyConfig": notify | {"ResultFormat": "JSON"}},
        },
        "Transcode_1": {
            "Type": "Transcode",
            "Operation": {
                "Transcode": {"Container": {"Format": "mp4"}, "Video": {"Codec": "H.264"}, "Audio": {"Codec": "aac"}},
                "Output": {**output, "Object": "workflow-out/${RunId}/transcoded.${Ext}"},
            },
        },
        "Concat_1": {
            "Type": "Concat",
            "Operation": {
                "ConcatTemplate": {"ConcatFragment": [{"Url": fragment}], "Container": {"Format": "mp4"}},
                "Output": {**output, "Object": "workflow-out/${RunId}/joined.mp4"},
            },
        },
        "Segment_1": {
            "Type": "Segment",
            "Operation": {
                "Segment": {"Format": "mp4", "Duration": "1"},
                "Output": {**output, "Object": "workflow-out/${RunId}/piece-${Number}"},
            },
        },
    }
    dependencies = {"Start": NODES[0], **dict(itertools.pairwise(NODES)), NODES[-1]: "End"}
    topology = {"Dependencies": dependencies, "Nodes": nodes}
    return MediaWorkflow.model_validate(
        {"Name": "demo-transcode-concat-segment", "State": "Paused", "Topology": topology}
    )


def _transcode_runner(functions: LocalFunctions, client: CiClient, workflow_id: str) -> UploadRunner[Any]:
    env = local_environment(
        emulator_url=functions.emulator_url,
        data_dir=functions.data_dir,
        bucket=functions.bucket,
        region=functions.region,
        callback_url=functions.gateway.url,
        callback_token=functions.callback_token,
        user_data_secret=functions.user_data_secret,
    )
    settings = load_settings(TranscodeSettings, {**env, "CIFLOW_TRANSCODE_WORKFLOW_ID": workflow_id})
    return UploadRunner("transcode", settings, transcode_plan, client=client, store=store_for(settings, client))


def _close(runner: UploadRunner[Any]) -> None:
    close = getattr(runner.store, "close", None)
    if callable(close):
        close()


def _create(client: CiClient, workflow: MediaWorkflow) -> str:
    """The new workflow's id; a create refused by an injected fault is sent again (a spare workflow costs nothing)."""
    for attempt in range(_ATTEMPTS):
        try:
            created = client.send(ops.create_workflow(workflow), deadline=Deadline.after(30))
        except CiflowError:
            if attempt + 1 == _ATTEMPTS:
                raise
            continue
        if created.media_workflow is not None and created.media_workflow.workflow_id:
            return created.media_workflow.workflow_id
    raise CiflowError("the emulator created no workflow")


def start_workflow(functions: LocalFunctions, client: CiClient, clip: Sample, printer: Printer) -> WorkflowRun:
    """Create the workflow, upload the clip and hand it to the workflow through the transcode concern."""
    notify = f"{functions.gateway.url}?token={functions.callback_token}"
    run = WorkflowRun(_create(client, _definition(functions.bucket, functions.region, notify)), WORKFLOW_KEY, NODES)
    body = clip.read()
    client.send(ops.put_object(WORKFLOW_KEY, body, content_type=clip.content_type), deadline=Deadline.after(60))
    runner = _transcode_runner(functions, client, run.workflow_id)
    event = cos_event(functions.bucket, WORKFLOW_KEY, region=functions.region, size=len(body), content_type="video/mp4")
    try:
        for attempt in range(_ATTEMPTS):
            try:
                summary = runner.handle(event, scf_context("transcode"))
            except CiflowError as exc:  # RetryableInvocationError: SCF would deliver the event again
                run.invocation = f"attempt {attempt + 1} failed: {exc}"
                continue
            outcome = summary["outcomes"][0]
            run.invocation = str(outcome["status"])
            run.run_id = outcome.get("jobs", {}).get(WORKFLOW_STEP)
            break
    finally:
        _close(runner)
    printer.line(f"handed {WORKFLOW_KEY} to workflow {run.workflow_id}: run {run.run_id or '-'} ({run.invocation})")
    return run


def _read(queue_path: Path) -> list[RoutedMessage]:
    with SqliteQueueSink(queue_path, name="demo-workflow-reader") as queue:
        return [
            RoutedMessage(m.id, m.queue, m.dedupe_key, m.payload, m.created_at)
            for m in queue.list("all", limit=100_000)
        ]


def _of_run(messages: list[RoutedMessage], run_id: str) -> list[RoutedMessage]:
    return [
        m
        for m in messages
        if m.payload.get("job_id") == run_id or (m.payload.get("details") or {}).get("workflow_run_id") == run_id
    ]


def finish_workflow(
    emulator: Emulator, run: WorkflowRun, bucket: str, queue_path: Path, timeout: float, printer: Printer
) -> None:
    """Wait for the run's WorkflowFinish and its node reports in the local queue, then check them."""
    if run.run_id is None:
        run.problems.append(f"the workflow was never triggered: {run.invocation}")
        return
    deadline = time.monotonic() + timeout
    while True:
        run.messages = _of_run(_read(queue_path), run.run_id)
        finishes = [m for m in run.messages if m.payload.get("kind") == "workflow"]
        if (finishes and len(run.messages) > len(NODES)) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    if finishes:
        run.finish = JobResult.model_validate(finishes[0].payload)
    _attach_tasks(emulator, run)
    run.problems.extend(_problems(emulator, run, bucket))
    printer.line(f"workflow run {run.run_id}: {run.state}, {len(run.messages)} reports routed")


def _attach_tasks(emulator: Emulator, run: WorkflowRun) -> None:
    """One row per node the run reported, its job's input from the emulator's records, its routed report."""
    reports = {str(m.payload.get("job_id")): JobResult.model_validate(m.payload) for m in run.messages}
    tasks = run.finish.details.get("tasks", []) if run.finish is not None else []
    for task in tasks:
        job_id = str(task.get("job_id") or "")
        record = emulator.engine.get(job_id) if job_id else None
        row = JobRow("workflow", (record.input_object or "") if record else "", str(task.get("name")), job_id)
        row.result = reports.get(job_id)
        run.tasks.append(row)


def _problems(emulator: Emulator, run: WorkflowRun, bucket: str) -> list[str]:
    """What the run should have done: every node once, in order, each on its predecessor's output, all Success."""
    problems = []
    if run.finish is None:
        return [f"no WorkflowFinish of run {run.run_id} was routed"]
    if not run.finish.succeeded:
        problems.append(f"the run ended {run.finish.state}: {run.finish.error_code} {run.finish.error_message or ''}")
    if [task.step for task in run.tasks] != list(NODES):
        problems.append(f"the run reported nodes {[task.step for task in run.tasks]}, expected {list(NODES)}")
    previous_outputs = [WORKFLOW_KEY]
    for task in run.tasks:
        if task.result is None:
            task.problem = "its TaskFinish was not routed"
        elif not task.result.succeeded or task.result.details.get("workflow_id") != run.workflow_id:
            task.problem = (
                f"{task.result.state} {task.result.error_code or ''}, workflow {task.result.details.get('workflow_id')}"
            )
        elif task.object_key not in previous_outputs:
            task.problem = f"ran on {task.object_key}, not on the previous node's output {previous_outputs}"
        outputs = task.result.outputs if task.result is not None else []
        missing = [o.key for o in outputs if emulator.store.head(o.bucket or bucket, o.key) is None]
        task.problem = task.problem or (f"outputs not written: {missing}" if missing else None)
        previous_outputs = [o.key for o in outputs]
        if task.problem:
            problems.append(f"workflow node {task.step} {task.job_id}: {task.problem}")
    return problems + _duration_problems(run)


def _duration_problems(run: WorkflowRun) -> list[str]:
    """The media each node wrote: the 2 s clip transcoded, joined with the 2 s clip (4 s), cut whole (4 s)."""
    problems = []
    for task, seconds in zip(run.tasks, EXPECTED_SECONDS, strict=False):
        found = task.result.details.get("duration") if task.result is not None else None
        if not isinstance(found, int | float) or abs(found - seconds) > 0.3:
            task.problem = task.problem or f"wrote {found} s of media, expected {seconds:g} s"
            problems.append(f"workflow node {task.step} {task.job_id}: {task.problem}")
    return problems


def split_messages(messages: list[RoutedMessage], run: WorkflowRun | None) -> list[RoutedMessage]:
    """The messages that are not the workflow run's (those are counted with the run, not with the uploads)."""
    if run is None or run.run_id is None:
        return messages
    mine = {m.id for m in _of_run(messages, run.run_id)}
    return [m for m in messages if m.id not in mine]


def workflow_lines(run: WorkflowRun | None) -> list[str]:
    """The summary's lines about the run."""
    if run is None:
        return []
    nodes = ", ".join(f"{task.step} {task.state}" for task in run.tasks) or "no node reported"
    return [f"workflow run {run.run_id or '-'} on {run.key}: {run.state} ({nodes}); {len(run.messages)} reports routed"]
