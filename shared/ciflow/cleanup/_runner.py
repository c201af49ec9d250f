"""The cleanup run: every task bounded by the invocation's deadline and resumable from a checkpoint.

Checkpoints live in the idempotency store under ``cleanup:checkpoint:<task>`` (payload ``{"marker": …}``):
the ledger walk keeps the last record key it finished, purge the prefix and listing marker it reached. A run
that stops early says so in its summary; the next one continues from the checkpoint.
"""

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from .. import operations as ops
from ..callback import CallbackRunner, DeadLetters
from ..client import CiClient, Deadline
from ..config import shared_client
from ..errors import CiflowError
from ..events import EventError, InvocationContext, parse_timer_event
from ..handlers import store_for
from ..handlers._entry import entry_point
from ..idempotency import IdempotencyRecord, IdempotencyStore
from ..logging import get_logger
from ..models.callbacks import TaskFinish
from ..results import normalise
from ..routing import DeadLetterStore, Sink
from ._settings import CleanupSettings

__all__ = ["TASKS", "CleanupRunner", "cleanup_handler"]

_log = get_logger("ciflow.cleanup")

TASKS = ("reconcile", "cancel", "purge", "expire", "redrive")
INLINE = "inline"
CHECKPOINT = "cleanup:checkpoint:"
RECONCILED = "cleanup:reconciled:"
FINISHED = frozenset({"Success", "Failed", "Cancel", "Cancelled"})
WAITING = frozenset({"Submitted", "Pause", "Paused"})
_LEASE = 60.0
_BATCH = 1000

#: Describe operation by job family, from the job id's first letter (CI's and the emulator's id scheme).
_DESCRIBE: Mapping[str, Callable[[str], Any]] = {
    "j": ops.describe_media_jobs,
    "f": ops.describe_file_jobs,
    "d": ops.describe_doc_jobs,
    "c": ops.describe_pic_jobs,
}


def _epoch(value: datetime | None) -> float | None:
    return value.timestamp() if isinstance(value, datetime) else None


class CleanupRunner:
    """Warm state of the cleanup function: the callback's router (sinks, dedupe store), client, dead letters."""

    def __init__(
        self,
        settings: CleanupSettings,
        *,
        sinks: Mapping[str, Sink],
        dead_letters: DeadLetters,
        client: CiClient | None = None,
        store: IdempotencyStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.client = client or shared_client(settings)
        self.store = store or store_for(settings, self.client)
        self.clock = clock
        self.sinks = dict(sinks)
        self.dead_letters = dead_letters
        # Routing is the callback function's own code: same dedupe keys, so nothing routes twice.
        self.router = CallbackRunner(
            settings, sinks=sinks, dead_letters=dead_letters, client=self.client, store=self.store, clock=clock
        )

    # -- checkpoints ----------------------------------------------------------------------------------

    def checkpoint(self, task: str) -> str:
        record = self.store.get(CHECKPOINT + task, now=self.clock())
        return str(record.payload.get("marker", "")) if record else ""

    def _mark(self, key: str, payload: dict[str, Any]) -> None:
        self.store.release(key)
        now = self.clock()
        claim = self.store.claim(
            key, lease_seconds=_LEASE, ttl_seconds=self.settings.idempotency_ttl_seconds, payload=payload, now=now
        )
        if claim.acquired:
            self.store.complete(key, {}, ttl_seconds=self.settings.idempotency_ttl_seconds, now=now)

    def _save(self, task: str, marker: str) -> None:
        self._mark(CHECKPOINT + task, {"marker": marker})

    # -- ledger walk: reconcile and cancel ------------------------------------------------------------

    def _ledger(self) -> list[IdempotencyRecord]:
        records = [
            record
            for record in self.store.records(now=self.clock())
            if "concern" in record.payload and record.jobs and not record.key.startswith("cleanup:")
        ]
        return sorted(records, key=lambda record: record.key)

    def _walk_ledger(self, tasks: set[str], deadline: Deadline, summary: dict[str, Any]) -> None:
        counts = dict.fromkeys(
            (
                "records",
                "jobs",
                "routed",
                "duplicate",
                "dead_lettered",
                "unfinished",
                "cancelled",
                "running_long",
                "unsupported",
                "errors",
            ),
            0,
        )
        summary["ledger"] = counts
        start_after = self.checkpoint("ledger")
        now = self.clock()
        for record in self._ledger():
            if start_after and record.key <= start_after:
                continue
            if deadline.expired:
                summary["ledger"]["complete"] = False
                return
            old_enough = now - record.created_at >= self.settings.reconcile_after_s
            if old_enough and self.store.get(RECONCILED + record.key, now=now) is None:
                counts["records"] += 1
                if self._reconcile_record(record, tasks, deadline, counts, now):
                    self._mark(RECONCILED + record.key, {"reconciled_at": now})
            self._save("ledger", record.key)
        counts["complete"] = True
        self._save("ledger", "")  # walked to the end: the next run starts from the beginning again

    def _reconcile_record(
        self, record: IdempotencyRecord, tasks: set[str], deadline: Deadline, counts: dict[str, Any], now: float
    ) -> bool:
        """Handle every job of one ledger record; True when all are finished and routed (nothing left to do)."""
        done = True
        for value in record.jobs.values():
            if value == INLINE:
                continue
            for job_id in (part for part in value.split(",") if part):
                counts["jobs"] += 1
                describe = _DESCRIBE.get(job_id[:1])
                if describe is None:  # moderation jobs are read by kind, not reconciled here
                    counts["unsupported"] += 1
                    continue
                try:
                    answer = self.client.send(describe(job_id), deadline=deadline)
                    details = [d for d in answer.jobs_detail if d.job_id == job_id]
                    if not details:
                        counts["unsupported"] += 1
                        continue
                    detail = details[0]
                    if detail.state in FINISHED:
                        if "reconcile" in tasks:
                            results = normalise(
                                TaskFinish(jobs_detail=details), user_data_secrets=self.settings.user_data_secrets
                            )
                            for result in results:
                                counts[self.router.route(result, deadline).replace("-", "_")] += 1
                        else:
                            done = False
                        continue
                    done = False
                    counts["unfinished"] += 1
                    created = _epoch(detail.creation_time) or record.created_at
                    age = now - created
                    if detail.state in WAITING and "cancel" in tasks and age >= self.settings.cancel_after_s:
                        if not self.settings.dry_run:
                            self.client.send(ops.cancel_job(job_id), deadline=deadline)
                        counts["cancelled"] += 1
                        _log.warning("stuck job cancelled", job_id=job_id, state=detail.state, age_s=round(age))
                    elif detail.state == "Running" and age >= self.settings.running_warn_after_s:
                        counts["running_long"] += 1
                        _log.warning("job running long", job_id=job_id, age_s=round(age))
                except CiflowError as exc:
                    done = False
                    counts["errors"] += 1
                    _log.warning("reconcile failed for a job", job_id=job_id, error=str(exc))
        return done

    # -- purge ----------------------------------------------------------------------------------------

    def _purge(self, deadline: Deadline, summary: dict[str, Any]) -> None:
        counts: dict[str, Any] = {
            "listed": 0,
            "deleted": 0,
            "would_delete": 0,
            "errors": 0,
            "dry_run": self.settings.dry_run,
        }
        summary["purge"] = counts
        cutoff = self.clock() - self.settings.purge_after_days * 86400
        prefixes = sorted(set(self.settings.purge_prefixes))
        saved_prefix, _, saved_marker = self.checkpoint("purge").partition("\t")
        for prefix in prefixes:
            if saved_prefix and prefix < saved_prefix:
                continue
            marker = saved_marker if prefix == saved_prefix else ""
            for page in self.client.paginate(ops.list_objects(prefix, marker=marker), deadline=deadline):
                old = []
                for item in page.contents:
                    counts["listed"] += 1
                    modified = _epoch(item.last_modified)
                    # Never outside the configured prefix, whatever the listing says.
                    if item.key.startswith(prefix) and modified is not None and modified < cutoff:
                        old.append(item.key)
                for start in range(0, len(old), _BATCH):
                    batch = old[start : start + _BATCH]
                    if self.settings.dry_run:
                        counts["would_delete"] += len(batch)
                        continue
                    answer = self.client.send(ops.delete_objects(batch, quiet=True), deadline=deadline)
                    counts["errors"] += len(answer.error)
                    counts["deleted"] += len(batch) - len(answer.error)
                if page.contents:
                    self._save("purge", f"{prefix}\t{page.contents[-1].key}")
                if deadline.expired:
                    counts["complete"] = False
                    return
            self._save("purge", f"{prefix}\t\uffff")  # this prefix is done
        counts["complete"] = True
        self._save("purge", "")

    # -- one run --------------------------------------------------------------------------------------

    def run(self, tasks: tuple[str, ...] | list[str], deadline: Deadline) -> dict[str, Any]:
        wanted = [task for task in tasks if task in TASKS]
        summary: dict[str, Any] = {"tasks": wanted, "unknown_tasks": [t for t in tasks if t not in TASKS]}
        if {"reconcile", "cancel"} & set(wanted):
            self._walk_ledger(set(wanted), deadline, summary)
        if "purge" in wanted and not deadline.expired:
            self._purge(deadline, summary)
        if "expire" in wanted and not deadline.expired:
            summary["expire"] = {"purged": self.store.purge_expired(now=self.clock())}
        if "redrive" in wanted and not deadline.expired and isinstance(self.dead_letters, DeadLetterStore):
            report = self.dead_letters.redrive(self.sinks, limit=self.settings.redrive_limit, deadline=deadline)
            summary["redrive"] = {
                "delivered": len(report.delivered),
                "failed": len(report.failed),
                "remaining": report.remaining,
                "complete": not report.deadline_reached,
            }
        parts = [part for part in summary.values() if isinstance(part, dict)]
        summary["complete"] = all(part.get("complete", True) for part in parts) and not (
            deadline.expired and len(parts) < len({"ledger" if t in ("reconcile", "cancel") else t for t in wanted})
        )
        _log.info("cleanup summary", **summary)
        return summary

    def handle(self, event: Any, context: Any) -> dict[str, Any]:
        deadline = InvocationContext.from_scf(context).deadline(2.0)
        try:
            tasks = parse_timer_event(event).tasks or TASKS
        except EventError as exc:
            _log.error("malformed timer event", error=str(exc))
            return {"error": str(exc)}
        return self.run(tasks, deadline)


def cleanup_handler(
    build: Callable[[CleanupSettings], tuple[Mapping[str, Sink], DeadLetters]],
    *,
    environ: Mapping[str, str] | None = None,
) -> Callable[[Any, Any], dict[str, Any]]:
    """Build the cleanup function's ``main_handler``; settings are validated now (cold start)."""

    def make_runner(settings: CleanupSettings) -> CleanupRunner:
        sinks, dead_letters = build(settings)
        return CleanupRunner(settings, sinks=sinks, dead_letters=dead_letters)

    return entry_point(
        CleanupSettings,
        make_runner,
        secrets=lambda settings: [*settings.tokens, *settings.user_data_secrets],
        environ=environ,
    )
