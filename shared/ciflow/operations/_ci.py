"""CI job operations: submit, describe, list and cancel media, file, document and picture jobs; sync hash.

Model modules are imported when an operation of their family is built, so a handler that only hashes
never pays for the media models at cold start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from ..client import Operation
from ..codec import CiModel, from_xml, to_xml

if TYPE_CHECKING:
    from ..models._common import JobRequest, JobsQuery
    from ..models.documents import DocJobsResponse
    from ..models.files import FileHashResponse, FileJobsResponse
    from ..models.media import MediaJobsResponse
    from ..models.moderation import ImageRecognitionResult, ModerationKind, ModerationRequest
    from ..models.pictures import PicJobsResponse

__all__ = [
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
    "submit_moderation",
    "query_moderation",
    "moderate_image_object",
]

R = TypeVar("R", bound=CiModel)

_HASH_ALGORITHMS = frozenset({"md5", "sha1", "sha256"})


def _reader(model: type[R]) -> Callable[[httpx.Response], R]:
    return lambda response: from_xml(model, response.content, root="Response")


def _submit(name: str, path: str, request: CiModel, model: type[R]) -> Operation[R]:
    # A submit is never blindly retried: a second POST after an unseen success is a second, billed job.
    return Operation(name, "POST", "ci", path, read=_reader(model), body=to_xml(request), retry="submit")


def _describe(name: str, path: str, job_ids: tuple[str, ...], model: type[R]) -> Operation[R]:
    if not job_ids or any(not job_id or "," in job_id or "/" in job_id for job_id in job_ids):
        raise ValueError(f"{name} needs one or more plain job ids, got {job_ids!r}")
    return Operation(name, "GET", "ci", f"{path}/{','.join(job_ids)}", read=_reader(model))


def _listing(name: str, path: str, params: dict[str, str], model: type[R]) -> Operation[R]:
    def next_page(page: R) -> Operation[R] | None:
        token: Any = getattr(page, "next_token", None)
        return _listing(name, path, {**params, "nextToken": token}, model) if token else None

    return Operation(name, "GET", "ci", path, read=_reader(model), params=tuple(params.items()), next_page=next_page)


def submit_media_job(request: JobRequest) -> Operation[MediaJobsResponse]:
    """``POST /jobs``: Transcode, Snapshot, SmartCover, Animation, VideoEnhance, QualityEstimate, …"""
    from ..models.media import MediaJobsResponse

    return _submit("SubmitMediaJob", "/jobs", request, MediaJobsResponse)


def describe_media_jobs(*job_ids: str) -> Operation[MediaJobsResponse]:
    """``GET /jobs/<id>[,<id>…]``."""
    from ..models.media import MediaJobsResponse

    return _describe("DescribeMediaJobs", "/jobs", job_ids, MediaJobsResponse)


def list_media_jobs(query: JobsQuery) -> Operation[MediaJobsResponse]:
    """``GET /jobs?…`` one page (``JobsQuery`` names the tag); ``client.paginate`` follows ``NextToken``."""
    from ..models.media import MediaJobsResponse

    return _listing("ListMediaJobs", "/jobs", query.to_params(), MediaJobsResponse)


def cancel_job(job_id: str) -> Operation[None]:
    """``PUT /jobs/<id>?cancel``: cancels a queued media or picture job (CI only cancels pending jobs)."""
    if not job_id or "/" in job_id:
        raise ValueError(f"invalid job id {job_id!r}")
    return Operation("CancelJob", "PUT", "ci", f"/jobs/{job_id}", read=lambda _: None, params=(("cancel", ""),))


def submit_file_job(request: JobRequest) -> Operation[FileJobsResponse]:
    """``POST /file_jobs``: FileHashCode, FileUncompress, FileCompress."""
    from ..models.files import FileJobsResponse

    return _submit("SubmitFileJob", "/file_jobs", request, FileJobsResponse)


def describe_file_jobs(*job_ids: str) -> Operation[FileJobsResponse]:
    """``GET /file_jobs/<id>[,<id>…]``."""
    from ..models.files import FileJobsResponse

    return _describe("DescribeFileJobs", "/file_jobs", job_ids, FileJobsResponse)


def file_hash(key: str, algorithm: str = "md5", *, add_to_header: bool = False) -> Operation[FileHashResponse]:
    """``GET /<key>?ci-process=filehash`` on the COS host: the hash, computed synchronously by CI."""
    from ..models.files import FileHashResponse

    if algorithm not in _HASH_ALGORITHMS:
        raise ValueError(f"hash algorithm must be one of {sorted(_HASH_ALGORITHMS)}, got {algorithm!r}")
    if not key:
        raise ValueError("an object key must not be empty")
    params = [("ci-process", "filehash"), ("type", algorithm)]
    if add_to_header:
        params.append(("addtoheader", "true"))
    return Operation("FileHash", "GET", "cos", "/" + key, read=_reader(FileHashResponse), params=tuple(params))


def submit_doc_job(request: JobRequest) -> Operation[DocJobsResponse]:
    """``POST /doc_jobs``: DocProcess (document previews as images, PDF or HTML)."""
    from ..models.documents import DocJobsResponse

    return _submit("SubmitDocJob", "/doc_jobs", request, DocJobsResponse)


def describe_doc_jobs(*job_ids: str) -> Operation[DocJobsResponse]:
    """``GET /doc_jobs/<id>``."""
    from ..models.documents import DocJobsResponse

    return _describe("DescribeDocJobs", "/doc_jobs", job_ids, DocJobsResponse)


def list_doc_jobs(query: JobsQuery) -> Operation[DocJobsResponse]:
    """``GET /doc_jobs?…`` one page (``DocJobsQuery``); ``client.paginate`` follows ``NextToken``."""
    from ..models.documents import DocJobsResponse

    return _listing("ListDocJobs", "/doc_jobs", query.to_params(), DocJobsResponse)


def submit_pic_job(request: JobRequest) -> Operation[PicJobsResponse]:
    """``POST /pic_jobs``: PicProcess (thumbnails and other image processing as a job)."""
    from ..models.pictures import PicJobsResponse

    return _submit("SubmitPicJob", "/pic_jobs", request, PicJobsResponse)


def describe_pic_jobs(*job_ids: str) -> Operation[PicJobsResponse]:
    """``GET /pic_jobs/<id>``."""
    from ..models.pictures import PicJobsResponse

    return _describe("DescribePicJobs", "/pic_jobs", job_ids, PicJobsResponse)


def list_pic_jobs(query: JobsQuery) -> Operation[PicJobsResponse]:
    """``GET /pic_jobs?…`` one page (``PicJobsQuery``); ``client.paginate`` follows ``NextToken``."""
    from ..models.pictures import PicJobsResponse

    return _listing("ListPicJobs", "/pic_jobs", query.to_params(), PicJobsResponse)


def submit_moderation(request: ModerationRequest) -> Operation[CiModel]:
    """``POST /<kind>/auditing``: image (batch), video, audio, text or document moderation.

    The answer is the kind's response model (``MODERATION_RESPONSES``): job ids for asynchronous kinds,
    the verdict itself for text sent as ``Content`` and for synchronous image batches.
    """
    from ..models.moderation import MODERATION_RESPONSES

    return _submit(
        f"Submit{request.kind.value.title()}Moderation",
        request.submit_path(),
        request,
        MODERATION_RESPONSES[request.kind],
    )


def query_moderation(kind: ModerationKind, job_id: str) -> Operation[CiModel]:
    """``GET /<kind>/auditing/<jobId>``: a moderation job's state and verdict."""
    from ..models.moderation import MODERATION_RESPONSES

    if not job_id or "/" in job_id:
        raise ValueError(f"invalid job id {job_id!r}")
    return Operation(
        f"Query{kind.value.title()}Moderation",
        "GET",
        "ci",
        kind.job_path(job_id),
        read=_reader(MODERATION_RESPONSES[kind]),
    )


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
    from ..models.moderation import ImageRecognitionResult

    if not key:
        raise ValueError("an object key must not be empty")
    params = [("ci-process", "sensitive-content-recognition")]
    for name, value in (("biz-type", biz_type), ("detect-type", detect_type), ("dataid", data_id)):
        if value:
            params.append((name, value))
    if large_image_detect:
        params.append(("large-image-detect", "1"))
    return Operation(
        "ModerateImageObject",
        "GET",
        "cos",
        "/" + key,
        read=lambda response: from_xml(ImageRecognitionResult, response.content, root="RecognitionResult"),
        params=tuple(params),
    )
