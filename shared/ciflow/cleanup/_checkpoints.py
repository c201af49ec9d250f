"""Where each cleanup task stopped: one record per task in the idempotency store, read at start, saved as it goes."""

from collections.abc import Callable

from ..idempotency import IdempotencyStore

__all__ = ["CHECKPOINT_PREFIX", "Checkpoints"]

#: Key prefix of the checkpoint records (payload ``{"marker": …}``); the ledger walk skips them.
CHECKPOINT_PREFIX = "cleanup:checkpoint:"
_LEASE = 60.0


class Checkpoints:
    """A task's resume marker ("" = start from the beginning) kept in the store, so any instance resumes it."""

    def __init__(self, store: IdempotencyStore, *, ttl_seconds: float, clock: Callable[[], float]) -> None:
        self.store = store
        self.ttl_seconds = ttl_seconds
        self.clock = clock

    def get(self, task: str) -> str:
        record = self.store.get(CHECKPOINT_PREFIX + task, now=self.clock())
        return str(record.payload.get("marker", "")) if record else ""

    def save(self, task: str, marker: str) -> None:
        # The contract has no "overwrite payload": a checkpoint is replaced by releasing and claiming it anew.
        key = CHECKPOINT_PREFIX + task
        now = self.clock()
        self.store.release(key)
        claim = self.store.claim(
            key, lease_seconds=_LEASE, ttl_seconds=self.ttl_seconds, payload={"marker": marker}, now=now
        )
        if claim.acquired:
            self.store.complete(key, {}, ttl_seconds=self.ttl_seconds, now=now)
