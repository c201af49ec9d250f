"""CI job operations: submit, describe, list and cancel media, file, document and picture jobs; sync hash.

The job families share one shape (``POST <path>``, ``GET <path>/<ids>``, ``GET <path>?…``) and differ
only by path and response model: one table (``JOB_FAMILIES``, a ``JobFamily`` per family); the public
builders (``submit_media_job``, ``describe_doc_jobs``…) are one typed line over it each. The generic
builders here (``_submit``, ``_describe``, ``_listing``, ``_cancel``, ``_call``, ``_item``, ``_flag``, with
``_reader``, ``_plain_id``, ``_query``) are the one place the other builder modules build requests with.

Model modules are imported when an operation of their family is built, so a handler that only hashes
never pays for the media models at cold start.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeAlias, TypeVar, cast

import httpx

from ..client import Operation
from ..codec import CiModel, from_xml, to_xml

if TYPE_CHECKING:
    from ..models import JobInput, JobRequest, JobsQuery
    from ..models.documents import DocJobsResponse
    from ..models.files import FileHashResponse, FileJobsResponse
    from ..models.media import MediaJobsResponse
    from ..models.moderation import ImageRecognitionResult, ModerationKind, ModerationRequest
    from ..models.pictures import PicJobsResponse

__all__ = [
    "JOB_FAMILIES",
    "MEDIA_JOBS",
    "FILE_JOBS",
    "DOC_JOBS",
    "PIC_JOBS",
    "AI_JOBS",
    "ASR_JOBS",
    "submit_media_job",
    "describe_media_jobs",
    "list_media_jobs",
    "cancel_job",
    "submit_file_job",
    "describe_file_jobs",
    "file_hash",
    "submit_doc_job",
    "describe_doc_jobs",
    "list_doc_jobs",
    "submit_pic_job",
    "describe_pic_jobs",
    "list_pic_jobs",
    "submit_ai_job",
    "describe_ai_jobs",
    "cancel_ai_job",
    "submit_speech_job",
    "describe_speech_jobs",
    "list_speech_jobs",
    "submit_moderation",
    "query_moderation",
    "moderate_image_object",
]

R = TypeVar("R", bound=CiModel)
R_co = TypeVar("R_co", bound=CiModel, covariant=True)
_Params: TypeAlias = "Mapping[str, str] | Iterable[tuple[str, str]]"
#: The operation for a listing's next page, given its ``NextToken``.
_Again: TypeAlias = "Callable[[str], Operation[R]]"

_HASH_ALGORITHMS = frozenset({"md5", "sha1", "sha256"})


# The generic request builders every builder module (``_templates``, ``_batch``, ``_sync``, ``_workflows``) uses.
# They live here, not in a module of their own, because every function already loads this one (the import pins
# of ``tests/unit/layers``). The deploy tooling reads operation names from the first argument of ``Operation``
# and of the naming helpers below (``ciflow_local.deploy._reach._NAMING_CALLS``): keep that argument a literal.


def _model(where: str) -> Any:
    """The model class ``where`` names (``"media.MediaJobsResponse"``: ``ciflow.models.media``), imported on first
    use (keeps this module cheap)."""
    module, _, name = where.partition(".")
    return getattr(importlib.import_module(f"ciflow.models.{module}"), name)


def _reader(model: type[R], root: str = "Response") -> Callable[[httpx.Response], R]:
    return lambda response: from_xml(model, response.content, root=root)


def _is_plain(value: str, separators: str = "/,") -> bool:
    return bool(value) and not any(separator in value for separator in separators)


def _plain_id(what: str, value: str, separators: str = "/,") -> str:
    """``value`` if it is one id: not empty, no ``/`` (it would change the path), no ``,`` (an id list)."""
    if not _is_plain(value, separators):
        raise ValueError(f"invalid {what} {value!r}")
    return value


def _query(*pairs: tuple[str, object]) -> tuple[tuple[str, str], ...]:
    """Query parameters as text, the unset (``None``) and empty ones left out."""
    return tuple((key, str(value)) for key, value in pairs if value is not None and value != "")


class _Target(Protocol[R_co]):
    """Where an operation goes and what it answers: a ``JobFamily``, or another endpoint (``_endpoint``)."""

    @property
    def path(self) -> str: ...

    @property
    def response_model(self) -> type[R_co]: ...


@dataclass(frozen=True)
class _Endpoint(Generic[R]):
    path: str
    response_model: type[R]


def _endpoint(path: str, model: str) -> _Target[Any]:
    """``path`` on the CI host, answered by the ``<Response>`` model ``model`` names (imported now)."""
    return _Endpoint(path, _model(model))


def _call(
    name: str, method: str, target: _Target[R], params: Iterable[tuple[str, str]] = (), body: CiModel | None = None
) -> Operation[R]:
    """``<method> <path>[?params]`` on the CI host, with an XML body if given, answered by the target's model."""
    data = None if body is None else to_xml(body)
    read = _reader(target.response_model)
    return Operation(name, method, "ci", target.path, read=read, params=tuple(params), body=data)


def _item(
    name: str, method: str, target: _Target[R], what: str, item: str, body: CiModel | None = None
) -> Operation[R]:
    """``<method> <path>/<item>``: one template, queue, workflow… of the target's collection, optionally a body."""
    one = _Endpoint(f"{target.path}/{_plain_id(what, item)}", target.response_model)
    return _call(name, method, one, body=body)


def _flag(name: str, path: str, what: str, item: str, flag: str, separators: str = "/,") -> Operation[None]:
    """``PUT <path>/<item>?<flag>``: a state change CI answers without a body (``cancel``, ``active``…)."""
    where = f"{path}/{_plain_id(what, item, separators)}"
    return Operation(name, "PUT", "ci", where, read=lambda _: None, params=((flag, ""),))


def _submit(
    name: str, target: _Target[R], request: CiModel | None, params: tuple[tuple[str, str], ...] = ()
) -> Operation[R]:
    # A submit is never blindly retried: a second POST after an unseen success is a second, billed job.
    tags: frozenset[str] | None = getattr(target, "tags", None)
    tag = getattr(request, "tag", None)
    if tags is not None and tag not in tags:
        raise ValueError(f"a {tag} job is not submitted on {target.path}")
    body = None if request is None else to_xml(request)
    read = _reader(target.response_model)
    return Operation(name, "POST", "ci", target.path, read=read, params=params, body=body, retry="submit")


def _describe(name: str, target: _Target[R], job_ids: tuple[str, ...]) -> Operation[R]:
    if not job_ids or not all(_is_plain(job_id) for job_id in job_ids):
        raise ValueError(f"{name} needs one or more plain job ids, got {job_ids!r}")
    return Operation(name, "GET", "ci", f"{target.path}/{','.join(job_ids)}", read=_reader(target.response_model))


def _listing(name: str, target: _Target[R], params: _Params, again: _Again[R] | None = None) -> Operation[R]:
    """One page; ``client.paginate`` follows ``NextToken`` with ``again(token)``, by default this listing with
    ``nextToken`` set."""
    pairs = dict(params)

    def next_page(page: R) -> Operation[R] | None:
        token: Any = getattr(page, "next_token", None)
        if not token:
            return None
        return again(token) if again is not None else _listing(name, target, {**pairs, "nextToken": token})

    read = _reader(target.response_model)
    return Operation(name, "GET", "ci", target.path, read=read, params=tuple(pairs.items()), next_page=next_page)


def _cancel(name: str, target: _Target[Any], job_id: str) -> Operation[None]:
    return _flag(name, target.path, "job id", job_id, "cancel", separators="/")


class JobFamily(Generic[R]):
    """One CI job API family: its path, its ``<Response>`` model (named here, imported when first used) and, for
    families that take only some tags, those tags."""

    __slots__ = ("_where", "path", "tags")

    def __init__(self, path: str, model: str, tags: frozenset[str] | None = None) -> None:
        self.path = path
        self._where = model
        self.tags = tags

    @property
    def response_model(self) -> type[R]:
        """The family's ``JobsResponse[…]`` model (``"media.MediaJobsResponse"``: ``ciflow.models.media``)."""
        return cast("type[R]", _model(self._where))

    def __repr__(self) -> str:
        return f"JobFamily({self.path!r}, {self._where!r})"


#: Media jobs: Transcode, Snapshot, SmartCover, Animation, VideoEnhance, QualityEstimate, SuperResolution.
MEDIA_JOBS: JobFamily[MediaJobsResponse] = JobFamily("/jobs", "media.MediaJobsResponse")
#: File jobs: FileHashCode, FileUncompress, FileCompress (CI documents no listing).
FILE_JOBS: JobFamily[FileJobsResponse] = JobFamily("/file_jobs", "files.FileJobsResponse")
#: Document jobs: DocProcess (previews as images, PDF or HTML).
DOC_JOBS: JobFamily[DocJobsResponse] = JobFamily("/doc_jobs", "documents.DocJobsResponse")
#: Picture jobs: PicProcess (thumbnails and other image processing as a job).
PIC_JOBS: JobFamily[PicJobsResponse] = JobFamily("/pic_jobs", "pictures.PicJobsResponse")

#: Content recognition jobs on ``/ai_jobs``: Translation, WordsGeneralize (F003 L39921-L41110); ``/jobs``'s envelope.
AI_JOBS: JobFamily[MediaJobsResponse] = JobFamily(
    "/ai_jobs", "media.MediaJobsResponse", frozenset({"Translation", "WordsGeneralize"})
)
#: Speech recognition jobs on ``/asr_jobs``: SpeechRecognition (F003 L7288-L7620, L40235).
ASR_JOBS: JobFamily[MediaJobsResponse] = JobFamily(
    "/asr_jobs", "media.MediaJobsResponse", frozenset({"SpeechRecognition"})
)

#: Every job family by name.
JOB_FAMILIES: dict[str, JobFamily[Any]] = {
    "media": MEDIA_JOBS,
    "file": FILE_JOBS,
    "doc": DOC_JOBS,
    "pic": PIC_JOBS,
    "ai": AI_JOBS,
    "asr": ASR_JOBS,
}

# The public builders: one line each over the table. Each names its operation with a literal, the one
# place the deploy tooling reads it from (``ciflow_local.deploy._reach``: least-privilege CAM actions).
#: Any job request; FileCompress's (no ``Input``) included.
AnyJobRequest: TypeAlias = "JobRequest[JobInput | None]"


def submit_media_job(request: AnyJobRequest) -> Operation[MediaJobsResponse]:
    """``POST /jobs``: Transcode, Snapshot, SmartCover, Animation, VideoEnhance, QualityEstimate, …"""
    return _submit("SubmitMediaJob", MEDIA_JOBS, request)


def describe_media_jobs(*job_ids: str) -> Operation[MediaJobsResponse]:
    """``GET /jobs/<id>[,<id>…]``."""
    return _describe("DescribeMediaJobs", MEDIA_JOBS, job_ids)


def list_media_jobs(query: JobsQuery) -> Operation[MediaJobsResponse]:
    """``GET /jobs?…`` one page (``JobsQuery`` names the tag); ``client.paginate`` follows ``NextToken``."""
    return _listing("ListMediaJobs", MEDIA_JOBS, query.to_params())


def submit_file_job(request: AnyJobRequest) -> Operation[FileJobsResponse]:
    """``POST /file_jobs``: FileHashCode, FileUncompress, FileCompress."""
    return _submit("SubmitFileJob", FILE_JOBS, request)


def describe_file_jobs(*job_ids: str) -> Operation[FileJobsResponse]:
    """``GET /file_jobs/<id>[,<id>…]``."""
    return _describe("DescribeFileJobs", FILE_JOBS, job_ids)


def submit_doc_job(request: AnyJobRequest) -> Operation[DocJobsResponse]:
    """``POST /doc_jobs``: DocProcess (document previews as images, PDF or HTML)."""
    return _submit("SubmitDocJob", DOC_JOBS, request)


def describe_doc_jobs(*job_ids: str) -> Operation[DocJobsResponse]:
    """``GET /doc_jobs/<id>``."""
    return _describe("DescribeDocJobs", DOC_JOBS, job_ids)


def list_doc_jobs(query: JobsQuery) -> Operation[DocJobsResponse]:
    """``GET /doc_jobs?…`` one page (``DocJobsQuery``); ``client.paginate`` follows ``NextToken``."""
    return _listing("ListDocJobs", DOC_JOBS, query.to_params())


def submit_pic_job(request: AnyJobRequest) -> Operation[PicJobsResponse]:
    """``POST /pic_jobs``: PicProcess (thumbnails and other image processing as a job)."""
    return _submit("SubmitPicJob", PIC_JOBS, request)


def describe_pic_jobs(*job_ids: str) -> Operation[PicJobsResponse]:
    """``GET /pic_jobs/<id>``."""
    return _describe("DescribePicJobs", PIC_JOBS, job_ids)


def list_pic_jobs(query: JobsQuery) -> Operation[PicJobsResponse]:
    """``GET /pic_jobs?…`` one page (``PicJobsQuery``); ``client.paginate`` follows ``NextToken``."""
    return _listing("ListPicJobs", PIC_JOBS, query.to_params())


def submit_ai_job(request: AnyJobRequest) -> Operation[MediaJobsResponse]:
    """``POST /ai_jobs``: Translation, WordsGeneralize."""
    return _submit("SubmitAiJob", AI_JOBS, request)


def describe_ai_jobs(*job_ids: str) -> Operation[MediaJobsResponse]:
    """``GET /ai_jobs/<id>[,<id>…]``."""
    return _describe("DescribeAiJobs", AI_JOBS, job_ids)


def submit_speech_job(request: AnyJobRequest) -> Operation[MediaJobsResponse]:
    """``POST /asr_jobs``: SpeechRecognition (CreateSpeechJobs)."""
    return _submit("SubmitSpeechJob", ASR_JOBS, request)


def describe_speech_jobs(*job_ids: str) -> Operation[MediaJobsResponse]:
    """``GET /asr_jobs/<id>[,<id>…]`` (DescribeSpeechJob)."""
    return _describe("DescribeSpeechJobs", ASR_JOBS, job_ids)


def list_speech_jobs(query: JobsQuery) -> Operation[MediaJobsResponse]:
    """``GET /asr_jobs?…`` one page (``tag`` SpeechRecognition); ``client.paginate`` follows ``NextToken``."""
    return _listing("ListSpeechJobs", ASR_JOBS, query.to_params())


def cancel_job(job_id: str) -> Operation[None]:
    """``PUT /jobs/<id>?cancel``: cancels a queued media or picture job (CI only cancels pending jobs)."""
    return _cancel("CancelJob", MEDIA_JOBS, job_id)


def cancel_ai_job(job_id: str) -> Operation[None]:
    """``PUT /ai_jobs/<id>?cancel``: cancels a pending content recognition job."""
    return _cancel("CancelAiJob", AI_JOBS, job_id)


def _object_path(key: str) -> str:
    """An object's path as the object API builds it (one leading ``/`` dropped; empty refused), loaded when used."""
    from ._cos import _key_path

    return _key_path(key)


def file_hash(key: str, algorithm: str = "md5", *, add_to_header: bool = False) -> Operation[FileHashResponse]:
    """``GET /<key>?ci-process=filehash`` on the COS host: the hash, computed synchronously by CI."""
    response: type[FileHashResponse] = _model("files.FileHashResponse")
    if algorithm not in _HASH_ALGORITHMS:
        raise ValueError(f"hash algorithm must be one of {sorted(_HASH_ALGORITHMS)}, got {algorithm!r}")
    params = _query(("ci-process", "filehash"), ("type", algorithm), ("addtoheader", "true" if add_to_header else None))
    return Operation("FileHash", "GET", "cos", _object_path(key), read=_reader(response), params=params)


def submit_moderation(request: ModerationRequest) -> Operation[CiModel]:
    """``POST /<kind>/auditing``: image (batch), video, audio, text or document moderation.

    The answer is the kind's response model (``MODERATION_RESPONSES``): job ids for asynchronous kinds,
    the verdict itself for text sent as ``Content`` and for synchronous image batches.
    """
    responses: dict[ModerationKind, type[CiModel]] = _model("moderation.MODERATION_RESPONSES")
    endpoint = _Endpoint(request.submit_path(), responses[request.kind])
    return _submit(f"Submit{request.kind.value.title()}Moderation", endpoint, request)


def query_moderation(kind: ModerationKind, job_id: str) -> Operation[CiModel]:
    """``GET /<kind>/auditing/<jobId>``: a moderation job's state and verdict."""
    responses: dict[ModerationKind, type[CiModel]] = _model("moderation.MODERATION_RESPONSES")
    path = kind.job_path(_plain_id("job id", job_id, separators="/"))
    return Operation(f"Query{kind.value.title()}Moderation", "GET", "ci", path, read=_reader(responses[kind]))


def moderate_image_object(
    key: str,
    *,
    biz_type: str | None = None,
    detect_type: str | None = None,
    large_image_detect: bool = False,
    data_id: str | None = None,
) -> Operation[ImageRecognitionResult]:
    """``GET /<key>?ci-process=sensitive-content-recognition`` on the COS host: one image, answered inline.

    A read with no side effect beyond billing, so it is retried like any idempotent call.
    """
    result: type[ImageRecognitionResult] = _model("moderation.ImageRecognitionResult")
    path = _object_path(key)
    params = _query(
        ("ci-process", "sensitive-content-recognition"),
        *(("biz-type", biz_type), ("detect-type", detect_type), ("dataid", data_id)),
        ("large-image-detect", "1" if large_image_detect else None),
    )
    read = _reader(result, root="RecognitionResult")
    return Operation("ModerateImageObject", "GET", "cos", path, read=read, params=params)
