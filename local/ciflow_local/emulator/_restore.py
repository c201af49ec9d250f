"""Archived objects: ``POST /<key>?restore`` and what an archive storage class does to reads.

An object written with ``x-cos-storage-class: ARCHIVE`` or ``DEEP_ARCHIVE`` keeps its bytes, but ``GET`` (and a
copy from it) is refused ``403 InvalidObjectState`` until a restore has completed and while its copy has not
expired. ``POST ?restore`` takes COS's ``<RestoreRequest>`` (``Days`` 1-365, ``CASJobParameters``/``Tier``
``Expedited``, ``Standard`` or ``Bulk``): ``202`` when it starts a restore, ``200`` when the object is restored
already (the expiry is moved to ``Days`` from now), ``409 RestoreAlreadyInProgress`` while one runs, and ``403
InvalidObjectState`` on an object that is not archived. The restore completes ``delay`` seconds after it was
asked for (immediately by default, so tests stay fast); ``HEAD`` and ``GET`` then tell it in ``x-cos-restore``
(``ongoing-request="true"``, then ``ongoing-request="false", expiry-date="<RFC 1123>"``). The state is kept in
the object's ``extra`` (``restore``: requested, ready and expiry times), so it survives a restart.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ciflow.codec import element_to_tree, parse_xml
from ciflow.errors import CiflowError

from ._app import Target
from ._cos_common import RefusedError, rfc1123, small_body
from ._storage import ObjectStore, StoredObject

__all__ = ["ARCHIVE_CLASSES", "ObjectRestore", "check_readable", "restore_header"]

ARCHIVE_CLASSES = frozenset({"ARCHIVE", "DEEP_ARCHIVE"})
_TIERS = frozenset({"Expedited", "Standard", "Bulk"})
_DAY = 86400.0


def _archived(stored: StoredObject) -> bool:
    return stored.headers.get("x-cos-storage-class", "STANDARD") in ARCHIVE_CLASSES


def restore_header(stored: StoredObject, now: float | None = None) -> dict[str, str]:
    """``x-cos-restore`` of an archived object a restore was asked for (nothing otherwise)."""
    state = stored.extra.get("restore")
    if not _archived(stored) or not isinstance(state, dict):
        return {}
    now = time.time() if now is None else now
    if now < float(state["ready"]):
        return {"x-cos-restore": 'ongoing-request="true"'}
    return {"x-cos-restore": f'ongoing-request="false", expiry-date="{rfc1123(float(state["expiry"]))}"'}


def check_readable(stored: StoredObject, now: float | None = None) -> None:
    """Refuse reading an archived object's bytes unless a restored copy is available now."""
    if not _archived(stored):
        return
    state = stored.extra.get("restore")
    now = time.time() if now is None else now
    if isinstance(state, dict) and float(state["ready"]) <= now < float(state["expiry"]):
        return
    raise RefusedError(403, "InvalidObjectState", "The operation is not valid for the object's storage class.")


def _request(body: bytes) -> tuple[int, str]:
    """``(days, tier)`` of a ``<RestoreRequest>``; 400 ``MalformedXML``/``InvalidArgument`` otherwise."""
    try:
        tree = element_to_tree(parse_xml(body))
    except (CiflowError, ValueError) as exc:
        raise RefusedError(400, "MalformedXML", f"The XML you provided was not well-formed: {exc}") from None
    if not isinstance(tree, dict):
        raise RefusedError(400, "MalformedXML", "RestoreRequest needs Days.")
    days_text = tree.get("Days")
    if not isinstance(days_text, str) or not days_text.strip().isdigit() or not 1 <= int(days_text) <= 365:
        raise RefusedError(400, "InvalidArgument", "Days must be an integer from 1 to 365.")
    parameters: Any = tree.get("CASJobParameters")
    tier = parameters.get("Tier", "Standard") if isinstance(parameters, dict) else "Standard"
    if tier not in _TIERS:
        raise RefusedError(400, "InvalidArgument", f"Tier must be one of {sorted(_TIERS)}.")
    return int(days_text), str(tier)


class ObjectRestore:
    """``POST ?restore`` on objects of ``store``; a restore is ready ``delay`` seconds after it is asked for."""

    def __init__(self, store: ObjectStore, *, delay: float = 0.0, clock: Callable[[], float] = time.time) -> None:
        self.store, self.delay, self.clock = store, delay, clock

    async def restore(self, request: Request, target: Target) -> Response:
        days, tier = _request(await small_body(request))
        stored = self.store.head(target.bucket, target.key)
        if stored is None:
            raise RefusedError(404, "NoSuchKey", "The specified key does not exist.")
        if not _archived(stored):
            raise RefusedError(
                403, "InvalidObjectState", "Restore is not allowed for the object's current storage class."
            )
        now = self.clock()
        state = stored.extra.get("restore")
        if isinstance(state, dict) and now < float(state["ready"]):
            raise RefusedError(409, "RestoreAlreadyInProgress", "Object restore is already in progress.")
        restored = isinstance(state, dict) and now < float(state["expiry"])
        ready = float(state["ready"]) if restored and isinstance(state, dict) else now + self.delay
        new_state = {"requested": now, "ready": ready, "expiry": max(ready, now) + days * _DAY, "tier": tier}
        if not self.store.update_extra(target.bucket, target.key, {"restore": new_state}):
            raise RefusedError(404, "NoSuchKey", "The specified key does not exist.")
        return Response(status_code=200 if restored else 202)
