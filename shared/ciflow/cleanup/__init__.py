"""The cleanup function (timer): reconcile lost callbacks, cancel stuck jobs, purge temporary objects, expire
idempotency records, redrive dead letters — each bounded by the deadline and resumable.

``build_sinks`` is the callback function's (the cleanup routes what it reconciles to the same sinks), re-exported
so the cleanup function's entry imports only this package."""

from ..callback import build_sinks
from ._runner import RUN_LEASE, TASKS, CleanupRunner, cleanup_handler
from ._settings import CleanupSettings

__all__ = ["RUN_LEASE", "TASKS", "CleanupRunner", "CleanupSettings", "build_sinks", "cleanup_handler"]
