"""Every bucket's batch jobs in memory: creating them (starting their objects' jobs), reporting and cancelling."""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ciflow.codec import decode_tree
from ciflow.errors import CiflowError

from ._account import DEFAULT_QUEUE_IDS, UNBOUND_CODE, CiAccount
from ._app import Target
from ._batch_selection import BatchError, Tree, moment, select_keys
from ._callbacks import CallbackSender, QueueNotifier
from ._ci_admin import AdminApi
from ._jobs import FAMILY_TAGS, JobEngine, JobError, JobRecord
from ._storage import ObjectStore
from ._templates import TemplateError
from .workers import REQUEST_MODELS, ci_time, wire_tree

__all__ = ["BatchStore"]

_FINAL = frozenset({"Success", "Failed", "Cancel"})
_STATES = frozenset({"All", "Submitted", "Running", "Success", "Failed", "Pause", "Cancel"})
#: Elements of ``Operation`` that become the job request's own.
_JOB_TOP = ("QueueId", "CallBack", "CallBackFormat", "CallBackType", "CallBackMqConfig")
_JOB_OPERATION = ("Output", "UserData", "JobLevel")
_NOT_RUN = "the local emulator does not run {tag} jobs"


def _family_of(tag: str) -> str | None:
    """The job API that runs ``tag`` (``/jobs`` first), or ``None`` for a tag the engine does not run."""
    for family in ("jobs", "pic_jobs", "doc_jobs"):
        if tag in FAMILY_TAGS[family]:
            return family
    return None


def _service_of(family: str | None, tag: str) -> str | None:
    if family is None:
        return None
    if family == "jobs":
        return "file" if tag in FAMILY_TAGS["file_jobs"] else "media"
    return {"pic_jobs": "pic", "doc_jobs": "doc"}[family]


def _replaced(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {name: _replaced(item, old, new) for name, item in value.items()}
    if isinstance(value, list):
        return [_replaced(item, old, new) for item in value]
    return value


@dataclass
class _Item:
    """One selected object: the engine job or workflow execution started on it, or why none ran."""

    key: str
    job_id: str = ""
    run_id: str = ""
    code: str = ""
    message: str = ""


@dataclass
class _Batch:
    job_id: str
    seq: int
    bucket: str
    kind: str
    name: str
    source: Tree
    operation: Tree
    created: float
    items: list[_Item] = field(default_factory=list)
    failure: tuple[str, str] | None = None
    cancelled: float | None = None
    ended: float | None = None


class BatchStore:
    """Every bucket's batch jobs (in memory), running their objects through ``engine`` and ``admin``'s workflows."""

    def __init__(self, store: ObjectStore, engine: JobEngine, account: CiAccount, admin: AdminApi) -> None:
        self.store = store
        self.engine = engine
        self.account = account
        self.admin = admin
        self._lock = threading.Lock()
        self._batches: dict[str, _Batch] = {}
        self._seq = 0
        # Queue notifications are wired here: of the CI host's parts, this one is given both the engine and the account.
        if not isinstance(engine.callback_sender, QueueNotifier):
            base = engine.callback_sender
            sender = base if isinstance(base, CallbackSender) else CallbackSender()
            engine.callback_sender = QueueNotifier(base, self._queue_notify, sender)

    def _queue_notify(self, record: JobRecord) -> dict[str, str] | None:
        """The ``NotifyConfig`` of the queue a job ran in (its ``QueueId``, else its service's default queue)."""
        if record.kind is not None:  # moderation reports only through its own Conf.Callback
            return None
        service = _service_of(record.family if record.family != "file_jobs" else "jobs", record.tag)
        queue_id = record.queue_id or (DEFAULT_QUEUE_IDS.get(service) if service else None)
        queue = self.account.queue(queue_id) if queue_id else None
        return dict(queue.notify) if queue is not None else None

    # -- creating ----------------------------------------------------------------------------------

    def create(self, target: Target, request: Tree) -> Tree:
        """Check the request, select its objects and start their jobs; the batch job's ``JobsDetail``."""
        name, kind = request.get("Name"), request.get("Type") or "Workflow"
        source, operation = request.get("Input"), request.get("Operation")
        if not isinstance(name, str) or not name or len(name) > 128:
            raise BatchError(400, "InvalidArgument", "Name is required (up to 128 characters)")
        if kind not in ("Job", "Workflow"):
            raise BatchError(400, "InvalidArgument", "Type must be Job or Workflow")
        if not isinstance(source, dict) or not any(n in source for n in ("Object", "Prefix", "Manifest", "UrlFile")):
            raise BatchError(400, "InvalidArgument", "Input needs one of Object, Prefix, Manifest or UrlFile")
        if not isinstance(operation, dict):
            raise BatchError(400, "InvalidArgument", "Operation is required")
        interval = operation.get("TimeInterval")
        interval = interval if isinstance(interval, dict) else {}
        window = (
            moment(interval.get("Start"), "TimeInterval.Start"),
            moment(interval.get("End"), "TimeInterval.End"),
        )
        workflow_ids: list[str] = []
        if kind == "Job":
            self._check_job(target, operation)
        else:
            workflow_ids = self._check_workflows(target, operation)
        with self._lock:
            self._seq += 1
            batch = _Batch(
                "b" + secrets.token_hex(16), self._seq, target.bucket, kind, name, source, operation, time.time()
            )
        try:
            keys = list(select_keys(self.store, target.bucket, source, window))
        except BatchError as failed:
            keys, batch.failure = [], (failed.code, failed.message)
        for key in keys:
            if kind == "Job":
                batch.items.append(self._start_job(target, batch, key))
            else:
                batch.items += [self._start_run(target, batch, workflow_id, key) for workflow_id in workflow_ids]
        with self._lock:
            self._batches[batch.job_id] = batch
        return self._detail(batch)

    def _check_job(self, target: Target, operation: Tree) -> None:
        tag = operation.get("Tag")
        if not isinstance(tag, str) or not tag:
            raise BatchError(400, "InvalidArgument", "Operation.Tag is required")
        family = _family_of(tag)
        service = _service_of(family, tag)
        refusal = self.account.refusal(target.bucket, service)
        if refusal is not None:
            raise BatchError(400, UNBOUND_CODE, refusal)
        queue_id = operation.get("QueueId")
        if service is not None:
            unknown = self.account.queue_refusal(service, str(queue_id) if queue_id else None)
            if unknown is not None:
                raise BatchError(400, "QueueNotFound", unknown)
        if family is not None:  # the parameters must make a job: refused now rather than once per object
            self._job_request(target, operation, "b", "probe")

    def _check_workflows(self, target: Target, operation: Tree) -> list[str]:
        refusal = self.account.refusal(target.bucket, None)
        if refusal is not None:
            raise BatchError(400, UNBOUND_CODE, refusal)
        ids = [item.strip() for item in str(operation.get("WorkflowIds") or "").split(",") if item.strip()]
        if not ids:
            raise BatchError(400, "InvalidArgument", "Operation.WorkflowIds is required for Type Workflow")
        known = self.admin.workflows.describe(target.bucket, {"ids": ",".join(ids)}, "")
        missing = known.get("NonExistIDs") or []
        if missing:
            raise BatchError(404, "ResourceNotFound", f"workflow {missing[0]} does not exist")
        return ids

    def _job_request(self, target: Target, operation: Tree, batch_id: str, key: str) -> tuple[str, Tree]:
        """(family, canonical job request) for ``key``; ``BatchError`` when the parameters make no job."""
        tag = str(operation["Tag"])
        family = _family_of(tag)
        if family is None:
            raise BatchError(400, "NotSupported", _NOT_RUN.format(tag=tag))
        params = operation.get("JobParam")
        job_operation: Tree = dict(params) if isinstance(params, dict) else {}
        for name in _JOB_OPERATION:
            if name in operation:
                job_operation[name] = operation[name]
        if "Output" in job_operation:
            job_operation["Output"] = _replaced(job_operation["Output"], "${InventoryTriggerJobId}", batch_id)
        job: Tree = {"Tag": tag, "Input": {"Object": key}, "Operation": job_operation}
        job |= {name: operation[name] for name in _JOB_TOP if name in operation}
        try:
            job = self.admin.with_template(target.bucket, tag, job)
            return family, wire_tree(decode_tree(REQUEST_MODELS[tag], job))
        except TemplateError as refused:
            raise BatchError(refused.status, refused.code, refused.message) from None
        except CiflowError as exc:
            raise BatchError(400, "InvalidArgument", str(exc)) from None

    def _start_job(self, target: Target, batch: _Batch, key: str) -> _Item:
        if self.store.head(target.bucket, key) is None:
            return _Item(key, code="NoSuchKey", message=f"object {key} does not exist")
        try:
            family, job = self._job_request(target, batch.operation, batch.job_id, key)
            detail = self.engine.submit(family, job, bucket=target.bucket, region=target.region)[0]
        except BatchError as failed:
            return _Item(key, code=failed.code, message=failed.message)
        except JobError as refused:
            return _Item(key, code=refused.code, message=refused.message)
        return _Item(key, job_id=str(detail["JobId"]))

    def _start_run(self, target: Target, batch: _Batch, workflow_id: str, key: str) -> _Item:
        if self.store.head(target.bucket, key) is None:
            return _Item(key, code="NoSuchKey", message=f"object {key} does not exist")

        def runner(name: str, node: Tree, obj: str, run_id: str) -> Tree:
            return self.admin._run_node(target, name, node, obj, run_id)  # the same nodes as POST /triggerworkflow

        try:
            run_id = self.admin.workflows.trigger(target.bucket, workflow_id, key, batch.name, runner)
        except TemplateError as refused:
            return _Item(key, code=refused.code, message=refused.message)
        return _Item(key, run_id=run_id)

    # -- reporting ---------------------------------------------------------------------------------

    def _item_state(self, batch: _Batch, item: _Item) -> tuple[str, str, str, float | None]:
        """(State, Code, Message, end time) of an object's job or execution."""
        if item.job_id:
            record = self.engine.get(item.job_id)
            if record is None:
                return "Failed", "InternalError", f"job {item.job_id} is gone", batch.created
            return record.state, record.code or "", record.message or "", record.ended
        if item.run_id:
            try:
                execution = self.admin.workflows.execution(batch.bucket, item.run_id)
            except TemplateError as gone:
                return "Failed", gone.code, gone.message, batch.created
            failed = [task for task in execution["Tasks"] if task["State"] in ("Failed", "Cancel")]
            code, message = (failed[0]["Code"], failed[0]["Message"]) if failed else ("", "")
            return str(execution["State"]), str(code), str(message), None
        return "Failed", item.code, item.message, batch.created

    def _state(self, batch: _Batch) -> tuple[str, str, str, float | None]:
        """(State, Code, Message, end time) of the batch job, from its objects' jobs."""
        if batch.cancelled is not None:
            return "Cancel", "Success", "", batch.cancelled
        if batch.failure is not None:
            return "Failed", batch.failure[0], batch.failure[1], batch.created
        states = [(item, *self._item_state(batch, item)) for item in batch.items]
        if any(state not in _FINAL for _, state, _, _, _ in states):
            return "Running", "Success", "", None
        if batch.ended is None:
            ends = [ended for *_, ended in states if ended is not None]
            batch.ended = max(ends) if len(ends) == len(states) and ends else time.time()
        failed = [(item, code, message) for item, state, code, message, _ in states if state != "Success"]
        if not failed:
            return "Success", "Success", "", batch.ended
        item, code, message = failed[0]
        counted = f"{len(failed)} of {len(states)} objects failed; first: {item.key}: {message}"
        return "Failed", code or "Failed", counted, batch.ended

    def _detail(self, batch: _Batch) -> Tree:
        state, code, message, ended = self._state(batch)
        return {
            "Code": code,
            "Message": message,
            "Type": batch.kind,
            "Name": batch.name,
            "JobId": batch.job_id,
            "State": state,
            "CreationTime": ci_time(batch.created),
            "StartTime": ci_time(batch.created),
            "EndTime": ci_time(ended) if ended is not None else "-",
            "Input": batch.source,
            "Operation": batch.operation,
        }

    def describe(self, bucket: str, job_id: str) -> Tree | None:
        with self._lock:
            batch = self._batches.get(job_id)
        if batch is None or batch.bucket != bucket:
            return None
        return self._detail(batch)

    def job_ids(self, bucket: str, job_id: str) -> list[str]:
        """The engine jobs a batch job started (``[]`` for an unknown one): the way to its objects' results."""
        with self._lock:
            batch = self._batches.get(job_id)
        if batch is None or batch.bucket != bucket:
            return []
        return [item.job_id for item in batch.items if item.job_id]

    def list(self, bucket: str, params: Mapping[str, str]) -> tuple[list[Tree], str | None]:
        """One page of the bucket's batch jobs; (details, NextToken or None)."""
        size_text = params.get("size") or "10"
        if not size_text.isdigit() or not 1 <= int(size_text) <= 100:
            raise BatchError(400, "InvalidArgument", "size must be an integer from 1 to 100")
        states = {s.strip() for s in (params.get("states") or "All").split(",") if s.strip()}
        if not states <= _STATES:
            raise BatchError(400, "InvalidArgument", f"states takes {', '.join(sorted(_STATES))}")
        kind = params.get("type") or ""
        if kind not in ("", "Job", "Workflow"):
            raise BatchError(400, "InvalidArgument", "type must be Job or Workflow")
        earliest = moment(params.get("startCreationTime"), "startCreationTime")
        latest = moment(params.get("endCreationTime"), "endCreationTime")
        token = params.get("nextToken") or ""
        if token and not token.isdigit():
            raise BatchError(400, "InvalidArgument", "nextToken is not one this service issued")
        descending = (params.get("orderByTime") or "Desc") != "Asc"
        wanted: list[Callable[[_Batch], bool]] = [
            lambda b: b.bucket == bucket,
            lambda b: not kind or b.kind == kind,
            lambda b: earliest is None or b.created >= earliest,
            lambda b: latest is None or b.created <= latest,
            lambda b: not params.get("jobId") or b.job_id == params["jobId"],
            lambda b: not params.get("name") or b.name == params["name"],
            lambda b: not params.get("workflowId") or params["workflowId"] in str(b.operation.get("WorkflowIds", "")),
            lambda b: not token or (b.seq < int(token) if descending else b.seq > int(token)),
        ]
        with self._lock:
            found = [b for b in self._batches.values() if all(test(b) for test in wanted)]
        found.sort(key=lambda b: b.seq, reverse=descending)
        details = [(b.seq, self._detail(b)) for b in found]
        if "All" not in states:
            details = [(seq, detail) for seq, detail in details if detail["State"] in states]
        size = int(size_text)
        page = details[:size]
        return [detail for _, detail in page], (str(page[-1][0]) if len(details) > size else None)

    def cancel(self, bucket: str, job_id: str) -> None:
        """Mark a batch job ``Cancel`` and cancel its jobs not yet started; one already ended stays as it is."""
        with self._lock:
            batch = self._batches.get(job_id)
        if batch is None or batch.bucket != bucket:
            raise BatchError(404, "ResourceNotFound", f"batch job {job_id} does not exist")
        if self._state(batch)[0] in _FINAL:
            return
        pending = [item.job_id for item in batch.items if item.job_id]
        for item in batch.items:
            if item.run_id:
                try:
                    tasks = self.admin.workflows.execution(bucket, item.run_id)["Tasks"]
                except TemplateError:
                    continue
                pending += [str(task["JobId"]) for task in tasks if task.get("JobId")]
        for pending_id in pending:
            record = self.engine.get(pending_id)
            if record is not None and record.state == "Submitted":
                with contextlib.suppress(JobError):  # started meanwhile: it finishes
                    self.engine.cancel(pending_id)
        batch.cancelled = time.time()
