"""Reading submission answers: job ids, inline results, and finding a job whose submission went unanswered."""

from typing import Any
from xml.etree.ElementTree import fromstring

from ..client import CiClient, Deadline, Operation
from ..events import ObjectRef
from ..models import JobsQuery
from ..operations import list_media_jobs, list_pic_jobs
from ._plan import PlannedJob

__all__ = ["LOOKUP_FAMILIES", "job_ids_of", "inline_result", "find_submitted_job"]

#: Job families CI can list by input object (``GET /jobs``, ``GET /pic_jobs?inputObject=``). File jobs have no
#: listing, document listings cannot filter by input, moderation has none: those are never looked up.
LOOKUP_FAMILIES = frozenset({"media", "picture"})


def job_ids_of(result: Any) -> list[str]:
    """The ids of the asynchronous jobs an answer created ([] for synchronous answers)."""
    details = getattr(result, "jobs_detail", None)
    if details is None:
        return []
    items = details if isinstance(details, list) else [details]
    return [detail.job_id for detail in items if getattr(detail, "job_id", None)]


def inline_result(result: Any) -> dict[str, Any]:
    """A synchronous answer, compact enough to log and return (verdicts for moderation, digests for hashes)."""
    verdict = getattr(result, "verdict", None)
    if verdict is not None:
        return {"verdict": verdict.model_dump(mode="json")}
    dumped: dict[str, Any] = result.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped


def _request_fields(job: PlannedJob) -> tuple[str | None, str | None, str | None]:
    """(Tag, QueueId, Operation/UserData) of a job request body."""
    if job.operation.body is None:
        return None, None, None
    body = fromstring(job.operation.body)  # noqa: S314 - our own request body, built by the codec
    return body.findtext("Tag"), body.findtext("QueueId"), body.findtext("Operation/UserData")


def find_submitted_job(client: CiClient, ref: ObjectRef, job: PlannedJob, deadline: Deadline) -> str | None:
    """The id of a media or picture job this step already created (its UserData is unique per upload and step).

    Used before resubmitting a step whose earlier submission got no answer, so an ambiguous failure does
    not become a second, billed job. ``None`` when CI lists no such job (or the step is of another family);
    a failed listing raises, since nothing can then be concluded.
    """
    path = job.operation.path
    if path not in ("/jobs", "/pic_jobs") or job.operation.method != "POST":
        return None
    tag, queue_id, user_data = _request_fields(job)
    if not tag or not user_data:
        return None
    query = JobsQuery(tag=tag, queue_id=queue_id or None, input_object=ref.key, size=100)
    listing: Operation[Any] = list_media_jobs(query) if path == "/jobs" else list_pic_jobs(query)
    for page in client.paginate(listing, deadline=deadline):
        for detail in page.jobs_detail:
            operation = getattr(detail, "operation", None)
            if detail.job_id and getattr(operation, "user_data", None) == user_data:
                return str(detail.job_id)
    return None
