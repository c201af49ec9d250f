"""Unzip archive uploads: a FileUncompress job extracting under the output prefix; oversized archives refused."""

import base64
from collections.abc import Callable
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from .. import operations as ops
from ..events import ObjectRef
from ..handlers import Delivery, PlannedJob, UploadSettings, with_delivery
from ..models import JobInput, JobOutput
from ..models.files import FileUncompressConfig, FileUncompressJobRequest, FileUncompressOperation
from ._common import comma_list, require_own_bucket

__all__ = ["UnzipSettings", "plan"]

CONCERN = "unzip"
#: CI extracts archives under 5 TB.
ARCHIVE_LIMIT = 5 * 1024**4


class UnzipSettings(UploadSettings):
    """``CIFLOW_UNZIP_*``: archive suffixes, where entries go, the archive password and the size limit."""

    suffixes: list[str] = Field(
        default_factory=lambda: ["zip", "tar", "tar.gz", "tgz", "rar", "7z"],
        min_length=1,
        validate_default=True,
        validation_alias="CIFLOW_UNZIP_SUFFIXES",
    )
    # Entries go under <output prefix><CIFLOW_UNZIP_PREFIX>; unset, under <output prefix>unzip/<archive stem>/.
    prefix: str | None = Field(default=None, pattern=r"^[^/].*/$", validation_alias="CIFLOW_UNZIP_PREFIX")
    # 0: <prefix><entry>; 1: <prefix><archive name>/<entry>; 2: <prefix><archive path>/<entry>.
    prefix_replaced: Literal["0", "1", "2"] = Field(default="0", validation_alias="CIFLOW_UNZIP_PREFIX_REPLACED")
    password: SecretStr | None = Field(default=None, validation_alias="CIFLOW_UNZIP_PASSWORD")
    max_archive_size: int = Field(default=5 * 1024**3, gt=0, le=ARCHIVE_LIMIT, validation_alias="CIFLOW_UNZIP_MAX_SIZE")

    @field_validator("suffixes", mode="before")
    @classmethod
    def _suffixes(cls, value: object) -> object:
        value = comma_list(value)
        if isinstance(value, list):
            return [item.strip().lstrip(".").lower() if isinstance(item, str) else item for item in value]
        return value

    @field_validator("suffixes")
    @classmethod
    def _no_empty_suffix(cls, value: list[str]) -> list[str]:
        if any(not suffix for suffix in value):
            raise ValueError("a suffix must not be empty")
        return sorted(set(value), key=lambda suffix: (-len(suffix), suffix))  # longest first: tar.gz before gz


def archive_suffix(ref: ObjectRef, settings: UnzipSettings) -> str | None:
    """The configured suffix the key ends with (``tar.gz`` rather than ``gz``), or ``None``."""
    name = ref.key.rsplit("/", 1)[-1].lower()
    return next((suffix for suffix in settings.suffixes if name.endswith("." + suffix)), None)


def plan(ref: ObjectRef, settings: UnzipSettings, delivery: Callable[[str], Delivery]) -> list[PlannedJob]:
    """One ``unzip`` step for an archive; ``[]`` for other objects; ``ValueError`` for one over the size limit."""
    suffix = archive_suffix(ref, settings) if ref.key and not ref.key.endswith("/") else None
    if suffix is None:
        return []
    require_own_bucket(ref, settings)
    if ref.size is None:
        raise ValueError("archive size unknown, so CIFLOW_UNZIP_MAX_SIZE cannot be enforced")
    if ref.size > settings.max_archive_size:
        raise ValueError(
            f"archive of {ref.size} bytes is over CIFLOW_UNZIP_MAX_SIZE ({settings.max_archive_size} bytes)"
        )
    if settings.prefix is not None:
        prefix = settings.output_prefix + settings.prefix
    else:
        # <output prefix>unzip/<archive key without its suffix>/: "a/b.tar.gz" extracts under ".../unzip/a/b/".
        stem = ref.key[: -len(suffix) - 1]
        prefix = f"{settings.output_prefix}{CONCERN}/{stem if stem and not stem.endswith('/') else ref.key}/"
    password = settings.password.get_secret_value() if settings.password is not None else None
    config = FileUncompressConfig(
        prefix=prefix,
        prefix_replaced=settings.prefix_replaced,
        un_compress_key=base64.b64encode(password.encode()).decode() if password else None,
    )
    request = FileUncompressJobRequest(
        input=JobInput(object=ref.key),
        operation=FileUncompressOperation(
            file_uncompress_config=config,
            output=JobOutput(region=settings.destination_region, bucket=settings.destination_bucket),
        ),
    )
    return [PlannedJob(CONCERN, ops.submit_file_job(with_delivery(request, delivery(CONCERN))))]
