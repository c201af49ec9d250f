"""What every upload handler shares: settings, filters, planning, idempotent submission, outcomes.

``IdempotencySettings`` and ``store_for`` live in ``ciflow.idempotency.settings`` (the runtime layer, shared with the
callback and the cleanup) and are re-exported here for compatibility.

A concern writes a planner; ``upload_handler(concern, settings_type, planner)`` makes its ``main_handler``.
"""

from ..idempotency.settings import store_for
from ._filters import skip_reason
from ._outcome import InvocationSummary, RecordOutcome, RetryableInvocationError
from ._pipeline import INLINE, UploadRunner, upload_facts, upload_handler
from ._plan import Delivery, PlannedJob, Planner, output_for, output_key, with_delivery
from ._settings import IdempotencySettings, UploadSettings

__all__ = [
    "INLINE",
    "Delivery",
    "IdempotencySettings",
    "InvocationSummary",
    "PlannedJob",
    "Planner",
    "RecordOutcome",
    "RetryableInvocationError",
    "UploadRunner",
    "UploadSettings",
    "output_for",
    "output_key",
    "skip_reason",
    "store_for",
    "upload_facts",
    "upload_handler",
    "with_delivery",
]
