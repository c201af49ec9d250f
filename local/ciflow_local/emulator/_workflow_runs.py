"""Workflow executions in motion: a node's finished job reports, starts the next nodes, and the run reports its end.

``WorkflowRuns.sender(base)`` wraps the engine's callback sender. A job a workflow node started (its request
carries the run in a top-level ``Workflow`` element, which the engine keeps and never reports) does not use the
job's own callback: its ``TaskFinish`` (the job detail plus ``<Workflow>``: ``Name``, ``RunId``, ``WorkflowId``,
``WorkflowName``) goes to the workflow's ``Start.Input.NotifyConfig`` when its ``Event`` lists ``TaskFinish``, in
its ``ResultFormat`` (``XML`` by default; JSON unwrapped, scalars as strings, as jobs' callbacks are). Then the
nodes now due start on the job's first output object, and once the execution ended its ``WorkflowFinish``
(``Response/EventName`` + ``WorkflowExecution``) goes there when ``Event`` lists ``WorkflowFinish``. Only ``Url``
notification is delivered; a ``TDMQ`` one is recorded as failed (not implemented). Other jobs go to ``base``.

``on_upload`` starts every active workflow of the bucket whose ``ObjectPrefix`` the new object is under and whose
``ExtFilter`` (when ``State`` is ``On``) admits its extension, as CI's upload trigger does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ciflow.codec import to_xml
from ciflow.logging import get_logger
from ciflow.models.callbacks import WorkflowFinish

from ._callbacks import CallbackMessage, CallbackSender, strings, task_finish_body
from ._records import CallbackSenderType, JobRecord
from ._workflows import WorkflowStore
from .workers import ci_time, wire_tree

__all__ = ["WorkflowRuns", "workflow_marker", "first_output", "job_state"]

Tree = dict[str, Any]
#: ``(bucket, region, workflow id, key) -> run id``: how an upload starts a workflow (``AdminApi.start_run``).
StartRun = Callable[[str, str, str, str], str]

_log = get_logger(__name__)
_EXTENSIONS = {
    "Video": frozenset({"mp4", "mov", "mkv", "avi", "flv", "ts", "webm", "m4v", "wmv", "3gp", "mpg", "mpeg", "m3u8"}),
    "Audio": frozenset({"mp3", "m4a", "aac", "wav", "flac", "ogg", "amr", "wma", "opus"}),
    "Image": frozenset({"jpg", "jpeg", "png", "gif", "bmp", "webp", "heic", "tif", "tiff"}),
}


def workflow_marker(request: Tree) -> Tree | None:
    """The ``Workflow`` element a node's job request carries (None for other jobs)."""
    marker = request.get("Workflow")
    return marker if isinstance(marker, dict) and marker.get("RunId") else None


def first_output(record: JobRecord) -> str | None:
    """The first object a finished job wrote (``MediaResult.OutputFile``), or its plain ``Output.Object``."""
    result = record.result.get("MediaResult")
    output_file = result.get("OutputFile") if isinstance(result, dict) else None
    if isinstance(output_file, list):
        output_file = output_file[0] if output_file else None
    if isinstance(output_file, dict):
        names = output_file.get("ObjectName")
        name = names[0] if isinstance(names, list) and names else names
        if isinstance(name, str) and name:
            return str(output_file.get("ObjectPrefix") or "") + name
    operation = record.request.get("Operation") or {}
    output = operation.get("Output") if isinstance(operation, dict) else None
    key = output.get("Object") if isinstance(output, dict) else None
    return key if isinstance(key, str) and key and "${" not in key else None


def admits(start_input: Tree, key: str) -> bool:
    """``ExtFilter``: with ``State`` ``On``, the object's extension must be of a kind (or custom list) it allows."""
    ext_filter = start_input.get("ExtFilter")
    if not isinstance(ext_filter, dict) or ext_filter.get("State") != "On":
        return True
    if str(ext_filter.get("AllFile")).lower() == "true":
        return True
    ext = key.rsplit(".", 1)[-1].lower() if "." in key.rsplit("/", 1)[-1] else ""
    for kind, known in _EXTENSIONS.items():
        if str(ext_filter.get(kind)).lower() == "true" and ext in known:
            return True
    custom = str(ext_filter.get("CustomExts") or "")
    allowed = {item.strip().lower().lstrip(".") for item in custom.split("/") if item.strip()}
    return str(ext_filter.get("Custom")).lower() == "true" and ext in allowed


def job_state(record: JobRecord) -> tuple[str, str, str, str, str]:
    """(State, Code, Message, StartTime, EndTime) of a job as its workflow task reports them."""
    started = ci_time(record.started) if record.started else "-"
    ended = ci_time(record.ended) if record.ended else "-"
    code = record.code or ("Success" if record.state == "Success" else "")
    return record.state, code, record.message or "", started, ended


def _task_of(record: JobRecord, name: str, node_type: str) -> Tree:
    operation = record.request.get("Operation") or {}
    state, code, message, started, ended = job_state(record)
    return {
        "Type": node_type,
        "JobId": record.job_id,
        "CreateTime": ci_time(record.created),
        "Name": name,
        "State": state,
        "StartTime": started,
        "EndTime": ended,
        "Code": code,
        "Message": message,
        "TemplateId": operation.get("TemplateId") if isinstance(operation, dict) else None,
        "TemplateName": record.result.get("TemplateName"),
    }


def workflow_finish_body(execution: Tree, fmt: str) -> tuple[bytes, str]:
    """``WorkflowFinish``: XML ``<Response><EventName>…<WorkflowExecution>`` or JSON without the wrapper."""
    tasks = [
        {key: value for key, value in task.items() if key not in ("Code", "Message")} for task in execution["Tasks"]
    ]
    fields = ("WorkflowId", "RunId", "State", "BucketId", "Object", "CreateTime")
    body: Tree = {name: execution[name] for name in fields}
    body |= {"WorkflowName": execution["Name"], "Tasks": tasks}
    model = WorkflowFinish.model_validate({"EventName": "WorkflowFinish", "WorkflowExecution": body})
    if fmt.upper() == "JSON":
        return json.dumps(strings(wire_tree(model)), ensure_ascii=False).encode(), "application/json"
    return to_xml(model, "Response"), "application/xml"


class WorkflowRuns:
    """Moves executions of ``store`` forward as their jobs finish (see the module docstring)."""

    def __init__(self, store: WorkflowStore) -> None:
        self.store = store
        store.on_started = self.finish  # a run whose every first node failed at once ends at its trigger
        self._deliver: Callable[[CallbackMessage], str] | None = None
        #: What was sent, newest last: ``(run id, event name, status)`` (for tests and the demo's checks).
        self.sent: list[tuple[str, str, str]] = []

    def sender(self, base: CallbackSenderType) -> CallbackSenderType:
        """The engine's callback sender: workflow jobs handled here, others by ``base``."""
        deliver = getattr(base, "deliver", None)
        self._deliver = deliver if callable(deliver) else None

        def send(record: JobRecord) -> str | None:
            marker = workflow_marker(record.request)
            if marker is None:
                return base(record)
            return self.job_finished(record, marker)

        return send

    def _send(self, run_id: str, event: str, make: Callable[[str], tuple[bytes, str]]) -> str:
        _, _, start_input = self.store.workflow_of(run_id)
        notify = start_input.get("NotifyConfig")
        if not isinstance(notify, dict) or notify.get("State", "On") == "Off":
            return "none"
        events = {item.strip() for item in str(notify.get("Event") or "").split(",")}
        if event not in events:
            return "none"
        if notify.get("Type", "Url") != "Url" or not notify.get("Url"):
            status = "failed: only Url workflow notification is emulated"
        else:
            body, content_type = make(str(notify.get("ResultFormat") or "XML"))
            status = self._post(CallbackMessage(body, content_type, url=str(notify["Url"])))
        self.sent.append((run_id, event, status))
        return status

    def _post(self, message: CallbackMessage) -> str:
        if self._deliver is not None:
            return self._deliver(message)
        # The engine's sender is wrapped (a fault): a sender of its own for this message, closed after it.
        sender = CallbackSender()
        try:
            return sender.deliver(message)
        finally:
            sender.close()

    def job_finished(self, record: JobRecord, marker: Tree) -> str:
        """Report a node's finished job, start what is now due and, if the run ended, report that (once)."""
        run_id, name = str(marker["RunId"]), str(marker.get("Name") or "")
        execution = self.store.finish_task(run_id, _task_of(record, name, record.tag))
        if execution is None:
            return "none"
        status = self._send(run_id, "TaskFinish", lambda fmt: task_finish_body(record, fmt, marker))
        if record.state == "Success":
            self.store.advance(run_id, first_output(record) or "")
        self.finish(run_id)
        return status

    def finish(self, run_id: str) -> None:
        """Send the execution's ``WorkflowFinish`` if it ended and it was not sent yet."""
        ended = self.store.claim_finish(run_id)
        if ended is not None:
            self._send(run_id, "WorkflowFinish", lambda fmt: workflow_finish_body(ended, fmt))

    def on_upload(self, bucket: str, region: str, key: str, uploaded_at: float, start_run: StartRun) -> list[str]:
        """Start the bucket's active workflows the new object ``key`` falls under; their run ids."""
        runs = []
        for workflow_id, start_input in self.store.active_for(bucket, key, uploaded_at):
            if admits(start_input, key):
                try:
                    runs.append(start_run(bucket, region, workflow_id, key))
                except Exception:  # one workflow's failure must not stop the others (or the upload)
                    _log.exception("workflow trigger on upload failed", workflow_id=workflow_id, key=key)
        return runs
