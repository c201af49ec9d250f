"""The callback function: authenticate CI's report, normalise it, and route each result exactly once.

Answers 200 only once every result is durably delivered or dead-lettered; 4xx for requests that will never
succeed (bad token, bad body); 5xx when a retry may succeed. An authenticated probe — the JSON body
``{"ciflowProbe": "<nonce>"}``, nonce 1-128 of ``A-Z a-z 0-9 . _ ~ -`` — is answered 200 with the same body and
routes nothing (``ciflow doctor`` checks the deployed URL with it); without a valid token it gets 401/403 too.
"""

import hmac
import json
import re
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from ..client import CiClient, Deadline
from ..config import entry_point, shared_client
from ..errors import CiflowError, DecodeError, NotFoundError, XmlError
from ..events import ApiRequest, BodyTooLargeError, EventError, InvocationContext, api_response, parse_api_request
from ..idempotency import IdempotencyStore, record_sighting
from ..idempotency.settings import store_for
from ..logging import correlation, get_logger
from ..models.callbacks import TaskFinish, TooManyEntriesError, parse_callback
from ..results import JobResult, normalise
from ..routing import DeliveryError, Sink
from ._actions import apply_moderation_action
from ._guards import StoreUnavailableError, store_failures
from ._rules import select_sinks
from ._settings import CallbackSettings

if TYPE_CHECKING:
    from ..models.callbacks import Callback

__all__ = ["CallbackRunner", "callback_handler", "DeadLetters"]

_log = get_logger("ciflow.callback")
_LEASE_SECONDS = 60.0
_PROBE_FIELD = "ciflowProbe"
_PROBE_MAX_BYTES = 512
_PROBE_NONCE = re.compile(r"[A-Za-z0-9._~-]{1,128}")


def _probe_nonce(body: bytes) -> str | None:
    """The nonce of a probe body ``{"ciflowProbe": "<nonce>"}``; ``None`` for anything else (CI's reports)."""
    if len(body) > _PROBE_MAX_BYTES or b'"ciflowProbe"' not in body:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or list(data) != [_PROBE_FIELD]:
        return None
    nonce = data[_PROBE_FIELD]
    return nonce if isinstance(nonce, str) and _PROBE_NONCE.fullmatch(nonce) else None


class DeadLetters(Protocol):
    """Where results that could not be delivered wait for a redrive (``routing.DeadLetterStore``)."""

    def add(self, result: JobResult, *, sink: str, reason: str, transient: bool) -> object: ...


class _ForgedError(Exception):
    """Strict mode: CI does not know a job the callback claims."""


def _describe(kind: str) -> Callable[[str], Any] | None:
    """Strict mode's lookup of a job of this kind; the operations load only then (the default path never
    builds a CI request)."""
    from .. import operations as ops

    describe: dict[str, Callable[[str], Any]] = {
        "media": ops.describe_media_jobs,
        "file": ops.describe_file_jobs,
        "document": ops.describe_doc_jobs,
        "picture": ops.describe_pic_jobs,
    }
    return describe.get(kind)


class CallbackRunner:
    """Holds the warm state of the callback function: client, dedupe store, sinks, dead letters."""

    def __init__(
        self,
        settings: CallbackSettings,
        *,
        sinks: Mapping[str, Sink],
        dead_letters: DeadLetters,
        client: CiClient | None = None,
        store: IdempotencyStore | None = None,
        ledger: IdempotencyStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``store`` keeps the routed-result records; ``ledger`` is the upload handlers' store, where job
        sightings go (the same store unless the COS marker store keeps the two under different prefixes)."""
        self.settings = settings
        self.sinks = dict(sinks)
        self.dead_letters = dead_letters
        self.client = client or shared_client(settings)
        self.store = store or store_for(settings, self.client, purpose="dedupe")
        self.ledger = ledger or store or self._ledger_store()
        self.clock = clock

    def _ledger_store(self) -> IdempotencyStore:
        return store_for(self.settings, self.client) if self.settings.idempotency_store == "cos" else self.store

    # -- authentication and trust ---------------------------------------------------------------------

    def _authentic(self, token: str | None) -> bool:
        # Every configured token is compared, in constant time, so timing says nothing about which matched.
        matched = False
        for expected in self.settings.tokens:
            matched |= hmac.compare_digest((token or "").encode("utf-8", "surrogatepass"), expected.encode())
        return matched

    def _confirmed(self, result: JobResult, deadline: Deadline) -> JobResult:
        """Strict mode: the job as CI describes it, keeping only what CI says."""
        describe = _describe(result.kind)
        if describe is None or not result.job_id:
            raise _ForgedError(f"a {result.kind} report cannot be confirmed with CI")
        answer = self.client.send(describe(result.job_id), deadline=deadline)
        details = [d for d in answer.jobs_detail if d.job_id == result.job_id]
        if not details:
            raise _ForgedError(f"CI does not know job {result.job_id}")
        confirmed = normalise(TaskFinish(jobs_detail=details), user_data_secrets=self.settings.user_data_secrets)
        return confirmed[0]

    # -- routing one result ---------------------------------------------------------------------------

    def _dead_letter(self, result: JobResult, sink: str, reason: str, *, transient: bool = False) -> None:
        with store_failures("dead-letter"):
            self.dead_letters.add(result, sink=sink, reason=reason, transient=transient)
        _log.warning("dead-lettered", job_id=result.job_id, sink=sink, reason=reason)

    def route(self, result: JobResult, deadline: Deadline) -> str:
        """Route one result once (the cleanup function's reconcile uses this too); see ``_route``."""
        return self._route(result, deadline)

    def _route(self, result: JobResult, deadline: Deadline) -> str:
        """Deliver one result; return 'routed', 'duplicate' or 'dead-lettered'. Raises when a retry may help."""
        self._sight(result)
        key = f"callback:{result.dedupe_key}"
        with store_failures("dedupe"):
            claim = self.store.claim(
                key,
                lease_seconds=_LEASE_SECONDS,
                ttl_seconds=self.settings.idempotency_ttl_seconds,
                payload={"job_id": result.job_id, "state": result.state, "kind": result.kind},
                now=self.clock(),
            )
        if not claim.acquired:
            if claim.record.state.value == "completed":
                return "duplicate"
            raise CiflowError(f"result {result.dedupe_key} is being routed by another invocation")
        try:
            outcome = self._deliver(result, deadline)
        except Exception:
            self._release(key)  # nothing durable happened for this claim: the retry starts afresh
            raise
        with store_failures("dedupe"):
            self.store.complete(key, {}, ttl_seconds=self.settings.idempotency_ttl_seconds, now=self.clock())
        return outcome

    def _sight(self, result: JobResult) -> None:
        """Tell the upload's ledger that its step has this job, before anything is delivered (a failure here
        costs a retry, never a second delivery): a step whose submit went unanswered then resolves to it."""
        if not (result.user_data_valid and result.route and result.correlation_id and result.step and result.job_id):
            return
        with store_failures("ledger"):
            record_sighting(
                self.ledger,
                route=result.route,
                correlation_id=result.correlation_id,
                step=result.step,
                job_id=result.job_id,
                ttl_seconds=self.settings.idempotency_ttl_seconds,
                now=self.clock(),
            )

    def _release(self, key: str) -> None:
        try:
            with store_failures("dedupe"):
                self.store.release(key)
        except StoreUnavailableError as exc:  # the lease runs out instead: the retry waits for it
            _log.warning("claim not released", error=str(exc))

    def _deliver(self, result: JobResult, deadline: Deadline) -> str:
        if result.user_data and not result.user_data_valid and self.settings.unverified_user_data == "dead-letter":
            self._dead_letter(result, "router", "UserData does not verify: not a job this deployment submitted")
            return "dead-lettered"
        action = apply_moderation_action(result, self.settings, self.client, deadline)
        if action:
            result = result.model_copy(update={"details": {**result.details, "moderation_action": action}})
        names = select_sinks(self.settings.routes, result, self.settings.review_sinks)
        if not names:
            self._dead_letter(result, "router", "no route matches this result")
            return "dead-lettered"
        dead = 0
        for name in names:
            try:
                self.sinks[name].deliver(result, deadline=deadline)
            except DeliveryError as exc:
                self._dead_letter(result, name, str(exc), transient=exc.transient)
                dead += 1
        return "dead-lettered" if dead else "routed"

    # -- one request ----------------------------------------------------------------------------------

    def _request(self, event: Any) -> tuple[ApiRequest, BodyTooLargeError | None]:
        """The request, and whether its body is over the cap (then read without it, for the token check)."""
        try:
            return parse_api_request(event, max_body_bytes=self.settings.callback_max_body_bytes), None
        except BodyTooLargeError as exc:
            return parse_api_request({**event, "body": None}), exc

    def _refusal(self, request: ApiRequest) -> dict[str, Any] | None:
        """405 for anything but POST, 401 without a token, 403 with a wrong one; ``None`` when authentic."""
        if request.method != "POST":
            return api_response(405, {"error": "callbacks are POSTed"})
        token = request.query.get("token") or request.headers.get("x-ciflow-token")
        if not token:
            return api_response(401, {"error": "missing token"})
        if not self._authentic(token):
            _log.warning("forged callback refused", source_ip=request.source_ip)
            return api_response(403, {"error": "invalid token"})
        return None

    def _parse(self, request: ApiRequest) -> "Callback | dict[str, Any]":
        """The report, or the answer refusing it: 413 over the entry cap, 400 when it cannot be read."""
        try:
            return parse_callback(
                request.body,
                request.content_type,
                max_bytes=self.settings.callback_max_body_bytes,
                max_entries=self.settings.callback_max_entries,
            )
        except TooManyEntriesError as exc:
            _log.warning("oversized callback refused", entries=exc.count, limit=exc.limit)
            return api_response(413, {"error": str(exc)})
        except (XmlError, DecodeError) as exc:
            return api_response(400, {"error": f"unreadable callback: {exc}"})

    def handle(self, event: Any, context: Any) -> dict[str, Any]:
        deadline = InvocationContext.from_scf(context).deadline(1.0)
        try:
            request, too_large = self._request(event)
        except EventError as exc:
            return api_response(400, {"error": str(exc)})
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        if too_large is not None:
            _log.warning("oversized callback refused", size=too_large.size, limit=too_large.limit)
            return api_response(413, {"error": str(too_large)})
        nonce = _probe_nonce(request.body)
        if nonce is not None:
            _log.info("probe answered", source_ip=request.source_ip)
            return api_response(200, {_PROBE_FIELD: nonce})
        callback = self._parse(request)
        if isinstance(callback, dict):
            return callback
        results = normalise(callback, user_data_secrets=self.settings.user_data_secrets)
        try:
            if self.settings.strict:
                results = [self._confirmed(result, deadline) for result in results]
        except _ForgedError as exc:
            _log.warning("unconfirmed callback refused", reason=str(exc))
            return api_response(403, {"error": str(exc)})
        except NotFoundError:
            return api_response(403, {"error": "CI does not know this job"})
        except CiflowError as exc:
            return api_response(503, {"error": f"could not confirm with CI: {exc}"})
        counts = {"routed": 0, "duplicate": 0, "dead-lettered": 0}
        for result in results:
            with correlation(job_id=result.job_id, correlation_id=result.correlation_id):
                try:
                    counts[self._route(result, deadline)] += 1
                except CiflowError as exc:
                    _log.error("routing failed; asking the sender to retry", error=str(exc))
                    return api_response(503, {"error": str(exc), **counts})
        _log.info("callback handled", results=len(results), **{k.replace("-", "_"): v for k, v in counts.items()})
        return api_response(200, {"results": len(results), **counts})


def callback_handler(
    build: Callable[[CallbackSettings], tuple[Mapping[str, Sink], DeadLetters]],
    *,
    environ: Mapping[str, str] | None = None,
) -> Callable[[Any, Any], dict[str, Any]]:
    """Build the callback function's ``main_handler``; settings are validated now (cold start).

    Nothing escapes it: an unexpected failure is logged (its type only) and answered 500.
    """

    def make_runner(settings: CallbackSettings) -> CallbackRunner:
        sinks, dead_letters = build(settings)
        return CallbackRunner(settings, sinks=sinks, dead_letters=dead_letters)

    inner = entry_point(CallbackSettings, make_runner, secrets=_secrets, environ=environ)

    def main_handler(event: Any, context: Any) -> dict[str, Any]:
        try:
            return inner(event, context)
        except Exception as exc:  # the last resort: API Gateway must get an answer, never a stack trace
            _log.error("unexpected failure; answered 500", error_type=type(exc).__name__)
            return api_response(500, {"error": "internal error"})

    return main_handler


def _secrets(settings: CallbackSettings) -> list[str]:
    return [*settings.tokens, *settings.user_data_secrets]
