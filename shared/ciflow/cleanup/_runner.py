"""The cleanup run: each task bounded by the invocation's deadline and resumable from its checkpoint; the
run's summary is returned and logged as one structured line."""

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..api3 import ScfInvoker
from ..callback import CallbackRunner, DeadLetters, StoreUnavailableError, store_failures
from ..client import CiClient, Deadline
from ..config import entry_point, shared_client
from ..errors import CiflowError
from ..events import EventError, InvocationContext, parse_timer_event
from ..idempotency import IdempotencyStore
from ..idempotency.settings import store_for
from ..logging import get_logger
from ..routing import DeadLetterQueue, Sink
from ._checkpoints import Checkpoints
from ._drive import Invoker
from ._expire import Expire
from ._ledger import LedgerWalk
from ._purge import Purge
from ._settings import CleanupSettings

if TYPE_CHECKING:
    from ..routing import CmqQueueReader

__all__ = ["RUN_LEASE", "TASKS", "CleanupRunner", "cleanup_handler"]

_log = get_logger("ciflow.cleanup")

TASKS = ("reconcile", "cancel", "purge", "expire", "redrive", "scf-dlq")
#: The store key whose lease makes cleanup runs exclusive.
RUN_LEASE = "cleanup:run"


def _scf_invoker(settings: CleanupSettings) -> ScfInvoker:
    return ScfInvoker(
        settings.region,
        endpoint=settings.invoke_endpoint,
        namespace=settings.function_namespace,
        qualifier=settings.function_qualifier,
    )


def _dead_letter_reader(settings: CleanupSettings) -> "CmqQueueReader | None":
    if settings.scf_dead_letter_queue is None or settings.scf_dead_letter_endpoint is None:
        return None
    from ..routing import CmqQueueReader  # only deployments with a dead-letter queue load the CMQ client

    return CmqQueueReader(settings.scf_dead_letter_endpoint, settings.scf_dead_letter_queue)


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
        dedupe_store: IdempotencyStore | None = None,
        clock: Callable[[], float] = time.time,
        invoker: Invoker | None = None,
        scf_dead_letters: "CmqQueueReader | None" = None,
    ) -> None:
        """``store`` holds the upload ledger, checkpoints and the run lease; ``dedupe_store`` the routed-result
        records (the callback function's); one store given for both serves both. ``invoker`` invokes upload
        functions (SCF's ``Invoke`` from the settings unless given; none when ``invoke_uploads`` is off);
        ``scf_dead_letters`` reads the upload functions' SCF dead-letter queue (from the settings unless given)."""
        self.settings = settings
        self.client = client or shared_client(settings)
        self.store = store or store_for(settings, self.client)
        self.dedupe_store = dedupe_store or store or store_for(settings, self.client, purpose="dedupe")
        self.clock = clock
        self.sinks = dict(sinks)
        self.dead_letters = dead_letters
        self.invoker = invoker if invoker is not None or not settings.invoke_uploads else _scf_invoker(settings)
        self.scf_dead_letters = scf_dead_letters or _dead_letter_reader(settings)
        # Routing is the callback function's own code: same dedupe keys, so nothing routes twice.
        self.router = CallbackRunner(
            settings,
            sinks=sinks,
            dead_letters=dead_letters,
            client=self.client,
            store=self.dedupe_store,
            ledger=self.store,
            clock=clock,
        )

    def _now(self) -> float:
        # Read through self, so a test (or a caller) may move the clock between runs.
        return self.clock()

    def _checkpoints(self) -> Checkpoints:
        return Checkpoints(self.store, ttl_seconds=self.settings.idempotency_ttl_seconds, clock=self._now)

    def _walk_ledger(self, tasks: set[str], deadline: Deadline) -> dict[str, Any]:
        walk = LedgerWalk(
            self.settings,
            client=self.client,
            store=self.store,
            router=self.router,
            checkpoints=self._checkpoints(),
            clock=self._now,
            dead_letters=self.dead_letters,
            invoker=self.invoker,
        )
        return walk.run(tasks, deadline)

    def _purge(self, deadline: Deadline) -> dict[str, Any]:
        purge = Purge(self.settings, client=self.client, checkpoints=self._checkpoints(), clock=self._now)
        return purge.run(deadline)

    def _redrive(self, deadline: Deadline) -> dict[str, Any]:
        if not isinstance(self.dead_letters, DeadLetterQueue):
            return {"skipped": "dead letters are not kept in a store that can be redriven", "complete": True}
        report = self.dead_letters.redrive(self.sinks, limit=self.settings.redrive_limit, deadline=deadline)
        return {
            "delivered": len(report.delivered),
            "failed": len(report.failed),
            "remaining": report.remaining,
            "complete": not report.deadline_reached,
        }

    def _drain_scf_dead_letters(self, deadline: Deadline) -> dict[str, Any]:
        if self.scf_dead_letters is None:
            return {"skipped": "no SCF dead-letter queue configured", "complete": True}
        from ._scf_dlq import ScfDeadLetterDrain

        drain = ScfDeadLetterDrain(
            self.settings,
            reader=self.scf_dead_letters,
            store=self.store,
            dead_letters=self.dead_letters,
            invoker=self.invoker,
            clock=self._now,
        )
        return drain.run(deadline)

    def _expire(self, deadline: Deadline) -> dict[str, Any]:
        stores = {"ledger": self.store}
        if self.dedupe_store is not self.store:
            stores["dedupe"] = self.dedupe_store
        expire = Expire(self.settings, stores=stores, checkpoints=self._checkpoints(), clock=self._now)
        return expire.run(deadline)

    def _sections(self, wanted: list[str], deadline: Deadline) -> list[tuple[str, Callable[[], dict[str, Any]]]]:
        """The run's parts in order; reconcile and cancel share one walk of the ledger."""
        sections: list[tuple[str, Callable[[], dict[str, Any]]]] = []
        if {"reconcile", "cancel"} & set(wanted):
            sections.append(("ledger", lambda: self._walk_ledger(set(wanted), deadline)))
        if "purge" in wanted:
            sections.append(("purge", lambda: self._purge(deadline)))
        if "expire" in wanted:
            sections.append(("expire", lambda: self._expire(deadline)))
        if "redrive" in wanted:
            sections.append(("redrive", lambda: self._redrive(deadline)))
        if "scf-dlq" in wanted:
            sections.append(("scf_dead_letters", lambda: self._drain_scf_dead_letters(deadline)))
        return sections

    def run(self, tasks: tuple[str, ...] | list[str], deadline: Deadline) -> dict[str, Any]:
        """Run ``tasks`` (in the order of ``TASKS``) until done or the deadline; the summary says which finished.

        One run at a time: a timer firing while an earlier run still works (or a retried invocation) finds
        the run lease held and stops at once; a crashed run's lease lapses with its deadline.
        """
        wanted = [task for task in TASKS if task in tasks]
        summary: dict[str, Any] = {"tasks": wanted}
        unknown = [task for task in tasks if task not in TASKS]
        if unknown:
            summary["unknown_tasks"] = unknown
        sections = self._sections(wanted, deadline)
        try:
            with store_failures("ledger"):
                leased = not sections or self._take_run_lease(deadline)
        except StoreUnavailableError as exc:  # the next timer tries again; nothing was started
            summary.update(error=str(exc), complete=False)
            _log.error("cleanup summary", **summary)
            return summary
        if not leased:
            summary.update(skipped="another cleanup run holds the lease", complete=False)
            _log.warning("cleanup summary", **summary)
            return summary
        try:
            for name, section in sections:
                summary[name] = self._run_section(section, deadline)
        finally:
            if sections:
                self._release_run_lease()
        summary["complete"] = bool(sections) and all(summary[name]["complete"] for name, _ in sections)
        # A task name the timer's Message misspells would never run: say so loudly.
        log = _log.info if summary["complete"] and not unknown else _log.warning
        log("cleanup summary", **summary)
        return summary

    def _take_run_lease(self, deadline: Deadline) -> bool:
        claim = self.store.claim(
            RUN_LEASE,
            lease_seconds=max(1.0, deadline.remaining()),
            ttl_seconds=self.settings.idempotency_ttl_seconds,
            payload={"started_at": self.clock()},
            now=self.clock(),
        )
        return claim.acquired

    def _release_run_lease(self) -> None:
        try:
            with store_failures("ledger"):
                self.store.release(RUN_LEASE)
        except StoreUnavailableError as exc:  # the lease lapses with this run's deadline anyway
            _log.warning("cleanup run lease not released", error=str(exc))

    @staticmethod
    def _run_section(section: Callable[[], dict[str, Any]], deadline: Deadline) -> dict[str, Any]:
        if deadline.expired:
            return {"complete": False, "started": False}
        try:
            with store_failures("cleanup"):
                return section()
        except CiflowError as exc:
            # One failing task (a store or COS outage) must not keep the others from running.
            return {"complete": False, "error": str(exc)}

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
