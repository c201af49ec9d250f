"""Dead letters as JSON objects in the bucket: durable, and shared by every function and instance (the cloud
default; SCF's /tmp is neither), listed oldest failure first without reading them."""

from __future__ import annotations

import builtins
import hashlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, unquote

from .. import operations as ops
from ..client import CiClient, Deadline
from ..errors import NotFoundError
from ..logging import get_logger
from ..results import JobResult
from ._dead_letter import DeadLetter, LetterId, RedriveFailure, RedriveReport, deliver_letter, redrive_targets
from ._sink import Sink

__all__ = ["CosDeadLetterStore"]

DEFAULT_PREFIX = "ciflow/dead-letters/"


class CosDeadLetterStore:
    """One object per letter, ``<prefix><sink, percent-encoded>/<last failure, ms, 15 digits>-<digest>.json``.

    The name orders a sink's letters by their last failure, so a redrive lists (one request per thousand
    letters) and reads only the letters it takes. A failed redrive writes the letter anew under its new time,
    then deletes the old object: a crash in between keeps the letter twice, never loses it. The id of a letter
    is its name below the prefix. One redrive at a time is the caller's to ensure (the cleanup run's lease).
    """

    def __init__(
        self, client: CiClient, prefix: str = DEFAULT_PREFIX, *, clock: Callable[[], float] = time.time
    ) -> None:
        if not prefix.strip("/"):
            raise ValueError("the dead-letter prefix must name a folder, not the whole bucket")
        self.client = client
        self.prefix = prefix if prefix.endswith("/") else prefix + "/"
        self._clock = clock

    # -- names ----------------------------------------------------------------------------------------

    def _letter_id(self, sink: str, dedupe_key: str, failed_at: float) -> str:
        digest = hashlib.sha256(f"{sink}\n{dedupe_key}".encode()).hexdigest()[:32]
        return f"{quote(sink, safe='')}/{int(failed_at * 1000):015d}-{digest}.json"

    @staticmethod
    def _sink_of(letter_id: str) -> str:
        return unquote(letter_id.split("/", 1)[0])

    @staticmethod
    def _digest_of(letter_id: str) -> str:
        """Names (sink, result): the same for every copy of one letter, whatever its failure time."""
        return letter_id.rsplit("-", 1)[-1]

    def _listed_ids(self, sink: str | None = None) -> Iterator[str]:
        """Letter ids in name order: per sink, least recently failed first."""
        prefix = self.prefix + (quote(sink, safe="") + "/" if sink is not None else "")
        for page in self.client.paginate(ops.list_objects(prefix)):
            for item in page.contents:
                letter_id = item.key[len(self.prefix) :]
                if "/" in letter_id and letter_id.endswith(".json"):
                    yield letter_id

    # -- letters --------------------------------------------------------------------------------------

    def _write(self, letter: DeadLetter) -> None:
        body = {
            "sink": letter.sink,
            "dedupe_key": letter.dedupe_key,
            "payload": letter.payload,
            "reason": letter.reason,
            "transient": letter.transient,
            "attempts": letter.attempts,
            "first_failed_at": letter.first_failed_at,
            "last_failed_at": letter.last_failed_at,
        }
        content = json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")
        self.client.send(ops.put_object(self.prefix + str(letter.id), content, content_type="application/json"))

    def add(
        self,
        result: JobResult,
        *,
        sink: str,
        reason: str,
        transient: bool,
        attempts: int = 1,
        deadline: Deadline | None = None,
    ) -> DeadLetter:
        """Record that ``sink`` could not take ``result`` (written before returning)."""
        now = self._clock()
        key = result.dedupe_key
        payload = result.model_dump(mode="json")
        letter = DeadLetter(self._letter_id(sink, key, now), sink, key, payload, reason, transient, attempts, now, now)
        self._write(letter)
        return letter

    def get(self, letter_id: LetterId) -> DeadLetter | None:
        try:
            content = self.client.send(ops.get_object(self.prefix + str(letter_id))).content
        except NotFoundError:
            return None
        data: dict[str, Any] = json.loads(content)
        return DeadLetter(
            str(letter_id),
            str(data["sink"]),
            str(data["dedupe_key"]),
            dict(data["payload"]),
            str(data["reason"]),
            bool(data["transient"]),
            int(data["attempts"]),
            float(data["first_failed_at"]),
            float(data["last_failed_at"]),
        )

    def list(self, *, limit: int = 100, sink: str | None = None) -> builtins.list[DeadLetter]:
        """Dead letters (per sink, least recently failed first), read up to ``limit``."""
        letters: builtins.list[DeadLetter] = []
        for letter_id in self._listed_ids(sink):
            if len(letters) >= limit:
                break
            letter = self.get(letter_id)
            if letter is not None:
                letters.append(letter)
        return letters

    def count(self, *, sink: str | None = None) -> int:
        return sum(1 for _ in self._listed_ids(sink))

    def delete(self, letter_id: LetterId) -> bool:
        existed = self.get(letter_id) is not None
        self.client.send(ops.delete_object(self.prefix + str(letter_id)))
        return existed

    # -- redrive --------------------------------------------------------------------------------------

    def redrive(
        self, sinks: Mapping[str, Sink], *, limit: int = 100, deadline: Deadline | None = None
    ) -> RedriveReport:
        """Deliver up to ``limit`` letters to the sinks they failed at; delete each delivered, move each failure
        to the back of its sink's line (attempts + 1, new reason), stop at the deadline.

        The limit is shared fairly: a sink with a long line cannot starve the others in one run.
        """
        targets = redrive_targets(sinks)
        listed: dict[str, builtins.list[str]] = {}
        copies: dict[str, builtins.list[str]] = {}
        for letter_id in self._listed_ids():
            # The digest names (sink, result): a second copy is a requeue that crashed before its delete.
            twins = copies.setdefault(self._digest_of(letter_id), [])
            twins.append(letter_id)
            if len(twins) == 1:
                listed.setdefault(self._sink_of(letter_id), []).append(letter_id)
        others = tuple(sorted(name for name in listed if name not in targets))
        queues = [listed[name] for name in sorted(targets) if listed.get(name)]
        delivered: builtins.list[LetterId] = []
        failed: builtins.list[RedriveFailure] = []
        deadline_reached = False
        for letter_id in _fair_share(queues, limit):
            if deadline is not None and deadline.expired:
                deadline_reached = True
                break
            letter = self.get(letter_id)
            if letter is None:
                continue  # deleted since the listing
            failure = deliver_letter(letter, targets[letter.sink], deadline)
            if failure is None:
                self.client.send(ops.delete_object(self.prefix + letter_id))
                delivered.append(letter_id)
            else:
                failed.append(self._requeue(letter, failure))
            for stale in copies[self._digest_of(letter_id)][1:]:
                self.client.send(ops.delete_object(self.prefix + stale))
        remaining = sum(len(queue) for queue in queues) - len(delivered)
        get_logger("ciflow.routing").info(
            "redrive", delivered=len(delivered), failed=len(failed), deadline_reached=deadline_reached
        )
        return RedriveReport(
            delivered=tuple(delivered),
            failed=tuple(failed),
            remaining=remaining,
            deadline_reached=deadline_reached,
            skipped_sinks=others,
        )

    def _requeue(self, letter: DeadLetter, failure: RedriveFailure) -> RedriveFailure:
        now = self._clock()
        moved = DeadLetter(
            self._letter_id(letter.sink, letter.dedupe_key, now),
            letter.sink,
            letter.dedupe_key,
            letter.payload,
            failure.reason,
            failure.transient,
            letter.attempts + 1,
            letter.first_failed_at,
            now,
        )
        self._write(moved)  # first the new copy, then the old one goes: a crash between keeps both, loses none
        if moved.id != letter.id:
            self.client.send(ops.delete_object(self.prefix + str(letter.id)))
        return RedriveFailure(moved.id, failure.sink, failure.reason, failure.transient)


def _fair_share(queues: builtins.list[builtins.list[str]], limit: int) -> Iterator[str]:
    """Up to ``limit`` ids taken round-robin from the queues, each queue in its own order."""
    taken = 0
    for depth in range(max((len(queue) for queue in queues), default=0)):
        for queue in queues:
            if taken >= limit:
                return
            if depth < len(queue):
                taken += 1
                yield queue[depth]
