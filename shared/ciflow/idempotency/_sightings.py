"""Job sightings: the callback's word that an upload's step has a job, for a ledger whose submit went unanswered.

A submit that got no answer leaves its step ``pending``; for job families CI cannot list by input, the upload
handler cannot tell whether the job exists, and resubmitting could bill a second one. The job's own report
can tell: its verified UserData names the route, the upload's correlation id and the step. The callback
records that here before routing the result; the upload handler and the cleanup read it back, so the step
resolves to the job CI really ran instead of ending as a false dead letter.

A sighting is a completed record of the same store as the ledger (``sighting:<route>:<correlation id>:<step>``,
the job id in its ``jobs``, no ``concern``: the ledger walk passes it by, and it holds no lease anyone waits
for). One ``complete`` writes it, a single round trip; a later sighting of the step replaces the job id (any job
of the step resolves it).
"""

from ._store import IdempotencyStore

__all__ = ["SIGHTING_PREFIX", "sighting_key", "record_sighting", "sighted_job"]

SIGHTING_PREFIX = "sighting:"
#: The ``jobs`` entry of a sighting record that holds the job id.
_JOB = "job"


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
    """Say that ``step`` of the upload ``correlation_id`` has job ``job_id``."""
    store.complete(sighting_key(route, correlation_id, step), {_JOB: job_id}, ttl_seconds=ttl_seconds, now=now)


def sighted_job(store: IdempotencyStore, *, route: str, correlation_id: str, step: str, now: float) -> str | None:
    """The job id a callback reported for ``step`` of the upload, or ``None`` if none has yet."""
    record = store.get(sighting_key(route, correlation_id, step), now=now)
    job_id = record.jobs.get(_JOB) if record is not None else None
    return job_id or None
