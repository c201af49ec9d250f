"""File-processing models: ``/file_jobs`` hash/uncompress/compress jobs, their callbacks and sync filehash."""

from typing import TYPE_CHECKING, TypeAlias

from pydantic import BaseModel, ConfigDict, Field

from ciflow.codec import CiBool, CiInt, CiModel, ListOf

from ._common import JobDetail, JobInput, JobOutput, JobRequest, JobsResponse, job_detail_union

__all__ = [
    "FileHashCodeConfig",
    "FileHashCodeResult",
    "FileHashCodeOperation",
    "FileHashCodeJobRequest",
    "FileHashCodeJobDetail",
    "FileUncompressDownloadConfig",
    "FileUncompressConfig",
    "FileListEntry",
    "FileList",
    "FileUncompressResult",
    "FileUncompressOperation",
    "FileUncompressJobRequest",
    "FileUncompressJobDetail",
    "FileCompressKeyConfig",
    "FileCompressPrefixConfig",
    "FileCompressConfig",
    "FileCompressErrorDetail",
    "FileCompressResult",
    "FileCompressOperation",
    "FileCompressJobRequest",
    "FileCompressJobDetail",
    "FILE_DETAILS",
    "FILE_TAGS",
    "FileJobDetail",
    "FileJobsResponse",
    "FileHashQuery",
    "FileHashResponse",
]


# --- FileHashCode --------------------------------------------------------------------------------


class FileHashCodeConfig(CiModel):
    """``FileHashCodeConfig``: ``Type`` MD5/SHA1/SHA256; ``AddToHeader`` sets ``x-cos-meta-<alg>``."""

    type: str | None = None
    add_to_header: CiBool = None


class FileHashCodeResult(CiModel):
    """``FileHashCodeResult``: the requested digest only, plus the object's size, mtime and ETag."""

    md5: str | None = Field(default=None, alias="MD5")
    sha1: str | None = Field(default=None, alias="SHA1")
    sha256: str | None = Field(default=None, alias="SHA256")
    file_size: CiInt = None
    last_modified: str | None = None
    etag: str | None = None

    @property
    def digest(self) -> str | None:
        """Whichever digest CI returned (one per request)."""
        return self.md5 or self.sha1 or self.sha256


class FileHashCodeOperation(CiModel):
    """``Operation`` of a FileHashCode job: the config, pass-through data and (once finished) the result."""

    file_hash_code_config: FileHashCodeConfig | None = None
    user_data: str | None = None
    file_hash_code_result: FileHashCodeResult | None = None


class FileHashCodeJobRequest(JobRequest):
    """``POST /file_jobs`` body computing an object's hash asynchronously (objects < 50 GB)."""

    tag: str = "FileHashCode"
    operation: FileHashCodeOperation


#: ``JobsDetail`` of a FileHashCode job.
FileHashCodeJobDetail: TypeAlias = JobDetail[FileHashCodeOperation]


# --- FileUncompress ------------------------------------------------------------------------------


class FileUncompressDownloadConfig(CiModel):
    """``DownloadConfig``: extract only the archive entries under ``Prefix`` or named by ``Key``."""

    prefix: str | None = None
    key: ListOf[str] = Field(default_factory=list)


class FileUncompressConfig(CiModel):
    """``FileUncompressConfig``: output prefix, how the archive's name/path prefixes it, password and filters.

    ``PrefixReplaced``: ``0`` (default) ``<Prefix>/<entry>``, ``1`` adds the archive name, ``2`` the
    archive's full path. ``UnCompressKey`` is the Base64 archive password.
    """

    prefix: str | None = None
    prefix_replaced: str | None = None
    un_compress_key: str | None = None
    mode: str | None = None
    download_config: FileUncompressDownloadConfig | None = None
    listing_file: CiBool = None


class FileListEntry(CiModel):
    """``Contents`` of ``FileList``: one extracted file."""

    key: str | None = None
    last_modified: str | None = None
    file_size: CiInt = None


class FileList(CiModel):
    """``FileList``: the extracted files, returned when ``ListingFile`` was true."""

    contents: ListOf[FileListEntry] = Field(default_factory=list)
    is_truncated: CiBool = None


class FileUncompressResult(CiModel):
    """``FileUncompressResult``: where the files went and how many were extracted."""

    region: str | None = None
    bucket: str | None = None
    file_count: CiInt = None
    file_list: FileList | None = None


class FileUncompressOperation(CiModel):
    """``Operation`` of a FileUncompress job."""

    file_uncompress_config: FileUncompressConfig | None = None
    output: JobOutput | None = None
    user_data: str | None = None
    file_uncompress_result: FileUncompressResult | None = None


class FileUncompressJobRequest(JobRequest):
    """``POST /file_jobs`` body extracting an archive (< 5 TB) into ``Output.Bucket``."""

    tag: str = "FileUncompress"
    operation: FileUncompressOperation


#: ``JobsDetail`` of a FileUncompress job.
FileUncompressJobDetail: TypeAlias = JobDetail[FileUncompressOperation]


# --- FileCompress --------------------------------------------------------------------------------


class FileCompressKeyConfig(CiModel):
    """``KeyConfig``: one object to pack, its folder/name in the archive and optional image processing."""

    key: str | None = None
    folder: str | None = None
    rename: str | None = None
    image_params: str | None = None


class FileCompressPrefixConfig(CiModel):
    """``PrefixConfig``: pack everything under a prefix into a folder of the archive."""

    prefix: str | None = None
    folder: str | None = None
    image_params: str | None = None


class FileCompressConfig(CiModel):
    """``FileCompressConfig``: what to pack (``UrlList`` > ``Prefix`` > ``Key``) and how.

    ``Format`` is ``zip``/``tar``/``tar.gz``; ``Flatten`` ``1`` drops directories; ``Key`` repeats
    (at most 1,000); ``UrlList`` names a CSV index object in the same bucket.
    """

    flatten: str | None = None
    format: str | None = None
    type: str | None = None
    compress_key: str | None = None
    url_list: str | None = None
    prefix: str | None = None
    prefix_config: ListOf[FileCompressPrefixConfig] = Field(default_factory=list)
    key: ListOf[str] = Field(default_factory=list)
    key_config: ListOf[FileCompressKeyConfig] = Field(default_factory=list)
    ignore_error: str | None = None


class FileCompressErrorDetail(CiModel):
    """``ErrorDetail``: the files that could not be packed (with ``IgnoreError``)."""

    error_count: CiInt = None
    error_file: ListOf[str] = Field(default_factory=list)


class FileCompressResult(CiModel):
    """``FileCompressResult``: the archive written, and how many files went in or failed."""

    region: str | None = None
    bucket: str | None = None
    object: str | None = None
    compress_file_count: CiInt = None
    error_count: CiInt = None
    error_detail: FileCompressErrorDetail | None = None


class FileCompressOperation(CiModel):
    """``Operation`` of a FileCompress job; ``Output.Object`` names the archive."""

    file_compress_config: FileCompressConfig | None = None
    output: JobOutput | None = None
    user_data: str | None = None
    file_compress_result: FileCompressResult | None = None


_NoInputJobRequest: TypeAlias = JobRequest[JobInput | None]


class FileCompressJobRequest(_NoInputJobRequest):
    """``POST /file_jobs`` body packing objects into an archive (≤ 10,000 files, < 50 GB); no ``Input``."""

    tag: str = "FileCompress"
    input: JobInput | None = None  # FileCompress is the one job without Input
    operation: FileCompressOperation


#: ``JobsDetail`` of a FileCompress job.
FileCompressJobDetail: TypeAlias = JobDetail[FileCompressOperation]


# --- Envelopes -----------------------------------------------------------------------------------

#: The typed detail model of each tag served by ``/file_jobs``.
FILE_DETAILS: dict[str, type[JobDetail]] = {
    "FileHashCode": FileHashCodeJobDetail,
    "FileUncompress": FileUncompressJobDetail,
    "FileCompress": FileCompressJobDetail,
}
#: Tags served by ``/file_jobs``.
FILE_TAGS = frozenset(FILE_DETAILS)

#: A file job's details, typed by its ``Tag`` (unknown tags parse as a plain ``JobDetail``).
if TYPE_CHECKING:
    FileJobDetail: TypeAlias = JobDetail
else:
    FileJobDetail = job_detail_union(FILE_DETAILS, "FileJobDetail")


#: ``<Response>`` of ``POST /file_jobs`` and ``GET /file_jobs/<jobId>``.
FileJobsResponse: TypeAlias = JobsResponse[FileJobDetail]


# --- Synchronous filehash ------------------------------------------------------------------------


class FileHashQuery(BaseModel):
    """Query of ``GET /<Key>?ci-process=filehash`` (COS host; objects < 128 MB); ``type`` is lower-case."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    type: str = "md5"
    add_to_header: bool | None = None

    def to_params(self) -> dict[str, str]:
        """The query parameters, with unset ones omitted."""
        params = {"ci-process": "filehash", "type": self.type}
        if self.add_to_header is not None:
            params["addtoheader"] = "true" if self.add_to_header else "false"
        return params


class FileHashResponse(CiModel):
    """``<Response>`` of the synchronous filehash API: the digest and the object it was computed for."""

    file_hash_code_result: FileHashCodeResult | None = None
    input: JobInput | None = None
