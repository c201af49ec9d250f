"""Unfinished uploads finished: their upload function invoked again through SCF's ``Invoke``, bounded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import quote

from ..api3 import Invocation
from ..client import Deadline
from ..errors import CiflowError
from ..idempotency import IdempotencyRecord, IdempotencyStore, RecordNotFoundError
from ..logging import get_logger
from ._settings import CleanupSettings

__all__ = ["INVOCATIONS", "INVOKED_AT", "Finisher", "Invoker", "upload_event"]

_log = get_logger("ciflow.cleanup")

#: Payload fields of a record: how often the cleanup invoked its upload function, and when it last did.
INVOCATIONS = "cleanup_invocations"
INVOKED_AT = "cleanup_invoked_at"
#: ``reservedInfo`` of the events the cleanup sends (SCF's own are empty): says in logs who delivered it.
SENDER = "ciflow:cleanup"
#: Payload fields without which a record's upload cannot be delivered again.
_DELIVERABLE = ("concern", "bucket", "region", "key")


class Invoker(Protocol):
    def invoke(self, function: str, event: Mapping[str, Any], *, deadline: Deadline | None = None) -> Invocation: ...


def _object_facts(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Size, ETag, version id, content type and metadata; from ``version`` alone for records kept before
    ``object`` was (``size-N``, else the ETag or version id: either gives the same upload identity)."""
    facts = payload.get("object")
    if isinstance(facts, dict):
        return facts
    version = str(payload.get("version") or "")
    if version.startswith("size-") and version[5:].isdigit():
        return {"size": int(version[5:])}
    return {"etag": version or None}


def _meta(facts: Mapping[str, Any]) -> dict[str, str]:
    meta = {f"x-cos-meta-{name}": str(value) for name, value in (facts.get("metadata") or {}).items()}
    if facts.get("content_type"):
        meta["Content-Type"] = str(facts["content_type"])
    if facts.get("etag"):
        meta["ETag"] = f'"{facts["etag"]}"'
    return meta


def upload_event(payload: Mapping[str, Any], now: float) -> dict[str, Any]:
    """The COS trigger event (one ``cos:ObjectCreated:Put`` record, as SCF delivers it) of the upload a ledger
    record names: parsed, it gives the same bucket, key and version, so the handler takes over that record."""
    bucket, region, key = str(payload["bucket"]), str(payload["region"]), str(payload["key"])
    name, _, appid = bucket.rpartition("-")
    facts = _object_facts(payload)
    cos_object = {
        "url": f"https://{bucket}.cos.{region}.myqcloud.com/{quote(key, safe='/-_.~')}",
        "meta": _meta(facts),
        "vid": facts.get("version_id") or "",
        "key": f"/{appid}/{name}/{key}",
        "size": facts.get("size"),
    }
    event = {
        "eventName": "cos:ObjectCreated:Put",
        "eventVersion": "1.0",
        "eventTime": int(now),
        "eventSource": "qcs::cos",
        "requestParameters": {"requestSourceIP": "", "requestHeaders": {}},
        "eventQueue": "",
        "reservedInfo": SENDER,
        "reqid": 0,
    }
    bucket_info = {"name": name, "appid": appid, "region": region, "cosRegion": region}
    cos = {"cosSchemaVersion": "1.0", "cosObject": cos_object, "cosBucket": bucket_info, "cosNotificationId": ""}
    return {"Records": [{"cos": cos, "event": event}]}


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


class Finisher:
    """One walk's invocations: at most ``invoke_limit`` in all, one per upload, ``invoke_attempts`` per upload
    over every walk (counted before sending, so a crash cannot make them unbounded)."""

    def __init__(
        self,
        settings: CleanupSettings,
        *,
        store: IdempotencyStore,
        invoker: Invoker | None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.invoker = invoker if settings.invoke_uploads and settings.invoke_attempts > 0 else None
        self.left = settings.invoke_limit

    def drives(self, record: IdempotencyRecord) -> bool:
        """True when this walk invokes functions and the record names an upload it can deliver again."""
        return self.invoker is not None and all(record.payload.get(name) for name in _DELIVERABLE)

    def invocations(self, record: IdempotencyRecord) -> int:
        return int(_number(record.payload.get(INVOCATIONS)))

    def waiting(self, record: IdempotencyRecord, now: float) -> bool:
        """True while the last invocation may still be queued or running (``invoke_every_s`` not yet passed)."""
        invoked_at = record.payload.get(INVOKED_AT)
        return invoked_at is not None and now - _number(invoked_at) < self.settings.invoke_every_s

    def left_for(self, record: IdempotencyRecord) -> int:
        """Invocations this upload may still get."""
        return max(0, self.settings.invoke_attempts - self.invocations(record))

    def spent(self, record: IdempotencyRecord, now: float) -> bool:
        """Every invocation made, the last given its time: nothing more will come of waiting."""
        return self.invocations(record) >= self.settings.invoke_attempts and not self.waiting(record, now)

    def drive(self, record: IdempotencyRecord, now: float, counts: dict[str, Any], deadline: Deadline) -> str | None:
        """Invoke the upload's function once if allowed now; what happened (for the summary), or None."""
        if not self.drives(record) or self.waiting(record, now) or not self.left_for(record):
            return None
        if self.left <= 0:
            counts["invoke_deferred"] += 1
            return "deferred: the run's invocations are spent"
        function = f"{self.settings.function_prefix}{record.payload.get('concern')}"
        try:
            event = upload_event(record.payload, now)
            used = self.invocations(record) + 1
            self.store.annotate(record.key, {INVOCATIONS: used, INVOKED_AT: now}, now=now)
        except RecordNotFoundError:
            return None  # expired since it was read
        except CiflowError as exc:
            counts["errors"] += 1
            _log.warning("could not count an invocation", record=record.key, error=str(exc))
            return None
        self.left -= 1
        return self._invoke(function, event, record.key, counts, deadline)

    def _invoke(
        self, function: str, event: dict[str, Any], key: str, counts: dict[str, Any], deadline: Deadline
    ) -> str:
        assert self.invoker is not None
        try:
            invocation = self.invoker.invoke(function, event, deadline=deadline)
        except CiflowError as exc:
            counts["invoke_failed"] += 1
            _log.warning("could not invoke the upload function", function=function, record=key, error=str(exc))
            return f"invoke failed: {exc}"
        counts["invoked"] += 1
        _log.info("upload function invoked", function=function, record=key, request_id=invocation.request_id)
        return f"invoked {function} (request id {invocation.request_id})"
