"""Reading submission answers: job ids, inline results, and finding a job whose submission went unanswered."""

from typing import Any
from xml.etree.ElementTree import fromstring

from ..client import CiClient, Deadline
from ..errors import CiflowError
from ..events import ObjectRef
from ..models import JobsQuery
from ..operations import list_media_jobs
from ._plan import PlannedJob

__all__ = ["job_ids_of", "inline_result", "find_submitted_job"]


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


def _tag_and_user_data(job: PlannedJob) -> tuple[str | None, str | None]:
    if job.operation.body is None:
        return None, None
    body = fromstring(job.operation.body)  # noqa: S314 - our own request body, built by the codec
    return body.findtext("Tag"), body.findtext("Operation/UserData")


def find_submitted_job(client: CiClient, ref: ObjectRef, job: PlannedJob, deadline: Deadline) -> str | None:
    """The id of a media job this step already created (its UserData is unique per upload and step).

    Used before resubmitting a step whose earlier submission got no answer, so an ambiguous failure does
    not become a second, billed job. Only media jobs can be listed by input object; others return ``None``.
    """
    if job.operation.path != "/jobs" or job.operation.method != "POST":
        return None
    tag, user_data = _tag_and_user_data(job)
    if not tag or not user_data:
        return None
    query = JobsQuery(tag=tag, input_object=ref.key, size=100)
    try:
        for page in client.paginate(list_media_jobs(query), deadline=deadline):
            for detail in page.jobs_detail:
                operation = getattr(detail, "operation", None)
                if detail.job_id and getattr(operation, "user_data", None) == user_data:
                    return detail.job_id
    except CiflowError:
        return None
    return None
