"""Job sightings: the callback's word that an upload's step has a job, for a ledger whose submit went unanswered.

A submit that got no answer leaves its step ``pending``; for job families CI cannot list by input, the upload
handler cannot tell whether the job exists, and resubmitting could bill a second one. The job's own report
can tell: its verified UserData names the route, the upload's correlation id and the step. The callback
records that here before routing the result; the upload handler and the cleanup read it back, so the step
resolves to the job CI really ran instead of ending as a false dead letter.

A sighting is a record of the same store as the ledger (``sighting:<route>:<correlation id>:<step>``, the job
id in its payload, no ``concern``: the ledger walk passes it by). One claim writes it, a single round trip;
its lease lasts as long as the record, so a later claim of the same key writes nothing.
A step that created several jobs at once is resolved to the first one sighted.
"""

from ._store import IdempotencyStore

__all__ = ["SIGHTING_PREFIX", "sighting_key", "record_sighting", "sighted_job"]

SIGHTING_PREFIX = "sighting:"


def sighting_key(route: str, correlation_id: str, step: str) -> str:
    return f"{SIGHTING_PREFIX}{route}:{correlation_id}:{step}"


def record_sighting(
    store: IdempotencyStore,
    *,
    route: str,
    correlation_id: str,
    step: str,
    job_id: str,
    ttl_seconds: float,
    now: float,
) -> None:
    """Say that ``step`` of the upload ``correlation_id`` has job ``job_id`` (a later sighting changes nothing)."""
    store.claim(
        sighting_key(route, correlation_id, step),
        lease_seconds=ttl_seconds,  # held for its whole life: the first sighting stays
        ttl_seconds=ttl_seconds,
        payload={"job_id": job_id},
        now=now,
    )


def sighted_job(store: IdempotencyStore, *, route: str, correlation_id: str, step: str, now: float) -> str | None:
    """The job id a callback reported for ``step`` of the upload, or ``None`` if none has yet."""
    record = store.get(sighting_key(route, correlation_id, step), now=now)
    job_id = record.payload.get("job_id") if record is not None else None
    return job_id if isinstance(job_id, str) and job_id else None
