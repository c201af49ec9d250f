"""The cleanup function (timer): reconcile lost callbacks, cancel stuck jobs, purge temporary objects, expire
idempotency records, redrive dead letters — each bounded by the deadline and resumable."""

from ._runner import RUN_LEASE, TASKS, CleanupRunner, cleanup_handler
from ._settings import CleanupSettings

__all__ = ["RUN_LEASE", "TASKS", "CleanupRunner", "CleanupSettings", "cleanup_handler"]
