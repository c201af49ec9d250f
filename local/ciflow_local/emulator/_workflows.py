"""CI's workflow APIs: workflows (create, update, active/paused, describe, delete), triggers and their executions.

A workflow is stored as the ``<MediaWorkflow>`` it was created with (``Name``, ``State``, ``Topology`` with its
``Dependencies`` and ``Nodes``), plus ``WorkflowId``, ``BucketId``, ``CreateTime`` and ``UpdateTime``. Triggering
one (``POST /triggerworkflow``, or an upload under an active workflow's ``ObjectPrefix``) records an execution
(``RunId``, ``WorkflowId``, ``Name``, ``Object``, ``CreateTime``, ``State``, ``Topology``, one ``Tasks`` entry per
node reached) that the execution APIs report.

The execution follows ``Dependencies``: ``Start``'s successors run on the triggering object; a node that succeeds
starts each successor whose predecessors all succeeded, on its own output (``_workflow_runs`` does that as jobs
finish); ``End`` ends a branch; a failed node ends its branch. The execution is ``Running`` until no task is
unfinished and no node is due, then ``Failed`` if any task failed, else ``Success``. A node the engine cannot run
(``ImageInspect``, ``StreamPack``…) gets a ``Failed`` task with ``Code`` ``NotSupported`` rather than claiming work
that never happened. In memory.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ciflow.codec import parse_ci_time
from ciflow.models.workflows import successors

from ._templates import TemplateError, paged
from .workers import ci_time

__all__ = ["WorkflowStore", "TaskRunner", "JobLookup", "unsupported_task", "submitted_task"]

Tree = dict[str, Any]
_UNSUPPORTED = "the local emulator does not run this workflow node"
_FINAL = frozenset({"Success", "Failed", "Cancel"})
#: ``(node name, node, object key, run id) -> the task``: submits the node's job (its ``JobId``) or says why not.
TaskRunner = Callable[[str, Tree, str, str], Tree]
#: ``job id -> (State, Code, Message, StartTime, EndTime)`` of a job the engine ran, or ``None``.
JobLookup = Callable[[str], "tuple[str, str, str, str, str] | None"]


def unsupported_task(
    name: str, node: object, now: float, message: str = _UNSUPPORTED, code: str = "NotSupported"
) -> Tree:
    """A task that never ran: ``Failed`` with ``code`` and ``message``."""
    node_type = node.get("Type", "") if isinstance(node, dict) else ""
    return {
        "Type": node_type,
        "JobId": "",
        "CreateTime": ci_time(now),
        "Name": name,
        "State": "Failed",
        "StartTime": "-",
        "EndTime": "-",
        "Code": code,
        "Message": message,
    }


def submitted_task(name: str, node: object, now: float, job_id: str = "") -> Tree:
    """The task of a node whose job was submitted (``job_id``), or is being (claimed, not started yet)."""
    return {**unsupported_task(name, node, now), "JobId": job_id, "State": "Submitted", "Code": "", "Message": ""}


@dataclass
class _Workflow:
    workflow_id: str
    bucket: str
    body: Tree
    created: float
    updated: float

    def tree(self) -> Tree:
        body = dict(self.body)
        topology = body.pop("Topology", None)
        return {
            "Name": body.pop("Name"),
            "State": body.pop("State"),
            "WorkflowId": self.workflow_id,
            "BucketId": self.bucket,
            "CreateTime": ci_time(self.created),
            "UpdateTime": ci_time(self.updated),
            "Topology": topology,
            **body,
        }


@dataclass
class _Execution:
    run_id: str
    seq: int
    bucket: str
    workflow_id: str
    name: str
    key: str
    batch_name: str
    created: float
    topology: Tree
    runner: TaskRunner | None = None
    tasks: list[Tree] = field(default_factory=list)
    notified: bool = False

    def live_tasks(self, lookup: JobLookup | None) -> list[Tree]:
        tasks = []
        for task in self.tasks:
            found = lookup(task["JobId"]) if task["JobId"] and lookup is not None else None
            if found is not None:
                state, code, message, started, ended = found
                task = {**task, "State": state, "StartTime": started, "EndTime": ended, "Code": code}
                task["Message"] = message
            tasks.append(task)
        return tasks

    def due(self, tasks: list[Tree]) -> list[str]:
        """Nodes whose predecessors all succeeded but that have no task yet."""
        states = {task["Name"]: task["State"] for task in tasks}
        dependencies = self.topology.get("Dependencies") or {}
        found = []
        for node in self.topology["Nodes"]:
            if node == "Start" or node in states:
                continue
            before = [source for source in dependencies if node in successors(dependencies, source)]
            if before and all(source == "Start" or states.get(source) == "Success" for source in before):
                found.append(node)
        return found

    def state(self, tasks: list[Tree]) -> str:
        if any(task["State"] not in _FINAL for task in tasks) or self.due(tasks):
            return "Running"
        return "Failed" if any(task["State"] != "Success" for task in tasks) else "Success"

    def summary(self, lookup: JobLookup | None) -> Tree:
        state = self.state(self.live_tasks(lookup))
        detail = {"RunId": self.run_id, "WorkflowId": self.workflow_id, "Object": self.key}
        return {**detail, "CreateTime": ci_time(self.created), "State": state}

    def tree(self, lookup: JobLookup | None) -> Tree:
        tasks = self.live_tasks(lookup)
        detail = {"WorkflowId": self.workflow_id, "Name": self.name, "RunId": self.run_id}
        detail |= {"CreateTime": ci_time(self.created), "Object": self.key, "State": self.state(tasks)}
        return {**detail, "Topology": self.topology, "Tasks": tasks}

    def put_task(self, task: Tree) -> None:
        """Add or update a node's task; a finished task is never replaced by an unfinished report of it."""
        for index, known in enumerate(self.tasks):
            if known["Name"] == task["Name"]:
                if known["State"] not in _FINAL or task["State"] in _FINAL:
                    self.tasks[index] = {**known, **task}
                return
        self.tasks.append(task)


def _workflow_body(request: Tree) -> Tree:
    body = request.get("MediaWorkflow")
    if not isinstance(body, dict):
        raise TemplateError(400, "InvalidArgument", "the body must hold a <MediaWorkflow>")
    name, state, topology = body.get("Name"), body.get("State") or "Paused", body.get("Topology")
    if not isinstance(name, str) or not name:
        raise TemplateError(400, "InvalidArgument", "MediaWorkflow.Name is required")
    if state not in ("Active", "Paused"):
        raise TemplateError(400, "InvalidArgument", "MediaWorkflow.State must be Active or Paused")
    if not isinstance(topology, dict) or not isinstance(topology.get("Nodes"), dict):
        raise TemplateError(400, "InvalidArgument", "MediaWorkflow.Topology needs Dependencies and Nodes")
    nodes, dependencies = topology["Nodes"], topology.get("Dependencies")
    start = nodes.get("Start")
    if not isinstance(start, dict) or start.get("Type") != "Start":
        raise TemplateError(400, "InvalidArgument", "the topology needs a Start node of Type Start")
    if not isinstance(dependencies, dict):
        raise TemplateError(400, "InvalidArgument", "MediaWorkflow.Topology.Dependencies is required")
    for source, targets in dependencies.items():
        names = [source, *str(targets or "").split(",")]
        unknown = [n for n in names if n and n != "End" and n not in nodes]
        if unknown:
            raise TemplateError(400, "InvalidArgument", f"Dependencies name unknown nodes: {', '.join(unknown)}")
    return {**body, "Name": name, "State": state}


class WorkflowStore:
    """Every bucket's workflows and executions, in memory; thread-safe."""

    def __init__(self, lookup: JobLookup | None = None) -> None:
        self._lock = threading.Lock()
        self._workflows: dict[str, _Workflow] = {}
        self._executions: dict[str, _Execution] = {}
        self.lookup = lookup
        #: Told of every triggered run once its first nodes started (``WorkflowRuns.finish``: all may have failed).
        self.on_started: Callable[[str], None] | None = None

    def _owned(self, bucket: str, workflow_id: str) -> _Workflow:
        workflow = self._workflows.get(workflow_id)
        if workflow is None or workflow.bucket != bucket:
            raise TemplateError(404, "ResourceNotFound", f"workflow {workflow_id} does not exist")
        return workflow

    def create(self, bucket: str, request: Tree) -> Tree:
        now = time.time()
        workflow = _Workflow("w" + secrets.token_hex(16), bucket, _workflow_body(request), now, now)
        with self._lock:
            self._workflows[workflow.workflow_id] = workflow
        return workflow.tree()

    def update(self, bucket: str, workflow_id: str, request: Tree) -> Tree:
        body = _workflow_body(request)
        with self._lock:
            workflow = self._owned(bucket, workflow_id)
            workflow.body, workflow.updated = body, time.time()
            return workflow.tree()

    def set_state(self, bucket: str, workflow_id: str, state: str) -> Tree:
        with self._lock:
            workflow = self._owned(bucket, workflow_id)
            workflow.body, workflow.updated = {**workflow.body, "State": state}, time.time()
            return workflow.tree()

    def delete(self, bucket: str, workflow_id: str) -> None:
        with self._lock:
            self._owned(bucket, workflow_id)
            del self._workflows[workflow_id]

    def describe(self, bucket: str, params: Mapping[str, str], request_id: str) -> Tree:
        prefix = params.get("name", "")
        with self._lock:
            mine = sorted(
                (w for w in self._workflows.values() if w.bucket == bucket), key=lambda w: w.created, reverse=True
            )
            trees = [(w.workflow_id, w.tree()) for w in mine]
        ids = [item.strip() for item in params.get("ids", "").split(",") if item.strip()]
        if ids:
            found = {workflow_id: tree for workflow_id, tree in trees}
            listed = [found[i] for i in ids if i in found and str(found[i]["Name"]).startswith(prefix)]
            answer: Tree = {"RequestId": request_id, "MediaWorkflowList": listed}
            missing = [i for i in ids if i not in found]
            if missing:
                answer["NonExistIDs"] = missing
            return answer
        chosen = [tree for _, tree in trees if str(tree["Name"]).startswith(prefix)]
        counts, page = paged(chosen, params)
        return {"RequestId": request_id, **counts, "MediaWorkflowList": page}

    # -- executions ------------------------------------------------------------------------------------

    def trigger(
        self, bucket: str, workflow_id: str, key: str, batch_name: str = "", runner: TaskRunner | None = None
    ) -> str:
        """Record an execution of the workflow on ``key`` and start ``Start``'s successors with ``runner`` (kept to
        start the later nodes as the earlier ones succeed: ``advance``); its ``RunId`` (the answer's
        ``InstanceId``)."""
        now = time.time()
        run_id = "i" + secrets.token_hex(16)
        with self._lock:
            workflow = self._owned(bucket, workflow_id)
            topology = dict(workflow.body["Topology"])
            execution = _Execution(
                run_id,
                len(self._executions) + 1,
                bucket,
                workflow_id,
                str(workflow.body["Name"]),
                key,
                batch_name,
                now,
                topology,
                runner,
            )
            # Registered before any job starts: a node's job may finish before ``runner`` returns.
            self._executions[run_id] = execution
        self.advance(run_id, key)
        if self.on_started is not None:
            self.on_started(run_id)
        return run_id

    def advance(self, run_id: str, key: str) -> None:
        """Start every node now due (see ``_Execution.due``) on ``key``; nodes ``runner`` cannot run fail at once."""
        while True:
            with self._lock:
                execution = self._executions[run_id]
                due = execution.due(execution.tasks)
                for name in due:  # claimed before running: a concurrent ``advance`` must not start them too
                    execution.put_task(submitted_task(name, execution.topology["Nodes"][name], time.time()))
            if not due:
                return
            for name in due:
                node, runner = execution.topology["Nodes"][name], execution.runner
                if not key:  # the node before wrote no object to work on
                    task = unsupported_task(
                        name, node, time.time(), "no input: the previous node wrote no object", "NoInput"
                    )
                elif runner is not None and isinstance(node, dict):
                    task = runner(name, node, key, run_id)
                else:
                    task = None
                with self._lock:
                    execution.put_task(task or unsupported_task(name, node, time.time()))

    def finish_task(self, run_id: str, task: Tree) -> _Execution | None:
        """Record a node's finished task; the execution (None if unknown)."""
        with self._lock:
            execution = self._executions.get(run_id)
            if execution is not None:
                execution.put_task(task)
            return execution

    def claim_finish(self, run_id: str) -> Tree | None:
        """The execution's tree once it ended, the first time only (its ``WorkflowFinish`` is sent once)."""
        with self._lock:
            execution = self._executions.get(run_id)
            if execution is None or execution.notified:
                return None
            tree = execution.tree(self.lookup)
            if tree["State"] == "Running":
                return None
            execution.notified = True
            return {**tree, "BucketId": execution.bucket}

    def active_for(self, bucket: str, key: str, uploaded_at: float) -> list[tuple[str, Tree]]:
        """``(WorkflowId, Start.Input)`` of the bucket's workflows active when ``key`` was uploaded (the upload
        is announced after its answer: a workflow created or changed since then must not see it) whose
        ``ObjectPrefix`` ``key`` is under."""
        with self._lock:
            mine = [
                w
                for w in self._workflows.values()
                if w.bucket == bucket and w.body.get("State") == "Active" and w.updated <= uploaded_at
            ]
        found = []
        for workflow in mine:
            start_input = _start_input(workflow.body["Topology"])
            prefix = str(start_input.get("ObjectPrefix") or "")
            if key.startswith(prefix.lstrip("/")):
                found.append((workflow.workflow_id, start_input))
        return found

    def workflow_of(self, run_id: str) -> tuple[str, str, Tree]:
        """(workflow id, workflow name, ``Start.Input``) of an execution's workflow, as it was triggered."""
        with self._lock:
            execution = self._executions[run_id]
        return execution.workflow_id, execution.name, _start_input(execution.topology)

    def execution(self, bucket: str, run_id: str) -> Tree:
        with self._lock:
            execution = self._executions.get(run_id)
            if execution is None or execution.bucket != bucket:
                raise TemplateError(404, "ResourceNotFound", f"workflow execution {run_id} does not exist")
        return execution.tree(self.lookup)

    def executions(self, bucket: str, params: Mapping[str, str]) -> tuple[list[Tree], str | None]:
        """One page of a workflow's executions (``workflowId`` required); (summaries, NextToken or None)."""
        workflow_id = params.get("workflowId", "")
        if not workflow_id:
            raise TemplateError(400, "InvalidArgument", "workflowId is required")
        size_text = params.get("size") or "10"
        if not size_text.isdigit() or not 1 <= int(size_text) <= 100:
            raise TemplateError(400, "InvalidArgument", "size must be an integer from 1 to 100")
        states = {s.strip() for s in params.get("states", "All").split(",") if s.strip()}
        earliest, latest = _moment(params, "startCreationTime"), _moment(params, "endCreationTime")
        token = params.get("nextToken", "")
        if token and not token.isdigit():
            raise TemplateError(400, "InvalidArgument", "nextToken is not one this service issued")
        descending = params.get("orderByTime", "Desc") != "Asc"
        with self._lock:
            found = [
                e
                for e in self._executions.values()
                if e.bucket == bucket
                and e.workflow_id == workflow_id
                and (earliest is None or e.created >= earliest)
                and (latest is None or e.created <= latest)
                and (not params.get("name") or params["name"] in (e.key, e.key.rsplit("/", 1)[-1]))
                and (not token or (e.seq < int(token) if descending else e.seq > int(token)))
            ]
        found.sort(key=lambda e: e.seq, reverse=descending)
        summaries = [(e.seq, e.summary(self.lookup)) for e in found]
        if states and "All" not in states:
            summaries = [(seq, summary) for seq, summary in summaries if summary["State"] in states]
        size = int(size_text)
        page = summaries[:size]
        return [summary for _, summary in page], (str(page[-1][0]) if len(summaries) > size else None)


def _start_input(topology: Tree) -> Tree:
    start = topology["Nodes"].get("Start")
    start_input = start.get("Input") if isinstance(start, dict) else None
    return start_input if isinstance(start_input, dict) else {}


def _moment(params: Mapping[str, str], name: str) -> float | None:
    value = params.get(name)
    if not value:
        return None
    try:
        return float(parse_ci_time(value).timestamp())
    except ValueError:
        raise TemplateError(400, "InvalidArgument", f"{name} is not a time like 2001-01-01T00:00:00+0800") from None
