"""Purge of temporary objects: only under the configured prefixes, only older than the cutoff, resumable."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from .. import operations as ops
from ..client import CiClient, Deadline
from ..errors import DeadlineExceededError
from ._checkpoints import Checkpoints
from ._settings import CleanupSettings

__all__ = ["Purge"]

_SEPARATOR = "\t"  # checkpoint "<prefix>\t<last key listed>": a key never holds a tab in a purge prefix's listing


class Purge:
    """Delete objects under ``purge_prefixes`` last modified more than ``purge_after_days`` ago."""

    def __init__(
        self, settings: CleanupSettings, *, client: CiClient, checkpoints: Checkpoints, clock: Callable[[], float]
    ) -> None:
        self.settings = settings
        self.client = client
        self.checkpoints = checkpoints
        self.clock = clock

    def run(self, deadline: Deadline) -> dict[str, Any]:
        counts: dict[str, Any] = {"listed": 0, "deleted": 0, "would_delete": 0, "errors": 0}
        counts["dry_run"] = self.settings.dry_run
        cutoff = self.clock() - self.settings.purge_after_days * 86400
        prefixes = sorted(set(self.settings.purge_prefixes))
        saved_prefix, _, saved_marker = self.checkpoints.get("purge").partition(_SEPARATOR)
        for index, prefix in enumerate(prefixes):
            if saved_prefix and prefix < saved_prefix:
                continue  # finished by an earlier run
            marker = saved_marker if prefix == saved_prefix else ""
            try:
                finished = self._purge_prefix(prefix, marker, cutoff, deadline, counts)
            except DeadlineExceededError:
                finished = False  # between two requests: the checkpoint holds the last page done
            if not finished:
                counts["complete"] = False
                return counts
            following = prefixes[index + 1] if index + 1 < len(prefixes) else ""
            self.checkpoints.save("purge", f"{following}{_SEPARATOR}" if following else "")
        counts["complete"] = True
        return counts

    def _purge_prefix(
        self, prefix: str, marker: str, cutoff: float, deadline: Deadline, counts: dict[str, Any]
    ) -> bool:
        """One prefix from ``marker``; False when the deadline stopped it (the checkpoint holds the position)."""
        for page in self.client.paginate(ops.list_objects(prefix, marker=marker), deadline=deadline):
            old: list[str] = []
            for item in page.contents:
                counts["listed"] += 1
                # Never outside the configured prefix, whatever the listing says.
                if item.key.startswith(prefix) and _older(item.last_modified, cutoff):
                    old.append(item.key)
            self._delete(old, deadline, counts)
            if page.contents:
                self.checkpoints.save("purge", f"{prefix}{_SEPARATOR}{page.contents[-1].key}")
            if deadline.expired:
                return False
        return True

    def _delete(self, keys: list[str], deadline: Deadline, counts: dict[str, Any]) -> None:
        if self.settings.dry_run:
            counts["would_delete"] += len(keys)
            return
        for start in range(0, len(keys), ops.MAX_DELETE_KEYS):
            batch = keys[start : start + ops.MAX_DELETE_KEYS]
            answer = self.client.send(ops.delete_objects(batch, quiet=True), deadline=deadline)
            counts["errors"] += len(answer.error)
            counts["deleted"] += len(batch) - len(answer.error)


def _older(modified: datetime | None, cutoff: float) -> bool:
    return isinstance(modified, datetime) and modified.timestamp() < cutoff
