"""Durable CI job state in SQLite and a thread pool running jobs (Submitted -> Running -> Success/Failed/Cancel).

The engine answers in plain data: job details as wire trees, ``JobError`` for what it refuses and, for the
synchronous ``?ci-process=`` operations, an ``_answers.Answer`` or ``Refusal`` the HTTP layer turns into a response.
Finished jobs go to ``callback_sender``, any ``CallbackSenderType`` (by default a ``_callbacks.CallbackSender``).
"""

from __future__ import annotations

import builtins
import logging
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import anyio.to_thread

from ciflow.codec import decode_tree
from ciflow.errors import CiflowError
from ciflow.models import JobInput
from ciflow.models.files import FileHashResponse
from ciflow.models.moderation import MODERATION_SCENES, ImageRecognitionResult, ModerationKind

from ._answers import CiAnswer, Refusal, xml_answer
from ._callbacks import CallbackSender
from ._ci_process import CI_PROCESSES, sync_ci_process
from ._job_table import JobTable
from ._records import FAMILY_TAGS, JOB_FAMILIES, CallbackSenderType, JobError, JobRecord, Tree, moderation_input
from ._storage import ObjectStore
from .workers import (
    MODERATION_REQUESTS,
    REQUEST_MODELS,
    WORKERS,
    ArchiveLimits,
    JobContext,
    JobFailedError,
    ModerationRules,
    file_hash_result,
    moderate,
)

if TYPE_CHECKING:
    from ._app import Target

__all__ = ["JOB_FAMILIES", "FAMILY_TAGS", "CallbackSenderType", "JobError", "JobRecord", "JobEngine", "RequestUrl"]

_log = logging.getLogger(__name__)
_PREFIX = {"jobs": "j", "file_jobs": "f", "doc_jobs": "d", "pic_jobs": "c", "ai_jobs": "a", "asr_jobs": "s"}
_MODERATION_PREFIX = {
    ModerationKind.IMAGE: "si",
    ModerationKind.VIDEO: "av",
    ModerationKind.AUDIO: "sa",
    ModerationKind.TEXT: "st",
    ModerationKind.DOCUMENT: "sd",
}
_SYNC_HASH_LIMIT = 128 * 1024 * 1024
#: The synchronous image API's ``detect-type`` spellings (``terrorist``, and each name lower-cased) -> scene name.
_SYNC_DETECT_TYPES = {
    spelling: scene.name
    for scene in MODERATION_SCENES
    if scene.requestable
    for spelling in (scene.detect_type, scene.name.lower())
}


class _Url(Protocol):
    @property
    def scheme(self) -> str: ...


class RequestUrl(Protocol):
    """All the engine reads of the HTTP request of a ``?ci-process=`` operation: its URL's scheme."""

    @property
    def url(self) -> _Url: ...


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
        self._own_sender: CallbackSender | None = None
        if callback_sender is None:
            callback_sender = self._own_sender = CallbackSender()
        self.callback_sender = callback_sender
        self.rules = rules or ModerationRules()
        self.limits = limits or ArchiveLimits()
        self.job_delay = job_delay
        self.job_timeout = job_timeout
        self._table = JobTable(db_path)
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._work, name=f"ciflow-job-{index}", daemon=True) for index in range(workers)
        ]
        for job_id in self._table.resume():  # jobs a previous run left unfinished start over
            self._queue.put(job_id)
        for thread in self._threads:
            thread.start()

    # ----------------------------------------------------------------------------------------------
    # Reading
    # ----------------------------------------------------------------------------------------------

    def get(self, job_id: str) -> JobRecord | None:
        return self._table.get(job_id)

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
        found = {record.job_id: record for record in self._table.of_family(family, ids, bucket)}
        return [found[i].detail for i in ids if i in found], [i for i in ids if i not in found]

    def list(
        self, family: str, params: Mapping[str, str], *, bucket: str | None = None
    ) -> tuple[builtins.list[Tree], str | None]:
        """One page of a family's jobs filtered by the listing parameters; (details, NextToken or None)."""
        records, token = self._table.page(family, params, bucket)
        return [record.detail for record in records], token

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
        record = self._table.insert(
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
            source = moderation_input(job_tree)
            record = self._table.insert(
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

    def cancel(self, job_id: str) -> None:
        """Cancel a queued job; ``JobError`` when it does not exist or is no longer ``Submitted``."""
        self._table.cancel(job_id)

    # ----------------------------------------------------------------------------------------------
    # Running
    # ----------------------------------------------------------------------------------------------

    def _work(self) -> None:
        while (job_id := self._queue.get()) is not None:
            if self._stopping.wait(self.job_delay) if self.job_delay else self._stopping.is_set():
                return  # closing: the job stays Submitted and runs after a restart
            try:
                self._execute(job_id)
            except Exception:  # never let a worker thread die: the job is already marked Failed
                _log.exception("job %s crashed the worker", job_id)

    def _execute(self, job_id: str, *, notify: bool = True) -> None:
        record = self.get(job_id)
        if record is None:
            return
        record = self._table.claim(job_id, "Running" if record.kind is None else "Auditing")
        if record is None:
            return  # cancelled (or taken) before it started
        (self.store.root / "tmp").mkdir(parents=True, exist_ok=True)
        work_dir = Path(tempfile.mkdtemp(prefix=f"{job_id}-", dir=self.store.root / "tmp"))
        try:
            result = self._run(record, work_dir)
        except JobFailedError as failure:
            self._table.finish(job_id, "Failed", {}, failure.code, failure.message)
        except Exception as exc:
            _log.exception("job %s failed unexpectedly", job_id)
            self._table.finish(job_id, "Failed", {}, "InternalError", f"{type(exc).__name__}: {exc}")
        else:
            self._table.finish(job_id, "Success", result, None, None)
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
            report=lambda progress: self._table.progress(record.job_id, progress),
            rules=self.rules,
            limits=self.limits,
            timeout=self.job_timeout,
        )
        return moderate(kind, context) if kind is not None else WORKERS[record.tag](context)

    def _notify(self, job_id: str) -> None:
        record = self.get(job_id)
        if record is None:
            return
        try:
            status = self.callback_sender(record)
        except Exception as exc:
            _log.exception("callback of job %s failed", job_id)
            status = f"failed: {type(exc).__name__}: {exc}"
        self._table.set_callback(job_id, status or "sent")

    def close(self) -> None:
        """Stop the workers (after the jobs they are running; queued jobs wait for a restart), close the database."""
        self._stopping.set()
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=self.job_timeout)
        if self._own_sender is not None:
            self._own_sender.close()
        self._table.close()

    # ----------------------------------------------------------------------------------------------
    # Synchronous ci-process requests on the COS host
    # ----------------------------------------------------------------------------------------------

    async def sync_process(self, request: RequestUrl, target: Target) -> CiAnswer:
        """``GET /<key>?ci-process=filehash``, ``?ci-process=sensitive-content-recognition`` and the media/file
        operations of ``_ci_process`` (``videoinfo``, ``snapshot``, ``pm3u8``, ``zippreview``, …) on the COS host."""
        process = target.params.get("ci-process", "")
        if process in CI_PROCESSES:
            answer = partial(sync_ci_process, self.store, target, request.url.scheme)
            return await anyio.to_thread.run_sync(answer)
        if process == "filehash":
            return await anyio.to_thread.run_sync(self._sync_hash, target)
        if process == "sensitive-content-recognition":
            return await anyio.to_thread.run_sync(self._sync_image, target)
        return Refusal(400, "InvalidArgument", f"ci-process {process!r} is not supported here")

    def _sync_hash(self, target: Target) -> CiAnswer:
        stored = self.store.head(target.bucket, target.key)
        if stored is None:
            return Refusal(404, "NoSuchKey", "The specified key does not exist.", "/" + target.key)
        if stored.size >= _SYNC_HASH_LIMIT:
            return Refusal(400, "InvalidArgument", "objects of 128 MB or more need a FileHashCode job")
        algorithm = target.params.get("type", "")
        if algorithm.lower() not in ("md5", "sha1", "sha256"):
            return Refusal(400, "InvalidArgument", "type must be md5, sha1 or sha256")
        add = target.params.get("addtoheader", "false").lower() == "true"
        result = file_hash_result(self.store, stored, algorithm, add_to_header=add)
        answer = FileHashResponse(
            file_hash_code_result=result,
            input=JobInput(bucket=target.bucket, object=target.key, region=target.region),
        )
        return xml_answer(answer, "Response")

    def _sync_image(self, target: Target) -> CiAnswer:
        params = target.params
        url = params.get("detect-url")
        if not url and self.store.head(target.bucket, target.key) is None:
            return Refusal(404, "NoSuchKey", "The specified key does not exist.", "/" + target.key)
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
            return Refusal(exc.status, exc.code, exc.message)
        return xml_answer(decode_tree(ImageRecognitionResult, detail), "RecognitionResult")


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
