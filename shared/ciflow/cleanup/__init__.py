"""The cleanup function (timer): reconcile lost callbacks, cancel stuck jobs, purge temporary objects, expire
idempotency records, redrive dead letters — each bounded by the deadline and resumable."""

from ._runner import TASKS, CleanupRunner, cleanup_handler
from ._settings import CleanupSettings

__all__ = ["TASKS", "CleanupRunner", "CleanupSettings", "cleanup_handler"]
