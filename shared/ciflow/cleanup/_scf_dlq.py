"""Uploads SCF gave up on before any ledger saw them: drained from the functions' dead-letter queue.

When an upload function fails an event through all of SCF's retries before its claim was written (the store
was down the whole time), only SCF's dead-letter queue still knows the upload. Each message there names the
function and carries the event; every record of it that has no ledger record is delivered again (SCF's
``Invoke``, at most ``invoke_attempts`` times, counted in the event's ``reservedInfo``) or, once spent or
when nothing can invoke, given up into ciflow's dead letters with SCF's reason. Records the ledger holds are
the ledger walk's. A message is deleted only once every record of it is handled: one that fails part way
comes back after its visibility timeout.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..callback import store_failures
from ..client import Deadline
from ..errors import CiflowError
from ..events import EventError, ObjectRef, ScfDeadLetter, parse_cos_event, parse_scf_dead_letter
from ..idempotency import IdempotencyStore
from ..logging import get_logger
from ..results import JobResult, ObjectLocation
from ._drive import Invoker
from ._settings import CleanupSettings
from ._unfinished import GAVE_UP_EVENT, UPLOADS_SINK, DeadLetterAdd

if TYPE_CHECKING:
    from ..routing import CmqQueueReader, ReceivedMessage

__all__ = ["REDRIVE_MARK", "ScfDeadLetterDrain"]

_log = get_logger("ciflow.cleanup")

#: ``reservedInfo`` of an event this drain delivered again: ``ciflow:scf-dead-letter:<n>``, n redrives so far.
REDRIVE_MARK = "ciflow:scf-dead-letter"
_REDRIVES = re.compile(rf"^{re.escape(REDRIVE_MARK)}:(\d{{1,4}})$")


def _redrives(raw: Any) -> int:
    """How often this drain already delivered the record again (from its ``event.reservedInfo``)."""
    info = raw.get("event", {}).get("reservedInfo") if isinstance(raw, dict) else None
    match = _REDRIVES.match(info) if isinstance(info, str) else None
    return int(match[1]) if match else 0


def _letter(concern: str, what: str, reason: str, details: dict[str, Any], ref: ObjectRef | None = None) -> JobResult:
    location = ObjectLocation(bucket=ref.bucket, region=ref.region, key=ref.key) if ref else None
    return JobResult(
        kind="unknown",
        event=GAVE_UP_EVENT,
        job_id=f"upload:{concern}:{what}",
        state="GaveUp",
        input=location,
        error_message=reason,
        details={"concern": concern, "status": "unclaimed", **details},
    )


class ScfDeadLetterDrain:
    """One run's pass over the queue: at most ``scf_dead_letter_batch`` messages."""

    def __init__(
        self,
        settings: CleanupSettings,
        *,
        reader: CmqQueueReader,
        store: IdempotencyStore,
        dead_letters: DeadLetterAdd,
        invoker: Invoker | None,
        clock: Callable[[], float],
    ) -> None:
        self.settings = settings
        self.reader = reader
        self.store = store
        self.dead_letters = dead_letters
        self.invoker = invoker if settings.invoke_attempts > 0 else None
        self.clock = clock
        self.counts: Counter[str] = Counter()

    def run(self, deadline: Deadline) -> dict[str, Any]:
        complete = False
        for _ in range(self.settings.scf_dead_letter_batch):
            if deadline.expired:
                break
            message = self.reader.receive(deadline=deadline)
            if message is None:
                complete = True
                break
            self.counts["messages"] += 1
            try:
                with store_failures("ledger or dead-letter"):
                    self._handle(message, deadline)
                self.reader.delete(message, deadline=deadline)
            except CiflowError as exc:  # received again after its visibility timeout
                self.counts["errors"] += 1
                _log.warning("SCF dead letter left in its queue", msg_id=message.msg_id, error=str(exc))
        return {**self.counts, "complete": complete}

    def _file(self, letter: JobResult, reason: str, count: str) -> None:
        self.dead_letters.add(letter, sink=UPLOADS_SINK, reason=reason, transient=False)
        self.counts[count] += 1
        _log.warning("SCF dead letter given up", reason=reason, job_id=letter.job_id)

    def _handle(self, message: ReceivedMessage, deadline: Deadline) -> None:
        try:
            letter = parse_scf_dead_letter(message.body)
        except EventError as exc:
            reason = f"unreadable SCF dead letter: {exc}"
            raw = {"msg_id": message.msg_id, "body": message.body[:4000]}
            self._file(_letter("?", message.msg_id, reason, raw), reason, "unreadable")
            return
        function = letter.body.function_name
        concern = function.removeprefix(self.settings.function_prefix)
        details: dict[str, Any] = {
            "function": function,
            "scf_request_id": letter.request_id,
            "retries": letter.body.retry_num,
        }
        if not function.startswith(self.settings.function_prefix) or not concern:
            reason = f"SCF dead letter of {function!r}, not an upload function of this deployment"
            self._file(_letter(function, letter.request_id, reason, details), reason, "not_ours")
            return
        try:
            records = list(parse_cos_event(letter.event).records_or_errors())
        except EventError as exc:
            reason = f"SCF dead letter of {function} with no COS event: {exc}"
            self._file(_letter(concern, letter.request_id, reason, details), reason, "unreadable")
            return
        for index, item in records:
            raw = letter.event["Records"][index]
            if isinstance(item, EventError):
                reason = f"SCF dead letter of {function}: record {index} unreadable: {item}"
                self._file(_letter(concern, f"{letter.request_id}:{index}", reason, details), reason, "unreadable")
                continue
            self._record(concern, function, letter, raw, item, details, deadline)

    def _record(
        self,
        concern: str,
        function: str,
        letter: ScfDeadLetter,
        raw: dict[str, Any],
        ref: ObjectRef,
        details: dict[str, Any],
        deadline: Deadline,
    ) -> None:
        if self.store.get(f"{concern}:{ref.identity}", now=self.clock()) is not None:
            self.counts["in_ledger"] += 1  # claimed after all: the ledger walk finishes or gives it up
            return
        done = _redrives(raw)
        if self.invoker is not None and done < self.settings.invoke_attempts:
            record = copy.deepcopy(raw)
            record.setdefault("event", {})["reservedInfo"] = f"{REDRIVE_MARK}:{done + 1}"
            self.invoker.invoke(function, {"Records": [record]}, deadline=deadline)
            self.counts["redriven"] += 1
            return
        reason = (
            f"SCF dead-lettered its event after {letter.body.retry_num} retries ({letter.error_summary}); "
            f"no ledger record, {done} redelivered by the cleanup"
        )
        self._file(_letter(concern, ref.identity, reason, {**details, "key": ref.key}, ref), reason, "gave_up")
