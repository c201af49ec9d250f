"""The upload pipeline: every record of a COS event filtered, planned, claimed and submitted at most once.

Records run concurrently (bounded), over the process's pooled client. A record the deadline does not
reach, or one that failed transiently, makes the invocation raise after all others were tried, so SCF
retries the event; idempotency turns the retry into a no-op for the records already done.
"""

import contextvars
import time
import urllib.parse
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from ..client import CiClient, Deadline
from ..config import entry_point, shared_client
from ..errors import AmbiguousSubmitError, CiflowError, ConfigError
from ..events import EventError, InvocationContext, ObjectRef, parse_cos_event
from ..idempotency import IdempotencyStore
from ..idempotency.settings import store_for
from ..logging import correlation, get_logger
from ..models import MqConfig
from ..userdata import RouteTag, correlation_id_for, encode_user_data
from ._filters import skip_reason
from ._outcome import InvocationSummary, RecordOutcome, RetryableInvocationError
from ._plan import Delivery, PlannedJob, Planner
from ._settings import UploadSettings
from ._steps import INLINE, StepRun, has_job, missing_steps

__all__ = ["INLINE", "UploadRunner", "upload_facts", "upload_handler"]

S = TypeVar("S", bound=UploadSettings)

_log = get_logger("ciflow.handlers")


def upload_facts(concern: str, ref: ObjectRef) -> dict[str, Any]:
    """What a ledger record keeps of its upload: enough for the cleanup to deliver its event again."""
    return {
        "concern": concern,
        "bucket": ref.bucket,
        "region": ref.region,
        "key": ref.key,
        "version": ref.version,
        "object": {
            "size": ref.size,
            "etag": ref.etag,
            "version_id": ref.version_id,
            "content_type": ref.content_type,
            "metadata": dict(ref.metadata),
        },
    }


class UploadRunner(Generic[S]):
    """Runs one concern's planner over COS events; holds the warm state (client, store, thread pool)."""

    def __init__(
        self,
        concern: str,
        settings: S,
        planner: Planner[S],
        *,
        client: CiClient | None = None,
        store: IdempotencyStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.concern = concern
        self.settings = settings
        self.planner = planner
        self.client = client or shared_client(settings)
        self.store = store or store_for(settings, self.client)
        self.clock = clock
        self.route = settings.route or concern
        self._pool = ThreadPoolExecutor(max_workers=settings.concurrency, thread_name_prefix=f"ciflow-{concern}")

    # -- delivery -------------------------------------------------------------------------------------

    def _callback_url(self) -> str | None:
        """The callback URL with ``?token=`` for Url delivery (settings require both); None for TDMQ and Queue."""
        url, token = self.settings.callback_url, self.settings.callback_token
        if self.settings.callback_type != "Url" or url is None or token is None:
            return None
        parts = urllib.parse.urlsplit(url)
        query = [*urllib.parse.parse_qsl(parts.query, keep_blank_values=True), ("token", token)]
        return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))

    def _delivery_for(self, correlation_id: str) -> Callable[[str], Delivery]:
        settings = self.settings
        mq = (
            MqConfig(mq_region=settings.tdmq_region, mq_name=settings.tdmq_name, mq_mode=settings.tdmq_mode)
            if settings.callback_type == "TDMQ" and settings.tdmq_region and settings.tdmq_name
            else None
        )
        callback_url = self._callback_url()

        def delivery(step: str) -> Delivery:
            tag = RouteTag(route=self.route, correlation_id=correlation_id, step=step)
            return Delivery(
                user_data=encode_user_data(tag, settings.user_data_secret),
                callback_url=callback_url,
                callback_format=settings.callback_format,
                callback_type=settings.callback_type,
                mq_config=mq,
                queue_id=settings.queue_id,
            )

        return delivery

    # -- one record -----------------------------------------------------------------------------------

    def _process_safely(
        self, index: int, item: ObjectRef | EventError, lease_seconds: float, deadline: Deadline
    ) -> RecordOutcome:
        try:
            return self._process(index, item, lease_seconds, deadline)
        except Exception as exc:
            # A bug must not cost the other records their outcome; retrying is the safe default.
            _log.exception("record crashed", index=index)
            key = item.key if isinstance(item, ObjectRef) else None
            return RecordOutcome(index, "failed", object_key=key, error=f"{type(exc).__name__}: {exc}", transient=True)

    def _process(
        self, index: int, item: ObjectRef | EventError, lease_seconds: float, deadline: Deadline
    ) -> RecordOutcome:
        if isinstance(item, EventError):
            return RecordOutcome(index, "failed", error=str(item), transient=False)
        ref = item
        outcome = RecordOutcome(index, "skipped", object_key=ref.key)
        if deadline.expired:
            outcome.status, outcome.reason = "not_reached", "deadline reached before this record started"
            return outcome
        reason = skip_reason(ref, self.settings)
        if reason:
            outcome.reason = reason
            return outcome
        correlation_id = correlation_id_for(ref.identity)
        with correlation(object_key=ref.key, correlation_id=correlation_id):
            try:
                planned = self.planner(ref, self.settings, self._delivery_for(correlation_id))
            except ValueError as exc:
                outcome.status, outcome.error = "failed", f"refused: {exc}"
                return outcome
            if not planned:
                outcome.reason = f"nothing for the {self.concern} handler to do with this object"
                return outcome
            try:
                return self._run_planned(ref, correlation_id, planned, outcome, lease_seconds, deadline)
            except CiflowError as exc:  # the idempotency store itself failed: try the record again later
                outcome.status, outcome.error = "failed", f"{type(exc).__name__}: {exc}"
                outcome.transient = not isinstance(exc, ConfigError)  # a retry cannot fix settings
                return outcome

    def _run_planned(
        self,
        ref: ObjectRef,
        correlation_id: str,
        planned: list[PlannedJob],
        outcome: RecordOutcome,
        lease_seconds: float,
        deadline: Deadline,
    ) -> RecordOutcome:
        settings, key = self.settings, f"{self.concern}:{ref.identity}"
        claim_time = self.clock()
        claim = self.store.claim(
            key,
            lease_seconds=lease_seconds,
            ttl_seconds=settings.idempotency_ttl_seconds,
            payload={
                **upload_facts(self.concern, ref),
                "correlation_id": correlation_id,
                "route": self.route,
                "steps": [job.step for job in planned],
                "permanent": False,
            },
            now=claim_time,
        )
        if not claim.acquired:
            outcome.jobs = {step: value for step, value in claim.record.jobs.items() if has_job(value)}
            if claim.record.state.value == "completed":
                outcome.reason = "duplicate delivery: already submitted"
                return outcome
            outcome.status, outcome.transient = "failed", True
            outcome.error = "another invocation is submitting this upload"
            return outcome
        run = StepRun(
            self.client,
            self.store,
            key,
            ref,
            claim.record.jobs,
            route=self.route,
            correlation_id=correlation_id,
            claimed_at=claim.record.created_at,
            taken_over=claim.record.created_at < claim_time,
            deadline=deadline,
            clock=self.clock,
        )
        try:
            run.run(planned)
            run.complete(ttl_seconds=settings.idempotency_ttl_seconds)
        except CiflowError as exc:
            return self._fail(key, run, planned, outcome, exc)
        outcome.results.update(run.results)
        outcome.status, outcome.jobs = "submitted", run.jobs
        return outcome

    def _fail(
        self, key: str, run: StepRun, planned: list[PlannedJob], outcome: RecordOutcome, exc: CiflowError
    ) -> RecordOutcome:
        """Leave the record in the ledger, failed: its missing steps, the error and no lease, so the next
        delivery takes over at once and the cleanup can report it (and give it up) if none comes."""
        outcome.status, outcome.error = "failed", f"{type(exc).__name__}: {exc}"
        outcome.jobs = {step: value for step, value in run.jobs.items() if has_job(value)}
        outcome.results.update(run.results)
        outcome.transient = exc.transient or isinstance(exc, AmbiguousSubmitError)
        failure = {
            "last_error": outcome.error,
            "missing_steps": missing_steps((job.step for job in planned), run.jobs),
            "failed_at": self.clock(),
            # the cleanup gives a permanent failure up at once; one awaiting a job's report gets its attempts
            "permanent": not (outcome.transient or getattr(exc, "awaits_callback", False)),
        }
        try:  # the job id complete() was to carry; without it the step stays pending (never resubmitted blind)
            run.save_unsaved()
        except CiflowError as store_error:
            _log.warning("could not record a job id in the ledger", error=str(store_error))
        try:
            self.store.annotate(key, failure, end_lease=True, now=self.clock())
        except CiflowError as store_error:  # the lease lapses by itself: the cleanup then reports it stalled
            _log.warning("could not record the failure in the ledger", error=str(store_error))
        return outcome

    # -- one invocation -------------------------------------------------------------------------------

    def handle(self, event: Any, context: Any) -> dict[str, Any]:
        invocation = InvocationContext.from_scf(context)
        deadline = invocation.deadline(self.settings.deadline_margin_ms / 1000)
        # The lease lasts until this invocation can no longer be running, so a crash frees the key in time
        # for SCF's retry (a minute later) and never before.
        lease_seconds = max(invocation.remaining_seconds(), 1.0) + 5.0
        try:
            parsed = parse_cos_event(event)
        except EventError as exc:
            _log.error("malformed event", error=str(exc))
            return {"concern": self.concern, "error": str(exc), "records": 0}
        items = list(parsed.records_or_errors())
        futures = [
            self._pool.submit(
                contextvars.copy_context().run, self._process_safely, index, item, lease_seconds, deadline
            )
            for index, item in items
        ]
        summary = InvocationSummary(self.concern, [future.result() for future in futures])
        for outcome in summary.outcomes:
            _log.info("record", **outcome.as_dict())
        result = summary.as_dict()
        _log.info(
            "invocation summary",
            concern=self.concern,
            records=result["records"],
            submitted=result["submitted"],
            skipped=result["skipped"],
            failed=result["failed"],
            not_reached=result["not_reached"],
        )
        if summary.needs_retry:
            raise RetryableInvocationError(summary)
        return result


def upload_handler(
    concern: str,
    settings_type: type[S],
    planner: Planner[S],
    *,
    environ: Mapping[str, str] | None = None,
) -> Callable[[Any, Any], dict[str, Any]]:
    """Build ``main_handler`` for a concern: settings are validated now (cold start), clients on first use."""
    return entry_point(
        settings_type,
        lambda settings: UploadRunner(concern, settings, planner),
        secrets=lambda settings: (settings.callback_token, settings.user_data_secret),
        environ=environ,
    )
