"""Picture-processing job models: ``/pic_jobs`` submit, describe, list and the ``TaskFinish`` callback."""

from typing import TypeAlias

from pydantic import Field

from ciflow.codec import CiBool, CiInt, CiModel, ListOf

from ._common import JobDetail, JobOutput, JobRequest, JobsQuery, JobsResponse

__all__ = [
    "PicProcess",
    "PicImageInfo",
    "PicObjectInfo",
    "PicOriginalInfo",
    "PicProcessedImage",
    "PicProcessResults",
    "PicProcessResult",
    "PicOperation",
    "PicJobRequest",
    "PicJobDetail",
    "PIC_DETAILS",
    "PicJobsResponse",
    "PicJobsQuery",
]


class PicProcess(CiModel):
    """``PicProcess``: inline processing (used when no ``TemplateId``), e.g. ``imageMogr2/rotate/90``."""

    is_pic_info: CiBool = None
    process_rule: str | None = None


class PicImageInfo(CiModel):
    """``ImageInfo`` of the source image."""

    format: str | None = None
    width: CiInt = None
    height: CiInt = None
    quality: CiInt = None
    ave: str | None = None
    orientation: CiInt = None


class PicObjectInfo(CiModel):
    """An image object of a result: key, URL and ETag. Callbacks spell its tag ``Etag``, ``UploadResult`` ``ETag``."""

    key: str | None = None
    location: str | None = None
    etag: str | None = None
    e_tag: str | None = None

    @property
    def entity_tag(self) -> str | None:
        """The ETag under either spelling."""
        return self.etag if self.etag is not None else self.e_tag


class PicOriginalInfo(PicObjectInfo):
    """``OriginalInfo``: the source image."""

    image_info: PicImageInfo | None = None


class PicProcessedImage(PicObjectInfo):
    """One output image: ``ProcessResult`` in callbacks, ``ProcessResults/Object`` in ``UploadResult``."""

    format: str | None = None
    width: CiInt = None
    height: CiInt = None
    size: CiInt = None
    quality: CiInt = None


class PicProcessResults(CiModel):
    """``ProcessResults`` of the ``UploadResult`` shape: one ``Object`` per rule."""

    object: ListOf[PicProcessedImage] = Field(default_factory=list)


class PicProcessResult(CiModel):
    """``PicProcessResult``: source info and the output image(s).

    The doc says "same as ``UploadResult``" (``OriginalInfo`` + ``ProcessResults/Object*``) while the
    callback samples send ``ObjectName`` + ``OriginalInfo`` + ``ProcessResult``; both shapes parse and
    ``outputs`` reads either.
    """

    object_name: str | None = None
    original_info: PicOriginalInfo | None = None
    process_result: PicProcessedImage | None = None
    process_results: PicProcessResults | None = None

    @property
    def outputs(self) -> list[PicProcessedImage]:
        """The output images, whichever shape CI sent."""
        images = [self.process_result] if self.process_result is not None else []
        if self.process_results is not None:
            images.extend(self.process_results.object)
        return images


class PicOperation(CiModel):
    """``Operation`` of a PicProcess job: template or inline rule, output, and (when done) the result."""

    template_id: str | None = None
    template_name: str | None = None
    pic_process: PicProcess | None = None
    output: JobOutput | None = None
    user_data: str | None = None
    job_level: CiInt = None
    pic_process_result: PicProcessResult | None = None
    # The seed's JSON callback sample (L39349-39428) can be read with ProcessResult beside PicProcessResult.
    process_result: PicProcessedImage | None = None

    @property
    def outputs(self) -> list[PicProcessedImage]:
        """The output images wherever CI put them (inside ``PicProcessResult`` or beside it)."""
        images = self.pic_process_result.outputs if self.pic_process_result is not None else []
        return images + ([self.process_result] if self.process_result is not None else [])


class PicJobRequest(JobRequest):
    """``POST /pic_jobs`` body; ``TemplateId`` wins over ``PicProcess``; ``CallBack=no`` mutes the queue."""

    tag: str = "PicProcess"
    operation: PicOperation


#: ``JobsDetail`` of a PicProcess job (submit, describe, list and callback).
PicJobDetail: TypeAlias = JobDetail[PicOperation]


#: The typed detail model of the ``/pic_jobs`` tag.
PIC_DETAILS: dict[str, type[JobDetail]] = {"PicProcess": PicJobDetail}


#: ``<Response>`` of ``POST /pic_jobs``, ``GET /pic_jobs/<jobId>`` and ``GET /pic_jobs?…``.
PicJobsResponse: TypeAlias = JobsResponse[PicJobDetail]


class PicJobsQuery(JobsQuery):
    """Query of ``GET /pic_jobs`` (DescribePicJobs): ``queueId`` is required, ``tag`` is ``PicProcess``."""

    queue_id: str
    tag: str = "PicProcess"
