"""Expiry of idempotency and dedupe records: page by page from a checkpoint, a full pass at most every
``expire_every_s`` (expired records are already ignored; purging them only keeps the stores small)."""

from collections.abc import Callable, Mapping
from typing import Any

from ..client import Deadline
from ..idempotency import IdempotencyStore
from ._checkpoints import Checkpoints
from ._settings import CleanupSettings

__all__ = ["Expire"]

#: Records examined per step (for COS markers: one listing, its markers read, one multi-delete).
_PAGE = 1000


class Expire:
    """Purge expired records from each store, resumable under the deadline."""

    def __init__(
        self,
        settings: CleanupSettings,
        *,
        stores: Mapping[str, IdempotencyStore],
        checkpoints: Checkpoints,
        clock: Callable[[], float],
    ) -> None:
        self.settings = settings
        self.stores = stores
        self.checkpoints = checkpoints
        self.clock = clock

    def run(self, deadline: Deadline) -> dict[str, Any]:
        counts: dict[str, Any] = {"purged": 0}
        finished = self.checkpoints.get("expire-finished")
        in_pass = any(self.checkpoints.get(f"expire-{label}") for label in self.stores)
        since = self.clock() - float(finished) if finished else None
        if not in_pass and since is not None and since < self.settings.expire_every_s:
            counts.update(skipped=f"last full pass {since:.0f} s ago", complete=True)
            return counts
        for label, store in self.stores.items():
            if not self._purge_store(label, store, deadline, counts):
                counts["complete"] = False
                return counts
        self.checkpoints.save("expire-finished", f"{self.clock():.0f}")
        counts["complete"] = True
        return counts

    def _purge_store(self, label: str, store: IdempotencyStore, deadline: Deadline, counts: dict[str, Any]) -> bool:
        task = f"expire-{label}"
        cursor = self.checkpoints.get(task)
        while True:
            if deadline.expired:
                return False
            step = store.purge_expired_page(cursor=cursor, limit=_PAGE, now=self.clock())
            counts["purged"] += step.purged
            cursor = step.cursor
            self.checkpoints.save(task, cursor)
            if not cursor:
                return True
