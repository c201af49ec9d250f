"""Reading submission answers: job ids, inline results, and finding a job whose submission went unanswered."""

from datetime import datetime, timezone
from typing import Any
from xml.etree.ElementTree import fromstring

from ..client import CiClient, Deadline, Operation
from ..events import ObjectRef
from ..models import JobsQuery
from ..operations import list_doc_jobs, list_media_jobs, list_pic_jobs
from ._plan import PlannedJob

__all__ = ["can_look_up", "job_ids_of", "inline_result", "find_submitted_job"]

#: Submit paths whose lost answer can be looked up. Media and picture listings filter by input object
#: (``inputObject=``); document listings cannot, and need the queue: they are read from the claim's time on and
#: matched by input and output, for requests that name their queue. File jobs have no listing and moderation
#: none by input: never looked up (their callbacks' sightings resolve them).
_LISTED_PATHS = ("/jobs", "/pic_jobs", "/doc_jobs")
#: A workflow trigger (``_workflow_step.TRIGGER_PATH``, not imported: only workflow steps load that module).
_TRIGGER_PATH = "/triggerworkflow"
#: How far before the claim a document job may have been created (clocks of SCF and CI differ).
_DOC_CLOCK_SLACK_S = 300.0


def job_ids_of(result: Any) -> list[str]:
    """The ids of the asynchronous jobs an answer created ([] for synchronous answers)."""
    details = getattr(result, "jobs_detail", None)
    if details is None:
        run_id = getattr(result, "instance_id", None)  # a workflow trigger's answer: the run is the step's job
        return [run_id] if isinstance(run_id, str) and run_id else []
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


def can_look_up(job: PlannedJob) -> bool:
    """True when a job this step may have created can be found in CI's listings (see ``find_submitted_job``)."""
    if job.operation.method == "POST" and job.operation.path == _TRIGGER_PATH:
        return True  # a workflow run: listed by object (``_workflow_step``)
    if job.operation.method != "POST" or job.operation.path not in _LISTED_PATHS:
        return False
    return job.operation.path != "/doc_jobs" or bool(_request_fields(job)[1])


def _find_document_job(
    client: CiClient, ref: ObjectRef, job: PlannedJob, since: float, deadline: Deadline
) -> str | None:
    """A DocProcess job of this upload's input and output created since ``since``: only when exactly one is."""
    from ..models.documents import DocJobsQuery  # only document steps need the document models

    tag, queue_id, _ = _request_fields(job)
    body = fromstring(job.operation.body or b"<Request/>")  # noqa: S314 - our own request body
    output = body.findtext("Operation/Output/Object")
    if not tag or not queue_id:
        return None
    start = datetime.fromtimestamp(since - _DOC_CLOCK_SLACK_S, tz=timezone.utc)
    query = DocJobsQuery(tag=tag, queue_id=queue_id, start_creation_time=start, size=100)
    found: list[str] = []
    for page in client.paginate(list_doc_jobs(query), deadline=deadline):
        for detail in page.jobs_detail:
            written = detail.operation.output.object if detail.operation and detail.operation.output else None
            if detail.job_id and detail.input and detail.input.object == ref.key and written == output:
                found.append(str(detail.job_id))
    return found[0] if len(found) == 1 else None  # two candidates: another upload of the key; cannot tell


def find_submitted_job(
    client: CiClient, ref: ObjectRef, job: PlannedJob, deadline: Deadline, *, since: float
) -> str | None:
    """The id of a job this step already created: media and picture jobs by their UserData (unique per upload
    and step), document jobs by input and output among those created since ``since`` (the upload's claim).

    Used before resubmitting a step whose earlier submission got no answer, so an ambiguous failure does
    not become a second, billed job. ``None`` when CI lists no such job (or the step is of another family);
    a failed listing raises, since nothing can then be concluded.
    """
    if not can_look_up(job):
        return None
    path = job.operation.path
    if path == _TRIGGER_PATH:
        from ._workflow_step import find_triggered_run  # only workflow steps load the workflow operations

        return find_triggered_run(client, ref, job, deadline, since=since)
    if path == "/doc_jobs":
        return _find_document_job(client, ref, job, since, deadline)
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
