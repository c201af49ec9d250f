"""Durable CI job state in SQLite and a thread pool running jobs (Submitted -> Running -> Success/Failed/Cancel)."""

from __future__ import annotations

import builtins
import json
import logging
import queue
import secrets
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ciflow.codec import decode_tree, parse_ci_time, to_xml
from ciflow.errors import CiflowError
from ciflow.models import JobInput
from ciflow.models.files import FILE_TAGS, FileHashResponse
from ciflow.models.media import MEDIA_TAGS
from ciflow.models.moderation import ImageRecognitionResult, ModerationKind

from ._app import Target, error_response
from ._ci_process import CI_PROCESSES, sync_ci_process
from ._storage import ObjectStore
from ._workers import (
    MODERATION_REQUESTS,
    REQUEST_MODELS,
    WORKERS,
    ArchiveLimits,
    JobContext,
    JobFailedError,
    ModerationRules,
    ci_time,
    file_hash_result,
    moderate,
)

__all__ = ["JOB_FAMILIES", "FAMILY_TAGS", "JobError", "JobRecord", "JobEngine"]

_log = logging.getLogger(__name__)
Tree = dict[str, Any]

#: Job APIs -> the tags each accepts (``/jobs`` also takes file tags, as the 2025 FileUncompress doc shows).
FAMILY_TAGS: dict[str, frozenset[str]] = {
    "jobs": frozenset(MEDIA_TAGS & set(REQUEST_MODELS)) | FILE_TAGS,
    "file_jobs": FILE_TAGS,
    "doc_jobs": frozenset({"DocProcess"}),
    "pic_jobs": frozenset({"PicProcess"}),
}
JOB_FAMILIES = frozenset(FAMILY_TAGS)
_PREFIX = {"jobs": "j", "file_jobs": "f", "doc_jobs": "d", "pic_jobs": "c"}
_MODERATION_PREFIX = {
    ModerationKind.IMAGE: "si",
    ModerationKind.VIDEO: "av",
    ModerationKind.AUDIO: "sa",
    ModerationKind.TEXT: "st",
    ModerationKind.DOCUMENT: "sd",
}
_FINAL = frozenset({"Success", "Failed", "Cancel"})
_SYNC_HASH_LIMIT = 128 * 1024 * 1024
_SYNC_DETECT_TYPES = {"porn": "Porn", "terrorist": "Terrorism", "terrorism": "Terrorism", "politics": "Politics"}
_SYNC_DETECT_TYPES |= {"ads": "Ads", "teenager": "Teenager", "illegal": "Illegal", "abuse": "Abuse"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id TEXT NOT NULL UNIQUE, family TEXT NOT NULL, tag TEXT NOT NULL, state TEXT NOT NULL,
  progress INTEGER NOT NULL, bucket TEXT NOT NULL, region TEXT NOT NULL, queue_id TEXT, input_object TEXT,
  created REAL NOT NULL, started REAL, ended REAL, code TEXT, message TEXT,
  request TEXT NOT NULL, result TEXT NOT NULL, callback TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_family ON jobs (family, bucket, seq);
"""
_COLUMNS = (
    "seq, job_id, family, tag, state, progress, bucket, region, queue_id, input_object, created, started, ended,"
    " code, message, request, result, callback"
)


class JobError(Exception):
    """A request the engine refuses: answered with ``status`` and CI's error ``code``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class JobRecord:
    """One job as stored: its state columns, the request tree it was submitted with and its result elements."""

    seq: int
    job_id: str
    family: str
    tag: str
    state: str
    progress: int
    bucket: str
    region: str
    queue_id: str | None
    input_object: str | None
    created: float
    started: float | None
    ended: float | None
    code: str | None
    message: str | None
    request: Tree
    result: Tree
    callback_status: str | None

    @property
    def finished(self) -> bool:
        return self.state in _FINAL

    @property
    def kind(self) -> ModerationKind | None:
        """The moderation kind, ``None`` for the job APIs."""
        return None if self.family in JOB_FAMILIES else ModerationKind(self.family)

    @property
    def detail(self) -> Tree:
        """The wire ``JobsDetail`` tree: what describe, list and the callbacks report."""
        return self._job_detail() if self.kind is None else self._moderation_detail()

    def _job_detail(self) -> Tree:
        operation = {**(self.request.get("Operation") or {}), **self.result}
        detail: Tree = {
            "Code": self.code or "Success",
            "Message": self.message or "",
            "JobId": self.job_id,
            "Tag": self.tag,
            "State": self.state,
            "Progress": str(self.progress),
            "CreationTime": ci_time(self.created),
            "StartTime": ci_time(self.started) if self.started else "-",
            "EndTime": ci_time(self.ended) if self.ended else "-",
            "QueueId": self.queue_id,
        }
        if isinstance(self.request.get("Input"), dict):
            detail["Input"] = {"BucketId": self.bucket, "Object": self.input_object, "Region": self.region}
        detail["Operation"] = operation
        return detail

    def _moderation_detail(self) -> Tree:
        source = _moderation_input(self.request)
        detail: Tree = {
            "Code": self.code or "Success",
            "Message": self.message or "Success",
            "JobId": self.job_id,
            "State": self.state,
            "CreationTime": ci_time(self.created),
            "DataId": source.get("DataId"),
            "Object": source.get("Object"),
            "Url": source.get("Url"),
        }
        return {**detail, **self.result}


def _moderation_input(request: Mapping[str, Any]) -> Tree:
    source = request.get("Input")
    if isinstance(source, list):
        source = source[0] if source else {}
    return source if isinstance(source, dict) else {}


def _new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


CallbackSenderType = Callable[[JobRecord], "str | None"]


class JobEngine:
    """Jobs for every bucket, durable across restarts (unfinished jobs run again), run by ``workers`` threads.

    ``job_delay`` holds every job that long before it starts (the "slow jobs" fault, and a way to catch a job
    still queued); ``rules`` make moderation verdicts; ``limits`` bound what FileUncompress accepts.
    """

    def __init__(
        self,
        store: ObjectStore,
        db_path: Path,
        *,
        callback_sender: CallbackSenderType | None = None,
        workers: int = 2,
        rules: ModerationRules | None = None,
        limits: ArchiveLimits | None = None,
        job_delay: float = 0.0,
        job_timeout: float = 300.0,
    ) -> None:
        self.store = store
        self._own_sender: Any = None
        if callback_sender is None:
            from ._callbacks import CallbackSender

            callback_sender = self._own_sender = CallbackSender()
        self.callback_sender = callback_sender
        self.rules = rules or ModerationRules()
        self.limits = limits or ArchiveLimits()
        self.job_delay = job_delay
        self.job_timeout = job_timeout
        Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(db_path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._work, name=f"ciflow-job-{index}", daemon=True) for index in range(workers)
        ]
        self._resume()
        for thread in self._threads:
            thread.start()

    # ----------------------------------------------------------------------------------------------
    # Reading
    # ----------------------------------------------------------------------------------------------

    def _select(self, where: str, params: Sequence[Any]) -> builtins.list[JobRecord]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE {where}", params).fetchall()  # noqa: S608
        return [self._record(row) for row in rows]

    @staticmethod
    def _record(row: Sequence[Any]) -> JobRecord:
        values = list(row)
        values[15], values[16] = json.loads(values[15]), json.loads(values[16])
        return JobRecord(*values)

    def get(self, job_id: str) -> JobRecord | None:
        found = self._select("job_id = ?", (job_id,))
        return found[0] if found else None

    def wait(self, job_id: str, timeout: float = 30.0, *, delivered: bool = False) -> JobRecord:
        """The job once finished (and, with ``delivered``, once its callback was attempted)."""
        deadline = time.monotonic() + timeout
        while True:
            record = self.get(job_id)
            if record is None:
                raise KeyError(job_id)
            if record.finished and (not delivered or record.callback_status is not None or record.state == "Cancel"):
                return record
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} is still {record.state} after {timeout:g} s")
            time.sleep(0.02)

    def describe(
        self, family: str, ids: Sequence[str], *, bucket: str | None = None
    ) -> tuple[builtins.list[Tree], builtins.list[str]]:
        """(details of the ids found, ids not found), in the order asked."""
        found = {record.job_id: record for record in self._family_records(family, ids, bucket)}
        return [found[i].detail for i in ids if i in found], [i for i in ids if i not in found]

    def _family_records(self, family: str, ids: Sequence[str], bucket: str | None) -> builtins.list[JobRecord]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        where, params = f"family = ? AND job_id IN ({marks})", [family, *ids]
        if bucket is not None:
            where, params = where + " AND bucket = ?", [*params, bucket]
        return self._select(where, params)

    def list(
        self, family: str, params: Mapping[str, str], *, bucket: str | None = None
    ) -> tuple[builtins.list[Tree], str | None]:
        """One page of a family's jobs filtered by the listing parameters; (details, NextToken or None)."""
        where, values = _list_filters(family, params, bucket)
        size = _page_size(params.get("size"))
        descending = params.get("orderByTime", "Desc") != "Asc"
        token = params.get("nextToken")
        if token:
            if not token.isdigit():
                raise JobError(400, "InvalidArgument", "nextToken is not one this service issued")
            where += " AND seq < ?" if descending else " AND seq > ?"
            values.append(int(token))
        order = "DESC" if descending else "ASC"
        records = self._select(f"{where} ORDER BY seq {order} LIMIT ?", [*values, size + 1])
        more = len(records) > size
        records = records[:size]
        return [record.detail for record in records], (str(records[-1].seq) if more else None)

    # ----------------------------------------------------------------------------------------------
    # Submitting and cancelling
    # ----------------------------------------------------------------------------------------------

    def submit(self, family: str, request_tree: Tree, *, bucket: str, region: str) -> builtins.list[Tree]:
        """Create the job(s) of a request tree; their details (one per job: an image batch makes several).

        Image moderation without ``Conf.Async=1`` and text moderation of ``Input.Content`` run inline and come
        back finished, as CI answers them; every other job is queued.
        """
        if family not in JOB_FAMILIES:
            return self._submit_moderation(_kind(family), request_tree, bucket, region)
        tag = str(request_tree.get("Tag") or "")
        if tag not in FAMILY_TAGS[family]:
            raise JobError(400, "InvalidArgument", f"Tag {tag or '(missing)'} is not served by /{family}")
        model = _decode(REQUEST_MODELS[tag], request_tree)
        source = getattr(model, "input", None)
        record = self._insert(
            family, _PREFIX[family], tag, bucket, region, request_tree, getattr(source, "object", None)
        )
        self._queue.put(record.job_id)
        return [record.detail]

    def _submit_moderation(self, kind: ModerationKind, tree: Tree, bucket: str, region: str) -> builtins.list[Tree]:
        model = _decode(MODERATION_REQUESTS[kind], tree)
        conf = tree.get("Conf") if isinstance(tree.get("Conf"), dict) else {}
        if kind is ModerationKind.IMAGE:
            inputs = tree.get("Input")
            trees = [{**tree, "Input": [item]} for item in (inputs if isinstance(inputs, list) else [inputs])]
            sync = str((conf or {}).get("Async", "0")) != "1"
        else:
            trees = [tree]
            sync = kind is ModerationKind.TEXT and bool(model.input.content)
        details = []
        for job_tree in trees:
            source = _moderation_input(job_tree)
            record = self._insert(
                kind.value,
                _MODERATION_PREFIX[kind],
                f"{kind.value.title()}Auditing",
                bucket,
                region,
                job_tree,
                source.get("Object"),
            )
            if sync:
                self._execute(record.job_id, notify=False)
                record = self.get(record.job_id) or record
            else:
                self._queue.put(record.job_id)
            details.append(record.detail)
        return details

    def _insert(
        self, family: str, prefix: str, tag: str, bucket: str, region: str, tree: Tree, input_object: str | None
    ) -> JobRecord:
        job_id = _new_id(prefix)
        queue_id = tree.get("QueueId") or None
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO jobs (job_id, family, tag, state, progress, bucket, region, queue_id, input_object,"
                " created, request, result) VALUES (?, ?, ?, 'Submitted', 0, ?, ?, ?, ?, ?, ?, '{}')",
                (job_id, family, tag, bucket, region, queue_id, input_object, time.time(), json.dumps(tree)),
            )
            assert cursor.lastrowid is not None
        record = self.get(job_id)
        assert record is not None
        return record

    def cancel(self, job_id: str) -> None:
        """Cancel a queued job; ``JobError`` when it does not exist or is no longer ``Submitted``."""
        with self._lock:
            row = self._db.execute("SELECT state FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
            if row is None:
                raise JobError(404, "ResourceNotFound", f"job {job_id} does not exist")
            if row[0] != "Submitted":
                raise JobError(
                    400, "InvalidJobState", f"job {job_id} is {row[0]}; only Submitted jobs can be cancelled"
                )
            self._db.execute(
                "UPDATE jobs SET state = 'Cancel', ended = ?, code = 'Cancel', message = 'cancelled by request'"
                " WHERE job_id = ?",
                (time.time(), job_id),
            )

    # ----------------------------------------------------------------------------------------------
    # Running
    # ----------------------------------------------------------------------------------------------

    def _resume(self) -> None:
        """Jobs a previous run left unfinished start over."""
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET state = 'Submitted', started = NULL, progress = 0"
                " WHERE state NOT IN ('Submitted', 'Success', 'Failed', 'Cancel')"
            )
            rows = self._db.execute("SELECT job_id FROM jobs WHERE state = 'Submitted' ORDER BY seq").fetchall()
        for (job_id,) in rows:
            self._queue.put(job_id)

    def _work(self) -> None:
        while (job_id := self._queue.get()) is not None:
            if self._stopping.wait(self.job_delay) if self.job_delay else self._stopping.is_set():
                return  # closing: the job stays Submitted and runs after a restart
            try:
                self._execute(job_id)
            except Exception:  # never let a worker thread die: the job is already marked Failed
                _log.exception("job %s crashed the worker", job_id)

    def _claim(self, job_id: str, running: str) -> JobRecord | None:
        with self._lock:
            cursor = self._db.execute(
                "UPDATE jobs SET state = ?, started = ?, progress = 0 WHERE job_id = ? AND state = 'Submitted'",
                (running, time.time(), job_id),
            )
        return self.get(job_id) if cursor.rowcount == 1 else None

    def _execute(self, job_id: str, *, notify: bool = True) -> None:
        record = self.get(job_id)
        if record is None:
            return
        record = self._claim(job_id, "Running" if record.kind is None else "Auditing")
        if record is None:
            return  # cancelled (or taken) before it started
        (self.store.root / "tmp").mkdir(parents=True, exist_ok=True)
        work_dir = Path(tempfile.mkdtemp(prefix=f"{job_id}-", dir=self.store.root / "tmp"))
        try:
            result = self._run(record, work_dir)
        except JobFailedError as failure:
            self._finish(job_id, "Failed", {}, failure.code, failure.message)
        except Exception as exc:
            _log.exception("job %s failed unexpectedly", job_id)
            self._finish(job_id, "Failed", {}, "InternalError", f"{type(exc).__name__}: {exc}")
        else:
            self._finish(job_id, "Success", result, None, None)
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)
        if notify:
            self._notify(job_id)

    def _run(self, record: JobRecord, work_dir: Path) -> Tree:
        kind = record.kind
        model = MODERATION_REQUESTS[kind] if kind is not None else REQUEST_MODELS[record.tag]
        context = JobContext(
            store=self.store,
            job_id=record.job_id,
            bucket=record.bucket,
            region=record.region,
            tag=record.tag,
            request=_decode(model, record.request, failure=True),
            work_dir=work_dir,
            report=lambda progress: self._progress(record.job_id, progress),
            rules=self.rules,
            limits=self.limits,
            timeout=self.job_timeout,
        )
        return moderate(kind, context) if kind is not None else WORKERS[record.tag](context)

    def _progress(self, job_id: str, progress: int) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET progress = ? WHERE job_id = ? AND state IN ('Running', 'Auditing')",
                (max(0, min(progress, 99)), job_id),
            )

    def _finish(self, job_id: str, state: str, result: Tree, code: str | None, message: str | None) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET state = ?, progress = ?, ended = ?, result = ?, code = ?, message = ?"
                " WHERE job_id = ?",
                (state, 100 if state == "Success" else 0, time.time(), json.dumps(result), code, message, job_id),
            )

    def _notify(self, job_id: str) -> None:
        record = self.get(job_id)
        if record is None:
            return
        try:
            status = self.callback_sender(record)
        except Exception as exc:
            _log.exception("callback of job %s failed", job_id)
            status = f"failed: {type(exc).__name__}: {exc}"
        with self._lock:
            self._db.execute("UPDATE jobs SET callback = ? WHERE job_id = ?", (status or "sent", job_id))

    def close(self) -> None:
        """Stop the workers (after the jobs they are running; queued jobs wait for a restart), close the database."""
        self._stopping.set()
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=self.job_timeout)
        if self._own_sender is not None:
            self._own_sender.close()
        with self._lock:
            self._db.close()

    # ----------------------------------------------------------------------------------------------
    # Synchronous ci-process requests on the COS host
    # ----------------------------------------------------------------------------------------------

    async def sync_process(self, request: Request, target: Target) -> Response:
        """``GET /<key>?ci-process=filehash``, ``?ci-process=sensitive-content-recognition`` and the media/file
        operations of ``_ci_process`` (``videoinfo``, ``snapshot``, ``pm3u8``, ``zippreview``, …) on the COS host."""
        process = target.params.get("ci-process", "")
        if process in CI_PROCESSES:
            return await run_in_threadpool(sync_ci_process, self.store, target, request.url.scheme)
        if process == "filehash":
            return await run_in_threadpool(self._sync_hash, target)
        if process == "sensitive-content-recognition":
            return await run_in_threadpool(self._sync_image, target)
        return error_response(400, "InvalidArgument", f"ci-process {process!r} is not supported here", target)

    def _sync_hash(self, target: Target) -> Response:
        stored = self.store.head(target.bucket, target.key)
        if stored is None:
            return error_response(404, "NoSuchKey", "The specified key does not exist.", target, "/" + target.key)
        if stored.size >= _SYNC_HASH_LIMIT:
            return error_response(400, "InvalidArgument", "objects of 128 MB or more need a FileHashCode job", target)
        algorithm = target.params.get("type", "")
        if algorithm.lower() not in ("md5", "sha1", "sha256"):
            return error_response(400, "InvalidArgument", "type must be md5, sha1 or sha256", target)
        add = target.params.get("addtoheader", "false").lower() == "true"
        result = file_hash_result(self.store, stored, algorithm, add_to_header=add)
        answer = FileHashResponse(
            file_hash_code_result=result,
            input=JobInput(bucket=target.bucket, object=target.key, region=target.region),
        )
        return Response(to_xml(answer, "Response"), media_type="application/xml")

    def _sync_image(self, target: Target) -> Response:
        params = target.params
        url = params.get("detect-url")
        if not url and self.store.head(target.bucket, target.key) is None:
            return error_response(404, "NoSuchKey", "The specified key does not exist.", target, "/" + target.key)
        scenes = [_SYNC_DETECT_TYPES.get(name.strip().lower(), "") for name in params.get("detect-type", "").split(",")]
        source = {"Url": url} if url else {"Object": target.key}
        if params.get("dataid"):
            source["DataId"] = params["dataid"]
        conf = {
            "BizType": params.get("biz-type") or None,
            "DetectType": ",".join(name for name in scenes if name) or None,
            "Async": "1" if params.get("async") == "1" else "0",
            "Callback": params.get("callback") or None,
        }
        tree = {"Input": [source], "Conf": {name: value for name, value in conf.items() if value is not None}}
        try:
            detail = self.submit("image", tree, bucket=target.bucket, region=target.region)[0]
        except JobError as exc:
            return error_response(exc.status, exc.code, exc.message, target)
        answer = decode_tree(ImageRecognitionResult, detail)
        return Response(to_xml(answer, "RecognitionResult"), media_type="application/xml")


def _kind(family: str) -> ModerationKind:
    try:
        return ModerationKind(family)
    except ValueError:
        raise JobError(404, "ResourceNotFound", f"no job API {family!r}") from None


def _decode(model: type[Any], tree: Tree, *, failure: bool = False) -> Any:
    try:
        return decode_tree(model, tree)
    except CiflowError as exc:
        if failure:
            raise JobFailedError("InvalidArgument", str(exc)) from None
        raise JobError(400, "InvalidArgument", str(exc)) from None


def _page_size(value: str | None) -> int:
    if value is None or value == "":
        return 10
    if not value.isdigit() or not 1 <= int(value) <= 100:
        raise JobError(400, "InvalidArgument", "size must be an integer from 1 to 100")
    return int(value)


def _time_param(params: Mapping[str, str], name: str) -> float | None:
    value = params.get(name)
    if not value:
        return None
    try:
        parsed = parse_ci_time(value)
    except ValueError:
        raise JobError(400, "InvalidArgument", f"{name} is not a time like 2001-01-01T00:00:00+0800") from None
    return float(parsed.timestamp())


def _list_filters(family: str, params: Mapping[str, str], bucket: str | None) -> tuple[str, list[Any]]:
    where, values = "family = ?", list[Any]([family])
    if bucket is not None:
        where, values = where + " AND bucket = ?", [*values, bucket]
    for column, name in (("tag", "tag"), ("queue_id", "queueId"), ("input_object", "inputObject")):
        if params.get(name):
            where, values = f"{where} AND {column} = ?", [*values, params[name]]
    states = [state.strip() for state in params.get("states", "All").split(",") if state.strip()]
    if states and "All" not in states:
        where += f" AND state IN ({','.join('?' * len(states))})"
        values += states
    for name, operator in (("startCreationTime", ">="), ("endCreationTime", "<=")):
        moment = _time_param(params, name)
        if moment is not None:
            where, values = f"{where} AND created {operator} ?", [*values, moment]
    return where, values
